//! The app's tiles and the CLI run the same analyses. For each kind (dynamics, landscape,
//! curvature) a request built the way the tile builds it — from the tile's settings and the θ
//! the training worker hands out (`ThetaPath`, `Sample`) — gives, bit for bit, the JSON that
//! `nnlab` prints for the same request spelled as flags. No window is opened: the tiles'
//! request builders are plain functions.
//!
//! The session is xor with an L1 and an L2 term, trained 300 steps by `nnlab run`, so θ is
//! neither the initialiser's nor at step 0, and θ₀ (the line's and the race's start) differs
//! from it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use nnlab::analysis::curvature::{self, Job, Objective, Sample};
use nnlab::analysis::{dynamics, landscape};
use nnlab::runtime::worker::ThetaPath;
use nnlab::session::{self, Loaded};
use nnlab::train::Trainer;
use nnlab::ui::dynamics::{self as dynamics_tile, Eta, Kind};
use nnlab::ui::landscape::{self as landscape_tile, Mode};
use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nnlab-entry-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `nnlab ARGS`: exit 0 and JSON on stdout.
fn nnlab(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_nnlab"))
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "nnlab {args:?}: {err}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// xor with a regulariser, trained 300 steps and saved with its state.
fn trained_session(dir: &Path) -> PathBuf {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sessions/xor.json")).unwrap();
    let mut s: Value = serde_json::from_str(&text).unwrap();
    s["regularization"] = serde_json::json!({"l1": 1e-3, "l2": 2e-3});
    let fresh = dir.join("fresh.json");
    std::fs::write(&fresh, serde_json::to_string(&s).unwrap()).unwrap();
    let trained = dir.join("trained.json");
    nnlab(&[
        "run",
        fresh.to_str().unwrap(),
        "--steps",
        "300",
        "--out",
        trained.to_str().unwrap(),
    ]);
    trained
}

fn load(path: &Path) -> (Loaded, Trainer) {
    let loaded = session::load(path).unwrap();
    let t = session::trainer(&loaded).unwrap();
    assert_eq!(t.step, 300);
    (loaded, t)
}

fn objective(t: &Trainer) -> Arc<Objective> {
    Arc::new(Objective {
        net: t.net.clone(),
        train: t.train.clone(),
    })
}

/// What the worker hands the tiles for this trainer: θ now, θ₀ and the snapshots before θ.
fn theta_path(t: &Trainer, theta0: Vec<f64>, snapshots: Vec<Vec<f64>>) -> ThetaPath {
    let first = t.step + 1 - snapshots.len().max(1) as u64;
    let steps = (0..snapshots.len() as u64).map(|k| first + k).collect();
    ThetaPath::new(t, objective(t), theta0, snapshots, steps)
}

/// The CLI's JSON, less the keys only it adds, against the tile's report, as JSON text: the
/// shortest round-trip form of every f64, so equal text is equal bits.
fn assert_same(what: &str, mut cli: Value, cli_only: &[&str], tile: &impl serde::Serialize) {
    for key in cli_only {
        assert!(
            cli.as_object_mut().unwrap().shift_remove(*key).is_some(),
            "{what}: no {key}"
        );
    }
    let tile = serde_json::to_value(tile).unwrap();
    let (a, b) = (cli.to_string(), tile.to_string());
    if a != b {
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        let differ: Vec<String> = keys(&tile)
            .into_iter()
            .filter(|k| cli.get(k) != tile.get(k))
            .collect();
        panic!(
            "{what}: the CLI and the tile differ in {differ:?} (keys {:?} vs {:?})",
            keys(&cli),
            keys(&tile)
        );
    }
}

#[test]
fn dynamics_of_the_tile_and_of_the_cli_are_identical() {
    let dir = scratch("dynamics");
    let file = trained_session(&dir);
    let f = file.to_str().unwrap();
    let (loaded, t) = load(&file);
    let path = theta_path(&t, t.theta.clone(), Vec::new());
    let net = &loaded.session.network;
    let init = (net.init, net.init_scale);
    let tile = |settings: dynamics_tile::Settings| {
        let req = dynamics_tile::request(&settings, &path, init);
        dynamics::run(&req, &mut |_| {}, &AtomicBool::new(false)).unwrap()
    };
    let defaults = dynamics_tile::Settings::default();
    let cases: Vec<(dynamics_tile::Settings, Vec<&str>)> = vec![
        // The tile's default: η = 0.8 · 2/λ_max, ε along the top eigenvector.
        (
            defaults,
            vec![
                "--kind",
                "lyapunov",
                "--steps",
                "40",
                "--epsilon",
                "1e-8",
                "--eta-edge",
                "0.8",
            ],
        ),
        (
            dynamics_tile::Settings {
                lyap_eta: Eta::EdgeFraction(1.5),
                top_direction: false,
                steps: 25,
                ..defaults
            },
            vec![
                "--kind",
                "lyapunov",
                "--steps",
                "25",
                "--epsilon",
                "1e-8",
                "--eta-edge",
                "1.5",
                "--direction",
                "random",
            ],
        ),
        (
            dynamics_tile::Settings {
                kind: Kind::Flow,
                eta: 0.2,
                steps: 30,
                ..defaults
            },
            vec![
                "--kind",
                "flow",
                "--eta",
                "0.2",
                "--steps",
                "30",
                "--substeps",
                "16",
            ],
        ),
        (
            dynamics_tile::Settings {
                kind: Kind::Energy,
                momentum: 0.8,
                ..defaults
            },
            vec![
                "--kind",
                "energy",
                "--eta",
                "0.1",
                "--momentum",
                "0.8",
                "--steps",
                "40",
            ],
        ),
        (
            dynamics_tile::Settings {
                kind: Kind::Signal,
                rows: 100,
                ..defaults
            },
            vec!["--kind", "signal", "--seeds", "4", "--rows", "100"],
        ),
        (
            dynamics_tile::Settings {
                kind: Kind::Newton,
                damping: 0.01,
                ..defaults
            },
            vec![
                "--kind",
                "newton",
                "--steps",
                "5",
                "--damping",
                "0.01",
                "--line-search",
            ],
        ),
    ];
    for (settings, flags) in cases {
        let mut args = vec!["dynamics", f];
        args.extend(&flags);
        let report = tile(settings);
        assert_eq!(report.step, 300);
        assert!(report.start_loss.is_finite() && report.start_loss > 0.0);
        if let dynamics::Output::Lyapunov(r) = &report.output {
            // The default sweep: ten multiples of 2/λ_max across the edge of stability.
            assert!(r.lambda_max > 0.0);
            let fractions: Vec<f64> = r.sweep.iter().map(|p| p.eta * r.lambda_max / 2.0).collect();
            for (f, want) in fractions.iter().zip(dynamics::EDGE_SWEEP) {
                assert!((f - want).abs() < 1e-12, "{fractions:?}");
            }
            assert!(r.run.exponent.is_finite());
        }
        let cli = nnlab(&args);
        assert_eq!(cli["session"], "xor");
        assert_same(&format!("{flags:?}"), cli, &["session"], &report);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn landscapes_of_the_tile_and_of_the_cli_are_identical() {
    let dir = scratch("landscape");
    let file = trained_session(&dir);
    let f = file.to_str().unwrap();
    let (loaded, mut t) = load(&file);
    // θ₀ of the line and the race: where the session's training started.
    let theta0 = session::initial_trainer(&loaded).unwrap().theta;
    let path = theta_path(&t, theta0.clone(), Vec::new());
    let tile = |settings: landscape_tile::Settings, path: Option<&ThetaPath>| {
        let req = landscape_tile::request(&settings, path);
        landscape::run(&req, &mut |_| {}, &AtomicBool::new(false)).unwrap()
    };
    let defaults = landscape_tile::Settings {
        grid: 15,
        ..landscape_tile::Settings::default()
    };
    let cases: Vec<(Mode, landscape_tile::Settings, Vec<&str>, &[&str])> = vec![
        (
            Mode::Random,
            defaults,
            vec!["--dirs", "random", "--grid", "15", "--radius", "1"],
            &[],
        ),
        (
            Mode::Hessian,
            landscape_tile::Settings {
                radius: 0.5,
                grid: 9,
                ..defaults
            },
            vec!["--dirs", "hessian", "--grid", "9", "--radius", "0.5"],
            &[],
        ),
        (Mode::Line, defaults, vec!["--dirs", "line"], &[]),
        (
            Mode::Race,
            landscape_tile::Settings {
                race_lr: 0.05,
                race_steps: 60,
                ..defaults
            },
            vec![
                "--dirs", "race", "--grid", "15", "--lr", "0.05", "--steps", "60",
            ],
            &["lr", "steps"],
        ),
    ];
    for (mode, settings, flags, cli_only) in cases {
        let mut args = vec!["landscape", f];
        args.extend(&flags);
        let report = tile(landscape_tile::Settings { mode, ..settings }, Some(&path));
        assert_eq!(report.mode, mode);
        match &report.output {
            landscape::Output::Slice(s) => {
                assert!(s.min.is_finite() && s.min < s.max, "{mode:?}");
                assert_eq!(s.races.len(), if mode == Mode::Race { 5 } else { 0 });
            }
            landscape::Output::Line(l) => assert!(l.min.is_finite() && l.min < l.max),
        }
        assert_same(&format!("{flags:?}"), nnlab(&args), cli_only, &report);
    }
    // The 1-1-1 surface needs no θ: the tile sends none.
    let report = tile(
        landscape_tile::Settings {
            mode: Mode::Tiny,
            tiny_loss: landscape::one_one_one::TinyLoss::CrossEntropy,
            tiny_radius: 4.0,
            ..defaults
        },
        None,
    );
    let cli = nnlab(&[
        "landscape",
        f,
        "--dirs",
        "tiny",
        "--grid",
        "15",
        "--radius",
        "4",
        "--tiny-loss",
        "cross-entropy",
    ]);
    assert_same("tiny", cli, &[], &report);
    // The PCA plane of a trajectory: the CLI records one training from the session's θ, every
    // step; the tile gets the same snapshots from the worker.
    let mut snapshots = vec![t.theta.clone()];
    for _ in 0..30 {
        t.step();
        snapshots.push(t.theta.clone());
    }
    let path = theta_path(&t, theta0, snapshots);
    assert_eq!(path.trajectory.len(), 31);
    let report = tile(
        landscape_tile::Settings {
            mode: Mode::Pca,
            ..defaults
        },
        Some(&path),
    );
    let cli = nnlab(&[
        "landscape",
        f,
        "--dirs",
        "pca",
        "--grid",
        "15",
        "--steps",
        "30",
    ]);
    assert_same("pca", cli, &["steps"], &report);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn curvature_of_the_tile_and_of_the_cli_is_identical() {
    let dir = scratch("curvature");
    let file = trained_session(&dir);
    let (_, t) = load(&file);
    // What the worker hands the curvature thread, and the job the tile makes of it.
    let job = |t: &Trainer, gauss_newton: bool| Job {
        sample: Sample {
            objective: objective(t),
            theta: t.theta.clone(),
            step: t.step,
            lr: t.optimizer.learning_rate(),
            regularization: t.regularization,
            seed: t.seed,
            optimizer: None,
        },
        generation: 1,
        gauss_newton,
    };
    let run = |job: &Job| curvature::run(&job.request(), &mut |_| {}, &AtomicBool::new(false));
    // Dense (17 parameters): every eigenvalue, the layer shares of the top three vectors.
    for gauss_newton in [false, true] {
        let report = run(&job(&t, gauss_newton)).unwrap();
        assert_eq!(report.shares.len(), 3);
        let mut args = vec![
            "hessian",
            file.to_str().unwrap(),
            "--k",
            "3",
            "--layer-shares",
        ];
        if gauss_newton {
            args.push("--gauss-newton");
        }
        assert_same(&format!("{args:?}"), nnlab(&args), &[], &report);
    }
    // Above the dense limit the tile runs Lanczos with an SLQ density: a 2-60-60-1 network
    // (3 901 parameters) on xor, at its initialiser.
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sessions/xor.json")).unwrap();
    let mut s: Value = serde_json::from_str(&text).unwrap();
    s["network"]["layers"] = serde_json::json!([
        {"units": 60, "activation": "tanh"},
        {"units": 60, "activation": "tanh"},
        {"units": 1, "activation": "sigmoid"}
    ]);
    let wide = dir.join("wide.json");
    std::fs::write(&wide, serde_json::to_string(&s).unwrap()).unwrap();
    let loaded = session::load(&wide).unwrap();
    let t = session::trainer(&loaded).unwrap();
    assert_eq!(t.net.n_params, 3901);
    let report = run(&job(&t, false)).unwrap();
    assert!(report.density.is_some() && report.shares.len() == 3);
    let cli = nnlab(&[
        "hessian",
        wide.to_str().unwrap(),
        "--k",
        "3",
        "--density",
        "--layer-shares",
    ]);
    assert_eq!(cli["method"], "lanczos");
    assert_same("lanczos", cli, &[], &report);
    let _ = std::fs::remove_dir_all(dir);
}
