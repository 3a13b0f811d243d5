//! The Geometry tile's depth/width sweep of linear regions through egui_kittest (THEORY row 4,
//! issue 15 §1): the button runs the sweep on the tile's thread, and its counts are the ones
//! `nnlab regions --sweep depth|width` prints for the same session, box, steps and seeds.

mod common_ui;

use common_ui::{harness, settle};
use egui_kittest::kittest::Queryable;
use nnlab::analysis::region_sweep::Sweep;
use nnlab::cli::regions::{RegionsArgs, regions_command};
use nnlab::ui::command::Command;
use nnlab::ui::geometry::Output;
use nnlab::ui::panels::plots::Tile;

fn session() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nnlab-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sweep.json");
    let text = r#"{ "nnlab": 1, "name": "sweep", "seed": 5,
  "data": { "source": "moons", "n": 80, "noise": 0.1 },
  "network": { "inputs": 2, "init": "he_normal",
    "layers": [ { "units": 4, "activation": "relu" }, { "units": 4, "activation": "relu" },
                { "units": 1, "activation": "sigmoid" } ] },
  "loss": "bce", "optimizer": { "kind": "adam", "lr": 0.01, "batch_size": 16 } }"#;
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn the_sweep_button_counts_what_the_cli_counts() {
    let file = session();
    let mut h = harness(Some(file.clone()));
    h.state_mut().send(Command::Enlarge(Some(Tile::Geometry)));
    assert!(settle(&mut h, |a| a.views().geometry.last.is_some()));
    let bounds = match &h.state().views().geometry.last.as_ref().unwrap().output {
        Output::Regions(r) => r.bounds,
        Output::Jacobian(_) => panic!("the tile opens on the regions"),
    };
    // Trained 25 steps from 2 seeds per architecture.
    h.state_mut().send(Command::SetRegionSweep {
        steps: 25,
        inits: 2,
    });
    h.get_by_label("Sweep depth / width").click();
    assert!(
        settle(&mut h, |a| a.views().region_sweep.answer.is_some()),
        "no sweep: {:?}",
        h.state().views().region_sweep.error
    );
    let a = h.state().views().region_sweep.answer.clone().unwrap();
    assert_eq!((a.steps, a.inits), (25, 2));
    for (sweep, rows) in [(Sweep::Depth, &a.depth), (Sweep::Width, &a.width)] {
        let args = RegionsArgs {
            bounds: Some(vec![bounds.x.0, bounds.x.1, bounds.y.0, bounds.y.1]),
            polygons: false,
            sweep: Some(sweep),
            values: None,
            inits: 2,
            steps: 25,
        };
        let cli = regions_command(&file, &args).unwrap();
        let want: Vec<Vec<usize>> = cli["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| serde_json::from_value(r["regions"].clone()).unwrap())
            .collect();
        let got: Vec<Vec<usize>> = rows.iter().map(|r| r.regions.clone()).collect();
        assert_eq!(got, want, "{sweep:?}");
        assert!(got.iter().flatten().all(|&n| n >= 1));
    }
    // Depths 1–4 of width 4, widths 2–16 at depth 2.
    let shape: Vec<(usize, usize, usize)> = a
        .depth
        .iter()
        .map(|r| (r.depth, r.width, r.units))
        .collect();
    assert_eq!(shape, vec![(1, 4, 4), (2, 4, 8), (3, 4, 12), (4, 4, 16)]);
    let shape: Vec<(usize, usize, usize)> = a
        .width
        .iter()
        .map(|r| (r.depth, r.width, r.units))
        .collect();
    assert_eq!(shape, vec![(2, 2, 4), (2, 4, 8), (2, 8, 16), (2, 16, 32)]);
    assert!(h.query_by_label("Regions against depth").is_some());
    assert!(h.query_by_label("Regions against width").is_some());
    // The tile's CSV is the sweep's while it is shown: a row per architecture.
    let csv = h.state().views().region_sweep.csv().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[1], "sweep,depth,width,units,mean,min,max,counts");
    assert_eq!(lines.len(), 2 + 8);
    assert!(lines[2].starts_with("depth,1,4,4,"));
    // In Chinese.
    h.get_by_label("中文").click();
    h.run_steps(3);
    assert!(h.query_by_label("区域数与深度").is_some());
    // Closed again: the live regions come back, and so does their CSV.
    h.get_by_label("扫描深度 / 宽度").click();
    h.run_steps(3);
    assert!(h.state().views().region_sweep.csv().is_none());
}
