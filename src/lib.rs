//! nnlab: a laboratory for the theory of neural networks.
//!
//! Dependencies point one way: `ui, cli → lessons, export → session → train → analysis →
//! optim → {net, data}`. The numeric core (`net`, `data`, `optim`, `analysis`) never touches threads,
//! files or the GUI.

// Numeric kernels index several arrays with one counter; iterator chains would hide the maths.
#![allow(clippy::needless_range_loop)]

pub mod analysis;
pub mod bench;
pub mod cli;
pub mod data;
pub mod error;
pub mod export;
pub mod json_float;
pub mod lessons;
pub mod memory;
pub mod net;
pub mod optim;
pub mod rng;
pub mod session;
pub mod train;
pub mod ui;

pub use error::{Error, Result};
