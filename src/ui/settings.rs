//! What the person chose for the whole app and keeps between runs: language and theme.

use super::i18n::{Lang, S};

#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub(crate) lang: Lang,
    pub(crate) dark: bool,
}

impl Settings {
    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn dark(&self) -> bool {
        self.dark
    }

    pub fn t(&self, s: S) -> &'static str {
        self.lang.t(s)
    }
}
