//! Drawing the data on the decision map, and the Confusion tile, driven through egui_kittest:
//! a click adds one point where it lands (also when press and release come in one frame), a
//! drag moves it, a right-click deletes it, undo and redo walk the data states, and the drawn
//! session saves, loads and replays bit-identically. The confusion matrices are checked against
//! counts made by hand on a network whose classes are known in closed form.

mod common_ui;

use std::path::PathBuf;

use common_ui::{drawn_images, drawn_texts, harness, open_tab, settle};
use eframe::egui::{self, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nnlab::data::spec::DataSource;
use nnlab::runtime::worker::OutputMap;
use nnlab::ui::NnlabApp;
use nnlab::ui::command::Command;

type H = Harness<'static, NnlabApp>;

/// The decision map's box in data units, [x0, x1, y0, y1].
fn map_box(app: &NnlabApp) -> [f64; 4] {
    match &app.lab().snapshot().expect("a snapshot").output {
        OutputMap::Grid {
            x_range, y_range, ..
        } => [x_range.0, x_range.1, y_range.0, y_range.1],
        _ => panic!("no decision map"),
    }
}

/// Run until the worker has built the edited data and sent a picture of it.
fn built(h: &mut H) {
    assert!(
        settle(h, |a| a.lab().applied().data == a.lab().session().data
            && a.lab().snapshot().is_some()),
        "the edited data was never built"
    );
    h.run_steps(3);
}

/// The screen position of data point `p`: the map texture (the largest image drawn) spans the
/// snapshot's box, so this is worked out without the plot's own transform.
fn screen(h: &H, p: [f64; 2]) -> (Pos2, f64) {
    let rect = drawn_images(h)
        .into_iter()
        .max_by(|a, b| a.area().total_cmp(&b.area()))
        .expect("the map is drawn");
    let [x0, x1, y0, y1] = map_box(h.state());
    let pos = Pos2::new(
        rect.left() + ((p[0] - x0) / (x1 - x0)) as f32 * rect.width(),
        rect.bottom() - ((p[1] - y0) / (y1 - y0)) as f32 * rect.height(),
    );
    // One screen point in data units.
    (pos, (x1 - x0) / rect.width() as f64)
}

/// A data point a fraction (fx, fy) of the way across the map's box.
fn at(h: &H, fx: f64, fy: f64) -> [f64; 2] {
    let [x0, x1, y0, y1] = map_box(h.state());
    [x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)]
}

fn rows(app: &NnlabApp) -> &Vec<Vec<f64>> {
    app.lab().session().data.x.as_ref().expect("inline rows")
}

fn button(h: &H, p: Pos2, button: egui::PointerButton, pressed: bool) {
    h.event(egui::Event::PointerButton {
        pos: p,
        button,
        pressed,
        modifiers: egui::Modifiers::NONE,
    });
}

/// Press and release in the same frame, as xdotool does.
fn click_one_frame(h: &mut H, p: Pos2, b: egui::PointerButton) {
    h.hover_at(p);
    button(h, p, b, true);
    button(h, p, b, false);
    h.run_steps(2);
}

fn close(a: &[f64], b: [f64; 2], tol: f64) -> bool {
    (a[0] - b[0]).abs() <= tol && (a[1] - b[1]).abs() <= tol
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nnlab-draw-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn click_adds_drag_moves_right_click_deletes_undo_restores_and_the_session_replays() {
    let mut h = harness(None);
    built(&mut h);
    let (train, test) = (
        h.state().lab().train().clone(),
        h.state().lab().test().clone(),
    );
    let n = train.rows() + test.rows();
    h.get_by_label("Draw").click();
    h.run_steps(3);

    // A click (press and release in one frame) adds exactly one point, where it landed, of the
    // selected class (class 0).
    let p0 = at(&h, 0.3, 0.7);
    let (pos, unit) = screen(&h, p0);
    click_one_frame(&mut h, pos, egui::PointerButton::Primary);
    built(&mut h);
    let app = h.state();
    let data = &app.lab().session().data;
    assert_eq!(data.source, DataSource::Inline);
    assert_eq!(rows(app).len(), n + 1, "one click, one point");
    let added = rows(app)[n].clone();
    assert!(close(&added, p0, 1.5 * unit), "{added:?} vs {p0:?}");
    assert_eq!(data.y.as_ref().unwrap()[n], 0.0);
    // Nothing the map showed is lost: the training rows, then the test rows, named as such.
    for i in 0..train.rows() {
        assert_eq!(rows(app)[i], train.row(i));
    }
    for j in 0..test.rows() {
        assert_eq!(rows(app)[train.rows() + j], test.row(j));
    }
    let held = data.test_rows.as_ref().unwrap();
    assert!(held[..test.rows()].iter().copied().eq(train.rows()..n));
    // The worker trains on the copy: the rows it reports are the ones drawn.
    assert_eq!(
        app.lab().train().rows() + app.lab().test().rows(),
        n + 1,
        "the rebuilt sets"
    );

    // Drag the new point (over several frames) somewhere else: it moves, nothing is added.
    let p1 = at(&h, 0.6, 0.4);
    let (from, _) = screen(&h, [added[0], added[1]]);
    let (to, unit) = screen(&h, p1);
    h.hover_at(from);
    h.run_steps(1);
    button(&h, from, egui::PointerButton::Primary, true);
    h.run_steps(1);
    for k in 1..=5 {
        h.hover_at(from + (to - from) * (k as f32 / 5.0));
        h.run_steps(1);
    }
    button(&h, to, egui::PointerButton::Primary, false);
    h.run_steps(2);
    built(&mut h);
    let moved = rows(h.state())[n].clone();
    assert_eq!(rows(h.state()).len(), n + 1);
    assert!(close(&moved, p1, 1.5 * unit), "{moved:?} vs {p1:?}");

    // Right-click on it deletes it: the rows are the copy again.
    let (on, _) = screen(&h, [moved[0], moved[1]]);
    click_one_frame(&mut h, on, egui::PointerButton::Secondary);
    built(&mut h);
    assert_eq!(rows(h.state()).len(), n);
    assert!(!rows(h.state()).contains(&moved));

    // Undo: back where it was moved to, then where it was added, then the generated spiral.
    h.get_by_label("Undo").click();
    h.run_steps(2);
    built(&mut h);
    assert_eq!(rows(h.state())[n], moved);
    h.get_by_label("Undo").click();
    h.run_steps(2);
    built(&mut h);
    assert_eq!(rows(h.state())[n], added);
    // Ctrl+Z with the pointer on the tile undoes too.
    h.hover_at(pos);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    built(&mut h);
    assert_eq!(h.state().lab().session().data.source, DataSource::Spiral);
    assert_eq!(h.state().lab().train(), &train);
    assert_eq!(h.state().lab().test(), &test);
    // Redo (Ctrl+Shift+Z) brings the drawn point back.
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    h.run_steps(2);
    built(&mut h);
    assert_eq!(rows(h.state())[n], added);

    // Train a little, save, load: the same rows, sides and targets; the file replays
    // bit-identically.
    h.state_mut().send(Command::Step(40));
    assert!(settle(&mut h, |a| a.lab().status().step >= 40));
    let dir = scratch("save");
    let path = dir.join("drawn.json");
    h.state_mut().send(Command::SaveTo(path.clone()));
    assert!(settle(&mut h, |_| path.exists()), "never saved");
    h.run_steps(4);
    let loaded = nnlab::session::load(&path).unwrap();
    let edited = &h.state().lab().session().data;
    assert_eq!(loaded.session.data.x, edited.x);
    assert_eq!(loaded.session.data.y, edited.y);
    assert_eq!(loaded.session.data.test_rows, edited.test_rows);
    assert_eq!(&loaded.train, h.state().lab().train());
    assert_eq!(&loaded.test, h.state().lab().test());
    let report = nnlab::session::verify(&loaded).unwrap();
    assert_eq!(report.mismatch, None);
    assert!(report.steps >= 40, "{report:?}");
}

#[test]
fn clear_leaves_no_points_and_refuses_to_train_until_one_is_drawn() {
    let mut h = harness(None);
    built(&mut h);
    h.get_by_label("Draw").click();
    h.run_steps(3);
    h.get_by_label("Clear").click();
    h.run_steps(3);
    assert_eq!(rows(h.state()).len(), 0);
    assert!(
        drawn_texts(&h)
            .iter()
            .any(|(t, _)| t.contains("click on the map to add one")),
        "the tile does not say how to go on"
    );
    h.state_mut().send(Command::Play);
    h.run_steps(3);
    assert!(!h.state().lab().status().running);
    let notice = h.state().lab().notice().map(|n| n.0.clone());
    assert!(notice.is_some_and(|n| n.contains("no points")));
    // A click draws the first point, and the data trains again.
    let p = at(&h, 0.5, 0.5);
    let (pos, _) = screen(&h, p);
    click_one_frame(&mut h, pos, egui::PointerButton::Primary);
    built(&mut h);
    assert_eq!(rows(h.state()).len(), 1);
    assert_eq!(h.state().lab().train().rows(), 1);
}

#[test]
fn drawing_is_refused_in_one_line_for_one_input() {
    let sawtooth = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sessions/sawtooth_regression.json"
    ));
    let mut h = harness(Some(sawtooth));
    built(&mut h);
    h.get_by_label("Draw").click();
    h.run_steps(3);
    assert!(
        drawn_texts(&h)
            .iter()
            .any(|(t, _)| t.contains("Drawing needs data with 2 inputs") && t.ends_with(" 1.")),
        "no refusal"
    );
    // The Confusion tile says why it does not apply to regression.
    open_tab(&mut h, "Confusion matrix");
    assert!(
        drawn_texts(&h)
            .iter()
            .any(|(t, _)| t.starts_with("Regression: a confusion matrix counts classes")),
        "the Confusion tile does not say why it is empty"
    );
}

/// A network with no hidden layer, `sigmoid(x1)`: it predicts class 1 exactly where x1 > 0, so
/// its confusion matrix can be counted by hand.
#[test]
fn the_confusion_matrices_match_counts_made_by_hand() {
    use nnlab::data::spec::DataSpec;
    use nnlab::data::{generate, split};
    use nnlab::net::Activation;
    use nnlab::net::spec::{LayerSpec, Loss, NetworkSpec};
    use nnlab::ui::panels::confusion::compute;

    let spec = DataSpec::generator(DataSource::Xor, 300, 0.1);
    let (train, test) = split(&generate(&spec, 5).unwrap(), 0.3, 5);
    let mut s = nnlab::ui::model::default_session();
    s.network = NetworkSpec::new(2, vec![LayerSpec::new(1, Activation::Sigmoid)]);
    s.loss = Loss::Bce;
    let theta = vec![1.0, 0.0, 0.0]; // w = (1, 0), b = 0
    let (a, b) = compute(&s.trainer_config(), theta, &train, &test)
        .unwrap()
        .expect("classification");
    let b = b.expect("a test set");
    for (m, set) in [(&a, &train), (&b, &test)] {
        let mut want = [[0u64; 2]; 2];
        for i in 0..set.rows() {
            let predicted = usize::from(set.row(i)[0] > 0.0);
            want[set.y[i] as usize][predicted] += 1;
        }
        assert_eq!(m.rows(), vec![want[0].to_vec(), want[1].to_vec()]);
        // XOR is not separable by x1 alone: both kinds of mistake occur.
        assert!(want[0][1] > 0 && want[1][0] > 0, "{want:?}");
    }
    // Regression: no matrix.
    let sin = DataSpec::generator(DataSource::Sin, 50, 0.0);
    let (rt, re) = split(&generate(&sin, 1).unwrap(), 0.2, 1);
    let mut r = nnlab::ui::model::default_session();
    r.network = NetworkSpec::new(1, vec![LayerSpec::new(1, Activation::Identity)]);
    r.loss = Loss::Mse;
    assert_eq!(
        compute(&r.trainer_config(), vec![0.5, 0.0], &rt, &re).unwrap(),
        None
    );
}

#[test]
fn the_confusion_tile_shows_the_live_network_and_exports_csv() {
    let mut h = harness(None);
    built(&mut h);
    h.state_mut().send(Command::Step(30));
    assert!(settle(&mut h, |a| a.lab().status().step >= 30));
    open_tab(&mut h, "Confusion matrix");
    assert!(
        settle(&mut h, |a| a
            .views()
            .confusion
            .last
            .as_ref()
            .is_some_and(|c| c.step >= 30)),
        "no matrices"
    );
    let app = h.state();
    let c = app.views().confusion.last.clone().unwrap();
    let (train, test) = (app.lab().train(), app.lab().test());
    assert_eq!(c.train.total() as usize, train.rows());
    assert_eq!(c.test.as_ref().unwrap().total() as usize, test.rows());
    // Each row of the matrix holds exactly that class's rows.
    for t in 0..c.train.classes {
        let count = train.y.iter().filter(|&&y| y as usize == t).count() as u64;
        assert_eq!(
            (0..c.train.classes).map(|p| c.train.get(t, p)).sum::<u64>(),
            count
        );
    }
    let csv = app.views().confusion.csv().unwrap();
    assert!(csv.contains("set,true_class,predicted_class,count"));
    assert_eq!(csv.lines().filter(|l| l.starts_with("train,")).count(), 4);
    let accuracy = format!("{:.1}%", 100.0 * c.train.accuracy());
    assert!(
        drawn_texts(&h).iter().any(|(t, _)| t.contains(&accuracy)),
        "the tile does not show the accuracy {accuracy}"
    );
}
