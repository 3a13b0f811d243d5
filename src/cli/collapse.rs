//! `nnlab collapse`: train a K-class session and record neural collapse of the last hidden
//! layer against step (NC1, the class means' cosines, NC3, NC4), the step of the first 100 %
//! training accuracy, and a 2-D PCA of the last hidden layer at the end.

use std::path::Path;

use serde_json::{Value, json};

use crate::analysis::collapse::{Collapse, collapse, features, pca2};
use crate::error::{Error, Result};
use crate::session;
use crate::train::Trainer;

/// Options from the command line.
#[derive(clap::Args, Clone, Debug)]
pub struct CollapseArgs {
    /// Training steps.
    #[arg(long, default_value_t = 5000)]
    pub steps: u64,
    /// Measure every K steps (and at steps 0 and N).
    #[arg(long, default_value_t = 50)]
    pub every: u64,
}

/// Most records (steps / every).
const MAX_RECORDS: u64 = 100_000;

/// The recorded run.
pub struct CollapseRun {
    /// The recorded steps.
    pub steps: Vec<u64>,
    /// Neural collapse of the last hidden layer at each recorded step.
    pub records: Vec<Collapse>,
    /// The first recorded step with 100 % training accuracy.
    pub first_fit: Option<u64>,
    /// PCA of the last hidden layer at the end, and the class of each point.
    pub pca: Vec<[f64; 2]>,
    /// The class of each PCA point.
    pub labels: Vec<usize>,
    /// Training stopped early (the loss or θ stopped being finite) at this step.
    pub diverged_at: Option<u64>,
}

fn measure(t: &Trainer) -> Result<(Collapse, Vec<[f64; 2]>, Vec<usize>)> {
    let f = features(&t.net, &t.theta, t.training_rows()).map_err(Error::new)?;
    let c = collapse(&f).map_err(Error::new)?;
    Ok((c, pca2(&f).map_err(Error::new)?, f.labels))
}

/// Train `t` for `steps` steps, measuring every `every`.
pub fn record(t: &mut Trainer, steps: u64, every: u64) -> Result<CollapseRun> {
    let mut run = CollapseRun {
        steps: Vec::new(),
        records: Vec::new(),
        first_fit: None,
        pca: Vec::new(),
        labels: Vec::new(),
        diverged_at: None,
    };
    let take = |t: &Trainer, run: &mut CollapseRun| -> Result<()> {
        let (c, pca, labels) = measure(t)?;
        if run.first_fit.is_none() && c.accuracy == 1.0 {
            run.first_fit = Some(t.step);
        }
        run.steps.push(t.step);
        run.records.push(c);
        run.pca = pca;
        run.labels = labels;
        Ok(())
    };
    take(t, &mut run)?;
    for s in 1..=steps {
        let r = t.step();
        if r.diverged {
            run.diverged_at = Some(r.step);
            break;
        }
        if s.is_multiple_of(every) || s == steps {
            take(t, &mut run)?;
        }
    }
    Ok(run)
}

/// `nnlab collapse`: trains the session and returns the JSON report of [`CollapseRun`].
pub fn collapse_command(path: &Path, args: &CollapseArgs) -> Result<Value> {
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
    let run = record(&mut t, args.steps, args.every).map_err(|e| e.context(&name))?;
    let col = |f: fn(&Collapse) -> f64| -> Vec<f64> { run.records.iter().map(f).collect() };
    let first = run.records.first();
    let last = run.records.last();
    Ok(json!({
        "steps": run.steps,
        "nc1": col(|c| c.nc1),
        "cosine_mean": col(|c| c.cosine_mean),
        "cosine_std": col(|c| c.cosine_std),
        "cosine_target": first.map(|c| c.cosine_target),
        "norm_variation": col(|c| c.norm_variation),
        "nc3": col(|c| c.nc3),
        "nc3_cosine": col(|c| c.nc3_cosine),
        "nc4_agreement": col(|c| c.nc4_agreement),
        "accuracy": col(|c| c.accuracy),
        "first_fit": run.first_fit,
        "nc1_drop": match (first, last) {
            (Some(a), Some(b)) => json!(a.nc1 / b.nc1),
            _ => Value::Null,
        },
        "final": last,
        "pca": run.pca,
        "labels": run.labels,
        "diverged_at": run.diverged_at,
    }))
}
