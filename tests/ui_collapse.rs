//! The Collapse tile through egui_kittest (THEORY row 38): on 4-class blobs the real app
//! measures NC1–NC4 of the last hidden layer on its helper thread at the live θ (the same
//! numbers as `analysis::collapse` at the snapshot's θ, recomputed here), follows training,
//! exports CSV, and says why on a two-class or regression network.

mod common_ui;

use common_ui::{harness, settle};
use egui_kittest::kittest::Queryable;
use nnlab::analysis::collapse::{collapse, features};
use nnlab::net::Rows;
use nnlab::ui::command::Command;
use nnlab::ui::panels::plots::Tile;

fn session(name: &str, data: &str, out: usize) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nnlab-nc-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("nc.json");
    let text = format!(
        r#"{{ "nnlab": 1, "name": "nc", "seed": 7, "data": {data},
  "network": {{ "inputs": 2, "layers": [ {{ "units": 12, "activation": "relu" }},
    {{ "units": 8, "activation": "relu" }}, {{ "units": {out}, "activation": "softmax" }} ] }},
  "loss": "cross_entropy", "optimizer": {{ "kind": "adam", "lr": 0.01, "batch_size": 32 }} }}"#
    );
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn the_tile_measures_collapse_of_the_live_theta_and_follows_training() {
    let blobs = r#"{ "source": "blobs", "classes": 4, "n": 200, "noise": 0.2 }"#;
    let mut h = harness(Some(session("blobs", blobs, 4)));
    h.state_mut().send(Command::Enlarge(Some(Tile::Collapse)));
    assert!(
        settle(&mut h, |a| !a.views().collapse.history.is_empty()),
        "no record: {:?}",
        h.state().views().collapse.error
    );
    {
        let app = h.state();
        let rec = app.views().collapse.history[0].clone();
        let snap = app.lab().snapshot().unwrap();
        assert_eq!((rec.step, snap.step), (0, 0));
        // The library's measures at the snapshot's θ, recomputed here.
        let train = app.lab().train();
        let rows = Rows {
            x: &train.x,
            y: &train.y,
            classes: train.classes,
        };
        let f = features(app.lab().net().unwrap(), &snap.theta, rows).unwrap();
        assert_eq!(rec.collapse, collapse(&f).unwrap());
        assert_eq!(rec.collapse.cosine_target, -1.0 / 3.0);
        assert_eq!(app.views().collapse.pca.len(), train.rows());
        assert_eq!(app.views().collapse.labels, f.labels);
    }
    assert!(
        h.query_by_label_contains("Last hidden layer, 2-D PCA")
            .is_some()
    );
    // Training: records follow, steps ascending, about `every` apart while training (the step
    // training stopped at is measured too, and a snapshot may come before the status says
    // training started).
    h.state_mut().send(Command::Step(300));
    assert!(settle(&mut h, |a| a
        .views()
        .collapse
        .history
        .last()
        .is_some_and(|r| r.step == 300)));
    let hist = h.state().views().collapse.history.clone();
    assert!(hist.len() >= 2);
    let every = h.state().views().collapse.every;
    assert!(hist.windows(2).all(|w| w[1].step > w[0].step));
    assert!(
        hist.len() as u64 <= 300 / every + 4,
        "{} records",
        hist.len()
    );
    let first = hist[0].collapse.nc1;
    let last = hist.last().unwrap().collapse.nc1;
    assert!(last < first, "NC1 falls with training: {first} → {last}");
    let csv = h.state().views().collapse.csv().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("step,nc1,cosine_mean"));
    assert_eq!(lines.len(), 1 + hist.len());
    h.get_by_label("中文").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("二维 PCA").is_some());
}

#[test]
fn the_tile_says_why_for_two_classes_and_regression() {
    let moons = r#"{ "source": "moons", "n": 100, "noise": 0.1 }"#;
    let mut h = harness(Some(session("moons", moons, 2)));
    h.state_mut().send(Command::Enlarge(Some(Tile::Collapse)));
    h.run_steps(5);
    assert!(h.query_by_label_contains("3 or more classes").is_some());
    assert!(h.state().views().collapse.history.is_empty());
    let sin = r#"{ "source": "sin", "n": 50 }"#;
    let dir = std::env::temp_dir().join(format!("nnlab-nc-sin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("nc.json");
    let text = format!(
        r#"{{ "nnlab": 1, "name": "nc", "seed": 7, "data": {sin},
  "network": {{ "inputs": 1, "layers": [ {{ "units": 8, "activation": "tanh" }},
    {{ "units": 1, "activation": "identity" }} ] }},
  "loss": "mse", "optimizer": {{ "kind": "adam", "lr": 0.01, "batch_size": 32 }} }}"#
    );
    std::fs::write(&file, text).unwrap();
    let mut h = harness(Some(file));
    h.state_mut().send(Command::Enlarge(Some(Tile::Collapse)));
    h.run_steps(5);
    assert!(
        h.query_by_label_contains("this data is a regression")
            .is_some()
    );
    h.get_by_label("中文").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("此数据是回归").is_some());
}
