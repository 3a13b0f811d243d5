#!/usr/bin/env python3
"""Check nnlab's PyTorch and ONNX exports against nnlab's own outputs.

Optional developer tool: nothing in the Rust build or the test suite needs it,
and Cargo ignores it (only `benches/*.rs` are bench targets).

How to run (from the repository root)
-------------------------------------
PyTorch (and, optionally, onnxruntime) live in a venv outside the repository:

    python3 -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch numpy onnxruntime   # CPU is enough
    cargo build --release

    /tmp/torchvenv/bin/python benches/export_check.py                  # every example and lesson
    /tmp/torchvenv/bin/python benches/export_check.py sessions/xor.json --steps 500
    /tmp/torchvenv/bin/python benches/export_check.py --json

Flags: SESSION... (default: sessions/*.json and sessions/lessons/*.json),
then six networks written here that cover every activation, input features,
BatchNorm, both dropouts and residual connections (--no-coverage: not those),
--steps N (training steps before exporting, default 200; 0 exports the
session as it stands), --nnlab PATH (default target/release/nnlab),
--keep DIR (keep the exported files there instead of a temp folder), --json.

What is checked
---------------
For each session: `nnlab run SESSION --steps N --out trained.json`, then
`nnlab export trained.json --to pytorch DIR --reference ref.safetensors` and
`nnlab export trained.json --to onnx model.onnx`. The reference holds the
training inputs x and nnlab's outputs y on them (bit for bit what nnlab
computes). The exported model.py is imported, load() builds the module, and
its outputs on x are compared with y; so are onnxruntime's on model.onnx when
onnxruntime is installed. The error is max |out - y| / max(1, |y|) over every
output of every training row; the exports agree when it is at most 1e-12
(1e-5 for ONNX networks with GELU, whose erf runs in f32 there).
"""

import argparse
import glob
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
F64_TOLERANCE = 1e-12
F32_TOLERANCE = 1e-5


# Networks with what the example sessions lack: every activation, input features of every
# kind, BatchNorm, both dropouts, residual connections (written to the work folder and checked
# after the sessions unless --no-coverage).
COVERAGE = {
    "coverage_features_bn_dropout": {
        "data": {"source": "xor", "n": 200, "noise": 0.1, "test_fraction": 0.25},
        "network": {"inputs": 2, "features": ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "cos(x2)"],
                    "residual": True,
                    "layers": [
                        {"units": 6, "activation": "leaky_relu", "alpha": 0.2, "batch_norm": True, "dropout": 0.1},
                        {"units": 6, "activation": "prelu", "dropout": 0.2, "dropout_scaling": "none"},
                        {"units": 6, "activation": "elu", "alpha": 0.7, "batch_norm": True},
                        {"units": 1, "activation": "sigmoid"}]},
        "loss": "bce",
    },
    "coverage_swish_softplus_softmax": {
        "data": {"source": "circle", "n": 200, "noise": 0.05},
        "network": {"inputs": 2, "residual": True,
                    "layers": [
                        {"units": 5, "activation": "swish", "beta": 1.3, "batch_norm": True},
                        {"units": 5, "activation": "softplus"},
                        {"units": 5, "activation": "tanh"},
                        {"units": 2, "activation": "softmax"}]},
        "loss": "cross_entropy",
    },
    "coverage_step_relu_hinge": {
        "data": {"source": "blobs", "classes": 3, "n": 150, "noise": 0.3},
        "network": {"inputs": 2,
                    "layers": [
                        {"units": 4, "activation": "step"},
                        {"units": 4, "activation": "relu", "batch_norm": True},
                        {"units": 4, "activation": "identity"},
                        {"units": 3, "activation": "tanh"}]},
        "loss": "hinge",
    },
    "coverage_gelu_softplus_output": {
        "data": {"source": "sin", "n": 100, "noise": 0.0},
        "network": {"inputs": 1,
                    "layers": [
                        {"units": 8, "activation": "gelu"},
                        {"units": 8, "activation": "relu", "batch_norm": True},
                        {"units": 1, "activation": "softplus"}]},
        "loss": "mse",
    },
    "coverage_sine_mish": {
        "data": {"source": "sawtooth", "teeth": 2, "n": 100, "noise": 0.0},
        "network": {"inputs": 1, "init": "siren",
                    "layers": [
                        {"units": 6, "activation": "sine", "omega": 3.5},
                        {"units": 6, "activation": "mish"},
                        {"units": 1, "activation": "identity"}]},
        "loss": "mse",
    },
    "coverage_prelu_output": {
        "data": {"source": "abs", "n": 100, "noise": 0.0},
        "network": {"inputs": 1,
                    "layers": [
                        {"units": 6, "activation": "sigmoid"},
                        {"units": 1, "activation": "prelu"}]},
        "loss": "mse",
    },
}


def coverage_sessions(folder):
    os.makedirs(folder, exist_ok=True)
    paths = []
    for name, parts in COVERAGE.items():
        session = {"nnlab": 1, "name": name, "seed": 7, **parts,
                   "optimizer": {"kind": "adam", "lr": 0.02, "batch_size": 16}}
        path = os.path.join(folder, f"{name}.json")
        with open(path, "w") as f:
            json.dump(session, f, indent=1)
        paths.append(path)
    return paths


def run(cmd):
    """Run an nnlab command; its JSON output, or None and the error line."""
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 3):
        return None, p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"
    return json.loads(p.stdout), None


def import_model(folder):
    spec = importlib.util.spec_from_file_location(f"exported_{abs(hash(folder))}", os.path.join(folder, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def error(out, want):
    """max |out - want| / max(1, |want|)."""
    return ((out - want).abs() / want.abs().clamp(min=1.0)).max().item()


def check(nnlab, session, steps, work):
    name = os.path.relpath(session, ROOT) if session.startswith(ROOT) else os.path.basename(session)
    row = {"session": name}
    os.makedirs(work, exist_ok=True)
    trained = os.path.join(work, "trained.json")
    summary, err = run([nnlab, "run", session, "--steps", str(steps), "--out", trained])
    if summary is None:
        row["skipped"] = f"run: {err}"
        return row
    row["diverged"] = summary["diverged"]
    pt, ref, onnx_path = os.path.join(work, "pt"), os.path.join(work, "ref.safetensors"), os.path.join(work, "model.onnx")
    out, err = run([nnlab, "export", trained, "--to", "pytorch", pt, "--reference", ref])
    if out is None:
        row["skipped"] = f"export: {err}"
        return row
    row["network"] = out["network"]
    module = import_model(pt)
    tensors = module.read_safetensors(ref)
    x, y = tensors["x"], tensors["y"]
    row["rows"] = x.shape[0]
    with torch.no_grad():
        row["pytorch"] = error(module.load()(x), y)

    out, err = run([nnlab, "export", trained, "--to", "onnx", onnx_path])
    if out is None:
        row["onnx"] = f"refused: {err}"
        return row
    row["onnx_precision"] = out["precision"]
    try:
        import onnxruntime
    except ImportError:
        row["onnx"] = "onnxruntime not installed"
        return row
    try:
        sess = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        got = sess.run(["y"], {"x": x.numpy()})[0]
        row["onnx"] = error(torch.from_numpy(got), y)
    except Exception as e:  # a runtime that lacks an operator: say which, go on
        row["onnx"] = f"onnxruntime: {str(e).splitlines()[0]}"
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sessions", nargs="*")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--nnlab", default=os.path.join(ROOT, "target", "release", "nnlab"))
    ap.add_argument("--keep")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-coverage", action="store_true")
    args = ap.parse_args()
    sessions = args.sessions or sorted(glob.glob(os.path.join(ROOT, "sessions", "*.json"))) + sorted(
        glob.glob(os.path.join(ROOT, "sessions", "lessons", "*.json"))
    )
    torch.set_num_threads(1)
    work = args.keep or tempfile.mkdtemp(prefix="nnlab-export-check-")
    if not args.no_coverage:
        sessions += coverage_sessions(os.path.join(work, "coverage"))
    rows = []
    for i, s in enumerate(sessions):
        r = check(args.nnlab, os.path.abspath(s), args.steps, os.path.join(work, f"{i:02d}"))
        rows.append(r)
        if not args.json:
            if "skipped" in r:
                print(f"{r['session']:<45} skipped: {r['skipped']}", flush=True)
                continue
            onnx = r["onnx"] if isinstance(r["onnx"], str) else f"{r['onnx']:.2e}"
            print(f"{r['session']:<45} {r['network']:<42} pytorch {r['pytorch']:.2e}  onnx {onnx}", flush=True)

    def worst(key, pick=lambda r: True):
        v = [r[key] for r in rows if isinstance(r.get(key), float) and pick(r)]
        return max(v) if v else None

    exact = lambda r: r.get("onnx_precision") == "f64"
    summary = {
        "sessions": len(rows),
        "checked": sum(isinstance(r.get("pytorch"), float) for r in rows),
        "worst_pytorch": worst("pytorch"),
        "worst_onnx_f64": worst("onnx", exact),
        "worst_onnx_with_f32_erf": worst("onnx", lambda r: not exact(r)),
    }
    ok = (summary["worst_pytorch"] or 0.0) <= F64_TOLERANCE
    ok &= (summary["worst_onnx_f64"] or 0.0) <= F64_TOLERANCE
    ok &= (summary["worst_onnx_with_f32_erf"] or 0.0) <= F32_TOLERANCE
    summary["agree"] = ok
    if args.json:
        print(json.dumps({"rows": rows, "summary": summary}, indent=2))
    else:
        print(json.dumps(summary, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
