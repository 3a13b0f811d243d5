//! The confusion matrix of a classifier over a whole set: which class the network predicts for
//! the rows of each true class.

use serde::Serialize;

use super::trainer::Trainer;
use crate::data::Dataset;

/// Counts of (true class, predicted class) over a set's rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Confusion {
    /// Number of classes k.
    pub classes: usize,
    /// k × k, row-major: `counts[t·k + p]` rows of true class t predicted as p.
    pub counts: Vec<u64>,
}

impl Confusion {
    /// Rows of true class `truth` predicted as `predicted`.
    pub fn get(&self, truth: usize, predicted: usize) -> u64 {
        self.counts[truth * self.classes + predicted]
    }

    /// All rows counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Fraction of rows on the diagonal (NaN for an empty set).
    pub fn accuracy(&self) -> f64 {
        let diagonal: u64 = (0..self.classes).map(|c| self.get(c, c)).sum();
        diagonal as f64 / self.total() as f64
    }

    /// Of the rows of class `c`, the fraction predicted as `c` (NaN when there are none).
    pub fn recall(&self, c: usize) -> f64 {
        let row: u64 = (0..self.classes).map(|p| self.get(c, p)).sum();
        self.get(c, c) as f64 / row as f64
    }

    /// Of the rows predicted as `c`, the fraction that are `c` (NaN when none are).
    pub fn precision(&self, c: usize) -> f64 {
        let column: u64 = (0..self.classes).map(|t| self.get(t, c)).sum();
        self.get(c, c) as f64 / column as f64
    }

    /// The matrix as rows (true class) of counts per predicted class, for JSON.
    pub fn rows(&self) -> Vec<Vec<u64>> {
        self.counts
            .chunks(self.classes.max(1))
            .map(<[u64]>::to_vec)
            .collect()
    }
}

/// The confusion matrix of `trainer`'s network on `set` (evaluation mode, as
/// [`Trainer::evaluate`] scores it); None for regression.
pub fn confusion(trainer: &mut Trainer, set: &Dataset) -> Option<Confusion> {
    let k = set.classes;
    if k == 0 {
        return None;
    }
    let coding = trainer.net.target_coding(k);
    let outputs = trainer.net.output_units();
    let out = trainer.predict(&set.x, set.rows());
    let mut counts = vec![0u64; k * k];
    for (row, &y) in out.chunks(outputs).zip(&set.y) {
        // `as` saturates; clamping keeps an odd hand-made label from indexing out of range.
        let truth = (y as usize).min(k - 1);
        let predicted = coding.predict(row).min(k - 1);
        counts[truth * k + predicted] += 1;
    }
    Some(Confusion { classes: k, counts })
}
