//! Errors are values: one clear line that names the field (or file) and what is wrong.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// One line: `network.layers[1].units must be at least 1`.
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
        }
    }

    /// `field` + `: ` + what is wrong, e.g. `Error::field("optimizer.lr", "must be positive")`.
    pub fn field(field: &str, what: impl fmt::Display) -> Self {
        Error::new(format!("{field} {what}"))
    }

    /// Prefix the message with where it came from (a file name).
    pub fn context(self, prefix: impl fmt::Display) -> Self {
        Error::new(format!("{prefix}: {}", self.message))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
