//! `nnlab hessian`: the spectrum of the same objective `nnlab grad` reports.

use std::path::Path;

use crate::analysis::hessian::{MAX_DENSE_PARAMS, Method, Options, analyse_reporting};
use crate::error::{Error, Result};
use crate::session;

use super::progress::Progress;

/// Most eigenpairs at each end (`--k`): Lanczos takes at most 400 products, which resolve far
/// fewer extreme pairs than that.
pub const MAX_K: usize = 100;

/// Options from the command line.
pub struct HessianArgs {
    pub method: Option<Method>,
    pub k: usize,
    pub density: bool,
    pub gauss_newton: bool,
}

pub fn hessian(path: &Path, args: HessianArgs) -> Result<serde_json::Value> {
    if !(1..=MAX_K).contains(&args.k) {
        return Err(Error::field(
            "--k",
            format!("must be between 1 and {MAX_K} (got {})", args.k),
        ));
    }
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let t = session::trainer(&loaded).map_err(|e| e.context(&name))?;
    let p = t.net.n_params;
    let method = args.method.unwrap_or(if p <= MAX_DENSE_PARAMS {
        Method::Dense
    } else {
        Method::Lanczos
    });
    let problem = t.hessian_problem(args.gauss_newton);
    let opts = Options {
        method,
        k: args.k,
        density: args.density,
        seed: loaded.session.seed,
        ..Options::default()
    };
    let mut progress = Progress::new(format!("{name}: hessian"));
    let report = analyse_reporting(problem, opts, &mut |n| {
        progress.update(|| format!("{n} Hessian-vector products"))
    })
    .map_err(|e| Error::new(format!("{name}: {e}")))?;
    serde_json::to_value(&report)
        .map_err(|e| Error::new(format!("could not encode the result: {e}")))
}
