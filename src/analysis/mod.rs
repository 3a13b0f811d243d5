//! Analyses over (network, data, θ): curvature and dynamics. Pure functions.

pub mod dense_hessian;
pub mod dynamics;
pub mod hessian;
pub mod jacobian;
pub mod landscape;
pub mod novikoff;
pub mod outer_product;
pub mod regions;
pub mod spectral_bias;
pub mod spectrum;
