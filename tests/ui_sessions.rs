//! Sessions in the app (egui_kittest, headless): save, recovery after a kill, the close
//! confirmation, the replay timeline and fork, CSV export, and the comparison of runs.
//! Every app here keeps its recovery file and recent list in its own temp folder.

mod common_ui;

use std::path::{Path, PathBuf};

use common_ui::settle;
use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nnlab::ui::NnlabApp;

/// A fresh folder under the temp dir for one test.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nnlab-ui-sessions-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The app with its state folder at `state`, run until its network is built.
fn app_in(state: &Path, file: Option<PathBuf>) -> Harness<'static, NnlabApp> {
    let dir = state.to_path_buf();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .with_accessibility_check(false)
        .with_context_setup(nnlab::ui::fonts::install)
        .build_eframe(move |cc| {
            NnlabApp::with_state_dir(&cc.egui_ctx, file.clone(), Some(dir.clone()))
        });
    assert!(
        settle(&mut h, |app| app.n_params > 0),
        "the app never built its network"
    );
    h
}

/// Train `steps` steps with the Step button's command and wait until they are done.
fn train(h: &mut Harness<'static, NnlabApp>, steps: u64) {
    let target = h.state().status.step + steps;
    h.state_mut()
        .actions
        .push(nnlab::ui::app::Action::Step(steps));
    assert!(
        settle(h, |a| a.status.step == target && !a.status.running),
        "training did not reach step {target}"
    );
    // The snapshot at the final step arrives after the status.
    assert!(settle(h, |a| a
        .snapshot
        .as_ref()
        .is_some_and(|s| s.step == target)));
}

/// Parse `step,a,b,…` CSV back: per column, (step, value) where the cell is not blank.
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<(u64, f64)>>) {
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let mut cols = vec![Vec::new(); header.len() - 1];
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "row {line}");
        let step: u64 = cells[0].parse().unwrap();
        for (k, c) in cells[1..].iter().enumerate() {
            if !c.is_empty() {
                cols[k].push((step, c.parse::<f64>().unwrap()));
            }
        }
    }
    (header, cols)
}

#[test]
fn csv_export_of_the_loss_tile_writes_the_recorded_values() {
    let state = temp_dir("csv");
    let mut h = app_in(&state, None);
    train(&mut h, 300);
    // The Export window of the loss tile, a typed path, Save CSV.
    h.state_mut().actions.push(nnlab::ui::app::Action::Export(
        nnlab::ui::panels::plots::Tile::Loss,
    ));
    h.run_steps(2);
    let out = state.join("loss");
    h.state_mut().export.path = out.display().to_string();
    h.run_steps(1);
    h.get_by_label("Save CSV").click();
    let file = state.join("loss.csv");
    assert!(settle(&mut h, |_| file.exists()), "the CSV was not written");
    let text = std::fs::read_to_string(&file).unwrap();
    let (header, cols) = parse_csv(&text);
    assert_eq!(header, ["step", "batch_loss", "train_loss", "test_loss"]);
    let hist = &h.state().history;
    let expect = |s: &nnlab::ui::history::Series| -> Vec<(u64, f64)> {
        s.points(false).iter().map(|p| (p.x as u64, p.y)).collect()
    };
    // Every recorded batch loss, exactly (300 steps, all kept below the stride limit).
    assert_eq!(cols[0].len(), 300);
    assert_eq!(cols[0], expect(&hist.batch_loss));
    assert_eq!(cols[1], expect(&hist.train_loss));
    assert_eq!(cols[2], expect(&hist.test_loss));
    assert!(cols[1].iter().all(|(_, v)| v.is_finite() && *v > 0.0));
}

#[test]
fn closing_with_unsaved_work_asks_first() {
    let state = temp_dir("close");
    let mut h = app_in(&state, None);
    // Nothing done yet: closing is not held up.
    request_close(&mut h);
    assert!(!h.state().close_asked);
    assert!(!cancelled_close(&h));
    train(&mut h, 20);
    request_close(&mut h);
    assert!(h.state().close_asked, "no confirmation with unsaved work");
    assert!(cancelled_close(&h), "the close was not cancelled");
    h.run_steps(2);
    assert!(h.query_by_label("Unsaved work").is_some());
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert!(!h.state().close_asked);
    assert!(h.query_by_label("Unsaved work").is_none());
}

fn request_close(h: &mut Harness<'static, NnlabApp>) {
    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    h.step();
}

fn cancelled_close(h: &Harness<'static, NnlabApp>) -> bool {
    h.output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .is_some_and(|v| v.commands.contains(&egui::ViewportCommand::CancelClose))
}

#[test]
fn compare_with_two_runs_shows_two_legend_entries() {
    let state = temp_dir("compare");
    let mut h = app_in(&state, None);
    train(&mut h, 200);
    h.get_by_label("Compare").click();
    h.run_steps(2);
    // A sigmoid variant of the tanh network: same data, same seed.
    {
        let app = h.state_mut();
        app.compare.setting = nnlab::ui::panels::compare::Setting::Activation;
        app.compare.activation = nnlab::net::Activation::Sigmoid;
    }
    h.get_by_label("▶ Start variant").click();
    assert!(
        settle(&mut h, |a| a.compare.runs.len() == 2
            && a.compare.runs[1].status.step == 200
            && !a.compare.runs[1].status.running),
        "the variant did not train to the current run's step"
    );
    let legend = h.state().compare.legend(nnlab::ui::i18n::Lang::En);
    assert_eq!(legend, ["current run", "activation = sigmoid"]);
    // Drawn: both names appear in the window.
    h.run_steps(2);
    assert!(h.query_all_by_label("current run").count() > 0);
    assert!(h.query_all_by_label("activation = sigmoid").count() > 0);
    let app = h.state();
    let variant = &app.compare.runs[1].history;
    assert_eq!(variant.batch_loss.len(), app.history.batch_loss.len());
    // Same data and seed, different activation: the first losses differ.
    let (a, b) = (
        app.history.batch_loss.points(false)[0].y,
        variant.batch_loss.points(false)[0].y,
    );
    assert!(a != b, "the variant trained the same network");
    // Remove the variant: one entry left.
    h.get_all_by_label("×").nth(1).unwrap().click();
    h.run_steps(2);
    assert_eq!(
        h.state().compare.legend(nnlab::ui::i18n::Lang::En),
        ["current run"]
    );
}
