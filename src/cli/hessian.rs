//! `nnlab hessian`: the spectrum of the same objective `nnlab grad` reports.

use std::path::Path;

use crate::analysis::hessian::{MAX_DENSE_PARAMS, Method, Options, analyse};
use crate::error::{Error, Result};
use crate::session;

/// Options from the command line.
pub struct HessianArgs {
    pub method: Option<Method>,
    pub k: usize,
    pub density: bool,
    pub gauss_newton: bool,
}

pub fn hessian(path: &Path, args: HessianArgs) -> Result<serde_json::Value> {
    if args.k == 0 {
        return Err(Error::field("--k", "must be at least 1"));
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
    let report = analyse(problem, opts).map_err(|e| Error::new(format!("{name}: {e}")))?;
    serde_json::to_value(&report)
        .map_err(|e| Error::new(format!("could not encode the result: {e}")))
}
