//! The numeric core: pure functions and plain data. No threads, no GUI, no files.

pub mod activation;
pub mod features;
pub mod hmp;
pub mod hvp;
pub mod init;
pub mod kernels;
pub mod linalg;
pub mod loss;
pub mod mask;
pub mod network;
pub mod objective;
pub mod spec;

pub use activation::Activation;
pub use network::{BnMode, BnStats, Network, Workspace};
pub use objective::{Rows, objective};
pub use spec::{Init, LayerSpec, Loss, NetworkSpec};
