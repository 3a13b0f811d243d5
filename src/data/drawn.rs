//! Data drawn by hand on the 2-D decision map: the rows shown there, the first edit that turns
//! a session's data into `inline` rows, and the edits (add, move, delete, clear).
//!
//! Drawn data is `inline` data with `test_rows`: the test set is named row by row, so adding or
//! deleting a point never moves another point between the training and test sets (a fresh
//! random split per click would). The first edit copies the rows the map showed, training rows
//! first and test rows after, with the test rows named: training on the copy is training on
//! the same sets in the same order.

use super::spec::{DataSource, DataSpec, Task};
use super::{Dataset, MAX_CLASS_INDEX};
use crate::error::{Error, Result};

/// Most points drawn data may have (a drawn set is clicked in by hand; larger sets are
/// generated or loaded, and a hit test over them would cost every frame).
pub const MAX_POINTS: usize = 10_000;

/// One change to drawn data. Points are named by their row in [`Points`] order and carry the
/// coordinates the editor saw there, so an edit made on rows that changed meanwhile is refused
/// instead of changing another point.
#[derive(Clone, Debug, PartialEq)]
pub enum DataEdit {
    /// A new point.
    Add {
        /// Its inputs.
        at: [f64; 2],
        /// A class index, or a regression target.
        target: f64,
    },
    /// A point moves, keeping its target and its side (train or test).
    Move {
        /// Its row.
        row: usize,
        /// Where the editor saw it.
        from: [f64; 2],
        /// Where it goes.
        to: [f64; 2],
    },
    /// A point is deleted.
    Delete {
        /// Its row.
        row: usize,
        /// Where the editor saw it.
        at: [f64; 2],
    },
    /// Every row is deleted.
    Clear,
}

/// The points of 2-D data as the decision map shows them: training rows and test rows in one
/// list (for drawn data, the inline rows in order; otherwise the training set, then the test
/// set, which is the order the first edit copies them in).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Points {
    /// The first two inputs of each row.
    pub x: Vec<[f64; 2]>,
    /// The target of each row.
    pub y: Vec<f64>,
    /// Whether each row is held out for testing.
    pub test: Vec<bool>,
    /// Number of classes (0: regression).
    pub classes: usize,
}

impl Points {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// No points.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The row nearest to `at` by `distance` among those closer than `radius`.
    pub fn nearest(&self, radius: f64, mut distance: impl FnMut([f64; 2]) -> f64) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (i, &p) in self.x.iter().enumerate() {
            let d = distance(p);
            if d <= radius && best.is_none_or(|(_, b)| d < b) {
                best = Some((i, d));
            }
        }
        best.map(|(i, _)| i)
    }
}

/// Is `spec` drawn data (inline rows with named test rows)?
pub fn is_drawn(spec: &DataSpec) -> bool {
    spec.source == DataSource::Inline && spec.test_rows.is_some()
}

/// The points the map shows: those of `spec` when it is drawn data (the edited rows, before
/// the training thread has rebuilt on them), else those of the built sets. None unless the
/// data has two inputs or more (the map's axes are the first two).
pub fn points(spec: &DataSpec, train: &Dataset, test: &Dataset) -> Option<Points> {
    if is_drawn(spec) {
        let x = spec.x.as_deref().unwrap_or(&[]);
        let y = spec.y.clone().unwrap_or_default();
        if x.len() != y.len() || x.iter().any(|r| r.len() < 2) {
            return None;
        }
        let mut held_out = vec![false; x.len()];
        for &i in spec.test_rows.as_deref().unwrap_or(&[]) {
            if let Some(h) = held_out.get_mut(i) {
                *h = true;
            }
        }
        let classes = match spec.task {
            Some(Task::Regression) => 0,
            _ => class_count(&y),
        };
        return Some(Points {
            x: x.iter().map(|r| [r[0], r[1]]).collect(),
            y,
            test: held_out,
            classes,
        });
    }
    if train.inputs < 2 || test.inputs != train.inputs {
        return None;
    }
    let mut p = Points {
        classes: train.classes,
        ..Points::default()
    };
    for (set, is_test) in [(train, false), (test, true)] {
        for i in 0..set.rows() {
            let r = set.row(i);
            p.x.push([r[0], r[1]]);
            p.y.push(set.y[i]);
            p.test.push(is_test);
        }
    }
    Some(p)
}

/// Classes of drawn classification targets: the largest index + 1, at least 2.
fn class_count(y: &[f64]) -> usize {
    (y.iter().fold(0.0f64, |a, &b| a.max(b)) as usize + 1).max(2)
}

/// Why data cannot be drawn on (None: it can): not two inputs, or too many rows.
pub fn refusal(inputs: usize, rows: usize) -> Option<String> {
    if inputs != 2 {
        return Some(format!(
            "drawing needs data with 2 inputs (the map's axes); this data has {inputs}"
        ));
    }
    if rows > MAX_POINTS {
        return Some(format!(
            "drawing works on at most {MAX_POINTS} points; this data has {rows}"
        ));
    }
    None
}

/// `spec` as drawn data. Drawn data is returned as it is; other data becomes inline rows
/// copied from the built sets (`train` then `test`, the test rows named), keeping the test
/// fraction, seed and task. Refused for data without 2 inputs or with more than
/// [`MAX_POINTS`] rows.
pub fn to_drawn(spec: &DataSpec, train: &Dataset, test: &Dataset) -> Result<DataSpec> {
    if is_drawn(spec) {
        return Ok(spec.clone());
    }
    let rows = train.rows() + test.rows();
    if let Some(why) = refusal(train.inputs, rows) {
        return Err(Error::field("data", why));
    }
    let p = points(spec, train, test).ok_or_else(|| Error::field("data", "has no 2-D rows"))?;
    let test_rows = (0..p.len()).filter(|&i| p.test[i]).collect();
    Ok(DataSpec {
        source: DataSource::Inline,
        x: Some(p.x.iter().map(|r| r.to_vec()).collect()),
        y: Some(p.y),
        test_rows: Some(test_rows),
        task: Some(train.task),
        // What only generators and files read goes: the rows are the data now.
        path: None,
        classes: None,
        teeth: None,
        bits: None,
        op: None,
        margin: None,
        formula: None,
        inputs: None,
        ..spec.clone()
    })
}

/// `spec` (drawn data) after `edit`; refused with one line when the edit does not fit.
pub fn apply(spec: &DataSpec, edit: &DataEdit) -> Result<DataSpec> {
    if !is_drawn(spec) {
        return Err(Error::field("data", "is not drawn data"));
    }
    let mut out = spec.clone();
    let x = out.x.get_or_insert_with(Vec::new);
    let y = out.y.get_or_insert_with(Vec::new);
    let test = out.test_rows.get_or_insert_with(Vec::new);
    let classification = out.task != Some(Task::Regression);
    let finite = |p: &[f64; 2]| p.iter().all(|v| v.is_finite());
    // The row an edit names must still be where the editor saw it.
    let check = |row: usize, at: &[f64; 2], x: &[Vec<f64>]| match x.get(row) {
        Some(r) if r[..] == at[..] => Ok(()),
        _ => Err(Error::field(
            "data",
            "changed while the point was edited: try again",
        )),
    };
    match *edit {
        DataEdit::Add { at, target } => {
            if x.len() >= MAX_POINTS {
                return Err(Error::field(
                    "data",
                    format!("has {MAX_POINTS} points, the most drawn data may have"),
                ));
            }
            if !finite(&at) || !target.is_finite() {
                return Err(Error::field("data", "a new point needs finite numbers"));
            }
            if classification
                && !(target >= 0.0 && target < MAX_CLASS_INDEX as f64 && target.fract() == 0.0)
            {
                return Err(Error::field(
                    "data",
                    format!("class {target} is not a class index"),
                ));
            }
            let held_out = goes_to_test(x.len(), y, test, target, classification, spec);
            x.push(at.to_vec());
            y.push(target);
            if held_out {
                test.push(x.len() - 1);
            }
        }
        DataEdit::Move { row, from, to } => {
            check(row, &from, x)?;
            if !finite(&to) {
                return Err(Error::field("data", "a point needs finite coordinates"));
            }
            x[row] = to.to_vec();
        }
        DataEdit::Delete { row, at } => {
            check(row, &at, x)?;
            x.remove(row);
            y.remove(row);
            test.retain(|&i| i != row);
            for i in test.iter_mut() {
                if *i > row {
                    *i -= 1;
                }
            }
            // The last training point gone, a test point trains instead.
            if !x.is_empty() && test.len() == x.len() {
                test.pop();
            }
        }
        DataEdit::Clear => {
            x.clear();
            y.clear();
            test.clear();
        }
    }
    Ok(out)
}

/// Whether a new point (the `n`-th row, of `target`) is held out: so that its group (its class,
/// or every row for regression) keeps `round(test_fraction · size)` of its rows for testing,
/// as the stratified random split does, and at least one row trains.
fn goes_to_test(
    n: usize,
    y: &[f64],
    test: &[usize],
    target: f64,
    classification: bool,
    spec: &DataSpec,
) -> bool {
    let in_group = |i: usize| !classification || y[i] == target;
    let size = (0..n).filter(|&i| in_group(i)).count() + 1;
    let held = test.iter().filter(|&&i| i < n && in_group(i)).count();
    let f = spec.test_fraction;
    let want = if f.is_finite() && f > 0.0 {
        (f.min(1.0) * size as f64).round() as usize
    } else {
        0
    };
    let trains = n - test.len();
    held < want && trains >= 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{generate, split_for};

    fn spiral() -> (DataSpec, Dataset, Dataset) {
        let spec = DataSpec::generator(DataSource::Spiral, 50, 0.05);
        let ds = generate(&spec, 3).unwrap();
        let (train, test) = split_for(&spec, &ds, 3);
        (spec, train, test)
    }

    #[test]
    fn the_first_edit_keeps_the_sets_the_map_showed() {
        let (spec, train, test) = spiral();
        let drawn = to_drawn(&spec, &train, &test).unwrap();
        crate::data::validate(&drawn).unwrap();
        let ds = generate(&drawn, 99).unwrap();
        // Rebuilt from the drawn spec (any seed), the sets are the ones copied, in order.
        let (a, b) = split_for(&drawn, &ds, 99);
        assert_eq!((a, b), (train.clone(), test.clone()));
        assert_eq!(drawn.test_rows.as_ref().unwrap().len(), test.rows());
        assert_eq!(drawn.test_fraction, spec.test_fraction);
        // Drawn data stays as it is.
        assert_eq!(to_drawn(&drawn, &train, &test).unwrap(), drawn);
    }

    #[test]
    fn edits_add_move_delete_and_keep_every_other_point_on_its_side() {
        let (spec, train, test) = spiral();
        let d0 = to_drawn(&spec, &train, &test).unwrap();
        let n = train.rows() + test.rows();
        let d1 = apply(
            &d0,
            &DataEdit::Add {
                at: [0.25, -0.5],
                target: 1.0,
            },
        )
        .unwrap();
        assert_eq!(d1.x.as_ref().unwrap()[n], vec![0.25, -0.5]);
        assert_eq!(d1.y.as_ref().unwrap()[n], 1.0);
        let d2 = apply(
            &d1,
            &DataEdit::Move {
                row: n,
                from: [0.25, -0.5],
                to: [0.5, 0.5],
            },
        )
        .unwrap();
        assert_eq!(d2.x.as_ref().unwrap()[n], vec![0.5, 0.5]);
        // A stale edit (the point is no longer where the editor saw it) is refused.
        let stale = DataEdit::Delete {
            row: n,
            at: [0.25, -0.5],
        };
        assert!(apply(&d2, &stale).is_err());
        // Deleting a training row: every other row keeps its side.
        let first_train = 0;
        let at = [train.row(0)[0], train.row(0)[1]];
        let d3 = apply(
            &d2,
            &DataEdit::Delete {
                row: first_train,
                at,
            },
        )
        .unwrap();
        let ds = generate(&d3, 1).unwrap();
        let (tr, te) = split_for(&d3, &ds, 1);
        assert_eq!(te, test);
        assert_eq!(tr.rows(), train.rows() - 1 + usize::from(!d1_held(&d1, n)));
        crate::data::validate(&d3).unwrap();
        let cleared = apply(&d3, &DataEdit::Clear).unwrap();
        assert_eq!(cleared.x.as_ref().unwrap().len(), 0);
    }

    fn d1_held(d: &DataSpec, row: usize) -> bool {
        d.test_rows.as_ref().unwrap().contains(&row)
    }

    #[test]
    fn drawn_points_keep_the_test_fraction_per_class() {
        let mut d = DataSpec {
            source: DataSource::Inline,
            x: Some(Vec::new()),
            y: Some(Vec::new()),
            test_rows: Some(Vec::new()),
            task: Some(Task::Classification),
            test_fraction: 0.25,
            ..DataSpec::generator(DataSource::Inline, 0, 0.0)
        };
        for i in 0..40 {
            let edit = DataEdit::Add {
                at: [i as f64 / 40.0, 0.0],
                target: (i % 2) as f64,
            };
            d = apply(&d, &edit).unwrap();
        }
        let test = d.test_rows.as_ref().unwrap();
        let y = d.y.as_ref().unwrap();
        // 20 points per class, a quarter of each held out: round(0.25 · 20) = 5.
        for c in [0.0, 1.0] {
            assert_eq!(test.iter().filter(|&&i| y[i] == c).count(), 5);
        }
        // The first point of all trains (a test set needs a training set beside it).
        assert!(!test.contains(&0));
        crate::data::validate(&d).unwrap();
    }

    #[test]
    fn refusals_name_the_reason() {
        assert!(refusal(3, 10).unwrap().contains("2 inputs"));
        assert!(refusal(2, MAX_POINTS + 1).unwrap().contains("10000"));
        assert_eq!(refusal(2, MAX_POINTS), None);
        let (spec, train, test) = spiral();
        let d = to_drawn(&spec, &train, &test).unwrap();
        let bad = DataEdit::Add {
            at: [0.0, 0.0],
            target: 0.5,
        };
        assert!(apply(&d, &bad).unwrap_err().to_string().contains("class"));
        let nan = DataEdit::Add {
            at: [f64::NAN, 0.0],
            target: 0.0,
        };
        assert!(apply(&d, &nan).is_err());
    }

    #[test]
    fn test_rows_are_checked() {
        let spec = |rows: Vec<usize>| DataSpec {
            source: DataSource::Inline,
            x: Some(vec![vec![0.0, 0.0]; 3]),
            y: Some(vec![0.0, 1.0, 0.0]),
            test_rows: Some(rows),
            ..DataSpec::generator(DataSource::Inline, 0, 0.0)
        };
        let msg = |rows| crate::data::validate(&spec(rows)).unwrap_err().to_string();
        assert!(msg(vec![3]).contains("data.test_rows[0]"));
        assert!(msg(vec![1, 1]).contains("increasing"));
        assert!(msg(vec![0, 1, 2]).contains("at least one must train"));
        crate::data::validate(&spec(vec![0, 2])).unwrap();
    }
}
