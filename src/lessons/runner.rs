//! Run a lesson's check headless: build each variant, measure, compare.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::metrics::{self, Metric, RunRecord};
use super::{Check, Expect, LessonFile, Variant};
use crate::error::{Error, Result};
use crate::session::{self, Session};
use crate::train::Trainer;

/// `Fast` uses each check's `fast_steps` (what CI runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Full,
    Fast,
}

/// One expectation, measured.
#[derive(Clone, Debug, Serialize)]
pub struct ExpectResult {
    pub variant: String,
    pub metric: String,
    pub measured: f64,
    /// `< 0.001` or `≤ 1 × bound (= 61.2)`.
    pub expected: String,
    pub pass: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct LessonResult {
    pub name: String,
    pub row: u32,
    pub results: Vec<ExpectResult>,
    /// The check could not run (bad variant, analysis refused …).
    pub error: Option<String>,
    pub seconds: f64,
}

impl LessonResult {
    pub fn passed(&self) -> bool {
        self.error.is_none() && !self.results.is_empty() && self.results.iter().all(|r| r.pass)
    }
}

/// Run the check of a lesson file.
pub fn run_lesson(file: &LessonFile, mode: Mode) -> LessonResult {
    run_session_lesson(&file.session, file.path.parent(), &file.name, mode)
}

/// Run the check of a session's lesson; `dir` is where its CSV paths are relative to.
pub fn run_session_lesson(
    session: &Session,
    dir: Option<&Path>,
    name: &str,
    mode: Mode,
) -> LessonResult {
    let start = std::time::Instant::now();
    let row = session.lesson.as_ref().map_or(0, |l| l.row);
    let (results, error) = match measure(session, dir, mode) {
        Ok(r) => (r, None),
        Err(e) => (Vec::new(), Some(e.message)),
    };
    LessonResult {
        name: name.to_string(),
        row,
        results,
        error,
        seconds: start.elapsed().as_secs_f64(),
    }
}

fn measure(session: &Session, dir: Option<&Path>, mode: Mode) -> Result<Vec<ExpectResult>> {
    let lesson = session
        .lesson
        .as_ref()
        .ok_or_else(|| Error::new("the session has no lesson"))?;
    let check = &lesson.check;
    check.validate()?;
    let steps = match mode {
        Mode::Full => check.steps,
        Mode::Fast => check.fast_steps.unwrap_or(check.steps),
    };
    let runs = check.runs();
    let first = runs[0].name.clone();
    // Which metrics each variant needs.
    let mut needed: BTreeMap<String, BTreeSet<Metric>> = BTreeMap::new();
    for e in &check.expect {
        let v = e.variant.clone().unwrap_or_else(|| first.clone());
        needed.entry(v.clone()).or_default().insert(e.metric);
        if let Some(r) = &e.than {
            let rv = r.variant.clone().unwrap_or(v);
            needed.entry(rv).or_default().insert(r.metric);
        }
    }
    let mut measured: BTreeMap<(String, Metric), f64> = BTreeMap::new();
    for v in &runs {
        let Some(want) = needed.get(&v.name) else {
            continue;
        };
        let m = run_variant(session, dir, v, steps, want, check)
            .map_err(|e| e.context(format!("variant {}", v.name)))?;
        for (k, val) in m {
            measured.insert((v.name.clone(), k), val);
        }
    }
    Ok(check
        .expect
        .iter()
        .map(|e| compare(e, &first, &measured))
        .collect())
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
        ..RunRecord::default()
    };
    let valley = if finals.iter().any(|m| m.needs_valley()) {
        Some(metrics::valley_directions(&tr)?)
    } else {
        None
    };
    let theta0 = tr.theta.clone();
    let mut prev = tr.theta.clone();
    for _ in 0..steps {
        let r = tr.step();
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
    }
    if let Some((bottom, _)) = &valley {
        let d: f64 = bottom
            .iter()
            .zip(tr.theta.iter().zip(&theta0))
            .map(|(v, (a, b))| v * (a - b))
            .sum();
        rec.along = d.abs();
    }
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
