//! Record a training run into a session file, then replay it from step 0 and check that every
//! recorded number comes back bit for bit. Run with
//! `cargo run --release --example replay_session [SESSION]` (default sessions/spiral.json).

use std::path::PathBuf;

use nnlab::session::{self, Recorder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sessions/spiral.json"));
    let loaded = session::load(&path)?;
    let mut trainer = session::trainer(&loaded)?;
    let mut recorder = Recorder::resume(&loaded.session, &trainer);
    for _ in 0..2000 {
        let report = trainer.step();
        recorder.record_step(&report, &trainer);
        if trainer.step % 250 == 0 {
            let e = trainer.evaluate();
            recorder.record_evaluation(trainer.step, &e);
        }
        if recorder.checkpoint_due(trainer.step) {
            recorder.checkpoint(&trainer);
        }
    }
    let mut recorded = loaded.session.clone();
    recorder.write_into(&mut recorded, &trainer);
    let out = std::env::temp_dir().join(format!("nnlab-replay-{}.json", std::process::id()));
    session::save(&out, &recorded)?;
    println!("recorded {} steps into {}", trainer.step, out.display());

    let report = session::verify(&session::load(&out)?)?;
    std::fs::remove_file(&out)?;
    println!(
        "replayed {} steps: {} step reports, {} evaluations, {} checkpoints compared",
        report.steps, report.step_reports, report.evaluations, report.checkpoints
    );
    match report.mismatch {
        None => {
            println!("bit-identical");
            Ok(())
        }
        Some(m) => Err(format!(
            "step {}: {} recorded {} but re-ran to {}",
            m.step, m.field, m.recorded, m.recomputed
        )
        .into()),
    }
}
