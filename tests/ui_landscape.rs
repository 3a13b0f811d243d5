//! The Landscape and Dynamics tiles through egui_kittest: the real app, its training worker and
//! the two helper threads, so every wait is a bounded loop of frames (`settle`).

mod common_ui;

use common_ui::{harness, open_tab, settle, type_into};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nnlab::analysis::landscape::pca_plane;
use nnlab::ui::NnlabApp;
use nnlab::ui::command::Command;
use nnlab::ui::dynamics::{Eta, Kind, Output as DynOutput};
use nnlab::ui::landscape::{Mode, Output, SliceView, objective};
use nnlab::ui::panels::plots::Tile;

/// Press +10 `n` times, each once its steps are done (the button is off while training), and
/// check that every press took.
fn train(h: &mut Harness<'static, NnlabApp>, n: usize) {
    for _ in 0..n {
        let want = h.state().lab().status().step + 10;
        h.get_by_label("+10").click();
        assert!(
            settle(h, |a| a.lab().status().step == want
                && !a.lab().status().running),
            "one press of +10 did not take the app to step {want}"
        );
    }
}

/// Edit the Landscape tile's settings as its controls do: a command with the edited copy.
fn landscape_settings(
    h: &mut Harness<'static, NnlabApp>,
    edit: impl FnOnce(&mut nnlab::ui::landscape::Settings),
) {
    let mut s = h.state().views().landscape.settings;
    edit(&mut s);
    h.state_mut()
        .send(Command::SetLandscapeSettings(Box::new(s)));
}

/// Edit the Dynamics tile's settings as its controls do.
fn dynamics_settings(
    h: &mut Harness<'static, NnlabApp>,
    edit: impl FnOnce(&mut nnlab::ui::dynamics::Settings),
) {
    let mut s = h.state().views().dynamics.settings;
    edit(&mut s);
    h.state_mut()
        .send(Command::SetDynamicsSettings(Box::new(s)));
}

/// Press Compute once and wait for the refined answer.
fn compute(h: &mut Harness<'static, NnlabApp>) {
    // The tile is a tab behind Curvature in the default workspace.
    open_tab(h, "Loss landscape");
    // Settings changed through state_mut move the button: lay the tile out first.
    h.run_steps(2);
    let id = h.state().views().landscape.id;
    h.get_by_label("Compute").click();
    h.run_steps(1);
    assert!(
        h.state().views().landscape.id > id,
        "one click on Compute did not take"
    );
    assert!(
        settle(h, |a| a.views().landscape.id > id
            && a.views().landscape.last.is_some()
            && !a.views().landscape.busy()),
        "no landscape: {:?}",
        h.state().views().landscape.error
    );
    assert_eq!(h.state().views().landscape.error, None);
}

fn slice(app: &NnlabApp) -> &SliceView {
    match &app
        .views()
        .landscape
        .last
        .as_ref()
        .expect("an answer")
        .output
    {
        Output::Slice(v) => v,
        Output::Line(_) => panic!("a slice, not a line"),
    }
}

#[test]
fn the_centre_of_the_slice_is_the_training_objective_at_the_current_theta() {
    let mut h = harness(None);
    train(&mut h, 3);
    compute(&mut h);
    let app = h.state();
    let l = &app.views().landscape;
    let a = l.last.as_ref().unwrap();
    assert_eq!(a.mode, Mode::Random);
    assert_eq!(
        a.step,
        app.lab().status().step,
        "the slice is around the θ of now"
    );
    let v = slice(app);
    let g = v.x.len();
    assert_eq!(g, 51);
    assert_eq!((v.x[g / 2], v.y[g / 2]), (0.0, 0.0));
    let centre = v.values[(g / 2) * g + g / 2];
    let path = l.path.as_ref().unwrap();
    // The worker's θ is the one its last snapshot showed (training is paused).
    assert_eq!(
        path.theta,
        app.lab().snapshot().unwrap().theta,
        "θ of the landscape and of the snapshot"
    );
    let j = objective(path).value(&path.theta);
    assert!(
        (centre - j).abs() <= 1e-12 * j.abs(),
        "centre {centre} vs J(θ) {j}"
    );
    // With no regulariser, J is the training loss the Loss plot shows at this step.
    let train_loss = app
        .lab()
        .history()
        .train_loss
        .points(false)
        .last()
        .unwrap()
        .y;
    assert!(
        (centre - train_loss).abs() <= 1e-9 * j.abs(),
        "centre {centre} vs train loss {train_loss}"
    );
    assert!(v.min <= centre && centre <= v.max);
    assert!(v.contours.iter().any(|c| !c.segments.is_empty()));
}

#[test]
fn the_coarse_preview_arrives_before_the_refined_grid() {
    let mut h = harness(None);
    train(&mut h, 1);
    landscape_settings(&mut h, |s| s.grid = 101);
    compute(&mut h);
    let l = &h.state().views().landscape;
    let mine: Vec<bool> = l
        .received
        .iter()
        .filter(|(id, _)| *id == l.id)
        .map(|(_, coarse)| *coarse)
        .collect();
    assert_eq!(
        mine,
        vec![true, false],
        "coarse first, then refined, once each"
    );
    let a = l.last.as_ref().unwrap();
    assert!(!a.coarse);
    assert_eq!(a.grid, 101);
    assert!(l.coarse.is_none(), "the preview is dropped once refined");
    assert!(h.query_by_label_contains("101×101").is_some());
}

#[test]
fn the_pca_plane_shows_the_path_ending_at_the_current_theta() {
    let mut h = harness(None);
    train(&mut h, 6);
    landscape_settings(&mut h, |s| s.mode = Mode::Pca);
    compute(&mut h);
    let app = h.state();
    let v = slice(app);
    let path = v.path.as_ref().expect("a projected path");
    let p = app.views().landscape.path.as_ref().unwrap();
    assert!(path.len() >= 3, "{} points", path.len());
    assert_eq!(path.len(), p.trajectory.len());
    assert_eq!(
        p.trajectory.last(),
        Some(&p.theta),
        "the trajectory ends at θ"
    );
    assert_eq!(*p.steps.last().unwrap(), app.lab().status().step);
    let last = path[path.len() - 1];
    assert!(
        last[0].abs() < 1e-12 && last[1].abs() < 1e-12,
        "the path ends at θ, the plane's origin: {last:?}"
    );
    assert_eq!(v.current, Some(last));
    // The same points as the PCA of the trajectory the worker handed out.
    let pca = pca_plane(&p.trajectory).unwrap();
    for (a, b) in path.iter().zip(&pca.path) {
        assert!((a[0] - b[0]).abs() < 1e-12 && (a[1] - b[1]).abs() < 1e-12);
    }
    // The grid covers the whole path.
    let r = v.x[v.x.len() - 1];
    assert!(path.iter().all(|c| c[0].abs() <= r && c[1].abs() <= r));
}

#[test]
fn the_one_one_one_surface_has_an_indefinite_region_for_both_losses() {
    let mut h = harness(None);
    for loss in [
        nnlab::analysis::landscape::one_one_one::TinyLoss::Mse,
        nnlab::analysis::landscape::one_one_one::TinyLoss::CrossEntropy,
    ] {
        landscape_settings(&mut h, |s| {
            s.mode = Mode::Tiny;
            s.tiny_loss = loss;
        });
        compute(&mut h);
        let v = slice(h.state());
        let mask = v.indefinite.as_ref().expect("a mask");
        let n = mask.iter().filter(|b| **b).count();
        assert!(n > 0 && n < mask.len(), "{loss:?}: {n} of {}", mask.len());
        assert!(v.indefinite_fraction > 0.0);
        assert!(!v.indefinite_boundary.is_empty());
        assert!(h.query_by_label_contains("indefinite: ").is_some());
    }
}

#[test]
fn the_line_and_the_race_are_drawn() {
    let mut h = harness(None);
    train(&mut h, 3);
    landscape_settings(&mut h, |s| s.mode = Mode::Line);
    compute(&mut h);
    {
        let app = h.state();
        let Output::Line(l) = &app.views().landscape.last.as_ref().unwrap().output else {
            panic!("a line")
        };
        let p = app.views().landscape.path.as_ref().unwrap();
        let obj = objective(p);
        // t = 0 and t = 1 are θ₀ and θ exactly.
        let k0 = l.t.iter().position(|t| *t == 0.0).unwrap();
        let k1 = l.t.iter().position(|t| *t == 1.0).unwrap();
        assert_eq!(l.loss[k0], obj.value(&p.theta0));
        assert_eq!(l.loss[k1], obj.value(&p.theta));
    }
    landscape_settings(&mut h, |s| {
        s.mode = Mode::Race;
        s.race_steps = 50;
        s.grid = 21;
    });
    compute(&mut h);
    let v = slice(h.state());
    assert_eq!(v.races.len(), 5);
    for r in &v.races {
        assert_eq!(r.path.len(), 51, "{}", r.name);
        assert!(r.path[0][0].abs() < 1e-9 && r.path[0][1].abs() < 1e-9);
    }
    let names: Vec<&str> = v.races.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["gd", "momentum", "nesterov", "rmsprop", "adam"]);
}

#[test]
fn the_lyapunov_exponent_changes_sign_across_two_over_lambda_max() {
    let mut h = harness(None);
    train(&mut h, 2);
    open_tab(&mut h, "Training dynamics");
    for (fraction, contracting) in [(0.4, true), (1.5, false)] {
        dynamics_settings(&mut h, |d| {
            d.kind = Kind::Lyapunov;
            d.lyap_eta = Eta::EdgeFraction(fraction);
        });
        h.run_steps(2);
        let id = h.state().views().dynamics.id;
        h.get_by_label("Run").click();
        h.run_steps(1);
        assert!(
            h.state().views().dynamics.id > id,
            "one click on Run did not take"
        );
        assert!(
            settle(&mut h, |a| a.views().dynamics.id > id
                && !a.views().dynamics.busy()
                && (a.views().dynamics.last.is_some()
                    || a.views().dynamics.error.is_some())),
            "no dynamics answer at {fraction}: id {} → {}, waiting {}, computing {}, {:?}",
            id,
            h.state().views().dynamics.id,
            h.state().views().dynamics.awaiting_theta,
            h.state().views().dynamics.computing,
            h.state().views().dynamics.error
        );
        let d = &h.state().views().dynamics;
        assert_eq!(d.error, None);
        let DynOutput::Lyapunov(r) = &d.last.as_ref().unwrap().output else {
            panic!("a Lyapunov answer")
        };
        assert!((r.eta * r.lambda_max / 2.0 - fraction).abs() < 1e-12);
        // η = f·2/λ_max: the linear prediction along the top eigenvector is ln|1 − 2f|.
        assert_eq!(r.predicted < 0.0, contracting, "prediction at {fraction}");
        assert_eq!(
            r.run.exponent < 0.0,
            contracting,
            "λ_T = {} at η = {fraction}·2/λ_max",
            r.run.exponent
        );
        assert!(h.query_all_by_label_contains("2/λ_max = ").count() > 0);
    }
}

#[test]
fn the_enlarged_tiles_in_chinese() {
    let mut h = harness(None);
    h.state_mut().send(Command::Enlarge(Some(
        nnlab::ui::panels::plots::Tile::Landscape,
    )));
    h.get_by_label("中文").click();
    h.run_steps(3);
    for t in ["损失曲面", "网格", "半径", "计算", "对数着色", "跟随训练"] {
        assert!(h.query_all_by_label(t).count() > 0, "no {t}");
    }
    h.get_by_label("计算").click();
    assert!(settle(&mut h, |a| a.views().landscape.last.is_some()));
    assert!(h.query_by_label_contains("随机方向 · 51×51").is_some());
    h.state_mut().send(Command::Enlarge(Some(
        nnlab::ui::panels::plots::Tile::Dynamics,
    )));
    h.run_steps(3);
    for t in ["训练动力学", "运行", "沿最大特征向量偏移"] {
        assert!(h.query_all_by_label(t).count() > 0, "no {t}");
    }
}

#[test]
fn a_refined_slice_is_saved_with_the_session() {
    let mut h = harness(None);
    train(&mut h, 2);
    compute(&mut h);
    let (step, values) = {
        let app = h.state();
        (
            app.views().landscape.last.as_ref().unwrap().step,
            slice(app).values.clone(),
        )
    };
    // The app records the refined slice on the next frames; then Save writes it.
    h.run_steps(3);
    let dir = std::env::temp_dir().join(format!("nnlab-land-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("with_landscape.json");
    h.state_mut()
        .send(nnlab::ui::command::Command::SaveTo(file.clone()));
    assert!(settle(&mut h, |a| a.files().path() == Some(file.as_path())));
    let saved = nnlab::session::load(&file).unwrap().session;
    let stored: Vec<_> = saved
        .analyses
        .iter()
        .filter_map(|a| a.as_landscape().map(|r| (a.step, r)))
        .collect();
    assert_eq!(stored.len(), 1, "one landscape in the file");
    let (s, r) = &stored[0];
    assert_eq!(*s, step);
    assert_eq!(
        (r.directions.as_str(), r.grid, r.radius),
        ("random", 51, 1.0)
    );
    assert!(
        r.a.is_empty() && r.b.is_empty(),
        "an even grid stores no axes"
    );
    assert_eq!(r.values.len(), values.len());
    assert!(
        r.values
            .iter()
            .zip(&values)
            .all(|(x, y)| x.to_bits() == y.to_bits()),
        "stored values differ from the drawn ones"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Through the tile's Export window: a typed path and one click on Save CSV; the file's text.
fn export_csv(h: &mut Harness<'static, NnlabApp>, tile: Tile, path: &std::path::Path) -> String {
    h.state_mut()
        .send(nnlab::ui::command::Command::Export(tile));
    h.run_steps(3);
    type_into(h, "Path", &path.display().to_string());
    h.get_by_label("Save CSV").click();
    let file = path.with_extension("csv");
    assert!(
        settle(h, |_| file.exists()),
        "{tile:?}: the CSV was not written"
    );
    std::fs::read_to_string(&file).unwrap()
}

/// Rows of a CSV after its comment line and header, split at commas.
fn csv_rows(text: &str, header: &str) -> Vec<Vec<String>> {
    let mut lines = text.lines();
    assert!(
        lines.next().unwrap().starts_with("# "),
        "a comment line first"
    );
    assert_eq!(lines.next().unwrap(), header);
    lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn the_landscape_and_dynamics_tiles_export_their_data_as_csv() {
    let dir = std::env::temp_dir().join(format!("nnlab-land-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut h = harness(None);
    train(&mut h, 2);
    compute(&mut h);
    let text = export_csv(&mut h, Tile::Landscape, &dir.join("landscape"));
    let rows = csv_rows(&text, "series,x,y,loss");
    assert!(rows.iter().all(|r| r.len() == 4), "four fields a row");
    let grid: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "grid").collect();
    assert_eq!(grid.len(), 51 * 51, "one row per grid point");
    // The centre row is J(θ) at the θ analysed, computed here from the objective.
    let centre = grid
        .iter()
        .find(|r| r[1] == "0.0" && r[2] == "0.0")
        .expect("the centre of the slice");
    let path = h.state().views().landscape.path.clone().unwrap();
    let j = objective(&path).value(&path.theta);
    let written: f64 = centre[3].parse().unwrap();
    assert!(
        (written - j).abs() <= 1e-12 * j.abs(),
        "{written} vs J(θ) {j}"
    );
    // Random directions: θ itself is the one point drawn on the slice.
    let current: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "current").collect();
    assert_eq!(current.len(), 1);
    assert_eq!(
        (current[0][1].as_str(), current[0][3].as_str()),
        ("0.0", "")
    );

    // The Lyapunov run: its λ_t per step and the sweep over η, as the tile plots them.
    open_tab(&mut h, "Training dynamics");
    dynamics_settings(&mut h, |d| d.kind = Kind::Lyapunov);
    h.run_steps(2);
    let id = h.state().views().dynamics.id;
    h.get_by_label("Run").click();
    h.run_steps(1);
    assert!(
        h.state().views().dynamics.id > id,
        "one click on Run did not take"
    );
    assert!(
        settle(&mut h, |a| a.views().dynamics.id > id
            && !a.views().dynamics.busy()
            && a.views().dynamics.last.is_some()),
        "no dynamics answer: {:?}",
        h.state().views().dynamics.error
    );
    let text = export_csv(&mut h, Tile::Dynamics, &dir.join("dynamics"));
    let rows = csv_rows(&text, "series,x,y");
    let DynOutput::Lyapunov(r) = &h.state().views().dynamics.last.as_ref().unwrap().output else {
        panic!("a Lyapunov answer")
    };
    let series = |name: &str| -> Vec<(f64, f64)> {
        rows.iter()
            .filter(|row| row[0] == name)
            // An empty field is a diverged run's missing value.
            .map(|row| (row[1].parse().unwrap(), row[2].parse().unwrap_or(f64::NAN)))
            .collect()
    };
    let exponent = series("exponent");
    assert_eq!(exponent.len(), r.run.curve.len());
    for (t, (x, y)) in exponent.iter().enumerate() {
        assert_eq!(*x, (t + 1) as f64);
        assert_eq!(
            y.to_bits(),
            r.run.curve[t].to_bits(),
            "λ_t at t = {}",
            t + 1
        );
    }
    let sweep = series("sweep");
    assert_eq!(sweep.len(), nnlab::analysis::dynamics::EDGE_SWEEP.len());
    for ((eta, _), f) in sweep.iter().zip(nnlab::analysis::dynamics::EDGE_SWEEP) {
        let want = f * 2.0 / r.lambda_max;
        assert!((eta - want).abs() <= 1e-15 * want, "η {eta} vs {want}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
