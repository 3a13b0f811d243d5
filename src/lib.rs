//! nnlab: a laboratory for the theory of neural networks.
//!
//! Dependencies point one way (`tests/layering.rs` keeps them so):
//! `{net, data, optim} → analysis → train → session → {runtime, export} → lessons → {cli, ui}`,
//! read "→" as "is used by", with `error`, `rng`, `memory` and `json_float` below them all. The
//! numeric core (`net`, `data`, `optim`, `analysis`, `train`) never touches threads, files or
//! the GUI; `session` is the only module that touches files (`export` writes through it);
//! `runtime` owns the threads.

// Numeric kernels index several arrays with one counter; iterator chains would hide the maths.
#![allow(clippy::needless_range_loop)]

pub mod analysis;
pub mod bench;
pub mod cli;
pub mod data;
pub mod error;
pub mod export;
pub mod formula;
pub mod json_float;
pub mod lessons;
pub mod memory;
pub mod net;
pub mod optim;
pub mod rng;
pub mod runtime;
pub mod session;
pub mod train;
pub mod ui;

pub use error::{Error, Result};
