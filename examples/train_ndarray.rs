//! Train a network on a data set held in ndarray arrays, then read its predictions back as an
//! ndarray. Run with `cargo run --release --example train_ndarray`.
//!
//! The data: two interleaved half circles ("moons"), built here with ndarray, with no nnlab
//! generator involved. The network: 2-16-16-1 tanh with a sigmoid output, cross-entropy, Adam.

use ndarray::{Array1, Array2};
use nnlab::data::{self, Dataset};
use nnlab::net::Activation;
use nnlab::net::spec::{LayerSpec, Loss, NetworkSpec};
use nnlab::optim::spec::{OptimizerKind, OptimizerSpec, Regularization};
use nnlab::train::{Trainer, TrainerConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 400 points on two half circles, class 0 above and class 1 below, shifted so they interleave.
    let n = 400;
    let mut x = Array2::<f64>::zeros((n, 2));
    let mut y = Array1::<f64>::zeros(n);
    for i in 0..n {
        let class = i % 2;
        let t = std::f64::consts::PI * (i / 2) as f64 / (n / 2 - 1) as f64;
        let (a, b) = if class == 0 {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        };
        // Centre and scale into about [-1, 1]².
        x[[i, 0]] = (a - 0.5) / 1.5;
        x[[i, 1]] = (b - 0.25) / 1.5;
        y[i] = class as f64;
    }
    let all = Dataset::from_arrays(x.view(), y.view(), None)?;
    // A stratified 75/25 split, seeded: the same seed gives the same split.
    let (train, test) = data::split(&all, 0.25, 7);

    let mut out = LayerSpec::new(1, Activation::Sigmoid);
    out.dropout = 0.0;
    let config = TrainerConfig {
        seed: 7,
        network: NetworkSpec::new(
            2,
            vec![
                LayerSpec::new(16, Activation::Tanh),
                LayerSpec::new(16, Activation::Tanh),
                out,
            ],
        ),
        loss: Loss::Bce,
        optimizer: OptimizerSpec::new(OptimizerKind::Adam, 0.01, 32),
        regularization: Regularization::default(),
    };
    let mut trainer = Trainer::new(&config, train, test, None)?;
    for _ in 0..3000 {
        trainer.step();
    }
    let e = trainer.evaluate();
    println!(
        "after {} steps: train accuracy {:.3}, test accuracy {:.3}, test loss {:.2e}",
        trainer.step, e.train_accuracy, e.test_accuracy, e.test_loss
    );

    // Predictions for the test inputs, as an ndarray column: P(class 1) per row.
    let test_x = trainer.test.x_view().to_owned();
    let rows = test_x.nrows();
    let p = Array1::from(trainer.predict(test_x.as_slice().expect("row-major"), rows));
    let agree = p
        .iter()
        .zip(trainer.test.y_view())
        .filter(|(p, y)| (**p > 0.5) == (**y == 1.0))
        .count();
    println!("{agree} of {rows} test points on the right side of p = 0.5");
    if e.test_accuracy < 0.95 {
        return Err(format!(
            "the moons should be learned (test accuracy {})",
            e.test_accuracy
        )
        .into());
    }
    Ok(())
}
