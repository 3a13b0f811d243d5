//! Analyses over (network, data, θ): curvature, landscapes, dynamics, the function's geometry.
//! Pure functions; the app runs them on its job threads (`runtime`).
//!
//! Curvature, landscape and dynamics each have one entry point, `run(&Request, progress,
//! cancel) -> Result<Report, String>`, that the GUI's tile and the CLI's subcommand both call:
//! a request spells out everything the analysis depends on, so the same request gives the
//! same report bit for bit, wherever it was built.

pub mod collapse;
pub mod contour;
pub mod curvature;
pub mod dense_hessian;
pub mod double_descent;
pub mod dynamics;
pub mod hessian;
pub mod hyperplanes;
pub mod jacobian;
pub mod landscape;
pub mod lottery;
pub mod min_norm;
pub mod novikoff;
pub mod ntk;
pub mod outer_product;
pub mod region_sweep;
pub mod regions;
pub mod spectral_bias;
pub mod spectrum;
pub mod stability;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::data::Dataset;
use crate::net::{Network, Rows};
use crate::optim::Regularization;

/// What an analysis looks at: the training objective of `net` over the training rows `train`
/// (mean loss + regulariser over the whole set, evaluation mode — what `nnlab grad` reports)
/// at θ.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The network.
    pub net: &'a Network,
    /// The training rows.
    pub train: &'a Dataset,
    /// The parameters.
    pub theta: &'a [f64],
    /// The regulariser of the objective.
    pub regularization: Regularization,
    /// Seeds every random draw of the analysis (directions, start vectors, probes).
    pub seed: u64,
}

impl<'a> Subject<'a> {
    /// The training rows as the objective reads them.
    pub fn rows(&self) -> Rows<'a> {
        Rows {
            x: &self.train.x,
            y: &self.train.y,
            classes: self.train.classes,
        }
    }

    /// θ fits the network and is finite.
    pub fn check(&self) -> Result<(), String> {
        if self.theta.len() != self.net.n_params {
            return Err(format!(
                "θ has {} values but the network has {} parameters",
                self.theta.len(),
                self.net.n_params
            ));
        }
        if self.theta.iter().any(|v| !v.is_finite()) {
            return Err("θ is not finite (training diverged): reset first".into());
        }
        Ok(())
    }
}

/// The error of a run stopped by its cancel flag.
pub const CANCELLED: &str = "cancelled";

/// `Err(CANCELLED)` once `cancel` is set: the runs poll it between their phases.
pub(crate) fn check_cancel(cancel: &AtomicBool) -> Result<(), String> {
    if cancel.load(Ordering::Relaxed) {
        Err(CANCELLED.into())
    } else {
        Ok(())
    }
}
