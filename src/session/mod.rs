//! Sessions: the only module that touches files. Versioned JSON, validated before anything
//! is built, written atomically.

pub mod spec;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::data::spec::DataSource;
use crate::data::{self, Dataset};
use crate::error::{Error, Result};
use crate::net::network::Network;
use crate::train::Trainer;
pub use spec::{FORMAT_VERSION, Session};

/// Largest session or CSV file read (bytes).
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// Largest batch × layer width held in memory at once (f64 elements).
pub const MAX_BATCH_ELEMENTS: usize = 200_000_000;

/// A short name for messages: the file name.
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn read_text(path: &Path) -> Result<String> {
    let name = display_name(path);
    let meta = std::fs::metadata(path).map_err(|e| Error::new(format!("{name}: {e}")))?;
    if meta.is_dir() {
        return Err(Error::new(format!("{name}: is a folder, not a file")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::new(format!(
            "{name}: {} bytes is too large (at most {MAX_FILE_BYTES})",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::new(format!("{name}: {e}")))?;
    String::from_utf8(bytes).map_err(|_| Error::new(format!("{name}: is not a text (UTF-8) file")))
}

/// Parse session JSON; errors name the field path (`network.layers[1].units: …`).
pub fn parse(text: &str) -> Result<Session> {
    if text.trim().is_empty() {
        return Err(Error::new("the file is empty"));
    }
    // The version is checked first so an unknown version gets the right message.
    let value: serde_json::Value = serde_json::from_str(text).map_err(json_error)?;
    match value.get("nnlab") {
        None => {
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
    let de = value;
    serde_path_to_error::deserialize::<_, Session>(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." || path.is_empty() {
            Error::new(inner)
        } else {
            Error::new(format!("{path}: {inner}"))
        }
    })
}

fn json_error(e: serde_json::Error) -> Error {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => Error::new(format!(
            "the JSON ends too early (line {}): is the file truncated?",
            e.line()
        )),
        _ => Error::new(format!("invalid JSON: {e}")),
    }
}

/// A session with its data built, ready to train.
pub struct Loaded {
    pub session: Session,
    pub train: Dataset,
    pub test: Dataset,
    /// Where the file lives (CSV paths are relative to it).
    pub dir: Option<PathBuf>,
}

/// Read, parse and validate a session file and build its data.
pub fn load(path: &Path) -> Result<Loaded> {
    let name = display_name(path);
    let text = read_text(path)?;
    let session = parse(&text).map_err(|e| e.context(&name))?;
    let dir = path.parent().map(Path::to_path_buf);
    let (train, test) = build_data(&session, dir.as_deref()).map_err(|e| e.context(&name))?;
    validate_sizes(&session, &train).map_err(|e| e.context(&name))?;
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
    Ok(data::split(&ds, spec.test_fraction, seed))
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

/// Build the trainer of a loaded session.
pub fn trainer(loaded: &Loaded) -> Result<Trainer> {
    Trainer::new(
        &loaded.session.trainer_config(),
        loaded.train.clone(),
        loaded.test.clone(),
        loaded.session.params.clone(),
    )
}

/// Write `bytes` to `path` atomically: a temp file in the same folder, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = display_name(path);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::new(format!("{name}: could not save: {e}"))
    })
}

/// Save a session as pretty JSON, atomically.
pub fn save(path: &Path, session: &Session) -> Result<()> {
    let text = serde_json::to_string_pretty(session)
        .map_err(|e| Error::new(format!("could not encode the session: {e}")))?;
    write_atomic(path, text.as_bytes())
}
