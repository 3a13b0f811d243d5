//! `nnlab spectral-bias`: train a 1-D regression session and record the residual's Fourier
//! spectrum against step (the frequency principle).

use std::path::Path;

use serde_json::{Value, json};

use crate::analysis::spectral_bias::{BandHistory, FourierBasis, converge_in_order};
use crate::error::{Error, Result};
use crate::session;
use crate::train::Trainer;

/// Options from the command line.
#[derive(clap::Args, Clone, Debug)]
pub struct SpectralBiasArgs {
    /// Training steps.
    #[arg(long, default_value_t = 2000)]
    pub steps: u64,
    /// Record the spectrum every K steps (and at steps 0 and N).
    #[arg(long, default_value_t = 10)]
    pub every: u64,
    /// Frequencies analysed, k = 0 … K−1 cycles over the input interval.
    #[arg(long, default_value_t = 32)]
    pub frequencies: usize,
    /// A peak has converged once its relative error stays below this.
    #[arg(long, default_value_t = 0.1)]
    pub threshold: f64,
}

/// Most recorded spectra (steps / every).
const MAX_RECORDS: u64 = 100_000;
/// A target peak carries at least this share of the largest one.
pub const PEAK_SHARE: f64 = 0.1;

/// The recorded run: the target's peaks and, per recorded step, the relative error at each
/// peak and the residual's amplitude at every frequency.
pub struct SpectralRun {
    /// The frequencies of the interval and the target's peaks among them.
    pub basis: FourierBasis,
    /// The relative error at each peak, per recorded step.
    pub history: BandHistory,
    /// \[record\]\[k\]: |r̂(k)|.
    pub heatmap: Vec<Vec<f64>>,
}

/// Train `t` for `steps` steps, recording every `every`.
pub fn record(t: &mut Trainer, steps: u64, every: u64, frequencies: usize) -> Result<SpectralRun> {
    if t.net.inputs != 1 || t.train.classes != 0 {
        return Err(Error::new(format!(
            "spectral bias is measured on 1-D regression data (this has {} input(s){})",
            t.net.inputs,
            if t.train.classes == 0 {
                ""
            } else {
                " and class labels"
            }
        )));
    }
    let rows = t.train.rows();
    let x = t.train.x.clone();
    let basis = FourierBasis::new(&x, &t.train.y, frequencies)?;
    let peaks = basis.peaks(PEAK_SHARE);
    let mut history = BandHistory {
        frequencies: peaks.clone(),
        ..BandHistory::default()
    };
    let mut heatmap = Vec::new();
    let mut take = |t: &mut Trainer, history: &mut BandHistory| {
        let f = t.predict(&x, rows);
        let r: Vec<f64> = f.iter().zip(&t.train.y).map(|(a, b)| a - b).collect();
        heatmap.push(basis.amplitudes(&r));
        history.steps.push(t.step);
        history.errors.push(basis.relative_errors(&f, &peaks));
    };
    take(t, &mut history);
    for s in 1..=steps {
        let report = t.step();
        if report.diverged {
            return Err(Error::new(format!(
                "training diverged at step {} (the loss or a parameter is no longer finite); lower optimizer.lr",
                report.step
            )));
        }
        if s % every == 0 || s == steps {
            take(t, &mut history);
        }
    }
    Ok(SpectralRun {
        basis,
        history,
        heatmap,
    })
}

/// `nnlab spectral-bias`: trains a 1-D regression and returns the per-peak errors against step
/// (and whether the low frequencies converged first) as JSON.
pub fn spectral_bias_command(path: &Path, args: &SpectralBiasArgs) -> Result<Value> {
    if args.every == 0 || args.steps / args.every > MAX_RECORDS {
        return Err(Error::field(
            "--every",
            format!(
                "must be at least 1 and at least --steps / {MAX_RECORDS} (got {})",
                args.every
            ),
        ));
    }
    if !(args.threshold.is_finite() && args.threshold > 0.0) {
        return Err(Error::field("--threshold", "must be a finite number > 0"));
    }
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let mut t = session::trainer(&loaded).map_err(|e| e.context(&name))?;
    let run =
        record(&mut t, args.steps, args.every, args.frequencies).map_err(|e| e.context(&name))?;
    let h = &run.history;
    let order = match converge_in_order(h, args.threshold) {
        Ok(b) => json!(b),
        Err(e) => json!({ "refused": e.message }),
    };
    let converged: Vec<Value> = h
        .convergence_steps(args.threshold)
        .into_iter()
        .map(|s| s.map_or(Value::Null, |s| json!(s)))
        .collect();
    Ok(json!({
        "frequencies": run.basis.frequencies,
        "target_amplitude": run.basis.target,
        "peaks": h.frequencies,
        "steps": h.steps,
        "relative_error": h.errors,
        "residual_amplitude": run.heatmap,
        "threshold": args.threshold,
        "converged_at": converged,
        "low_first": order,
    }))
}
