//! `nnlab stability`: train the session and record, every K steps, the sharpness its
//! optimiser's stability threshold applies to (λ_max(H) or λ_max(P⁻¹H)) against that threshold
//! (2/η, (2+2μ)/η, …): progressive sharpening and the edge of stability.

use std::path::Path;

use serde_json::{Value, json};

use crate::analysis::stability::{EdgeSeries, edge};
use crate::error::{Error, Result};
use crate::session;

use super::progress::Progress;

/// Options from the command line.
#[derive(clap::Args, Clone, Debug)]
pub struct StabilityArgs {
    /// Training steps.
    #[arg(long, default_value_t = 2000)]
    pub steps: u64,
    /// Measure the sharpness every K steps (and at steps 0 and N).
    #[arg(long, default_value_t = 20)]
    pub every: u64,
}

/// Most records (steps / every): each is a Lanczos run.
const MAX_RECORDS: u64 = 10_000;

/// `nnlab stability`: trains the session and returns the optimiser's sharpness against its
/// stability threshold at each recorded step, as JSON.
pub fn stability_command(path: &Path, args: &StabilityArgs) -> Result<Value> {
    if args.every == 0 || args.steps / args.every > MAX_RECORDS {
        return Err(Error::field(
            "--every",
            format!(
                "must be at least 1 and at least --steps / {MAX_RECORDS} (got {})",
                args.every
            ),
        ));
    }
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let mut t = session::trainer(&loaded).map_err(|e| e.context(&name))?;
    let first = edge(t.optimizer.spec(), t.optimizer.learning_rate());
    if first.threshold.is_none() {
        return Err(Error::new(format!(
            "{name}: the {} rule has no stability threshold (its update is not the gradient of the objective)",
            serde_json::to_value(t.optimizer.spec().kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        )));
    }
    let mut series = EdgeSeries::default();
    let mut progress = Progress::new(format!("{name}: stability"));
    let mut diverged_at = None;
    let observe = |t: &crate::train::Trainer, series: &mut EdgeSeries| {
        series
            .observe(t.step, t.hessian_problem(false), &t.optimizer, t.seed)
            .map_err(|e| Error::new(format!("{name}: {e}")))
    };
    observe(&t, &mut series)?;
    for s in 1..=args.steps {
        let r = t.step();
        if r.diverged {
            diverged_at = Some(r.step);
            break;
        }
        if s.is_multiple_of(args.every) || s == args.steps {
            observe(&t, &mut series)?;
            progress.update(|| format!("step {s} of {}", args.steps));
        }
    }
    let summary = series.summary();
    Ok(json!({
        "optimizer": t.optimizer.spec().kind,
        "quantity": first.quantity,
        "quantity_formula": first.quantity.formula(),
        "threshold_formula": first.formula,
        "clipped": first.clipped,
        "reach": crate::analysis::stability::REACH,
        "steps": series.steps,
        "sharpness": series.values,
        "threshold": series.thresholds,
        "lr": series.lrs,
        "summary": summary,
        "diverged_at": diverged_at,
    }))
}
