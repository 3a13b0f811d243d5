#!/usr/bin/env python3
"""PyTorch reference timings for nnlab's training-step benchmarks.

Optional developer tool: nothing in the Rust build or the test suite needs it,
and Cargo ignores it (only `benches/*.rs` are bench targets).

How to run (from the repository root)
-------------------------------------
PyTorch lives in a venv outside the repository:

    python3 -m venv /work/venv-torch
    /work/venv-torch/bin/pip install torch numpy    # CPU is enough; the PyPI wheel works
    cargo build --release                           # for the nnlab column (optional)

    /work/venv-torch/bin/python benches/pytorch_reference.py               # table
    /work/venv-torch/bin/python benches/pytorch_reference.py --torch-only  # skip nnlab
    /work/venv-torch/bin/python benches/pytorch_reference.py --json        # machine-readable
    /work/venv-torch/bin/python benches/pytorch_reference.py --seconds 5 --nnlab path/to/nnlab

Flags: --seconds S (timed seconds per run, default 2), --warmup N (default 20),
--json, --torch-only, --nnlab PATH (default target/release/nnlab relative to the
repository root, which is found from this file's location), --only a,b.

What is measured
----------------
PyTorch eager mode, CPU, float64, torch.set_num_threads(1). Data: N points x
uniform in [-1,1]^2, label 1 if x1*x2 > 0 else 0 (XOR-like). Loss:
BCEWithLogitsLoss on the last layer's single logit (i.e. a sigmoid output).
One step = zero_grad, forward, loss, backward, optimizer.step. Mini-batches are
drawn from a fresh random permutation each epoch by indexing the pre-made data
tensors (`xb = x[idx]`), like a real training loop; the last batch of an epoch
may be short (drop_last=False). Each run warms up for --warmup steps, then
steps until at least --seconds have passed (time.perf_counter) and reports
steps / elapsed.

    a  2-8-8-1 tanh,            N=500,  batch 10,   SGD  lr 0.1   (target nnlab >= 20x)
    b  2-(32 x 10)-1 sigmoid,   N=1000, batch 64,   Adam lr 1e-3  (target nnlab >= 3x)
    c  2-256-256-1 ReLU,        N=1000, batch 1000, Adam lr 1e-3  (target nnlab >= 1x)

nnlab side: `<nnlab> bench --json` must print on stdout
    {"runs":[{"name":"a","description":"...","steps_per_sec":123.0}, ...]}
If the binary is missing, fails, or prints no such JSON, a note says so and only
the PyTorch column is shown.

The curvature references (dense Hessian, top-k, Lanczos density, loss landscape)
are in benches/pytorch_hessian.py, which reuses the helpers below.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

# One BLAS/OpenMP thread everywhere (numpy's too), set before numpy/torch load.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - only hit when run with the wrong python
    sys.exit(
        "error: PyTorch is not importable by this python.\n"
        "Run with the venv: /work/venv-torch/bin/python benches/pytorch_reference.py"
    )

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NNLAB = REPO_ROOT / "target" / "release" / "nnlab"
DTYPE = torch.float64


# ---------------------------------------------------------------------------
# Shared helpers (also imported by pytorch_hessian.py)
# ---------------------------------------------------------------------------


def setup_torch() -> None:
    """Single-threaded float64 CPU, as every reference number assumes."""
    torch.set_num_threads(1)
    torch.set_default_dtype(DTYPE)


def xor_data(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """x uniform in [-1,1]^2 (n x 2), y = 1 if x1*x2 > 0 else 0 (n x 1), float64."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, generator=g, dtype=DTYPE) * 2.0 - 1.0
    y = (x[:, 0] * x[:, 1] > 0).to(DTYPE).unsqueeze(1)
    return x, y


def mlp(sizes: list[int], act: type[nn.Module]) -> nn.Sequential:
    """Fully connected net; `act` after every hidden layer, linear last layer (a logit)."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers).to(DTYPE)


def param_count(sizes: list[int]) -> int:
    return sum(sizes[i] * sizes[i + 1] + sizes[i + 1] for i in range(len(sizes) - 1))


def machine_info() -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "dtype": str(DTYPE).replace("torch.", ""),
        "loadavg_1m": None if load is None else round(load[0], 2),
    }


def run_nnlab_json(binary: Path, args: list[str], timeout: float) -> tuple[dict | None, str]:
    """Run `binary *args`, parse stdout as JSON with a "runs" list.

    Returns (parsed, note); parsed is None and note explains why when anything fails.
    """
    if not binary.exists():
        return None, f"nnlab binary not found at {binary} (build it with `cargo build --release`)"
    cmd = [str(binary), *args]
    shown = " ".join([binary.name, *args])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"`{shown}` timed out after {timeout:.0f} s"
    except OSError as e:
        return None, f"`{shown}` could not be started: {e}"
    if proc.returncode != 0:
        err = proc.stderr.strip().splitlines()
        tail = f": {err[-1]}" if err else ""
        return None, f"`{shown}` exited with status {proc.returncode}{tail}"
    try:
        parsed = json.loads(proc.stdout)
    except json.JSONDecodeError:
        what = "nothing" if not proc.stdout.strip() else "something that is not JSON"
        return None, f"`{shown}` printed {what} on stdout (subcommand not implemented yet?)"
    if not isinstance(parsed, dict) or not isinstance(parsed.get("runs"), list):
        return None, f"`{shown}` printed JSON without a \"runs\" list"
    return parsed, "ok"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def fmt_num(v: float | None, digits: int = 3) -> str:
    """Human-friendly number: ~`digits` significant figures, no exponent for normal ranges."""
    if v is None:
        return "—"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 10 ** digits:
        return f"{v:,.0f}"
    decimals = max(0, digits - 1 - int(f"{a:e}".split("e")[1]))
    return f"{v:,.{decimals}f}"


# ---------------------------------------------------------------------------
# Training-step runs
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    name: str
    description: str
    sizes: list[int]
    act: type[nn.Module]
    n: int
    batch: int
    optimizer: str  # "sgd" | "adam"
    lr: float
    target: float  # required nnlab/PyTorch steps/s ratio


RUNS = [
    Run("a", "2-8-8-1 tanh, N=500, batch 10, SGD lr 0.1",
        [2, 8, 8, 1], nn.Tanh, 500, 10, "sgd", 0.1, 20.0),
    Run("b", "2-(32×10)-1 sigmoid, N=1000, batch 64, Adam lr 1e-3",
        [2] + [32] * 10 + [1], nn.Sigmoid, 1000, 64, "adam", 1e-3, 3.0),
    Run("c", "2-256-256-1 ReLU, N=1000, full batch, Adam lr 1e-3",
        [2, 256, 256, 1], nn.ReLU, 1000, 1000, "adam", 1e-3, 1.0),
]


def make_step(run: Run, seed: int) -> Callable[[], None]:
    """Build model, data, optimizer; return a closure doing one training step."""
    torch.manual_seed(seed)
    x, y = xor_data(run.n, seed)
    model = mlp(run.sizes, run.act)
    if run.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=run.lr)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=run.lr)
    loss_fn = nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(seed + 1)

    def batches():
        while True:  # one epoch per permutation; last batch may be short
            perm = torch.randperm(run.n, generator=gen)
            for i in range(0, run.n, run.batch):
                yield perm[i:i + run.batch]

    it = batches()

    def step() -> None:
        idx = next(it)
        xb, yb = x[idx], y[idx]
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

    return step


def time_run(run: Run, seconds: float, warmup: int, seed: int) -> dict:
    step = make_step(run, seed)
    for _ in range(warmup):
        step()
    steps = 0
    t0 = time.perf_counter()
    while True:
        step()
        steps += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            break
    return {"steps": steps, "seconds": elapsed, "steps_per_sec": steps / elapsed}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="PyTorch (CPU, float64, 1 thread) vs nnlab training-step throughput.")
    p.add_argument("--seconds", type=float, default=2.0, help="timed seconds per run (default 2)")
    p.add_argument("--warmup", type=int, default=20, help="untimed warm-up steps (default 20)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON only")
    p.add_argument("--torch-only", action="store_true", help="do not run nnlab")
    p.add_argument("--nnlab", type=Path, default=DEFAULT_NNLAB,
                   help=f"nnlab binary (default {DEFAULT_NNLAB.relative_to(REPO_ROOT)} under the repo root)")
    p.add_argument("--only", default="", help="comma-separated subset of runs, e.g. a,c")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    setup_torch()
    wanted = {s.strip() for s in args.only.split(",") if s.strip()}
    runs = [r for r in RUNS if not wanted or r.name in wanted]
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print

    info = machine_info()
    log(f"PyTorch {info['torch']} eager, CPU, {info['dtype']}, {info['torch_threads']} thread; "
        f"{info['cpu_count']} CPUs, load avg (1 min) {info['loadavg_1m']}")

    torch_results = {}
    for r in runs:
        res = time_run(r, args.seconds, args.warmup, args.seed)
        torch_results[r.name] = res
        log(f"  torch {r.name}: {res['steps_per_sec']:.1f} steps/s "
            f"({res['steps']} steps in {res['seconds']:.2f} s)")

    nnlab_sps: dict[str, float] = {}
    nnlab_desc: dict[str, str] = {}
    if args.torch_only:
        nnlab_note = "skipped (--torch-only)"
    else:
        parsed, nnlab_note = run_nnlab_json(args.nnlab, ["bench", "--json"], timeout=900)
        if parsed is not None:
            for entry in parsed["runs"]:
                if isinstance(entry, dict) and "name" in entry and "steps_per_sec" in entry:
                    nnlab_sps[str(entry["name"])] = float(entry["steps_per_sec"])
                    nnlab_desc[str(entry["name"])] = str(entry.get("description", ""))
    if nnlab_note != "ok" and args.json:  # the table's footnote says it otherwise
        log(f"note: nnlab column omitted — {nnlab_note}")

    show_nnlab = nnlab_note == "ok"
    out_runs = []
    rows = []
    for r in runs:
        t = torch_results[r.name]["steps_per_sec"]
        nl = nnlab_sps.get(r.name)
        ratio = None if nl is None else nl / t
        out_runs.append({
            "name": r.name,
            "description": r.description,
            "params": param_count(r.sizes),
            "pytorch_steps_per_sec": t,
            "pytorch_steps": torch_results[r.name]["steps"],
            "pytorch_seconds": torch_results[r.name]["seconds"],
            "nnlab_steps_per_sec": nl,
            "ratio": ratio,
            "target_ratio": r.target,
            "meets_target": None if ratio is None else ratio >= r.target,
        })
        row = [r.name, r.description]
        if show_nnlab:
            row.append(fmt_num(nl, 4))
        row.append(fmt_num(t, 4))
        if show_nnlab:
            mark = "" if ratio is None else (" ✓" if ratio >= r.target else " ✗")
            row += [("—" if ratio is None else f"{ratio:.2f}×"), f"≥{r.target:g}×{mark}"]
        else:
            row.append(f"≥{r.target:g}×")
        rows.append(row)

    if args.json:
        print(json.dumps({
            "machine": info,
            "seconds_per_run": args.seconds,
            "warmup_steps": args.warmup,
            "nnlab": {"status": "ok" if show_nnlab else "unavailable", "note": nnlab_note,
                      "binary": None if args.torch_only else str(args.nnlab)},
            "runs": out_runs,
        }, indent=2))
        return 0

    header = ["run", "description"]
    if show_nnlab:
        header += ["nnlab steps/s", "PyTorch steps/s", "ratio (nnlab/PyTorch)", "target"]
    else:
        header += ["PyTorch steps/s", "target (nnlab/PyTorch)"]
    print()
    print(markdown_table(header, rows))
    if not show_nnlab:
        print(f"\n(PyTorch only; nnlab column omitted: {nnlab_note}.)")
    extra = sorted(set(nnlab_sps) - {r.name for r in runs})
    if extra and not wanted:
        print(f"(nnlab also reported runs not in the PyTorch reference: {', '.join(extra)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
