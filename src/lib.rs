//! nnlab: a laboratory for the theory of neural networks — the library behind the desktop
//! lab and the `nnlab` command line.
//!
//! # A tour
//!
//! - **Data** ([`data`]): synthetic generators, inline rows, CSV text, and data typed as a
//!   formula of the inputs ([`formula`]); [`data::Dataset::from_arrays`] takes ndarray
//!   arrays, [`data::Dataset::x_view`] gives them back without a copy; [`data::split`] makes a
//!   seeded, stratified train/test split.
//! - **Networks** ([`net`]): fully connected layers described by [`net::spec::NetworkSpec`];
//!   all parameters live in one flat vector θ (its layout is in [`net::network`]); exact
//!   gradients by back-propagation and exact Hessian-vector products by the R-operator.
//! - **Optimisers** ([`optim`]): SGD, momentum, Nesterov, RMSProp, Adam and more, with
//!   schedules, clipping and L1/L2 regularisation.
//! - **Training** ([`train`]): a [`train::Trainer`] steps deterministically — the same
//!   configuration and seed give the same θ to the last bit — and evaluates loss, accuracy,
//!   RMSE and R².
//! - **Analyses** ([`analysis`]): the Hessian spectrum (dense and Lanczos, with spectral
//!   density), loss landscapes, training dynamics (Lyapunov exponents, gradient flow, signal
//!   propagation), linear regions, Jacobian spectra, spectral bias and more. Each is a pure
//!   function checked in the tests against an independent reference (finite differences,
//!   dense solves, closed forms).
//! - **Sessions** ([`session`]): the JSON file format (`docs/session-format.md`): an
//!   experiment, and optionally its recording — history, edits, checkpoints — which
//!   [`session::verify`] replays bit for bit.
//! - [`runtime`] runs training and analyses on threads for the app; [`export`] writes a
//!   trained network as PyTorch or ONNX; [`lessons`] checks the claims of THEORY.md.
//!
//! # Examples
//!
//! In `examples/` (each runs in CI):
//! - `train_ndarray`: train on a data set built with ndarray and read the predictions back;
//! - `hessian_spectrum`: the Hessian spectrum of a session, dense and by Lanczos;
//! - `replay_session`: record a run into a session file and replay it bit for bit.
//!
//! # Layers
//!
//! Dependencies point one way (`tests/layering.rs` keeps them so):
//! `{net, data, optim} → analysis → train → session → {runtime, export} → lessons → {cli, ui}`,
//! read "→" as "is used by", with `error`, `rng`, `memory`, `json_float` and `formula` below
//! them all. The numeric core (`net`, `data`, `optim`, `analysis`, `train`) never touches
//! threads, files or the GUI; `session` is the only module that touches files (`export` writes
//! through it); `runtime` owns the threads.

// Every public item is documented (`cargo doc` runs with -D warnings in CI) and must stay so.
#![warn(missing_docs)]
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
