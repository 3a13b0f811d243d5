//! Sessions recorded by the binary built before the core moved to ndarray (issue 14 §1) replay
//! bit for bit: `nnlab replay --verify` re-runs each from step 0 and compares every recorded
//! step row, evaluation, checkpoint and the final state.
//!
//! The fixtures (tests/fixtures/replay/, 200 steps each, evaluated every 20) were written with
//! `nnlab run SESSION --steps 200 --eval-every 20 --checkpoint-budget 40000 --out FIXTURE` by
//! that binary. Together they cover: Adam on a sigmoid/BCE classifier with fixed features
//! (spiral), momentum with clipping, BatchNorm, dropout and residual connections (moons), an
//! MSE regression with a cosine schedule (sawtooth), and a formula data set with formula
//! features, 32-unit GELU/tanh layers large enough for faer's GEMM, softmax cross-entropy and
//! L1 + L2 (formula).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nnlab::session;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/replay");

const NAMES: [&str; 4] = [
    "spiral_adam_features",
    "moons_bn_dropout_residual",
    "sawtooth_regression_adam",
    "formula_wide_adam",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(format!("{name}.json"))
}

fn verify(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nnlab"))
        .args(["replay", "--verify"])
        .arg(path)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn sessions_recorded_before_ndarray_replay_bit_identically() {
    for name in NAMES {
        let path = fixture(name);
        // The fixture really holds a recording to compare against.
        let s = session::load(&path).unwrap().session;
        assert_eq!(s.state.as_ref().unwrap().step, 200, "{name}");
        assert_eq!(s.history.len(), 200, "{name}");
        assert_eq!(s.history.evaluations.len(), 10, "{name}");
        let o = verify(&path);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o));
        assert!(
            text(&o).contains("bit-identical: 200 steps re-run"),
            "{name}: {}",
            text(&o)
        );
    }
}

/// The comparison is exact: the last recorded training loss of a fixture moved by one ulp
/// is a mismatch.
#[test]
fn a_one_ulp_change_to_a_fixture_is_a_mismatch() {
    let mut s = session::load(&fixture("formula_wide_adam"))
        .unwrap()
        .session;
    let e = s.history.evaluations.train_loss.last_mut().unwrap();
    *e = f64::from_bits(e.to_bits() + 1);
    let dir = std::env::temp_dir().join(format!("nnlab-replay-fixtures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("ulp.json");
    session::save(&bad, &s).unwrap();
    let o = verify(&bad);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("MISMATCH at step 200: history.evaluations.train_loss"),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
