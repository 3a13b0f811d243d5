//! `nnlab regions`, `jacobian` and `spectral-bias` on good and bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn nnlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nnlab"))
        .args(args)
        .output()
        .unwrap()
}

fn write(name: &str, text: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nnlab-cli-geo-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn json(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Exit 2 with one stderr line containing `needle`.
fn refused(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{err}");
}

/// Lesson r06's tent map composed 4 times, as the session's θ.
const SAWTOOTH: &str = r#"{ "nnlab": 1, "name": "saw", "seed": 5,
  "data": { "source": "sawtooth", "teeth": 8, "n": 100, "noise": 0.0, "test_fraction": 0.0 },
  "network": { "inputs": 1, "layers": [
    {"units": 2, "activation": "relu"}, {"units": 2, "activation": "relu"},
    {"units": 2, "activation": "relu"}, {"units": 2, "activation": "relu"},
    {"units": 1, "activation": "identity"} ] },
  "loss": "mse", "optimizer": { "kind": "adam", "lr": 0.01, "batch_size": 100 },
  "params": [1, 1, 0, -0.5, 2, -4, 2, -4, 0, -0.5, 2, -4, 2, -4, 0, -0.5,
             2, -4, 2, -4, 0, -0.5, 2, -4, 0] }"#;

#[test]
fn regions_of_the_sawtooth_and_bad_boxes() {
    let p = write("saw.json", SAWTOOTH);
    let p = p.to_str().unwrap();
    let v = json(&nnlab(&["regions", p, "--box", "0,1", "--polygons"]));
    assert_eq!(v["regions"], 16);
    assert_eq!(v["patterns"].as_array().unwrap().len(), 16);
    assert_eq!(v["polygons"].as_array().unwrap().len(), 16);
    let bp: Vec<f64> = serde_json::from_value(v["breakpoints"].clone()).unwrap();
    assert_eq!(bp.len(), 15);
    assert!((bp[7] - 0.5).abs() < 1e-12);
    refused(
        &nnlab(&["regions", p, "--box", "0,1,0,1"]),
        "needs 2 numbers for 1-D inputs",
    );
    refused(&nnlab(&["regions", p, "--box", "1,0"]), "x0 < x1");
    // Four hidden layers: J⁽²⁾ … J⁽⁴⁾ (the values are checked in tests/jacobian.rs).
    let v = json(&nnlab(&["jacobian", p, "--points", "4", "--summary"]));
    assert_eq!(v["depths"].as_array().unwrap().len(), 3);
    refused(&nnlab(&["jacobian", p, "--points", "0"]), "--points");
}

#[test]
fn tanh_and_classification_are_refused_with_the_reason() {
    let tanh = write(
        "tanh.json",
        r#"{ "nnlab": 1, "name": "t", "seed": 1,
  "data": { "source": "xor", "n": 50 },
  "network": { "inputs": 2, "layers": [ {"units": 4, "activation": "tanh"},
                                        {"units": 1, "activation": "sigmoid"} ] },
  "loss": "bce", "optimizer": { "kind": "sgd", "lr": 0.1 } }"#,
    );
    let t = tanh.to_str().unwrap();
    refused(&nnlab(&["regions", t]), "not piecewise linear");
    refused(&nnlab(&["jacobian", t]), "at least two hidden layers");
    refused(
        &nnlab(&["spectral-bias", t, "--steps", "5"]),
        "1-D regression",
    );
}

#[test]
fn spectral_bias_reports_per_peak_errors_over_steps() {
    let p = write(
        "sin.json",
        r#"{ "nnlab": 1, "name": "sin", "seed": 2,
  "data": { "source": "sin", "n": 64, "noise": 0.0, "test_fraction": 0.0 },
  "network": { "inputs": 1, "layers": [ {"units": 16, "activation": "tanh"},
                                        {"units": 1, "activation": "identity"} ] },
  "loss": "mse", "optimizer": { "kind": "adam", "lr": 0.01, "batch_size": 64 } }"#,
    );
    let p = p.to_str().unwrap();
    let v = json(&nnlab(&[
        "spectral-bias",
        p,
        "--steps",
        "20",
        "--every",
        "5",
    ]));
    assert_eq!(v["steps"], serde_json::json!([0, 5, 10, 15, 20]));
    let peaks = v["peaks"].as_array().unwrap().len();
    assert_eq!(v["relative_error"][0].as_array().unwrap().len(), peaks);
    assert_eq!(v["residual_amplitude"].as_array().unwrap().len(), 5);
    refused(&nnlab(&["spectral-bias", p, "--every", "0"]), "--every");
}

/// One hidden ReLU layer on the spiral (the origin inside the box), biases 0 at
/// initialisation (He normal).
const SPIRAL_RELU: &str = r#"{ "nnlab": 1, "name": "spiral relu", "seed": 3,
  "data": { "source": "spiral", "n": 200, "noise": 0.05, "test_fraction": 0.0 },
  "network": { "inputs": 2, "init": "he_normal", "layers": [
    {"units": 4, "activation": "relu"}, {"units": 1, "activation": "sigmoid"} ] },
  "loss": "bce", "optimizer": { "kind": "adam", "lr": 0.01, "batch_size": 200 } }"#;

#[test]
fn region_sweeps_count_against_width_and_depth() {
    let p = write("spiral_relu.json", SPIRAL_RELU);
    let p = p.to_str().unwrap();
    // At initialisation every bias is 0: n lines through the origin, in general position,
    // cut the plane into exactly 2n sectors, whatever the seed.
    let v = json(&nnlab(&[
        "regions", p, "--sweep", "width", "--values", "1,3,5", "--inits", "3",
    ]));
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (row, n) in rows.iter().zip([1, 3, 5]) {
        assert_eq!(row["width"], n);
        assert_eq!(
            row["regions"],
            serde_json::json!([2 * n, 2 * n, 2 * n]),
            "{row}"
        );
    }
    // Depth: layers as wide as the first (4 units); trained a little, so biases move.
    let v = json(&nnlab(&[
        "regions", p, "--sweep", "depth", "--values", "1,2", "--inits", "2", "--steps", "20",
    ]));
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows[0]["units"], 4);
    assert_eq!(rows[1]["units"], 8);
    assert_eq!(rows[1]["depth"], 2);
    for row in rows {
        let counts: Vec<u64> = serde_json::from_value(row["regions"].clone()).unwrap();
        assert_eq!(counts.len(), 2);
        // One layer of 4 units: at most 1 + 4 + 6 = 11 regions (Zaslavsky).
        assert!(counts.iter().all(|&c| c >= 1), "{row}");
        if row["depth"] == 1 {
            assert!(counts.iter().all(|&c| c <= 11), "{row}");
        }
    }
    refused(
        &nnlab(&["regions", p, "--sweep", "depth", "--values", "0"]),
        "--values",
    );
    refused(
        &nnlab(&["regions", p, "--sweep", "width", "--inits", "0"]),
        "--inits",
    );
    let tanh = SPIRAL_RELU.replace("\"relu\"", "\"tanh\"");
    let q = write("spiral_tanh.json", &tanh);
    refused(
        &nnlab(&["regions", q.to_str().unwrap(), "--sweep", "width"]),
        "not piecewise linear",
    );
}
