//! `nnlab replay`: check a recorded session bit for bit, or fork it at a step.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::session;

use super::progress::Progress;

/// What `nnlab replay` does: verify, or fork at a step.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// Re-run from step 0 (live edits included) and compare every recorded number bit for bit.
    /// Exit 0 when identical, 1 on the first mismatch.
    #[arg(long)]
    pub verify: bool,
    /// Write the session as it stood at this step (a fork: recording truncated, state at the
    /// step) to --out.
    #[arg(long, requires = "out")]
    pub to: Option<u64>,
    /// Where --to writes the forked session.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `nnlab replay`: returns the process's exit code (0 identical or written, 1 on a mismatch).
pub fn replay(path: &Path, args: &ReplayArgs) -> Result<i32> {
    if !args.verify && args.to.is_none() {
        return Err(Error::new(
            "replay needs --verify, or --to STEP --out FILE (see nnlab replay --help)",
        ));
    }
    if args.out.is_some() && args.to.is_none() {
        return Err(Error::field("--out", "needs --to STEP"));
    }
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    // A bad output path is found before the re-run, not after it.
    if let Some(out) = &args.out {
        session::check_writable(out, "--out")?;
    }
    let mut code = 0;
    if args.verify {
        let mut p = Progress::new(format!("{name}: verify"));
        let r = session::replay::verify_reporting(&loaded, &mut |done, total| {
            p.count("steps re-run", done, total)
        })
        .map_err(|e| e.context(&name))?;
        match &r.mismatch {
            None => println!(
                "{name}: bit-identical: {} steps re-run; compared {} step reports, {} evaluations, {} checkpoints{}; {} edits applied",
                r.steps,
                r.step_reports,
                r.evaluations,
                r.checkpoints,
                if r.state { " and the final state" } else { "" },
                r.edits
            ),
            Some(m) => {
                println!(
                    "{name}: MISMATCH at step {}: {} recorded {} but the re-run gives {}",
                    m.step, m.field, m.recorded, m.recomputed
                );
                code = 1;
            }
        }
    }
    if let (Some(step), Some(out)) = (args.to, &args.out) {
        let mut p = Progress::new(format!("{name}: replay to step {step}"));
        let forked = session::replay::fork_reporting(&loaded, step, &mut |done, total| {
            p.count("steps re-run", done, total)
        })
        .map_err(|e| e.context(&name))?;
        session::save(out, &forked)?;
        println!(
            "{}: the session at step {step} (fork of {name})",
            session::display_name(out)
        );
    }
    Ok(code)
}
