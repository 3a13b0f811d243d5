//! Round 2 (egui_kittest, headless): widgets nobody touches leave an opened session exactly as
//! loaded, and the replay timeline moves the Curvature panel to the stored spectrum of its step.

mod common_ui;

use std::path::PathBuf;

use common_ui::{harness, settle};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nnlab::session::Session;
use nnlab::ui::NnlabApp;

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
        assert!(settle(&mut h, |a| a.lab().applied().name == loaded.name
            && a.files().path().is_some()));
        // The widgets in question are drawn (else this test could not fail).
        assert!(h.query_all_by_label("Test fraction").count() > 0);
        assert!(h.query_all_by_label("Noise").count() > 0);
        h.run_steps(12);
        let app = h.state();
        assert_eq!(
            spec_bits(app.lab().session()),
            want,
            "{file}: the shown spec moved"
        );
        assert_eq!(
            spec_bits(app.lab().applied()),
            want,
            "{file}: the applied spec moved"
        );
        assert!(!app.unsaved(), "{file}: an untouched app counts as unsaved");
        // Saved again, the file's spec is the one it was opened from.
        let again = dir.join(format!("again-{file}"));
        h.state_mut()
            .send(nnlab::ui::command::Command::SaveTo(again.clone()));
        assert!(settle(&mut h, |a| a.files().path() == Some(again.as_path())));
        let saved = nnlab::session::load(&again).unwrap().session;
        assert_eq!(spec_bits(&saved), want, "{file}: the saved spec differs");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Train `every` steps at a time, `chunks` times, waiting each time for the curvature answer
/// of the interval's step (the curvature thread keeps only the newest waiting sample, so
/// training straight through could skip analyses).
fn train_analysed(h: &mut Harness<'static, NnlabApp>, chunks: usize) {
    let every = h.state().views().curvature.every;
    for _ in 0..chunks {
        let n = h.state().views().curvature.kept.len();
        train(h, every);
        assert!(
            settle(h, |a| a.views().curvature.kept.len() > n
                && a.views().curvature.computing.is_none()),
            "no curvature answer by step {}",
            h.state().lab().status().step
        );
    }
}

/// Train `steps` steps with the Step button's command and wait until they are done.
fn train(h: &mut Harness<'static, NnlabApp>, steps: u64) {
    let target = h.state().lab().status().step + steps;
    h.state_mut().send(nnlab::ui::command::Command::Step(steps));
    assert!(
        settle(h, |a| a.lab().status().step == target
            && !a.lab().status().running),
        "training did not reach step {target}"
    );
}

#[test]
fn the_timeline_moves_the_curvature_panel_to_the_stored_spectrum_of_its_step() {
    let mut h = harness(None);
    // 30 steps before curvature is on: no spectrum is stored before step 30.
    train(&mut h, 30);
    h.state_mut()
        .send(nnlab::ui::command::Command::CurvatureEvery(25));
    h.state_mut()
        .send(nnlab::ui::command::Command::CurvatureOn(true));
    h.run_steps(2);
    train_analysed(&mut h, 3);
    let live_step = h.state().views().curvature.last.as_ref().unwrap().step;
    assert!(h.state().views().curvature.replayed.is_none());

    // Seeking exports the recording; its stored spectra are the ones to choose from.
    h.state_mut().send(nnlab::ui::command::Command::Seek(100));
    assert!(settle(&mut h, |a| a.views().timeline.shown == Some(100)));
    let stored: Vec<u64> = h
        .state()
        .views()
        .timeline
        .source
        .as_ref()
        .unwrap()
        .session
        .analyses
        .iter()
        .filter(|a| a.as_spectrum().is_some())
        .map(|a| a.step)
        .collect();
    assert!(stored.len() >= 2, "stored spectra at {stored:?}");
    // Curvature was off before step 30.
    assert!(stored[0] >= 30, "stored spectra at {stored:?}");
    let (a, b) = (stored[0], stored[1]);
    let between = a + (b - a) / 2;
    assert!(a < between && between < b);

    h.state_mut()
        .send(nnlab::ui::command::Command::Seek(between));
    assert!(settle(&mut h, |app| app.views().timeline.shown == Some(between)));
    let c = &h.state().views().curvature;
    let r = c
        .replayed
        .as_ref()
        .expect("the panel does not follow the timeline");
    assert_eq!(r.at, between);
    let shown = r.shown.as_ref().expect("no spectrum shown");
    assert_eq!(
        shown.step, a,
        "shown: step {} for timeline {between}",
        shown.step
    );
    // It is this run's own answer at that step (with its layer shares), not the live one.
    assert!(!r.stored_only);
    let own = c.kept.iter().find(|k| k.step == a).unwrap();
    assert_eq!(shown.lambda_max, own.lambda_max);
    assert_eq!(c.shown().unwrap().step, a);
    h.run_steps(2);
    let label = format!("Spectrum at step {a} (stored)");
    assert!(h.query_by_label(&label).is_some(), "no label {label}");

    // Before the first stored spectrum there is none, and the panel says so.
    h.state_mut().send(nnlab::ui::command::Command::Seek(10));
    assert!(settle(&mut h, |app| app.views().timeline.shown == Some(10)));
    assert!(h.state().views().curvature.shown().is_none());
    assert!(
        h.query_by_label("No stored spectrum at or before step 10")
            .is_some()
    );

    // Back to live: the latest analysis again.
    h.state_mut().send(nnlab::ui::command::Command::BackToLive);
    h.run_steps(3);
    let c = &h.state().views().curvature;
    assert!(c.replayed.is_none());
    assert_eq!(c.shown().unwrap().step, live_step);
}

#[test]
fn a_spectrum_from_the_file_alone_is_labelled_stored() {
    // A recording whose spectra this app never computed: the panel rebuilds them from the
    // stored eigenvalues.
    let dir = temp_dir("stored");
    let mut h = harness(None);
    h.state_mut()
        .send(nnlab::ui::command::Command::CurvatureOn(true));
    h.state_mut()
        .send(nnlab::ui::command::Command::CurvatureEvery(20));
    h.run_steps(2);
    train_analysed(&mut h, 3);
    let file = dir.join("spectra.json");
    h.state_mut()
        .send(nnlab::ui::command::Command::SaveTo(file.clone()));
    assert!(settle(&mut h, |a| a.files().path() == Some(file.as_path())));
    drop(h);
    let saved = nnlab::session::load(&file).unwrap().session;
    let spectra: Vec<(u64, Vec<f64>)> = saved
        .analyses
        .iter()
        .filter_map(|a| Some((a.step, a.as_spectrum()?.eigenvalues)))
        .collect();
    assert!(spectra.len() >= 2, "{spectra:?}");
    let (a, eigs) = spectra[1].clone();
    let b = spectra.get(2).map_or(saved.last_step(), |s| s.0 - 1);

    let mut h = harness(Some(file.clone()));
    assert!(settle(&mut h, |app| app.files().path().is_some()
        && app.lab().status().step == 60));
    h.state_mut().send(nnlab::ui::command::Command::Seek(b));
    assert!(settle(&mut h, |app| app.views().timeline.shown == Some(b)));
    let r = h.state().views().curvature.replayed.clone().unwrap();
    assert!(r.stored_only);
    let shown = r.shown.unwrap();
    assert_eq!(shown.step, a);
    let max = eigs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = eigs.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!((shown.lambda_max, shown.lambda_min), (max, min));
    h.run_steps(2);
    assert!(
        h.query_by_label(&format!("Spectrum at step {a} (stored)"))
            .is_some()
    );
    assert!(
        h.query_by_label(&format!(
            "λ_max = {}",
            nnlab::ui::panels::curvature::num(max)
        ))
        .is_some()
    );
    std::fs::remove_dir_all(&dir).ok();
}
