//! Parameters that training does not move: the parameters of frozen layers (`trainable:
//! false`) and pruned weights (held at exactly 0).
//!
//! One mechanism for both, applied by the trainer around the optimiser step, so it holds for
//! every update rule, clipping, weight decay and L1/L2 penalty alike:
//! 1. the gradient of a fixed parameter is zeroed before the optimiser sees it, so momentum
//!    and Adam's moments stay 0 there and global-norm clipping counts only what trains;
//! 2. after the step (and the weight constraint), a frozen parameter is copied back from θ
//!    before the step and a pruned weight is set to 0 — so the result is exact to the bit
//!    whatever an update rule would have done with a zero gradient.
//!
//! A pruning mask is saved per layer as hex digits (4 weights a digit): compact enough for a
//! session file and a diff, and unambiguous (the length and the padding bits are checked).

use std::ops::Range;

use crate::error::{Error, Result};

/// Fixed parameters of a network, as indices into θ.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamMask {
    /// Parameter ranges of frozen layers (all of a layer's parameters).
    pub frozen: Vec<Range<usize>>,
    /// Indices of pruned weights, ascending.
    pub pruned: Vec<usize>,
}

impl ParamMask {
    /// Nothing frozen, nothing pruned: training is exactly as without a mask.
    pub fn is_empty(&self) -> bool {
        self.frozen.is_empty() && self.pruned.is_empty()
    }

    /// Zero the gradient of every fixed parameter.
    pub fn zero_gradient(&self, grad: &mut [f64]) {
        for r in &self.frozen {
            grad[r.clone()].fill(0.0);
        }
        for &i in &self.pruned {
            grad[i] = 0.0;
        }
    }

    /// Put fixed parameters back: frozen ones to their value in `before`, pruned ones to 0.
    pub fn restore(&self, theta: &mut [f64], before: &[f64]) {
        for r in &self.frozen {
            theta[r.clone()].copy_from_slice(&before[r.clone()]);
        }
        self.zero_pruned(theta);
    }

    /// Set every pruned weight to 0 (at initialisation).
    pub fn zero_pruned(&self, theta: &mut [f64]) {
        for &i in &self.pruned {
            theta[i] = 0.0;
        }
    }

    /// Whether parameter `i` trains.
    pub fn trains(&self, i: usize) -> bool {
        !self.frozen.iter().any(|r| r.contains(&i)) && self.pruned.binary_search(&i).is_err()
    }
}

/// Drop every pruning mask whose length no longer fits its layer (after the designer changed a
/// width, a layer or the features); returns whether one was dropped. A mask describes one
/// shape of W: there is no meaningful way to carry it to another.
pub fn drop_stale(spec: &mut super::spec::NetworkSpec) -> bool {
    let mut fan_in = spec.feature_names().len();
    let mut dropped = false;
    for l in &mut spec.layers {
        let n = l.units.saturating_mul(fan_in);
        if l.pruned.as_ref().is_some_and(|m| m.len() != n.div_ceil(4)) {
            l.pruned = None;
            dropped = true;
        }
        fan_in = l.units;
    }
    dropped
}

/// Encode a per-weight mask (true = pruned) as hex digits: digit k holds weights 4k … 4k+3,
/// weight 4k in its least significant bit.
pub fn encode(pruned: &[bool]) -> String {
    pruned
        .chunks(4)
        .map(|c| {
            let v = c
                .iter()
                .enumerate()
                .fold(0u32, |acc, (b, &p)| acc | (u32::from(p) << b));
            char::from_digit(v, 16).unwrap_or('0')
        })
        .collect()
}

/// Decode `text` for a layer of `n` weights; `field` names it in errors.
pub fn decode(text: &str, n: usize, field: &str) -> Result<Vec<bool>> {
    let want = n.div_ceil(4);
    if text.len() != want {
        return Err(Error::field(
            field,
            format!(
                "has {} hex digits but the layer's {n} weights need {want}",
                text.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(want * 4);
    for (k, ch) in text.chars().enumerate() {
        let v = ch.to_digit(16).ok_or_else(|| {
            Error::field(field, format!("character {k} ({ch:?}) is not a hex digit"))
        })?;
        for b in 0..4 {
            out.push(v >> b & 1 == 1);
        }
    }
    if out[n..].iter().any(|&p| p) {
        return Err(Error::field(
            field,
            format!(
                "marks weights beyond the layer's {n} (the last digit's padding bits must be 0)"
            ),
        ));
    }
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_masks_round_trip_and_bits_are_where_documented() {
        // Weights 0 and 5 pruned of 6: digit 0 = 0b0001, digit 1 = 0b0010.
        let m = [true, false, false, false, false, true];
        assert_eq!(encode(&m), "12");
        assert_eq!(decode("12", 6, "f").unwrap(), m.to_vec());
        let all: Vec<bool> = (0..13).map(|i| i % 3 == 0).collect();
        assert_eq!(decode(&encode(&all), 13, "f").unwrap(), all);
    }

    #[test]
    fn bad_masks_name_the_problem() {
        let e = decode("1", 6, "network.layers[0].pruned").unwrap_err();
        assert!(e.to_string().contains("has 1 hex digits"), "{e}");
        let e = decode("1g", 6, "f").unwrap_err();
        assert!(e.to_string().contains("not a hex digit"), "{e}");
        // 6 weights: bits 6 and 7 of the second digit are padding.
        let e = decode("14", 6, "f").unwrap_err();
        assert!(e.to_string().contains("padding"), "{e}");
    }

    #[test]
    fn restore_keeps_frozen_values_and_zeros_pruned() {
        let mask = ParamMask {
            frozen: vec![1..2, 2..3],
            pruned: vec![4],
        };
        let before = [1.0, 2.0, 3.0, 4.0, 0.0];
        let mut theta = [9.0, 9.0, 9.0, 9.0, 9.0];
        mask.restore(&mut theta, &before);
        assert_eq!(theta, [9.0, 2.0, 3.0, 9.0, 0.0]);
        let mut g = [1.0; 5];
        mask.zero_gradient(&mut g);
        assert_eq!(g, [1.0, 0.0, 0.0, 1.0, 0.0]);
        assert!(mask.trains(0) && !mask.trains(2) && !mask.trains(4));
    }
}
