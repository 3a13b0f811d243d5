//! `nnlab export`: the PyTorch files hold θ bit for bit and a module that names every layer;
//! the ONNX file, read and run by tract (an ONNX implementation independent of our encoder),
//! gives nnlab's outputs on the training rows.

use std::path::{Path, PathBuf};
use std::process::Command;

use nnlab::export::{self, Format, Model};
use nnlab::session;
use nnlab::train::Trainer;
use tract_onnx::prelude::*;

fn nnlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nnlab"))
}

/// A fresh folder for one test's files.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nnlab-export-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A session file around `network` (a JSON object's fields), `data`, `loss`.
fn session_json(name: &str, data: &str, network: &str, loss: &str) -> String {
    format!(
        r#"{{"nnlab": 1, "name": "{name}", "seed": 7,
  "data": {data},
  "network": {network},
  "loss": "{loss}",
  "optimizer": {{"kind": "adam", "lr": 0.02, "batch_size": 16}}}}"#
    )
}

/// Everything but GELU: features of every kind, BatchNorm, both dropouts, residual
/// connections, leaky ReLU, PReLU, ELU with their α, and a sigmoid output.
const FEATURES_BN_DROPOUT: (&str, &str, &str) = (
    r#"{"source": "xor", "n": 120, "noise": 0.1, "test_fraction": 0.25}"#,
    r#"{"inputs": 2, "features": ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "cos(x2)"],
        "residual": true,
        "layers": [
          {"units": 6, "activation": "leaky_relu", "alpha": 0.2, "batch_norm": true, "dropout": 0.1},
          {"units": 6, "activation": "prelu", "dropout": 0.2, "dropout_scaling": "none"},
          {"units": 6, "activation": "elu", "alpha": 0.7, "batch_norm": true},
          {"units": 1, "activation": "sigmoid"}]}"#,
    "bce",
);

/// Swish with its β, softplus, tanh with a residual connection, a softmax output.
const SMOOTH_SOFTMAX: (&str, &str, &str) = (
    r#"{"source": "circle", "n": 100, "noise": 0.05}"#,
    r#"{"inputs": 2, "residual": true,
        "layers": [
          {"units": 5, "activation": "swish", "beta": 1.3, "batch_norm": true},
          {"units": 5, "activation": "softplus"},
          {"units": 5, "activation": "tanh"},
          {"units": 2, "activation": "softmax"}]}"#,
    "cross_entropy",
);

/// Step units, ReLU, an identity hidden layer and a tanh output with the hinge loss.
const STEP_RELU_HINGE: (&str, &str, &str) = (
    r#"{"source": "blobs", "classes": 3, "n": 90, "noise": 0.3}"#,
    r#"{"inputs": 2,
        "layers": [
          {"units": 4, "activation": "step"},
          {"units": 4, "activation": "relu", "batch_norm": true},
          {"units": 4, "activation": "identity"},
          {"units": 3, "activation": "tanh"}]}"#,
    "hinge",
);

/// A 1-D regression with sigmoid units and a PReLU output.
const PRELU_OUTPUT: (&str, &str, &str) = (
    r#"{"source": "abs", "n": 60, "noise": 0.0}"#,
    r#"{"inputs": 1,
        "layers": [
          {"units": 6, "activation": "sigmoid"},
          {"units": 1, "activation": "prelu"}]}"#,
    "mse",
);

/// GELU (whose erf runs in f32 in ONNX) and a softplus output.
const GELU: (&str, &str, &str) = (
    r#"{"source": "sin", "n": 60, "noise": 0.0}"#,
    r#"{"inputs": 1,
        "layers": [
          {"units": 8, "activation": "gelu"},
          {"units": 8, "activation": "relu", "batch_norm": true},
          {"units": 1, "activation": "softplus"}]}"#,
    "mse",
);

/// SIREN-style sine units with their ω₀, then Mish.
const SINE_MISH: (&str, &str, &str) = (
    r#"{"source": "sawtooth", "teeth": 2, "n": 60, "noise": 0.0}"#,
    r#"{"inputs": 1, "init": "siren",
        "layers": [
          {"units": 6, "activation": "sine", "omega": 3.5},
          {"units": 6, "activation": "mish"},
          {"units": 1, "activation": "identity"}]}"#,
    "mse",
);

/// Fourier features sin(k·x) and cos(k·x) with k ≠ 1 (the spectral-bias control's inputs).
const FOURIER: (&str, &str, &str) = (
    r#"{"source": "sin", "n": 60, "noise": 0.0}"#,
    r#"{"inputs": 1, "features": ["x1", "sin(5*x1)", "cos(2.5*x1)", "sin(x1)"],
        "layers": [
          {"units": 4, "activation": "tanh"},
          {"units": 1, "activation": "identity"}]}"#,
    "mse",
);

/// Write the session, load it, train `steps` steps in process.
fn trained(dir: &Path, name: &str, case: (&str, &str, &str), steps: usize) -> Trainer {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, session_json(name, case.0, case.1, case.2)).unwrap();
    let loaded = session::load(&path).unwrap();
    let mut t = session::trainer(&loaded).unwrap();
    for _ in 0..steps {
        assert!(!t.step().diverged);
    }
    t
}

/// θ's layout computed here from the spec (W [units × fan_in], b, then γ and β with
/// BatchNorm, then α for PReLU), as (tensor name, shape, offset) per tensor.
fn layout(fan_in: usize, layers: &[(usize, bool, bool)]) -> Vec<(String, Vec<usize>, usize)> {
    let mut out = Vec::new();
    let (mut k, mut at) = (fan_in, 0);
    for (i, &(n, bn, prelu)) in layers.iter().enumerate() {
        out.push((format!("layers.{i}.linear.weight"), vec![n, k], at));
        at += n * k;
        out.push((format!("layers.{i}.linear.bias"), vec![n], at));
        at += n;
        if bn {
            out.push((format!("layers.{i}.norm.weight"), vec![n], at));
            out.push((format!("layers.{i}.norm.bias"), vec![n], at + n));
            at += 2 * n;
        }
        if prelu {
            out.push((format!("layers.{i}.act.weight"), vec![n], at));
            at += n;
        }
        k = n;
    }
    out
}

fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn pytorch_files_hold_theta_bit_for_bit_and_name_every_layer() {
    let dir = scratch("pytorch");
    let mut t = trained(&dir, "xor features", FEATURES_BN_DROPOUT, 40);
    let model = Model::new("xor features", &t.net, &t.theta, &t.train).unwrap();
    let out = dir.join("pt");
    let written = export::write(&model, Format::Pytorch, &out).unwrap();
    drop(model);
    assert_eq!(
        written.files,
        [out.join("model.py"), out.join("model.safetensors")]
    );

    let bytes = std::fs::read(out.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    // 7 features → 6 leaky (BN) → 6 PReLU → 6 ELU (BN) → 1 sigmoid.
    let expected = layout(
        7,
        &[
            (6, true, false),
            (6, false, true),
            (6, true, false),
            (1, false, false),
        ],
    );
    let n_params: usize = expected
        .iter()
        .map(|(_, s, _)| s.iter().product::<usize>())
        .sum();
    assert_eq!(n_params, t.theta.len());
    for (name, shape, at) in &expected {
        let view = st.tensor(name).unwrap();
        assert_eq!(view.dtype(), safetensors::Dtype::F64, "{name}");
        assert_eq!(view.shape(), shape.as_slice(), "{name}");
        let n: usize = shape.iter().product();
        assert_eq!(
            bits(&f64s(view.data())),
            bits(&t.theta[*at..at + n]),
            "{name}"
        );
    }
    // The BatchNorm statistics are those nnlab evaluates with.
    let stats = t.train_bn_stats().unwrap();
    for i in [0, 2] {
        for (what, v) in [
            ("running_mean", &stats.mean[i]),
            ("running_var", &stats.var[i]),
        ] {
            let view = st.tensor(&format!("layers.{i}.norm.{what}")).unwrap();
            assert_eq!(view.shape(), [6]);
            assert_eq!(bits(&f64s(view.data())), bits(v), "layers.{i}.{what}");
        }
    }
    assert_eq!(st.len(), expected.len() + 4, "nothing else in the file");

    let py = std::fs::read_to_string(out.join("model.py")).unwrap();
    for needle in [
        "def load(path=None) -> torch.nn.Module:",
        "INPUTS = 2",
        "OUTPUTS = 1",
        "x[:, 0] * x[:, 1],  # x1*x2",
        "x[:, 1] * x[:, 1],  # x2^2",
        "torch.sin(x[:, 0]),  # sin(x1)",
        "torch.cos(x[:, 1]),  # cos(x2)",
        "# layers[0]: 6 leaky_relu, BatchNorm, dropout 0.1",
        "Layer(7, 6, nn.LeakyReLU(0.2), norm=True, dropout=nn.Dropout(0.1)),",
        "# layers[1]: 6 prelu, dropout 0.2 (not rescaled), residual",
        "Layer(6, 6, nn.PReLU(6, dtype=torch.float64), dropout=UnscaledDropout(0.2), residual=True),",
        "# layers[2]: 6 elu, BatchNorm, residual",
        "Layer(6, 6, nn.ELU(0.7), norm=True, residual=True),",
        "# layers[3]: 1 sigmoid (output)",
        "Layer(6, 1, nn.Sigmoid()),",
        "nn.BatchNorm1d(units, eps=1e-5, dtype=torch.float64)",
        "class UnscaledDropout(nn.Module):",
    ] {
        assert!(py.contains(needle), "model.py lacks «{needle}»:\n{py}");
    }
    // Only the helpers this network uses.
    for absent in ["class Step", "class Swish", "class Softplus"] {
        assert!(!py.contains(absent), "{absent}");
    }
}

/// The graph's input and output as tract reads them, and its outputs on `x`.
fn run_onnx(path: &Path, x: &[f64], rows: usize, inputs: usize) -> Vec<f64> {
    let model = tract_onnx::onnx()
        .model_for_path(path)
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let input = Tensor::from_shape(&[rows, inputs], x).unwrap();
    let out = model.run(tvec!(input.into())).unwrap();
    let y = out[0].to_plain_array_view::<f64>().unwrap();
    assert_eq!(y.shape()[0], rows);
    y.iter().copied().collect()
}

/// Export `case` to ONNX after a few steps and compare tract's outputs with nnlab's on the
/// training rows: at most `tol` apart (relative to the output, at least 1).
fn onnx_agrees(name: &str, case: (&str, &str, &str), tol: f64) -> f64 {
    let dir = scratch(&format!("onnx-{name}"));
    let mut t = trained(&dir, name, case, 30);
    let path = dir.join(format!("{name}.onnx"));
    let model = Model::new(name, &t.net, &t.theta, &t.train).unwrap();
    export::write(&model, Format::Onnx, &path).unwrap();
    drop(model);
    let (rows, inputs, k) = (t.train.rows(), t.net.inputs, t.net.output_units());
    let x = t.train.x.clone();
    let want = t.predict(&x, rows);
    let got = run_onnx(&path, &x, rows, inputs);
    assert_eq!(got.len(), rows * k, "{name}");
    let mut worst: f64 = 0.0;
    for (g, w) in got.iter().zip(&want) {
        let err = (g - w).abs() / w.abs().max(1.0);
        assert!(err <= tol, "{name}: onnx {g} vs nnlab {w}");
        worst = worst.max(err);
    }
    eprintln!(
        "{name}: tract vs nnlab, worst error {worst:.1e} over {} outputs",
        got.len()
    );
    worst
}

#[test]
fn onnx_reproduces_nnlab_with_features_batchnorm_dropout_and_residuals() {
    onnx_agrees("features", FEATURES_BN_DROPOUT, 1e-12);
}

#[test]
fn onnx_reproduces_swish_softplus_tanh_and_softmax() {
    onnx_agrees("smooth", SMOOTH_SOFTMAX, 1e-12);
}

#[test]
fn onnx_reproduces_step_relu_identity_and_tanh() {
    onnx_agrees("step", STEP_RELU_HINGE, 1e-12);
}

#[test]
fn onnx_reproduces_fourier_features() {
    onnx_agrees("fourier", FOURIER, 1e-12);
}

#[test]
fn onnx_reproduces_sine_and_mish() {
    onnx_agrees("sine", SINE_MISH, 1e-12);
}

#[test]
fn onnx_reproduces_a_prelu_output() {
    onnx_agrees("prelu", PRELU_OUTPUT, 1e-12);
}

#[test]
fn onnx_reproduces_gelu_to_f32_precision() {
    let worst = onnx_agrees("gelu", GELU, 1e-5);
    // The erf really runs in f32 (else this network would be exact too).
    assert!(worst > 1e-12, "{worst}");
}

#[test]
fn onnx_file_declares_opset_13_and_f64_x_and_y() {
    let dir = scratch("onnx-proto");
    let t = trained(&dir, "proto", FEATURES_BN_DROPOUT, 5);
    let path = dir.join("m.onnx");
    let model = Model::new("proto", &t.net, &t.theta, &t.train).unwrap();
    export::write(&model, Format::Onnx, &path).unwrap();
    let proto = tract_onnx::onnx().proto_model_for_path(&path).unwrap();
    assert_eq!(proto.opset_import.len(), 1);
    assert_eq!(proto.opset_import[0].version, 13);
    assert_eq!(proto.opset_import[0].domain, "");
    let g = proto.graph.as_ref().unwrap();
    for (v, name, width) in [(&g.input, "x", 2), (&g.output, "y", 1)] {
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].name, name);
        let ty = format!("{:?}", v[0].r#type);
        // f64, the rows are the symbol N.
        assert!(ty.contains("elem_type: Double"), "{ty}");
        assert!(ty.contains("DimParam(\"N\")"), "{ty}");
        assert!(ty.contains(&format!("DimValue({width})")), "{ty}");
    }
    // The initializers are θ's slices bit for bit, under the PyTorch names.
    let expected = layout(
        7,
        &[
            (6, true, false),
            (6, false, true),
            (6, true, false),
            (1, false, false),
        ],
    );
    for (name, shape, at) in &expected {
        let init = g.initializer.iter().find(|i| &i.name == name).unwrap();
        assert_eq!(init.data_type, 11, "{name}");
        let dims: Vec<usize> = init.dims.iter().map(|&d| d as usize).collect();
        assert_eq!(&dims, shape, "{name}");
        let n: usize = shape.iter().product();
        assert_eq!(bits(&f64s(&init.raw_data)), bits(&t.theta[*at..at + n]));
    }
}

#[test]
fn the_cli_exports_both_formats_and_a_reference() {
    let dir = scratch("cli");
    let spec = dir.join("s.json");
    let (data, network, loss) = SMOOTH_SOFTMAX;
    std::fs::write(&spec, session_json("cli", data, network, loss)).unwrap();
    let trained = dir.join("trained.json");
    let o = nnlab()
        .args(["run", "--steps", "25", "--out"])
        .arg(&trained)
        .arg(&spec)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let (pt, onnx, reference) = (dir.join("pt"), dir.join("m.onnx"), dir.join("ref.st"));
    let o = nnlab()
        .arg("export")
        .arg(&trained)
        .args(["--to", "pytorch"])
        .arg(&pt)
        .arg("--reference")
        .arg(&reference)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["format"], "pytorch");
    assert_eq!(v["step"], 25);
    assert_eq!(v["precision"], "f64");
    assert_eq!(v["files"].as_array().unwrap().len(), 3);
    assert!(pt.join("model.py").is_file() && pt.join("model.safetensors").is_file());

    let o = nnlab()
        .arg("export")
        .arg(&trained)
        .args(["--to", "onnx"])
        .arg(&onnx)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["format"], "onnx");
    assert_eq!(
        v["network"],
        "2 → 5 swish → 5 softplus → 5 tanh → 2 softmax"
    );

    // The reference holds the training rows and nnlab's outputs on them, bit for bit; the
    // ONNX file run by tract agrees with them.
    let loaded = session::load(&trained).unwrap();
    let mut t = session::trainer(&loaded).unwrap();
    assert_eq!(t.step, 25);
    let rows = t.train.rows();
    let x = t.train.x.clone();
    let want = t.predict(&x, rows);
    let bytes = std::fs::read(&reference).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (rx, ry) = (st.tensor("x").unwrap(), st.tensor("y").unwrap());
    assert_eq!(rx.shape(), [rows, 2]);
    assert_eq!(ry.shape(), [rows, 2]);
    assert_eq!(bits(&f64s(rx.data())), bits(&x));
    assert_eq!(bits(&f64s(ry.data())), bits(&want));
    let got = run_onnx(&onnx, &x, rows, 2);
    let worst = got
        .iter()
        .zip(&want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 1e-12, "{worst}");
}

/// `nnlab export ARGS…` fails with exit 2 and one line containing `needle`.
fn refused(args: &[&std::ffi::OsStr], needle: &str) {
    let o = nnlab().arg("export").args(args).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "expected «{needle}» in «{err}»");
    assert!(o.stdout.is_empty());
}

#[test]
fn bad_exports_are_refused_in_one_line() {
    let dir = scratch("refusals");
    let spec = dir.join("s.json");
    let (data, network, loss) = PRELU_OUTPUT;
    std::fs::write(&spec, session_json("r", data, network, loss)).unwrap();
    let file = dir.join("a_file");
    std::fs::write(&file, "x").unwrap();
    let s = spec.as_os_str();
    // PyTorch writes a folder; ONNX a file.
    refused(
        &[s, "--to".as_ref(), "pytorch".as_ref(), file.as_os_str()],
        "is a file; PyTorch export writes a folder",
    );
    refused(
        &[s, "--to".as_ref(), "onnx".as_ref(), dir.as_os_str()],
        "is a folder; give a file name",
    );
    // The session itself is never overwritten.
    refused(
        &[s, "--to".as_ref(), "onnx".as_ref(), s],
        "is the session file; the export would overwrite it",
    );
    refused(
        &[s, "--to".as_ref(), "keras".as_ref(), file.as_os_str()],
        "invalid value 'keras'",
    );

    // A diverged run has no network to export.
    let wild = dir.join("wild.json");
    std::fs::write(
        &wild,
        std::fs::read_to_string(&spec).unwrap().replace(
            "\"kind\": \"adam\", \"lr\": 0.02",
            "\"kind\": \"sgd\", \"lr\": 1e6",
        ),
    )
    .unwrap();
    let diverged = dir.join("diverged.json");
    let o = nnlab()
        .args(["run", "--steps", "500", "--out"])
        .arg(&diverged)
        .arg(&wild)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    refused(
        &[
            diverged.as_os_str(),
            "--to".as_ref(),
            "onnx".as_ref(),
            dir.join("d.onnx").as_os_str(),
        ],
        "(training diverged): there is no network to export",
    );
    assert!(!dir.join("d.onnx").exists());
}
