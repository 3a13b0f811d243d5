//! Metric histories as `Vec<PlotPoint>` so plots borrow them without copying.

use egui_plot::PlotPoint;

use crate::train::Evaluation;
use crate::train::worker::StepRow;

#[derive(Default)]
pub struct History {
    pub batch_loss: Vec<PlotPoint>,
    pub train_loss: Vec<PlotPoint>,
    pub test_loss: Vec<PlotPoint>,
    pub train_acc: Vec<PlotPoint>,
    pub test_acc: Vec<PlotPoint>,
    /// Per layer.
    pub grad: Vec<Vec<PlotPoint>>,
    pub update: Vec<Vec<PlotPoint>>,
    pub saturated: Vec<Vec<PlotPoint>>,
    pub dead: Vec<Vec<PlotPoint>>,
    /// Same series with log10(y) (NaN-free), for log axes.
    pub log_batch_loss: Vec<PlotPoint>,
    pub log_train_loss: Vec<PlotPoint>,
    pub log_test_loss: Vec<PlotPoint>,
    pub log_grad: Vec<Vec<PlotPoint>>,
    pub log_update: Vec<Vec<PlotPoint>>,
    pub last_eval: Option<Evaluation>,
}

fn log_point(x: f64, y: f64) -> Option<PlotPoint> {
    (y.is_finite() && y > 0.0).then(|| PlotPoint::new(x, y.log10()))
}

fn push_layers(v: &mut Vec<Vec<PlotPoint>>, n: usize) {
    if v.len() < n {
        v.resize_with(n, Vec::new);
    }
}

impl History {
    pub fn clear(&mut self) {
        *self = History::default();
    }

    pub fn add_steps(&mut self, rows: &[StepRow]) {
        for r in rows {
            let x = r.step as f64;
            if r.batch_loss.is_finite() {
                self.batch_loss.push(PlotPoint::new(x, r.batch_loss));
            }
            if let Some(p) = log_point(x, r.batch_loss) {
                self.log_batch_loss.push(p);
            }
            let n = r.layers.len();
            for v in [
                &mut self.grad,
                &mut self.update,
                &mut self.saturated,
                &mut self.dead,
                &mut self.log_grad,
                &mut self.log_update,
            ] {
                push_layers(v, n);
            }
            for (i, l) in r.layers.iter().enumerate() {
                let ratio = if l.weight_norm > 0.0 {
                    l.update_norm / l.weight_norm
                } else {
                    f64::NAN
                };
                if l.grad_norm.is_finite() {
                    self.grad[i].push(PlotPoint::new(x, l.grad_norm));
                }
                if ratio.is_finite() {
                    self.update[i].push(PlotPoint::new(x, ratio));
                }
                self.saturated[i].push(PlotPoint::new(x, l.saturated));
                self.dead[i].push(PlotPoint::new(x, l.dead));
                if let Some(p) = log_point(x, l.grad_norm) {
                    self.log_grad[i].push(p);
                }
                if let Some(p) = log_point(x, ratio) {
                    self.log_update[i].push(p);
                }
            }
        }
    }

    pub fn add_eval(&mut self, step: u64, e: Evaluation) {
        let x = step as f64;
        if self.train_loss.last().is_some_and(|p| p.x >= x) {
            // Same step evaluated again (pause, snapshot): replace.
            for v in [
                &mut self.train_loss,
                &mut self.test_loss,
                &mut self.train_acc,
                &mut self.test_acc,
                &mut self.log_train_loss,
                &mut self.log_test_loss,
            ] {
                while v.last().is_some_and(|p| p.x >= x) {
                    v.pop();
                }
            }
        }
        let put = |v: &mut Vec<PlotPoint>, y: f64| {
            if y.is_finite() {
                v.push(PlotPoint::new(x, y));
            }
        };
        put(&mut self.train_loss, e.train_loss);
        put(&mut self.test_loss, e.test_loss);
        put(&mut self.train_acc, e.train_accuracy);
        put(&mut self.test_acc, e.test_accuracy);
        if let Some(p) = log_point(x, e.train_loss) {
            self.log_train_loss.push(p);
        }
        if let Some(p) = log_point(x, e.test_loss) {
            self.log_test_loss.push(p);
        }
        self.last_eval = Some(e);
    }

    /// Keep only the step rows whose step is a multiple of `stride`.
    pub fn decimate(&mut self, stride: u64) {
        let keep = |p: &PlotPoint| (p.x as u64).is_multiple_of(stride);
        self.batch_loss.retain(keep);
        self.log_batch_loss.retain(keep);
        for v in [
            &mut self.grad,
            &mut self.update,
            &mut self.saturated,
            &mut self.dead,
            &mut self.log_grad,
            &mut self.log_update,
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
                &mut self.log_train_loss,
                &mut self.log_test_loss,
            ] {
                let mut i = 0;
                v.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
            }
        }
    }
}
