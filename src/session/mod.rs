//! Sessions: the only module that touches files. Versioned JSON, validated before anything
//! is built, written atomically.

pub mod analysis;
mod bounded;
pub mod exercise;
pub mod files;
mod format;
pub mod history;
pub mod recorder;
pub mod replay;
pub mod spec;

use std::path::{Path, PathBuf};

use crate::data::spec::DataSource;
use crate::data::{self, Dataset};
use crate::error::{Error, Result};
use crate::net::network::Network;
use crate::optim::spec::TrainingRule;
use crate::train::trainer::{MAX_STEP, check_state_shape};
pub use crate::train::{Edit, LiveEdit, TrainerState as State};
use crate::train::{Trainer, TrainerState};
pub use analysis::{Analysis, LandscapeResult, SpectrumResult};
pub use files::{check_writable, write_atomic};
pub use history::{EvalColumns, History, LayerColumns};
pub use recorder::{DEFAULT_CHECKPOINT_BUDGET, Recorder};
pub use replay::{Mismatch, Report, fork, state_at, verify};
pub use spec::{FORMAT_VERSION, Session};

/// Largest CSV file read (bytes).
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// Largest session file read or written (bytes): 512 MiB holds every session of a network
/// within [`crate::net::network::MAX_PARAMS`] at the largest checkpoint budget: at 2M
/// parameters with Adam, θ, θ₀ and the state take ~107 MB in the binary form, the checkpoints
/// at most 134 MB, the history at most 171 MB (`recorder::MAX_HISTORY_VALUES`).
pub const MAX_SESSION_BYTES: u64 = 1 << 29;
/// Largest checkpoint budget (bytes) a session may ask for.
pub const MAX_CHECKPOINT_BUDGET: u64 = 128 << 20;
/// Most checkpoints a session may hold.
pub const MAX_CHECKPOINTS: usize = 10_000;
/// Most live edits a session may hold.
pub const MAX_EDITS: usize = 1_000_000;
/// Most stored analyses.
pub const MAX_ANALYSES: usize = 10_000;
/// Largest batch × layer width held in memory at once (f64 elements).
pub const MAX_BATCH_ELEMENTS: usize = 200_000_000;

/// A short name for messages: the file name.
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn read_text(path: &Path) -> Result<String> {
    read_text_limited(path, MAX_FILE_BYTES)
}

fn read_text_limited(path: &Path, max: u64) -> Result<String> {
    let bytes = files::read_limited(path, max)?;
    String::from_utf8(bytes).map_err(|_| {
        Error::new(format!(
            "{}: is not a text (UTF-8) file",
            display_name(path)
        ))
    })
}

/// Parse session JSON (any version this build reads, migrated to the current one); errors
/// name the field path (`network.layers[1].units: …`). Only the structure is checked here;
/// [`validate`] checks the recorded sections against the network.
pub fn parse(text: &str) -> Result<Session> {
    // Some editors start a UTF-8 file with a byte-order mark; JSON does not allow one.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(Error::new("the file is empty"));
    }
    // The version is read first (skipping everything else without building it) so an unknown
    // version gets the right message.
    check_depth(text)?;
    if !text.trim_start().starts_with('{') {
        return Err(Error::new(
            "this is not an nnlab session (the top level is not a JSON object)",
        ));
    }
    #[derive(serde::Deserialize)]
    struct Probe {
        nnlab: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_str(text).map_err(json_error)?;
    match probe.nnlab {
        None | Some(serde_json::Value::Null) => {
            return Err(Error::new(
                "this is not an nnlab session (no \"nnlab\" version field)",
            ));
        }
        Some(v) => match v.as_u64() {
            Some(v) if v >= 1 && v <= FORMAT_VERSION as u64 => {}
            Some(v) => {
                return Err(Error::field(
                    "nnlab",
                    format!(
                        "version {v} is not supported (this build reads 1 to {FORMAT_VERSION})"
                    ),
                ));
            }
            None => return Err(Error::field("nnlab", "must be the format version number")),
        },
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    let mut session: Session = serde_path_to_error::deserialize(de).map_err(|e| {
        let mut path = e.path().to_string();
        // A deeply nested value has a path as long as its depth: keep the message one short line.
        if let Some((i, _)) = path.char_indices().nth(80) {
            path.truncate(i);
            path.push('…');
        }
        let inner = e.into_inner();
        if inner.classify() == serde_json::error::Category::Eof {
            return json_error(inner);
        }
        let inner = inner.to_string();
        if path == "." || path.is_empty() {
            Error::new(inner)
        } else {
            Error::new(format!("{path}: {inner}"))
        }
    })?;
    // Version 1 is version 2 without the recorded sections: nothing else to migrate.
    session.nnlab = FORMAT_VERSION;
    check_structure(&session)?;
    Ok(session)
}

/// Checks that need no network: counts, column lengths, steps in order.
fn check_structure(s: &Session) -> Result<()> {
    for (name, len, max) in [
        ("checkpoints", s.checkpoints.len(), MAX_CHECKPOINTS),
        ("edits", s.edits.len(), MAX_EDITS),
        ("analyses", s.analyses.len(), MAX_ANALYSES),
    ] {
        if len > max {
            return Err(Error::field(
                name,
                format!("has {len} entries (at most {max})"),
            ));
        }
    }
    if let Some(b) = s.checkpoint_budget.filter(|&b| b > MAX_CHECKPOINT_BUDGET) {
        return Err(Error::field(
            "checkpoint_budget",
            format!("is {b} bytes (at most {MAX_CHECKPOINT_BUDGET})"),
        ));
    }
    for (name, step) in [
        ("state.step", s.state.as_ref().map(|st| st.step)),
        ("history.step", s.history.last_step()),
        (
            "history.evaluations.step",
            s.history.evaluations.step.last().copied(),
        ),
        ("checkpoints", s.checkpoints.last().map(|c| c.step)),
        ("edits", s.edits.last().map(|e| e.step)),
    ] {
        if let Some(step) = step.filter(|&st| st > MAX_STEP) {
            return Err(Error::field(
                name,
                format!("records step {step}, beyond the {MAX_STEP} steps a session may have"),
            ));
        }
    }
    if let Some(i) =
        (1..s.checkpoints.len()).find(|&i| s.checkpoints[i].step <= s.checkpoints[i - 1].step)
    {
        return Err(Error::field(
            &format!("checkpoints[{i}].step"),
            "must be larger than the step of the checkpoint before it",
        ));
    }
    if let Some(i) = (1..s.edits.len()).find(|&i| s.edits[i].step < s.edits[i - 1].step) {
        return Err(Error::field(
            &format!("edits[{i}].step"),
            "is smaller than the step of the edit before it: edits must be in order",
        ));
    }
    if let Some(state) = &s.state {
        let last = s.last_step();
        if state.step < last {
            return Err(Error::field(
                "state.step",
                format!("is {} but the session records step {last}", state.step),
            ));
        }
        if let Some(e) = s.edits.last()
            && e.step > state.step
        {
            return Err(Error::field(
                "edits",
                format!(
                    "has an edit at step {} after the state's step {}",
                    e.step, state.step
                ),
            ));
        }
    }
    Ok(())
}

/// Check the recorded sections against the network (`n_params` parameters, `layers` layers)
/// and the `rows` training rows: every θ, moment vector and permutation the right length.
pub fn validate(s: &Session, n_params: usize, layers: usize, rows: usize) -> Result<()> {
    check_structure(s)?;
    let rule: TrainingRule = s.optimizer.effective_rule();
    if let Some(p) = &s.initial_params {
        if p.len() != n_params {
            return Err(Error::field(
                "initial_params",
                format!(
                    "has {} values but the network has {n_params} parameters",
                    p.len()
                ),
            ));
        }
        if let Some(i) = p.iter().position(|v| !v.is_finite()) {
            return Err(Error::field(
                &format!("initial_params[{i}]"),
                "is not a finite number",
            ));
        }
    }
    if let Some(p) = &s.params
        && p.len() != n_params
    {
        return Err(Error::field(
            "params",
            format!(
                "has {} values but the network has {n_params} parameters",
                p.len()
            ),
        ));
    }
    if let Some(st) = &s.state {
        check_state_shape(st, n_params, rows, rule, "state")?;
    }
    for (i, c) in s.checkpoints.iter().enumerate() {
        check_state_shape(c, n_params, rows, rule, &format!("checkpoints[{i}]"))?;
    }
    s.history.check(layers)?;
    for (i, e) in s.edits.iter().enumerate() {
        let what = format!("edits[{i}]");
        match &e.edit {
            crate::train::Edit::Optimizer { spec } => {
                crate::optim::validate(spec).map_err(|err| err.context(&what))?;
                if spec.effective_rule() != rule {
                    return Err(Error::field(&what, "changes the training rule"));
                }
            }
            crate::train::Edit::Regularization { regularization } => {
                crate::optim::validate_regularization(regularization)
                    .map_err(|err| err.context(&what))?;
            }
            crate::train::Edit::Weight { index, value } => {
                if *index >= n_params || !value.is_finite() {
                    return Err(Error::field(
                        &what,
                        format!(
                            "sets θ[{index}] = {value}: needs an index below {n_params} and a finite value"
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Deepest nesting of arrays and objects a session may have (serde_json's own limit when it
/// builds values; it skips unknown fields without one, so it is checked here for all).
pub const MAX_DEPTH: usize = 128;

/// Refuse nesting deeper than [`MAX_DEPTH`] anywhere in the text, unknown fields included.
fn check_depth(text: &str) -> Result<()> {
    let (mut depth, mut line) = (0usize, 1usize);
    let (mut in_string, mut escaped) = (false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Error::new(format!(
                        "invalid JSON: nested more than {MAX_DEPTH} levels deep (line {line})"
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => line += 1,
            _ => {}
        }
    }
    Ok(())
}

fn json_error(e: serde_json::Error) -> Error {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => Error::new(format!(
            "the JSON ends too early (line {}): is the file truncated?",
            e.line()
        )),
        Category::Data => Error::new(format!("invalid session: {e}")),
        _ => Error::new(format!("invalid JSON: {e}")),
    }
}

/// A session with its data built, ready to train.
pub struct Loaded {
    /// The session as read and validated.
    pub session: Session,
    /// Its training rows (after the split).
    pub train: Dataset,
    /// Its held-out test rows (empty when `test_fraction` is 0).
    pub test: Dataset,
    /// Where the file lives (CSV paths are relative to it).
    pub dir: Option<PathBuf>,
}

/// Read, parse and validate a session file and build its data.
pub fn load(path: &Path) -> Result<Loaded> {
    let name = display_name(path);
    let text = read_text_limited(path, MAX_SESSION_BYTES)?;
    let mut session = parse(&text).map_err(|e| e.context(&name))?;
    // A CSV path is relative to the folder of the file itself (through a link, the file it
    // names), as `save` writes it.
    let dir = files::absolute_target(path)
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .or_else(|| path.parent().map(Path::to_path_buf));
    let (train, test) = build_data(&session, dir.as_deref()).map_err(|e| e.context(&name))?;
    // In memory a CSV is known by where it is, so the session can be saved anywhere (the
    // recovery file, `--out` in another folder); `save` writes it relative again.
    if let Some(csv) = session.data.csv_path() {
        let full = dir.as_deref().map_or(csv.clone(), |d| d.join(&csv));
        if let Some(abs) = files::absolute_target(&full) {
            session.data.path = Some(abs.display().to_string());
        }
    }
    validate_sizes(&session, &train).map_err(|e| e.context(&name))?;
    let net = Network::build(&session.network, session.loss).map_err(|e| e.context(&name))?;
    validate(&session, net.n_params, net.layers.len(), train.rows())
        .map_err(|e| e.context(&name))?;
    if let Some(stop) = &session.stop {
        stop.validate(test.rows(), train.task == data::spec::Task::Classification)
            .map_err(|e| e.context(&name))?;
    }
    Ok(Loaded {
        session,
        train,
        test,
        dir,
    })
}

/// The data of a session: generated, inline, or read from its CSV (relative to `dir`).
pub fn build_data(session: &Session, dir: Option<&Path>) -> Result<(Dataset, Dataset)> {
    let spec = &session.data;
    data::validate(spec)?;
    // Validate the network before generating anything large.
    Network::build(&session.network, session.loss)?;
    let ds = if spec.source == DataSource::Csv {
        let rel = spec
            .path
            .as_deref()
            .ok_or_else(|| Error::field("data.path", "is required for source csv"))?;
        let full = match dir {
            Some(d) => d.join(rel),
            None => PathBuf::from(rel),
        };
        let text = read_text(&full).map_err(|e| e.context("data.path"))?;
        data::from_csv(&text, &display_name(&full), spec.task)?
    } else {
        data::generate(spec, session.seed)?
    };
    let seed = spec.seed.unwrap_or(session.seed);
    Ok(data::split_for(spec, &ds, seed))
}

/// Refuse experiments whose per-step buffers would not fit in memory.
pub fn validate_sizes(session: &Session, train: &Dataset) -> Result<()> {
    let widest = session
        .network
        .layers
        .iter()
        .map(|l| l.units)
        .chain([session.network.inputs])
        .max()
        .unwrap_or(1);
    let rows = train.rows();
    if rows.saturating_mul(widest) > MAX_BATCH_ELEMENTS {
        return Err(Error::field(
            "network.layers",
            format!(
                "{rows} rows × {widest} units per pass is too large (at most {MAX_BATCH_ELEMENTS} values)"
            ),
        ));
    }
    Ok(())
}

/// Build the trainer of a loaded session where it stands: at its `state` when it has one
/// (resumed exactly), otherwise at step 0 from `params` or the initialiser.
pub fn trainer(loaded: &Loaded) -> Result<Trainer> {
    match &loaded.session.state {
        Some(state) => trainer_with_state(loaded, state),
        None => Trainer::new(
            &loaded.session.trainer_config(),
            loaded.train.clone(),
            loaded.test.clone(),
            loaded.session.params.clone(),
        ),
    }
}

/// The session's trainer at step 0, where a replay starts (θ from [`Session::start_params`]).
pub fn initial_trainer(loaded: &Loaded) -> Result<Trainer> {
    Trainer::new(
        &loaded.session.trainer_config(),
        loaded.train.clone(),
        loaded.test.clone(),
        loaded.session.start_params().cloned(),
    )
}

/// The session's trainer restored to `state` (a checkpoint, or the session's state).
pub fn trainer_with_state(loaded: &Loaded, state: &TrainerState) -> Result<Trainer> {
    let mut t = Trainer::new(
        &loaded.session.trainer_config(),
        loaded.train.clone(),
        loaded.test.clone(),
        None,
    )?;
    t.restore_state(state)?;
    Ok(t)
}

/// The session as JSON text: objects indented one field a line, arrays on one line (a θ of
/// thousands of numbers stays one line, not thousands).
pub fn to_json(session: &Session) -> Result<String> {
    format::to_string(session).map_err(|e| Error::new(format!("could not encode the session: {e}")))
}

/// Save a session as JSON ([`to_json`]), atomically. What is written must load again: the
/// session is checked as a load would check it, a session too large to read back is refused,
/// and so is a save over the session's own CSV data. A CSV path is written relative to the
/// new file when the CSV lies in its folder (the two move together), else absolute.
pub fn save(path: &Path, session: &Session) -> Result<()> {
    let name = display_name(path);
    check_savable(session).map_err(|e| e.context(format!("{name}: not saved")))?;
    let rebased;
    let session = match session.data.csv_path() {
        Some(csv) if csv.is_absolute() => {
            if files::same_file(path, &csv) {
                return Err(Error::new(format!(
                    "{name}: is the session's own CSV data; saving over it would destroy the data"
                )));
            }
            let mut s = session.clone();
            s.data.path = Some(csv_path_from(path, &csv));
            rebased = s;
            &rebased
        }
        _ => session,
    };
    let text = to_json(session)?;
    if text.len() as u64 > MAX_SESSION_BYTES {
        return Err(Error::new(format!(
            "{name}: the session would be {} bytes, more than the {MAX_SESSION_BYTES} a session may have; lower checkpoint_budget",
            text.len()
        )));
    }
    write_atomic(path, text.as_bytes())
}

/// How a session saved at `session_path` names the CSV at `csv` (absolute): relative when
/// the CSV is in the session's folder or below it, else absolute.
fn csv_path_from(session_path: &Path, csv: &Path) -> String {
    let dir = files::absolute_target(session_path).and_then(|p| p.parent().map(Path::to_path_buf));
    match dir.and_then(|d| csv.strip_prefix(d).ok().map(Path::to_path_buf)) {
        Some(rel) => rel.display().to_string(),
        None => csv.display().to_string(),
    }
}

/// The checks a load makes of the recorded sections, made before writing (the data rows are
/// taken from the recorded permutation, which the load then checks against the data).
fn check_savable(s: &Session) -> Result<()> {
    let net = Network::build(&s.network, s.loss)?;
    let rows = s
        .state
        .iter()
        .chain(&s.checkpoints)
        .map(|st| st.perm.len())
        .next()
        .unwrap_or(0);
    validate(s, net.n_params, net.layers.len(), rows)
}
