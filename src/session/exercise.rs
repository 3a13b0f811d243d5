//! The whole reading pipeline, from text, for fuzzing and robustness tests: parse, build the
//! data, validate, and — if everything passes — use the session (train a few steps, evaluate,
//! verify the replay, restore a mid-way state, and write it out and read it back). Whatever
//! the input, this returns Ok or an error with a message; a panic, an abort or a hang is a bug.
//! Sessions that ask for much work (large data, long replays, wide networks) are only parsed,
//! not used, so one input stays cheap.

use crate::error::{Error, Result};
use crate::net::network::Network;

use super::{Loaded, build_data, parse, validate, validate_sizes};

/// Parse and check `text` like [`super::load`] (CSV paths relative to the working folder);
/// if it loads and is small, use it as the app would.
pub fn session_text(text: &str) -> Result<()> {
    let s = parse(text)?;
    let small = s.data.n <= 5000 && s.last_step() <= 2000;
    let net = Network::build(&s.network, s.loss)?;
    if !small || net.n_params > 100_000 {
        return Ok(());
    }
    let (train, test) = build_data(&s, None)?;
    validate_sizes(&s, &train)?;
    validate(&s, net.n_params, net.layers.len(), train.rows())?;
    if train.rows().saturating_mul(net.widest()) > 1_000_000 {
        return Ok(());
    }
    let loaded = Loaded {
        session: s,
        train,
        test,
        dir: None,
    };
    let mut t = super::trainer(&loaded)?;
    for _ in 0..3 {
        t.step();
    }
    let _ = t.evaluate();
    let half = loaded.session.last_step() / 2;
    super::verify(&loaded)?;
    super::state_at(&loaded, half)?;
    // What nnlab writes of a session it loaded and trained must be savable and read back the
    // same: a failure here is a bug (so it panics, for the fuzzer to report), not bad input.
    let rec = super::Recorder::resume(&loaded.session, &t);
    let mut written = loaded.session.clone();
    rec.write_into(&mut written, &t);
    if let Err(e) = super::check_savable(&written) {
        panic!("nnlab would refuse to save a session it loaded and trained: {e}");
    }
    let text = super::to_json(&written)?;
    match parse(&text) {
        Ok(back) => assert!(
            super::to_json(&back)? == text,
            "a session nnlab wrote reads back different"
        ),
        Err(e) => panic!("a session nnlab wrote does not read back: {e}"),
    }
    Ok(())
}

/// Read `text` as a CSV data file, guessing the task and forcing each one.
pub fn csv_text(text: &str) -> Result<()> {
    use crate::data::spec::Task;
    let mut first = None;
    for task in [None, Some(Task::Classification), Some(Task::Regression)] {
        if let Err(e) = crate::data::from_csv(text, "fuzz.csv", task) {
            if e.message.trim().is_empty() {
                return Err(Error::new("an empty error message"));
            }
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}
