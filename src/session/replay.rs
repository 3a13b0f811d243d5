//! Replay: re-run a recorded session deterministically (live edits applied at their steps) to
//! reach any step, check that the re-run is bit-identical to the recording, or fork a new
//! session from any step.

use crate::error::{Error, Result};
use crate::train::{Evaluation, StepReport, Trainer, TrainerState};

use super::{Loaded, Session, initial_trainer, trainer_with_state};

/// The first difference between a recording and its re-run.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// Steps taken when the difference appeared.
    pub step: u64,
    /// What differs, as a field path (`history.batch_loss`, `checkpoints[3].theta[17]`).
    pub field: String,
    /// The value in the file.
    pub recorded: String,
    /// The value the re-run produced.
    pub recomputed: String,
}

/// What `verify` compared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Steps re-run.
    pub steps: u64,
    /// Recorded step reports compared.
    pub step_reports: usize,
    /// Recorded evaluations compared.
    pub evaluations: usize,
    /// Checkpoints compared.
    pub checkpoints: usize,
    /// Whether the final `state` was compared.
    pub state: bool,
    /// Recorded edits applied.
    pub edits: usize,
    /// None: bit-identical.
    pub mismatch: Option<Mismatch>,
}

/// Same bits, or both NaN (JSON keeps no NaN payload).
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// `{:?}` of an f64 prints the shortest representation that reads back to the same bits.
fn show(x: f64) -> String {
    format!("{x:?}")
}

fn mismatch(step: u64, field: String, recorded: String, recomputed: String) -> Option<Mismatch> {
    Some(Mismatch {
        step,
        field,
        recorded,
        recomputed,
    })
}

fn diff_f64s(step: u64, field: &str, a: &[f64], b: &[f64]) -> Option<Mismatch> {
    if a.len() != b.len() {
        return mismatch(
            step,
            format!("{field}.len"),
            a.len().to_string(),
            b.len().to_string(),
        );
    }
    let i = a.iter().zip(b).position(|(x, y)| !same(*x, *y))?;
    mismatch(step, format!("{field}[{i}]"), show(a[i]), show(b[i]))
}

fn diff_value<T: PartialEq + std::fmt::Debug>(
    step: u64,
    field: &str,
    a: &T,
    b: &T,
) -> Option<Mismatch> {
    (a != b).then(|| Mismatch {
        step,
        field: field.to_string(),
        recorded: format!("{a:?}"),
        recomputed: format!("{b:?}"),
    })
}

/// The first field where two trainer states differ (floats compared bit for bit).
pub fn diff_states(field: &str, rec: &TrainerState, now: &TrainerState) -> Option<Mismatch> {
    let step = rec.step;
    let (rv, rs) = rec.optimizer.state_vectors();
    let (nv, ns) = now.optimizer.state_vectors();
    diff_value(step, &format!("{field}.step"), &rec.step, &now.step)
        .or_else(|| diff_value(step, &format!("{field}.epoch"), &rec.epoch, &now.epoch))
        .or_else(|| {
            diff_value(
                step,
                &format!("{field}.iteration"),
                &rec.iteration,
                &now.iteration,
            )
        })
        .or_else(|| {
            diff_value(
                step,
                &format!("{field}.mistakes"),
                &rec.mistakes,
                &now.mistakes,
            )
        })
        .or_else(|| diff_f64s(step, &format!("{field}.theta"), &rec.theta, &now.theta))
        .or_else(|| {
            diff_value(
                step,
                &format!("{field}.optimizer.spec"),
                rec.optimizer.spec(),
                now.optimizer.spec(),
            )
        })
        .or_else(|| {
            diff_value(
                step,
                &format!("{field}.optimizer.t"),
                &rec.optimizer.steps(),
                &now.optimizer.steps(),
            )
        })
        .or_else(|| {
            diff_value(
                step,
                &format!("{field}.optimizer.state_steps"),
                &rec.optimizer.state_steps(),
                &now.optimizer.state_steps(),
            )
        })
        .or_else(|| diff_f64s(step, &format!("{field}.optimizer.velocity"), rv, nv))
        .or_else(|| diff_f64s(step, &format!("{field}.optimizer.second_moment"), rs, ns))
        .or_else(|| {
            diff_value(
                step,
                &format!("{field}.regularization"),
                &rec.regularization,
                &now.regularization,
            )
        })
        .or_else(|| diff_value(step, &format!("{field}.rng"), &rec.rng, &now.rng))
        .or_else(|| diff_value(step, &format!("{field}.perm"), &rec.perm, &now.perm))
        .or_else(|| match (&rec.feedback, &now.feedback) {
            (Some(a), Some(b)) => diff_f64s(step, &format!("{field}.feedback"), a, b),
            _ => None,
        })
}

fn diff_reports(rec: &StepReport, now: &StepReport) -> Option<Mismatch> {
    let step = rec.step;
    let f = |name: &str, a: f64, b: f64| {
        (!same(a, b)).then(|| Mismatch {
            step,
            field: format!("history.{name}"),
            recorded: show(a),
            recomputed: show(b),
        })
    };
    if let Some(m) = diff_value(step, "history.step", &rec.step, &now.step)
        .or_else(|| diff_value(step, "history.epoch", &rec.epoch, &now.epoch))
        .or_else(|| f("lr", rec.lr, now.lr))
        .or_else(|| f("batch_loss", rec.batch_loss, now.batch_loss))
        .or_else(|| f("grad_norm", rec.grad_norm, now.grad_norm))
        .or_else(|| diff_value(step, "history.mistakes", &rec.mistakes, &now.mistakes))
        .or_else(|| diff_value(step, "history.diverged", &rec.diverged, &now.diverged))
    {
        return Some(m);
    }
    if rec.layers.is_empty() {
        return None;
    }
    if rec.layers.len() != now.layers.len() {
        return mismatch(
            step,
            "history.layers.len".into(),
            rec.layers.len().to_string(),
            now.layers.len().to_string(),
        );
    }
    for (l, (a, b)) in rec.layers.iter().zip(&now.layers).enumerate() {
        let cols = [
            ("grad_norm", a.grad_norm, b.grad_norm),
            ("update_norm", a.update_norm, b.update_norm),
            ("weight_norm", a.weight_norm, b.weight_norm),
            ("act_mean", a.act_mean, b.act_mean),
            ("act_std", a.act_std, b.act_std),
            ("saturated", a.saturated, b.saturated),
            ("dead", a.dead, b.dead),
        ];
        for (name, x, y) in cols {
            if let Some(m) = f(&format!("layers[{l}].{name}"), x, y) {
                return Some(m);
            }
        }
    }
    None
}

/// `fit`: the recording has this step's regression fit (files written before it existed do
/// not, nor do their steps when training went on in a newer version; the training set's RMSE
/// is never NaN where it was recorded).
fn diff_evaluations(step: u64, rec: &Evaluation, now: &Evaluation, fit: bool) -> Option<Mismatch> {
    let mut cols = vec![
        ("train_loss", rec.train_loss, now.train_loss),
        ("train_accuracy", rec.train_accuracy, now.train_accuracy),
        ("test_loss", rec.test_loss, now.test_loss),
        ("test_accuracy", rec.test_accuracy, now.test_accuracy),
    ];
    if fit {
        cols.extend([
            ("train_rmse", rec.train_rmse, now.train_rmse),
            ("train_r2", rec.train_r2, now.train_r2),
            ("test_rmse", rec.test_rmse, now.test_rmse),
            ("test_r2", rec.test_r2, now.test_r2),
        ]);
    }
    cols.into_iter()
        .find(|(_, a, b)| !same(*a, *b))
        .map(|(n, a, b)| Mismatch {
            step,
            field: format!("history.evaluations.{n}"),
            recorded: show(a),
            recomputed: show(b),
        })
}

/// Apply the edits recorded at the trainer's current step, starting at `edits[*next]`.
fn apply_edits_here(session: &Session, t: &mut Trainer, next: &mut usize) -> Result<()> {
    while let Some(e) = session.edits.get(*next) {
        if e.step > t.step {
            break;
        }
        if e.step == t.step {
            t.apply_edit(&e.edit)
                .map_err(|err| err.context(format!("edits[{}] at step {}", *next, e.step)))?;
        }
        *next += 1;
    }
    Ok(())
}

/// The trainer after `step` steps of the recorded run, with the edits recorded at `step`
/// applied (what the person had at that moment, ready to take step `step + 1`). Starts from
/// the session's state when `step` is its step, else from the nearest checkpoint at or before
/// `step` (or step 0), and re-runs from there.
pub fn state_at(loaded: &Loaded, step: u64) -> Result<Trainer> {
    state_at_reporting(loaded, step, &mut |_, _| {})
}

/// Steps between two calls of a replay's progress callback.
const PROGRESS_EVERY: u64 = 4096;

/// [`state_at`], calling `progress(step, target)` every few thousand steps re-run.
pub fn state_at_reporting(
    loaded: &Loaded,
    step: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Trainer> {
    let s = &loaded.session;
    let last = s.last_step();
    if step > last {
        return Err(Error::new(format!(
            "step {step} is beyond the recording (its last step is {last})"
        )));
    }
    if let Some(state) = &s.state
        && state.step == step
    {
        return trainer_with_state(loaded, state);
    }
    let from = s.checkpoints.iter().rev().find(|c| c.step <= step);
    let mut t = match from {
        Some(c) => trainer_with_state(loaded, c)?,
        None => initial_trainer(loaded)?,
    };
    let mut next = s.edits.partition_point(|e| e.step < t.step);
    loop {
        apply_edits_here(s, &mut t, &mut next)?;
        if t.step >= step {
            break;
        }
        t.step();
        if t.step.is_multiple_of(PROGRESS_EVERY) {
            progress(t.step, step);
        }
    }
    Ok(t)
}

/// Re-run the recorded session from step 0 (never from a checkpoint) to its last step, applying
/// the recorded edits, and compare every recorded step report, evaluation, checkpoint and the
/// final state bit for bit. Stops at the first difference.
pub fn verify(loaded: &Loaded) -> Result<Report> {
    verify_reporting(loaded, &mut |_, _| {})
}

/// [`verify`], calling `progress(step, last)` every few thousand steps re-run.
pub fn verify_reporting(loaded: &Loaded, progress: &mut dyn FnMut(u64, u64)) -> Result<Report> {
    let s = &loaded.session;
    let last = s.last_step();
    let mut t = initial_trainer(loaded)?;
    let mut report = Report::default();
    let (mut h, mut ev, mut ck, mut next) = (0usize, 0usize, 0usize, 0usize);
    let hist = &s.history;
    loop {
        // The recorded evaluations and checkpoint at this step were taken before its edits.
        while ck < s.checkpoints.len() && s.checkpoints[ck].step < t.step {
            ck += 1;
        }
        if let Some(c) = s.checkpoints.get(ck)
            && c.step == t.step
        {
            report.checkpoints += 1;
            if let Some(m) = diff_states(&format!("checkpoints[{ck}]"), c, &t.export_state()) {
                report.mismatch = Some(m);
                return Ok(report);
            }
            ck += 1;
        }
        while ev < hist.evaluations.len() && hist.evaluations.step[ev] <= t.step {
            let (at, rec) = hist.evaluations.get(ev);
            if at == t.step {
                report.evaluations += 1;
                if let Some(m) = diff_evaluations(at, &rec, &t.evaluate(), !rec.train_rmse.is_nan())
                {
                    report.mismatch = Some(m);
                    return Ok(report);
                }
            }
            ev += 1;
        }
        let before = next;
        apply_edits_here(s, &mut t, &mut next)?;
        report.edits += next - before;
        if t.step >= last {
            break;
        }
        let r = t.step();
        report.steps += 1;
        if r.step.is_multiple_of(PROGRESS_EVERY) {
            progress(r.step, last);
        }
        while h < hist.len() && hist.step[h] < r.step {
            h += 1;
        }
        if h < hist.len() && hist.step[h] == r.step {
            report.step_reports += 1;
            if let Some(m) = diff_reports(&hist.report(h), &r) {
                report.mismatch = Some(m);
                return Ok(report);
            }
            h += 1;
        }
    }
    if let Some(state) = &s.state {
        report.state = true;
        report.mismatch = diff_states("state", state, &t.export_state());
    }
    Ok(report)
}

/// A new session that continues from `step` of a recorded one: its recording up to `step`
/// (history, edits, checkpoints, analyses), with the state at `step` as its state.
pub fn fork(loaded: &Loaded, step: u64) -> Result<Session> {
    fork_reporting(loaded, step, &mut |_, _| {})
}

/// [`fork`], calling `progress(step, target)` while it re-runs to `step`.
pub fn fork_reporting(
    loaded: &Loaded,
    step: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Session> {
    let t = state_at_reporting(loaded, step, progress)?;
    let mut s = loaded.session.clone();
    if s.initial_params.is_none() {
        s.initial_params = initial_trainer(loaded).map(|t0| t0.theta)?.into();
    }
    s.name = format!("{} (fork at step {step})", s.name);
    s.history.truncate_after(step);
    s.edits.retain(|e| e.step <= step);
    s.checkpoints.retain(|c| c.step <= step);
    s.analyses.retain(|a| a.step <= step);
    s.params = Some(t.theta.clone());
    s.state = Some(t.export_state());
    Ok(s)
}
