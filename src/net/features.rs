//! Fixed input features, as in TensorFlow Playground: the first layer sees φ(x), not x.
//! With `x1*x2` a single perceptron separates XOR (Cover's theorem, THEORY #33).

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// x_i (0-based column).
    Raw(usize),
    Square(usize),
    Product(usize, usize),
    Sin(usize),
    Cos(usize),
}

/// The features the designer can toggle for 2-D data, in Playground's order.
pub const PLAYGROUND_2D: [&str; 7] = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"];

impl Feature {
    /// Parse `x1`, `x2^2`, `x1*x2`, `sin(x1)`, `cos(x2)` against `inputs` raw columns.
    pub fn parse(text: &str, inputs: usize, field: &str) -> Result<Feature> {
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let column = |s: &str| -> Result<usize> {
            let idx = s
                .strip_prefix('x')
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&n| n >= 1)
                .ok_or_else(|| {
                    Error::field(
                        field,
                        format!(
                            "\"{text}\" is not a feature (use x1, x1^2, x1*x2, sin(x1), cos(x1))"
                        ),
                    )
                })?;
            if idx > inputs {
                return Err(Error::field(
                    field,
                    format!("\"{text}\" uses x{idx} but the data has {inputs} input column(s)"),
                ));
            }
            Ok(idx - 1)
        };
        if let Some(inner) = t.strip_prefix("sin(").and_then(|s| s.strip_suffix(')')) {
            return Ok(Feature::Sin(column(inner)?));
        }
        if let Some(inner) = t.strip_prefix("cos(").and_then(|s| s.strip_suffix(')')) {
            return Ok(Feature::Cos(column(inner)?));
        }
        if let Some(base) = t.strip_suffix("^2") {
            return Ok(Feature::Square(column(base)?));
        }
        if let Some((a, b)) = t.split_once('*') {
            return Ok(Feature::Product(column(a)?, column(b)?));
        }
        Ok(Feature::Raw(column(&t)?))
    }

    #[inline]
    pub fn eval(self, x: &[f64]) -> f64 {
        match self {
            Feature::Raw(i) => x[i],
            Feature::Square(i) => x[i] * x[i],
            Feature::Product(i, j) => x[i] * x[j],
            Feature::Sin(i) => x[i].sin(),
            Feature::Cos(i) => x[i].cos(),
        }
    }

    pub fn label(self) -> String {
        match self {
            Feature::Raw(i) => format!("x{}", i + 1),
            Feature::Square(i) => format!("x{}^2", i + 1),
            Feature::Product(i, j) => format!("x{}*x{}", i + 1, j + 1),
            Feature::Sin(i) => format!("sin(x{})", i + 1),
            Feature::Cos(i) => format!("cos(x{})", i + 1),
        }
    }
}

/// Parse the optional `network.features` list; absent means the raw columns.
pub fn parse_features(list: Option<&[String]>, inputs: usize) -> Result<Vec<Feature>> {
    match list {
        None => Ok((0..inputs).map(Feature::Raw).collect()),
        Some([]) => Err(Error::field(
            "network.features",
            "must name at least one feature (or be left out)",
        )),
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(k, s)| Feature::parse(s, inputs, &format!("network.features[{k}]")))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_evaluates() {
        let x = [0.5, -2.0];
        let cases = [
            ("x1", 0.5),
            ("x2", -2.0),
            ("x1^2", 0.25),
            ("x1*x2", -1.0),
            ("sin(x2)", (-2.0f64).sin()),
            ("cos(x1)", 0.5f64.cos()),
        ];
        for (s, v) in cases {
            let f = Feature::parse(s, 2, "f").unwrap();
            assert_eq!(f.eval(&x), v, "{s}");
            assert_eq!(Feature::parse(&f.label(), 2, "f").unwrap(), f);
        }
    }

    #[test]
    fn rejects_bad_features_with_the_field() {
        let e = Feature::parse("x3", 2, "network.features[0]").unwrap_err();
        assert!(e.message.contains("network.features[0]") && e.message.contains("x3"));
        assert!(Feature::parse("y1", 2, "f").is_err());
        assert!(Feature::parse("x0", 2, "f").is_err());
        assert!(parse_features(Some(&[]), 2).is_err());
    }
}
