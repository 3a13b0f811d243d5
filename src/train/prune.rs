//! Iterative magnitude pruning with rewinding: the lottery-ticket experiment (Frankle &
//! Carbin 2019; THEORY row 35).
//!
//! Round 0 trains the dense network from θ₀. Every later round prunes a fraction of the
//! surviving weights with the smallest trained magnitude (`analysis::lottery`), rewinds the
//! survivors to θ_k (θ₀ when k = 0; θ_k is the dense run's θ after k steps, the state the
//! session's replay reaches at step k) and trains again for the same steps. Each mask is also
//! trained from a fresh random initialisation (another seed, the same initialiser, pruned
//! weights zeroed): the ticket's control. The masks live in the network spec (`pruned`), so
//! the trainer keeps pruned weights at exactly 0 whatever the optimiser.

use crate::analysis::lottery::{LayerMasks, Scope, dense, prune, sparsity};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::net::Network;
use crate::net::mask::encode;
use crate::net::spec::NetworkSpec;

use super::trainer::{Trainer, TrainerConfig};

/// What to run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LotteryOptions {
    /// Pruning rounds after the dense one.
    pub rounds: usize,
    /// Fraction of the surviving weights pruned per round.
    pub fraction: f64,
    /// Rank the weights within each layer, or over the whole network.
    pub scope: Scope,
    /// Rewind to θ after this many dense steps (0: θ₀).
    pub rewind: u64,
    /// Training steps per run.
    pub steps: u64,
}

/// One sparsity level.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    /// 0 for the dense network, then one per pruning.
    pub round: usize,
    /// Fraction of the trainable weights pruned.
    pub sparsity: f64,
    /// The ticket (rewound survivors) after training.
    pub ticket_test_accuracy: f64,
    /// Its test loss.
    pub ticket_test_loss: f64,
    /// Its training accuracy.
    pub ticket_train_accuracy: f64,
    /// The same mask from a fresh random initialisation.
    pub reinit_test_accuracy: f64,
    /// Its test loss.
    pub reinit_test_loss: f64,
    /// Its training accuracy.
    pub reinit_train_accuracy: f64,
}

/// Iterative magnitude pruning: every sparsity level, the ticket against a re-initialised mask.
#[derive(Clone, Debug, PartialEq)]
pub struct LotteryReport {
    /// The dense run, then one per pruning round.
    pub rounds: Vec<Round>,
    /// The last round's network spec, masks included (`pruned`), and the rewound θ it trains
    /// from: what `nnlab lottery --out` saves as a session.
    pub spec: NetworkSpec,
    /// See `spec`.
    pub rewound_theta: Vec<f64>,
}

/// The spec with `masks` written into its layers.
fn with_masks(spec: &NetworkSpec, masks: &LayerMasks) -> NetworkSpec {
    let mut s = spec.clone();
    for (l, m) in s.layers.iter_mut().zip(masks) {
        l.pruned = m.iter().any(|&p| p).then(|| encode(m));
    }
    s
}

/// Seed of the fresh initialisations (a different stream from the session's).
fn reinit_seed(seed: u64, round: usize) -> u64 {
    seed ^ 0x5EED_0F71_C8E7 ^ ((round as u64 + 1) << 32)
}

fn train(
    config: &TrainerConfig,
    train: &Dataset,
    test: &Dataset,
    params: Option<Vec<f64>>,
    steps: u64,
) -> Result<Trainer> {
    let mut t = Trainer::new(config, train.clone(), test.clone(), params)?;
    t.collect_stats = false;
    for _ in 0..steps {
        if t.step().diverged {
            return Err(Error::new(format!(
                "training diverged at step {}; lower optimizer.lr",
                t.step
            )));
        }
    }
    Ok(t)
}

/// Run the experiment (see the module text). `cancel` is polled between runs.
pub fn lottery(
    config: &TrainerConfig,
    train_set: &Dataset,
    test_set: &Dataset,
    opts: LotteryOptions,
    cancel: &dyn Fn() -> bool,
) -> Result<LotteryReport> {
    if opts.rewind > opts.steps {
        return Err(Error::field(
            "--rewind",
            format!(
                "({}) must not exceed the steps ({})",
                opts.rewind, opts.steps
            ),
        ));
    }
    let net = Network::build(&config.network, config.loss)?;
    let start = Trainer::new(config, train_set.clone(), test_set.clone(), None)?;
    let theta0 = start.theta.clone();
    drop(start);
    let rewound = if opts.rewind == 0 {
        theta0.clone()
    } else {
        train(
            config,
            train_set,
            test_set,
            Some(theta0.clone()),
            opts.rewind,
        )?
        .theta
    };
    let mut masks = crate::analysis::lottery::current(&net);
    if masks.iter().all(|m| m.iter().all(|p| !p)) {
        masks = dense(&net);
    }
    let mut rounds = Vec::with_capacity(opts.rounds + 1);
    let mut last_spec = config.network.clone();
    for round in 0..=opts.rounds {
        if cancel() {
            return Err(Error::new("cancelled"));
        }
        let spec = with_masks(&config.network, &masks);
        let ticket_config = TrainerConfig {
            network: spec.clone(),
            ..config.clone()
        };
        // Round 0 is the dense run from θ₀ itself; later rounds train the rewound survivors.
        let from = if round == 0 { &theta0 } else { &rewound };
        let mut ticket = train(
            &ticket_config,
            train_set,
            test_set,
            Some(from.clone()),
            opts.steps,
        )?;
        let te = ticket.evaluate();
        let reinit_config = TrainerConfig {
            seed: reinit_seed(config.seed, round),
            ..ticket_config.clone()
        };
        let mut fresh = train(&reinit_config, train_set, test_set, None, opts.steps)?;
        let fe = fresh.evaluate();
        rounds.push(Round {
            round,
            sparsity: sparsity(&net, &masks),
            ticket_test_accuracy: te.test_accuracy,
            ticket_test_loss: te.test_loss,
            ticket_train_accuracy: te.train_accuracy,
            reinit_test_accuracy: fe.test_accuracy,
            reinit_test_loss: fe.test_loss,
            reinit_train_accuracy: fe.train_accuracy,
        });
        last_spec = spec;
        if round < opts.rounds {
            masks = prune(&net, &ticket.theta, &masks, opts.fraction, opts.scope)
                .map_err(Error::new)?;
        }
    }
    let mut rewound_theta = rewound;
    Network::build(&last_spec, config.loss)?
        .mask
        .zero_pruned(&mut rewound_theta);
    Ok(LotteryReport {
        rounds,
        spec: last_spec,
        rewound_theta,
    })
}
