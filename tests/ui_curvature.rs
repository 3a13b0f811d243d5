//! The Curvature tile through egui_kittest: turn it on, train, and see λ_max appear; the
//! Gauss–Newton switch and its note; the enlarged tile in 中文. The training and curvature
//! threads are real, so every wait is a bounded loop of `run_steps`.

mod common_ui;

use common_ui::{harness, settle};
use egui_kittest::kittest::Queryable;
use nnlab::ui::command::Command;

#[test]
fn the_panel_is_off_until_turned_on() {
    let mut h = harness(None);
    h.run_steps(4);
    assert!(!h.state().views().curvature.on);
    assert!(h.state().views().curvature.last.is_none());
    assert!(
        h.query_by_label_contains("Off: nothing is computed")
            .is_some()
    );
}

#[test]
fn turning_it_on_while_training_shows_lambda_max() {
    let mut h = harness(None);
    h.get_by_label("On").click();
    h.run_steps(2);
    assert!(h.state().views().curvature.on);
    // Turning on analyses the current θ (step 0) at once.
    assert!(
        settle(&mut h, |a| a.views().curvature.last.is_some()),
        "no analysis after turning the panel on"
    );
    assert!(h.query_by_label_contains("λ_max = ").is_some());
    h.get_by_label("▶ Play").click();
    assert!(
        settle(&mut h, |a| a.views().curvature.analysed >= 3
            && a.views()
                .curvature
                .last
                .as_ref()
                .is_some_and(|l| l.step > 0)),
        "no analyses while training"
    );
    let app = h.state();
    let last = app.views().curvature.last.as_ref().unwrap();
    assert!(last.lambda_max.is_finite() && last.lambda_max >= last.lambda_min);
    assert_eq!(last.params, app.lab().n_params());
    // Analysed steps are multiples of the interval (step 0 from turning on).
    let every = app.views().curvature.every as f64;
    for p in app.views().curvature.lambda_max.points(false) {
        assert_eq!(p.x % every, 0.0, "step {}", p.x);
    }
    let shown = format!(
        "λ_max = {}",
        nnlab::ui::panels::curvature::num(last.lambda_max)
    );
    h.run_steps(2);
    let pause = h.get_by_label("‖ Pause");
    pause.click();
    assert!(settle(&mut h, |a| !a.lab().status().running));
    // The value shown is the latest answer's (it may have changed since `shown`).
    let latest = h
        .state()
        .views()
        .curvature
        .last
        .as_ref()
        .unwrap()
        .lambda_max;
    let latest = format!("λ_max = {}", nnlab::ui::panels::curvature::num(latest));
    assert!(
        h.query_by_label(&latest).is_some() || h.query_by_label(&shown).is_some(),
        "no label {latest}"
    );
}

#[test]
fn gauss_newton_has_no_negative_curvature_and_says_so() {
    let mut h = harness(None);
    h.get_by_label("Analyse now").click();
    assert!(settle(&mut h, |a| a.views().curvature.last.is_some()));
    assert!(
        !h.state().views().curvature.on,
        "analyse now does not turn the panel on"
    );
    // One click takes: nothing above the tile moves while the answer comes in.
    h.get_by_label("Gauss–Newton").click();
    h.run_steps(1);
    assert!(
        h.state().views().curvature.gauss_newton,
        "one click did not take"
    );
    let ok = settle(&mut h, |a| {
        a.views()
            .curvature
            .last
            .as_ref()
            .is_some_and(|l| l.gauss_newton)
    });
    let c = &h.state().views().curvature;
    assert!(
        ok,
        "no Gauss–Newton result: gn {}, error {:?}, computing {:?}, last gn {:?}",
        c.gauss_newton,
        c.error,
        c.computing,
        c.last.as_ref().map(|l| l.gauss_newton)
    );
    let last = h.state().views().curvature.last.as_ref().unwrap();
    assert_eq!(last.negative_count, 0.0);
    assert!(last.lambda_min >= -1e-9 * last.lambda_max.abs());
    assert!(
        h.query_by_label_contains("cannot show negative curvature")
            .is_some()
    );
}

#[test]
fn the_enlarged_tile_in_chinese() {
    let mut h = harness(None);
    h.get_by_label("Analyse now").click();
    assert!(settle(&mut h, |a| a.views().curvature.last.is_some()));
    h.state_mut().send(Command::Enlarge(Some(
        nnlab::ui::panels::plots::Tile::Curvature,
    )));
    h.get_by_label("中文").click();
    h.run_steps(4);
    for t in ["条件数 κ", "负特征值个数", "主特征向量的各层分布"] {
        assert!(h.query_all_by_label(t).count() > 0, "no {t}");
    }
    h.get_by_label("高斯-牛顿").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains("无法显示负曲率").is_some());
}

/// A session file in a fresh scratch folder.
fn session_with_optimizer(name: &str, optimizer: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nnlab-ui-edge-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("s.json");
    std::fs::write(
        &file,
        format!(
            r#"{{"nnlab": 1, "seed": 3, "data": {{"source": "sin", "n": 20, "noise": 0.0, "test_fraction": 0.0}},
            "network": {{"inputs": 1, "layers": [{{"units": 4, "activation": "tanh"}}, {{"units": 1, "activation": "identity"}}]}},
            "loss": "mse", "optimizer": {optimizer}}}"#
        ),
    )
    .unwrap();
    file
}

/// Adam: the tile shows the preconditioned sharpness against (2+2β₁)/((1−β₁)η) = 38/η, not
/// 2/η; before the first step the preconditioner does not exist yet and the tile says so.
#[test]
fn adam_gets_its_own_threshold_and_the_preconditioned_sharpness() {
    let file = session_with_optimizer("adam", r#"{"kind": "adam", "lr": 0.01, "batch_size": 20}"#);
    let mut h = harness(Some(file));
    h.get_by_label("Analyse now").click();
    assert!(settle(&mut h, |a| a.views().curvature.last.is_some()));
    // Enlarged: the full readout line (a small tile keeps it in a tooltip).
    h.state_mut().send(Command::Enlarge(Some(
        nnlab::ui::panels::plots::Tile::Curvature,
    )));
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("(2+2β₁)/((1−β₁)η) = 3800")
            .is_some(),
        "no Adam threshold label"
    );
    assert!(h.query_by_label_contains("2/η = ").is_none());
    assert!(
        h.query_by_label_contains("λ_max(P^−1·H) = forms after the first step")
            .is_some()
    );
    h.get_by_label("▶ Play").click();
    assert!(settle(&mut h, |a| a.lab().status().step > 0));
    h.get_by_label("‖ Pause").click();
    assert!(settle(&mut h, |a| !a.lab().status().running));
    h.get_by_label("Analyse now").click();
    assert!(settle(&mut h, |a| a
        .views()
        .curvature
        .last
        .as_ref()
        .is_some_and(|l| l.step > 0 && l.step == a.lab().status().step)));
    h.run_steps(2);
    let last = h.state().views().curvature.last.clone().unwrap();
    let r = last.stability.unwrap().unwrap();
    let v = r.value.expect("λ_max(P⁻¹H) after one step");
    assert!(v.is_finite() && v > 0.0);
    assert!(
        h.query_by_label_contains(&format!(
            "λ_max(P^−1·H) = {}",
            nnlab::ui::panels::curvature::num(v)
        ))
        .is_some()
    );
}

/// Feedback alignment's update is not a gradient: no threshold line, and the tile says why.
#[test]
fn a_rule_without_a_threshold_says_so() {
    let file = session_with_optimizer(
        "fa",
        r#"{"kind": "feedback_alignment", "lr": 0.05, "batch_size": 20}"#,
    );
    let mut h = harness(Some(file));
    h.get_by_label("Analyse now").click();
    assert!(settle(&mut h, |a| a.views().curvature.last.is_some()));
    // Enlarged: the full readout line (a small tile keeps it in a tooltip).
    h.state_mut().send(Command::Enlarge(Some(
        nnlab::ui::panels::plots::Tile::Curvature,
    )));
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("no stability threshold")
            .is_some()
    );
    assert!(h.state().views().curvature.edge.is_empty());
}
