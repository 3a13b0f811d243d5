//! Training: the deterministic loop (`trainer`), its live edits and its memory estimate — no
//! threads (the app's training thread is `runtime::worker`).

pub mod confusion;
pub mod edit;
pub mod memory;
pub mod prune;
pub mod stop;
pub mod trainer;

pub use confusion::{Confusion, confusion};
pub use edit::{Edit, LiveEdit};
pub use stop::{StopReason, StopRule, StopWatch};
pub use trainer::{Evaluation, LayerStats, StepReport, Trainer, TrainerConfig, TrainerState};
