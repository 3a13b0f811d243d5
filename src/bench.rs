//! The three reference training runs of the speed goals, measured in steps per second.
//! Shared by `nnlab bench` and the criterion benchmark; `benches/pytorch_reference.py` runs the
//! same three in PyTorch. Also the curvature timings (`--curvature`); the UI's frame cost
//! (`--ui`) is `ui::headless`, above this module.

use std::time::Instant;

use serde_json::json;

use crate::data::spec::{DataSource, DataSpec};
use crate::data::{generate, split};
use crate::net::Activation;
use crate::net::spec::{Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};
use crate::optim::spec::{OptimizerKind, OptimizerSpec, Regularization};
use crate::train::{Trainer, TrainerConfig};

/// One of the reference training runs `nnlab bench` times.
pub struct Reference {
    /// Short name (`--only` takes it).
    pub name: &'static str,
    /// What the run is, in words.
    pub description: &'static str,
    hidden: &'static [(usize, Activation)],
    points: usize,
    kind: OptimizerKind,
    lr: f64,
    batch: usize,
}

const A_HIDDEN: [(usize, Activation); 2] = [(8, Activation::Tanh), (8, Activation::Tanh)];
const B_HIDDEN: [(usize, Activation); 10] = [(32, Activation::Sigmoid); 10];
const C_HIDDEN: [(usize, Activation); 2] = [(256, Activation::Relu), (256, Activation::Relu)];

/// The reference runs: a small, a deep and a wide network.
pub const REFERENCES: [Reference; 3] = [
    Reference {
        name: "a",
        description: "2-8-8-1 tanh, 500 points, batch 10, SGD",
        hidden: &A_HIDDEN,
        points: 500,
        kind: OptimizerKind::Sgd,
        lr: 0.1,
        batch: 10,
    },
    Reference {
        name: "b",
        description: "2-(32x10)-1 sigmoid, 1000 points, batch 64, Adam",
        hidden: &B_HIDDEN,
        points: 1000,
        kind: OptimizerKind::Adam,
        lr: 1e-3,
        batch: 64,
    },
    Reference {
        name: "c",
        description: "2-256-256-1 ReLU, 1000 points, full batch, Adam",
        hidden: &C_HIDDEN,
        points: 1000,
        kind: OptimizerKind::Adam,
        lr: 1e-3,
        batch: 1000,
    },
];

impl Reference {
    /// A fresh trainer for this run (BCE on XOR-like data on [−1, 1]², every row training).
    pub fn trainer(&self) -> Trainer {
        let hidden = self
            .hidden
            .iter()
            .map(|&(u, a)| LayerSpec::new(u, a))
            .collect();
        xor_trainer(
            hidden,
            self.points,
            OptimizerSpec::new(self.kind, self.lr, self.batch),
        )
    }
}

/// BCE on XOR-like data on [−1, 1]² (every row training data), seed 1: hidden layers plus one
/// sigmoid output, Xavier-normal initialisation.
fn xor_trainer(hidden: Vec<LayerSpec>, points: usize, optimizer: OptimizerSpec) -> Trainer {
    let mut layers = hidden;
    layers.push(LayerSpec::new(1, Activation::Sigmoid));
    let network = NetworkSpec {
        inputs: 2,
        layers,
        init: Init::XavierNormal,
        init_scale: 0.1,
        features: None,
        residual: false,
        weight_constraint: WeightConstraint::None,
    };
    let config = TrainerConfig {
        seed: 1,
        network,
        loss: Loss::Bce,
        optimizer,
        regularization: Regularization::default(),
    };
    let mut spec = DataSpec::generator(DataSource::Xor, points, 0.0);
    spec.test_fraction = 0.0;
    let data = generate(&spec, 1).expect("reference data spec is valid");
    let (train, test) = split(&data, 0.0, 1);
    Trainer::new(&config, train, test, None).expect("reference run is valid")
}

/// Steps per second of `trainer` over about `seconds` (after a short warm-up).
pub fn steps_per_second(trainer: &mut Trainer, seconds: f64) -> f64 {
    for _ in 0..5 {
        trainer.step();
    }
    let start = Instant::now();
    let mut steps = 0u64;
    let mut batch = 1u64;
    loop {
        for _ in 0..batch {
            trainer.step();
        }
        steps += batch;
        let t = start.elapsed().as_secs_f64();
        if t >= seconds {
            return steps as f64 / t;
        }
        batch = (batch * 2).min(1 << 16);
    }
}

/// Measure all three, with and without the per-layer statistics the GUI shows.
pub fn print(as_json: bool, seconds: f64, only: Option<&str>) -> crate::Result<()> {
    let wanted: Vec<&str> = only
        .map(|s| s.split(',').map(str::trim).collect())
        .unwrap_or_default();
    if let Some(bad) = wanted
        .iter()
        .find(|w| !REFERENCES.iter().any(|r| r.name == **w))
    {
        return Err(crate::Error::field(
            "--only",
            format!("names an unknown run \"{bad}\" (the runs are a, b, c)"),
        ));
    }
    let mut rows = Vec::new();
    for r in REFERENCES
        .iter()
        .filter(|r| wanted.is_empty() || wanted.contains(&r.name))
    {
        let mut t = r.trainer();
        t.collect_stats = false;
        let bare = steps_per_second(&mut t, seconds);
        let mut t = r.trainer();
        t.collect_stats = true;
        let with_stats = steps_per_second(&mut t, seconds);
        rows.push((r, bare, with_stats));
    }
    if as_json {
        let runs: Vec<_> = rows
            .iter()
            .map(|(r, bare, stats)| {
                json!({
                    "name": r.name,
                    "description": r.description,
                    "steps_per_sec": bare,
                    "steps_per_sec_with_layer_stats": stats,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "runs": runs })).unwrap_or_default()
        );
    } else {
        println!("| run | description | steps/s | steps/s with layer stats |");
        println!("|---|---|---:|---:|");
        for (r, bare, stats) in rows {
            println!(
                "| {} | {} | {:.0} | {:.0} |",
                r.name, r.description, bare, stats
            );
        }
    }
    Ok(())
}

/// The curvature timings of issue #4's speed goals (same networks as
/// benches/pytorch_hessian.py: tanh MLPs, BCE, XOR-like data, at the initial θ).
pub struct CurvatureRun {
    /// Short name (`--only` takes it).
    pub name: &'static str,
    /// What the run is, in words.
    pub description: &'static str,
    width: usize,
    points: usize,
}

/// The curvature runs `nnlab bench --curvature` times.
pub const CURVATURE_RUNS: [CurvatureRun; 4] = [
    CurvatureRun {
        name: "hessian_1k",
        description: "dense Hessian + all eigenvalues, 2-30-30-1 tanh (P=1051), N=500",
        width: 30,
        points: 500,
    },
    CurvatureRun {
        name: "hessian_2k",
        description: "dense Hessian + all eigenvalues, 2-42-42-1 tanh (P=1975), N=500",
        width: 42,
        points: 500,
    },
    CurvatureRun {
        name: "topk_92k",
        description: "Lanczos top-10 + λ_min, 2-301-301-1 tanh (P=92107), N=1000",
        width: 301,
        points: 1000,
    },
    CurvatureRun {
        name: "density_92k",
        description: "SLQ density, 80 Lanczos steps, 1 probe, 2-301-301-1 tanh, N=1000",
        width: 301,
        points: 1000,
    },
];

impl CurvatureRun {
    /// The trainer at its initial θ (every row training data).
    pub fn trainer(&self) -> Trainer {
        let hidden = vec![
            LayerSpec::new(self.width, Activation::Tanh),
            LayerSpec::new(self.width, Activation::Tanh),
        ];
        xor_trainer(
            hidden,
            self.points,
            OptimizerSpec::new(OptimizerKind::Adam, 1e-3, 32),
        )
    }

    /// Run the analysis once; returns (seconds, Hessian-vector products, λ_max).
    pub fn run(&self, trainer: &Trainer) -> (f64, usize, f64) {
        use crate::analysis::hessian::{Method, Options, analyse};
        use crate::analysis::spectrum::slq_density;
        let problem = trainer.hessian_problem(false);
        let start = Instant::now();
        let (products, lmax) = match self.name {
            "hessian_1k" | "hessian_2k" => {
                let r = analyse(
                    problem,
                    Options {
                        method: Method::Dense,
                        ..Options::default()
                    },
                )
                .expect("dense analysis");
                (r.hessian_vector_products, r.lambda_max)
            }
            "topk_92k" => {
                let mut op = crate::analysis::hessian::HessianOperator::new(problem);
                let (_bottom, top) = crate::analysis::spectrum::extreme_eigenpairs_split(
                    &mut op,
                    10,
                    1,
                    400,
                    crate::analysis::hessian::LANCZOS_TOL,
                    1,
                );
                (op.products, top[0].value)
            }
            _ => {
                let mut op = crate::analysis::hessian::HessianOperator::new(problem);
                let d = slq_density(&mut op, 80, 1, 200, 1);
                (
                    op.products,
                    d.nodes.iter().cloned().fold(f64::MIN, f64::max),
                )
            }
        };
        (start.elapsed().as_secs_f64(), products, lmax)
    }
}

/// CPU seconds used by this process so far (all threads), where the OS reports it: on a
/// shared machine the wall time of a two-thread run depends on the neighbours, this much less.
fn process_cpu_seconds() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getrusage only writes the struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } == 0 {
            let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 * 1e-6;
            return Some(t(u.ru_utime) + t(u.ru_stime));
        }
    }
    None
}

/// The 1-minute load average (Linux), to tell whether the machine was busy during a run.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Time the curvature runs (best of three by wall time; the CPU seconds of that run).
pub fn print_curvature(as_json: bool, only: Option<&str>) -> crate::Result<()> {
    let wanted: Vec<&str> = only
        .map(|s| s.split(',').map(str::trim).collect())
        .unwrap_or_default();
    if let Some(bad) = wanted
        .iter()
        .find(|w| !CURVATURE_RUNS.iter().any(|r| r.name == **w))
    {
        let names: Vec<&str> = CURVATURE_RUNS.iter().map(|r| r.name).collect();
        return Err(crate::Error::field(
            "--only",
            format!(
                "names an unknown run \"{bad}\" (the curvature runs are {})",
                names.join(", ")
            ),
        ));
    }
    let load_before = load_average();
    let mut rows = Vec::new();
    for r in CURVATURE_RUNS
        .iter()
        .filter(|r| wanted.is_empty() || wanted.contains(&r.name))
    {
        let t = r.trainer();
        let mut best = (f64::INFINITY, f64::NAN);
        let mut info = (0, 0.0);
        for _ in 0..3 {
            let cpu0 = process_cpu_seconds();
            let (s, products, lmax) = r.run(&t);
            let cpu = match (cpu0, process_cpu_seconds()) {
                (Some(a), Some(b)) => b - a,
                _ => f64::NAN,
            };
            if s < best.0 {
                best = (s, cpu);
            }
            info = (products, lmax);
        }
        rows.push((r, best, info));
    }
    let load_after = load_average();
    if as_json {
        let runs: Vec<_> = rows
            .iter()
            .map(|(r, (s, cpu), (products, lmax))| {
                json!({"name": r.name, "description": r.description, "seconds": s,
                       "cpu_seconds": if cpu.is_finite() { Some(*cpu) } else { None },
                       "hessian_vector_products": products, "lambda_max": lmax})
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "runs": runs,
                "load_average_before": load_before,
                "load_average_after": load_after,
            }))
            .unwrap_or_default()
        );
    } else {
        println!("| run | description | seconds | CPU seconds | Hessian-vector products | λ_max |");
        println!("|---|---|---:|---:|---:|---:|");
        for (r, (s, cpu), (products, lmax)) in rows {
            println!(
                "| {} | {} | {:.3} | {:.2} | {} | {:.6} |",
                r.name, r.description, s, cpu, products, lmax
            );
        }
        if let (Some(a), Some(b)) = (load_before, load_after) {
            println!(
                "\n1-minute load average before/after: {a:.2} / {b:.2} (2 means both cores busy)"
            );
        }
    }
    Ok(())
}

/// The nets `bench --regions` partitions: hidden widths, trained on the spiral.
const REGION_NETS: [(&str, usize); 2] = [("2-16-16-1", 16), ("2-32-32-1", 32)];
/// Adam steps (full batch, η = 0.01) before the partition is timed.
const REGION_TRAIN_STEPS: u64 = 2000;

/// `bench --regions`: the exact linear-region partition (analysis::regions) of ReLU nets
/// trained on the spiral, over the decision map's box, repeated for `seconds` per net: the
/// fastest and the median time of one partition, and the number of regions.
pub fn print_regions(as_json: bool, seconds: f64) -> crate::Result<()> {
    use crate::analysis::regions::{InputBox, regions};
    use crate::runtime::worker::plane_bounds;
    let mut rows = Vec::new();
    for (name, width) in REGION_NETS {
        let text = format!(
            r#"{{"nnlab": 1, "seed": 1, "loss": "bce",
               "data": {{"source": "spiral", "n": 400, "noise": 0.05, "test_fraction": 0}},
               "network": {{"inputs": 2, "init": "he_normal", "layers": [
                 {{"units": {width}, "activation": "relu"}}, {{"units": {width}, "activation": "relu"}},
                 {{"units": 1, "activation": "sigmoid"}}]}},
               "optimizer": {{"kind": "adam", "lr": 0.01, "batch_size": 400}}}}"#
        );
        let session = crate::session::parse(&text)?;
        let (train, test) = crate::session::build_data(&session, None)?;
        let mut t = Trainer::new(&session.trainer_config(), train, test, None)?;
        t.collect_stats = false;
        for _ in 0..REGION_TRAIN_STEPS {
            t.step();
        }
        let ((x0, x1), (y0, y1)) = plane_bounds(&t.train, &t.test)
            .ok_or_else(|| crate::Error::new("the spiral is not 2-D"))?;
        let bounds = InputBox {
            x: (x0, x1),
            y: (y0, y1),
        };
        let mut times = Vec::new();
        let mut count = 0;
        let start = Instant::now();
        while times.len() < 3 || start.elapsed().as_secs_f64() < seconds {
            let t0 = Instant::now();
            let r = regions(&t.net, &t.theta, None, bounds)?;
            times.push(t0.elapsed().as_secs_f64() * 1e3);
            count = r.regions.len();
        }
        times.sort_by(f64::total_cmp);
        rows.push((name, count, times[0], times[times.len() / 2], times.len()));
    }
    if as_json {
        let runs: Vec<_> = rows
            .iter()
            .map(|(name, count, best, median, reps)| {
                json!({"net": name, "train_steps": REGION_TRAIN_STEPS, "regions": count,
                       "ms_best": best, "ms_median": median, "repetitions": reps})
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "runs": runs })).unwrap_or_default()
        );
    } else {
        println!(
            "| net (trained {REGION_TRAIN_STEPS} steps on the spiral) | regions | best ms | median ms | repetitions |"
        );
        println!("|---|---|---|---|---|");
        for (name, count, best, median, reps) in rows {
            println!("| {name} | {count} | {best:.2} | {median:.2} | {reps} |");
        }
    }
    Ok(())
}

/// `nnlab bench --ntk`: the empirical NTK Θ = JJᵀ on 200 training rows of a 1-D net with one
/// hidden layer of 3333 tanh units (10 000 parameters): J by one reverse pass per row, Θ by
/// one GEMM. Best and median wall time of 7 runs, and the load average around them.
pub fn print_ntk(as_json: bool) -> crate::Result<()> {
    use crate::analysis::ntk::{Parameterisation, gram, init, jacobian, metric};
    use crate::net::spec::{LayerSpec, Loss, NetworkSpec};
    let spec = NetworkSpec::new(
        1,
        vec![
            LayerSpec::new(3333, crate::net::Activation::Tanh),
            LayerSpec::new(1, crate::net::Activation::Identity),
        ],
    );
    let net = crate::net::Network::build(&spec, Loss::Mse)?;
    let theta = init(&net, 1);
    let n = 200;
    let x: Vec<f64> = (0..n)
        .map(|i| -1.0 + 2.0 * i as f64 / (n - 1) as f64)
        .collect();
    let m = metric(&net, Parameterisation::Ntk);
    let mut ws = crate::net::Workspace::default();
    let load_before = load_average();
    let mut times = Vec::new();
    let mut trace = 0.0;
    for _ in 0..7 {
        let start = std::time::Instant::now();
        let j = jacobian(&net, &theta, &x, n, &mut ws);
        let k = gram(&j, n, net.n_params, &m, 1.0);
        times.push(start.elapsed().as_secs_f64() * 1e3);
        trace = crate::net::linalg::view(n, n, &k).diag().iter().sum();
    }
    let load_after = load_average();
    times.sort_by(f64::total_cmp);
    let (best, median) = (times[0], times[times.len() / 2]);
    if as_json {
        println!(
            "{}",
            serde_json::json!({
                "rows": n, "params": net.n_params, "best_ms": best, "median_ms": median,
                "trace": trace, "load_before": load_before, "load_after": load_after,
            })
        );
    } else {
        println!(
            "NTK Θ, {n} rows × {} params: best {best:.1} ms, median {median:.1} ms (load {:?} → {:?})",
            net.n_params, load_before, load_after
        );
    }
    Ok(())
}
