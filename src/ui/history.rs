//! Metric histories as `Vec<PlotPoint>` so plots borrow them without copying.

use egui_plot::PlotPoint;

use crate::runtime::worker::StepRow;
use crate::train::Evaluation;

/// One plotted quantity: its points, and the same points as log10(y) for log axes (only the
/// positive ones), kept together so the two never disagree.
#[derive(Default)]
pub struct Series {
    lin: Vec<PlotPoint>,
    log: Vec<PlotPoint>,
}

impl Series {
    /// Add (x, y); non-finite values are skipped (and non-positive ones on the log side).
    pub fn push(&mut self, x: f64, y: f64) {
        if y.is_finite() {
            self.lin.push(PlotPoint::new(x, y));
            if y > 0.0 {
                self.log.push(PlotPoint::new(x, y.log10()));
            }
        }
    }

    /// The points to draw: (step, y), or (step, log10 y) of the positive ones for a log axis.
    pub fn points(&self, log: bool) -> &[PlotPoint] {
        if log { &self.log } else { &self.lin }
    }

    /// Drop the points at x or later.
    fn truncate_from(&mut self, x: f64) {
        for v in [&mut self.lin, &mut self.log] {
            while v.last().is_some_and(|p| p.x >= x) {
                v.pop();
            }
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&PlotPoint) -> bool) {
        self.lin.retain(&mut keep);
        self.log.retain(keep);
    }

    /// Number of points (on the linear side).
    pub fn len(&self) -> usize {
        self.lin.len()
    }

    /// True before the first point.
    pub fn is_empty(&self) -> bool {
        self.lin.is_empty()
    }

    /// Keep every other point (the log side keeps the same x values).
    pub(crate) fn thin_half(&mut self) {
        let mut i = 0;
        self.lin.retain(|_| {
            i += 1;
            i % 2 == 1
        });
        let kept: std::collections::HashSet<u64> = self.lin.iter().map(|p| p.x.to_bits()).collect();
        self.log.retain(|p| kept.contains(&p.x.to_bits()));
    }
}

/// Every curve the Plots tile draws, x being the step. Kept on the UI side from the worker's step
/// rows and evaluations; cleared on a rebuild or reset.
#[derive(Default)]
pub struct History {
    /// Objective on each step's mini-batch (mean loss + regulariser) before the update.
    pub batch_loss: Series,
    /// Mean loss on the whole training set, at each evaluation.
    pub train_loss: Series,
    /// Mean loss on the test set, at each evaluation.
    pub test_loss: Series,
    /// Accuracy on the training set, at each evaluation (classification).
    pub train_acc: Series,
    /// Accuracy on the test set, at each evaluation (classification).
    pub test_acc: Series,
    /// Regression: R² on the training set (empty for classification).
    pub train_r2: Series,
    /// Regression: R² on the test set (empty for classification).
    pub test_r2: Series,
    /// Per layer: ‖∂L/∂W‖_F on each step's batch.
    pub grad: Vec<Series>,
    /// Per layer: relative update ‖ΔW‖/‖W‖ of each step (NaN, so skipped, while ‖W‖ = 0).
    pub update: Vec<Series>,
    /// Per layer: fraction of units in their flat tails (sigmoid < 0.02 or > 0.98, |tanh| > 0.96).
    pub saturated: Vec<Series>,
    /// Per layer: fraction of ReLU units that output 0 for every row of the batch.
    pub dead: Vec<Series>,
    /// The latest evaluation, as the worker reported it (the output view's caption reads it).
    pub last_eval: Option<Evaluation>,
}

fn push_layers(v: &mut Vec<Series>, n: usize) {
    if v.len() < n {
        v.resize_with(n, Series::default);
    }
}

impl History {
    /// Forget every curve (a rebuild or a reset starts them again).
    pub fn clear(&mut self) {
        *self = History::default();
    }

    /// Append the worker's per-step rows: batch loss and the per-layer gradient, update, saturation
    /// and dead-unit fractions.
    pub fn add_steps(&mut self, rows: &[StepRow]) {
        for r in rows {
            let x = r.step as f64;
            self.batch_loss.push(x, r.batch_loss);
            let n = r.layers.len();
            for v in [
                &mut self.grad,
                &mut self.update,
                &mut self.saturated,
                &mut self.dead,
            ] {
                push_layers(v, n);
            }
            for (i, l) in r.layers.iter().enumerate() {
                let ratio = if l.weight_norm > 0.0 {
                    l.update_norm / l.weight_norm
                } else {
                    f64::NAN
                };
                self.grad[i].push(x, l.grad_norm);
                self.update[i].push(x, ratio);
                self.saturated[i].push(x, l.saturated);
                self.dead[i].push(x, l.dead);
            }
        }
    }

    /// Append an evaluation at `step`, replacing any earlier one at the same step (a pause or
    /// snapshot evaluates again).
    pub fn add_eval(&mut self, step: u64, e: Evaluation) {
        let x = step as f64;
        let evals = [
            &mut self.train_loss,
            &mut self.test_loss,
            &mut self.train_acc,
            &mut self.test_acc,
            &mut self.train_r2,
            &mut self.test_r2,
        ];
        let values = [
            e.train_loss,
            e.test_loss,
            e.train_accuracy,
            e.test_accuracy,
            e.train_r2,
            e.test_r2,
        ];
        for (series, y) in evals.into_iter().zip(values) {
            // Same step evaluated again (pause, snapshot): replace.
            series.truncate_from(x);
            series.push(x, y);
        }
        self.last_eval = Some(e);
    }

    /// Keep only the step rows whose step is a multiple of `stride`.
    pub fn decimate(&mut self, stride: u64) {
        let keep = |p: &PlotPoint| (p.x as u64).is_multiple_of(stride);
        self.batch_loss.retain(keep);
        for v in [
            &mut self.grad,
            &mut self.update,
            &mut self.saturated,
            &mut self.dead,
        ] {
            for s in v.iter_mut() {
                s.retain(keep);
            }
        }
        // Evaluations arrive ~20 per second; thin them the same way when they pile up.
        if self.train_loss.len() > 4000 {
            for v in [
                &mut self.train_loss,
                &mut self.test_loss,
                &mut self.train_acc,
                &mut self.test_acc,
                &mut self.train_r2,
                &mut self.test_r2,
            ] {
                v.thin_half();
            }
        }
    }
}

/// Append `record`, taken at `step`, to an analysis tile's series (the Spectral-bias and Collapse
/// tiles follow training this way): a step back (the timeline, a reset) starts the series again
/// from there, and past `max` records every other one is dropped (the first and the newest are
/// kept), so a long run keeps a thinned sample of bounded size.
pub(crate) fn push_record<T>(series: &mut Vec<T>, record: T, step: impl Fn(&T) -> u64, max: usize) {
    let at = step(&record);
    if series.last().is_some_and(|r| step(r) >= at) {
        series.retain(|r| step(r) < at);
    }
    series.push(record);
    if series.len() > max {
        let (mut k, len) = (0, series.len());
        series.retain(|_| {
            k += 1;
            k % 2 == 1 || k == len
        });
    }
}

#[cfg(test)]
mod tests {
    use super::push_record;

    #[test]
    fn a_step_back_restarts_the_series_and_a_long_one_is_thinned() {
        let mut s: Vec<u64> = Vec::new();
        for step in [0, 10, 20, 30] {
            push_record(&mut s, step, |r| *r, 100);
        }
        // The timeline went back to step 15: the records from 20 on are gone.
        push_record(&mut s, 15, |r| *r, 100);
        assert_eq!(s, [0, 10, 15]);
        push_record(&mut s, 10, |r| *r, 100);
        assert_eq!(s, [0, 10]);
        // Past the bound every other record goes, the first kept.
        let mut t: Vec<u64> = Vec::new();
        for step in 0..5 {
            push_record(&mut t, step, |r| *r, 4);
        }
        assert_eq!(t, [0, 2, 4]);
        // The record just taken stays, whatever the parity of the bound.
        let mut u: Vec<u64> = Vec::new();
        for step in 0..4 {
            push_record(&mut u, step, |r| *r, 3);
        }
        assert_eq!(u, [0, 2, 3]);
    }
}
