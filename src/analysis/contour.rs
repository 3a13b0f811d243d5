//! Contour lines by marching squares, for a grid of values and for a function.
//!
//! Both tracers share the cell logic ([`cell_edges`]): a level crosses the cell edges whose
//! ends lie on opposite sides of it (a value ≥ the level counts as above), and a cell with four
//! crossings (a saddle) is resolved by the side its centre lies on. They differ in where a
//! crossing is put:
//! - [`contour`] (a grid of values, e.g. a loss landscape): linearly interpolated along the
//!   edge, so a point is as accurate as the grid (h²/8·|f''|/|∇f| for a smooth f);
//! - [`zero_set`] (a function, e.g. a unit's pre-activation): located by bracketing the zero of
//!   the function along the edge, so every point is a zero to floating-point accuracy; the
//!   segments are joined into polylines.

use std::collections::{HashMap, VecDeque};

/// The segments of one level.
#[derive(Clone, Debug, PartialEq)]
pub struct Contour {
    /// The value the contour follows.
    pub level: f64,
    /// Line segments [from, to] in the grid's (x, y) coordinates.
    pub segments: Vec<[[f64; 2]; 2]>,
}

/// A polyline in the plane (a closed one repeats its first point at the end).
pub type Polyline = Vec<[f64; 2]>;

/// The edges a level crosses in one cell, paired into segments. Corners are numbered
/// counter-clockwise from the bottom-left (0: (x₀, y₀), 1: (x₁, y₀), 2: (x₁, y₁), 3: (x₀, y₁))
/// and edge e joins corner e to corner e + 1 (0 bottom, 1 right, 2 top, 3 left). `above[c]`
/// says whether corner c is on or above the level; `centre_above` is asked only for a saddle:
/// if the centre is on corner 0's side, corners 0 and 2 connect through it and the segments
/// cut off corners 1 and 3, else they cut off 0 and 2.
pub fn cell_edges(above: [bool; 4], centre_above: impl FnOnce() -> bool) -> &'static [[usize; 2]] {
    let case = above
        .iter()
        .enumerate()
        .fold(0, |c, (k, &a)| c | (usize::from(a) << k));
    match case {
        0 | 15 => &[],
        1 | 14 => &[[0, 3]],
        2 | 13 => &[[0, 1]],
        3 | 12 => &[[1, 3]],
        4 | 11 => &[[1, 2]],
        6 | 9 => &[[0, 2]],
        7 | 8 => &[[2, 3]],
        _ => {
            // 5 or 10: opposite corners alike, a saddle.
            if centre_above() == above[0] {
                &[[0, 1], [2, 3]]
            } else {
                &[[0, 3], [1, 2]]
            }
        }
    }
}

/// Marching squares over an `nx`×`ny` lattice of values (`at(col, row)`): for each cell with
/// four finite corners, `segment(col, row, corners, [e₁, e₂])` per segment of `level`, the
/// corners' values counter-clockwise as in [`cell_edges`]. `centre(col, row, corners)` is the
/// value at a saddle cell's centre.
fn march(
    nx: usize,
    ny: usize,
    level: f64,
    at: impl Fn(usize, usize) -> f64,
    mut centre: impl FnMut(usize, usize, [f64; 4]) -> f64,
    mut segment: impl FnMut(usize, usize, [f64; 4], [usize; 2]),
) {
    for row in 0..ny.saturating_sub(1) {
        for col in 0..nx.saturating_sub(1) {
            let v = [
                at(col, row),
                at(col + 1, row),
                at(col + 1, row + 1),
                at(col, row + 1),
            ];
            if v.iter().any(|a| !a.is_finite()) {
                continue;
            }
            let above = v.map(|a| a >= level);
            for &pair in cell_edges(above, || centre(col, row, v) >= level) {
                segment(col, row, v, pair);
            }
        }
    }
}

/// `n` levels strictly inside (min, max): evenly spaced, or evenly spaced in log10 when `log`
/// and min > 0. Empty when the range is empty or not finite.
pub fn levels(min: f64, max: f64, n: usize, log: bool) -> Vec<f64> {
    if !(min.is_finite() && max.is_finite() && max > min) || n == 0 {
        return Vec::new();
    }
    let log = log && min > 0.0;
    let (lo, hi) = if log {
        (min.log10(), max.log10())
    } else {
        (min, max)
    };
    (1..=n)
        .map(|k| {
            let v = lo + (hi - lo) * k as f64 / (n + 1) as f64;
            if log { 10f64.powf(v) } else { v }
        })
        .collect()
}

/// The `level` line of the grid `values` (row-major, `y.len()` rows of `x.len()` values:
/// `values[i·nx + j]` at (x\[j\], y\[i\])), each crossing linearly interpolated along its edge; a
/// saddle is resolved by the mean of the cell's corners. Cells with a non-finite corner are
/// skipped.
pub fn contour(values: &[f64], x: &[f64], y: &[f64], level: f64) -> Vec<[[f64; 2]; 2]> {
    let (nx, ny) = (x.len(), y.len());
    let mut out = Vec::new();
    if nx < 2 || ny < 2 || values.len() != nx * ny || !level.is_finite() {
        return out;
    }
    march(
        nx,
        ny,
        level,
        |col, row| values[row * nx + col],
        |_, _, v| 0.25 * (v[0] + v[1] + v[2] + v[3]),
        |col, row, v, [e1, e2]| {
            let p = [
                [x[col], y[row]],
                [x[col + 1], y[row]],
                [x[col + 1], y[row + 1]],
                [x[col], y[row + 1]],
            ];
            let cross = |e: usize| {
                let (a, b) = (e, (e + 1) % 4);
                let t = (level - v[a]) / (v[b] - v[a]);
                [
                    p[a][0] + t * (p[b][0] - p[a][0]),
                    p[a][1] + t * (p[b][1] - p[a][1]),
                ]
            };
            out.push([cross(e1), cross(e2)]);
        },
    );
    out
}

/// [`contour`] for each level.
pub fn contours(values: &[f64], x: &[f64], y: &[f64], levels: &[f64]) -> Vec<Contour> {
    levels
        .iter()
        .map(|&level| Contour {
            level,
            segments: contour(values, x, y, level),
        })
        .collect()
}

/// The zero set of `f` over the box, as polylines. `f` is sampled at the corners of `n`×`n`
/// cells (x₀ + (x₁ − x₀)·i/n, likewise y) and marched as [`contour`] marches a grid at level 0,
/// a saddle resolved by `f` at the cell's centre; each crossing is then located by bracketing
/// the zero of `f` along its edge, so every returned point is a zero of `f` to floating-point
/// accuracy, not to grid accuracy. Cells with a non-finite corner are skipped.
pub fn zero_set(
    f: impl Fn(f64, f64) -> f64,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    n: usize,
) -> Vec<Polyline> {
    let n = n.max(1);
    let finite = [x0, x1, y0, y1].iter().all(|v| v.is_finite());
    if !finite || x1 <= x0 || y1 <= y0 {
        return Vec::new();
    }
    let px = |i: usize| x0 + (x1 - x0) * i as f64 / n as f64;
    let py = |j: usize| y0 + (y1 - y0) * j as f64 / n as f64;
    let side = n + 1;
    let v: Vec<f64> = (0..side * side)
        .map(|k| f(px(k % side), py(k / side)))
        .collect();
    // Edge ids: 2·corner for the edge to the right of a corner, 2·corner + 1 for the one above.
    let right = |i: usize, j: usize| 2 * (j * side + i);
    let up = |i: usize, j: usize| 2 * (j * side + i) + 1;
    let mut segments: Vec<(usize, usize)> = Vec::new();
    march(
        side,
        side,
        0.0,
        |i, j| v[j * side + i],
        |i, j, _| f((px(i) + px(i + 1)) / 2.0, (py(j) + py(j + 1)) / 2.0),
        |i, j, _, [e1, e2]| {
            // The cell's edges in `cell_edges` order: bottom, right, top, left.
            let id = [right(i, j), up(i + 1, j), right(i, j + 1), up(i, j)];
            segments.push((id[e1], id[e2]));
        },
    );
    let mut points: HashMap<usize, [f64; 2]> = HashMap::new();
    let mut crossing = |id: usize| -> [f64; 2] {
        *points.entry(id).or_insert_with(|| {
            let (c, vertical) = (id / 2, id % 2 == 1);
            let (i, j) = (c % side, c / side);
            let a = [px(i), py(j)];
            let b = if vertical {
                [px(i), py(j + 1)]
            } else {
                [px(i + 1), py(j)]
            };
            bisect(&f, a, b)
        })
    };
    chain(&segments)
        .into_iter()
        .map(|ids| ids.into_iter().map(&mut crossing).collect())
        .collect()
}

/// A zero of `f` on the segment a–b, where f(a) and f(b) differ in sign (≥ 0 vs < 0):
/// regula falsi with the Illinois fix (a handful of evaluations on a smooth f, never worse than
/// bisection's bracket), returning the evaluated point closest to zero.
fn bisect(f: &impl Fn(f64, f64) -> f64, a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    let at = |t: f64| [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
    let eval = |t: f64| {
        let p = at(t);
        f(p[0], p[1])
    };
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    let (mut f0, mut f1) = (eval(t0), eval(t1));
    let (mut best_t, mut best_f) = if f0.abs() <= f1.abs() {
        (t0, f0.abs())
    } else {
        (t1, f1.abs())
    };
    // Done when |f| is at rounding level of the values at the ends, or the bracket is.
    let tol = 1e-14 * f0.abs().max(f1.abs());
    let mut last_side = 0i8;
    for _ in 0..100 {
        if best_f <= tol || t1 - t0 < 1e-15 {
            break;
        }
        let secant = (t0 * f1 - t1 * f0) / (f1 - f0);
        let t = if secant.is_finite() && secant > t0 && secant < t1 {
            secant
        } else {
            0.5 * (t0 + t1)
        };
        let ft = eval(t);
        if ft.abs() < best_f {
            (best_t, best_f) = (t, ft.abs());
        }
        if (ft >= 0.0) == (f0 >= 0.0) {
            (t0, f0) = (t, ft);
            if last_side == -1 {
                f1 *= 0.5;
            }
            last_side = -1;
        } else {
            (t1, f1) = (t, ft);
            if last_side == 1 {
                f0 *= 0.5;
            }
            last_side = 1;
        }
    }
    at(best_t)
}

/// Join segments that share an edge id into chains (closed chains repeat their first id).
fn chain(segments: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut by_edge: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, &(a, b)) in segments.iter().enumerate() {
        by_edge.entry(a).or_default().push(k);
        by_edge.entry(b).or_default().push(k);
    }
    let mut used = vec![false; segments.len()];
    let mut out = Vec::new();
    for start in 0..segments.len() {
        if used[start] {
            continue;
        }
        used[start] = true;
        let (a, b) = segments[start];
        let mut line = VecDeque::from([a, b]);
        // Grow forward from b, then backward from a.
        for forward in [true, false] {
            loop {
                let end = if forward {
                    *line.back().unwrap_or(&b)
                } else {
                    *line.front().unwrap_or(&a)
                };
                let next = by_edge
                    .get(&end)
                    .and_then(|v| v.iter().copied().find(|&k| !used[k]));
                let Some(k) = next else { break };
                used[k] = true;
                let (p, q) = segments[k];
                let other = if p == end { q } else { p };
                if forward {
                    line.push_back(other);
                } else {
                    line.push_front(other);
                }
            }
        }
        out.push(line.into_iter().collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize, r: f64, f: impl Fn(f64, f64) -> f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let ax: Vec<f64> = (0..n)
            .map(|k| -r + 2.0 * r * k as f64 / (n - 1) as f64)
            .collect();
        let mut v = Vec::new();
        for &b in &ax {
            for &a in &ax {
                v.push(f(a, b));
            }
        }
        (v, ax.clone(), ax)
    }

    #[test]
    fn a_circle_is_found_at_its_radius() {
        // f = x² + y², level 1: the unit circle. Linear interpolation of a quadratic along an
        // edge of length h errs by at most h²/8 / |∇f| ≈ h²/16 in radius.
        for n in [21, 41, 81] {
            let (v, x, y) = grid(n, 2.0, |a, b| a * a + b * b);
            let h = 4.0 / (n - 1) as f64;
            let segs = contour(&v, &x, &y, 1.0);
            assert!(!segs.is_empty());
            let mut worst = 0.0f64;
            let mut length = 0.0;
            for s in &segs {
                for p in s {
                    worst = worst.max(((p[0] * p[0] + p[1] * p[1]).sqrt() - 1.0).abs());
                }
                length += ((s[1][0] - s[0][0]).powi(2) + (s[1][1] - s[0][1]).powi(2)).sqrt();
            }
            assert!(worst <= h * h / 8.0, "n {n}: radius error {worst}");
            let perimeter = 2.0 * std::f64::consts::PI;
            assert!(
                (length - perimeter).abs() < 2.0 * h * h,
                "n {n}: length {length}"
            );
        }
    }

    #[test]
    fn a_plane_gives_its_exact_line_and_each_cell_one_segment() {
        // f = x + 2y: linear interpolation is exact, every endpoint lies on x + 2y = 0.5.
        let (v, x, y) = grid(11, 1.0, |a, b| a + 2.0 * b);
        let segs = contour(&v, &x, &y, 0.5);
        assert!(segs.len() >= 10);
        for s in &segs {
            for p in s {
                assert!((p[0] + 2.0 * p[1] - 0.5).abs() < 1e-12, "{p:?}");
            }
        }
        // Segments chain: each interior endpoint is shared by exactly two segments.
        let key = |p: [f64; 2]| ((p[0] * 1e9).round() as i64, (p[1] * 1e9).round() as i64);
        let mut count = std::collections::HashMap::new();
        for s in &segs {
            for p in s {
                *count.entry(key(*p)).or_insert(0) += 1;
            }
        }
        let ends = count.values().filter(|&&c| c == 1).count();
        assert_eq!(ends, 2, "an open line has two ends");
        assert!(count.values().all(|&c| c <= 2));
    }

    #[test]
    fn a_saddle_cell_follows_its_centre() {
        // Corners 1, 0, 1, 0 (counter-clockwise) and level 0.4: centre 0.5 is above, so the
        // high corners 0 and 2 connect and the segments cut off corners 1 and 3.
        let v = [1.0, 0.0, 0.0, 1.0];
        let (x, y) = ([0.0, 1.0], [0.0, 1.0]);
        // values row-major: (0,0)=1, (1,0)=0, (0,1)=0, (1,1)=1.
        let segs = contour(&v, &x, &y, 0.4);
        assert_eq!(segs.len(), 2);
        for s in &segs {
            // Each segment stays near the low corner (1,0) or (0,1) it cuts off.
            let mid = [(s[0][0] + s[1][0]) / 2.0, (s[0][1] + s[1][1]) / 2.0];
            let d1 = ((mid[0] - 1.0).powi(2) + mid[1].powi(2)).sqrt();
            let d2 = (mid[0].powi(2) + (mid[1] - 1.0).powi(2)).sqrt();
            assert!(d1.min(d2) < 0.5, "{s:?}");
        }
    }

    #[test]
    fn cells_with_a_missing_value_are_skipped_and_levels_stay_inside() {
        let (mut v, x, y) = grid(5, 1.0, |a, b| a * a + b * b);
        let all = contour(&v, &x, &y, 0.5).len();
        v[12] = f64::NAN; // the centre: its four cells go
        let some = contour(&v, &x, &y, 0.5).len();
        assert!(some < all, "{some} < {all}");
        let l = levels(0.01, 100.0, 3, true);
        assert_eq!(l.len(), 3);
        assert!((l[1] - 1.0).abs() < 1e-12, "{l:?}");
        let l = levels(0.0, 4.0, 3, true);
        assert_eq!(l, vec![1.0, 2.0, 3.0]);
        assert!(levels(1.0, 1.0, 3, false).is_empty());
        assert!(levels(f64::NAN, 1.0, 3, false).is_empty());
    }

    #[test]
    fn both_tracers_agree_on_a_circle() {
        // f = x² + y² − r² on [−2, 2]², sampled at the same n + 1 points a side by both: they
        // cross the same cell edges; the grid tracer puts each crossing within grid accuracy
        // of the circle (f is quadratic along an edge: |f| ≤ h²/4 at the interpolated point,
        // so the radius is off by at most about h²/(8r)), the zero-set tracer on it to rounding.
        let r = 1.2345;
        let f = |x: f64, y: f64| x * x + y * y - r * r;
        for n in [16, 40, 101] {
            let axis: Vec<f64> = (0..=n).map(|i| -2.0 + 4.0 * i as f64 / n as f64).collect();
            let mut v = Vec::new();
            for &y in &axis {
                for &x in &axis {
                    v.push(f(x, y));
                }
            }
            let h = 4.0 / n as f64;
            let radius_error = |p: &[f64; 2]| ((p[0] * p[0] + p[1] * p[1]).sqrt() - r).abs();
            let segments = contour(&v, &axis, &axis, 0.0);
            let grid_worst = segments
                .iter()
                .flatten()
                .map(radius_error)
                .fold(0.0, f64::max);
            assert!(grid_worst <= h * h / (7.0 * r), "n {n}: grid {grid_worst}");
            let lines = zero_set(f, (-2.0, 2.0), (-2.0, 2.0), n);
            assert_eq!(lines.len(), 1, "n {n}: one closed curve");
            let line = &lines[0];
            assert_eq!(line.first(), line.last());
            let exact_worst = line.iter().map(radius_error).fold(0.0, f64::max);
            assert!(exact_worst <= 1e-12, "n {n}: zero set {exact_worst}");
            // The same edges, one crossing each: (horizontal?, grid line, cell along it).
            let edge = |p: &[f64; 2]| -> (bool, usize, usize) {
                let cell = |t: f64| (((t + 2.0) / h).floor() as usize).min(n - 1);
                match axis.iter().position(|&a| a == p[1]) {
                    Some(j) => (true, j, cell(p[0])),
                    None => {
                        let i = axis
                            .iter()
                            .position(|&a| a == p[0])
                            .expect("on a grid line");
                        (false, i, cell(p[1]))
                    }
                }
            };
            let mut from_grid: Vec<_> = segments.iter().flatten().map(edge).collect();
            from_grid.sort();
            from_grid.dedup();
            let mut from_zero_set: Vec<_> = line[1..].iter().map(edge).collect();
            from_zero_set.sort();
            assert_eq!(from_grid, from_zero_set, "n {n}");
            assert_eq!(
                segments.len(),
                line.len() - 1,
                "n {n}: one segment per cell"
            );
        }
    }

    #[test]
    fn the_cell_table_pairs_every_crossed_edge_once() {
        for case in 0..16usize {
            let above = [0, 1, 2, 3].map(|k| case >> k & 1 == 1);
            let crossed: Vec<usize> = (0..4).filter(|&e| above[e] != above[(e + 1) % 4]).collect();
            for centre in [false, true] {
                let mut used: Vec<usize> = cell_edges(above, || centre)
                    .iter()
                    .flatten()
                    .copied()
                    .collect();
                used.sort();
                assert_eq!(used, crossed, "case {case}");
            }
        }
    }
}
