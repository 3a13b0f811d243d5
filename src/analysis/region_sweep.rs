//! Linear regions against depth and against width (THEORY row 4): the architectures of a
//! sweep, built from the session's network, and the summary of the counts measured on them.
//!
//! A depth sweep keeps the width of the first hidden layer and stacks 1, 2, … copies of it; a
//! width sweep keeps the number of hidden layers and sets every one to 2, 4, … units. Each row
//! also reports its total hidden units, so depth and width can be compared at equal units.
//! Training and counting are the caller's (the CLI trains each architecture from several
//! initialisations and counts with `analysis::regions`).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::net::spec::NetworkSpec;

/// Most architectures in one sweep.
pub const MAX_VALUES: usize = 32;
/// Deepest network a depth sweep builds.
pub const MAX_DEPTH: usize = 64;
/// Widest hidden layer a width sweep builds.
pub const MAX_WIDTH: usize = 1024;

/// What the sweep varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Sweep {
    /// The number of hidden layers, each as wide as the session's first.
    Depth,
    /// The units of every hidden layer, as many layers as the session has.
    Width,
}

/// The default values of a sweep: depths 1–4, widths 2, 4, 8, 16.
pub fn default_values(sweep: Sweep) -> Vec<usize> {
    match sweep {
        Sweep::Depth => vec![1, 2, 3, 4],
        Sweep::Width => vec![2, 4, 8, 16],
    }
}

/// The network of each value: the session's hidden layers reshaped, its output layer kept.
pub fn architectures(
    template: &NetworkSpec,
    sweep: Sweep,
    values: &[usize],
) -> Result<Vec<NetworkSpec>> {
    if values.is_empty() || values.len() > MAX_VALUES {
        return Err(Error::field(
            "--values",
            format!("needs 1 to {MAX_VALUES} values (got {})", values.len()),
        ));
    }
    let hidden = template.layers.len().saturating_sub(1);
    if hidden == 0 {
        return Err(Error::new(
            "the network has no hidden layer: there is no depth or width to vary",
        ));
    }
    let (limit, what) = match sweep {
        Sweep::Depth => (MAX_DEPTH, "depths"),
        Sweep::Width => (MAX_WIDTH, "widths"),
    };
    if let Some(bad) = values.iter().find(|&&v| v == 0 || v > limit) {
        return Err(Error::field(
            "--values",
            format!("takes {what} from 1 to {limit} (got {bad})"),
        ));
    }
    let output = template.layers[hidden].clone();
    Ok(values
        .iter()
        .map(|&v| {
            let mut spec = template.clone();
            spec.layers = match sweep {
                Sweep::Depth => vec![template.layers[0].clone(); v],
                Sweep::Width => template.layers[..hidden]
                    .iter()
                    .map(|l| {
                        let mut l = l.clone();
                        l.units = v;
                        l
                    })
                    .collect(),
            };
            spec.layers.push(output.clone());
            spec
        })
        .collect())
}

/// One architecture's counts over its initialisations.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepRow {
    /// Hidden layers.
    pub depth: usize,
    /// Units of the widest hidden layer.
    pub width: usize,
    /// Hidden units in all.
    pub units: usize,
    /// The region count of each initialisation.
    pub regions: Vec<usize>,
    /// The mean region count over the initialisations.
    pub mean: f64,
    /// The fewest regions.
    pub min: usize,
    /// The most regions.
    pub max: usize,
}

/// The row of `spec` with its counts.
pub fn row(spec: &NetworkSpec, regions: Vec<usize>) -> SweepRow {
    let hidden = &spec.layers[..spec.layers.len() - 1];
    let n = regions.len().max(1) as f64;
    SweepRow {
        depth: hidden.len(),
        width: hidden.iter().map(|l| l.units).max().unwrap_or(0),
        units: hidden.iter().map(|l| l.units).sum(),
        mean: regions.iter().sum::<usize>() as f64 / n,
        min: regions.iter().copied().min().unwrap_or(0),
        max: regions.iter().copied().max().unwrap_or(0),
        regions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> NetworkSpec {
        serde_json::from_str(
            r#"{"inputs": 2, "layers": [{"units": 8, "activation": "relu"},
                {"units": 5, "activation": "relu"}, {"units": 1, "activation": "sigmoid"}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn depth_stacks_the_first_layer_and_width_reshapes_every_layer() {
        let d = architectures(&spec(), Sweep::Depth, &[1, 3]).unwrap();
        let shape = |s: &NetworkSpec| s.layers.iter().map(|l| l.units).collect::<Vec<_>>();
        assert_eq!(shape(&d[0]), vec![8, 1]);
        assert_eq!(shape(&d[1]), vec![8, 8, 8, 1]);
        let w = architectures(&spec(), Sweep::Width, &[2, 16]).unwrap();
        assert_eq!(shape(&w[0]), vec![2, 2, 1]);
        assert_eq!(shape(&w[1]), vec![16, 16, 1]);
        let r = row(&d[1], vec![10, 20, 33]);
        assert_eq!(
            (r.depth, r.width, r.units, r.min, r.max),
            (3, 8, 24, 10, 33)
        );
        assert_eq!(r.mean, 21.0);
    }

    #[test]
    fn bad_values_are_refused_with_the_flag() {
        for (sweep, v) in [
            (Sweep::Depth, vec![0]),
            (Sweep::Depth, vec![65]),
            (Sweep::Width, vec![]),
        ] {
            let e = architectures(&spec(), sweep, &v).unwrap_err();
            assert!(e.message.contains("--values"), "{}", e.message);
        }
        let mut s = spec();
        s.layers.drain(..2);
        assert!(architectures(&s, Sweep::Width, &[2]).is_err());
    }
}
