//! Training: the deterministic loop (`trainer`) and the worker thread that runs it for the GUI.

pub mod curvature;
pub mod edit;
pub mod memory;
pub mod trainer;
pub mod worker;

pub use edit::{Edit, LiveEdit};
pub use trainer::{Evaluation, LayerStats, StepReport, Trainer, TrainerConfig, TrainerState};
