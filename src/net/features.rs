//! Fixed input features, as in TensorFlow Playground: the first layer sees φ(x), not x.
//! With `x1*x2` a single perceptron separates XOR (Cover's theorem, THEORY #33).

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::formula::Formula;

/// One input of the first layer, computed from a data row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Feature {
    /// x_i (0-based column).
    Raw(usize),
    /// x_i².
    Square(usize),
    /// x_i·x_j.
    Product(usize, usize),
    /// sin(k·x_i): a Fourier feature (k = 1 is Playground's sin(x1)).
    Sin(usize, Frequency),
    /// cos(k·x_i).
    Cos(usize, Frequency),
    /// Any other formula of the columns, typed by a person (`exp(-x1^2)`, `atan2(x2, x1)`).
    Formula(Arc<Formula>),
}

/// The k of a Fourier feature sin(k·x_i): finite and > 0. Compared by its bits, so features
/// stay `Eq`.
#[derive(Clone, Copy, Debug)]
pub struct Frequency(f64);

impl Frequency {
    /// k = 1.
    pub const ONE: Frequency = Frequency(1.0);

    /// `k` if it is finite and positive.
    pub fn new(k: f64) -> Option<Frequency> {
        (k.is_finite() && k > 0.0).then_some(Frequency(k))
    }

    /// The value of k.
    pub fn get(self) -> f64 {
        self.0
    }

    /// k = 1 exactly.
    pub fn is_one(self) -> bool {
        self.0 == 1.0
    }
}

impl PartialEq for Frequency {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Frequency {}

/// The features the designer can toggle for 2-D data, in Playground's order.
pub const PLAYGROUND_2D: [&str; 7] = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"];

impl Feature {
    /// Parse `x1`, `x2^2`, `x1*x2`, `sin(x1)`, `cos(x2)`, `sin(5*x1)`, `cos(2.5*x2)` against
    /// `inputs` raw columns; any other text is read as a formula of the columns (a number, not
    /// a condition; see `crate::formula`).
    pub fn parse(text: &str, inputs: usize, field: &str) -> Result<Feature> {
        // Not one of the simple forms: a formula, whose error names its column.
        Feature::parse_simple(text, inputs, field).or_else(|_| match Formula::parse(text, inputs) {
            Ok(f) if f.is_condition() => Err(Error::field(
                field,
                format!("\"{text}\" is a condition (0 or 1), not a feature value"),
            )),
            Ok(f) => Ok(Feature::Formula(Arc::new(f))),
            Err(e) => Err(Error::field(field, format!("\"{text}\": {e}"))),
        })
    }

    fn parse_simple(text: &str, inputs: usize, field: &str) -> Result<Feature> {
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
                            "\"{text}\" is not a feature (use x1, x1^2, x1*x2, sin(x1), cos(x1), sin(5*x1))"
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
        // sin(x1) or sin(k*x1), k a positive number.
        let wave = |inner: &str| -> Result<(usize, Frequency)> {
            match inner.split_once('*') {
                None => Ok((column(inner)?, Frequency::ONE)),
                Some((k, col)) => {
                    let k = k.parse::<f64>().ok().and_then(Frequency::new).ok_or_else(|| {
                        Error::field(
                            field,
                            format!(
                                "\"{text}\": the frequency in sin(k*x1) must be a positive number"
                            ),
                        )
                    })?;
                    Ok((column(col)?, k))
                }
            }
        };
        if let Some(inner) = t.strip_prefix("sin(").and_then(|s| s.strip_suffix(')')) {
            let (i, k) = wave(inner)?;
            return Ok(Feature::Sin(i, k));
        }
        if let Some(inner) = t.strip_prefix("cos(").and_then(|s| s.strip_suffix(')')) {
            let (i, k) = wave(inner)?;
            return Ok(Feature::Cos(i, k));
        }
        if let Some(base) = t.strip_suffix("^2") {
            return Ok(Feature::Square(column(base)?));
        }
        if let Some((a, b)) = t.split_once('*') {
            return Ok(Feature::Product(column(a)?, column(b)?));
        }
        Ok(Feature::Raw(column(&t)?))
    }

    /// The feature's value for the raw row `x`.
    #[inline]
    pub fn eval(&self, x: &[f64]) -> f64 {
        match *self {
            Feature::Raw(i) => x[i],
            Feature::Square(i) => x[i] * x[i],
            Feature::Product(i, j) => x[i] * x[j],
            // k = 1 skips the product so that sin(x1) stays what it always was.
            Feature::Sin(i, k) if k.is_one() => x[i].sin(),
            Feature::Cos(i, k) if k.is_one() => x[i].cos(),
            Feature::Sin(i, k) => (k.get() * x[i]).sin(),
            Feature::Cos(i, k) => (k.get() * x[i]).cos(),
            Feature::Formula(ref f) => f.eval(x),
        }
    }

    /// The text that parses back to this feature.
    pub fn label(&self) -> String {
        match self {
            Feature::Formula(f) => f.text().to_string(),
            Feature::Raw(i) => format!("x{}", i + 1),
            Feature::Square(i) => format!("x{}^2", i + 1),
            Feature::Product(i, j) => format!("x{}*x{}", i + 1, j + 1),
            Feature::Sin(i, k) if k.is_one() => format!("sin(x{})", i + 1),
            Feature::Cos(i, k) if k.is_one() => format!("cos(x{})", i + 1),
            Feature::Sin(i, k) => format!("sin({}*x{})", k.get(), i + 1),
            Feature::Cos(i, k) => format!("cos({}*x{})", k.get(), i + 1),
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
            ("sin(5*x1)", 2.5f64.sin()),
            ("cos(0.5*x2)", (-1.0f64).cos()),
            ("sin(1*x2)", (-2.0f64).sin()),
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
        for bad in ["cos(a*x1)", "sin(inf*x1)", "sin(2*x3)", "x1 +", "x1 > 0"] {
            assert!(Feature::parse(bad, 2, "f").is_err(), "{bad}");
        }
        let e = Feature::parse("x1 + * x2", 2, "network.features[1]").unwrap_err();
        assert!(
            e.message.contains("network.features[1]") && e.message.contains("column 6"),
            "{}",
            e.message
        );
        let e = Feature::parse("x1 > 0", 2, "f").unwrap_err();
        assert!(e.message.contains("condition"), "{}", e.message);
    }

    #[test]
    fn other_texts_are_formulas() {
        let x = [0.5, -2.0];
        for (s, v) in [
            ("sin(-2*x1)", (-1.0f64).sin()),
            ("x1^3", 0.125),
            ("exp(-x1^2 - x2^2)", (-4.25f64).exp()),
            ("atan2(x2, x1)", (-2.0f64).atan2(0.5)),
        ] {
            let f = Feature::parse(s, 2, "f").unwrap();
            assert!(matches!(f, Feature::Formula(_)), "{s}");
            assert_eq!(f.eval(&x), v, "{s}");
            assert_eq!(f.label(), s);
            assert_eq!(Feature::parse(&f.label(), 2, "f").unwrap(), f);
        }
    }
}
