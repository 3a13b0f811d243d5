//! The data a network learns from: synthetic generators, inline rows and CSV text, plus the
//! train/test split.
//!
//! Pure and deterministic: no files, no threads, no clock. The same spec and seed give the same
//! rows bit for bit, so a saved session replays exactly. CSV arrives as text; reading the file
//! named by `data.path` is the caller's business.

pub mod drawn;
pub mod spec;

mod csv;
mod generators;

pub use csv::from_csv;

use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::rng::Rng;
use spec::{DataSource, DataSpec, Task};

/// Most rows any source may produce: keeps a typo in `n` (or a huge CSV) from eating the memory.
pub const MAX_ROWS: usize = 10_000_000;

/// A target counts as a class index when it is an integer below this; larger values are
/// almost surely real-valued targets, and a one-hot layer that wide would be a mistake anyway.
pub const MAX_CLASS_INDEX: usize = 1000;

/// Rows of inputs with one target each.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Columns of `x`.
    pub inputs: usize,
    /// Rows × inputs, row-major.
    pub x: Vec<f64>,
    /// One target per row: class index (0.0, 1.0, …) or real value.
    pub y: Vec<f64>,
    /// Class labels or real-valued targets.
    pub task: Task,
    /// Number of classes; 0 for regression.
    pub classes: usize,
}

impl Dataset {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// The inputs of row `i` (panics if `i >= rows()`, like slice indexing).
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.inputs..(i + 1) * self.inputs]
    }

    /// The inputs as an ndarray view, rows × inputs (no copy: `x` is row-major).
    pub fn x_view(&self) -> ndarray::ArrayView2<'_, f64> {
        ndarray::ArrayView2::from_shape((self.rows(), self.inputs), &self.x)
            .expect("x holds rows × inputs values")
    }

    /// The targets as an ndarray view (class indices as 0.0, 1.0, … or real values).
    pub fn y_view(&self) -> ndarray::ArrayView1<'_, f64> {
        ndarray::ArrayView1::from(&self.y[..])
    }

    /// A data set from ndarray arrays: `x` rows × inputs (any memory layout), `y` one target
    /// per row. `task` None guesses as inline data does (classification when every target is
    /// a class index). Checked like inline data: matching lengths, finite values, class
    /// indices for classification.
    pub fn from_arrays(
        x: ndarray::ArrayView2<'_, f64>,
        y: ndarray::ArrayView1<'_, f64>,
        task: Option<Task>,
    ) -> Result<Dataset> {
        let (rows, inputs) = x.dim();
        if rows == 0 || inputs == 0 {
            return Err(Error::field(
                "x",
                format!("is {rows} × {inputs}: needs at least one row and one column"),
            ));
        }
        if rows > MAX_ROWS {
            return Err(Error::field(
                "x",
                format!("has {rows} rows (at most {MAX_ROWS})"),
            ));
        }
        if y.len() != rows {
            return Err(Error::field(
                "y",
                format!("has {} values but x has {rows} rows", y.len()),
            ));
        }
        if let Some(((i, j), _)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::field(&format!("x[{i}][{j}]"), "is not finite"));
        }
        for (i, &v) in y.iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::field(&format!("y[{i}]"), "is not finite"));
            }
            if task == Some(Task::Classification) && !is_class_index(v) {
                return Err(Error::field(
                    &format!("y[{i}]"),
                    format!("= {v} {}", not_a_class_index()),
                ));
            }
        }
        let y: Vec<f64> = y.iter().copied().collect();
        let (task, classes) = task_and_classes(task, &y);
        Ok(Dataset {
            inputs,
            x: x.iter().copied().collect(),
            y,
            task,
            classes,
        })
    }

    /// Same shape and task, no rows: what a split with nothing held out gives as its test set.
    pub fn empty_like(&self) -> Dataset {
        Dataset {
            inputs: self.inputs,
            x: Vec::new(),
            y: Vec::new(),
            task: self.task,
            classes: self.classes,
        }
    }

    /// The rows `idx`, in that order.
    fn subset(&self, idx: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(idx.len() * self.inputs);
        let mut y = Vec::with_capacity(idx.len());
        for &i in idx {
            x.extend_from_slice(self.row(i));
            y.push(self.y[i]);
        }
        Dataset {
            x,
            y,
            ..self.empty_like()
        }
    }
}

/// Builds the rows of a generator or `inline` source. `seed` is the session seed; `spec.seed`
/// overrides it. Generators draw from `Rng::stream(seed, "data")` only, so the data never
/// depends on what else the session does with randomness.
pub fn generate(spec: &DataSpec, seed: u64) -> Result<Dataset> {
    validate(spec)?;
    let seed = spec.seed.unwrap_or(seed);
    let mut rng = Rng::stream(seed, "data");
    let (n, noise) = (spec.n, spec.noise);
    let ds = match spec.source {
        DataSource::Csv => {
            return Err(Error::field(
                "data.source",
                "csv is read from a file: load data.path and use data::from_csv",
            ));
        }
        DataSource::Inline => inline(spec),
        DataSource::Linear => {
            let margin = spec.margin.unwrap_or(generators::DEFAULT_MARGIN);
            generators::linear(n, noise, margin, &mut rng).0
        }
        DataSource::Xor => generators::xor(n, noise, &mut rng),
        DataSource::Circle => generators::circle(n, noise, &mut rng),
        DataSource::Spiral => generators::spiral(n, noise, &mut rng),
        DataSource::Blobs => {
            let k = spec.classes.unwrap_or(generators::DEFAULT_CLASSES);
            generators::blobs(n, k, noise, &mut rng)
        }
        DataSource::Moons => generators::moons(n, noise, &mut rng),
        DataSource::Sin => generators::sin(n, noise, &mut rng),
        DataSource::Abs => generators::abs(n, noise, &mut rng),
        DataSource::Step => generators::step(n, noise, &mut rng),
        DataSource::Sawtooth => {
            let teeth = spec.teeth.unwrap_or(generators::DEFAULT_TEETH);
            generators::sawtooth(n, teeth, noise, &mut rng)
        }
        DataSource::NegX => generators::neg_x(n, noise, &mut rng),
        DataSource::Boolean => {
            let bits = spec.bits.unwrap_or(generators::DEFAULT_BITS);
            generators::boolean(bits, spec.op.unwrap_or_default())
        }
        DataSource::Formula => {
            let (formula, inputs) = formula_of(spec)?;
            generators::formula(&formula, inputs, n, noise, &mut rng)
                .map_err(|m| Error::field("data.formula", m))?
        }
    };
    Ok(ds)
}

/// Most input columns a `formula` source may have.
pub const MAX_FORMULA_INPUTS: usize = 16;

/// The formula of a `formula` source, read, and its number of input columns.
pub fn formula_of(spec: &DataSpec) -> Result<(Formula, usize)> {
    let Some(text) = spec.formula.as_deref() else {
        return Err(Error::field(
            "data.formula",
            "is required for source formula",
        ));
    };
    let inputs = spec.inputs.unwrap_or(MAX_FORMULA_INPUTS);
    if !(1..=MAX_FORMULA_INPUTS).contains(&inputs) {
        return Err(Error::field(
            "data.inputs",
            format!("must be between 1 and {MAX_FORMULA_INPUTS}"),
        ));
    }
    let formula = Formula::parse(text, inputs)
        .map_err(|e| Error::field("data.formula", format!("\"{text}\": {e}")))?;
    let inputs = spec.inputs.unwrap_or(formula.variables().max(1));
    match spec.task {
        Some(Task::Classification) if !formula.is_condition() => Err(Error::field(
            "data.formula",
            format!(
                "\"{text}\" is a number, but data.task is classification: write a condition such as {text} > 0"
            ),
        )),
        Some(Task::Regression) if formula.is_condition() => Err(Error::field(
            "data.formula",
            format!("\"{text}\" is a condition (0 or 1), but data.task is regression"),
        )),
        _ => Ok((formula, inputs)),
    }
}

/// `inline` rows; `spec` has passed `validate`, so `x` and `y` are present and consistent.
fn inline(spec: &DataSpec) -> Dataset {
    let rows: &[Vec<f64>] = spec.x.as_deref().unwrap_or(&[]);
    let y = spec.y.clone().unwrap_or_default();
    let inputs = rows.first().map_or(0, Vec::len);
    let x: Vec<f64> = rows.iter().flatten().copied().collect();
    let (task, classes) = task_and_classes(spec.task, &y);
    Dataset {
        inputs,
        x,
        y,
        task,
        classes,
    }
}

/// The task (given, or guessed from the targets) and the class count that goes with it.
/// Explicit classification targets have already been checked to be class indices.
fn task_and_classes(task: Option<Task>, y: &[f64]) -> (Task, usize) {
    match task {
        Some(Task::Regression) => (Task::Regression, 0),
        Some(Task::Classification) => (Task::Classification, class_count(y).unwrap_or(2)),
        None => match class_count(y) {
            Some(k) => (Task::Classification, k),
            None => (Task::Regression, 0),
        },
    }
}

/// `Some(max + 1, at least 2)` when every target is a class index, else `None`.
fn class_count(y: &[f64]) -> Option<usize> {
    let mut max = 0.0f64;
    for &v in y {
        if !is_class_index(v) {
            return None;
        }
        max = max.max(v);
    }
    Some((max as usize + 1).max(2))
}

/// A non-negative integer below `MAX_CLASS_INDEX`.
fn is_class_index(v: f64) -> bool {
    v >= 0.0 && v < MAX_CLASS_INDEX as f64 && v.fract() == 0.0
}

/// What is wrong with a target that should be a class index.
fn not_a_class_index() -> String {
    format!(
        "is not a class index (an integer from 0 to {})",
        MAX_CLASS_INDEX - 1
    )
}

/// Splits off `round(test_fraction · rows)` rows as the test set (never all of them: the
/// training set keeps at least one row when there is one). Classification is stratified: each
/// class gives its share of test rows (largest remainders settle the rounding), so a rare class
/// is not lost from either side by bad luck. Both parts come out in shuffled order, drawn from
/// `Rng::stream(seed, "split")`. A fraction that is not finite or not positive holds out nothing.
pub fn split(ds: &Dataset, test_fraction: f64, seed: u64) -> (Dataset, Dataset) {
    let rows = ds.rows();
    let f = if test_fraction.is_finite() && test_fraction > 0.0 {
        test_fraction.min(1.0)
    } else {
        0.0
    };
    let test_rows = ((f * rows as f64).round() as usize).min(rows.saturating_sub(1));
    let mut rng = Rng::stream(seed, "split");

    // Groups of row indices that share out the test rows in proportion: the classes, or all rows.
    let mut groups: Vec<Vec<usize>> = match ds.task {
        Task::Classification if ds.classes > 1 => {
            let k = ds.classes;
            let mut g = vec![Vec::new(); k];
            for (i, &v) in ds.y.iter().enumerate() {
                // `as` saturates (NaN → 0); clamping keeps odd hand-made datasets from panicking.
                g[(v as usize).min(k - 1)].push(i);
            }
            g
        }
        _ => vec![(0..rows).collect()],
    };
    for g in &mut groups {
        rng.shuffle(g);
    }
    let take = apportion(
        &groups.iter().map(Vec::len).collect::<Vec<_>>(),
        f,
        test_rows,
    );

    let mut train = Vec::with_capacity(rows - test_rows);
    let mut test = Vec::with_capacity(test_rows);
    for (g, &t) in groups.iter().zip(&take) {
        test.extend_from_slice(&g[..t]);
        train.extend_from_slice(&g[t..]);
    }
    rng.shuffle(&mut train);
    rng.shuffle(&mut test);
    (ds.subset(&train), ds.subset(&test))
}

/// The train/test split `spec` asks for: the `test_rows` of inline data that names them
/// (drawn data), otherwise [`split`] by `test_fraction`.
pub fn split_for(spec: &DataSpec, ds: &Dataset, seed: u64) -> (Dataset, Dataset) {
    match (spec.source, &spec.test_rows) {
        (DataSource::Inline, Some(rows)) => split_rows(ds, rows),
        _ => split(ds, spec.test_fraction, seed),
    }
}

/// Rows `test` as the test set and the others as the training set, both in row order (no
/// shuffle: a drawn point keeps its place). Indices out of range are ignored (`validate`
/// refuses them in a spec).
pub fn split_rows(ds: &Dataset, test: &[usize]) -> (Dataset, Dataset) {
    let mut held_out = vec![false; ds.rows()];
    for &i in test {
        if let Some(h) = held_out.get_mut(i) {
            *h = true;
        }
    }
    let (test, train): (Vec<usize>, Vec<usize>) = (0..ds.rows()).partition(|&i| held_out[i]);
    (ds.subset(&train), ds.subset(&test))
}

/// How many of each group's `sizes` go to test so that the total is exactly `total`
/// (≤ Σ sizes): floors of the proportional shares, then one more for the largest remainders.
fn apportion(sizes: &[usize], f: f64, total: usize) -> Vec<usize> {
    let mut take: Vec<usize> = sizes
        .iter()
        .map(|&s| ((f * s as f64).floor() as usize).min(s))
        .collect();
    let mut given: usize = take.iter().sum();
    // Trim first, in case float rounding overshot (cannot happen in exact arithmetic).
    while given > total {
        match take.iter().position(|&t| t > 0) {
            Some(i) => {
                take[i] -= 1;
                given -= 1;
            }
            None => break,
        }
    }
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    let rem = |i: usize| f * sizes[i] as f64 - take[i] as f64;
    order.sort_by(|&a, &b| rem(b).total_cmp(&rem(a)).then(a.cmp(&b)));
    // Round-robin over the remainder order until the total is met; each pass gives at most one.
    while given < total {
        let before = given;
        for &i in &order {
            if given < total && take[i] < sizes[i] {
                take[i] += 1;
                given += 1;
            }
        }
        if given == before {
            break;
        }
    }
    take
}

/// Semantic checks of `"data"`, before anything is allocated. Only the fields that the source
/// uses are checked (the others are ignored, as everywhere else), except `test_fraction`,
/// which every source uses.
pub fn validate(spec: &DataSpec) -> Result<()> {
    let tf = spec.test_fraction;
    if !(tf.is_finite() && (0.0..1.0).contains(&tf)) {
        return Err(Error::field("data.test_fraction", "must be in [0, 1)"));
    }
    match spec.source {
        DataSource::Inline => return validate_inline(spec),
        DataSource::Csv => {
            return match &spec.path {
                Some(p) if !p.trim().is_empty() => Ok(()),
                _ => Err(Error::field("data.path", "is required for source csv")),
            };
        }
        DataSource::Boolean => {
            let bits = spec.bits.unwrap_or(generators::DEFAULT_BITS);
            if !(1..=16).contains(&bits) {
                return Err(Error::field("data.bits", "must be between 1 and 16"));
            }
            return Ok(());
        }
        DataSource::Formula => {
            formula_of(spec)?;
        }
        _ => {}
    }
    // The sampled generators.
    if spec.n < 1 {
        return Err(Error::field("data.n", "must be at least 1"));
    }
    if spec.n > MAX_ROWS {
        return Err(Error::field(
            "data.n",
            format!("= {} is too large (at most {MAX_ROWS})", compact(spec.n)),
        ));
    }
    if !(spec.noise.is_finite() && spec.noise >= 0.0) {
        return Err(Error::field("data.noise", "must be finite and ≥ 0"));
    }
    match spec.source {
        DataSource::Blobs => {
            let k = spec.classes.unwrap_or(generators::DEFAULT_CLASSES);
            if !(2..=32).contains(&k) {
                return Err(Error::field("data.classes", "must be between 2 and 32"));
            }
        }
        DataSource::Sawtooth => {
            let t = spec.teeth.unwrap_or(generators::DEFAULT_TEETH);
            if !(1..=4096).contains(&t) {
                return Err(Error::field("data.teeth", "must be between 1 and 4096"));
            }
        }
        DataSource::Linear => {
            let m = spec.margin.unwrap_or(generators::DEFAULT_MARGIN);
            if !(m.is_finite() && (0.0..=1.0).contains(&m)) {
                return Err(Error::field("data.margin", "must be finite and in [0, 1]"));
            }
        }
        _ => {}
    }
    Ok(())
}

fn validate_inline(spec: &DataSpec) -> Result<()> {
    let Some(x) = &spec.x else {
        return Err(Error::field("data.x", "is required for source inline"));
    };
    let Some(y) = &spec.y else {
        return Err(Error::field("data.y", "is required for source inline"));
    };
    if x.is_empty() {
        return Err(Error::field("data.x", "must have at least 1 row"));
    }
    if x.len() > MAX_ROWS {
        return Err(Error::field(
            "data.x",
            format!("has {} rows (at most {MAX_ROWS})", x.len()),
        ));
    }
    let width = x[0].len();
    if width == 0 {
        return Err(Error::field("data.x[0]", "must have at least 1 value"));
    }
    for (i, row) in x.iter().enumerate() {
        if row.len() != width {
            return Err(Error::field(
                &format!("data.x[{i}]"),
                format!("has {} values but data.x[0] has {width}", row.len()),
            ));
        }
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(Error::field(&format!("data.x[{i}][{j}]"), "is not finite"));
        }
    }
    if y.len() != x.len() {
        return Err(Error::field(
            "data.y",
            format!("has {} values but data.x has {} rows", y.len(), x.len()),
        ));
    }
    if let Some(rows) = &spec.test_rows {
        validate_test_rows(rows, x.len())?;
    }
    for (i, &v) in y.iter().enumerate() {
        let field = format!("data.y[{i}]");
        if !v.is_finite() {
            return Err(Error::field(&field, "is not finite"));
        }
        if spec.task == Some(Task::Classification) && !is_class_index(v) {
            return Err(Error::field(
                &field,
                format!("= {v} {}", not_a_class_index()),
            ));
        }
    }
    Ok(())
}

/// `test_rows` of `rows` inline rows: increasing indices in range, leaving a training row.
fn validate_test_rows(test: &[usize], rows: usize) -> Result<()> {
    for (k, &i) in test.iter().enumerate() {
        if i >= rows {
            return Err(Error::field(
                &format!("data.test_rows[{k}]"),
                format!("= {i} is not a row (data.x has {rows})"),
            ));
        }
        if k > 0 && i <= test[k - 1] {
            return Err(Error::field(
                &format!("data.test_rows[{k}]"),
                format!(
                    "= {i} does not come after {}: list each row once, in increasing order",
                    test[k - 1]
                ),
            ));
        }
    }
    if test.len() >= rows {
        return Err(Error::field(
            "data.test_rows",
            "holds out every row: at least one must train",
        ));
    }
    Ok(())
}

/// `1000000000000` → `1e12`: big round numbers as people write them, others in full.
fn compact(n: usize) -> String {
    let plain = n.to_string();
    let f = n as f64;
    let sci = format!("{f:e}");
    if sci.len() < plain.len() && f as u128 == n as u128 {
        sci
    } else {
        plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline_spec(x: Vec<Vec<f64>>, y: Vec<f64>) -> DataSpec {
        DataSpec {
            x: Some(x),
            y: Some(y),
            ..DataSpec::generator(DataSource::Inline, 0, 0.0)
        }
    }

    fn message(spec: &DataSpec) -> String {
        match validate(spec) {
            Ok(()) => panic!("expected an error for {spec:?}"),
            Err(e) => e.message,
        }
    }

    fn formula_spec(text: &str, inputs: Option<usize>, n: usize, noise: f64) -> DataSpec {
        DataSpec {
            formula: Some(text.into()),
            inputs,
            ..DataSpec::generator(DataSource::Formula, n, noise)
        }
    }

    #[test]
    fn ndarray_in_and_out() {
        use ndarray::{Array1, Array2, ShapeBuilder};
        // A column-major (Fortran-order) array goes in by value, whatever its layout.
        let x = Array2::from_shape_vec((3, 2).f(), vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]).unwrap();
        let y = Array1::from(vec![0.0, 1.0, 2.0]);
        let ds = Dataset::from_arrays(x.view(), y.view(), None).unwrap();
        assert_eq!(ds.x, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(
            (ds.inputs, ds.classes, ds.task),
            (2, 3, Task::Classification)
        );
        assert_eq!(ds.x_view(), x);
        assert_eq!(ds.y_view(), y);
        // The view shares the data set's memory.
        assert_eq!(ds.x_view().as_ptr(), ds.x.as_ptr());
        let r = Dataset::from_arrays(x.view(), y.view(), Some(Task::Regression)).unwrap();
        assert_eq!((r.task, r.classes), (Task::Regression, 0));
        let e = |x: Array2<f64>, y: Array1<f64>, t| {
            Dataset::from_arrays(x.view(), y.view(), t)
                .unwrap_err()
                .to_string()
        };
        assert!(e(x.clone(), Array1::zeros(2), None).contains("y has 2 values but x has 3 rows"));
        let mut bad = x.clone();
        bad[[2, 1]] = f64::NAN;
        assert!(e(bad, y.clone(), None).contains("x[2][1]"));
        let half = Array1::from(vec![0.0, 0.5, 1.0]);
        assert!(e(x.clone(), half, Some(Task::Classification)).contains("y[1]"));
        assert!(e(Array2::zeros((0, 2)), Array1::zeros(0), None).contains("0 × 2"));
    }

    #[test]
    fn formula_conditions_label_classes_and_numbers_give_targets() {
        // Without noise every label is the condition at its own point, checked independently.
        let ds = generate(&formula_spec("x1^2 + x2 > 0.5", None, 500, 0.0), 7).unwrap();
        assert_eq!(
            (ds.inputs, ds.classes, ds.task),
            (2, 2, Task::Classification)
        );
        assert_eq!(ds.rows(), 500);
        let mut ones = 0;
        for i in 0..ds.rows() {
            let p = ds.row(i);
            assert!(p.iter().all(|v| (-1.0..1.0).contains(v)));
            let want = if p[0] * p[0] + p[1] > 0.5 { 1.0 } else { 0.0 };
            assert_eq!(ds.y[i], want, "row {i} at {p:?}");
            ones += want as usize;
        }
        // Both classes are there (area of x1^2 + x2 > 0.5 in [-1,1]^2 is about 0.36 of it).
        assert!((100..300).contains(&ones), "{ones} points of class 1");

        let ds = generate(&formula_spec("sin(3*x1)", None, 200, 0.0), 7).unwrap();
        assert_eq!((ds.inputs, ds.classes, ds.task), (1, 0, Task::Regression));
        for i in 0..ds.rows() {
            assert_eq!(ds.y[i], (3.0 * ds.x[i]).sin());
        }
        // inputs may exceed what the formula names; a 1-column condition stays 1-D.
        let ds = generate(&formula_spec("x1 > 0", Some(3), 10, 0.0), 1).unwrap();
        assert_eq!((ds.inputs, ds.x.len()), (3, 30));
        assert_eq!(
            generate(&formula_spec("x1 > 0", None, 10, 0.0), 1)
                .unwrap()
                .inputs,
            1
        );
        // Same seed, same rows; the noise moves the same points.
        let a = generate(&formula_spec("x1 - x2", None, 50, 0.0), 3).unwrap();
        assert_eq!(
            a,
            generate(&formula_spec("x1 - x2", None, 50, 0.0), 3).unwrap()
        );
        let b = generate(&formula_spec("x1 - x2", None, 50, 0.1), 3).unwrap();
        assert_eq!(a.x, b.x);
        assert_ne!(a.y, b.y);
    }

    #[test]
    fn formula_errors_name_the_field_and_the_column() {
        let e = |spec: DataSpec| generate(&spec, 1).unwrap_err().to_string();
        let msg = e(DataSpec::generator(DataSource::Formula, 10, 0.0));
        assert!(
            msg.contains("data.formula") && msg.contains("required"),
            "{msg}"
        );
        let msg = e(formula_spec("x1 + * 2", None, 10, 0.0));
        assert!(
            msg.contains("data.formula") && msg.contains("column 6"),
            "{msg}"
        );
        let msg = e(formula_spec("x1 + x3", Some(2), 10, 0.0));
        assert!(msg.contains("x1 … x2"), "{msg}");
        let msg = e(formula_spec("x1", Some(0), 10, 0.0));
        assert!(msg.contains("data.inputs"), "{msg}");
        let msg = e(formula_spec("x1", Some(17), 10, 0.0));
        assert!(msg.contains("data.inputs"), "{msg}");
        let msg = e(formula_spec("sqrt(x1)", None, 100, 0.0));
        assert!(msg.contains("NaN at x = (-"), "{msg}");
        let mut spec = formula_spec("x1", None, 10, 0.0);
        spec.task = Some(Task::Classification);
        assert!(e(spec).contains("write a condition"));
        let mut spec = formula_spec("x1 > 0", None, 10, 0.0);
        spec.task = Some(Task::Regression);
        assert!(e(spec).contains("is a condition"));
        let msg = e(formula_spec("x1", None, 0, 0.0));
        assert!(msg.contains("data.n"), "{msg}");
    }

    #[test]
    fn dataset_rows_row_and_empty_like() {
        let ds = Dataset {
            inputs: 2,
            x: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            y: vec![0.0, 1.0, 0.0],
            task: Task::Classification,
            classes: 2,
        };
        assert_eq!(ds.rows(), 3);
        assert_eq!(ds.row(1), &[3.0, 4.0]);
        let e = ds.empty_like();
        assert_eq!((e.rows(), e.inputs, e.classes, e.task), (0, 2, 2, ds.task));
        assert!(e.x.is_empty());
    }

    #[test]
    fn inline_detects_classification() {
        let spec = inline_spec(vec![vec![0.0], vec![1.0], vec![2.0]], vec![0.0, 2.0, 1.0]);
        let ds = generate(&spec, 1).unwrap();
        assert_eq!(ds.task, Task::Classification);
        assert_eq!(ds.classes, 3);
        assert_eq!(ds.inputs, 1);
        assert_eq!(ds.x, vec![0.0, 1.0, 2.0]);
        assert_eq!(ds.y, vec![0.0, 2.0, 1.0]);
        // A single class still makes a two-class problem.
        let spec = inline_spec(vec![vec![0.0, 1.0]], vec![0.0]);
        let ds = generate(&spec, 1).unwrap();
        assert_eq!((ds.task, ds.classes), (Task::Classification, 2));
    }

    #[test]
    fn inline_detects_regression_and_obeys_task() {
        let spec = inline_spec(vec![vec![0.0], vec![1.0]], vec![0.5, 1.0]);
        let ds = generate(&spec, 1).unwrap();
        assert_eq!((ds.task, ds.classes), (Task::Regression, 0));
        for y in [vec![-1.0, 1.0], vec![0.0, 1000.0]] {
            let ds = generate(&inline_spec(vec![vec![0.0], vec![1.0]], y), 1).unwrap();
            assert_eq!(ds.task, Task::Regression);
        }
        let mut spec = inline_spec(vec![vec![0.0], vec![1.0]], vec![0.0, 1.0]);
        spec.task = Some(Task::Regression);
        let ds = generate(&spec, 1).unwrap();
        assert_eq!((ds.task, ds.classes), (Task::Regression, 0));
        spec.task = Some(Task::Classification);
        spec.y = Some(vec![0.0, 1.5]);
        assert_eq!(
            message(&spec),
            "data.y[1] = 1.5 is not a class index (an integer from 0 to 999)"
        );
    }

    #[test]
    fn csv_source_is_not_generated() {
        let mut spec = DataSpec::generator(DataSource::Csv, 10, 0.0);
        spec.path = Some("points.csv".into());
        let e = generate(&spec, 1).unwrap_err();
        assert!(e.message.contains("from_csv"), "{}", e.message);
    }

    #[test]
    fn validate_messages() {
        use DataSource::*;
        let g = DataSpec::generator;
        assert_eq!(message(&g(Xor, 0, 0.0)), "data.n must be at least 1");
        assert_eq!(
            message(&g(Sin, 1_000_000_000_000, 0.0)),
            "data.n = 1e12 is too large (at most 10000000)"
        );
        assert_eq!(
            message(&g(Sin, 10_000_001, 0.0)),
            "data.n = 10000001 is too large (at most 10000000)"
        );
        assert!(validate(&g(Sin, MAX_ROWS, 0.0)).is_ok());
        for noise in [-0.1, f64::NAN, f64::INFINITY] {
            assert_eq!(
                message(&g(Circle, 10, noise)),
                "data.noise must be finite and ≥ 0"
            );
        }
        for tf in [-0.1, 1.0, f64::NAN] {
            let mut s = g(Circle, 10, 0.0);
            s.test_fraction = tf;
            assert_eq!(message(&s), "data.test_fraction must be in [0, 1)");
        }
        for k in [0, 1, 33] {
            let mut s = g(Blobs, 10, 0.0);
            s.classes = Some(k);
            assert_eq!(message(&s), "data.classes must be between 2 and 32");
        }
        for b in [0, 17] {
            let mut s = g(Boolean, 10, 0.0);
            s.bits = Some(b);
            assert_eq!(message(&s), "data.bits must be between 1 and 16");
        }
        for t in [0, 4097] {
            let mut s = g(Sawtooth, 10, 0.0);
            s.teeth = Some(t);
            assert_eq!(message(&s), "data.teeth must be between 1 and 4096");
        }
        for m in [-0.1, 1.5, f64::NAN] {
            let mut s = g(Linear, 10, 0.0);
            s.margin = Some(m);
            assert_eq!(message(&s), "data.margin must be finite and in [0, 1]");
        }
        assert_eq!(
            message(&g(Csv, 10, 0.0)),
            "data.path is required for source csv"
        );
        let ragged = inline_spec(
            vec![vec![0.0; 3], vec![0.0; 3], vec![0.0; 3], vec![0.0; 2]],
            vec![0.0; 4],
        );
        assert_eq!(
            message(&ragged),
            "data.x[3] has 2 values but data.x[0] has 3"
        );
        let short = inline_spec(vec![vec![0.0]; 6], vec![0.0; 5]);
        assert_eq!(message(&short), "data.y has 5 values but data.x has 6 rows");
        let mut x = vec![vec![0.0, 0.0]; 3];
        x[2][1] = f64::NAN;
        assert_eq!(
            message(&inline_spec(x, vec![0.0; 3])),
            "data.x[2][1] is not finite"
        );
        let mut s = inline_spec(vec![vec![0.0]; 2], vec![0.0, f64::INFINITY]);
        assert_eq!(message(&s), "data.y[1] is not finite");
        s.x = None;
        assert_eq!(message(&s), "data.x is required for source inline");
        assert_eq!(
            message(&inline_spec(vec![], vec![])),
            "data.x must have at least 1 row"
        );
        assert_eq!(
            message(&inline_spec(vec![vec![]], vec![0.0])),
            "data.x[0] must have at least 1 value"
        );
        // Fields a source does not use are not checked; the generate path validates too.
        let mut s = g(Boolean, 0, -1.0);
        s.classes = Some(99);
        assert!(validate(&s).is_ok());
        assert!(generate(&g(Xor, 0, 0.0), 1).is_err());
    }

    #[test]
    fn compact_numbers() {
        assert_eq!(compact(1_000_000_000_000), "1e12");
        assert_eq!(compact(25_000_000), "2.5e7");
        assert_eq!(compact(10_000_001), "10000001");
        assert_eq!(compact(usize::MAX), usize::MAX.to_string());
    }

    /// Rows whose first input is their original index, so split parts can be traced back.
    fn indexed(n: usize, classes: usize) -> Dataset {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            x.extend_from_slice(&[i as f64, 0.5]);
            // Unequal classes (2/7, 2/7 and 3/7 of the rows with three classes).
            y.push(if classes == 0 {
                i as f64 * 0.1
            } else {
                ((i % 7) as f64)
                    .log2()
                    .max(0.0)
                    .floor()
                    .min(classes as f64 - 1.0)
            });
        }
        Dataset {
            inputs: 2,
            x,
            y,
            task: if classes == 0 {
                Task::Regression
            } else {
                Task::Classification
            },
            classes,
        }
    }

    fn ids(ds: &Dataset) -> Vec<usize> {
        (0..ds.rows()).map(|i| ds.row(i)[0] as usize).collect()
    }

    #[test]
    fn split_sizes_disjoint_and_complete() {
        for (n, f) in [(100, 0.2), (101, 0.25), (7, 0.5), (10, 0.0), (3, 0.3)] {
            for classes in [0, 3] {
                let ds = indexed(n, classes);
                let (train, test) = split(&ds, f, 9);
                let expected = (f * n as f64).round() as usize;
                assert_eq!(test.rows(), expected, "n {n} f {f}");
                assert_eq!(train.rows(), n - expected);
                let mut all = ids(&train);
                all.extend(ids(&test));
                all.sort();
                assert_eq!(all, (0..n).collect::<Vec<_>>());
                // Rows travel with their targets.
                for part in [&train, &test] {
                    for i in 0..part.rows() {
                        let id = part.row(i)[0] as usize;
                        assert_eq!(part.y[i], ds.y[id]);
                    }
                    assert_eq!(
                        (part.inputs, part.task, part.classes),
                        (2, ds.task, classes)
                    );
                }
            }
        }
    }

    #[test]
    fn split_keeps_a_training_row_and_survives_odd_fractions() {
        let ds = indexed(10, 2);
        assert_eq!(split(&ds, 0.99, 1).0.rows(), 1);
        assert_eq!(split(&ds, f64::NAN, 1).1.rows(), 0);
        assert_eq!(split(&ds, -3.0, 1).1.rows(), 0);
        assert_eq!(split(&ds.empty_like(), 0.5, 1).0.rows(), 0);
        let one = indexed(1, 2);
        assert_eq!(split(&one, 0.5, 1).0.rows(), 1);
    }

    #[test]
    fn split_is_deterministic_and_seeded() {
        let ds = indexed(200, 3);
        let a = split(&ds, 0.3, 5);
        assert_eq!(a, split(&ds, 0.3, 5));
        let b = split(&ds, 0.3, 6);
        assert_ne!(ids(&a.1), ids(&b.1));
        // Shuffled, not in the original order.
        let t = ids(&a.0);
        assert!(t.windows(2).any(|w| w[0] > w[1]));
    }

    #[test]
    fn split_is_stratified() {
        let ds = indexed(700, 3);
        let count = |d: &Dataset, c: f64| d.y.iter().filter(|&&v| v == c).count();
        let (_, test) = split(&ds, 0.2, 3);
        for c in 0..3 {
            let c = c as f64;
            let share = 0.2 * count(&ds, c) as f64;
            assert!(
                (count(&test, c) as f64 - share).abs() < 1.0,
                "class {c}: {} vs {share}",
                count(&test, c)
            );
        }
    }

    #[test]
    fn apportion_meets_the_total() {
        assert_eq!(apportion(&[5, 5, 5], 0.5, 8), vec![3, 3, 2]);
        assert_eq!(apportion(&[1, 1, 1], 0.5, 2), vec![1, 1, 0]);
        assert_eq!(apportion(&[10, 0], 0.25, 3), vec![3, 0]);
        assert_eq!(apportion(&[], 0.5, 0), Vec::<usize>::new());
    }
}
