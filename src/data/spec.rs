//! What the session file says about the data (`"data": {...}`).

use serde::{Deserialize, Serialize};

/// Where the rows come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// `x` and `y` given in the file.
    Inline,
    /// A CSV file (`path`, relative to the session file): header row, last column is the target.
    Csv,
    /// Two separable gaussian clusters with a margin between them (2-D, 2 classes).
    Linear,
    /// Uniform points in the four quadrants, kept 0.05 off the axes; class 1 where x1·x2 > 0
    /// (2-D, 2 classes).
    Xor,
    /// A disc inside a ring (2-D, 2 classes).
    Circle,
    /// Two interleaved spirals (2-D, 2 classes).
    Spiral,
    /// `classes` gaussian blobs (2-D, k classes).
    Blobs,
    /// Two interleaving half circles (2-D, 2 classes).
    Moons,
    /// Regression y = sin(πx) on [-1, 1]: one period (1-D).
    Sin,
    /// Regression y = |x| on [-1, 1] (1-D).
    Abs,
    /// Regression y = step(x) on [-1, 1] (1-D).
    Step,
    /// Regression: Telgarsky's sawtooth with `teeth` teeth on [0, 1] (1-D).
    Sawtooth,
    /// Regression y = −x on [-1, 1] (1-D): what a non-negative-weight net cannot fit.
    NegX,
    /// All 2^bits rows of an n-bit boolean function (`op`: and, or, parity), class 0/1.
    Boolean,
    /// Points uniform in [-1, 1]^inputs labelled by a typed `formula` of x1, x2, …: a
    /// condition (`x1^2 + x2 > 0.5`) gives classes 1 (holds) and 0, a number (`sin(3*x1)`) a
    /// regression target.
    Formula,
}

/// The boolean function of the `boolean` source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BooleanOp {
    /// 1 when every bit is 1.
    And,
    /// 1 when any bit is 1.
    Or,
    /// 1 when an odd number of bits are 1 (XOR for two bits).
    #[default]
    Parity,
}

/// `"data": {...}`. Fields that a source does not use are ignored by it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSpec {
    /// Where the rows come from.
    pub source: DataSource,
    /// Number of rows to generate (generators only).
    #[serde(default = "default_n")]
    pub n: usize,
    /// Noise level, a gaussian std in data units: jitter added to both coordinates of the 2-D
    /// classification points (which span about [-1, 1]²), or added to y for regression.
    /// `boolean` ignores it.
    #[serde(default)]
    pub noise: f64,
    /// Fraction of rows held out as test data (0 means all rows train).
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Seed of the data stream; the session seed when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `blobs`: number of classes (default 3, 2–32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<usize>,
    /// `sawtooth`: number of teeth (default 4, 1–4096).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teeth: Option<usize>,
    /// `boolean`: number of input bits (default 2, 1–16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<usize>,
    /// `boolean`: which function (default parity; with 2 bits that is XOR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<BooleanOp>,
    /// `linear`: width of the empty band between the two classes, in data units (default 0.3,
    /// at most 1); kept empty whatever the noise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
    /// `inline`: one row of inputs per sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<Vec<Vec<f64>>>,
    /// `inline`: class index or real value per sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<Vec<f64>>,
    /// `inline`: the rows of `x`/`y` that form the test set (0-based, increasing), instead of
    /// drawing `test_fraction` of them at random. Written when data is drawn on the decision
    /// map, so every point keeps its side (train or test) whatever is added or deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_rows: Option<Vec<usize>>,
    /// `inline`: `classification` or `regression` (default: classification when every y is a
    /// small non-negative integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// `csv`: path relative to the session file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `formula`: the label or target as a formula of x1, x2, … (see `crate::formula`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// `formula`: number of input columns, 1 to 16 (default: the highest xᵢ the formula names,
    /// at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<usize>,
}

fn default_n() -> usize {
    200
}
fn default_test_fraction() -> f64 {
    0.2
}

/// Is the target a class index or a real value?
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Each target is a class index 0, 1, ….
    Classification,
    /// Each target is a real value.
    Regression,
}

impl DataSpec {
    /// The CSV file of a `csv` source (as written in the spec), None for other sources.
    pub fn csv_path(&self) -> Option<std::path::PathBuf> {
        match self.source {
            DataSource::Csv => self.path.as_ref().map(std::path::PathBuf::from),
            _ => None,
        }
    }

    /// A generator spec with the defaults filled in.
    pub fn generator(source: DataSource, n: usize, noise: f64) -> Self {
        DataSpec {
            source,
            n,
            noise,
            test_fraction: default_test_fraction(),
            seed: None,
            classes: None,
            teeth: None,
            bits: None,
            op: None,
            margin: None,
            x: None,
            y: None,
            test_rows: None,
            task: None,
            path: None,
            formula: None,
            inputs: None,
        }
    }
}
