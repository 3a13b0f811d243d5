//! The threads of the lab: the training worker (commands in, events out, recording into a
//! session) and one [`job::JobThread`] type for every background analysis, replay, compare,
//! export and file job. Everything below this module is single-threaded and deterministic (or
//! parallel inside one call); everything above it talks to threads only through these types.

pub mod curvature;
pub mod job;
pub mod latest;
pub mod worker;

pub use job::JobThread;
