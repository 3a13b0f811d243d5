//! Lessons: THEORY.md claims as sessions that verify themselves. A lesson is an ordinary
//! session file with a `lesson` section: a title and a short explanation in English and 中文,
//! the THEORY row, and a check — train the session (or variants of it with one setting
//! overridden) and compare measured numbers against expected ones.

mod measures;
mod metrics;
mod runner;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::session::{self, Session};

pub use measures::{cover_count, cover_fraction};
pub use metrics::Metric;
pub use runner::{
    ControlResult, ExpectResult, LessonResult, Mode, apply_variant, control_session, fmt_num,
    run_lesson, run_lesson_seeded, run_session_lesson,
};

/// The `lesson` section of a session file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    /// The THEORY.md row this lesson demonstrates.
    pub row: u32,
    /// The claim in a few words, as the Lessons panel lists it.
    pub title: Text,
    /// What to watch, 2–5 sentences.
    pub text: Text,
    /// How `nnlab lessons --verify` proves the claim (and its control disproves it).
    pub check: Check,
}

/// A string in both UI languages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Text {
    /// English.
    pub en: String,
    /// 简体中文.
    pub zh: String,
}

impl Text {
    /// The text in the UI language (`zh` = 简体中文).
    pub fn get(&self, zh: bool) -> &str {
        if zh { &self.zh } else { &self.en }
    }
}

impl Lesson {
    /// The check is well-formed and every number the texts quote is one the check measures.
    pub fn validate(&self) -> Result<()> {
        self.check.validate()?;
        let runs = self.check.runs();
        for key in self.check.measured.keys() {
            let (v, _) = split_key(key).map_err(|e| e.context("lesson.check.measured"))?;
            if !runs.iter().any(|r| r.name == v) {
                return Err(Error::field(
                    "lesson.check.measured",
                    format!("\"{key}\" names the variant \"{v}\", which is not declared"),
                ));
            }
        }
        let mut texts = vec![("lesson.text", &self.text), ("lesson.title", &self.title)];
        if let Some(c) = &self.check.control {
            texts.push(("lesson.check.control.text", &c.text));
        }
        for (field, t) in texts {
            for s in [&t.en, &t.zh] {
                for (key, _) in placeholders(s) {
                    if !self.check.measured.contains_key(&key) {
                        return Err(Error::field(
                            field,
                            format!(
                                "quotes {{{key}}}, which is not in lesson.check.measured \
                                 (run nnlab lessons --verify --write-measured)"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// `variant.metric` → (variant, metric); variant names may contain dots, metric names do not.
pub fn split_key(key: &str) -> Result<(String, Metric)> {
    let (v, m) = key
        .rsplit_once('.')
        .ok_or_else(|| Error::new(format!("\"{key}\" is not variant.metric")))?;
    let metric: Metric = serde_json::from_value(serde_json::Value::String(m.to_string()))
        .map_err(|_| Error::new(format!("\"{m}\" in \"{key}\" is not a metric")))?;
    Ok((v.to_string(), metric))
}

/// The `{variant.metric}` and `{variant.metric:%}` placeholders of a text, in order, with
/// whether each is a percentage.
pub fn placeholders(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let inner = &after[..close];
        if inner.contains('.') && !inner.contains(char::is_whitespace) {
            match inner.strip_suffix(":%") {
                Some(key) => out.push((key.to_string(), true)),
                None => out.push((inner.to_string(), false)),
            }
        }
        rest = &after[close + 1..];
    }
    out
}

/// The text with its placeholders replaced by the numbers in `values` (four significant
/// digits, or a percentage with one decimal); an unknown key shows as "?".
pub fn fill(text: &str, values: &BTreeMap<String, f64>) -> String {
    let mut out = text.to_string();
    for (key, percent) in placeholders(text) {
        let v = values.get(&key).copied();
        let (pat, shown) = if percent {
            (
                format!("{{{key}:%}}"),
                v.map_or("?".into(), |x| format!("{:.1} %", 100.0 * x)),
            )
        } else {
            (format!("{{{key}}}"), v.map_or("?".into(), fmt_num))
        };
        out = out.replace(&pat, &shown);
    }
    out
}

/// What the headless check does: run each variant for `steps` training steps (`fast_steps`
/// with `--fast`), measure the metrics named in `expect`, compare.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Training steps of each run.
    pub steps: u64,
    /// Steps in fast mode (CI); `steps` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_steps: Option<u64>,
    /// The runs to compare; absent means one run of the session as it is, named `session`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
    /// The expectations; the claim holds when all of them do.
    pub expect: Vec<Expect>,
    /// Batch sizes of the gradient-variance metrics.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch_sizes: Vec<usize>,
    /// Mini-batches drawn per batch size for the gradient variance (default 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,
    /// The lottery-ticket experiment the `lottery_*` metrics measure (each run trains
    /// `steps` steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lottery: Option<LotteryCheck>,
    /// The neural-tangent-kernel experiment the `ntk_*` metrics measure (each width trains
    /// `steps` full-batch GD steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ntk: Option<NtkCheck>,
    /// The claim with its precondition removed: the same expectations must NOT all hold there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<Control>,
    /// The numbers the lesson text quotes (`{variant.metric}` placeholders), as measured by
    /// the full check at the session's seed; written by `nnlab lessons --verify
    /// --write-measured`, compared with the measurement by every full `--verify`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measured: BTreeMap<String, f64>,
}

/// `"lottery": {...}` of a check: iterative magnitude pruning with rewinding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LotteryCheck {
    /// Pruning rounds after the dense run.
    pub rounds: usize,
    /// Fraction of the surviving weights pruned per round.
    pub prune: f64,
    /// Rewind to θ after this many dense steps (0: θ₀).
    #[serde(default)]
    pub rewind: u64,
    /// Prune each layer by the same share, or rank all weights together.
    #[serde(default = "layer_scope")]
    pub scope: crate::analysis::lottery::Scope,
}

fn layer_scope() -> crate::analysis::lottery::Scope {
    crate::analysis::lottery::Scope::Layer
}

/// `"ntk": {...}` of a check: the session's network trained at several hidden widths, with its
/// empirical neural tangent kernel recorded (`analysis::ntk`, as `nnlab ntk` runs it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NtkCheck {
    /// The hidden widths, ascending.
    pub widths: Vec<usize>,
    /// The parameterisation (default: ntk).
    #[serde(default = "ntk_param")]
    pub param: crate::analysis::ntk::Parameterisation,
    /// The output scale α (default 1; small: the rich regime).
    #[serde(default = "one")]
    pub alpha: f64,
    /// η = lr_factor · n / λ_max(Θ₀) (default 0.5).
    #[serde(default = "half")]
    pub lr_factor: f64,
}

fn ntk_param() -> crate::analysis::ntk::Parameterisation {
    crate::analysis::ntk::Parameterisation::Ntk
}

fn half() -> f64 {
    0.5
}

/// A control: overrides that remove the claim's precondition (tanh instead of sigmoid,
/// BatchNorm removed, separable data …). The check is run on the session with these applied
/// and must fail there; a check that also passes on its control shows nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Control {
    /// What the control removes, one sentence.
    pub text: Text,
    /// Dotted paths set in the session before each variant applies its own overrides.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub set: serde_json::Map<String, serde_json::Value>,
    /// Changes to one variant only, after its own overrides: variant name → changes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, VariantPatch>,
    /// Replaces the check's lottery experiment (e.g. pruned far beyond where tickets work).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lottery: Option<LotteryCheck>,
    /// Replaces the check's NTK experiment (e.g. a small output scale: the rich regime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ntk: Option<NtkCheck>,
}

/// What a control changes in one variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariantPatch {
    /// Dotted paths and values, applied after the variant's own.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub set: serde_json::Map<String, serde_json::Value>,
    /// Replaces the variant's learning rate as a multiple of the edge 2/λ_max.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_over_edge: Option<f64>,
}

/// The session with some settings overridden.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// How expectations and `{variant.metric}` placeholders name this run.
    pub name: String,
    /// Dotted paths into the session JSON and their new values; `*` stands for every element
    /// of an array: `{"network.layers.*.activation": "relu", "network.init": "he_normal"}`.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub set: serde_json::Map<String, serde_json::Value>,
    /// Set the learning rate to this multiple of the stability edge 2/λ_max of the Hessian at
    /// the initial θ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_over_edge: Option<f64>,
    /// What this run is, for a student ("2 hidden units"); the name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Text>,
    /// Train this many initialisations (seeds derived from the session's) and report each
    /// metric's mean over them: how a claim about chance is measured (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inits: Option<usize>,
}

/// One expected number: `variant.metric op value` or `variant.metric op times × other`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expect {
    /// The run measured (the only/first variant when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// What is measured.
    pub metric: Metric,
    /// How the measurement must compare.
    pub op: Op,
    /// The constant it is compared with (absent when `than` names another measurement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Compare against another measured number instead of a constant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub than: Option<Reference>,
}

/// Another measured number an expectation compares with: `times × variant.metric`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// The run (the expectation's own when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// What is measured there.
    pub metric: Metric,
    /// The factor applied to it (default 1).
    #[serde(default = "one")]
    pub times: f64,
}

fn one() -> f64 {
    1.0
}

/// The comparison of an expectation, written as its symbol in the lesson file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `==` (exact equality)
    #[serde(rename = "==")]
    Eq,
}

impl Expect {
    /// `sigmoid.grad_ratio_first_last < 0.001`, or `… < 0.6 × gd.across_valley_path`;
    /// `first` is the run an expectation without a variant refers to.
    pub fn describe(&self, first: &str) -> String {
        let v = self.variant.as_deref().unwrap_or(first);
        let rhs = match (&self.value, &self.than) {
            (Some(x), _) => fmt_num(*x),
            (None, Some(r)) => {
                let rv = r.variant.as_deref().unwrap_or(v);
                if r.times == 1.0 {
                    format!("{rv}.{}", r.metric.name())
                } else {
                    format!("{} × {rv}.{}", fmt_num(r.times), r.metric.name())
                }
            }
            (None, None) => "?".into(),
        };
        format!("{v}.{} {} {rhs}", self.metric.name(), self.op.symbol())
    }
}

impl Expect {
    /// The expectation in words a student reads: "training accuracy (2 hidden units): at
    /// least 0.98", "… below 0.6 × path length across the valley (gradient descent)".
    pub fn in_words(&self, check: &Check, zh: bool) -> String {
        let runs = check.runs();
        let first = runs[0].name.clone();
        let run_label = |name: &str| -> String {
            runs.iter()
                .find(|r| r.name == name)
                .and_then(|r| r.label.as_ref())
                .map_or_else(|| name.replace('_', " "), |t| t.get(zh).to_string())
        };
        let metric_label = |m: Metric| {
            let (en, cn) = m.label();
            if zh { cn } else { en }
        };
        let v = self.variant.as_deref().unwrap_or(&first);
        let what = if runs.len() > 1 {
            format!("{} ({})", metric_label(self.metric), run_label(v))
        } else {
            metric_label(self.metric).to_string()
        };
        let rhs = match (&self.value, &self.than) {
            (Some(x), _) => fmt_num(*x),
            (None, Some(r)) => {
                let rv = r.variant.as_deref().unwrap_or(v);
                let other = if runs.len() > 1 {
                    format!("{} ({})", metric_label(r.metric), run_label(rv))
                } else {
                    metric_label(r.metric).to_string()
                };
                if r.times == 1.0 {
                    other
                } else {
                    format!("{} × {other}", fmt_num(r.times))
                }
            }
            (None, None) => "?".into(),
        };
        format!("{what}: {} {rhs}", self.op.words(zh))
    }
}

impl Op {
    /// "below", "at least" … in the UI language.
    pub fn words(self, zh: bool) -> &'static str {
        match (self, zh) {
            (Op::Lt, false) => "below",
            (Op::Le, false) => "at most",
            (Op::Gt, false) => "above",
            (Op::Ge, false) => "at least",
            (Op::Eq, false) => "exactly",
            (Op::Lt, true) => "低于",
            (Op::Le, true) => "不超过",
            (Op::Gt, true) => "高于",
            (Op::Ge, true) => "至少",
            (Op::Eq, true) => "恰好为",
        }
    }

    /// The symbol as shown to a person (`≤` rather than `<=`).
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "≤",
            Op::Gt => ">",
            Op::Ge => "≥",
            Op::Eq => "=",
        }
    }
    /// NaN never passes.
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Eq => a == b,
        }
    }
}

impl Check {
    /// The variants run: the declared ones, or the session itself.
    pub fn runs(&self) -> Vec<Variant> {
        if self.variants.is_empty() {
            vec![Variant {
                name: "session".into(),
                set: serde_json::Map::new(),
                lr_over_edge: None,
                label: None,
                inits: None,
            }]
        } else {
            self.variants.clone()
        }
    }

    /// Every expectation names a declared variant and has exactly one right-hand side.
    pub fn validate(&self) -> Result<()> {
        let runs = self.runs();
        let known = |v: &Option<String>, field: &str| -> Result<()> {
            match v {
                Some(name) if !runs.iter().any(|r| &r.name == name) => Err(Error::field(
                    field,
                    format!("names the variant \"{name}\", which is not declared"),
                )),
                _ => Ok(()),
            }
        };
        if self.expect.is_empty() {
            return Err(Error::field("lesson.check.expect", "must not be empty"));
        }
        if let Some(n) = &self.ntk {
            let max = crate::analysis::ntk::MAX_WIDTH;
            if n.widths.len() < 2
                || n.widths.iter().any(|&w| w == 0 || w > max)
                || n.widths.windows(2).any(|p| p[0] >= p[1])
            {
                return Err(Error::field(
                    "lesson.check.ntk.widths",
                    format!("must list at least two widths from 1 to {max}, ascending"),
                ));
            }
            if !(n.alpha.is_finite() && n.alpha > 0.0) {
                return Err(Error::field("lesson.check.ntk.alpha", "must be > 0"));
            }
        }
        let mut names = BTreeMap::new();
        for (i, v) in runs.iter().enumerate() {
            if names.insert(v.name.clone(), i).is_some() {
                return Err(Error::field(
                    &format!("lesson.check.variants[{i}].name"),
                    format!("\"{}\" is used twice", v.name),
                ));
            }
            if let Some(k) = v.inits
                && !(1..=100).contains(&k)
            {
                return Err(Error::field(
                    &format!("lesson.check.variants[{i}].inits"),
                    "must be between 1 and 100",
                ));
            }
            if let Some(f) = v.lr_over_edge
                && !(f.is_finite() && f > 0.0)
            {
                return Err(Error::field(
                    &format!("lesson.check.variants[{i}].lr_over_edge"),
                    "must be a positive number",
                ));
            }
        }
        for (i, e) in self.expect.iter().enumerate() {
            let field = format!("lesson.check.expect[{i}]");
            known(&e.variant, &format!("{field}.variant"))?;
            match (&e.value, &e.than) {
                (Some(v), None) if !v.is_nan() => {}
                (None, Some(r)) => known(&r.variant, &format!("{field}.than.variant"))?,
                _ => {
                    return Err(Error::field(
                        &field,
                        "needs exactly one of \"value\" (a number) or \"than\"",
                    ));
                }
            }
            if e.metric.needs_batch_sizes() && self.batch_sizes.len() < 2 {
                return Err(Error::field(
                    "lesson.check.batch_sizes",
                    format!("needs at least two sizes for {}", e.metric.name()),
                ));
            }
        }
        if let Some(c) = &self.control {
            for name in c.variants.keys() {
                known(&Some(name.clone()), "lesson.check.control.variants")?;
            }
        }
        if self.batch_sizes.contains(&0) {
            return Err(Error::field(
                "lesson.check.batch_sizes",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// A lesson file found on disk: a session and, in its "lesson" section, the claim it
/// demonstrates (the session format ignores that section; a lesson wraps a session).
#[derive(Clone, Debug)]
pub struct LessonFile {
    /// The file stem: the name `--only` matches.
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// The session the lesson opens (and its check trains).
    pub session: Session,
    /// The claim and its check.
    pub lesson: Lesson,
}

impl LessonFile {
    /// The claim and its check.
    pub fn lesson(&self) -> &Lesson {
        &self.lesson
    }
}

/// The part of a lesson file the session format leaves alone.
#[derive(Deserialize)]
struct LessonSection {
    lesson: Option<Lesson>,
}

/// Read the lesson section of a lesson file's text (None: the file has none).
pub fn parse_lesson(text: &str) -> Result<Option<Lesson>> {
    let de = &mut serde_json::Deserializer::from_str(text.trim_start_matches('\u{feff}'));
    let section: LessonSection = serde_path_to_error::deserialize(de)
        .map_err(|e| Error::new(format!("{}: {}", e.path(), e.inner())))?;
    Ok(section.lesson)
}

/// The bundled lessons folder: `sessions/lessons` under the current folder, else beside the
/// executable's repository (the source tree this binary was built from).
pub fn default_dir() -> PathBuf {
    let here = PathBuf::from("sessions/lessons");
    if here.is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sessions/lessons")
}

/// Every `*.json` session with a lesson in `dir`, ordered by THEORY row then name. A file that
/// does not parse, or a session without a lesson, is an error naming the file.
pub fn load_dir(dir: &Path) -> Result<Vec<LessonFile>> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Error::new(format!("{}: {e}", dir.display())))?
            .path();
        if path.extension().and_then(|s| s.to_str()) != Some("json") {
            continue;
        }
        out.push(load_file(&path)?);
    }
    out.sort_by(|a, b| (a.lesson().row, &a.name).cmp(&(b.lesson().row, &b.name)));
    Ok(out)
}

/// Read one lesson file (its data is built by the check, not here).
pub fn load_file(path: &Path) -> Result<LessonFile> {
    let name = session::display_name(path);
    let text = std::fs::read_to_string(path).map_err(|e| Error::new(format!("{name}: {e}")))?;
    let session = session::parse(&text).map_err(|e| e.context(&name))?;
    let lesson = parse_lesson(&text)
        .map_err(|e| e.context(&name))?
        .ok_or_else(|| Error::new(format!("{name}: has no \"lesson\" section")))?;
    lesson.validate().map_err(|e| e.context(&name))?;
    Ok(LessonFile {
        name: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or(name),
        path: path.to_path_buf(),
        session,
        lesson,
    })
}
