//! Run a lesson's check headless: build each variant, measure, compare.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::metrics::{self, Metric, RunRecord};
use super::{Check, Expect, Lesson, LessonFile, Variant};
use crate::error::{Error, Result};
use crate::session::{self, Session};
use crate::train::{StopWatch, Trainer};

/// `Fast` uses each check's `fast_steps` (what CI runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Each check's `steps`: what the lesson text quotes.
    Full,
    /// Each check's `fast_steps`.
    Fast,
}

/// One expectation, measured.
#[derive(Clone, Debug, Serialize)]
pub struct ExpectResult {
    /// The run measured.
    pub variant: String,
    /// The metric's name.
    pub metric: String,
    /// What the run gave.
    pub measured: f64,
    /// `< 0.001` or `≤ 1 × bound (= 61.2)`.
    pub expected: String,
    /// The number compared against (the constant, or the other measurement times its factor).
    pub rhs: f64,
    /// The expectation held.
    pub pass: bool,
}

/// One lesson's check at one seed: every expectation measured, and its control.
#[derive(Clone, Debug, Serialize)]
pub struct LessonResult {
    /// The lesson file's stem.
    pub name: String,
    /// The THEORY.md row.
    pub row: u32,
    /// The seed the check ran with (data and initialisation).
    pub seed: u64,
    /// Each expectation, measured.
    pub results: Vec<ExpectResult>,
    /// The check could not run (bad variant, analysis refused …).
    pub error: Option<String>,
    /// Every number measured, keyed `variant.metric` (what the text's placeholders quote).
    pub values: BTreeMap<String, f64>,
    /// The same expectations on the control, when the lesson declares one.
    pub control: Option<ControlResult>,
    /// Quoted numbers whose stored value no longer matches the measurement (full mode at the
    /// session's own seed only): `key: stored → measured`.
    pub stale: Vec<String>,
    /// Wall-clock time of the check and its control.
    pub seconds: f64,
}

/// The check run on the control, where it must fail.
#[derive(Clone, Debug, Serialize)]
pub struct ControlResult {
    /// The check's expectations, measured on the control.
    pub results: Vec<ExpectResult>,
    /// The control could not run.
    pub error: Option<String>,
}

impl ControlResult {
    /// The control ran and at least one expectation missed there: the claim's precondition
    /// matters. An error is not a fail — it measured nothing.
    pub fn failed_as_expected(&self) -> bool {
        self.error.is_none() && !self.results.is_empty() && self.results.iter().any(|r| !r.pass)
    }
}

impl LessonResult {
    /// Every expectation held (the control aside).
    pub fn passed(&self) -> bool {
        self.error.is_none() && !self.results.is_empty() && self.results.iter().all(|r| r.pass)
    }

    /// Passed, its control failed, and its quoted numbers are current.
    pub fn verified(&self) -> bool {
        self.passed()
            && self
                .control
                .as_ref()
                .is_some_and(ControlResult::failed_as_expected)
            && self.stale.is_empty()
    }
}

/// Run the check of a lesson file, and its control, at the file's seed.
pub fn run_lesson(file: &LessonFile, mode: Mode) -> LessonResult {
    run_session_lesson(
        &file.session,
        &file.lesson,
        file.path.parent(),
        &file.name,
        mode,
    )
}

/// Run the check of a lesson file and its control with the session seed replaced by `seed`
/// (data and initialisation both follow it).
pub fn run_lesson_seeded(file: &LessonFile, mode: Mode, seed: u64) -> LessonResult {
    let mut session = file.session.clone();
    session.seed = seed;
    session.data.seed = None;
    let mut r = run_session_lesson(&session, &file.lesson, file.path.parent(), &file.name, mode);
    if seed != file.session.seed {
        // The quoted numbers are those of the session's own seed.
        r.stale.clear();
    }
    r
}

/// Run the check of a lesson on its session, and its control; `dir` is where the session's CSV
/// paths are relative to.
pub fn run_session_lesson(
    session: &Session,
    lesson: &Lesson,
    dir: Option<&Path>,
    name: &str,
    mode: Mode,
) -> LessonResult {
    let start = std::time::Instant::now();
    let row = lesson.row;
    let (results, values, error) = match measure(session, lesson, dir, mode, &BTreeMap::new()) {
        Ok((r, v)) => (r, v, None),
        Err(e) => (Vec::new(), BTreeMap::new(), Some(e.message)),
    };
    let control = lesson.check.control.as_ref().map(|c| {
        // Variants the control leaves alone measure what they measured in the lesson (a
        // control that changes the lottery experiment changes every variant's numbers).
        let reuse: BTreeMap<String, f64> =
            if c.set.is_empty() && c.lottery.is_none() && c.ntk.is_none() {
                values
                    .iter()
                    .filter(|(k, _)| {
                        super::split_key(k).is_ok_and(|(v, _)| !c.variants.contains_key(&v))
                    })
                    .map(|(k, x)| (k.clone(), *x))
                    .collect()
            } else {
                BTreeMap::new()
            };
        match control_session(session, lesson).and_then(|(s, l)| measure(&s, &l, dir, mode, &reuse))
        {
            Ok((results, _)) => ControlResult {
                results,
                error: None,
            },
            Err(e) => ControlResult {
                results: Vec::new(),
                error: Some(e.message),
            },
        }
    });
    let mut stale = Vec::new();
    if mode == Mode::Full {
        for (key, stored) in &lesson.check.measured {
            let now = values.get(key).copied().unwrap_or(f64::NAN);
            if fmt_num(now) != fmt_num(*stored) {
                stale.push(format!("{key}: {} → {}", fmt_num(*stored), fmt_num(now)));
            }
        }
    }
    LessonResult {
        name: name.to_string(),
        row,
        seed: session.seed,
        results,
        error,
        values,
        control,
        stale,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// The session and lesson with the lesson's control applied: its `set` on the session, its
/// per-variant overrides added to those variants; the control itself removed.
pub fn control_session(session: &Session, lesson: &Lesson) -> Result<(Session, Lesson)> {
    let control = lesson
        .check
        .control
        .as_ref()
        .ok_or_else(|| Error::new("the lesson has no control"))?;
    let patch = Variant {
        name: "control".into(),
        set: control.set.clone(),
        lr_over_edge: None,
        label: None,
        inits: None,
    };
    let out = apply_variant(session, &patch).map_err(|e| e.context("control"))?;
    let mut lesson = lesson.clone();
    let check = &mut lesson.check;
    let mut runs = check.runs();
    for (name, patch) in &control.variants {
        let v = runs
            .iter_mut()
            .find(|v| &v.name == name)
            .ok_or_else(|| Error::new(format!("control: no variant named \"{name}\"")))?;
        for (k, val) in &patch.set {
            v.set.insert(k.clone(), val.clone());
        }
        if patch.lr_over_edge.is_some() {
            v.lr_over_edge = patch.lr_over_edge;
        }
    }
    check.variants = runs;
    if let Some(l) = &control.lottery {
        check.lottery = Some(l.clone());
    }
    if let Some(n) = &control.ntk {
        check.ntk = Some(n.clone());
    }
    check.control = None;
    check.measured.clear();
    Ok((out, lesson))
}

type Measured = (Vec<ExpectResult>, BTreeMap<String, f64>);

/// Measure every variant the expectations and quoted numbers need; a variant whose every
/// needed number is in `reuse` (keyed `variant.metric`) is not run again.
fn measure(
    session: &Session,
    lesson: &Lesson,
    dir: Option<&Path>,
    mode: Mode,
    reuse: &BTreeMap<String, f64>,
) -> Result<Measured> {
    let check = &lesson.check;
    check.validate()?;
    let steps = match mode {
        Mode::Full => check.steps,
        Mode::Fast => check.fast_steps.unwrap_or(check.steps),
    };
    let runs = check.runs();
    let first = runs[0].name.clone();
    // Which metrics each variant needs: the expectations' and the quoted numbers'.
    let mut needed: BTreeMap<String, BTreeSet<Metric>> = BTreeMap::new();
    for e in &check.expect {
        let v = e.variant.clone().unwrap_or_else(|| first.clone());
        needed.entry(v.clone()).or_default().insert(e.metric);
        if let Some(r) = &e.than {
            let rv = r.variant.clone().unwrap_or(v);
            needed.entry(rv).or_default().insert(r.metric);
        }
    }
    for key in check.measured.keys() {
        let (v, m) = super::split_key(key)?;
        needed.entry(v).or_default().insert(m);
    }
    let mut measured: BTreeMap<(String, Metric), f64> = BTreeMap::new();
    for v in &runs {
        let Some(want) = needed.get(&v.name) else {
            continue;
        };
        let known: Vec<(Metric, f64)> = want
            .iter()
            .filter_map(|m| {
                reuse
                    .get(&format!("{}.{}", v.name, m.name()))
                    .map(|x| (*m, *x))
            })
            .collect();
        if known.len() == want.len() {
            for (m, x) in known {
                measured.insert((v.name.clone(), m), x);
            }
            continue;
        }
        let m = run_inits(session, dir, v, steps, want, check)
            .map_err(|e| e.context(format!("variant {}", v.name)))?;
        for (k, val) in m {
            measured.insert((v.name.clone(), k), val);
        }
    }
    let results = check
        .expect
        .iter()
        .map(|e| compare(e, &first, &measured))
        .collect();
    let values = measured
        .iter()
        .map(|((v, m), x)| (format!("{v}.{}", m.name()), *x))
        .collect();
    Ok((results, values))
}

/// Run a variant once, or (`inits` k) from k initialisations on the same data and average
/// each metric over them.
fn run_inits(
    base: &Session,
    dir: Option<&Path>,
    v: &Variant,
    steps: u64,
    want: &BTreeSet<Metric>,
    check: &Check,
) -> Result<BTreeMap<Metric, f64>> {
    let k = v.inits.unwrap_or(1);
    if k == 1 {
        return run_variant(base, dir, v, steps, want, check);
    }
    let mut sum: BTreeMap<Metric, f64> = BTreeMap::new();
    for i in 0..k as u64 {
        let mut s = base.clone();
        // The data keeps the session's seed; only the initialisation changes.
        s.data.seed = Some(base.data.seed.unwrap_or(base.seed));
        s.seed = base.seed.wrapping_mul(1000).wrapping_add(1 + i);
        for (m, x) in run_variant(&s, dir, v, steps, want, check)? {
            *sum.entry(m).or_insert(0.0) += x;
        }
    }
    Ok(sum.into_iter().map(|(m, x)| (m, x / k as f64)).collect())
}

fn compare(e: &Expect, first: &str, measured: &BTreeMap<(String, Metric), f64>) -> ExpectResult {
    let variant = e.variant.clone().unwrap_or_else(|| first.to_string());
    let get = |v: &str, m: Metric| {
        measured
            .get(&(v.to_string(), m))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let value = get(&variant, e.metric);
    let (rhs, expected) = match (&e.value, &e.than) {
        (Some(x), _) => (*x, format!("{} {}", e.op.symbol(), fmt_num(*x))),
        (None, Some(r)) => {
            let rv = r.variant.clone().unwrap_or_else(|| variant.clone());
            let other = get(&rv, r.metric) * r.times;
            let times = if r.times == 1.0 {
                String::new()
            } else {
                format!("{} × ", fmt_num(r.times))
            };
            (
                other,
                format!(
                    "{} {times}{rv}.{} (= {})",
                    e.op.symbol(),
                    r.metric.name(),
                    fmt_num(other)
                ),
            )
        }
        (None, None) => (f64::NAN, "?".into()),
    };
    ExpectResult {
        variant,
        metric: e.metric.name(),
        measured: value,
        expected,
        rhs,
        pass: e.op.holds(value, rhs),
    }
}

/// Four significant digits, scientific for very small or large magnitudes.
pub fn fmt_num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if !(1e-3..1e5).contains(&a) {
        format!("{x:.3e}")
    } else if a == a.round() {
        format!("{x}")
    } else {
        let digits = (3 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    }
}

/// The session with the variant's overrides applied (re-validated by the session parser).
pub fn apply_variant(base: &Session, v: &Variant) -> Result<Session> {
    let mut value = serde_json::to_value(base)
        .map_err(|e| Error::new(format!("could not encode the session: {e}")))?;
    for (path, new) in &v.set {
        let parts: Vec<&str> = path.split('.').collect();
        set_path(&mut value, &parts, new)
            .map_err(|e| Error::new(format!("set \"{path}\": {e}")))?;
    }
    session::parse(&value.to_string())
}

fn set_path(target: &mut Value, parts: &[&str], new: &Value) -> std::result::Result<(), String> {
    let Some((&head, rest)) = parts.split_first() else {
        *target = new.clone();
        return Ok(());
    };
    match target {
        Value::Object(map) => {
            let slot = map.entry(head.to_string()).or_insert(Value::Null);
            if !rest.is_empty() && slot.is_null() {
                *slot = Value::Object(serde_json::Map::new());
            }
            set_path(slot, rest, new)
        }
        Value::Array(items) if head == "*" => {
            for item in items.iter_mut() {
                set_path(item, rest, new)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            let i: usize = head
                .parse()
                .map_err(|_| format!("\"{head}\" is not an index or *"))?;
            let len = items.len();
            let item = items
                .get_mut(i)
                .ok_or_else(|| format!("index {i} is past the end ({len} items)"))?;
            set_path(item, rest, new)
        }
        _ => Err(format!(
            "\"{head}\" is inside a value that is not an object"
        )),
    }
}

fn run_variant(
    base: &Session,
    dir: Option<&Path>,
    v: &Variant,
    steps: u64,
    want: &BTreeSet<Metric>,
    check: &Check,
) -> Result<BTreeMap<Metric, f64>> {
    let session = apply_variant(base, v)?;
    let (train, test) = session::build_data(&session, dir)?;
    session::validate_sizes(&session, &train)?;
    let mut tr = Trainer::new(
        &session.trainer_config(),
        train,
        test,
        session.params.clone(),
    )?;
    tr.collect_stats = false;
    if let Some(f) = v.lr_over_edge {
        let (lmax, _, _) = metrics::spectrum(&tr)?;
        if !(lmax.is_finite() && lmax > 0.0) {
            return Err(Error::new(format!(
                "lr_over_edge needs a positive λ_max at θ₀ (got {lmax})"
            )));
        }
        let mut spec = tr.optimizer.spec().clone();
        spec.lr = f * 2.0 / lmax;
        tr.set_optimizer(&spec)?;
    }
    let mut out = BTreeMap::new();
    for &m in want.iter().filter(|m| m.at_init()) {
        out.insert(m, metrics::at_init(m, &mut tr, &session, check, steps)?);
    }
    let finals: Vec<Metric> = want.iter().copied().filter(|m| !m.at_init()).collect();
    if finals.is_empty() {
        return Ok(out);
    }
    let mut rec = RunRecord {
        init_objective: tr.objective_and_gradient().0,
        iterations_per_epoch: tr.iterations_per_epoch(),
        initial_theta: tr.theta.clone(),
        ..RunRecord::default()
    };
    let valley = if finals.iter().any(|m| m.needs_valley()) {
        Some(metrics::valley_directions(&tr)?)
    } else {
        None
    };
    let mut bands = if finals.iter().any(|m| m.needs_bands()) {
        Some(super::measures::BandRecorder::new(&mut tr)?)
    } else {
        None
    };
    // The edge metrics record the sharpness about 60 times along the run (and at θ₀).
    let edge_every = (steps / 60).max(1);
    let record_edge = finals.iter().any(|m| m.needs_edge());
    let observe_edge = |tr: &Trainer, rec: &mut RunRecord| -> Result<()> {
        if record_edge {
            rec.edge
                .observe(tr.step, tr.hessian_problem(false), &tr.optimizer, tr.seed)
                .map_err(Error::new)?;
        }
        Ok(())
    };
    observe_edge(&tr, &mut rec)?;
    if finals.iter().any(|m| m.needs_collapse_init()) {
        rec.nc1_init = Some(metrics::collapse_of(&tr)?.nc1);
    }
    // NC1 where the training set is first fitted: checked at θ₀ and every FIT_EVERY steps.
    let mut watch_fit = finals.iter().any(|m| m.needs_first_fit());
    let mut observe_fit = |tr: &mut Trainer, rec: &mut RunRecord| -> Result<()> {
        if watch_fit && tr.evaluate().train_accuracy >= 1.0 {
            rec.nc1_first_fit = Some(metrics::collapse_of(tr)?.nc1);
            watch_fit = false;
        }
        Ok(())
    };
    observe_fit(&mut tr, &mut rec)?;
    // The session's stop rule ends the run early, as in `nnlab run` (e.g. at the first 100 %
    // training accuracy).
    let mut watch = session
        .stop
        .clone()
        .filter(|r| !r.is_empty())
        .map(|r| StopWatch::new(r, tr.iterations_per_epoch() as u64));
    let theta0 = tr.theta.clone();
    let mut prev = tr.theta.clone();
    for s in 1..=steps {
        let r = tr.step();
        if let Some(b) = &mut bands
            && !r.diverged
        {
            b.observe(&mut tr, s == steps);
        }
        rec.mistakes.push(r.mistakes);
        if let Some((_, top)) = &valley {
            let d: f64 = top
                .iter()
                .zip(tr.theta.iter().zip(&prev))
                .map(|(v, (a, b))| v * (a - b))
                .sum();
            rec.across_path += d.abs();
            prev.copy_from_slice(&tr.theta);
        }
        if r.diverged {
            rec.diverged = true;
            break;
        }
        if s.is_multiple_of(edge_every) || s == steps {
            observe_edge(&tr, &mut rec)?;
        }
        if s.is_multiple_of(metrics::FIT_EVERY) || s == steps {
            observe_fit(&mut tr, &mut rec)?;
        }
        if let Some(w) = watch.as_mut() {
            let eval = w.evaluation_due(tr.step).then(|| tr.evaluate());
            if w.check(tr.step, tr.epoch, eval.as_ref()).is_some() {
                // The run ends here: a fit at this step is the first one.
                observe_fit(&mut tr, &mut rec)?;
                break;
            }
        }
    }
    if let Some((bottom, _)) = &valley {
        let d: f64 = bottom
            .iter()
            .zip(tr.theta.iter().zip(&theta0))
            .map(|(v, (a, b))| v * (a - b))
            .sum();
        rec.along = d.abs();
    }
    rec.bands = bands.map(|b| b.history);
    for m in finals {
        out.insert(m, metrics::after(m, &mut tr, &rec)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(v: &mut Value, path: &str, new: Value) -> std::result::Result<(), String> {
        let parts: Vec<&str> = path.split('.').collect();
        set_path(v, &parts, &new)
    }

    #[test]
    fn paths_set_fields_elements_and_every_element() {
        let mut v = json!({"a": {"b": [{"c": 1}, {"c": 2}]}});
        set(&mut v, "a.b.1.c", json!(5)).unwrap();
        assert_eq!(v, json!({"a": {"b": [{"c": 1}, {"c": 5}]}}));
        set(&mut v, "a.b.*.c", json!("x")).unwrap();
        assert_eq!(v, json!({"a": {"b": [{"c": "x"}, {"c": "x"}]}}));
        // Missing objects on the way are created (e.g. network.features).
        set(&mut v, "d.e", json!(true)).unwrap();
        assert_eq!(v["d"], json!({"e": true}));
    }

    #[test]
    fn bad_paths_say_what_is_wrong() {
        let mut v = json!({"a": [1, 2], "n": 3});
        assert!(
            set(&mut v, "a.7", json!(0))
                .unwrap_err()
                .contains("past the end")
        );
        assert!(
            set(&mut v, "a.x", json!(0))
                .unwrap_err()
                .contains("not an index")
        );
        assert!(
            set(&mut v, "n.m", json!(0))
                .unwrap_err()
                .contains("not an object")
        );
    }

    #[test]
    fn numbers_print_with_four_significant_digits() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(1.0), "1");
        assert_eq!(fmt_num(0.5), "0.5000");
        assert_eq!(fmt_num(61.234), "61.23");
        assert_eq!(fmt_num(1e-9), "1.000e-9");
        assert_eq!(fmt_num(4.2e6), "4.200e6");
        assert_eq!(fmt_num(f64::NAN), "NaN");
    }

    #[test]
    fn comparisons_never_pass_on_nan() {
        use super::super::Op;
        for op in [Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Eq] {
            assert!(!op.holds(f64::NAN, 1.0), "{op:?}");
            assert!(!op.holds(1.0, f64::NAN), "{op:?}");
        }
        assert!(Op::Le.holds(1.0, 1.0) && !Op::Lt.holds(1.0, 1.0));
    }
}
