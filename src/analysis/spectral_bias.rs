//! Spectral bias, the frequency principle (THEORY row 36; Rahaman et al. 2019, Xu et al. 2019):
//! a network fitting a 1-D target learns its low frequencies first.
//!
//! Over the training inputs x₁ < … < x_n (an interval of length L), the Fourier coefficient of
//! a function v at frequency k (cycles per L) is the quadrature
//!
//!   v̂(k) = Σ_i w_i v(x_i) e^{−2πik(x_i − x₁)/L},
//!
//! with w_i each point's share of the interval (half the gaps to its neighbours), so uniform
//! points get w_i = 1/n and L = n·spacing, the discrete Fourier transform exactly. Following Xu
//! et al., the relative error at frequency k is |r̂(k)| / |ŷ(k)| with r = f − y the residual.
//! The check reads it at the target's peaks: the frequencies that carry the target.
//!
//! A direct sum, not an FFT: the training inputs need not be uniform (an FFT would need the
//! target resampled, and it is only known at the samples), and a few dozen frequencies over a few
//! thousand points cost well under a millisecond.

use crate::error::{Error, Result};

/// Most frequencies analysed (the highest k is at most n/2 as well).
pub const MAX_FREQUENCIES: usize = 256;
/// Most training points.
pub const MAX_POINTS: usize = 100_000;
/// Most entries of the cosine (and of the sine) table, frequencies × points: 2 × 32 MB.
pub const MAX_TABLE: usize = 4_000_000;

/// The Fourier basis over one set of 1-D training points, and the target's spectrum there.
#[derive(Clone, Debug, PartialEq)]
pub struct FourierBasis {
    /// Row order of the data sorted by x (the basis is stored in this order).
    order: Vec<usize>,
    /// [frequencies × n]: w_i cos(2πk(x_i − x₁)/L) and −w_i sin(…).
    cos: Vec<f64>,
    sin: Vec<f64>,
    /// Frequencies k = 0 … K−1, cycles per interval.
    pub frequencies: usize,
    /// |ŷ(k)|.
    pub target: Vec<f64>,
    /// Row values of the target, in data order.
    y: Vec<f64>,
}

impl FourierBasis {
    /// The basis over inputs `x` (1-D rows) with target `y`, up to `frequencies` (at most n/2).
    pub fn new(x: &[f64], y: &[f64], frequencies: usize) -> Result<FourierBasis> {
        let n = x.len();
        if n != y.len() {
            return Err(Error::new("x and y have different lengths"));
        }
        if !(4..=MAX_POINTS).contains(&n) {
            return Err(Error::new(format!(
                "the spectrum needs 4 to {MAX_POINTS} training points (got {n})"
            )));
        }
        if x.iter().chain(y).any(|v| !v.is_finite()) {
            return Err(Error::new("the data has a non-finite value"));
        }
        let frequencies = frequencies.min(n / 2).min(MAX_FREQUENCIES);
        if frequencies < 2 {
            return Err(Error::new("at least two frequencies are needed"));
        }
        if frequencies * n > MAX_TABLE {
            return Err(Error::new(format!(
                "{frequencies} frequencies × {n} points need tables of more than {MAX_TABLE} entries; ask for at most {} frequencies",
                MAX_TABLE / n
            )));
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
        let xs: Vec<f64> = order.iter().map(|&i| x[i]).collect();
        let span = xs[n - 1] - xs[0];
        if span <= 0.0 {
            return Err(Error::new("the inputs span no interval"));
        }
        // Period: the span plus one mean gap (uniform points: the DFT's period).
        let len = span * n as f64 / (n - 1) as f64;
        let gap = span / (n - 1) as f64;
        let weights: Vec<f64> = (0..n)
            .map(|i| {
                let left = if i == 0 { gap } else { xs[i] - xs[i - 1] };
                let right = if i + 1 == n { gap } else { xs[i + 1] - xs[i] };
                0.5 * (left + right) / len
            })
            .collect();
        let mut cos = vec![0.0; frequencies * n];
        let mut sin = vec![0.0; frequencies * n];
        for k in 0..frequencies {
            for i in 0..n {
                let phase = std::f64::consts::TAU * k as f64 * (xs[i] - xs[0]) / len;
                cos[k * n + i] = weights[i] * phase.cos();
                sin[k * n + i] = -weights[i] * phase.sin();
            }
        }
        let mut basis = FourierBasis {
            order,
            cos,
            sin,
            frequencies,
            target: Vec::new(),
            y: y.to_vec(),
        };
        basis.target = basis.amplitudes(y);
        Ok(basis)
    }

    /// |v̂(k)| for k = 0 … K−1 of values `v` given in data order.
    pub fn amplitudes(&self, v: &[f64]) -> Vec<f64> {
        let n = self.order.len();
        let sorted: Vec<f64> = self.order.iter().map(|&i| v[i]).collect();
        (0..self.frequencies)
            .map(|k| {
                let (c, s) = (&self.cos[k * n..(k + 1) * n], &self.sin[k * n..(k + 1) * n]);
                let re: f64 = c.iter().zip(&sorted).map(|(a, b)| a * b).sum();
                let im: f64 = s.iter().zip(&sorted).map(|(a, b)| a * b).sum();
                re.hypot(im)
            })
            .collect()
    }

    /// |r̂(k)| / |ŷ(k)| at the frequencies `ks`, for network outputs `f` in data order.
    pub fn relative_errors(&self, f: &[f64], ks: &[usize]) -> Vec<f64> {
        let r: Vec<f64> = f.iter().zip(&self.y).map(|(a, b)| a - b).collect();
        let amp = self.amplitudes(&r);
        ks.iter().map(|&k| amp[k] / self.target[k]).collect()
    }

    /// The target's peaks: k ≥ 1 with |ŷ(k)| a local maximum above `min_share` × the largest
    /// |ŷ(k)|, k ≥ 1, ascending.
    pub fn peaks(&self, min_share: f64) -> Vec<usize> {
        let t = &self.target;
        let top = t[1..].iter().fold(0.0f64, |m, &v| m.max(v));
        (1..self.frequencies)
            .filter(|&k| {
                let left = t[k - 1];
                let right = if k + 1 < self.frequencies {
                    t[k + 1]
                } else {
                    0.0
                };
                t[k] > min_share * top && t[k] >= left && t[k] >= right
            })
            .collect()
    }
}

/// The relative error at each peak against step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BandHistory {
    /// The peak frequencies (cycles per interval), ascending.
    pub frequencies: Vec<usize>,
    /// The recorded steps.
    pub steps: Vec<u64>,
    /// \[step\]\[peak\].
    pub errors: Vec<Vec<f64>>,
}

impl BandHistory {
    /// The first recorded step at which each peak's relative error is below `threshold` and
    /// stays below it for the rest of the history (None: never).
    pub fn convergence_steps(&self, threshold: f64) -> Vec<Option<u64>> {
        (0..self.frequencies.len())
            .map(|p| {
                let mut first = None;
                for (s, e) in self.steps.iter().zip(&self.errors) {
                    if e[p] < threshold {
                        first.get_or_insert(*s);
                    } else {
                        first = None;
                    }
                }
                first
            })
            .collect()
    }
}

/// Do the peaks converge in order of frequency (low first)? Refuses (Err, with the reason)
/// when the target has fewer than two peaks, so there is no order to measure.
pub fn converge_in_order(h: &BandHistory, threshold: f64) -> Result<bool> {
    if h.frequencies.len() < 2 {
        return Err(Error::new(format!(
            "the target has {} frequency peak(s): there is no order to measure (use a target with several frequencies, e.g. sin x + sin 5x + sin 10x)",
            h.frequencies.len()
        )));
    }
    let steps = h.convergence_steps(threshold);
    Ok(steps.windows(2).all(|w| match (w[0], w[1]) {
        (Some(a), Some(b)) => a < b,
        (Some(_), None) => true,
        _ => false,
    }))
}
