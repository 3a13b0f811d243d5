//! Lottery tickets: iterative magnitude pruning keeps the promised sparsity, saves its masks in
//! the session, rewinds to θ₀ or θ_k, and the saved ticket trains with its pruned weights at 0.

use nnlab::analysis::lottery::Scope;
use nnlab::cli::regimes::{LotteryArgs, ScopeArg, lottery_command};
use nnlab::session::{self, Session};
use nnlab::train::Trainer;
use nnlab::train::prune::{LotteryOptions, lottery};

const MOONS: &str = r#"{
  "nnlab": 1, "name": "ticket", "seed": 7,
  "data": {"source": "moons", "n": 200, "noise": 0.15, "test_fraction": 0.3},
  "network": {"inputs": 2, "init": "he_normal",
    "layers": [{"units": 12, "activation": "relu"},
               {"units": 1, "activation": "sigmoid"}]},
  "loss": "bce",
  "optimizer": {"kind": "adam", "lr": 0.02, "batch_size": 32}
}"#;

/// Survivors after `rounds` rounds of pruning round(f × survivors) of `n` weights.
fn survivors(mut n: usize, f: f64, rounds: usize) -> usize {
    for _ in 0..rounds {
        n -= (f * n as f64).round() as usize;
    }
    n
}

#[test]
fn layer_pruning_reaches_the_counted_sparsity_and_the_saved_ticket_keeps_its_zeros() {
    let dir = std::env::temp_dir().join(format!("nnlab-lottery-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("moons.json");
    let out = dir.join("ticket.json");
    std::fs::write(&src, MOONS).unwrap();
    let args = LotteryArgs {
        rounds: 3,
        prune: 0.3,
        rewind: 0,
        scope: ScopeArg::Layer,
        steps: 300,
        out: Some(out.clone()),
    };
    let v = lottery_command(&src, &args).unwrap();
    let rounds = v["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 4);
    // 2×12 + 12×1 weights: each layer prunes its own 30 % of survivors, three times.
    let kept = survivors(24, 0.3, 3) + survivors(12, 0.3, 3);
    let want = 1.0 - kept as f64 / 36.0;
    let got = rounds[3]["sparsity"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-12, "sparsity {got} vs {want}");
    assert_eq!(rounds[0]["sparsity"].as_f64().unwrap(), 0.0);
    for r in rounds {
        for k in ["ticket_test_accuracy", "reinit_test_accuracy"] {
            let a = r[k].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&a), "{k} = {a}");
        }
    }
    // The saved ticket: masks in the spec, θ rewound to θ₀ with the pruned weights zeroed.
    let loaded = session::load(&out).unwrap();
    let s: &Session = &loaded.session;
    assert!(s.network.layers.iter().all(|l| l.pruned.is_some()));
    let mut t = session::trainer(&loaded).unwrap();
    let theta0 = Trainer::new(
        &session::parse(MOONS).unwrap().trainer_config(),
        loaded.train.clone(),
        loaded.test.clone(),
        None,
    )
    .unwrap()
    .theta;
    for (i, (&got, &start)) in t.theta.iter().zip(&theta0).enumerate() {
        let want = if t.net.mask.trains(i) { start } else { 0.0 };
        assert_eq!(got, want, "θ[{i}]");
    }
    assert_eq!(t.net.mask.pruned.len(), 36 - kept);
    for _ in 0..200 {
        t.step();
    }
    assert!(t.net.mask.pruned.iter().all(|&i| t.theta[i] == 0.0));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn rewinding_to_step_k_starts_from_the_dense_run_at_k() {
    let s: Session = session::parse(MOONS).unwrap();
    let (train, test) = session::build_data(&s, None).unwrap();
    let config = s.trainer_config();
    let opts = LotteryOptions {
        rounds: 1,
        fraction: 0.5,
        scope: Scope::Global,
        rewind: 25,
        steps: 100,
    };
    let r = lottery(&config, &train, &test, opts, &|| false).unwrap();
    // The dense run's θ after 25 steps, from a trainer of its own.
    let mut t = Trainer::new(&config, train, test, None).unwrap();
    for _ in 0..25 {
        t.step();
    }
    let net = nnlab::net::Network::build(&r.spec, s.loss).unwrap();
    assert_eq!(net.mask.pruned.len(), 18, "half of 36 weights, globally");
    for (i, (&got, &dense)) in r.rewound_theta.iter().zip(&t.theta).enumerate() {
        let want = if net.mask.trains(i) { dense } else { 0.0 };
        assert_eq!(got.to_bits(), want.to_bits(), "θ[{i}]");
    }
}

#[test]
fn bad_lottery_options_are_one_clear_line() {
    let dir = std::env::temp_dir().join(format!("nnlab-lottery-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("moons.json");
    std::fs::write(&src, MOONS).unwrap();
    let args = LotteryArgs {
        rounds: 2,
        prune: 1.5,
        rewind: 0,
        scope: ScopeArg::Global,
        steps: 10,
        out: None,
    };
    let e = lottery_command(&src, &args).unwrap_err().to_string();
    assert!(e.contains("--prune"), "{e}");
    let args = LotteryArgs {
        prune: 0.2,
        rewind: 11,
        ..args
    };
    let e = lottery_command(&src, &args).unwrap_err().to_string();
    assert!(e.contains("--rewind"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}
