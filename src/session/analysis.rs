//! Analysis results stored in a session (Hessian spectra, landscape slices), each with the step
//! it was computed at. The result is kept as raw JSON under its `kind`, so a file with a kind
//! this build does not know still loads (the entry is carried along untouched).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One stored analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// `spectrum`, `landscape`, or a kind from a newer build.
    pub kind: String,
    /// Steps taken when it was computed.
    #[serde(default)]
    pub step: u64,
    #[serde(default)]
    /// The result, as the kind wrote it.
    pub result: serde_json::Value,
}

/// `kind: "spectrum"`: eigenvalues of the Hessian (or Gauss–Newton matrix) of the training
/// objective.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpectrumResult {
    /// `dense` or `lanczos`.
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    /// The Gauss–Newton matrix instead of the Hessian.
    pub gauss_newton: bool,
    /// Ascending.
    #[serde(default, with = "crate::json_float::vec")]
    pub eigenvalues: Vec<f64>,
}

/// `kind: "landscape"`: the objective on a square grid around θ, J(θ + a·d₁ + b·d₂).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LandscapeResult {
    /// `random`, `hessian`, `pca`.
    #[serde(default)]
    pub directions: String,
    /// Points per side.
    pub grid: usize,
    /// a and b run over [−radius, radius].
    #[serde(with = "crate::json_float::scalar")]
    pub radius: f64,
    /// grid × grid values, row-major with b along rows (non-finite where the loss overflowed).
    #[serde(with = "crate::json_float::vec")]
    pub values: Vec<f64>,
    /// The a and b of the columns and rows when they are not the even grid over
    /// [−radius, radius] (a PCA plane is fitted to the path); empty otherwise.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::json_float::vec"
    )]
    pub a: Vec<f64>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::json_float::vec"
    )]
    /// See `a`.
    pub b: Vec<f64>,
}

impl Analysis {
    /// Store a typed result under `kind`.
    pub fn new<T: Serialize>(kind: &str, step: u64, result: &T) -> Result<Analysis> {
        let result = serde_json::to_value(result)
            .map_err(|e| Error::new(format!("could not store the {kind} result: {e}")))?;
        Ok(Analysis {
            kind: kind.to_string(),
            step,
            result,
        })
    }

    /// Store a spectrum computed at `step`.
    pub fn spectrum(step: u64, r: &SpectrumResult) -> Result<Analysis> {
        Analysis::new("spectrum", step, r)
    }

    /// Store a landscape computed at `step`.
    pub fn landscape(step: u64, r: &LandscapeResult) -> Result<Analysis> {
        Analysis::new("landscape", step, r)
    }

    /// The result as a spectrum (None for another kind or a malformed result).
    pub fn as_spectrum(&self) -> Option<SpectrumResult> {
        (self.kind == "spectrum")
            .then(|| serde_json::from_value(self.result.clone()).ok())
            .flatten()
    }

    /// The result as a landscape (None for another kind or a malformed result, including a
    /// grid whose value count is not grid²).
    pub fn as_landscape(&self) -> Option<LandscapeResult> {
        let r: LandscapeResult = (self.kind == "landscape")
            .then(|| serde_json::from_value(self.result.clone()).ok())
            .flatten()?;
        let axis_ok = |v: &[f64]| v.is_empty() || v.len() == r.grid;
        (r.grid.checked_mul(r.grid) == Some(r.values.len()) && axis_ok(&r.a) && axis_ok(&r.b))
            .then_some(r)
    }
}
