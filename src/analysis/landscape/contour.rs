//! Contour lines of a grid by marching squares: per cell, the level crosses the edges whose
//! end values lie on opposite sides of it, at the linearly interpolated point; a cell with
//! four crossings (a saddle) is resolved by the mean of its corners.

/// The segments of one level.
#[derive(Clone, Debug, PartialEq)]
pub struct Contour {
    pub level: f64,
    /// Line segments [from, to] in the grid's (x, y) coordinates.
    pub segments: Vec<[[f64; 2]; 2]>,
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
/// `values[i·nx + j]` at (x[j], y[i])). Cells with a non-finite corner are skipped.
pub fn contour(values: &[f64], x: &[f64], y: &[f64], level: f64) -> Vec<[[f64; 2]; 2]> {
    let (nx, ny) = (x.len(), y.len());
    let mut out = Vec::new();
    if nx < 2 || ny < 2 || values.len() != nx * ny || !level.is_finite() {
        return out;
    }
    for i in 0..ny - 1 {
        for j in 0..nx - 1 {
            // Corners counter-clockwise from bottom-left, and their positions.
            let v = [
                values[i * nx + j],
                values[i * nx + j + 1],
                values[(i + 1) * nx + j + 1],
                values[(i + 1) * nx + j],
            ];
            if v.iter().any(|a| !a.is_finite()) {
                continue;
            }
            let p = [
                [x[j], y[i]],
                [x[j + 1], y[i]],
                [x[j + 1], y[i + 1]],
                [x[j], y[i + 1]],
            ];
            let above = v.map(|a| a >= level);
            // Crossing on edge e (corner e to corner e+1).
            let mut cross: [Option<[f64; 2]>; 4] = [None; 4];
            for e in 0..4 {
                let (a, b) = (e, (e + 1) % 4);
                if above[a] != above[b] {
                    let t = (level - v[a]) / (v[b] - v[a]);
                    cross[e] = Some([
                        p[a][0] + t * (p[b][0] - p[a][0]),
                        p[a][1] + t * (p[b][1] - p[a][1]),
                    ]);
                }
            }
            let found: Vec<(usize, [f64; 2])> = cross
                .iter()
                .enumerate()
                .filter_map(|(e, c)| c.map(|c| (e, c)))
                .collect();
            match found.len() {
                2 => out.push([found[0].1, found[1].1]),
                4 => {
                    // Saddle: corners 0 and 2 on one side, 1 and 3 on the other. If the centre
                    // is on corner 0's side, 0 and 2 connect through it and the segments cut
                    // off corners 1 and 3 (edges 0–1 and 2–3); else they cut off 0 and 2.
                    let centre = 0.25 * (v[0] + v[1] + v[2] + v[3]);
                    let c = |e: usize| cross[e].unwrap_or_default();
                    if (centre >= level) == above[0] {
                        out.push([c(0), c(1)]);
                        out.push([c(2), c(3)]);
                    } else {
                        out.push([c(3), c(0)]);
                        out.push([c(1), c(2)]);
                    }
                }
                _ => {}
            }
        }
    }
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
}
