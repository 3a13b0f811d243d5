//! What an experiment holds in memory while it trains, while `grad` and the evaluations run
//! over it, and while the app shows it: checked when a trainer is built, so a session that
//! loads can be trained, evaluated and looked at.
//!
//! The analyses (Hessian, landscape, dynamics) are larger and depend on their options; each
//! checks its own estimate against [`crate::memory::budget`] before it allocates.

use crate::error::{Error, Result};
use crate::net::Network;
use crate::net::objective::objective_pass_rows;
use crate::optim::spec::{OptimizerKind, OptimizerSpec, TrainingRule};

/// Side of the square grids over the input plane (decision map and neuron maps) that the app's
/// training worker evaluates for its views until they ask for others.
pub const GRID: usize = 64;
/// Sides a view may ask for: at least as fine as the pixels a map covers, up to this.
pub const MIN_MAP_SIDE: usize = 8;
/// Largest side a view may ask for.
pub const MAX_MAP_SIDE: usize = 256;
/// Most values the neuron and feature maps of one snapshot hold together (the UI colours each
/// one): a network with many drawn units gets smaller maps than asked.
pub const NEURON_MAP_VALUES: usize = 1 << 19;
/// Units per layer whose individual outputs the worker sends (wider layers are drawn as a box).
pub const MAX_NEURON_MAPS: usize = 16;
/// Most workspace values of one block of the snapshot's grid pass (32 MB).
pub const SNAPSHOT_VALUES: usize = 1 << 22;
/// Most θ snapshots the app's trajectory keeps, and the most f64 values it may hold in all (but
/// always the three a PCA plane needs, whatever P).
pub const TRAJECTORY_MAX: usize = 200;
/// See [`TRAJECTORY_MAX`].
pub const TRAJECTORY_BUDGET: usize = 8_000_000;
/// See [`TRAJECTORY_MAX`].
pub const TRAJECTORY_MIN: usize = 3;

/// Most bytes an experiment may take (8 GiB), whatever the machine: a session that loads on
/// one machine loads on every machine with that much to give. A smaller machine refuses it
/// against its own budget ([`crate::memory::check`]).
pub const MAX_EXPERIMENT_BYTES: u64 = 8 << 30;

/// The shapes that decide an experiment's memory.
#[derive(Clone, Copy, Debug)]
pub struct Shape<'a> {
    /// The network.
    pub net: &'a Network,
    /// Its optimiser (its moments take memory).
    pub optimizer: &'a OptimizerSpec,
    /// Rows of the training set.
    pub train_rows: usize,
    /// Rows of the test set.
    pub test_rows: usize,
    /// Count the app's views too (snapshots, trajectory, curvature sample), not only what a
    /// headless command holds.
    pub views: bool,
}

/// Bytes the experiment takes at its peak (an upper bound; saturating):
/// - θ, its gradient and the previous θ; the optimiser's state (at most two vectors); the
///   fixed feedback matrices of feedback alignment;
/// - with `views`, the app's copies: the snapshots in flight and shown, the curvature sample,
///   θ₀, and the landscape's trajectory with the copy sent to the view; the snapshot's grid
///   pass;
/// - the workspace of a training batch, and the one that serves in turn an evaluation block,
///   a pass of the objective (`grad`, the analyses' J) and, with BatchNorm, the pass over
///   every training row;
/// - the data (held by the experiment, the trainer and the curvature objective) and the
///   epoch's permutation.
pub fn estimated_bytes(s: Shape) -> u64 {
    let net = s.net;
    let p = net.n_params;
    let rows = s.train_rows;
    let mul = |a: usize, b: usize| a.saturating_mul(b);
    let feedback = usize::from(s.optimizer.effective_rule() == TrainingRule::FeedbackAlignment);
    let trajectory = TRAJECTORY_BUDGET
        .max(mul(p, TRAJECTORY_MIN))
        .min(mul(p, TRAJECTORY_MAX + 1));
    let views = usize::from(s.views);
    let vectors = mul(p, 3 + 2 + feedback + 6 * views).saturating_add(mul(trajectory, 2 * views));
    let batch = match s.optimizer.kind {
        OptimizerKind::Gd => rows,
        _ => s.optimizer.batch_size.clamp(1, rows.max(1)),
    };
    let per_row = net.workspace_values_per_row(false);
    let full_pass = if net.has_batch_norm() { rows } else { 0 };
    // The trainer's second workspace serves the evaluation blocks, the objective's passes and
    // the BatchNorm pass in turn: the largest of them.
    let eval_rows = 4096
        .min(net.rows_within(crate::net::objective::OBJECTIVE_CHUNK_VALUES))
        .min(rows.max(s.test_rows))
        .max(objective_pass_rows(net, rows))
        .max(full_pass);
    let workspaces =
        mul(batch, net.workspace_values_per_row(true)).saturating_add(mul(eval_rows, per_row));
    let data = mul(
        s.train_rows.saturating_add(s.test_rows),
        (net.inputs + 1).saturating_mul(3),
    )
    .saturating_add(rows);
    // The largest grid a view may ask for: its pass, the decision map (values, confidence)
    // and the focused unit, and the neuron and feature maps (at most NEURON_MAP_VALUES).
    let grid = MAX_MAP_SIDE * MAX_MAP_SIDE;
    let units = net.layers.len().min(1000) * MAX_NEURON_MAPS + net.features.len();
    let maps = NEURON_MAP_VALUES.min(mul(grid, units)) + 3 * grid;
    let snapshot = mul(
        SNAPSHOT_VALUES.min(mul(grid, per_row)).saturating_add(maps),
        views,
    );
    crate::memory::f64s(
        [vectors, workspaces, data, snapshot]
            .into_iter()
            .fold(0usize, usize::saturating_add),
    )
}

/// Refuse an experiment whose estimate with the app's views is above
/// [`MAX_EXPERIMENT_BYTES`] (the same answer on every machine), or whose estimate as asked
/// (`s.views`) is above this machine's budget, in one line naming the size and the limit.
pub fn check(s: Shape) -> Result<()> {
    let what = format!(
        "training {} parameters on {} rows",
        s.net.n_params, s.train_rows
    );
    let everything = estimated_bytes(Shape { views: true, ..s });
    if everything > MAX_EXPERIMENT_BYTES {
        let bytes = everything;
        return Err(Error::field(
            "network",
            format!(
                "is too large: {what} needs about {} of memory, more than the {} an experiment may take; use fewer units or rows",
                crate::memory::format_bytes(bytes),
                crate::memory::format_bytes(MAX_EXPERIMENT_BYTES)
            ),
        ));
    }
    crate::memory::check(&what, estimated_bytes(s)).map_err(Error::new)
}
