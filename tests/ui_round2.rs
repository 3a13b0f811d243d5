//! Round 2 (egui_kittest, headless): widgets nobody touches leave an opened session exactly as
//! loaded.

mod common_ui;

use std::path::PathBuf;

use common_ui::{harness, settle};
use egui_kittest::kittest::Queryable;
use nnlab::session::Session;

/// A fresh folder under the temp dir for one test.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nnlab-ui-round2-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The spec fields the data, network and training panels edit, bit for bit (`==` on f64 would
/// also be exact, the bits make a failure message show the last digit).
fn spec_bits(s: &Session) -> String {
    let mut v = s.clone();
    v.params = None;
    format!(
        "seed {} data {:?} noise {:x} test {:x} network {:?} loss {:?} optimizer {:?} reg {:?}",
        v.seed,
        v.data,
        v.data.noise.to_bits(),
        v.data.test_fraction.to_bits(),
        v.network,
        v.loss,
        v.optimizer,
        v.regularization
    )
}

/// Sessions whose values are off the sliders' step grids (0.3 = 6 × 0.05 only approximately)
/// or outside the widgets' ranges but valid in a file (12 blob classes, momentum 0.9995).
const SESSIONS: [(&str, &str); 2] = [
    (
        "moons.json",
        r#"{"nnlab": 1, "name": "untouched moons", "seed": 11,
            "data": {"source": "moons", "n": 300, "noise": 0.1, "test_fraction": 0.3},
            "network": {"inputs": 2, "layers": [
                {"units": 8, "activation": "relu", "dropout": 0.15},
                {"units": 2, "activation": "softmax"}],
                "init": "normal", "init_scale": 0.33},
            "loss": "cross_entropy",
            "optimizer": {"kind": "adam", "lr": 0.003, "beta1": 0.9, "beta2": 0.999,
                          "eps": 1e-8, "batch_size": 32},
            "regularization": {"l1": 0.00015, "l2": 0.0003}}"#,
    ),
    (
        "blobs.json",
        r#"{"nnlab": 1, "name": "untouched blobs", "seed": 5,
            "data": {"source": "blobs", "n": 240, "noise": 0.7, "test_fraction": 0.95,
                     "classes": 12, "seed": 9000000000},
            "network": {"inputs": 2, "layers": [
                {"units": 6, "activation": "tanh"},
                {"units": 12, "activation": "softmax"}]},
            "loss": "cross_entropy",
            "optimizer": {"kind": "momentum", "lr": 0.07, "momentum": 0.9995, "batch_size": 20}}"#,
    ),
];

#[test]
fn an_untouched_app_keeps_the_opened_session_bit_for_bit() {
    let dir = temp_dir("untouched");
    for (file, text) in SESSIONS {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        let loaded = nnlab::session::load(&path).unwrap().session;
        let want = spec_bits(&loaded);
        let mut h = harness(Some(path.clone()));
        assert!(settle(&mut h, |a| a.applied.name == loaded.name
            && a.path.is_some()));
        // The widgets in question are drawn (else this test could not fail).
        assert!(h.query_all_by_label("Test fraction").count() > 0);
        assert!(h.query_all_by_label("Noise").count() > 0);
        h.run_steps(12);
        let app = h.state();
        assert_eq!(
            spec_bits(&app.session),
            want,
            "{file}: the shown spec moved"
        );
        assert_eq!(
            spec_bits(&app.applied),
            want,
            "{file}: the applied spec moved"
        );
        assert!(!app.unsaved(), "{file}: an untouched app counts as unsaved");
        // Saved again, the file's spec is the one it was opened from.
        let again = dir.join(format!("again-{file}"));
        h.state_mut()
            .actions
            .push(nnlab::ui::app::Action::SaveTo(again.clone()));
        assert!(settle(&mut h, |a| a.path.as_deref() == Some(again.as_path())));
        let saved = nnlab::session::load(&again).unwrap().session;
        assert_eq!(spec_bits(&saved), want, "{file}: the saved spec differs");
    }
    std::fs::remove_dir_all(&dir).ok();
}
