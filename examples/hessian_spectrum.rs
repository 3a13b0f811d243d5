//! Load a session, train it a little, and compute the Hessian spectrum of its training
//! objective: every eigenvalue (dense) and the extreme ones by Lanczos, which must agree.
//! Run with `cargo run --release --example hessian_spectrum [SESSION]` (default
//! sessions/xor.json).

use std::path::PathBuf;

use nnlab::analysis::hessian::{self, Method, Options};
use nnlab::session;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sessions/xor.json"));
    let loaded = session::load(&path)?;
    let mut trainer = session::trainer(&loaded)?;
    for _ in 0..500 {
        trainer.step();
    }
    let loss = trainer.evaluate().train_loss;
    println!(
        "{}: {} parameters, loss {loss:.4} after {} steps",
        loaded.session.name, trainer.net.n_params, trainer.step
    );

    let problem = trainer.hessian_problem(false);
    let dense = hessian::analyse(
        problem,
        Options {
            method: Method::Dense,
            ..Options::default()
        },
    )?;
    println!(
        "dense:   λ_max {:.6e}  λ_min {:.6e}  {} negative  trace {:.6e}",
        dense.lambda_max, dense.lambda_min, dense.negative_count, dense.trace
    );
    let lanczos = hessian::analyse(
        problem,
        Options {
            method: Method::Lanczos,
            k: 3,
            ..Options::default()
        },
    )?;
    println!(
        "Lanczos: λ_max {:.6e}  λ_min {:.6e}  ({} Hessian-vector products)",
        lanczos.lambda_max, lanczos.lambda_min, lanczos.hessian_vector_products
    );
    let scale = dense.lambda_max.abs().max(dense.lambda_min.abs());
    let gap = (dense.lambda_max - lanczos.lambda_max)
        .abs()
        .max((dense.lambda_min - lanczos.lambda_min).abs());
    println!(
        "largest difference at the ends: {:.1e} of max|λ|",
        gap / scale
    );
    if gap > 1e-6 * scale {
        return Err("dense and Lanczos disagree at the ends of the spectrum".into());
    }
    Ok(())
}
