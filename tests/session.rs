//! Session format v2: exact save/resume, round trips, migration, checkpoints, replay.

use nnlab::optim::spec::{OptimizerKind, OptimizerSpec, Regularization};
use nnlab::session::{self, Loaded, Recorder, Session};
use nnlab::train::{Edit, Trainer, TrainerState};

fn loaded(text: &str) -> Loaded {
    let session: Session = session::parse(text).expect("valid session");
    let (train, test) = session::build_data(&session, None).expect("data");
    Loaded {
        session,
        train,
        test,
        dir: None,
    }
}

/// Shuffled mini-batches, dropout, BatchNorm, residual, Adam.
const BUSY: &str = r#"{
  "nnlab": 1, "name": "busy", "seed": 9,
  "data": {"source": "spiral", "n": 200, "noise": 0.1},
  "network": {"inputs": 2, "residual": true, "init": "he_uniform",
    "layers": [{"units": 8, "activation": "relu", "batch_norm": true, "dropout": 0.2},
               {"units": 8, "activation": "swish", "dropout": 0.1},
               {"units": 1, "activation": "sigmoid"}]},
  "loss": "bce",
  "optimizer": {"kind": "adam", "lr": 0.01, "batch_size": 24, "clip_norm": 1.0},
  "regularization": {"l1": 0.0001, "l2": 0.001}
}"#;

fn with_optimizer(opt: &str) -> String {
    BUSY.replace(
        r#"{"kind": "adam", "lr": 0.01, "batch_size": 24, "clip_norm": 1.0}"#,
        opt,
    )
}

const PERCEPTRON: &str = r#"{
  "nnlab": 1, "name": "perceptron", "seed": 3,
  "data": {"source": "linear", "n": 120, "margin": 0.2},
  "network": {"inputs": 2, "layers": [{"units": 1, "activation": "step"}], "init": "zeros"},
  "loss": "hinge",
  "optimizer": {"kind": "perceptron", "lr": 1.0, "batch_size": 10}
}"#;

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

fn steps(t: &mut Trainer, n: u64) {
    for _ in 0..n {
        t.step();
    }
}

/// Train `a` steps, save the whole session to JSON text, load it, train `b` more; compare with
/// `a + b` straight steps.
fn resume_is_exact(text: &str, a: u64, b: u64) {
    let l = loaded(text);
    let mut straight = session::trainer(&l).unwrap();
    steps(&mut straight, a + b);

    let mut first = session::trainer(&l).unwrap();
    let mut rec = Recorder::new(&first, session::DEFAULT_CHECKPOINT_BUDGET);
    for _ in 0..a {
        let r = first.step();
        rec.record_step(&r, &first);
    }
    let mut s = l.session.clone();
    rec.write_into(&mut s, &first);
    let json = session::to_json(&s).unwrap();
    let back = loaded(&json);
    let mut resumed = session::trainer(&back).unwrap();
    assert_eq!(resumed.step, a);
    steps(&mut resumed, b);
    let (x, y) = (straight.export_state(), resumed.export_state());
    assert!(same_bits(&x.theta, &y.theta), "θ differs after {a}+{b}");
    assert_eq!(x, y, "whole state after {a}+{b}");
    assert_ne!(
        x.theta,
        l.session.start_params().cloned().unwrap_or_default()
    );
}

#[test]
fn train_300_save_load_train_200_equals_500_with_adam_dropout_bn_shuffling() {
    resume_is_exact(BUSY, 300, 200);
}

#[test]
fn resume_is_exact_for_momentum_rmsprop_feedback_alignment_and_perceptron() {
    for opt in [
        r#"{"kind": "momentum", "lr": 0.05, "momentum": 0.9, "batch_size": 16}"#,
        r#"{"kind": "nesterov", "lr": 0.05, "batch_size": 16, "schedule": {"kind": "exponential", "gamma": 0.999}}"#,
        r#"{"kind": "rmsprop", "lr": 0.005, "batch_size": 16}"#,
        r#"{"kind": "adagrad", "lr": 0.05, "batch_size": 50}"#,
        r#"{"kind": "feedback_alignment", "lr": 0.05, "batch_size": 16}"#,
        r#"{"kind": "gd", "lr": 0.1}"#,
    ] {
        resume_is_exact(&with_optimizer(opt), 300, 200);
    }
    resume_is_exact(PERCEPTRON, 7, 13);
}

#[test]
fn a_saved_session_reads_back_identical_in_every_section() {
    let l = loaded(BUSY);
    let mut t = session::trainer(&l).unwrap();
    let mut rec = Recorder::new(&t, 1 << 20);
    for i in 0..40u64 {
        if i == 10 {
            let mut spec = t.optimizer.spec().clone();
            spec.lr = 0.02;
            t.set_optimizer(&spec).unwrap();
            rec.record_edit(t.step, Edit::Optimizer { spec });
        }
        let r = t.step();
        rec.record_step(&r, &t);
        if r.step.is_multiple_of(10) {
            let e = t.evaluate();
            rec.record_evaluation(r.step, &e);
        }
    }
    rec.record_analysis(
        session::Analysis::spectrum(
            40,
            &session::SpectrumResult {
                method: "dense".into(),
                gauss_newton: false,
                eigenvalues: vec![-0.5, 0.0, f64::INFINITY, 1.0 / 3.0],
            },
        )
        .unwrap(),
    );
    let mut s = l.session.clone();
    rec.write_into(&mut s, &t);
    // A non-finite θ (a diverged run) survives too.
    s.state.as_mut().unwrap().theta[0] = f64::NAN;
    s.history.batch_loss[3] = f64::NEG_INFINITY;
    let json = session::to_json(&s).unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&json).is_ok(),
        "valid JSON"
    );
    assert!(json.contains("\"NaN\"") && json.contains("\"-inf\""));
    let back = session::parse(&json).unwrap();
    assert_eq!(back.nnlab, 2);
    // Every field but the NaN compares equal; the NaN reads back as a NaN.
    let mut a = s.clone();
    let mut b = back.clone();
    assert!(b.state.as_ref().unwrap().theta[0].is_nan());
    a.state.as_mut().unwrap().theta[0] = 0.0;
    b.state.as_mut().unwrap().theta[0] = 0.0;
    assert_eq!(a, b);
    assert_eq!(back.history.len(), 40);
    assert_eq!(back.history.evaluations.len(), 4);
    assert_eq!(back.edits.len(), 1);
    assert!(back.checkpoints.len() >= 11, "{}", back.checkpoints.len());
    assert_eq!(
        back.analyses[0].as_spectrum().unwrap().eigenvalues[2],
        f64::INFINITY
    );
    // And a second save gives the same text.
    assert_eq!(session::to_json(&back).unwrap(), json);
}

#[test]
fn a_version_1_file_loads_as_version_2_and_unknown_fields_are_ignored() {
    let v1 = BUSY.replace(
        "\"name\": \"busy\",",
        "\"name\": \"busy\", \"from_the_future\": {\"x\": [1, 2]},",
    );
    let s = session::parse(&v1).unwrap();
    assert_eq!(s.nnlab, session::FORMAT_VERSION);
    assert!(s.state.is_none() && s.history.is_empty() && s.checkpoints.is_empty());
    assert!(!s.is_recorded());
    // A v2 file with an analysis of a kind this build does not know, and unknown fields inside
    // known sections, still loads and keeps the analysis.
    let v2 = BUSY.replace("\"nnlab\": 1", "\"nnlab\": 2").replace(
        "\"loss\": \"bce\",",
        "\"loss\": \"bce\", \"analyses\": [{\"kind\": \"hologram\", \"step\": 3, \"result\": {\"z\": [1]}, \"extra\": 1}], \"history\": {\"step\": [], \"sparkle\": true},",
    );
    let s = session::parse(&v2).unwrap();
    assert_eq!(s.analyses[0].kind, "hologram");
    assert!(s.analyses[0].as_spectrum().is_none());
    let json = session::to_json(&s).unwrap();
    assert!(json.contains("hologram"));
    // Every bundled session (v1) still loads.
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/sessions")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") {
            let l = session::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert_eq!(l.session.nnlab, 2);
        }
    }
}

#[test]
fn an_unknown_higher_version_is_refused() {
    let e = session::parse(&BUSY.replace("\"nnlab\": 1", "\"nnlab\": 3")).unwrap_err();
    assert!(e.message.contains("version 3 is not supported"), "{e}");
}

#[test]
fn restore_refuses_a_state_of_the_wrong_shape_and_leaves_the_trainer_as_it_was() {
    let l = loaded(BUSY);
    let mut t = session::trainer(&l).unwrap();
    steps(&mut t, 5);
    let good = t.export_state();
    let before = t.export_state();
    type Mutation = Box<dyn Fn(&mut TrainerState)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|s| s.theta.pop().map(|_| ()).unwrap()),
            "state.theta",
        ),
        (Box::new(|s| s.perm.push(0)), "state.perm"),
        (Box::new(|s| s.perm[0] = s.perm[1]), "not a permutation"),
        (Box::new(|s| s.iteration = 1000), "state.iteration"),
        (
            Box::new(|s| {
                let mut bad: serde_json::Value = serde_json::to_value(&s.optimizer).unwrap();
                bad["velocity"].as_array_mut().unwrap().pop();
                s.optimizer = serde_json::from_value(bad).unwrap();
            }),
            "state.optimizer.velocity",
        ),
    ];
    for (mutate, needle) in cases {
        let mut s = good.clone();
        mutate(&mut s);
        let e = t.restore_state(&s).unwrap_err();
        assert!(e.message.contains(needle), "{needle}: {e}");
        assert_eq!(t.export_state(), before);
    }
}

#[test]
fn checkpoints_stay_within_the_budget_and_keep_the_first_and_last() {
    let l = loaded(BUSY);
    // A trained state's size (step 0's zero moments print shorter).
    let mut t = session::trainer(&l).unwrap();
    steps(&mut t, 50);
    let one = session::recorder::state_bytes(&t.export_state());
    let budget = one * 12;
    let mut t = session::trainer(&l).unwrap();
    let mut rec = Recorder::new(&t, budget);
    for _ in 0..3000 {
        let r = t.step();
        rec.record_step(&r, &t);
        assert!(
            rec.checkpoint_bytes() <= budget,
            "{} > {budget}",
            rec.checkpoint_bytes()
        );
    }
    let steps: Vec<u64> = rec.checkpoints.iter().map(|c| c.step).collect();
    assert_eq!(steps[0], 0, "{steps:?}");
    assert!(steps.len() >= 8, "{steps:?}");
    // The last is recent: never more than a quarter of the run behind.
    assert!(*steps.last().unwrap() >= 3000 * 3 / 4, "{steps:?}");
    // Without a budget problem, every step up to 10 is kept.
    let mut t = session::trainer(&l).unwrap();
    let mut rec = Recorder::new(&t, u64::MAX);
    for _ in 0..100 {
        let r = t.step();
        rec.record_step(&r, &t);
    }
    let steps: Vec<u64> = rec.checkpoints.iter().map(|c| c.step).collect();
    assert_eq!(&steps[..11], &(0..=10).collect::<Vec<_>>()[..]);
    // A budget smaller than one checkpoint keeps just the first and the latest.
    let mut t = session::trainer(&l).unwrap();
    let mut rec = Recorder::new(&t, 1);
    for _ in 0..50 {
        let r = t.step();
        rec.record_step(&r, &t);
    }
    let steps: Vec<u64> = rec.checkpoints.iter().map(|c| c.step).collect();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0], 0);
    assert!(steps[1] >= 40, "{steps:?}");
}

#[test]
fn lowering_the_budget_thins_the_recorded_checkpoints_at_once() {
    let l = loaded(BUSY);
    let mut t = session::trainer(&l).unwrap();
    let mut rec = Recorder::new(&t, u64::MAX);
    for _ in 0..500 {
        let r = t.step();
        rec.record_step(&r, &t);
    }
    let before: Vec<u64> = rec.checkpoints.iter().map(|c| c.step).collect();
    let budget = rec.checkpoint_bytes() / 3;
    rec.set_budget(budget);
    let after: Vec<u64> = rec.checkpoints.iter().map(|c| c.step).collect();
    assert!(
        rec.checkpoint_bytes() <= budget,
        "{} > {budget}",
        rec.checkpoint_bytes()
    );
    assert!(after.len() < before.len(), "{before:?} -> {after:?}");
    assert_eq!(after.first(), before.first());
    assert_eq!(after.last(), before.last());
    // Every kept checkpoint is one of the recorded ones, in order.
    assert!(after.iter().all(|s| before.contains(s)));
    assert!(after.windows(2).all(|w| w[0] < w[1]));
    // The saved session carries the budget.
    let mut out = l.session.clone();
    rec.write_into(&mut out, &t);
    assert_eq!(out.checkpoint_budget, Some(budget));
}

/// A recorded run with live edits: optimiser change (momentum → adam), an lr change, a
/// regulariser change, and a weight edit.
fn recorded_with_edits() -> Session {
    let l = loaded(&with_optimizer(
        r#"{"kind": "momentum", "lr": 0.05, "batch_size": 16}"#,
    ));
    let mut t = session::trainer(&l).unwrap();
    let mut rec = Recorder::new(&t, session::DEFAULT_CHECKPOINT_BUDGET);
    for i in 0..120u64 {
        let mut edit = |t: &mut Trainer, e: Edit| {
            t.apply_edit(&e).unwrap();
            rec.record_edit(t.step, e);
        };
        match i {
            20 => edit(
                &mut t,
                Edit::Optimizer {
                    spec: OptimizerSpec::new(OptimizerKind::Adam, 0.01, 32),
                },
            ),
            50 => {
                let mut spec = t.optimizer.spec().clone();
                spec.lr = 0.003;
                edit(&mut t, Edit::Optimizer { spec });
                edit(
                    &mut t,
                    Edit::Regularization {
                        regularization: Regularization { l1: 0.0, l2: 0.01 },
                    },
                );
            }
            77 => edit(
                &mut t,
                Edit::Weight {
                    index: 3,
                    value: 0.25,
                },
            ),
            _ => {}
        }
        let r = t.step();
        rec.record_step(&r, &t);
        if r.step.is_multiple_of(25) {
            let e = t.evaluate();
            rec.record_evaluation(r.step, &e);
        }
    }
    let mut s = l.session.clone();
    rec.write_into(&mut s, &t);
    s
}

#[test]
fn verify_passes_on_a_recorded_run_with_live_edits_and_names_a_one_ulp_change() {
    let s = recorded_with_edits();
    let json = session::to_json(&s).unwrap();
    let l = loaded(&json);
    let r = session::verify(&l).unwrap();
    assert_eq!(r.mismatch, None, "{r:?}");
    assert_eq!((r.steps, r.step_reports, r.edits), (120, 120, 4));
    assert_eq!(r.evaluations, 4);
    assert!(r.checkpoints >= 11 && r.state, "{r:?}");

    // One ulp on one recorded loss.
    let mut bad = s.clone();
    let x = &mut bad.history.batch_loss[60];
    *x = f64::from_bits(x.to_bits() + 1);
    let r = session::verify(&loaded(&session::to_json(&bad).unwrap())).unwrap();
    let m = r.mismatch.expect("a mismatch");
    assert_eq!((m.step, m.field.as_str()), (61, "history.batch_loss"));

    // One ulp in a checkpoint's θ.
    let mut bad = s.clone();
    let c = bad.checkpoints.len() - 1;
    let at = bad.checkpoints[c].step;
    let x = &mut bad.checkpoints[c].theta[5];
    *x = f64::from_bits(x.to_bits() ^ 1);
    let r = session::verify(&loaded(&session::to_json(&bad).unwrap())).unwrap();
    let m = r.mismatch.expect("a mismatch");
    assert_eq!(m.step, at);
    assert_eq!(m.field, format!("checkpoints[{c}].theta[5]"));

    // A recorded edit removed: the re-run diverges from the record right after it.
    let mut bad = s.clone();
    bad.edits.retain(|e| !matches!(e.edit, Edit::Weight { .. }));
    let r = session::verify(&loaded(&session::to_json(&bad).unwrap())).unwrap();
    assert_eq!(r.mismatch.expect("a mismatch").step, 78);
}

#[test]
fn state_at_a_step_from_checkpoints_equals_a_straight_run() {
    let s = recorded_with_edits();
    let l = loaded(&session::to_json(&s).unwrap());
    // A straight run with the same edits, stopping at each step (edits at that step applied).
    let mut no_ckpt = s.clone();
    no_ckpt.checkpoints.clear();
    no_ckpt.state = None;
    no_ckpt.params = None;
    let straight = loaded(&session::to_json(&no_ckpt).unwrap());
    for step in [0, 1, 7, 20, 33, 50, 77, 78, 100, 119, 120] {
        let a = session::state_at(&l, step).unwrap().export_state();
        let b = session::state_at(&straight, step).unwrap().export_state();
        assert_eq!(a.step, step);
        assert!(same_bits(&a.theta, &b.theta), "θ at {step}");
        assert_eq!(a, b, "state at {step}");
    }
    assert!(session::state_at(&l, 121).is_err());
}

#[test]
fn a_fork_continues_like_the_original() {
    let s = recorded_with_edits();
    let l = loaded(&session::to_json(&s).unwrap());
    let fork = session::fork(&l, 60).unwrap();
    assert_eq!(fork.state.as_ref().unwrap().step, 60);
    assert_eq!(fork.history.last_step(), Some(60));
    assert!(fork.edits.iter().all(|e| e.step <= 60));
    let fl = loaded(&session::to_json(&fork).unwrap());
    // The fork verifies against its own (truncated) recording …
    assert_eq!(session::verify(&fl).unwrap().mismatch, None);
    // … and continuing it to step 77 matches the original at 77 before its weight edit.
    let mut t = session::trainer(&fl).unwrap();
    steps(&mut t, 17);
    let mut o = session::state_at(&l, 76).unwrap();
    o.step();
    assert_eq!(t.export_state(), o.export_state());
}

// ---- The command line: run writes v2, replay verifies and forks, broken files exit 2. ----

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nnlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nnlab"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nnlab-session-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str], files: &[&Path]) -> Output {
    let mut c = nnlab();
    c.args(args);
    for f in files {
        c.arg(f);
    }
    c.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const BAD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad_sessions");

#[test]
fn cli_run_300_then_200_writes_the_same_file_as_run_500_and_it_verifies() {
    let dir = scratch("run");
    let spec = dir.join("busy.json");
    std::fs::write(&spec, BUSY).unwrap();
    let (a, b, c) = (dir.join("a.json"), dir.join("b.json"), dir.join("c.json"));
    for (from, steps, to) in [(&spec, "300", &a), (&a, "200", &b), (&spec, "500", &c)] {
        let o = nnlab()
            .arg("run")
            .arg(from)
            .args(["--steps", steps, "--eval-every", "50", "--out"])
            .arg(to)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let (b, c) = (std::fs::read(&b).unwrap(), std::fs::read(&c).unwrap());
    assert!(b == c, "300 + 200 and 500 steps wrote different sessions");
    let s = session::parse(std::str::from_utf8(&c).unwrap()).unwrap();
    assert_eq!(s.state.as_ref().unwrap().step, 500);
    assert_eq!(s.history.len(), 500);
    assert_eq!(s.history.evaluations.len(), 10);
    assert_eq!(s.checkpoints[0].step, 0);
    let o = run(&["replay", "--verify"], &[&dir.join("c.json")]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("bit-identical"), "{}", stdout(&o));
}

#[test]
fn cli_replay_exits_1_naming_the_step_and_field_of_a_one_ulp_change_and_forks() {
    let dir = scratch("replay");
    let good = dir.join("edits.json");
    session::save(&good, &recorded_with_edits()).unwrap();
    let o = run(&["replay", "--verify"], &[&good]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("4 edits applied"), "{}", stdout(&o));

    let mut s = recorded_with_edits();
    let e = &mut s.history.evaluations.train_loss[2];
    *e = f64::from_bits(e.to_bits() - 1);
    let bad = dir.join("ulp.json");
    session::save(&bad, &s).unwrap();
    let o = run(&["replay", "--verify"], &[&bad]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("MISMATCH at step 75: history.evaluations.train_loss"),
        "{text}"
    );

    let fork = dir.join("fork.json");
    let o = nnlab()
        .arg("replay")
        .arg(&good)
        .args(["--to", "90", "--out"])
        .arg(&fork)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let f = session::load(&fork).unwrap();
    assert_eq!(f.session.state.as_ref().unwrap().step, 90);
    let o = run(&["replay", "--verify"], &[&fork]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Beyond the recording, and without a mode: exit 2, one line.
    for args in [
        vec!["replay", "--to", "500", "--out", "/tmp/never.json"],
        vec!["replay"],
    ] {
        let o = run(&args, &[&good]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
    }
}

/// `nnlab <cmd> FILE` exits 2 with one stderr line containing `needle`, no panic, no stdout.
fn refused(cmd: &[&str], path: &Path, needle: &str) {
    let o = run(cmd, &[path]);
    let err = stderr(&o);
    let name = path.file_name().unwrap().to_string_lossy();
    assert_eq!(o.status.code(), Some(2), "{cmd:?} {name}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{name}: one line: {err}");
    assert!(err.len() < 400, "{name}: a short line: {err}");
    assert!(
        err.contains(needle),
        "{name}: expected «{needle}» in «{err}»"
    );
    assert!(!err.contains("panicked"));
    assert!(o.stdout.is_empty(), "{name}: nothing on stdout");
}

#[test]
fn every_file_of_the_broken_session_corpus_is_refused_with_one_line() {
    // The base of the corpus is valid: every refusal below is the mutation's doing.
    let base = Path::new(BAD).join("valid_base.json");
    let o = run(&["replay", "--verify"], &[&base]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let list = std::fs::read_to_string(Path::new(BAD).join("expected.tsv")).unwrap();
    let mut n = 0;
    for line in list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (file, needle) = line.split_once('\t').unwrap();
        let path = Path::new(BAD).join(file);
        refused(&["run"], &path, needle);
        refused(&["replay", "--verify"], &path, needle);
        n += 1;
    }
    assert!(n >= 40, "{n} cases");
    // Too large to keep in the repository: more checkpoints than allowed.
    let text = std::fs::read_to_string(&base).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let one = v["checkpoints"][0].clone();
    v["checkpoints"] = serde_json::Value::Array(vec![one; session::MAX_CHECKPOINTS + 1]);
    let dir = scratch("many");
    let many = dir.join("many-checkpoints.json");
    std::fs::write(&many, serde_json::to_string(&v).unwrap()).unwrap();
    refused(&["run"], &many, "checkpoints: has more than 10000 entries");
}

#[test]
fn a_long_history_is_thinned_by_doubling_the_stride_and_still_verifies() {
    let l = loaded(BUSY);
    let mut t = session::trainer(&l).unwrap();
    let mut rec = Recorder::new(&t, session::DEFAULT_CHECKPOINT_BUDGET);
    rec.history_limit = 64;
    for _ in 0..300 {
        let r = t.step();
        rec.record_step(&r, &t);
        let e = t.evaluate();
        rec.record_evaluation(r.step, &e);
        assert!(rec.history.len() <= 64);
    }
    // 300 steps in at most 64 rows: every 8th step (300 / 8 = 37 rows).
    assert_eq!(rec.stride, 8);
    assert_eq!(rec.history.len(), 37);
    assert!(rec.history.step.iter().all(|s| s % 8 == 0));
    assert_eq!(rec.history.evaluations.step, rec.history.step);
    let mut s = l.session.clone();
    rec.write_into(&mut s, &t);
    let back = loaded(&session::to_json(&s).unwrap());
    let r = session::verify(&back).unwrap();
    assert_eq!(r.mismatch, None);
    assert_eq!((r.steps, r.step_reports, r.evaluations), (300, 37, 37));
    // Resuming keeps the stride.
    let t = session::trainer(&back).unwrap();
    assert_eq!(Recorder::resume(&back.session, &t).stride, 8);
}

#[test]
fn brackets_inside_strings_are_not_nesting_but_deep_unknown_fields_are_refused() {
    let name = format!("\\\"{}\\\\", "[{".repeat(300));
    let s = session::parse(&BUSY.replace("\"name\": \"busy\"", &format!("\"name\": \"{name}\"")))
        .unwrap();
    assert!(s.name.starts_with("\"[{[{"), "{}", s.name);
    let deep = format!("\"future\": {}1{},", "[".repeat(129), "]".repeat(129));
    let e =
        session::parse(&BUSY.replace("\"seed\": 9,", &format!("\"seed\": 9, {deep}"))).unwrap_err();
    assert!(e.message.contains("nested more than 128 levels"), "{e}");
    let ok = format!("\"future\": {}1{},", "[".repeat(100), "]".repeat(100));
    assert!(session::parse(&BUSY.replace("\"seed\": 9,", &format!("\"seed\": 9, {ok}"))).is_ok());
}
