//! The synthetic sources. Arguments have been validated by `super::validate`.
//!
//! Classification sources give row `i` the class `i mod k`, so every class gets ⌊n/k⌋ or ⌈n/k⌉
//! rows. Each point draws its gaussian jitter whether `noise` is zero or not: turning the noise
//! up moves the same points rather than drawing a different data set.

use std::f64::consts::{PI, TAU};

use super::Dataset;
use super::spec::{BooleanOp, Task};
use crate::formula::Formula;
use crate::rng::Rng;

pub(super) const DEFAULT_MARGIN: f64 = 0.3;
pub(super) const DEFAULT_CLASSES: usize = 3;
pub(super) const DEFAULT_TEETH: usize = 4;
pub(super) const DEFAULT_BITS: usize = 2;

/// 2-D points, `k` balanced classes, `point(class, rng)` places one point before the jitter.
fn classes_2d(
    n: usize,
    k: usize,
    noise: f64,
    rng: &mut Rng,
    mut point: impl FnMut(usize, &mut Rng) -> [f64; 2],
) -> Dataset {
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % k;
        let [a, b] = point(c, rng);
        x.push(a + noise * rng.normal());
        x.push(b + noise * rng.normal());
        y.push(c as f64);
    }
    Dataset {
        inputs: 2,
        x,
        y,
        task: Task::Classification,
        classes: k,
    }
}

/// Two gaussian clusters on either side of a seeded line through the origin, with an empty
/// gap of width `margin` between them whatever the noise: a point (jitter included) that lands
/// on the wrong side of its half of the gap is drawn again, and after 64 failures (only with
/// very large noise) pushed across, perpendicular to the line. Class 1 lies on the side the
/// returned unit normal points to, so the data is linearly separable by construction.
pub(super) fn linear(n: usize, noise: f64, margin: f64, rng: &mut Rng) -> (Dataset, [f64; 2]) {
    let theta = rng.range(0.0, TAU);
    let w = [theta.cos(), theta.sin()];
    let along = [-w[1], w[0]];
    // A zero margin still keeps the classes strictly apart.
    let half = (margin / 2.0).max(1e-9);
    let centre = margin / 2.0 + 0.35;
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % 2;
        let side = if c == 1 { 1.0 } else { -1.0 };
        let mut p = [0.0; 2];
        for _ in 0..64 {
            let d = side * centre + 0.15 * rng.normal();
            let t = 0.35 * rng.normal();
            p = [
                d * w[0] + t * along[0] + noise * rng.normal(),
                d * w[1] + t * along[1] + noise * rng.normal(),
            ];
            if side * (p[0] * w[0] + p[1] * w[1]) >= half {
                break;
            }
        }
        let d = p[0] * w[0] + p[1] * w[1];
        if side * d < half {
            // Land a hair inside so rounding cannot put it back on the boundary.
            let shift = side * half * (1.0 + 1e-9) - d;
            p = [p[0] + shift * w[0], p[1] + shift * w[1]];
        }
        x.extend_from_slice(&p);
        y.push(c as f64);
    }
    let ds = Dataset {
        inputs: 2,
        x,
        y,
        task: Task::Classification,
        classes: 2,
    };
    (ds, w)
}

/// Uniform points in the four quadrants, at least 0.05 from both axes so that every label is
/// unambiguous; class 1 where x1·x2 > 0. The jitter comes after labelling.
pub(super) fn xor(n: usize, noise: f64, rng: &mut Rng) -> Dataset {
    classes_2d(n, 2, noise, rng, |c, rng| {
        let s1 = if rng.uniform() < 0.5 { 1.0 } else { -1.0 };
        let s2 = if c == 1 { s1 } else { -s1 };
        [s1 * rng.range(0.05, 1.0), s2 * rng.range(0.05, 1.0)]
    })
}

/// Class 1: uniform in the disc of radius 0.5; class 0: uniform in the ring 0.7–1.0.
pub(super) fn circle(n: usize, noise: f64, rng: &mut Rng) -> Dataset {
    classes_2d(n, 2, noise, rng, |c, rng| {
        let a = rng.range(0.0, TAU);
        // Uniform in area: the radius goes as the square root.
        let r = if c == 1 {
            0.5 * rng.uniform().sqrt()
        } else {
            rng.range(0.49, 1.0).sqrt()
        };
        [r * a.cos(), r * a.sin()]
    })
}

/// Two interleaved arms of 1.75 turns each, radius 0 to 1 (TensorFlow Playground's spiral,
/// scaled to the unit disc); the second arm is the first turned by π.
pub(super) fn spiral(n: usize, noise: f64, rng: &mut Rng) -> Dataset {
    classes_2d(n, 2, noise, rng, |c, rng| {
        let r = rng.uniform();
        let t = 1.75 * TAU * r + c as f64 * PI;
        [r * t.sin(), r * t.cos()]
    })
}

/// `k` gaussian blobs with centres evenly spaced on the circle of radius 0.6; the spread
/// shrinks with `k` so that neighbouring blobs stay apart.
pub(super) fn blobs(n: usize, k: usize, noise: f64, rng: &mut Rng) -> Dataset {
    let spread = (0.3 * (PI / k as f64).sin()).min(0.15);
    classes_2d(n, k, noise, rng, |c, rng| {
        let a = TAU * c as f64 / k as f64;
        [
            0.6 * a.cos() + spread * rng.normal(),
            0.6 * a.sin() + spread * rng.normal(),
        ]
    })
}

/// scikit-learn's two moons (class 0 the upper, class 1 the lower one), shifted and scaled by
/// 1/1.5 so that the noiseless points fill x ∈ [−1, 1], y ∈ [−0.5, 0.5].
pub(super) fn moons(n: usize, noise: f64, rng: &mut Rng) -> Dataset {
    classes_2d(n, 2, noise, rng, |c, rng| {
        let t = rng.range(0.0, PI);
        let (a, b) = if c == 0 {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        };
        [(a - 0.5) / 1.5, (b - 0.25) / 1.5]
    })
}

/// 1-D regression: x uniform in [lo, hi), y = f(x) plus gaussian noise.
fn regression(
    n: usize,
    noise: f64,
    rng: &mut Rng,
    (lo, hi): (f64, f64),
    f: impl Fn(f64) -> f64,
) -> Dataset {
    let mut x = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let v = rng.range(lo, hi);
        x.push(v);
        y.push(f(v) + noise * rng.normal());
    }
    Dataset {
        inputs: 1,
        x,
        y,
        task: Task::Regression,
        classes: 0,
    }
}

/// y = sin(πx) on [−1, 1]: one full period, inputs on the same scale as everything else.
pub(super) fn sin(n: usize, noise: f64, rng: &mut Rng) -> Dataset {
    regression(n, noise, rng, (-1.0, 1.0), |x| (PI * x).sin())
}

pub(super) fn abs(n: usize, noise: f64, rng: &mut Rng) -> Dataset {
    regression(n, noise, rng, (-1.0, 1.0), f64::abs)
}

/// y = 0 for x < 0, else 1.
pub(super) fn step(n: usize, noise: f64, rng: &mut Rng) -> Dataset {
    regression(
        n,
        noise,
        rng,
        (-1.0, 1.0),
        |x| if x < 0.0 { 0.0 } else { 1.0 },
    )
}

pub(super) fn neg_x(n: usize, noise: f64, rng: &mut Rng) -> Dataset {
    regression(n, noise, rng, (-1.0, 1.0), |x| -x)
}

/// Telgarsky's sawtooth on [0, 1].
pub(super) fn sawtooth(n: usize, teeth: usize, noise: f64, rng: &mut Rng) -> Dataset {
    regression(n, noise, rng, (0.0, 1.0), |x| tooth(teeth, x))
}

/// Points uniform in [-1, 1]^inputs labelled by `formula`: a condition gives class 1 where it
/// holds (the jitter moves the point after labelling, as for the other classification
/// sources), a number gives a regression target (plus gaussian noise). A target that is not
/// finite at some point (`sqrt(x1)` at x1 < 0) is an error naming that point.
pub(super) fn formula(
    formula: &Formula,
    inputs: usize,
    n: usize,
    noise: f64,
    rng: &mut Rng,
) -> Result<Dataset, String> {
    let condition = formula.is_condition();
    let mut x = Vec::with_capacity(n * inputs);
    let mut y = Vec::with_capacity(n);
    let mut point = vec![0.0; inputs];
    for _ in 0..n {
        for v in point.iter_mut() {
            *v = rng.range(-1.0, 1.0);
        }
        let value = formula.eval(&point);
        if !value.is_finite() {
            let at: Vec<String> = point.iter().map(|v| format!("{v:.3}")).collect();
            return Err(format!(
                "\"{}\" is {value} at x = ({}): keep it finite on [-1, 1]",
                formula.text(),
                at.join(", ")
            ));
        }
        if condition {
            x.extend(point.iter().map(|v| v + noise * rng.normal()));
            y.push(value);
        } else {
            x.extend_from_slice(&point);
            y.push(value + noise * rng.normal());
        }
    }
    let (task, classes) = if condition {
        (Task::Classification, 2)
    } else {
        (Task::Regression, 0)
    };
    Ok(Dataset {
        inputs,
        x,
        y,
        task,
        classes,
    })
}

/// Triangle wave with `teeth` peaks of height 1 on [0, 1]: 0 at x = j/teeth, 1 at
/// x = (j + ½)/teeth. With 2^(k−1) teeth it is the tent map composed k times, which a deep
/// ReLU net builds with O(k) units and a shallow one needs exponentially many for.
pub(super) fn tooth(teeth: usize, x: f64) -> f64 {
    let u = teeth as f64 * x;
    1.0 - (2.0 * (u - u.floor()) - 1.0).abs()
}

/// The whole truth table of `op` on `bits` inputs, rows in counting order (first input is the
/// most significant bit). Takes no randomness and ignores `n` and `noise`: the table is the
/// data set.
pub(super) fn boolean(bits: usize, op: BooleanOp) -> Dataset {
    let rows = 1usize << bits;
    let mut x = Vec::with_capacity(rows * bits);
    let mut y = Vec::with_capacity(rows);
    for r in 0..rows {
        for j in 0..bits {
            x.push(((r >> (bits - 1 - j)) & 1) as f64);
        }
        let ones = r.count_ones() as usize;
        let v = match op {
            BooleanOp::And => ones == bits,
            BooleanOp::Or => ones > 0,
            BooleanOp::Parity => ones % 2 == 1,
        };
        y.push(if v { 1.0 } else { 0.0 });
    }
    Dataset {
        inputs: bits,
        x,
        y,
        task: Task::Classification,
        classes: 2,
    }
}

#[cfg(test)]
mod tests {
    use super::super::spec::{DataSource, DataSpec};
    use super::super::{generate, split};
    use super::*;

    const CLASSIFY_2D: [DataSource; 6] = [
        DataSource::Linear,
        DataSource::Xor,
        DataSource::Circle,
        DataSource::Spiral,
        DataSource::Blobs,
        DataSource::Moons,
    ];
    const REGRESS_1D: [DataSource; 5] = [
        DataSource::Sin,
        DataSource::Abs,
        DataSource::Step,
        DataSource::Sawtooth,
        DataSource::NegX,
    ];

    fn gen_(source: DataSource, n: usize, noise: f64) -> Dataset {
        generate(&DataSpec::generator(source, n, noise), 42).unwrap()
    }

    fn counts(ds: &Dataset) -> Vec<usize> {
        let mut c = vec![0; ds.classes];
        for &v in &ds.y {
            c[v as usize] += 1;
        }
        c
    }

    #[test]
    fn shapes_of_every_generator() {
        for n in [1, 2, 7, 200] {
            for s in CLASSIFY_2D {
                let ds = gen_(s, n, 0.1);
                let k = if s == DataSource::Blobs { 3 } else { 2 };
                assert_eq!(ds.inputs, 2, "{s:?}");
                assert_eq!(ds.rows(), n, "{s:?}");
                assert_eq!(ds.x.len(), 2 * n, "{s:?}");
                assert_eq!((ds.task, ds.classes), (Task::Classification, k), "{s:?}");
                assert!(ds.x.iter().all(|v| v.is_finite()), "{s:?}");
                assert!(
                    ds.y.iter()
                        .all(|&v| v == (v as usize) as f64 && (v as usize) < k)
                );
            }
            for s in REGRESS_1D {
                let ds = gen_(s, n, 0.1);
                assert_eq!((ds.inputs, ds.rows(), ds.x.len()), (1, n, n), "{s:?}");
                assert_eq!((ds.task, ds.classes), (Task::Regression, 0), "{s:?}");
                assert!(ds.x.iter().chain(&ds.y).all(|v| v.is_finite()), "{s:?}");
            }
        }
        let ds = gen_(DataSource::Boolean, 5, 0.0);
        assert_eq!((ds.inputs, ds.rows(), ds.x.len(), ds.classes), (2, 4, 8, 2));
    }

    #[test]
    fn classes_are_balanced() {
        for n in [100, 101, 5] {
            for s in CLASSIFY_2D {
                let ds = gen_(s, n, 0.3);
                let k = ds.classes;
                for c in counts(&ds) {
                    assert!(c == n / k || c == n.div_ceil(k), "{s:?} n {n}: {c}");
                }
            }
        }
        for k in [2, 5, 32] {
            let mut spec = DataSpec::generator(DataSource::Blobs, 1000, 0.0);
            spec.classes = Some(k);
            let ds = generate(&spec, 1).unwrap();
            assert_eq!(ds.classes, k);
            for c in counts(&ds) {
                assert!(c == 1000 / k || c == 1000usize.div_ceil(k), "k {k}: {c}");
            }
        }
    }

    #[test]
    fn same_seed_same_data_different_seed_different_data() {
        for s in CLASSIFY_2D.into_iter().chain(REGRESS_1D) {
            for noise in [0.0, 0.2] {
                let spec = DataSpec::generator(s, 50, noise);
                let a = generate(&spec, 1).unwrap();
                assert_eq!(a, generate(&spec, 1).unwrap(), "{s:?}");
                assert_ne!(a.x, generate(&spec, 2).unwrap().x, "{s:?}");
                // The spec's own seed wins over the session seed.
                let mut pinned = spec.clone();
                pinned.seed = Some(7);
                assert_eq!(
                    generate(&pinned, 1).unwrap(),
                    generate(&pinned, 2).unwrap(),
                    "{s:?}"
                );
                assert_ne!(generate(&pinned, 1).unwrap(), a, "{s:?}");
            }
        }
    }

    #[test]
    fn noise_moves_the_same_points() {
        let clean = gen_(DataSource::Circle, 300, 0.0);
        let noisy = gen_(DataSource::Circle, 300, 0.01);
        let moved = clean
            .x
            .iter()
            .zip(&noisy.x)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(moved > 0.0 && moved < 0.06, "{moved}");
    }

    /// Perceptron with bias; returns whether an epoch went by without a mistake.
    fn perceptron_converges(ds: &Dataset, epochs: usize) -> bool {
        let mut w = [0.0; 3];
        for _ in 0..epochs {
            let mut mistakes = 0;
            for i in 0..ds.rows() {
                let p = ds.row(i);
                let t = if ds.y[i] == 1.0 { 1.0 } else { -1.0 };
                if t * (w[0] * p[0] + w[1] * p[1] + w[2]) <= 0.0 {
                    w[0] += t * p[0];
                    w[1] += t * p[1];
                    w[2] += t;
                    mistakes += 1;
                }
            }
            if mistakes == 0 {
                return true;
            }
        }
        false
    }

    #[test]
    fn linear_is_separable_with_its_margin_at_any_noise() {
        for (seed, noise, margin) in [(1, 0.0, 0.3), (2, 0.1, 0.3), (3, 0.5, 0.3), (4, 3.0, 0.5)] {
            let mut rng = Rng::stream(seed, "data");
            let (ds, w) = linear(400, noise, margin, &mut rng);
            for i in 0..ds.rows() {
                let p = ds.row(i);
                let side = if ds.y[i] == 1.0 { 1.0 } else { -1.0 };
                let d = side * (w[0] * p[0] + w[1] * p[1]);
                assert!(d >= margin / 2.0 - 1e-12, "row {i}: {d}");
            }
            assert!(perceptron_converges(&ds, 10_000), "noise {noise}");
        }
        // Through `generate` too, with the default margin.
        let ds = gen_(DataSource::Linear, 500, 0.2);
        assert!(perceptron_converges(&ds, 10_000));
    }

    #[test]
    fn linear_with_small_noise_stays_roughly_in_the_square() {
        let ds = gen_(DataSource::Linear, 1000, 0.05);
        let inside = ds.x.iter().filter(|v| v.abs() <= 1.2).count();
        assert!(inside as f64 > 0.98 * ds.x.len() as f64, "{inside}");
    }

    #[test]
    fn xor_is_cleanly_labelled() {
        let ds = gen_(DataSource::Xor, 500, 0.0);
        for i in 0..ds.rows() {
            let p = ds.row(i);
            assert!(p.iter().all(|v| (0.05..1.0).contains(&v.abs())), "{p:?}");
            assert_eq!(ds.y[i] == 1.0, p[0] * p[1] > 0.0, "{p:?}");
        }
        // All four quadrants are used.
        let q = |a: bool, b: bool| {
            (0..ds.rows()).any(|i| (ds.row(i)[0] > 0.0, ds.row(i)[1] > 0.0) == (a, b))
        };
        assert!(q(true, true) && q(true, false) && q(false, true) && q(false, false));
    }

    #[test]
    fn circle_radii() {
        let ds = gen_(DataSource::Circle, 500, 0.0);
        for i in 0..ds.rows() {
            let r = ds.row(i)[0].hypot(ds.row(i)[1]);
            if ds.y[i] == 1.0 {
                assert!(r < 0.5, "{r}");
            } else {
                assert!((0.7 - 1e-12..=1.0).contains(&r), "{r}");
            }
        }
    }

    #[test]
    fn spiral_arms_are_half_a_turn_apart() {
        let ds = gen_(DataSource::Spiral, 400, 0.0);
        for i in 0..ds.rows() {
            let p = ds.row(i);
            let r = p[0].hypot(p[1]);
            assert!(r < 1.0);
            // Recover the angle the arm formula predicts for this radius.
            let t = 1.75 * TAU * r + ds.y[i] * PI;
            assert!((p[0] - r * t.sin()).abs() < 1e-12 && (p[1] - r * t.cos()).abs() < 1e-12);
        }
    }

    #[test]
    fn blobs_sit_near_their_centres() {
        let mut spec = DataSpec::generator(DataSource::Blobs, 600, 0.0);
        spec.classes = Some(4);
        let ds = generate(&spec, 3).unwrap();
        for c in 0..4 {
            let a = TAU * c as f64 / 4.0;
            let rows: Vec<usize> = (0..ds.rows()).filter(|&i| ds.y[i] == c as f64).collect();
            let mx = rows.iter().map(|&i| ds.row(i)[0]).sum::<f64>() / rows.len() as f64;
            let my = rows.iter().map(|&i| ds.row(i)[1]).sum::<f64>() / rows.len() as f64;
            assert!((mx - 0.6 * a.cos()).abs() < 0.05 && (my - 0.6 * a.sin()).abs() < 0.05);
        }
    }

    #[test]
    fn moons_fit_the_square() {
        let ds = gen_(DataSource::Moons, 1000, 0.0);
        assert!(ds.x.iter().all(|v| v.abs() <= 1.0 + 1e-12));
        let xs: Vec<f64> = (0..ds.rows()).map(|i| ds.row(i)[0]).collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!(lo < -0.95 && hi > 0.95, "{lo} {hi}");
        // The upper moon is on average higher.
        let mean_y = |c: f64| {
            let v: Vec<f64> = (0..ds.rows())
                .filter(|&i| ds.y[i] == c)
                .map(|i| ds.row(i)[1])
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(mean_y(0.0) > mean_y(1.0));
    }

    #[test]
    fn regression_targets_follow_their_functions() {
        type Case = (DataSource, (f64, f64), fn(f64) -> f64);
        let cases: [Case; 5] = [
            (DataSource::Sin, (-1.0, 1.0), |x| (PI * x).sin()),
            (DataSource::Abs, (-1.0, 1.0), f64::abs),
            (DataSource::Step, (-1.0, 1.0), |x| {
                if x < 0.0 { 0.0 } else { 1.0 }
            }),
            (DataSource::Sawtooth, (0.0, 1.0), |x| tooth(4, x)),
            (DataSource::NegX, (-1.0, 1.0), |x| -x),
        ];
        for (s, (lo, hi), f) in cases {
            let ds = gen_(s, 300, 0.0);
            for i in 0..ds.rows() {
                let x = ds.x[i];
                assert!((lo..hi).contains(&x), "{s:?} {x}");
                assert_eq!(ds.y[i], f(x), "{s:?}");
            }
            // Noise is additive on y, with the given std.
            let noisy = gen_(s, 4000, 0.1);
            let resid: Vec<f64> = (0..noisy.rows())
                .map(|i| noisy.y[i] - f(noisy.x[i]))
                .collect();
            let sd = (resid.iter().map(|r| r * r).sum::<f64>() / resid.len() as f64).sqrt();
            assert!((sd - 0.1).abs() < 0.01, "{s:?} {sd}");
        }
    }

    #[test]
    fn sawtooth_teeth() {
        assert_eq!(tooth(1, 0.0), 0.0);
        assert_eq!(tooth(1, 0.5), 1.0);
        assert_eq!(tooth(1, 0.25), 0.5);
        assert_eq!(tooth(4, 0.125), 1.0);
        assert_eq!(tooth(4, 0.25), 0.0);
        assert_eq!(tooth(4, 0.875), 1.0);
        // `teeth` peaks: count the local maxima on a fine grid.
        for teeth in [1, 3, 8] {
            let v: Vec<f64> = (0..=4000)
                .map(|i| tooth(teeth, i as f64 / 4000.0))
                .collect();
            let peaks = v.windows(3).filter(|w| w[1] > w[0] && w[1] >= w[2]).count();
            assert_eq!(peaks, teeth);
        }
        let mut spec = DataSpec::generator(DataSource::Sawtooth, 100, 0.0);
        spec.teeth = Some(3);
        let ds = generate(&spec, 1).unwrap();
        for i in 0..ds.rows() {
            assert_eq!(ds.y[i], tooth(3, ds.x[i]));
        }
    }

    fn table(bits: usize, op: BooleanOp) -> Vec<(Vec<f64>, f64)> {
        let mut spec = DataSpec::generator(DataSource::Boolean, 999, 0.5);
        spec.bits = Some(bits);
        spec.op = Some(op);
        let ds = generate(&spec, 1).unwrap();
        (0..ds.rows())
            .map(|i| (ds.row(i).to_vec(), ds.y[i]))
            .collect()
    }

    #[test]
    fn boolean_truth_tables() {
        let rows = |ys: [f64; 4]| -> Vec<(Vec<f64>, f64)> {
            let xs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
            xs.iter().zip(ys).map(|(x, y)| (x.to_vec(), y)).collect()
        };
        assert_eq!(table(2, BooleanOp::And), rows([0.0, 0.0, 0.0, 1.0]));
        assert_eq!(table(2, BooleanOp::Or), rows([0.0, 1.0, 1.0, 1.0]));
        assert_eq!(table(2, BooleanOp::Parity), rows([0.0, 1.0, 1.0, 0.0]));
        assert_eq!(
            table(1, BooleanOp::Parity),
            vec![(vec![0.0], 0.0), (vec![1.0], 1.0)]
        );
        // Default: 2-bit parity, i.e. XOR.
        let ds = gen_(DataSource::Boolean, 10, 0.0);
        assert_eq!(ds.y, vec![0.0, 1.0, 1.0, 0.0]);
        for bits in [3, 5, 16] {
            for op in [BooleanOp::And, BooleanOp::Or, BooleanOp::Parity] {
                let t = table(bits, op);
                assert_eq!(t.len(), 1 << bits);
                for (r, (x, y)) in t.iter().enumerate() {
                    let ones = x.iter().filter(|&&v| v == 1.0).count();
                    assert!(x.iter().all(|&v| v == 0.0 || v == 1.0));
                    // Counting order, most significant bit first.
                    let back = x.iter().fold(0, |acc, &v| 2 * acc + v as usize);
                    assert_eq!(back, r);
                    let want = match op {
                        BooleanOp::And => ones == bits,
                        BooleanOp::Or => ones > 0,
                        BooleanOp::Parity => ones % 2 == 1,
                    };
                    assert_eq!(*y, if want { 1.0 } else { 0.0 });
                }
            }
        }
    }

    #[test]
    fn extreme_settings_do_not_panic() {
        for s in CLASSIFY_2D.into_iter().chain(REGRESS_1D) {
            for noise in [0.0, 1e6] {
                let ds = gen_(s, 3, noise);
                assert_eq!(ds.rows(), 3);
                let (train, test) = split(&ds, 0.5, 1);
                assert_eq!(train.rows() + test.rows(), 3);
            }
        }
        // A zero margin still separates strictly; a full one still fills every row.
        for (margin, noise) in [(0.0, 0.0), (0.0, 2.0), (1.0, 0.0), (1.0, 1e6)] {
            let (ds, w) = linear(300, noise, margin, &mut Rng::new(5));
            assert_eq!(ds.rows(), 300);
            for i in 0..ds.rows() {
                let p = ds.row(i);
                let side = if ds.y[i] == 1.0 { 1.0 } else { -1.0 };
                assert!(side * (w[0] * p[0] + w[1] * p[1]) > 0.0);
            }
        }
    }
}
