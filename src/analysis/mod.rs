//! Analyses over (network, data, θ): curvature, landscapes, dynamics, the function's geometry.
//! Pure functions; the app runs them on its job threads (`runtime`).

pub mod curvature;
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
