//! Errors are values: one clear line that names the field (or file) and what is wrong.

use std::fmt;

/// A problem to show a person: the field or file it concerns and what is wrong, in one line.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// One line: `network.layers[1].units must be at least 1`.
    pub message: String,
}

/// The result of anything in nnlab that can fail on bad input.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error with this message. Control characters (a NUL or a line break echoed from a
    /// broken file) are shown escaped, so the message stays one printable line.
    pub fn new(message: impl Into<String>) -> Self {
        let mut message = message.into();
        if message.chars().any(char::is_control) {
            message = message
                .chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
        }
        Error { message }
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

#[cfg(test)]
mod tests {
    #[test]
    fn messages_are_one_printable_line() {
        let e = super::Error::new("line 2: \"a\0b\nc\" is not a number");
        assert_eq!(e.message, "line 2: \"a\\u{0}b\\nc\" is not a number");
    }
}
