//! CSV text → `Dataset`. Deliberately small: comma separated, header row, numbers only, no
//! quoting beyond stripping a pair of double quotes around a field. Every error names the file,
//! the line and (where there is one) the column, because the user has to go and fix the file.

use super::spec::Task;
use super::{Dataset, MAX_ROWS, is_class_index, not_a_class_index, task_and_classes};
use crate::error::{Error, Result};

/// Parses `text`: a header row, then one row per sample; the last column is the target, every
/// other column an input; all of them numbers. Whitespace around fields is trimmed and blank
/// lines are skipped. `task` forces classification or regression; `None` guesses
/// classification when every target is a small non-negative integer. `name` (the file name)
/// starts every error message.
pub fn from_csv(text: &str, name: &str, task: Option<Task>) -> Result<Dataset> {
    parse(text, task, MAX_ROWS).map_err(|e| e.context(name))
}

fn parse(text: &str, task: Option<Task>, max_rows: usize) -> Result<Dataset> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // (1-based line number, line), blank lines dropped.
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());

    let Some((_, header)) = lines.next() else {
        return Err(Error::new("the file is empty (a header row is required)"));
    };
    let columns: Vec<&str> = header.split(',').map(field).collect();
    if columns.len() < 2 {
        return Err(Error::new(
            "the header has only one column (need at least one input column and the target as the last column)",
        ));
    }
    let width = columns.len();
    let inputs = width - 1;

    let mut x = Vec::new();
    let mut y = Vec::new();
    for (line, l) in lines {
        if y.len() == max_rows {
            return Err(Error::new(format!(
                "line {line}: more than {max_rows} data rows"
            )));
        }
        let fields: Vec<&str> = l.split(',').map(field).collect();
        if fields.len() != width {
            return Err(Error::new(format!(
                "line {line} has {} fields but the header has {width}",
                fields.len()
            )));
        }
        for (j, (f, col)) in fields.iter().zip(&columns).enumerate() {
            let bad =
                |what: &str| Error::new(format!("line {line}, column \"{col}\": \"{f}\" {what}"));
            let v: f64 = f.parse().map_err(|_| bad("is not a number"))?;
            if !v.is_finite() {
                return Err(bad("is not a finite number"));
            }
            if j < inputs {
                x.push(v);
            } else {
                if task == Some(Task::Classification) && !is_class_index(v) {
                    return Err(bad(&not_a_class_index()));
                }
                y.push(v);
            }
        }
    }
    if y.is_empty() {
        return Err(Error::new("no data rows after the header"));
    }
    let (task, classes) = task_and_classes(task, &y);
    Ok(Dataset {
        inputs,
        x,
        y,
        task,
        classes,
    })
}

/// A field without its surrounding whitespace and one pair of surrounding double quotes.
fn field(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .map_or(s, str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match from_csv(text, "points.csv", None) {
            Ok(ds) => panic!("expected an error, got {ds:?}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn happy_path_classification() {
        let text = "x1, x2 ,label\n0.5,-1,0\n\n  1e-3 , 2 , 1 \r\n3,4,2\n";
        let ds = from_csv(text, "points.csv", None).unwrap();
        assert_eq!(ds.inputs, 2);
        assert_eq!(ds.rows(), 3);
        assert_eq!(ds.x, vec![0.5, -1.0, 1e-3, 2.0, 3.0, 4.0]);
        assert_eq!(ds.y, vec![0.0, 1.0, 2.0]);
        assert_eq!((ds.task, ds.classes), (Task::Classification, 3));
    }

    #[test]
    fn happy_path_regression_bom_crlf_and_quotes() {
        let text = "\u{feff}\"x\",\"y\"\r\n1,0.25\r\n\"2\",-3\r\n";
        let ds = from_csv(text, "f.csv", None).unwrap();
        assert_eq!((ds.inputs, ds.rows()), (1, 2));
        assert_eq!(ds.x, vec![1.0, 2.0]);
        assert_eq!(ds.y, vec![0.25, -3.0]);
        assert_eq!((ds.task, ds.classes), (Task::Regression, 0));
    }

    #[test]
    fn task_override() {
        let text = "a,b\n1,0\n2,1\n";
        let ds = from_csv(text, "f.csv", Some(Task::Regression)).unwrap();
        assert_eq!((ds.task, ds.classes), (Task::Regression, 0));
        let ds = from_csv(text, "f.csv", Some(Task::Classification)).unwrap();
        assert_eq!((ds.task, ds.classes), (Task::Classification, 2));
        let e = from_csv("a,b\n1,0\n\n2,0.5\n", "f.csv", Some(Task::Classification)).unwrap_err();
        assert_eq!(
            e.message,
            "f.csv: line 4, column \"b\": \"0.5\" is not a class index (an integer from 0 to 999)"
        );
    }

    #[test]
    fn errors_name_file_line_and_column() {
        assert_eq!(
            err("x1,x2,y\n1,2,0\n1,2,1\n\n1,2,0\n1,2,1\n1,abc,0\n"),
            "points.csv: line 7, column \"x2\": \"abc\" is not a number"
        );
        assert_eq!(
            err("x1,x2,y\n1,2,0\n1,2,1\n1,2\n"),
            "points.csv: line 4 has 2 fields but the header has 3"
        );
        assert_eq!(
            err("x1,x2,y\n1,2,0,5\n"),
            "points.csv: line 2 has 4 fields but the header has 3"
        );
        assert_eq!(
            err("x,y\n1,\n"),
            "points.csv: line 2, column \"y\": \"\" is not a number"
        );
        assert_eq!(
            err("x,y\nNaN,1\n"),
            "points.csv: line 2, column \"x\": \"NaN\" is not a finite number"
        );
        assert_eq!(
            err("x,y\n1,inf\n"),
            "points.csv: line 2, column \"y\": \"inf\" is not a finite number"
        );
        assert_eq!(
            err("x1,x2,y\n\n  \n"),
            "points.csv: no data rows after the header"
        );
        assert_eq!(
            err(""),
            "points.csv: the file is empty (a header row is required)"
        );
        assert_eq!(
            err(" \n\n"),
            "points.csv: the file is empty (a header row is required)"
        );
        assert!(err("y\n1\n2\n").starts_with("points.csv: the header has only one column"));
    }

    #[test]
    fn row_limit() {
        let text = "x,y\n1,0\n\n2,1\n3,0\n";
        assert_eq!(parse(text, None, 3).unwrap().rows(), 3);
        let e = parse(text, None, 2).unwrap_err();
        assert_eq!(e.message, "line 5: more than 2 data rows");
    }
}
