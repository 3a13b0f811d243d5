//! Exact Hessian-vector products of the training objective by Pearlmutter's R-operator.
//!
//! R{·} = d/dε (·)(θ + εv) at ε = 0. A forward R-pass propagates the directional derivatives of
//! every forward quantity; a combined backward pass computes the ordinary error signals δ and
//! their R-derivatives Rδ layer by layer, and Hv collects R{∂J/∂θ}. Every activation enters
//! through its second derivative, BatchNorm through the R-derivatives of the batch statistics,
//! residual skips through the chain rule like everything else.
//!
//! The Gauss–Newton product Gv = JᵀH_ℓJv drops every term that multiplies an error signal δ
//! (the network's own curvature) and keeps only the loss's curvature: G is positive
//! semi-definite and cannot show negative curvature.
//!
//! The objective is the one of [`objective`](super::objective::objective): evaluation mode, no
//! dropout, BatchNorm on the statistics of the rows given.
//!
//! One product is a Hessian–matrix product with a single direction: the R-pass itself lives in
//! [`hmp`](super::hmp), which carries K directions at once.

use super::hmp::{HmpWorkspace, hessian_matrix_product};
use super::network::Network;
use super::objective::Rows;

/// Buffers reused between products (the base pass is cached for the same θ and rows).
pub type HvpWorkspace = HmpWorkspace;

/// Hv (or Gv with `gauss_newton`) of J(θ) = mean ℓ + l1·Σ|W| + l2·½ΣW², written into `out`.
/// The L1 term has zero curvature almost everywhere.
#[allow(clippy::too_many_arguments)]
pub fn hessian_vector_product(
    net: &Network,
    theta: &[f64],
    rows: Rows,
    l2: f64,
    v: &[f64],
    gauss_newton: bool,
    hw: &mut HvpWorkspace,
    out: &mut [f64],
) {
    hessian_matrix_product(net, theta, rows, l2, v, gauss_newton, hw, out);
}
