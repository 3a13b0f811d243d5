//! `nnlab hessian`: the spectrum of the same objective `nnlab grad` reports, by the curvature
//! analysis the app's Curvature tile runs ([`curvature::run`]).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::analysis::Subject;
use crate::analysis::curvature::{self, MAX_K, Request};
use crate::analysis::hessian::Method;
use crate::error::{Error, Result};
use crate::session;

use super::progress::Progress;

/// Options from the command line.
pub struct HessianArgs {
    pub method: Option<Method>,
    pub k: usize,
    pub density: bool,
    pub gauss_newton: bool,
    pub layer_shares: bool,
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
    let request = Request {
        subject: Subject {
            net: &t.net,
            train: &t.train,
            theta: &t.theta,
            regularization: t.regularization,
            seed: t.seed,
        },
        step: t.step,
        lr: t.optimizer.learning_rate(),
        gauss_newton: args.gauss_newton,
        method: args.method,
        k: args.k,
        density: args.density,
        layer_shares: args.layer_shares,
    };
    let mut progress = Progress::new(format!("{name}: hessian"));
    let report = curvature::run(
        &request,
        &mut |p| progress.update(|| format!("{} Hessian-vector products", p.products)),
        &AtomicBool::new(false),
    )
    .map_err(|e| Error::new(format!("{name}: {e}")))?;
    serde_json::to_value(&report)
        .map_err(|e| Error::new(format!("could not encode the result: {e}")))
}
