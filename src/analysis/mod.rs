//! Analyses over (network, data, θ): curvature and dynamics. Pure functions.

pub mod novikoff;
