//! `nnlab ntk`: the empirical neural tangent kernel of the session's regression network,
//! trained at several widths (every hidden layer that wide): the kernel's and the weights'
//! relative change against step, f beside its linearisation and kernel regression with Θ₀,
//! and the log-log slope of the final kernel change against width.

use std::path::Path;

use serde_json::{Value, json};

use crate::analysis::ntk::{
    MAX_WIDTH, Parameterisation, Setup, network_of_width, run, width_slope,
};
use crate::error::{Error, Result};
use crate::session;

use super::progress::Progress;

/// Options from the command line.
#[derive(clap::Args, Clone, Debug)]
pub struct NtkArgs {
    /// Hidden widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16,64,256,1024")]
    pub widths: Vec<usize>,
    /// ntk: weights N(0,1) scaled by 1/√fan_in in the layer; standard: W ~ N(0, 1/fan_in).
    #[arg(long, value_enum, default_value_t = Parameterisation::Ntk)]
    pub param: Parameterisation,
    /// Output scale α (large: lazy; small: rich).
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f64,
    /// Full-batch GD steps.
    #[arg(long, default_value_t = 1000)]
    pub steps: u64,
    /// η = factor · n / λ_max(Θ₀).
    #[arg(long, default_value_t = 0.5)]
    pub lr_factor: f64,
    /// Kernel records along each run.
    #[arg(long, default_value_t = 20)]
    pub records: usize,
}

/// `nnlab ntk`: trains the session's network at each width and returns the kernel and weight
/// changes, the linearised model's distance and the width slope as JSON.
pub fn ntk_command(path: &Path, args: &NtkArgs) -> Result<Value> {
    if args.widths.is_empty() || args.widths.iter().any(|&w| w == 0 || w > MAX_WIDTH) {
        return Err(Error::field(
            "--widths",
            format!("must list widths from 1 to {MAX_WIDTH}"),
        ));
    }
    if !(1..=1000).contains(&args.records) {
        return Err(Error::field("--records", "must be between 1 and 1000"));
    }
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let s = &loaded.session;
    if loaded.train.classes != 0 {
        return Err(Error::new(format!(
            "{name}: the NTK experiment is a regression (this data has class labels)"
        )));
    }
    if s.network.layers.len() < 2 {
        return Err(Error::new(format!(
            "{name}: the network has no hidden layer to widen"
        )));
    }
    let mut runs = Vec::new();
    let mut progress = Progress::new(format!("{name}: ntk"));
    for &w in &args.widths {
        progress.update(|| format!("width {w}"));
        let net =
            network_of_width(&s.network, w).map_err(|e| Error::new(format!("{name}: {e}")))?;
        let setup = Setup {
            param: args.param,
            alpha: args.alpha,
            steps: args.steps,
            lr_factor: args.lr_factor,
            records: args.records,
            seed: s.seed,
        };
        let r = run(&net, &loaded.train.x, &loaded.train.y, &setup)
            .map_err(|e| Error::new(format!("{name}: width {w}: {e}")))?;
        runs.push(r);
    }
    let slope = width_slope(&args.widths, &runs);
    Ok(json!({
        "param": args.param,
        "alpha": args.alpha,
        "widths": args.widths,
        "kernel_change_slope": slope,
        "final_kernel_change": runs.iter().map(|r| r.kernel_change.last().copied()).collect::<Vec<_>>(),
        "final_weight_change": runs.iter().map(|r| r.weight_change.last().copied()).collect::<Vec<_>>(),
        "lin_gap_train": runs.iter().map(|r| r.lin_gap_train).collect::<Vec<_>>(),
        "lin_gap_grid": runs.iter().map(|r| r.lin_gap_grid).collect::<Vec<_>>(),
        "runs": runs,
    }))
}
