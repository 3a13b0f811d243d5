//! The headless CLI on good and bad input: exit code 2 and one line naming the problem.

use std::path::PathBuf;
use std::process::Command;

fn nnlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nnlab"))
}

/// A fresh folder for one test's files.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nnlab-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const GOOD: &str = r#"{
  "nnlab": 1, "name": "xor", "seed": 42,
  "data": {"source": "xor", "n": 200, "noise": 0.1, "test_fraction": 0.2},
  "network": {"inputs": 2,
    "layers": [{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}],
    "init": "xavier_normal"},
  "loss": "bce",
  "optimizer": {"kind": "adam", "lr": 0.01, "batch_size": 32},
  "regularization": {"l1": 0.0, "l2": 0.0},
  "params": null
}"#;

/// Run `nnlab <cmd> FILE` on `content`; expect exit 2, one stderr line containing `needle`.
fn refused(cmd: &str, file: &str, content: &[u8], needle: &str) {
    let dir = scratch(&format!("{cmd}-{}", needle.len()));
    let path = dir.join(file);
    std::fs::write(&path, content).unwrap();
    let out = nnlab().arg(cmd).arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{file}: stderr {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains(needle),
        "{file}: expected «{needle}» in «{err}»"
    );
    assert!(!err.contains("panicked"));
    assert!(out.stdout.is_empty(), "nothing on stdout");
}

#[test]
fn grad_prints_loss_params_and_gradient() {
    let dir = scratch("grad");
    let path = dir.join("xor.json");
    std::fs::write(&path, GOOD).unwrap();
    let out = nnlab().arg("grad").arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = v["params"].as_array().unwrap();
    let g = v["grad"].as_array().unwrap();
    // 2-4-1: 4·2 + 4 + 1·4 + 1 = 17 parameters.
    assert_eq!(p.len(), 17);
    assert_eq!(g.len(), 17);
    let loss = v["loss"].as_f64().unwrap();
    // BCE of an untrained net on balanced classes is near ln 2.
    assert!((loss - std::f64::consts::LN_2).abs() < 0.2, "loss {loss}");
}

#[test]
fn run_trains_and_writes_session_and_metrics() {
    let dir = scratch("run");
    let path = dir.join("xor.json");
    std::fs::write(&path, GOOD).unwrap();
    let out_session = dir.join("trained.json");
    let metrics = dir.join("metrics.csv");
    let out = nnlab()
        .args(["run"])
        .arg(&path)
        .args(["--steps", "1500", "--eval-every", "100", "--out"])
        .arg(&out_session)
        .arg("--metrics")
        .arg(&metrics)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["steps"], 1500);
    // 160 training rows, batch 32: 5 iterations per epoch.
    assert_eq!(v["iterations_per_epoch"], 5);
    assert_eq!(v["epochs"], 300);
    assert!(v["train_accuracy"].as_f64().unwrap() > 0.9, "{v}");
    // The confusion matrix counts the 160 training rows once each; its diagonal is the accuracy.
    let m: Vec<Vec<u64>> = serde_json::from_value(v["confusion_train"].clone()).unwrap();
    assert_eq!(m.iter().flatten().sum::<u64>(), 160);
    assert_eq!(
        (m[0][0] + m[1][1]) as f64 / 160.0,
        v["train_accuracy"].as_f64().unwrap()
    );
    let csv = std::fs::read_to_string(&metrics).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 15, "header + one row per 100 steps");
    assert!(lines[0].starts_with("step,epoch,lr,batch_loss"));
    assert!(lines[0].contains("layer2_dead"));
    // The trained session loads and carries θ: grad on it has a lower loss than at init.
    let trained: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_session).unwrap()).unwrap();
    assert_eq!(trained["params"].as_array().unwrap().len(), 17);
    let g = nnlab().arg("grad").arg(&out_session).output().unwrap();
    let gv: serde_json::Value = serde_json::from_slice(&g.stdout).unwrap();
    assert!(gv["loss"].as_f64().unwrap() < 0.3);
}

#[test]
fn bad_sessions_are_refused_with_one_line_naming_the_problem() {
    let replace = |from: &str, to: &str| {
        assert!(GOOD.contains(from), "{from}");
        GOOD.replace(from, to).into_bytes()
    };
    refused("run", "empty.json", b"", "empty");
    refused(
        "run",
        "truncated.json",
        &GOOD.as_bytes()[..120],
        "truncated",
    );
    refused(
        "run",
        "binary.json",
        &[0xff, 0xfe, 0x00, 0x9c, 0x80],
        "not a text",
    );
    refused(
        "grad",
        "garbage.json",
        b"{\"nnlab\": 1, oops}",
        "invalid JSON",
    );
    refused(
        "run",
        "unknown-activation.json",
        &replace("\"tanh\"", "\"tanhh\""),
        "network.layers[0].activation",
    );
    refused(
        "run",
        "width0.json",
        &replace("\"units\": 1,", "\"units\": 0,"),
        "width0.json: network.layers[1].units must be at least 1",
    );
    refused(
        "run",
        "nan-lr.json",
        &replace("\"lr\": 0.01", "\"lr\": \"NaN\""),
        "optimizer.lr",
    );
    refused(
        "grad",
        "negative-lr.json",
        &replace("\"lr\": 0.01", "\"lr\": -0.5"),
        "optimizer.lr must be a finite number > 0",
    );
    refused(
        "run",
        "params.json",
        &replace("\"params\": null", "\"params\": [1, 2, 3]"),
        "params has 3 values but the network has 17 parameters",
    );
    refused(
        "run",
        "ragged.json",
        &replace(
            "\"source\": \"xor\", \"n\": 200",
            "\"source\": \"inline\", \"x\": [[0, 0], [1], [1, 1]], \"y\": [0, 1, 0]",
        ),
        "data.x[1]",
    );
    refused(
        "run",
        "huge-n.json",
        &replace("\"n\": 200", "\"n\": 1000000000000"),
        "data.n",
    );
    refused(
        "run",
        "huge-width.json",
        &replace("\"units\": 4,", "\"units\": 1000000000,"),
        "network.layers[0].units",
    );
    refused(
        "run",
        "version.json",
        &replace("\"nnlab\": 1", "\"nnlab\": 99"),
        "version 99 is not supported",
    );
    refused(
        "run",
        "no-loss.json",
        &replace("\"loss\": \"bce\",", ""),
        "missing field `loss`",
    );
    refused(
        "run",
        "bce-softmax.json",
        &replace("\"sigmoid\"", "\"softmax\""),
        "network.layers[1].activation must be sigmoid for loss bce",
    );
    let deep = format!(
        "{{\"nnlab\": 1, \"x\": {}{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    refused("run", "deep.json", deep.as_bytes(), "invalid JSON");
}

#[test]
fn csv_errors_name_the_line_and_column() {
    let dir = scratch("csv");
    std::fs::write(
        dir.join("points.csv"),
        "x1,x2,label\n0.1,0.2,1\n0.3,abc,0\n",
    )
    .unwrap();
    let session = GOOD.replace(
        "\"source\": \"xor\", \"n\": 200",
        "\"source\": \"csv\", \"path\": \"points.csv\"",
    );
    let path = dir.join("s.json");
    std::fs::write(&path, session).unwrap();
    let out = nnlab().arg("run").arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("points.csv") && err.contains("line 3") && err.contains("x2"),
        "{err}"
    );
    // A missing CSV names the field.
    std::fs::remove_file(dir.join("points.csv")).unwrap();
    let out = nnlab().arg("run").arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("data.path"), "{err}");
}

#[test]
fn missing_file_and_bad_flags_exit_2() {
    let out = nnlab()
        .args(["run", "/nonexistent/nope.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.json"));
    let out = nnlab().args(["bench", "--seconds", "-1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bundled_sessions_all_load_and_train() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sessions");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let out = nnlab()
                .arg("run")
                .arg(&path)
                .args(["--steps", "50"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            n += 1;
        }
    }
    assert!(n >= 5);
}

/// `--stop-accuracy` stops at the first epoch boundary where the training accuracy reaches the
/// target: checked against an independent run that records every epoch's evaluation.
#[test]
fn run_stops_at_the_first_epoch_reaching_the_target_accuracy() {
    let out = nnlab()
        .args(["run", "sessions/spiral.json", "--steps", "20000"])
        .args(["--stop-accuracy", "0.95"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stopped"]["reason"], "train_accuracy");
    let step = v["stopped"]["step"].as_u64().unwrap();
    assert_eq!(v["steps"].as_u64(), Some(step));
    let per_epoch = v["iterations_per_epoch"].as_u64().unwrap();
    assert!(step < 20000 && step.is_multiple_of(per_epoch), "{step}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("stopped at step {step}")));

    // The same run without a stop rule, evaluated at every epoch boundary.
    let dir = scratch("stop_accuracy");
    let csv = dir.join("m.csv");
    let ok = nnlab()
        .args(["run", "sessions/spiral.json", "--steps", &step.to_string()])
        .args(["--eval-every", &per_epoch.to_string(), "--metrics"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(ok.status.success());
    let text = std::fs::read_to_string(&csv).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "train_accuracy").unwrap();
    let rows: Vec<(u64, f64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[col].parse().unwrap())
        })
        .collect();
    let (last_step, last_acc) = *rows.last().unwrap();
    assert_eq!(last_step, step);
    assert!(last_acc >= 0.95, "{last_acc}");
    assert_eq!(v["train_accuracy"].as_f64(), Some(last_acc));
    for &(s, acc) in &rows[..rows.len() - 1] {
        assert!(
            acc < 0.95,
            "accuracy {acc} at step {s} already met the target"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn early_stopping_needs_a_test_set_and_names_the_field() {
    let dir = scratch("stop_no_test");
    let mut s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("sessions/xor.json").unwrap()).unwrap();
    s["data"]["test_fraction"] = 0.0.into();
    s["stop"] = serde_json::json!({"patience": 3});
    let path = dir.join("s.json");
    std::fs::write(&path, s.to_string()).unwrap();
    let out = nnlab().arg("run").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stop.patience") && err.contains("test set"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A regression target typed as a formula (issue 14 §4).
const FORMULA: &str = r#"{
  "nnlab": 1, "name": "formula", "seed": 3,
  "data": {"source": "formula", "formula": "sin(3*x1) + 0.5*x1", "n": 200, "noise": 0.05,
           "test_fraction": 0.25},
  "network": {"inputs": 1,
    "layers": [{"units": 16, "activation": "tanh"}, {"units": 1, "activation": "identity"}],
    "init": "xavier_normal"},
  "loss": "mse",
  "optimizer": {"kind": "adam", "lr": 0.01, "batch_size": 32}
}"#;

#[test]
fn formula_data_trains_reports_rmse_and_r2_and_replays() {
    let dir = scratch("formula");
    let path = dir.join("f.json");
    std::fs::write(&path, FORMULA).unwrap();
    let (out, metrics) = (dir.join("out.json"), dir.join("m.csv"));
    let run = nnlab()
        .arg("run")
        .arg(&path)
        .args(["--steps", "600", "--eval-every", "100", "--out"])
        .arg(&out)
        .arg("--metrics")
        .arg(&metrics)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let (r2, rmse) = (
        v["train_r2"].as_f64().unwrap(),
        v["train_rmse"].as_f64().unwrap(),
    );
    // A 16-unit tanh net fits this smooth target well in 600 Adam steps; the noise (0.05)
    // bounds the RMSE from below.
    assert!(r2 > 0.9 && r2 <= 1.0, "{v}");
    assert!(rmse > 0.02 && rmse < 0.3, "{v}");
    assert!(
        v["test_r2"].as_f64().is_some() && v["train_accuracy"].is_null(),
        "{v}"
    );
    assert!(v["confusion_train"].is_null(), "{v}");
    // The CSV carries the same numbers in its named columns.
    let text = std::fs::read_to_string(&metrics).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let last: Vec<&str> = text.lines().last().unwrap().split(',').collect();
    let cell = |name: &str| -> f64 {
        let i = header.iter().position(|h| *h == name).unwrap();
        last[i].parse().unwrap()
    };
    assert_eq!(cell("train_r2"), r2);
    assert_eq!(cell("test_rmse"), v["test_rmse"].as_f64().unwrap());

    // The recording replays bit for bit, the fit included.
    let verify = |file: &std::path::Path| {
        nnlab()
            .arg("replay")
            .arg(file)
            .arg("--verify")
            .output()
            .unwrap()
    };
    let ok = verify(&out);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // A file from before the fit columns existed (the same recording without them) still
    // verifies; a changed R² does not.
    let mut rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let evals = rec["history"]["evaluations"].as_object_mut().unwrap();
    assert_eq!(
        evals["train_r2"].as_array().unwrap().len(),
        6,
        "steps 100, …, 600"
    );
    let mut old = rec.clone();
    for k in ["train_rmse", "train_r2", "test_rmse", "test_r2"] {
        old["history"]["evaluations"]
            .as_object_mut()
            .unwrap()
            .remove(k);
    }
    let old_path = dir.join("old.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    let ok = verify(&old_path);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    rec["history"]["evaluations"]["train_r2"][3] = serde_json::json!(0.5);
    let bad_path = dir.join("bad.json");
    std::fs::write(&bad_path, rec.to_string()).unwrap();
    let bad = verify(&bad_path);
    assert!(!bad.status.success());
    let stdout = String::from_utf8_lossy(&bad.stdout);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stdout.contains("train_r2") || stderr.contains("train_r2"),
        "{stdout} {stderr}"
    );
}

#[test]
fn a_broken_formula_is_refused_with_its_column() {
    refused(
        "run",
        "f.json",
        FORMULA
            .replace("sin(3*x1) + 0.5*x1", "sin(3*x1) + * x1")
            .as_bytes(),
        "data.formula \"sin(3*x1) + * x1\": at column 13: expected a number",
    );
    refused(
        "run",
        "f.json",
        FORMULA.replace("sin(3*x1) + 0.5*x1", "sqrt(x1)").as_bytes(),
        "is NaN at x = (-",
    );
}

#[test]
fn formula_features_train_export_to_pytorch_and_are_refused_where_they_fail() {
    let dir = scratch("formula-features");
    let path = dir.join("f.json");
    let session = GOOD.replace(
        r#""init": "xavier_normal"}"#,
        r#""init": "xavier_normal", "features": ["x1", "x2", "exp(-x1^2 - x2^2)", "atan2(x2, x1)"]}"#,
    );
    assert!(session.contains("atan2"));
    std::fs::write(&path, &session).unwrap();
    let out = dir.join("out.json");
    let run = nnlab()
        .arg("run")
        .arg(&path)
        .args(["--steps", "300", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let verify = nnlab()
        .arg("replay")
        .arg(&out)
        .arg("--verify")
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    // PyTorch gets the formula as torch code; ONNX refuses it in one line.
    let py = dir.join("py");
    let e = nnlab()
        .arg("export")
        .arg(&out)
        .args(["--to", "pytorch"])
        .arg(&py)
        .output()
        .unwrap();
    assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
    let model = std::fs::read_to_string(py.join("model.py")).unwrap();
    assert!(model.contains("torch.atan2(x[:, 1], x[:, 0])"), "{model}");
    refused_with(
        &[
            "export",
            out.to_str().unwrap(),
            "--to",
            "onnx",
            dir.join("m.onnx").to_str().unwrap(),
        ],
        "\"exp(-x1^2 - x2^2)\" is a formula, which the ONNX export does not translate",
    );
    // A feature that is not finite on the data is refused before training.
    let bad = GOOD.replace(
        r#""init": "xavier_normal"}"#,
        r#""init": "xavier_normal", "features": ["x1", "ln(x2)"]}"#,
    );
    refused(
        "run",
        "bad.json",
        bad.as_bytes(),
        "network.features[1] \"ln(x2)\" is NaN at the data row x = (",
    );
}

/// Run `nnlab ARGS…`; expect exit 2 and one stderr line containing `needle`.
fn refused_with(args: &[&str], needle: &str) {
    let out = nnlab().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "expected «{needle}» in «{err}»");
}

/// `nnlab … | head` ends quietly when the reader goes away (no panic on the broken pipe).
#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = scratch("pipe");
    let path = dir.join("xor.json");
    std::fs::write(&path, GOOD).unwrap();
    // About a megabyte of JSON: far more than a pipe holds, so writes go on after the close.
    let mut child = nnlab()
        .arg("landscape")
        .arg(&path)
        .args(["--grid", "201"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    assert_ne!(out.status.code(), Some(101), "{err}");
}
