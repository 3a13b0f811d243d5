//! What the app remembers between runs besides sessions: the layout of the workspace, the theme,
//! the language and the window size, in `workspace.json` of the state folder
//! (`recovery::state_dir`). Read once at start; written atomically on a helper thread once it
//! has stopped changing, and a last time when the app closes.
//!
//! Each field is read on its own: a missing, unknown or broken field (or an unreadable file, or
//! one from a later version) gives that field's default, never an error the person must act on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};

use super::layout::{self, Node};
use crate::runtime::JobThread;
use crate::ui::i18n::Lang;

/// The file's format; a file of another version keeps only its theme, language and window.
const VERSION: u64 = 1;
/// A layout file is a few kilobytes; anything much larger is not one.
const MAX_BYTES: u64 = 1 << 20;
/// Window sizes outside this range (points) are not restored.
const MIN_WINDOW: f32 = 320.0;
const MAX_WINDOW: f32 = 16384.0;

/// The remembered-state file in the state folder `dir`: `workspace.json`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("workspace.json")
}

/// The remembered state.
#[derive(Clone, Debug, PartialEq)]
pub struct Prefs {
    /// The dark theme was on.
    pub dark: bool,
    /// The UI language.
    pub lang: Lang,
    /// Inner size of the window (points).
    pub window: Option<[f32; 2]>,
    /// The workspace layout (checked: every tile once).
    pub layout: Node,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            dark: true,
            lang: Lang::En,
            window: None,
            layout: layout::default_node(),
        }
    }
}

impl Prefs {
    /// The state as the file's JSON (with its version), pretty-printed.
    pub fn to_json(&self) -> String {
        let v = json!({
            "version": VERSION,
            "dark": self.dark,
            "lang": match self.lang { Lang::En => "en", Lang::Zh => "zh" },
            "window": self.window,
            "layout": self.layout,
        });
        serde_json::to_string_pretty(&v).unwrap_or_default()
    }

    /// Read what can be read of `text`; the rest is the default.
    fn from_json(text: &str) -> Prefs {
        let mut p = Prefs::default();
        let Ok(Value::Object(v)) = serde_json::from_str::<Value>(text) else {
            return p;
        };
        if let Some(d) = v.get("dark").and_then(Value::as_bool) {
            p.dark = d;
        }
        match v.get("lang").and_then(Value::as_str) {
            Some("en") => p.lang = Lang::En,
            Some("zh") => p.lang = Lang::Zh,
            _ => {}
        }
        p.window = v
            .get("window")
            .and_then(|w| serde_json::from_value::<[f32; 2]>(w.clone()).ok())
            .filter(|w| w.iter().all(|x| (MIN_WINDOW..=MAX_WINDOW).contains(x)));
        if v.get("version").and_then(Value::as_u64) == Some(VERSION)
            && let Some(l) = v.get("layout")
            && let Ok(node) = serde_json::from_value::<Node>(l.clone())
            && layout::check(&node).is_ok()
        {
            p.layout = node;
        }
        p
    }
}

/// The remembered state in `dir` (no folder, no file or a broken one: the defaults).
pub fn load(dir: Option<&Path>) -> Prefs {
    let Some(dir) = dir else {
        return Prefs::default();
    };
    match crate::session::files::read_limited(&path(dir), MAX_BYTES) {
        Ok(bytes) => Prefs::from_json(&String::from_utf8_lossy(&bytes)),
        Err(_) => Prefs::default(),
    }
}

/// Write `text` as the state file of `dir` (atomically: a crash leaves the old file or the new).
pub fn save(dir: &Path, text: &str) -> crate::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| crate::Error::new(format!("{}: {e}", dir.display())))?;
    crate::session::write_atomic(&path(dir), text.as_bytes())
}

/// Writes the state file on a helper thread (`runtime::JobThread`), in order; dropping it
/// finishes the writes still waiting. A failure comes back as one line, once per run.
pub struct Writer {
    thread: Option<JobThread<String, String>>,
    reported: bool,
}

impl Writer {
    /// A writer into `dir` (None: texts are dropped).
    pub fn spawn(dir: Option<PathBuf>, repaint: Arc<dyn Fn() + Send + Sync>) -> Writer {
        let thread = dir.map(|dir| {
            JobThread::spawn(
                "nnlab-workspace",
                repaint,
                move |text: String, _cancel, emit| {
                    if let Err(e) = save(&dir, &text) {
                        emit(format!("the workspace layout could not be saved: {e}"));
                    }
                },
                |panic| format!("the workspace layout could not be saved: {panic}"),
            )
        });
        Writer {
            thread,
            reported: false,
        }
    }

    /// Write `text` after the writes already waiting (a few kilobytes, at most about once a
    /// second: nothing piles up, and none is lost at exit).
    pub fn write(&self, text: String) {
        if let Some(t) = &self.thread {
            t.queue(text);
        }
    }

    /// The first write failure of this run, once.
    pub fn failure(&mut self) -> Option<String> {
        let e = self.thread.as_ref()?.try_recv()?;
        (!std::mem::replace(&mut self.reported, true)).then_some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::workspace::layout::Preset;

    #[test]
    fn prefs_round_trip_through_json() {
        let p = Prefs {
            dark: false,
            lang: Lang::Zh,
            window: Some([1280.0, 800.0]),
            layout: Preset::Landscape.node(),
        };
        assert_eq!(Prefs::from_json(&p.to_json()), p);
    }

    #[test]
    fn broken_fields_fall_back_one_by_one() {
        let d = Prefs::default();
        for text in [
            "",
            "not json",
            "[1,2]",
            "{}",
            "{\"version\": 1, \"layout\": 7}",
        ] {
            assert_eq!(Prefs::from_json(text), d, "{text}");
        }
        // A layout that names an unknown tile, or lacks one, is dropped; the theme stays.
        let p = Prefs::from_json(
            r#"{"version":1,"dark":false,"lang":"xx","window":[10,10],
                "layout":{"tabs":{"tabs":[{"pane":"teapot"}],"active":0}}}"#,
        );
        assert_eq!(
            p,
            Prefs {
                dark: false,
                ..Prefs::default()
            }
        );
        // Another version's layout is not read; its language is.
        let mut other = Prefs {
            lang: Lang::Zh,
            layout: Preset::Curvature.node(),
            ..Prefs::default()
        }
        .to_json();
        other = other.replace("\"version\": 1", "\"version\": 99");
        let p = Prefs::from_json(&other);
        assert_eq!(p.lang, Lang::Zh);
        assert_eq!(p.layout, layout::default_node());
    }
}
