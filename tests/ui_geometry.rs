//! The Geometry tile through egui_kittest: the real app computes the exact regions and the
//! Jacobian spectrum of the live θ on its helper thread, and says why when they do not apply.

mod common_ui;

use common_ui::{harness, settle};
use egui_kittest::kittest::Queryable;
use nnlab::analysis::regions::InputBox;
use nnlab::runtime::worker::OutputMap;
use nnlab::ui::command::Command;
use nnlab::ui::geometry::{Mode, Output};
use nnlab::ui::panels::plots::Tile;

fn session(dir: &str, hidden: &str, init: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nnlab-geo-{dir}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("geo.json");
    let text = format!(
        r#"{{ "nnlab": 1, "name": "geo", "seed": 3,
  "data": {{ "source": "moons", "n": 200, "noise": 0.1 }},
  "network": {{ "inputs": 2, "init": "{init}", "init_scale": 1.0,
    "layers": [ {hidden}, {{ "units": 1, "activation": "sigmoid" }} ] }},
  "loss": "bce", "optimizer": {{ "kind": "adam", "lr": 0.01, "batch_size": 32 }} }}"#
    );
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn the_tile_shows_the_exact_regions_of_the_live_theta() {
    let relu = r#"{ "units": 8, "activation": "relu" }, { "units": 8, "activation": "relu" }"#;
    let mut h = harness(Some(session("relu", relu, "he_normal")));
    // The harness waits for the first network (the default one); the file is applied after.
    assert!(settle(&mut h, |a| a
        .lab()
        .net()
        .is_some_and(
            |n| n.layers[0].activation == nnlab::net::Activation::Relu
        )));
    // Hidden behind another enlarged tile (not drawn since), the tile computes nothing.
    h.state_mut().send(Command::Enlarge(Some(Tile::Loss)));
    h.run_steps(2);
    // A reset forgets any answer; the tile (a tab behind the decision map) was never drawn.
    let built = h.state().lab().rebuilt_at();
    h.state_mut().send(Command::Reset);
    assert!(settle(&mut h, |a| a.lab().rebuilt_at() != built
        && a.lab().snapshot().is_some()));
    assert_eq!(
        h.state().views().geometry.drawn_at,
        None,
        "not drawn while hidden"
    );
    assert!(h.state().views().geometry.last.is_none() && !h.state().views().geometry.computing());
    h.state_mut().send(Command::Enlarge(Some(Tile::Geometry)));
    assert!(
        settle(&mut h, |a| a.views().geometry.last.is_some()
            && a.lab().snapshot().is_some()),
        "no regions: {:?}",
        h.state().views().geometry.error
    );
    let app = h.state();
    let a = app.views().geometry.last.as_ref().unwrap();
    let snap = app.lab().snapshot().unwrap();
    let Output::Regions(r) = &a.output else {
        panic!("regions first");
    };
    // The same partition as the library's over the decision map's box at the snapshot's θ.
    let OutputMap::Grid {
        x_range, y_range, ..
    } = &snap.output
    else {
        panic!("a 2-D map");
    };
    let net = app.lab().net().unwrap();
    let want = nnlab::analysis::regions::regions(
        net,
        &snap.theta,
        None,
        InputBox {
            x: *x_range,
            y: *y_range,
        },
    )
    .unwrap();
    assert_eq!(r.regions.len(), want.regions.len());
    assert!(h.query_by_label_contains("linear regions · Step").is_some());
    // The Jacobian histogram in Chinese.
    h.state_mut().send(Command::SetGeometryMode(Mode::Jacobian));
    h.get_by_label("中文").click();
    assert!(settle(&mut h, |a| matches!(
        a.views().geometry.last.as_ref().map(|a| &a.output),
        Some(Output::Jacobian(_))
    )));
    assert!(h.query_by_label_contains("最深层 2").is_some());
    // CSV export: one row per singular value (16 points × 8 values at the one depth).
    let csv = nnlab::ui::panels::geometry::csv(&h.state().views().geometry).unwrap();
    assert_eq!(csv.lines().count(), 2 + 16 * 8);
}

#[test]
fn the_tile_says_why_for_tanh_and_a_single_hidden_layer() {
    let tanh = r#"{ "units": 6, "activation": "tanh" }"#;
    let mut h = harness(Some(session("tanh", tanh, "orthogonal")));
    h.state_mut().send(Command::Enlarge(Some(Tile::Geometry)));
    h.run_steps(3);
    assert!(h.query_by_label_contains("not piecewise linear").is_some());
    assert!(h.query_by_label_contains("Activation: tanh").is_some());
    h.state_mut().send(Command::SetGeometryMode(Mode::Jacobian));
    h.run_steps(3);
    assert!(
        h.query_by_label_contains("needs at least two hidden layers")
            .is_some()
    );
    assert!(h.state().views().geometry.last.is_none());
    h.get_by_label("中文").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("至少需要两个隐藏层").is_some());
}
