//! Sizes under hostile use: every analysis estimates its memory and refuses what does not fit
//! in one line (exit 2) instead of aborting on a failed allocation (exit 134); wide layers no
//! longer take memory in proportion to width²; size and count arguments are bounded.
//!
//! Nothing here allocates gigabytes: refusals happen before allocating (a budget set by
//! NNLAB_MEMORY_BUDGET makes them visible on small networks), and the runs that must stay
//! small run under a virtual-memory limit (`ulimit -v`) that the old code broke.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A fresh folder for one test's files.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nnlab-limits-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A moons session: `inputs` → hidden tanh layers → one sigmoid unit, `n` rows.
fn session(dir: &std::path::Path, hidden: &[usize], n: usize, extra: &str) -> PathBuf {
    let layers: Vec<String> = hidden
        .iter()
        .map(|u| format!(r#"{{"units": {u}, "activation": "tanh"{extra}}}"#))
        .chain([r#"{"units": 1, "activation": "sigmoid"}"#.to_string()])
        .collect();
    let text = format!(
        r#"{{"nnlab": 1, "name": "limits", "seed": 3,
  "data": {{"source": "moons", "n": {n}, "noise": 0.1, "test_fraction": 0.2}},
  "network": {{"inputs": 2, "layers": [{}], "init": "xavier_normal"}},
  "loss": "bce", "optimizer": {{"kind": "sgd", "lr": 0.05, "batch_size": 16}},
  "regularization": {{"l1": 0.0, "l2": 0.0}}, "params": null}}"#,
        layers.join(", ")
    );
    let path = dir.join("s.json");
    std::fs::write(&path, text).unwrap();
    path
}

fn nnlab() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nnlab"));
    c.env_remove("NNLAB_MEMORY_BUDGET");
    c
}

/// `nnlab ARGS` with at most `kib` KiB of address space (the old code's allocations failed
/// under it and aborted).
fn nnlab_within(kib: u64, args: &[&str]) -> Output {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {kib} && exec '{}' {}",
            env!("CARGO_BIN_EXE_nnlab"),
            quoted.join(" ")
        ))
        .env_remove("NNLAB_MEMORY_BUDGET")
        .output()
        .unwrap()
}

/// Exit 2, nothing on stdout, one stderr line containing every needle.
fn refused(out: &Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert!(!err.contains("panicked") && !err.contains("memory allocation"));
    for n in needles {
        assert!(err.contains(n), "expected «{n}» in «{err}»");
    }
    err
}

fn ok(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The size the refusal names, in bytes ("needs about 385 MB").
fn needed_bytes(line: &str) -> f64 {
    let rest = line.split("needs about ").nth(1).unwrap();
    let mut words = rest.split_whitespace();
    let value: f64 = words.next().unwrap().parse().unwrap();
    let unit = match words.next().unwrap() {
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => 1.0,
    };
    value * unit
}

/// The Lanczos analyses of a 120 001-parameter network keep 401 vectors of P (385 MB): under
/// a 300 MB budget `hessian`, `hessian --method lanczos` and `landscape --dirs hessian`
/// refuse in one line naming the size and the limit, before allocating the basis.
#[test]
fn lanczos_analyses_refuse_what_the_budget_cannot_hold() {
    let dir = scratch("lanczos");
    let path = session(&dir, &[30_000], 100, "");
    let p = path.to_str().unwrap();
    for args in [
        vec!["hessian", p],
        vec!["hessian", p, "--method", "lanczos"],
        vec!["landscape", p, "--dirs", "hessian"],
        vec!["hessian", p, "--density"],
    ] {
        let out = nnlab()
            .args(&args)
            .env("NNLAB_MEMORY_BUDGET", "300000000")
            .output()
            .unwrap();
        let line = refused(
            &out,
            &[
                "120001 parameters",
                "needs about",
                "more than the 300 MB this run may use (the limit set by NNLAB_MEMORY_BUDGET)",
            ],
        );
        // At least the Krylov basis: 401 vectors of P.
        let basis = 401.0 * 120_001.0 * 8.0;
        assert!(needed_bytes(&line) >= basis * 0.99, "{args:?}: {line}");
    }
}

/// The largest network the lab supports (2-1400-1400-1, 1 967 001 parameters): the Lanczos
/// basis alone is 6.3 GB, more than this run's 3 GB of address space. The old code aborted
/// allocating such a basis (exit 134); now one line, checked before the allocation.
#[test]
fn the_largest_supported_network_is_refused_not_aborted_where_memory_is_short() {
    let dir = scratch("p2m");
    let path = session(&dir, &[1400, 1400], 60, "");
    let p = path.to_str().unwrap();
    for args in [
        vec!["hessian", p],
        vec!["landscape", p, "--dirs", "hessian", "--grid", "5"],
    ] {
        let out = nnlab_within(3_000_000, &args);
        let line = refused(&out, &["1967001 parameters", "of memory"]);
        assert!(!line.contains("panicked"), "{line}");
    }
}

/// A layer 20 000 wide over 40 rows: the products' scratch was widest² (3.2 GB) and the run
/// aborted under a 2.5 GB address-space limit; now it is rows × width and the spectrum and
/// the Hessian directions come out.
#[test]
fn a_wide_layer_no_longer_costs_width_squared() {
    let dir = scratch("wide");
    let path = session(&dir, &[20_000], 50, "");
    let p = path.to_str().unwrap();
    let v = ok(&nnlab_within(
        2_500_000,
        &["hessian", p, "--method", "lanczos", "--k", "2"],
    ));
    assert_eq!(v["params"], 80_001);
    let eig = v["eigenvalues"].as_array().unwrap();
    assert_eq!(eig.len(), 4);
    assert!(eig.iter().all(|e| e.as_f64().is_some_and(f64::is_finite)));
    let v = ok(&nnlab_within(
        2_500_000,
        &["landscape", p, "--dirs", "hessian", "--grid", "3"],
    ));
    let l = v["eigenvalues"].as_array().unwrap();
    assert!(l[0].as_f64().unwrap() >= l[1].as_f64().unwrap());
}

/// `grad` over 20 000 rows through a layer 10 000 wide held every row's activations at once
/// (8 GB; the issue saw 13 GB on a larger set); now the rows go in blocks and it fits in
/// 1.5 GB of address space. (That the blocks sum to the one-pass gradient is checked in
/// `net::objective`'s tests.)
#[test]
fn grad_over_many_rows_of_a_wide_layer_stays_small() {
    let dir = scratch("grad");
    let path = session(&dir, &[10_000], 25_000, "");
    let v = ok(&nnlab_within(1_500_000, &["grad", path.to_str().unwrap()]));
    let g = v["grad"].as_array().unwrap();
    assert_eq!(g.len(), 40_001);
    assert!(g.iter().all(|x| x.as_f64().is_some_and(f64::is_finite)));
    let loss = v["loss"].as_f64().unwrap();
    assert!((loss - std::f64::consts::LN_2).abs() < 0.2, "loss {loss}");
}

/// A session whose training alone needs more than an experiment may take (full-batch GD
/// with BatchNorm over 20 000 rows of a layer 10 000 wide: 11 GB for the batch's workspace and
/// as much for the pass that gives BatchNorm its statistics) is
/// refused when its trainer is built, whatever the machine.
#[test]
fn an_experiment_above_the_fixed_cap_is_refused_when_built() {
    let dir = scratch("experiment");
    let path = session(&dir, &[10_000], 25_000, r#", "batch_norm": true"#);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(r#""kind": "sgd""#, r#""kind": "gd""#);
    std::fs::write(&path, text).unwrap();
    let out = nnlab_within(1_500_000, &["run", path.to_str().unwrap(), "--steps", "1"]);
    refused(
        &out,
        &[
            "network is too large: training 60001 parameters on 20000 rows needs about",
            "more than the 8.59 GB an experiment may take",
        ],
    );
}

/// Bounded arguments: each refused with one line naming the flag, at once.
#[test]
fn size_and_count_arguments_have_bounds() {
    let dir = scratch("args");
    let small = session(&dir, &[4], 100, "");
    let s = small.to_str().unwrap();
    let cases: [(&[&str], &[&str]); 8] = [
        (
            &["run", s, "--steps", "18446744073709551615"],
            &["--steps must be at most 10000000000"],
        ),
        (
            &["dynamics", s, "--kind", "flow", "--time", "1e300"],
            &["--time 1e300", "GD steps, more than the 1000000 allowed"],
        ),
        (
            &[
                "dynamics",
                s,
                "--kind",
                "lyapunov",
                "--warmup",
                "1000000000000",
            ],
            &["--warmup must be in 0 … 1000000"],
        ),
        (
            &[
                "dynamics",
                s,
                "--kind",
                "flow",
                "--substeps",
                "10000",
                "--steps",
                "100000",
            ],
            &["RK4 sub-steps allowed"],
        ),
        (
            &["dynamics", s, "--kind", "signal", "--rows", "100000000"],
            &["--rows must be in 1 … 10000000"],
        ),
        (
            &["hessian", s, "--k", "0"],
            &["--k must be between 1 and 100"],
        ),
        (
            &["hessian", s, "--k", "5000"],
            &["--k must be between 1 and 100"],
        ),
        (
            &["landscape", s, "--grid", "1002"],
            &["--grid must be between 2 and 1001"],
        ),
    ];
    for (args, needles) in cases {
        refused(&nnlab().args(args).output().unwrap(), needles);
    }
}

/// `landscape --grid 1001` of a 8 001-parameter network over 80 rows is 4·10¹² operations
/// (tens of minutes); refused with the largest grid that fits.
#[test]
fn a_slice_too_long_to_compute_is_refused_with_the_grid_that_fits() {
    let dir = scratch("grid");
    let path = session(&dir, &[2000], 100, "");
    let out = nnlab()
        .args(["landscape", path.to_str().unwrap(), "--grid", "1001"])
        .output()
        .unwrap();
    let line = refused(
        &out,
        &[
            "--grid 1001 is too large for 8001 parameters over 80 rows",
            "more than the 2e12 allowed; use --grid",
        ],
    );
    let most: usize = line
        .split("use --grid ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    // G²·rows·(P + 10·units) ≤ 2e12 with rows 80, P 8001, units 2001.
    let per_point = 80.0 * (8001.0 + 10.0 * 2001.0);
    assert!((most as f64).powi(2) * per_point <= 2e12);
    assert!(((most + 1) as f64).powi(2) * per_point > 2e12);
}
