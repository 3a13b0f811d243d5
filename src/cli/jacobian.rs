//! `nnlab jacobian`: singular values of ∂h⁽ˡ⁾/∂h⁽¹⁾ per depth at the session's θ.

use std::path::Path;

use serde_json::{Value, json};

use crate::analysis::jacobian::{MAX_POINTS, jacobian_spectrum};
use crate::error::{Error, Result};
use crate::session;

/// Options from the command line.
#[derive(clap::Args, Clone, Debug)]
pub struct JacobianArgs {
    /// Training rows the Jacobian is evaluated at (the first N).
    #[arg(long, default_value_t = 32)]
    pub points: usize,
    /// Leave out the singular values themselves (only the summary per depth).
    #[arg(long)]
    pub summary: bool,
}

/// `nnlab jacobian`: the Jacobian's singular values per depth at the session's θ, as JSON.
pub fn jacobian_command(path: &Path, args: &JacobianArgs) -> Result<Value> {
    if !(1..=MAX_POINTS).contains(&args.points) {
        return Err(Error::field(
            "--points",
            format!("must be between 1 and {MAX_POINTS} (got {})", args.points),
        ));
    }
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let mut t = session::trainer(&loaded).map_err(|e| e.context(&name))?;
    let rows = args.points.min(t.train.rows());
    let bn = t.train_bn_stats();
    let x = &t.train.x[..rows * t.net.inputs];
    let report =
        jacobian_spectrum(&t.net, &t.theta, bn.as_ref(), x, rows).map_err(|e| e.context(&name))?;
    let depths: Vec<Value> = report
        .depths
        .iter()
        .map(|d| {
            let mut v = json!({
                "layer": d.layer,
                "mean_sq": d.mean_sq,
                "predicted_mean_sq": d.predicted_mean_sq,
                "min": d.min,
                "max": d.max,
                "spread": d.spread,
            });
            if !args.summary {
                v["singular_values"] = json!(d.singular_values);
            }
            v
        })
        .collect();
    Ok(json!({
        "step": t.step,
        "points": report.points,
        "depths": depths,
    }))
}
