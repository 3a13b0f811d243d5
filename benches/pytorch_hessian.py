#!/usr/bin/env python3
"""PyTorch reference timings for nnlab's curvature tools.

Optional developer tool: nothing in the Rust build or the test suite needs it,
and Cargo ignores it. It imports the shared helpers of pytorch_reference.py,
which sits beside it.

How to run (from the repository root)
-------------------------------------
    /work/venv-torch/bin/python benches/pytorch_hessian.py               # table
    /work/venv-torch/bin/python benches/pytorch_hessian.py --torch-only  # skip nnlab
    /work/venv-torch/bin/python benches/pytorch_hessian.py --json        # machine-readable
    /work/venv-torch/bin/python benches/pytorch_hessian.py --only hessian_1k,landscape_10k

(See pytorch_reference.py for creating the venv.) Flags: --json, --torch-only,
--nnlab PATH (default target/release/nnlab under the repository root),
--only NAMES, --repeats R (best of R, default 1), --vectorize (pass
vectorize=True to torch.autograd.functional.hessian; slower on this machine),
--seed. A full run takes about a minute on one core.

What is measured
----------------
PyTorch eager, CPU, float64, torch.set_num_threads(1). All nets are 2-w-w-1
tanh MLPs with PyTorch's default initialisation (seeded) and are evaluated at
that initial point; the loss is the full-batch BCEWithLogitsLoss of the XOR-like
data of pytorch_reference.py (x uniform in [-1,1]^2, y = [x1*x2 > 0]).
Parameter count of 2-w-w-1 is w^2 + 5w + 1.

    hessian_1k     2-30-30-1,   P=1,051,  N=500:  dense Hessian over the flat parameter
                   vector with torch.autograd.functional.hessian, then
                   numpy.linalg.eigvalsh (all eigenvalues). Time = both.
    hessian_2k     2-42-42-1,   P=1,975,  N=500:  same.
    topk_92k       2-301-301-1, P=92,107, N=1000: PyHessian-style top-10 eigenvalues:
                   power iteration with deflation (re-orthogonalise against the
                   eigenvectors found so far), max 100 iterations and relative
                   tolerance 1e-3 per eigenvalue (PyHessian's defaults), Hessian-
                   vector products by double backprop through a gradient kept
                   with create_graph=True (PyHessian's full-batch path). The
                   number of HVPs depends on convergence and is reported too.
    density_92k    same net: stochastic Lanczos quadrature density, 80 Lanczos
                   steps (80 HVPs) with full re-orthogonalisation, 1 Rademacher
                   probe, eigen-decomposition of the 80x80 tridiagonal matrix.
    landscape_10k  2-98-98-1,   P=10,095, N=1000: 51x51 loss landscape on [-1,1]^2
                   around theta along two random Gaussian directions,
                   filter-normalised (Li et al. 2018: each row of each weight
                   matrix rescaled to the norm of the same row of theta; bias
                   components set to zero, their "ignore biasbn" option):
                   2,601 full-batch forward passes under no_grad.

Each item gets one untimed warm-up call of its kernel (a forward/HVP) first;
setup (building nets, data, the directions) is not timed.

nnlab side: `<nnlab> bench --curvature --json` must print on stdout
    {"runs":[{"name":"hessian_1k","seconds":0.12}, ...]}
using the item names above. If the subcommand does not exist or fails, a note
says so and only the PyTorch column is shown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

# One BLAS/OpenMP thread everywhere (numpy's eigvalsh too), set before numpy/torch load.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pytorch_reference import (  # noqa: E402  (needs the path above)
    DEFAULT_NNLAB, REPO_ROOT, fmt_num, machine_info, markdown_table, mlp,
    param_count, run_nnlab_json, setup_torch, xor_data,
)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

TOPK = 10
POWER_MAX_ITER = 100
POWER_TOL = 1e-3
LANCZOS_STEPS = 80
GRID = 51


def build(width: int, n: int, seed: int):
    torch.manual_seed(seed)
    model = mlp([2, width, width, 1], nn.Tanh)
    x, y = xor_data(n, seed)
    return model, x, y


# --- dense Hessian ----------------------------------------------------------


def dense_hessian(width: int, n: int, seed: int, vectorize: bool) -> dict:
    model, x, y = build(width, n, seed)
    params = list(model.parameters())
    shapes = [p.shape for p in params]
    theta = torch.nn.utils.parameters_to_vector(params).detach().clone()

    def loss_of(t: torch.Tensor) -> torch.Tensor:
        h, i = x, 0
        for k in range(0, len(shapes), 2):
            wn, bn = shapes[k].numel(), shapes[k + 1].numel()
            W = t[i:i + wn].view(shapes[k])
            b = t[i + wn:i + wn + bn]
            i += wn + bn
            h = F.linear(h, W, b)
            if k + 2 < len(shapes):
                h = torch.tanh(h)
        return F.binary_cross_entropy_with_logits(h, y)

    # sanity: the flat-vector loss is the model's loss
    assert torch.allclose(loss_of(theta), F.binary_cross_entropy_with_logits(model(x), y))
    torch.autograd.grad(loss_of(theta.requires_grad_()), theta)  # warm-ups
    theta = theta.detach()
    np.linalg.eigvalsh(np.eye(64))

    t0 = time.perf_counter()
    H = torch.autograd.functional.hessian(loss_of, theta, vectorize=vectorize)
    t1 = time.perf_counter()
    evals = np.linalg.eigvalsh(H.numpy())
    t2 = time.perf_counter()
    return {
        "seconds": t2 - t0,
        "hessian_seconds": t1 - t0,
        "eigvalsh_seconds": t2 - t1,
        "lambda_max": float(evals[-1]),
        "lambda_min": float(evals[0]),
    }


# --- Hessian-vector products (PyHessian-style, parameter lists) --------------


def group_product(xs, ys) -> torch.Tensor:
    return sum((a * b).sum() for a, b in zip(xs, ys))


def normalization(v):
    s = torch.sqrt(group_product(v, v))
    return [a / (s + 1e-6) for a in v]  # PyHessian adds 1e-6 as well


def orthnormal(w, v_list):
    for v in v_list:
        c = group_product(w, v)
        w = [a - c * b for a, b in zip(w, v)]
    return normalization(w)


class HVP:
    """Full-batch HVP: gradient kept once with create_graph=True, then re-differentiated."""

    def __init__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor):
        self.params = [p for p in model.parameters() if p.requires_grad]
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        self.grads = torch.autograd.grad(loss, self.params, create_graph=True)
        self.count = 0

    def __call__(self, v):
        self.count += 1
        return torch.autograd.grad(self.grads, self.params, grad_outputs=v,
                                   only_inputs=True, retain_graph=True)


def topk_power(width: int, n: int, seed: int) -> dict:
    model, x, y = build(width, n, seed)
    g = torch.Generator().manual_seed(seed + 7)
    warm = HVP(model, x, y)
    warm([torch.ones_like(p) for p in warm.params])  # warm-up
    del warm

    t0 = time.perf_counter()
    hvp = HVP(model, x, y)
    eigenvalues: list[float] = []
    eigenvectors: list[list[torch.Tensor]] = []
    iters: list[int] = []
    for _ in range(TOPK):
        eigenvalue = None
        v = normalization([torch.randn(p.shape, generator=g) for p in hvp.params])
        for i in range(POWER_MAX_ITER):
            v = orthnormal(v, eigenvectors)
            Hv = hvp(v)
            tmp = group_product(Hv, v).item()
            v = normalization(Hv)
            if eigenvalue is not None and abs(eigenvalue - tmp) / (abs(eigenvalue) + 1e-6) < POWER_TOL:
                break
            eigenvalue = tmp
        eigenvalues.append(eigenvalue)
        eigenvectors.append(v)
        iters.append(i + 1)
    t1 = time.perf_counter()
    return {
        "seconds": t1 - t0,
        "hvps": hvp.count,
        "seconds_per_hvp": (t1 - t0) / hvp.count,
        "iterations": iters,
        "eigenvalues": eigenvalues,
    }


def lanczos_density(width: int, n: int, seed: int) -> dict:
    model, x, y = build(width, n, seed)
    g = torch.Generator().manual_seed(seed + 11)
    warm = HVP(model, x, y)
    warm([torch.ones_like(p) for p in warm.params])  # warm-up
    del warm

    t0 = time.perf_counter()
    hvp = HVP(model, x, y)
    v = [torch.randint(0, 2, p.shape, generator=g).to(p.dtype) * 2 - 1 for p in hvp.params]
    v = normalization(v)
    v_list = [v]
    alphas: list[float] = []
    betas: list[float] = []
    w = None
    for i in range(LANCZOS_STEPS):
        if i > 0:
            beta = torch.sqrt(group_product(w, w)).item()
            betas.append(beta)
            if beta != 0.0:
                v = orthnormal(w, v_list)
            else:  # invariant subspace found: restart with a random orthogonal vector
                v = orthnormal([torch.randn(p.shape, generator=g) for p in hvp.params], v_list)
            v_list.append(v)
        w_prime = hvp(v)
        alpha = group_product(w_prime, v).item()
        alphas.append(alpha)
        w = [a - alpha * b for a, b in zip(w_prime, v)]
        if i > 0:
            w = [a - betas[-1] * b for a, b in zip(w, v_list[-2])]
    T = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
    nodes, vecs = np.linalg.eigh(T)
    weights = vecs[0, :] ** 2
    t1 = time.perf_counter()
    return {
        "seconds": t1 - t0,
        "hvps": hvp.count,
        "seconds_per_hvp": (t1 - t0) / hvp.count,
        "ritz_max": float(nodes[-1]),
        "ritz_min": float(nodes[0]),
        "weights_sum": float(weights.sum()),
    }


# --- loss landscape ---------------------------------------------------------


def filter_normalised_direction(params, g: torch.Generator):
    d = []
    for p in params:
        r = torch.randn(p.shape, generator=g)
        if p.dim() <= 1:
            r.zero_()  # biases: "ignore biasbn"
        else:
            for rr, pp in zip(r, p):  # one filter = one output row
                rr.mul_(pp.norm() / (rr.norm() + 1e-10))
        d.append(r)
    return d


def landscape(width: int, n: int, seed: int) -> dict:
    model, x, y = build(width, n, seed)
    g = torch.Generator().manual_seed(seed + 13)
    params = list(model.parameters())
    theta = [p.detach().clone() for p in params]
    d1 = filter_normalised_direction(theta, g)
    d2 = filter_normalised_direction(theta, g)
    coords = torch.linspace(-1.0, 1.0, GRID).tolist()
    with torch.no_grad():
        F.binary_cross_entropy_with_logits(model(x), y)  # warm-up
        surface = np.empty((GRID, GRID))
        t0 = time.perf_counter()
        for i, a in enumerate(coords):
            for j, b in enumerate(coords):
                for p, t, u, v in zip(params, theta, d1, d2):
                    p.copy_(t + a * u + b * v)
                surface[i, j] = F.binary_cross_entropy_with_logits(model(x), y).item()
        t1 = time.perf_counter()
        for p, t in zip(params, theta):
            p.copy_(t)
    c = GRID // 2
    return {
        "seconds": t1 - t0,
        "evaluations": GRID * GRID,
        "loss_center": float(surface[c, c]),
        "loss_min": float(surface.min()),
        "loss_max": float(surface.max()),
    }


# --- driver -------------------------------------------------------------------


ITEMS: list[tuple[str, str, int, int, Callable[[argparse.Namespace], dict]]] = [
    ("hessian_1k", "dense Hessian + eigvalsh, 2-30-30-1 tanh, N=500", 30, 500,
     lambda a: dense_hessian(30, 500, a.seed, a.vectorize)),
    ("hessian_2k", "dense Hessian + eigvalsh, 2-42-42-1 tanh, N=500", 42, 500,
     lambda a: dense_hessian(42, 500, a.seed, a.vectorize)),
    ("topk_92k", f"top-{TOPK} power iteration + deflation (HVP), 2-301-301-1 tanh, N=1000", 301, 1000,
     lambda a: topk_power(301, 1000, a.seed)),
    ("density_92k", f"SLQ density, {LANCZOS_STEPS} Lanczos steps, 1 probe, 2-301-301-1 tanh, N=1000",
     301, 1000, lambda a: lanczos_density(301, 1000, a.seed)),
    ("landscape_10k", f"{GRID}×{GRID} loss landscape, filter-normalised dirs, 2-98-98-1 tanh, N=1000",
     98, 1000, lambda a: landscape(98, 1000, a.seed)),
]


def detail(name: str, r: dict) -> str:
    if name.startswith("hessian"):
        return f"Hessian {r['hessian_seconds']:.3f} s + eigvalsh {r['eigvalsh_seconds']:.3f} s"
    if name.startswith("topk"):
        return f"{r['hvps']} HVPs, {1e3 * r['seconds_per_hvp']:.1f} ms/HVP"
    if name.startswith("density"):
        return f"{r['hvps']} HVPs, {1e3 * r['seconds_per_hvp']:.1f} ms/HVP"
    return f"{r['evaluations']} forwards, {1e3 * r['seconds'] / r['evaluations']:.2f} ms each"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="PyTorch (CPU, float64, 1 thread) vs nnlab curvature timings.")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON only")
    p.add_argument("--torch-only", action="store_true", help="do not run nnlab")
    p.add_argument("--nnlab", type=Path, default=DEFAULT_NNLAB,
                   help=f"nnlab binary (default {DEFAULT_NNLAB.relative_to(REPO_ROOT)} under the repo root)")
    p.add_argument("--only", default="", help="comma-separated subset of items")
    p.add_argument("--repeats", type=int, default=1, help="time each item R times, keep the best")
    p.add_argument("--vectorize", action="store_true",
                   help="torch.autograd.functional.hessian(..., vectorize=True)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    setup_torch()
    wanted = {s.strip() for s in args.only.split(",") if s.strip()}
    items = [it for it in ITEMS if not wanted or it[0] in wanted]
    unknown = wanted - {it[0] for it in ITEMS}
    if unknown:
        p.error(f"unknown item(s): {', '.join(sorted(unknown))}")
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print

    info = machine_info()
    log(f"PyTorch {info['torch']} eager, CPU, {info['dtype']}, {info['torch_threads']} thread; "
        f"{info['cpu_count']} CPUs, load avg (1 min) {info['loadavg_1m']}")

    results: dict[str, dict] = {}
    for name, _desc, _w, _n, fn in items:
        best = None
        for _ in range(max(1, args.repeats)):
            r = fn(args)
            if best is None or r["seconds"] < best["seconds"]:
                best = r
        results[name] = best
        log(f"  torch {name}: {best['seconds']:.3f} s ({detail(name, best)})")

    nnlab_s: dict[str, float] = {}
    if args.torch_only:
        nnlab_note = "skipped (--torch-only)"
    else:
        parsed, nnlab_note = run_nnlab_json(args.nnlab, ["bench", "--curvature", "--json"],
                                            timeout=1800)
        if parsed is not None:
            for entry in parsed["runs"]:
                if isinstance(entry, dict) and "name" in entry and "seconds" in entry:
                    nnlab_s[str(entry["name"])] = float(entry["seconds"])
    if nnlab_note != "ok" and args.json:  # the table's footnote says it otherwise
        log(f"note: nnlab column omitted — {nnlab_note}")
    show_nnlab = nnlab_note == "ok"

    out = []
    rows = []
    for name, desc, w, n, _fn in items:
        r = results[name]
        nl = nnlab_s.get(name)
        speedup = None if nl is None or nl <= 0 else r["seconds"] / nl
        out.append({"name": name, "description": desc, "params": param_count([2, w, w, 1]),
                    "n": n, "pytorch_seconds": r["seconds"], "pytorch_detail": r,
                    "nnlab_seconds": nl, "speedup": speedup})
        row = [name, desc, f"{param_count([2, w, w, 1]):,}"]
        if show_nnlab:
            row.append("—" if nl is None else f"{fmt_num(nl)} s")
        row.append(f"{fmt_num(r['seconds'])} s")
        if show_nnlab:
            row.append("—" if speedup is None else f"{speedup:.2f}×")
        row.append(detail(name, r))
        rows.append(row)

    if args.json:
        print(json.dumps({
            "machine": info,
            "hessian_vectorize": args.vectorize,
            "nnlab": {"status": "ok" if show_nnlab else "unavailable", "note": nnlab_note,
                      "binary": None if args.torch_only else str(args.nnlab)},
            "runs": out,
        }, indent=2))
        return 0

    header = ["item", "description", "P"]
    header += (["nnlab", "PyTorch", "speedup (PyTorch/nnlab)"] if show_nnlab else ["PyTorch"])
    header.append("PyTorch detail")
    print()
    print(markdown_table(header, rows))
    if not show_nnlab:
        print(f"\n(PyTorch only; nnlab column omitted: {nnlab_note}.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
