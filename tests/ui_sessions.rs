//! Sessions in the app (egui_kittest, headless): save, recovery after a kill, the close
//! confirmation, the replay timeline and fork, CSV export, and the comparison of runs.
//! Every app here keeps its recovery file and recent list in its own temp folder.

mod common_ui;

use std::path::{Path, PathBuf};

use common_ui::{settle, type_into};
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
        settle(&mut h, |app| app.lab().n_params() > 0),
        "the app never built its network"
    );
    h
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
    // The snapshot at the final step arrives after the status.
    assert!(settle(h, |a| a
        .lab()
        .snapshot()
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
    h.state_mut().send(nnlab::ui::command::Command::Export(
        nnlab::ui::panels::plots::Tile::Loss,
    ));
    h.run_steps(3);
    let out = state.join("loss");
    type_into(&mut h, "Path", &out.display().to_string());
    h.get_by_label("Save CSV").click();
    let file = state.join("loss.csv");
    assert!(settle(&mut h, |_| file.exists()), "the CSV was not written");
    let text = std::fs::read_to_string(&file).unwrap();
    let (header, cols) = parse_csv(&text);
    assert_eq!(header, ["step", "batch_loss", "train_loss", "test_loss"]);
    let hist = h.state().lab().history();
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
    assert!(!h.state().files().close_asked());
    assert!(!cancelled_close(&h));
    train(&mut h, 20);
    request_close(&mut h);
    assert!(
        h.state().files().close_asked(),
        "no confirmation with unsaved work"
    );
    assert!(cancelled_close(&h), "the close was not cancelled");
    h.run_steps(2);
    assert!(h.query_by_label("Unsaved work").is_some());
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert!(!h.state().files().close_asked());
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
    h.run_steps(3);
    // A sigmoid variant of the tanh network: same data, same seed. The variant's setting is
    // the activation (its first choice); its value is picked in the window's combo box.
    assert!(h.state().views().compare.setting == nnlab::ui::panels::compare::Setting::Activation);
    {
        use egui::accesskit::Role;
        h.get_by_role_and_label(Role::ComboBox, "Activation")
            .click();
        h.run_steps(2);
        h.get_by_role_and_label(Role::Button, "sigmoid").click();
        h.run_steps(2);
    }
    assert_eq!(
        h.state().views().compare.activation,
        nnlab::net::Activation::Sigmoid
    );
    h.get_by_label("▶ Start variant").click();
    assert!(
        settle(&mut h, |a| a.views().compare.runs.len() == 2
            && a.views().compare.runs[1].status.step == 200
            && !a.views().compare.runs[1].status.running),
        "the variant did not train to the current run's step"
    );
    let legend = h.state().views().compare.legend(nnlab::ui::i18n::Lang::En);
    assert_eq!(legend, ["current run", "Activation = sigmoid"]);
    // Drawn: both names appear in the window.
    h.run_steps(2);
    assert!(h.query_all_by_label("current run").count() > 0);
    assert!(h.query_all_by_label("Activation = sigmoid").count() > 0);
    let app = h.state();
    let variant = &app.views().compare.runs[1].history;
    assert_eq!(
        variant.batch_loss.len(),
        app.lab().history().batch_loss.len()
    );
    // Same data and seed, different activation: the first losses differ.
    let (a, b) = (
        app.lab().history().batch_loss.points(false)[0].y,
        variant.batch_loss.points(false)[0].y,
    );
    assert!(a != b, "the variant trained the same network");
    // Remove the variant: one entry left.
    h.get_all_by_label("×").nth(1).unwrap().click();
    h.run_steps(2);
    assert_eq!(
        h.state().views().compare.legend(nnlab::ui::i18n::Lang::En),
        ["current run"]
    );
}

/// The default session's trainer, stepped headless to `step` with the learning rate changed to
/// `lr` after `edit_at` steps (what the app's run below does through its panels).
fn straight_run(step: u64, edit_at: u64, lr: f64) -> nnlab::train::Trainer {
    let s = nnlab::ui::model::default_session();
    let e = nnlab::ui::model::experiment(&s, None);
    let mut t = e.trainer().unwrap();
    while t.step < step {
        if t.step == edit_at {
            let mut o = s.optimizer.clone();
            o.lr = lr;
            t.set_optimizer(&o).unwrap();
        }
        t.step();
    }
    if t.step == edit_at {
        let mut o = s.optimizer.clone();
        o.lr = lr;
        t.set_optimizer(&o).unwrap();
    }
    t
}

/// 100 steps, the learning rate lowered live to 0.003, 200 more.
fn train_with_edit(h: &mut Harness<'static, NnlabApp>) {
    train(h, 100);
    {
        let mut o = h.state().lab().session().optimizer.clone();
        o.lr = 0.003;
        h.state_mut()
            .send(nnlab::ui::command::Command::SetOptimizer(Box::new(o)));
    }
    assert!(
        settle(h, |a| a.lab().edits().len() == 1),
        "the edit was not recorded"
    );
    train(h, 200);
}

fn theta(h: &Harness<'static, NnlabApp>) -> Vec<f64> {
    h.state().lab().snapshot().unwrap().theta.clone()
}

#[test]
fn save_writes_a_v2_file_with_the_whole_run() {
    let state = temp_dir("save");
    let mut h = app_in(&state, None);
    train_with_edit(&mut h);
    let file = state.join("run.json");
    h.state_mut()
        .send(nnlab::ui::command::Command::SaveTo(file.clone()));
    assert!(settle(&mut h, |a| a.files().path() == Some(file.as_path())));
    assert!(!h.state().unsaved(), "still unsaved after Save");
    let loaded = nnlab::session::load(&file).unwrap();
    let s = &loaded.session;
    assert_eq!(s.nnlab, 2);
    // Every step recorded, as many as the app plotted.
    assert_eq!(s.history.len(), 300);
    assert_eq!(h.state().lab().history().batch_loss.len(), 300);
    let st = s.state.as_ref().expect("a state");
    assert_eq!(st.step, 300);
    assert_eq!(st.theta, theta(&h));
    assert_eq!(s.edits.len(), 1);
    assert_eq!(s.edits[0].step, 100);
    // The spec is the one at step 0; the edit carries the new rate.
    assert_eq!(s.optimizer.lr, 0.01);
    assert!(s.checkpoints.len() > 10 && s.checkpoints[0].step == 0);
    // θ equals a headless run with the same edit, bit for bit.
    assert_eq!(straight_run(300, 100, 0.003).theta, st.theta);
    // And the recording verifies.
    let report = nnlab::session::replay::verify(&loaded).unwrap();
    assert!(report.mismatch.is_none(), "{:?}", report.mismatch);

    // The file is a recent file of the next start too, and in the Open dialog's list.
    let recent = state.join("recent.json");
    assert!(settle(&mut h, |_| recent.exists()));
    drop(h);
    let mut h = app_in(&state, None);
    let abs = std::path::absolute(&file).unwrap();
    assert!(settle(&mut h, |a| a.files().recent().first() == Some(&abs)));
    h.state_mut().send(nnlab::ui::command::Command::ShowOpen);
    // The command is applied after the next frame; the window then sizes itself for a frame.
    h.run_steps(3);
    assert!(h.query_by_label("Recent files").is_some());
    assert!(h.query_all_by_label("run.json").count() > 0);
}

/// The recovery files in a state folder (one per app that autosaved and did not exit cleanly).
fn recovery_files(state: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(state)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| {
        let n = p.file_name().unwrap().to_string_lossy();
        n.starts_with("recovery-") && n.ends_with(".json")
    });
    v
}

/// Train in an app at `state` until its recovery file holds a paused state; drop the app
/// without a clean exit (as a kill would). Returns the file, the step and θ.
fn killed_run(state: &Path) -> (PathBuf, u64, Vec<f64>) {
    let mut h = app_in(state, None);
    h.get_by_label("▶ Play").click();
    assert!(
        settle(&mut h, |_| recovery_files(state).len() == 1),
        "no recovery file while training"
    );
    let recovery = recovery_files(state).remove(0);
    h.get_by_label("‖ Pause").click();
    assert!(settle(&mut h, |a| !a.lab().status().running));
    let step = h.state().lab().status().step;
    assert!(settle(&mut h, |a| a
        .lab()
        .snapshot()
        .as_ref()
        .is_some_and(|s| s.step == step)));
    assert!(
        settle(&mut h, |_| nnlab::session::load(&recovery)
            .is_ok_and(|l| l.session.state.is_some_and(|s| s.step == step))),
        "the recovery file never reached step {step}"
    );
    (recovery, step, theta(&h))
}

#[test]
fn starting_with_a_file_after_a_crash_still_offers_the_restore_and_keeps_the_file() {
    let state = temp_dir("recovery-file");
    let (recovery, step, th) = killed_run(&state);
    let before = std::fs::read(&recovery).unwrap();
    // Start again with a file (as `nnlab sessions/xor.json` or a file manager would).
    let xor = Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/xor.json");
    let mut h = app_in(&state, Some(xor));
    assert!(
        settle(&mut h, |a| !a.files().recovery().is_empty()
            && a.lab().session().name == "xor"),
        "no restore offered after opening a file"
    );
    assert!(h.query_by_label("Restore unsaved work?").is_some());
    // Nothing trains until the choice is made (a run now would be thrown away by a restore
    // or replace what the choice is about), and the crashed run's file stays as it was.
    h.state_mut().send(nnlab::ui::command::Command::Step(400));
    h.state_mut().send(nnlab::ui::command::Command::Play);
    h.run_steps(20);
    assert_eq!(
        h.state().lab().status().step,
        0,
        "trained before the choice"
    );
    assert!(!h.state().lab().status().running);
    assert_eq!(
        std::fs::read(&recovery).unwrap(),
        before,
        "the recovery was overwritten"
    );
    h.get_by_label("Restore").click();
    assert!(
        settle(&mut h, |a| a.lab().status().step == step
            && a.lab().snapshot().is_some_and(|s| s.step == step)),
        "the restored run is not at step {step}"
    );
    assert_eq!(theta(&h), th);
}

#[test]
fn a_killed_run_is_offered_for_restore() {
    let state = temp_dir("recovery");
    let (recovery, step, th) = killed_run(&state);
    assert!(recovery.exists());
    let mut h = app_in(&state, None);
    assert!(
        settle(&mut h, |a| !a.files().recovery().is_empty()),
        "no restore offered"
    );
    assert!(h.query_by_label("Restore unsaved work?").is_some());
    h.get_by_label("Restore").click();
    assert!(
        settle(&mut h, |a| a.lab().status().step == step
            && a.lab().snapshot().is_some_and(|s| s.step == step)),
        "the restored run is not at step {step}"
    );
    assert_eq!(theta(&h), th);
    assert!(h.state().unsaved(), "restored work counts as unsaved");
    assert!(h.state().files().recovery().is_empty());
}

#[test]
fn the_timeline_shows_a_past_step_and_forks_from_it() {
    let state = temp_dir("timeline");
    let mut h = app_in(&state, None);
    train_with_edit(&mut h);
    let live = theta(&h);
    h.run_steps(2);
    assert!(h.query_by_label("Timeline").is_some());
    h.state_mut().send(nnlab::ui::command::Command::Seek(137));
    assert!(
        settle(&mut h, |a| a.views().timeline.shown == Some(137)),
        "step 137 was never shown"
    );
    let shown = theta(&h);
    let source = h.state().views().timeline.source.clone().unwrap();
    let at = nnlab::session::replay::state_at(&source, 137).unwrap();
    assert_eq!(shown, at.theta);
    // Independent of the replay code: a straight headless run with the same edit.
    assert_eq!(shown, straight_run(137, 100, 0.003).theta);
    assert_ne!(shown, live);
    assert!(h.query_by_label("Back to live").is_some());

    // Fork from here: a new unsaved experiment at step 137.
    h.get_by_label("Fork from here").click();
    assert!(
        settle(&mut h, |a| a.lab().status().step == 137
            && a.views().timeline.step.is_none()
            && a.lab().snapshot().is_some_and(|s| s.step == 137)),
        "the fork did not become the experiment"
    );
    assert_eq!(theta(&h), at.theta);
    assert!(h.state().files().path().is_none() && h.state().unsaved());
    // Its recording: the state at 137 and the history up to it.
    let file = state.join("fork.json");
    h.state_mut()
        .send(nnlab::ui::command::Command::SaveTo(file.clone()));
    assert!(settle(&mut h, |a| a.files().path() == Some(file.as_path())));
    let forked = nnlab::session::load(&file).unwrap().session;
    assert_eq!(forked.state.as_ref(), Some(&at.export_state()));
    assert_eq!(forked.history.len(), 137);
    assert_eq!(forked.edits.len(), 1);

    // Back to live on the original is covered by Play: train on from the fork.
    train(&mut h, 10);
    assert_eq!(theta(&h), straight_run(147, 100, 0.003).theta);
}

#[test]
fn a_saved_run_with_its_spectra_compares_from_its_recording() {
    let state = temp_dir("compare-file");
    let mut h = app_in(&state, None);
    h.state_mut()
        .send(nnlab::ui::command::Command::CurvatureOn(true));
    train(&mut h, 120);
    assert!(
        settle(&mut h, |a| a.views().curvature.last.is_some()),
        "no curvature analysis"
    );
    let lambda = h
        .state()
        .views()
        .curvature
        .last
        .as_ref()
        .unwrap()
        .lambda_max;
    let file = state.join("with-spectra.json");
    h.state_mut()
        .send(nnlab::ui::command::Command::SaveTo(file.clone()));
    assert!(settle(&mut h, |a| a.files().path() == Some(file.as_path())));
    let saved = nnlab::session::load(&file).unwrap().session;
    let spectra: Vec<_> = saved
        .analyses
        .iter()
        .filter_map(|a| a.as_spectrum())
        .collect();
    assert!(!spectra.is_empty(), "no stored spectrum");

    // A second app compares the file: its recorded curves, not a re-run.
    let mut h2 = app_in(&state, None);
    h2.state_mut()
        .send(nnlab::ui::command::Command::CompareFile(file.clone()));
    assert!(settle(&mut h2, |a| a.views().compare.runs.len() == 1));
    let run = &h2.state().views().compare.runs[0];
    assert!(matches!(
        run.source,
        nnlab::ui::panels::compare::Source::Recorded
    ));
    assert_eq!(run.name, "with-spectra.json");
    assert_eq!(run.history.batch_loss.len(), 120);
    let recorded: Vec<f64> = (0..120).map(|i| saved.history.batch_loss[i]).collect();
    let shown: Vec<f64> = run
        .history
        .batch_loss
        .points(false)
        .iter()
        .map(|p| p.y)
        .collect();
    assert_eq!(shown, recorded);
    // λ_max of the analysis the app showed is among the compared points.
    assert!(
        run.lambda_max.points(false).iter().any(|p| p.y == lambda),
        "λ_max {lambda} not in the comparison"
    );
}

#[test]
fn the_checkpoint_budget_set_in_the_app_bounds_the_saved_checkpoints() {
    let state = temp_dir("budget");
    // The default budget first: how many checkpoints 300 steps keep.
    let mut h = app_in(&state, None);
    train(&mut h, 300);
    let file = state.join("default_budget.json");
    h.state_mut()
        .send(nnlab::ui::command::Command::SaveTo(file.clone()));
    assert!(settle(&mut h, |a| a.files().path() == Some(file.as_path())));
    let full = nnlab::session::load(&file).unwrap().session;
    let one = nnlab::session::recorder::state_bytes(full.checkpoints.last().unwrap());
    drop(h);

    // A budget of three checkpoints, set before training.
    let budget = 3 * one;
    let mut h = app_in(&state, None);
    h.state_mut()
        .send(nnlab::ui::command::Command::SetCheckpointBudget(budget));
    h.run_steps(2);
    assert_eq!(h.state().lab().checkpoint_budget(), budget);
    train(&mut h, 300);
    let file = state.join("small_budget.json");
    h.state_mut()
        .send(nnlab::ui::command::Command::SaveTo(file.clone()));
    assert!(settle(&mut h, |a| a.files().path() == Some(file.as_path())));
    let small = nnlab::session::load(&file).unwrap().session;
    assert_eq!(small.checkpoint_budget, Some(budget));
    let bytes: u64 = small
        .checkpoints
        .iter()
        .map(nnlab::session::recorder::state_bytes)
        .sum();
    assert!(bytes <= budget, "{bytes} > {budget}");
    assert!(
        small.checkpoints.len() < full.checkpoints.len(),
        "{} vs {}",
        small.checkpoints.len(),
        full.checkpoints.len()
    );
    assert_eq!(small.checkpoints[0].step, 0);
    // The thinned recording still replays bit for bit.
    let loaded = nnlab::session::load(&file).unwrap();
    let report = nnlab::session::replay::verify(&loaded).unwrap();
    assert!(report.mismatch.is_none(), "{:?}", report.mismatch);
}

#[test]
fn an_unreadable_recovery_file_is_reported_and_kept() {
    let state = temp_dir("recovery-broken");
    // Left by a process that is gone (no such process id), cut short.
    let broken = state.join("recovery-999999999-1.json");
    std::fs::write(&broken, "{\"nnlab\": 2, \"name\": \"cut").unwrap();
    let mut h = app_in(&state, None);
    assert!(
        settle(&mut h, |a| a
            .lab()
            .error()
            .as_ref()
            .is_some_and(|e| e.contains("could not be restored"))),
        "the broken recovery file was dropped silently"
    );
    assert!(h.state().files().recovery().is_empty());
    assert!(broken.exists(), "the recovery file was deleted");
}

/// The path typed in the Save-as window is where the session goes: the window edits a copy of
/// the files' typed path and sends every change back as a command, and Enter saves to it.
#[test]
fn a_path_typed_in_save_as_is_where_the_session_goes() {
    let state = temp_dir("typed");
    let mut h = app_in(&state, None);
    h.state_mut().send(nnlab::ui::command::Command::ShowSaveAs);
    // Applied after this frame; the window sizes itself in the next.
    h.run_steps(3);
    let is_path = |n: &egui_kittest::kittest::AccessKitNode<'_>| {
        n.role() == egui::accesskit::Role::TextInput && n.value().as_deref() == Some("session.json")
    };
    h.get_by(is_path).focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    let file = state.join("typed.json");
    h.get_by(is_path).type_text(&file.display().to_string());
    h.run_steps(2);
    assert_eq!(
        h.state().files().dialogs().path,
        file.display().to_string(),
        "the typed path did not reach the files"
    );
    h.key_press(egui::Key::Enter);
    assert!(settle(&mut h, |a| a.files().path() == Some(file.as_path())));
    assert!(file.exists(), "nothing was written at the typed path");
}
