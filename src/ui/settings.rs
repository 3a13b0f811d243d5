//! What the person chose for the whole app and keeps between runs: language and theme.

use super::i18n::{Lang, S};

/// Language and theme, the app-wide choices (remembered between runs with the layout).
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub(crate) lang: Lang,
    pub(crate) dark: bool,
}

impl Settings {
    /// The language of the UI strings.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// True when the dark theme is on.
    pub fn dark(&self) -> bool {
        self.dark
    }

    /// The string `s` in the current language.
    pub fn t(&self, s: S) -> &'static str {
        self.lang.t(s)
    }
}
