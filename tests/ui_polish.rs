//! The app's finishing touches, driven through egui_kittest: the space bar, pan/zoom of the
//! network diagram, the first layer's zero sets over the input plane, accessible names; and the
//! plots' per-pixel decimation.

mod common_ui;

use common_ui::{harness, settle};
use eframe::egui::{self, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nnlab::analysis::hyperplanes as contour;
use nnlab::net::spec::{Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};
use nnlab::net::{Activation, Network};
use nnlab::ui::NnlabApp;
use nnlab::ui::panels::designer::EdgeSel;
use nnlab::ui::panels::plots::decimate;

fn click(h: &mut Harness<'static, NnlabApp>, p: Pos2) {
    h.hover_at(p);
    h.run_steps(1);
    h.drag_at(p);
    h.run_steps(1);
    h.event(egui::Event::PointerButton {
        pos: p,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(2);
}

/// The diagram is drawn and stays where it is from one frame to the next (nothing around it
/// changes its size: a click aimed at a node lands on it).
fn still_layout(h: &mut Harness<'static, NnlabApp>) {
    h.run_steps(1);
    let before = h.state().views().designer.diagram.nodes.clone();
    h.run_steps(1);
    assert!(!before.is_empty(), "the diagram is not drawn");
    assert_eq!(
        h.state().views().designer.diagram.nodes,
        before,
        "the diagram moved"
    );
}

fn dist_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t = ((p - a).dot(ab) / ab.length_sq().max(1e-6)).clamp(0.0, 1.0);
    (a + ab * t - p).length()
}

#[test]
fn space_toggles_play_and_pause_unless_typing() {
    let mut h = harness(None);
    assert!(!h.state().lab().status().running);
    h.key_press(egui::Key::Space);
    assert!(
        settle(&mut h, |a| a.lab().status().running
            && a.lab().status().step > 0),
        "Space did not start training"
    );
    h.key_press(egui::Key::Space);
    assert!(
        settle(&mut h, |a| !a.lab().status().running),
        "Space did not pause"
    );
    // A focused checkbox does not swallow Space, and is not toggled by it.
    h.get_by_label("Residual connections").focus();
    h.run_steps(1);
    h.key_press(egui::Key::Space);
    assert!(
        settle(&mut h, |a| a.lab().status().running),
        "Space with a focused checkbox did not start training"
    );
    assert!(!h.state().lab().session().network.residual);
    h.key_press(egui::Key::Space);
    assert!(settle(&mut h, |a| !a.lab().status().running));
    // While a text field has focus, Space is typed, not a command.
    let is_lr = |n: &egui_kittest::kittest::AccessKitNode<'_>| {
        n.role() == egui::accesskit::Role::TextInput && n.value().as_deref() == Some("0.01")
    };
    h.get_by(is_lr).focus();
    h.run_steps(1);
    let step = h.state().lab().status().step;
    h.key_press(egui::Key::Space);
    h.run_steps(5);
    std::thread::sleep(std::time::Duration::from_millis(200));
    h.run_steps(5);
    assert!(!h.state().lab().status().running);
    assert_eq!(h.state().lab().status().step, step);
}

#[test]
fn zoomed_and_panned_diagram_still_selects_edges_and_hovers_neurons() {
    let mut h = harness(None);
    still_layout(&mut h);
    let before = h.state().views().designer.diagram.clone();
    assert_eq!(before.zoom, 1.0);
    assert!(
        before.edges.len() >= 2 * 8 + 8 * 8 + 8,
        "edges not recorded"
    );
    // The diagram's area: the box around everything it drew.
    let area = before
        .nodes
        .iter()
        .fold(egui::Rect::NOTHING, |r, (_, n)| r.union(*n));
    let at = area.center();
    // Pinch-zoom ×2 about `at`: every point s must move to at + 2 (s − at).
    h.hover_at(at);
    h.run_steps(1);
    h.event(egui::Event::Zoom(2.0));
    h.run_steps(2);
    assert!((h.state().views().designer.diagram.zoom - 2.0).abs() < 1e-6);
    let moved = |p: Pos2| at + (p - at) * 2.0;
    for ((key, r), (key2, r2)) in before
        .nodes
        .iter()
        .zip(&h.state().views().designer.diagram.nodes)
    {
        assert_eq!(key, key2);
        assert!(
            (moved(r.center()) - r2.center()).length() < 0.01,
            "{key:?}: {:?} -> {:?}, expected {:?}; zoom {} pan {:?}",
            r.center(),
            r2.center(),
            moved(r.center()),
            h.state().views().designer.diagram.zoom,
            h.state().views().designer.diagram.pan
        );
    }
    // A point on an edge, on screen, off the neurons, and nearer to it than to any other edge
    // by a clear margin: click it.
    let expected: Vec<(EdgeSel, Pos2, Pos2)> = before
        .edges
        .iter()
        .map(|(e, [a, b])| (*e, moved(*a), moved(*b)))
        .collect();
    let nodes = h.state().views().designer.diagram.nodes.clone();
    let target = expected
        .iter()
        .flat_map(|(e, a, b)| (4..=16).map(move |k| (*e, a.lerp(*b, k as f32 / 20.0))))
        .find(|(e, m)| {
            area.shrink(20.0).contains(*m)
                && !nodes.iter().any(|(_, r)| r.expand(3.0).contains(*m))
                && expected
                    .iter()
                    .filter(|(o, ..)| o != e)
                    .all(|(_, oa, ob)| dist_to_segment(*m, *oa, *ob) > 2.5)
        })
        .expect("an edge clear of the others");
    click(&mut h, target.1);
    assert_eq!(h.state().views().designer.selected_edge, Some(target.0));
    // Hover a hidden neuron at its zoomed place: it is the one enlarged in the output view.
    let ((col, unit), r) = before
        .nodes
        .iter()
        .copied()
        .find(|((c, _), r)| *c == 1 && area.shrink(20.0).contains(moved(r.center())))
        .expect("a hidden neuron on screen");
    h.hover_at(moved(r.center()));
    h.run_steps(2);
    assert_eq!(h.state().views().designer.hovered_neuron, Some((col, unit)));
    // Drag the background: everything follows the pointer.
    let zoomed = h.state().views().designer.diagram.clone();
    let empty = area.left_top() + egui::vec2(4.0, 4.0);
    let delta = egui::vec2(60.0, 30.0);
    h.hover_at(empty);
    h.run_steps(1);
    h.drag_at(empty);
    h.run_steps(1);
    for k in 1..=6 {
        h.hover_at(empty + delta * (k as f32 / 6.0));
        h.run_steps(1);
    }
    h.drop_at(empty + delta);
    h.run_steps(2);
    let panned = h.state().views().designer.diagram.clone();
    let shift = panned.nodes[0].1.center() - zoomed.nodes[0].1.center();
    assert!(shift.length() > 20.0, "drag did not pan: {shift:?}");
    assert!((shift - (panned.pan - zoomed.pan)).length() < 0.01);
    // Fit: back to the whole network as first drawn (with the weight editor closed again).
    h.get_by_label("Close").click();
    h.run_steps(2);
    h.get_by_label("Fit").click();
    h.run_steps(2);
    let fitted = h.state().views().designer.diagram.clone();
    assert_eq!(fitted.zoom, 1.0);
    for ((_, r), (_, r2)) in before.nodes.iter().zip(&fitted.nodes) {
        assert!((r.center() - r2.center()).length() < 0.01);
    }
}

#[test]
fn wheel_zooms_the_diagram() {
    let mut h = harness(None);
    still_layout(&mut h);
    let area = h
        .state()
        .views()
        .designer
        .diagram
        .nodes
        .iter()
        .fold(egui::Rect::NOTHING, |r, (_, n)| r.union(*n));
    h.hover_at(area.center());
    h.run_steps(1);
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, 120.0),
        modifiers: egui::Modifiers::NONE,
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
    });
    h.run_steps(20);
    assert!(
        h.state().views().designer.diagram.zoom > 1.2,
        "{}",
        h.state().views().designer.diagram.zoom
    );
}

/// A 2-D network with the given features and a first layer of `units` tanh units.
fn plane_net(features: &[&str], units: usize, batch_norm: bool) -> Network {
    let mut first = LayerSpec::new(units, Activation::Tanh);
    first.batch_norm = batch_norm;
    let spec = NetworkSpec {
        inputs: 2,
        layers: vec![first, LayerSpec::new(1, Activation::Sigmoid)],
        init: Init::XavierNormal,
        init_scale: 0.1,
        features: Some(features.iter().map(|s| s.to_string()).collect()),
        residual: false,
        weight_constraint: WeightConstraint::None,
    };
    Network::build(&spec, Loss::Bce).expect("a valid network")
}

fn length(line: &[[f64; 2]]) -> f64 {
    line.windows(2)
        .map(|w| ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt())
        .sum()
}

#[test]
fn first_layer_zero_sets_with_nonlinear_features() {
    // φ = (x1², x2², x1x2, sin x1).
    let net = plane_net(&["x1^2", "x2^2", "x1*x2", "sin(x1)"], 3, false);
    let l = &net.layers[0];
    let mut theta = vec![0.0; net.n_params];
    // Unit 0: x1² + x2² − 1 (the unit circle). Unit 1: x1x2 − 0.5. Unit 2: sin x1 − 0.3 x2².
    let w = [
        [1.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, -0.3, 0.0, 1.0],
    ];
    let b = [-1.0, -0.5, 0.0];
    for j in 0..3 {
        theta[l.w + j * 4..l.w + j * 4 + 4].copy_from_slice(&w[j]);
        theta[l.b + j] = b[j];
    }
    let sets = contour::first_layer_zero_sets(&net, &theta, None, (-2.0, 2.0), (-2.0, 2.0), 64, 16);
    assert_eq!(sets.len(), 3);
    for (j, lines) in sets.iter().enumerate() {
        let n: usize = lines.iter().map(Vec::len).sum();
        assert!(n > 40, "unit {j}: only {n} points");
        for p in lines.iter().flatten() {
            let (x1, x2) = (p[0], p[1]);
            let z = w[j][0] * x1 * x1
                + w[j][1] * x2 * x2
                + w[j][2] * x1 * x2
                + w[j][3] * x1.sin()
                + b[j];
            assert!(z.abs() < 1e-9, "unit {j}: z = {z} at {p:?}");
        }
    }
    // The circle is one closed curve of length 2π (chords of a fine grid: within 0.5 %).
    assert_eq!(sets[0].len(), 1);
    let circle = &sets[0][0];
    assert_eq!(circle.first(), circle.last());
    let len = length(circle);
    assert!(
        (len - std::f64::consts::TAU).abs() < 0.005 * std::f64::consts::TAU,
        "{len}"
    );
    // x1x2 = 0.5 has two branches in the box.
    assert_eq!(sets[1].len(), 2);
}

#[test]
fn first_layer_zero_sets_with_batch_norm() {
    let net = plane_net(&["x1", "x2"], 2, true);
    let l = &net.layers[0];
    let (g, be) = (l.gamma.unwrap(), l.beta.unwrap());
    let mut theta = vec![0.0; net.n_params];
    // z0 = x1 + 2 x2 + 0.5, z1 = x1 − x2.
    theta[l.w..l.w + 4].copy_from_slice(&[1.0, 2.0, 1.0, -1.0]);
    theta[l.b] = 0.5;
    theta[g] = 2.0;
    theta[g + 1] = -0.5;
    theta[be] = 0.7;
    theta[be + 1] = 0.2;
    // Four training rows; their z are known by hand.
    let x = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let z0 = [0.5, 1.5, 2.5, 3.5];
    let z1 = [0.0, 1.0, -1.0, 0.0];
    let mean_var = |z: &[f64; 4]| {
        let m = z.iter().sum::<f64>() / 4.0;
        (m, z.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 4.0)
    };
    let ((m0, v0), (m1, v1)) = (mean_var(&z0), mean_var(&z1));
    let bn = contour::first_layer_bn(&net, &theta, &x).expect("statistics");
    assert!((bn.0[0] - m0).abs() < 1e-12 && (bn.1[0] - v0).abs() < 1e-12);
    assert!((bn.0[1] - m1).abs() < 1e-12 && (bn.1[1] - v1).abs() < 1e-12);
    let sets =
        contour::first_layer_zero_sets(&net, &theta, Some(&bn), (-3.0, 3.0), (-3.0, 3.0), 64, 16);
    let eps = 1e-5;
    for p in sets[0].iter().flatten() {
        let z = p[0] + 2.0 * p[1] + 0.5;
        let u = 2.0 * (z - m0) / (v0 + eps).sqrt() + 0.7;
        assert!(u.abs() < 1e-9, "{u} at {p:?}");
    }
    for p in sets[1].iter().flatten() {
        let z = p[0] - p[1];
        let u = -0.5 * (z - m1) / (v1 + eps).sqrt() + 0.2;
        assert!(u.abs() < 1e-9, "{u} at {p:?}");
    }
    // Raw features: the zero sets are straight lines (every point on the line through the ends).
    for lines in &sets {
        assert_eq!(lines.len(), 1);
        let (a, b) = (lines[0][0], *lines[0].last().unwrap());
        assert!(length(&lines[0]) > 1.0);
        for p in &lines[0] {
            let cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
            assert!(cross.abs() < 1e-9);
        }
    }
}

#[test]
fn hyperplane_overlay_follows_nonlinear_features_in_the_app() {
    let mut h = harness(Some("sessions/spiral.json".into()));
    assert!(settle(&mut h, |a| a
        .lab()
        .applied()
        .network
        .features
        .as_ref()
        .is_some_and(|f| f.len() == 7)
        && a.lab().snapshot().is_some()));
    h.get_by_label("Hyperplanes").click();
    assert!(settle(&mut h, |a| !a
        .views()
        .output
        .textures
        .planes
        .is_empty()));
    let app = h.state();
    let net = app.lab().net().unwrap();
    let theta = &app.lab().snapshot().unwrap().theta;
    let l = &net.layers[0];
    assert_eq!(app.views().output.textures.planes.len(), l.units);
    for (j, lines) in app.views().output.textures.planes.iter().enumerate() {
        for p in lines.iter().flatten() {
            // w·φ(x) + b with φ written out: x1, x2, x1², x2², x1x2, sin x1, sin x2.
            let (x1, x2) = (p[0], p[1]);
            let phi = [x1, x2, x1 * x1, x2 * x2, x1 * x2, x1.sin(), x2.sin()];
            let w = &theta[l.w + j * 7..l.w + j * 7 + 7];
            let z: f64 = w.iter().zip(phi).map(|(a, b)| a * b).sum::<f64>() + theta[l.b + j];
            assert!(z.abs() < 1e-8, "unit {j}: {z}");
        }
    }
}

#[test]
fn every_interactive_widget_has_a_name() {
    let mut h = harness(None);
    h.run_steps(3);
    let unnamed = h.unnamed_widgets();
    assert!(unnamed.is_empty(), "English:\n{}", unnamed.join("\n"));
    h.get_by_label("中文").click();
    h.run_steps(3);
    let unnamed = h.unnamed_widgets();
    assert!(unnamed.is_empty(), "中文:\n{}", unnamed.join("\n"));
    // The weight editor of a clicked edge, and the Save as dialog.
    let edge = h.state().views().designer.diagram.edges[0].0;
    h.state_mut()
        .send(nnlab::ui::command::Command::SelectEdge(Some(edge)));
    h.state_mut().send(nnlab::ui::command::Command::ShowSaveAs);
    h.run_steps(3);
    let unnamed = h.unnamed_widgets();
    assert!(
        unnamed.is_empty(),
        "edge editor, dialog:\n{}",
        unnamed.join("\n")
    );
    // A 1-D regression session with BatchNorm and dropout shows other controls.
    let mut h = harness(Some("sessions/sawtooth_regression.json".into()));
    assert!(settle(&mut h, |a| a.lab().applied().network.inputs == 1));
    h.run_steps(3);
    let unnamed = h.unnamed_widgets();
    assert!(unnamed.is_empty(), "regression:\n{}", unnamed.join("\n"));
}

#[test]
fn decimation_keeps_every_pixel_columns_extremes() {
    // A noisy series of 10 000 points over 100 columns.
    let mut s = 12345u64;
    let pts: Vec<egui_plot::PlotPoint> = (0..10_000)
        .map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = (s >> 11) as f64 / (1u64 << 53) as f64;
            egui_plot::PlotPoint::new(i as f64, (i as f64 * 0.01).sin() + noise)
        })
        .collect();
    let px = 100.0;
    let out = decimate(&pts, 0.0, px);
    assert!(out.len() <= 2 * 100 + 2, "{} points", out.len());
    assert_eq!(out.first().map(|p| (p.x, p.y)), Some((pts[0].x, pts[0].y)));
    assert_eq!(
        out.last().map(|p| (p.x, p.y)),
        Some((pts[9999].x, pts[9999].y))
    );
    assert!(out.windows(2).all(|w| w[0].x <= w[1].x), "not in x order");
    for c in 0..100 {
        let col = |p: &&egui_plot::PlotPoint| (p.x / px).floor() as usize == c;
        let extremes = |v: Vec<&egui_plot::PlotPoint>| {
            v.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                    (a.min(p.y), b.max(p.y))
                })
        };
        let full = extremes(pts.iter().filter(col).collect());
        let kept = extremes(out.iter().filter(col).collect());
        assert_eq!(full, kept, "column {c}");
    }
    // Sparse series are left alone.
    let few = &pts[..50];
    assert_eq!(decimate(few, 0.0, 1.0).len(), 50);
}

/// The top bar never moves under the pointer: while training changes the counters every
/// frame, every button keeps its place, and one quick click (press and release in one frame)
/// on "Light" and on "中文" takes at once.
#[test]
fn top_bar_buttons_stay_put_while_training_and_one_click_takes() {
    let mut h = common_ui::harness(None);
    h.get_by_label("▶ Play").click();
    assert!(settle(&mut h, |a| a.lab().status().running
        && a.lab().status().step > 0));
    let labels = [
        "Session", "Compare", "Light", "English", "中文", "Reset", "+10",
    ];
    let places = |h: &Harness<'static, NnlabApp>| -> Vec<egui::Rect> {
        labels.iter().map(|l| h.get_by_label(l).rect()).collect()
    };
    let first = places(&h);
    let step0 = h.state().lab().status().step;
    for _ in 0..30 {
        h.run_steps(1);
        assert_eq!(places(&h), first, "a top-bar button moved while training");
    }
    assert!(
        h.state().lab().status().step > step0,
        "the counters did not change"
    );
    h.get_by_label("Light").click();
    h.run_steps(1);
    assert!(
        !h.state().settings().dark(),
        "one click on Light did not take"
    );
    h.get_by_label("中文").click();
    h.run_steps(1);
    assert_eq!(
        h.state().settings().lang(),
        nnlab::ui::i18n::Lang::Zh,
        "one click on 中文 did not take"
    );
}
