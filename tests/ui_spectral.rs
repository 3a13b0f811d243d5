//! The Spectral-bias tile through egui_kittest: the real app takes the residual of the live θ
//! to the frequency domain on its helper thread, and says why when the spectrum does not apply.

mod common_ui;

use common_ui::{harness, settle};
use egui_kittest::kittest::Queryable;
use nnlab::analysis::spectral_bias::FourierBasis;
use nnlab::net::{BnMode, Workspace};
use nnlab::ui::command::Command;
use nnlab::ui::panels::plots::Tile;
use nnlab::ui::spectral::{FREQUENCIES, PEAK_SHARE};

/// sin x + sin 5x + sin 10x at 64 uniform points of [−π, π), or the moons (2-D).
fn session(dir: &str, one_d: bool) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nnlab-spec-{dir}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("spec.json");
    let data = if one_d {
        let xs: Vec<f64> = (0..64)
            .map(|i| -std::f64::consts::PI + std::f64::consts::TAU * i as f64 / 64.0)
            .collect();
        let ys: Vec<f64> = xs
            .iter()
            .map(|x| x.sin() + (5.0 * x).sin() + (10.0 * x).sin())
            .collect();
        let rows: Vec<Vec<f64>> = xs.iter().map(|&x| vec![x]).collect();
        format!(
            r#"{{ "source": "inline", "x": {}, "y": {}, "task": "regression", "test_fraction": 0 }}"#,
            serde_json::to_string(&rows).unwrap(),
            serde_json::to_string(&ys).unwrap()
        )
    } else {
        r#"{ "source": "moons", "n": 100, "noise": 0.1 }"#.to_string()
    };
    let (inputs, out, loss) = if one_d {
        (1, "identity", "mse")
    } else {
        (2, "sigmoid", "bce")
    };
    let text = format!(
        r#"{{ "nnlab": 1, "name": "spec", "seed": 4, "data": {data},
  "network": {{ "inputs": {inputs}, "layers": [ {{ "units": 16, "activation": "tanh" }},
    {{ "units": 1, "activation": "{out}" }} ] }},
  "loss": "{loss}", "optimizer": {{ "kind": "adam", "lr": 0.01, "batch_size": 64 }} }}"#
    );
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn the_tile_shows_the_residual_spectrum_of_the_live_theta() {
    let mut h = harness(Some(session("sines", true)));
    h.state_mut().send(Command::Enlarge(Some(Tile::Spectral)));
    h.run_steps(2);
    assert!(
        settle(&mut h, |a| !a.views().spectral.history.is_empty()),
        "no spectrum: {:?}",
        h.state().views().spectral.error
    );
    let app = h.state();
    let rec = app.views().spectral.history.last().unwrap().clone();
    // The library's spectrum of the same residual, recomputed here at the record's θ (the
    // snapshot of that step).
    let net = app.lab().net().unwrap();
    let train = app.lab().train();
    let basis = FourierBasis::new(&train.x, &train.y, FREQUENCIES).unwrap();
    assert_eq!(app.views().spectral.peaks, vec![1, 5, 10]);
    assert_eq!(basis.peaks(PEAK_SHARE), vec![1, 5, 10]);
    // Not playing: the one snapshot is the initial θ's, and the record is of it.
    let snap = app.lab().snapshot().unwrap();
    assert_eq!((snap.step, rec.step), (0, 0));
    let mut ws = Workspace::default();
    net.forward(&snap.theta, &train.x, 64, &mut ws, BnMode::Batch, None);
    let f = ws.layers[1].f[..64].to_vec();
    let want = basis.relative_errors(&f, &[1, 5, 10]);
    assert_eq!(rec.errors.len(), 3);
    for (a, b) in rec.errors.iter().zip(&want) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} against {b}");
    }
    assert_eq!(rec.amplitude.len(), FREQUENCIES);
    assert!(
        h.query_by_label_contains("relative error at the target's peaks")
            .is_some()
    );
    // CSV: a header and one row per record, step + 3 peaks + 32 amplitudes.
    let csv = nnlab::ui::panels::spectral_bias::csv(&h.state().views().spectral).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("step,rel_error_k1,rel_error_k5,rel_error_k10,amplitude_k0"));
    assert_eq!(lines.len(), 1 + h.state().views().spectral.history.len());
    assert_eq!(lines[1].split(',').count(), 1 + 3 + FREQUENCIES);
    // In Chinese.
    h.get_by_label("中文").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("目标峰值处的相对误差").is_some());
}

#[test]
fn the_tile_says_why_for_two_inputs() {
    let mut h = harness(Some(session("moons", false)));
    h.state_mut().send(Command::Enlarge(Some(Tile::Spectral)));
    h.run_steps(2);
    h.run_steps(5);
    assert!(
        h.query_by_label_contains("measured on 1-D inputs; inputs here: 2")
            .is_some()
    );
    assert!(
        h.state().views().spectral.history.is_empty() && !h.state().views().spectral.computing()
    );
    h.get_by_label("中文").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("一维输入").is_some());
}
