//! The dense Hessian of the training objective (row-major P×P), two ways.
//!
//! **By layers** (networks without BatchNorm). Each row's loss depends on θ only through its
//! own pass, and from layer l up a weight direction W_l\[i\]\[c\] moves that pass as input_l\[r\]\[c\]
//! times the direction of unit i's bias (below layer l it does not; those blocks come from
//! symmetry). So one R-pass per *unit* (not per parameter) gives per-row
//! signals, and every Hessian entry between a weight or bias of layer l and one of layer
//! m ≥ l is a sum over rows of products of those signals:
//!
//! H\[(i,c), (j,q)\] = Σ_r input_l\[r\]\[c\] · (R{δ_m}ᵢ\[r\]\[j\]·input_m\[r\]\[q\] + δ_m\[r\]\[j\]·R{input_m}ᵢ\[r\]\[q\])
//!
//! which for all c at once is ONE matrix product (fan-in+1 × rows)·(rows × P_m) per unit i
//! and layer m: about N·P²/2 multiply-adds in large GEMMs, against about 5·N·P² for P
//! separate products. Blocks with m < l, and within layer l the units below i, follow from
//! symmetry, which halves the largest block. PReLU slopes are not of this
//! form; their rows are computed as ordinary Hessian–matrix products.
//!
//! **By columns** (any network, BatchNorm included, whose batch statistics tie the rows
//! together): P Hessian-vector products, K at a time, symmetrised as (H + Hᵀ)/2.
//!
//! Both split their work over two threads; every piece is computed on its own, so the result
//! does not depend on which thread did what (the same bits on every call on a machine).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use faer::{Accum, Par};
use faer_ext::IntoFaer;

use super::hessian::HessianProblem;
use crate::net::hmp::{HmpWorkspace, LayerSignals, hessian_matrix_product, unit_direction_signals};
use crate::net::linalg::{view, view_mut};

/// The dense Hessian (row-major P×P): by layers when the network allows it, else by columns.
pub fn dense_hessian(problem: HessianProblem) -> Vec<f64> {
    dense_hessian_by_layers(problem).unwrap_or_else(|| dense_hessian_by_columns(problem))
}

/// How many directions the dense Hessian pushes through the R-operator: one per unit (and
/// PReLU slope) by layers, one per parameter by columns.
pub fn dense_hessian_directions(problem: HessianProblem) -> usize {
    let net = problem.net;
    if net.has_batch_norm() || problem.rows.is_empty() {
        net.n_params
    } else {
        net.layers
            .iter()
            .map(|l| l.units * if l.prelu.is_some() { 2 } else { 1 })
            .sum()
    }
}

/// Keep one R-buffer (rows × K × width) near half a million values: large GEMMs that stay
/// cache-friendly.
fn directions_per_pass(rows: usize, widest: usize, limit: usize) -> usize {
    (500_000 / (rows.max(1) * widest.max(1)))
        .clamp(1, 64)
        .min(limit.max(1))
}

/// Most values one row block of the assembly matrix X holds (16 MB).
const X_VALUES: usize = 2_000_000;

/// A piece of the by-layers computation: the rows of H for some units of one layer.
#[derive(Clone, Copy, Debug)]
enum Piece {
    /// Weights and biases of units `start..end` of `layer` (columns of layers ≥ `layer`).
    Units {
        layer: usize,
        start: usize,
        end: usize,
    },
    /// PReLU slopes `start..end` of `layer` (every column).
    Slopes {
        layer: usize,
        start: usize,
        end: usize,
    },
}

/// Which block a parameter's row belongs to when the halves are joined.
#[derive(Clone, Copy)]
enum Group {
    /// A weight or bias of (layer, unit): its row holds the columns of the same layer's
    /// units from this one on, and of every layer above.
    Unit(usize, usize),
    /// A PReLU slope: its row is complete.
    Slope,
}

/// The dense Hessian by layers; `None` when the network has BatchNorm or there are no rows.
pub fn dense_hessian_by_layers(problem: HessianProblem) -> Option<Vec<f64>> {
    let rows = problem.rows.len();
    let kd = directions_per_pass(rows, problem.net.widest(), usize::MAX);
    dense_hessian_by_layers_in_blocks(problem, kd, X_VALUES)
}

/// [`dense_hessian_by_layers`] with `units_per_pass` directions per R-pass and row blocks of
/// at most `x_values` assembly values: the tests use small ones to cover the splits.
#[doc(hidden)]
pub fn dense_hessian_by_layers_in_blocks(
    problem: HessianProblem,
    units_per_pass: usize,
    x_values: usize,
) -> Option<Vec<f64>> {
    let net = problem.net;
    let rows = problem.rows.len();
    if net.has_batch_norm() || rows == 0 {
        return None;
    }
    let p = net.n_params;
    let mut pieces = Vec::new();
    for (li, layer) in net.layers.iter().enumerate() {
        let kd = units_per_pass.clamp(1, layer.units.max(1));
        for start in (0..layer.units).step_by(kd) {
            let end = (start + kd).min(layer.units);
            pieces.push(Piece::Units {
                layer: li,
                start,
                end,
            });
            if layer.prelu.is_some() {
                pieces.push(Piece::Slopes {
                    layer: li,
                    start,
                    end,
                });
            }
        }
    }
    let mut h = vec![0.0; p * p];
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(Piece, Vec<f64>)>();
    std::thread::scope(|s| {
        for _ in 0..2 {
            let (tx, pieces, next) = (tx.clone(), &pieces, &next);
            s.spawn(move || {
                let mut ws = HmpWorkspace::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&piece) = pieces.get(i) else { break };
                    let rows_of_h = compute_piece(problem, piece, x_values, &mut ws);
                    if tx.send((piece, rows_of_h)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // The pieces' rows go into H as they arrive (each row is written by one piece).
        for (piece, block) in rx {
            place_piece(problem, piece, &block, &mut h);
        }
    });
    let mut group = vec![Group::Slope; p];
    for (li, l) in net.layers.iter().enumerate() {
        for u in 0..l.units {
            group[l.w + u * l.fan_in..l.w + (u + 1) * l.fan_in].fill(Group::Unit(li, u));
            group[l.b + u] = Group::Unit(li, u);
        }
    }
    join_halves(&mut h, p, &group);
    if problem.l2 != 0.0 {
        for l in &net.layers {
            for i in l.w..l.w + l.n_weights() {
                h[i * p + i] += problem.l2;
            }
        }
    }
    Some(h)
}

/// The rows of H one piece computes, row-major with P columns: for `Units`, per unit the
/// fan-in weight rows then the bias row (columns below the layer left at zero); for
/// `Slopes`, one full row per slope.
fn compute_piece(
    problem: HessianProblem,
    piece: Piece,
    x_values: usize,
    ws: &mut HmpWorkspace,
) -> Vec<f64> {
    let net = problem.net;
    let p = net.n_params;
    match piece {
        Piece::Slopes { layer, start, end } => {
            let pa = net.layers[layer].prelu.unwrap_or(0);
            let kd = end - start;
            let mut e = vec![0.0; kd * p];
            for j in 0..kd {
                e[j * p + pa + start + j] = 1.0;
            }
            let mut out = vec![0.0; kd * p];
            let pr = &problem;
            hessian_matrix_product(
                pr.net,
                pr.theta,
                pr.rows,
                0.0,
                &e,
                pr.gauss_newton,
                ws,
                &mut out,
            );
            out
        }
        Piece::Units { layer, start, end } => {
            let kd = end - start;
            let fan = net.layers[layer].fan_in;
            let width = fan + 1;
            let mut out = vec![0.0; kd * width * p];
            // [input | 1]: the bias row is the sum over rows.
            let mut a_ext: Vec<f64> = Vec::new();
            let mut x: Vec<f64> = Vec::new();
            let mut assemble = |s: &LayerSignals| {
                let (m, n, k) = (s.rows, s.n, s.k);
                if a_ext.is_empty() {
                    a_ext.resize(m * width, 1.0);
                    for (dst, src) in a_ext.chunks_exact_mut(width).zip(s.dir_input.chunks(fan)) {
                        dst[..fan].copy_from_slice(src);
                    }
                }
                let col0 = net.layers[s.layer].w;
                for j in 0..s.kd {
                    // In the directions' own layer only units ≥ this one: the rest of that
                    // block is the mirror image of rows computed for the lower units.
                    let u0 = if s.layer == layer { start + j } else { 0 };
                    let (wcols, bcols) = ((n - u0) * k, n - u0);
                    let cols = wcols + bcols;
                    // Rows in blocks, so X stays within x_values whatever the data size; the
                    // block length depends only on the shapes, so the sums' order is fixed.
                    let block = (x_values / cols).max(1);
                    x.resize(block.min(m) * cols, 0.0);
                    for r0 in (0..m).step_by(block) {
                        let r1 = (r0 + block).min(m);
                        // X[r] = (R{δ}ⱼ[r] ⊗ input[r] + δ[r] ⊗ R{input}ⱼ[r], R{δ}ⱼ[r]) for
                        // those units.
                        for (r, xr) in (r0..r1).zip(x.chunks_exact_mut(cols)) {
                            let rd = &s.rd[(r * s.kd + j) * n + u0..(r * s.kd + j + 1) * n];
                            let input = &s.input[r * k..(r + 1) * k];
                            let (xw, xb) = xr.split_at_mut(wcols);
                            xb.copy_from_slice(rd);
                            match s.rinput {
                                Some(ri) => {
                                    let rin = &ri[(r * s.kd + j) * k..(r * s.kd + j + 1) * k];
                                    let d = &s.d[r * n + u0..(r + 1) * n];
                                    for ((row, &rda), &da) in xw.chunks_exact_mut(k).zip(rd).zip(d)
                                    {
                                        for ((o, &a), &ra) in row.iter_mut().zip(input).zip(rin) {
                                            *o = rda * a + da * ra;
                                        }
                                    }
                                }
                                None => {
                                    for (row, &rda) in xw.chunks_exact_mut(k).zip(rd) {
                                        for (o, &a) in row.iter_mut().zip(input) {
                                            *o = rda * a;
                                        }
                                    }
                                }
                            }
                        }
                        // The sub-blocks are taken on the faer side: ndarray's slicing sets
                        // the stride of a length-1 axis to 0, which sends faer down another
                        // kernel (other bits) for a one-row block or a one-unit column.
                        let xm = view(r1 - r0, cols, &x).into_faer();
                        let am = view(r1 - r0, width, &a_ext[r0 * width..]).reversed_axes();
                        let accum = if r0 == 0 { Accum::Replace } else { Accum::Add };
                        for (c0, xpart) in [
                            (col0 + u0 * k, xm.subcols(0, wcols)),
                            (col0 + n * k + u0, xm.subcols(wcols, bcols)),
                        ] {
                            // This direction's rows of H, the columns of this block.
                            let h = view_mut(kd * width, p, &mut out).into_faer();
                            faer::linalg::matmul::matmul(
                                h.submatrix_mut(j * width, c0, width, xpart.ncols()),
                                accum,
                                am.into_faer(),
                                xpart,
                                1.0,
                                Par::Seq,
                            );
                        }
                    }
                }
            };
            let pr = &problem;
            unit_direction_signals(
                pr.net,
                pr.theta,
                pr.rows,
                layer,
                start..end,
                pr.gauss_newton,
                ws,
                &mut assemble,
            );
            out
        }
    }
}

/// Copy a piece's rows into H.
fn place_piece(problem: HessianProblem, piece: Piece, block: &[f64], h: &mut [f64]) {
    let net = problem.net;
    let p = net.n_params;
    match piece {
        Piece::Slopes { layer, start, .. } => {
            let pa = net.layers[layer].prelu.unwrap_or(0);
            for (j, src) in block.chunks_exact(p).enumerate() {
                let row = pa + start + j;
                h[row * p..(row + 1) * p].copy_from_slice(src);
            }
        }
        Piece::Units { layer, start, .. } => {
            let l = &net.layers[layer];
            let width = l.fan_in + 1;
            for (t, src) in block.chunks_exact(p).enumerate() {
                let (unit, c) = (start + t / width, t % width);
                let row = if c < l.fan_in {
                    l.w + unit * l.fan_in + c
                } else {
                    l.b + unit
                };
                h[row * p + l.w..(row + 1) * p].copy_from_slice(&src[l.w..]);
            }
        }
    }
}

/// Make H whole and symmetric. A weight/bias row holds the columns of its own layer's units
/// from its unit on and of every layer above; slope rows are complete. Each missing entry is
/// copied from its mirror; entries computed on both sides are averaged.
fn join_halves(h: &mut [f64], p: usize, group: &[Group]) {
    // Whether row r's piece computed column c.
    let has = |r: Group, c: Group| match (r, c) {
        (Group::Slope, _) => true,
        (_, Group::Slope) => false,
        (Group::Unit(lr, ur), Group::Unit(lc, uc)) => lc > lr || (lc == lr && uc >= ur),
    };
    const TILE: usize = 64;
    for bi in (0..p).step_by(TILE) {
        for bj in (bi..p).step_by(TILE) {
            for r in bi..(bi + TILE).min(p) {
                for c in bj.max(r + 1)..(bj + TILE).min(p) {
                    let (upper, lower) = (h[r * p + c], h[c * p + r]);
                    let value = match (has(group[r], group[c]), has(group[c], group[r])) {
                        (true, true) => 0.5 * (upper + lower),
                        (true, false) => upper,
                        _ => lower,
                    };
                    h[r * p + c] = value;
                    h[c * p + r] = value;
                }
            }
        }
    }
}

/// The dense Hessian by columns: column j is H·e_j, written as row j (H is symmetric).
/// Columns go in blocks of K through one batched R-pass, the blocks split over two threads.
pub fn dense_hessian_by_columns(problem: HessianProblem) -> Vec<f64> {
    let p = problem.net.n_params;
    let mut h = vec![0.0; p * p];
    let widest = problem.net.widest().max(1);
    let kd = directions_per_pass(problem.rows.len(), widest, p);
    let threads = 2usize.min(p.div_ceil(kd));
    let blocks_per_thread = p.div_ceil(kd).div_ceil(threads.max(1));
    std::thread::scope(|s| {
        for (t, rows) in h
            .chunks_mut((blocks_per_thread * kd * p).max(1))
            .enumerate()
        {
            s.spawn(move || {
                let mut ws = HmpWorkspace::default();
                let mut e = vec![0.0; kd * p];
                for (b, out) in rows.chunks_mut(kd * p).enumerate() {
                    let first = (t * blocks_per_thread + b) * kd;
                    let cols = out.len() / p;
                    let e = &mut e[..cols * p];
                    e.fill(0.0);
                    for c in 0..cols {
                        e[c * p + first + c] = 1.0;
                    }
                    let pr = &problem;
                    hessian_matrix_product(
                        pr.net,
                        pr.theta,
                        pr.rows,
                        pr.l2,
                        e,
                        pr.gauss_newton,
                        &mut ws,
                        out,
                    );
                }
            });
        }
    });
    // (H + Hᵀ)/2 in 64×64 tiles, so the transposed reads stay in cache.
    const TILE: usize = 64;
    for bi in (0..p).step_by(TILE) {
        for bj in (bi..p).step_by(TILE) {
            for i in bi..(bi + TILE).min(p) {
                for j in bj.max(i + 1)..(bj + TILE).min(p) {
                    let a = 0.5 * (h[i * p + j] + h[j * p + i]);
                    h[i * p + j] = a;
                    h[j * p + i] = a;
                }
            }
        }
    }
    h
}

/// Bytes [`dense_hessian`] takes at its peak (an upper bound): H itself, and on each of its
/// two threads a product workspace with the rows of H it is computing (by layers, also the
/// assembly block; one more set in flight to the joining thread).
pub fn dense_hessian_bytes(problem: HessianProblem) -> u64 {
    let net = problem.net;
    let p = net.n_params;
    let rows = problem.rows.len();
    let per_thread = if net.has_batch_norm() || rows == 0 {
        let kd = directions_per_pass(rows, net.widest().max(1), p);
        crate::net::hmp::workspace_values(net, rows, kd).saturating_add(kd.saturating_mul(p))
    } else {
        let kd = directions_per_pass(rows, net.widest(), usize::MAX);
        // A piece's rows of H: K units × (fan-in + 1) parameters each, two in flight.
        let piece = net
            .layers
            .iter()
            .map(|l| kd.min(l.units.max(1)).saturating_mul(l.fan_in + 1))
            .max()
            .unwrap_or(0)
            .saturating_mul(p)
            .saturating_mul(2);
        crate::net::hmp::workspace_values(net, rows, kd)
            .saturating_add(piece)
            .saturating_add(X_VALUES)
    };
    crate::memory::f64s(
        p.saturating_mul(p)
            .saturating_add(per_thread.saturating_mul(2)),
    )
}
