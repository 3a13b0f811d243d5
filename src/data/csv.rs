//! CSV text → `Dataset`. Comma separated with RFC 4180 quoting (the `csv` crate: a quoted
//! cell may hold commas, doubled quotes and line breaks), a header row, numbers only. Every
//! error names the file, the line and (where there is one) the column, because the user has
//! to go and fix the file.

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
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        // Rows of the wrong width get our message, with the line, below.
        .flexible(true)
        .from_reader(text.as_bytes());
    // (1-based line where the record starts, record), blank lines dropped: the reader skips
    // empty ones, a line of spaces is one blank field.
    let mut lines = LineCounter::new(text);
    let mut records = reader
        .records()
        .map(|r| {
            r.map_err(|e| Error::new(e.to_string())).map(|rec| {
                let byte = rec.position().map_or(0, |p| p.byte());
                (lines.line_at(byte), rec)
            })
        })
        .filter(|r| !matches!(r, Ok((_, rec)) if rec.len() == 1 && rec[0].trim().is_empty()));

    let header = match records.next() {
        None => return Err(Error::new("the file is empty (a header row is required)")),
        Some(r) => r?.1,
    };
    let columns: Vec<String> = header.iter().map(|f| field(f).to_string()).collect();
    if columns.len() < 2 {
        return Err(Error::new(
            "the header has only one column (need at least one input column and the target as the last column)",
        ));
    }
    let width = columns.len();
    let inputs = width - 1;

    let mut x = Vec::new();
    let mut y = Vec::new();
    for r in records {
        let (line, rec) = r?;
        if y.len() == max_rows {
            return Err(Error::new(format!(
                "line {line}: more than {max_rows} data rows"
            )));
        }
        if rec.len() != width {
            return Err(Error::new(format!(
                "line {line} has {} fields but the header has {width}",
                rec.len()
            )));
        }
        for (j, (f, col)) in rec.iter().map(field).zip(&columns).enumerate() {
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

/// Line numbers of records. The reader gives a record the position where it stood before
/// the empty lines it skipped, so the record's own first byte is found past them; newlines
/// are counted from the previous record on (records come in order).
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line of the record the reader placed at `byte`.
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .clamp(self.at, self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        self.line += self.text[self.at..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.at = start;
        self.line
    }
}

/// A field without its surrounding whitespace and one pair of surrounding double quotes (a
/// quote after a space, `a, "b"`, does not start quoting in RFC 4180, so it arrives here).
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
        // Empty, blank and CRLF lines before a row still count.
        assert_eq!(
            err("\n\nx,y\n1,0\n\n\n  \n\r\n2,a\n"),
            "points.csv: line 9, column \"y\": \"a\" is not a number"
        );
    }

    #[test]
    fn quoted_cells_may_hold_commas_quotes_and_line_breaks() {
        // The header names "height, cm" and "say ""hi""" are one column each.
        let text = "\"height, cm\",\"say \"\"hi\"\"\",\"class\nlabel\"\n170,\"1,5\"\n";
        let e = from_csv(text, "f.csv", None).unwrap_err();
        // The quoted "1,5" is one field (not two numbers): 2 fields, and it is not a number.
        assert_eq!(e.message, "f.csv: line 3 has 2 fields but the header has 3");
        let text =
            "\"height, cm\",\"say \"\"hi\"\"\",\"class\nlabel\"\n170,\"2\",1\n\n180, 3 ,\"0\"\n";
        let ds = from_csv(text, "f.csv", None).unwrap();
        assert_eq!((ds.inputs, ds.rows()), (2, 2));
        assert_eq!(ds.x, vec![170.0, 2.0, 180.0, 3.0]);
        assert_eq!(ds.y, vec![1.0, 0.0]);
        // Errors name the column as written and the line where the row starts.
        let text = "\"a,b\",y\n1,0\n\"x\ny\",1\n";
        assert_eq!(
            from_csv(text, "f.csv", None).unwrap_err().message,
            "f.csv: line 3, column \"a,b\": \"x\ny\" is not a number".replace('\n', "\\n")
        );
    }

    #[test]
    fn wide_files_parse() {
        let cols = 10_000;
        let mut text: String = (1..=cols).map(|j| format!("\"x{j}, raw\",")).collect();
        text.push_str("label\n");
        for r in 0..3 {
            let row: Vec<String> = (0..cols)
                .map(|j| format!("{}", (r * cols + j) % 7))
                .collect();
            text.push_str(&row.join(","));
            text.push_str(&format!(",{}\n", r % 2));
        }
        let ds = from_csv(&text, "wide.csv", None).unwrap();
        assert_eq!((ds.inputs, ds.rows()), (cols, 3));
        assert_eq!(ds.x[cols + 5], ((cols + 5) % 7) as f64);
        assert_eq!(ds.y, vec![0.0, 1.0, 0.0]);
        let e = from_csv(&text.replace(",0\n", ",0,9\n"), "wide.csv", None).unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "wide.csv: line 2 has {} fields but the header has {}",
                cols + 2,
                cols + 1
            )
        );
    }

    #[test]
    fn row_limit() {
        let text = "x,y\n1,0\n\n2,1\n3,0\n";
        assert_eq!(parse(text, None, 3).unwrap().rows(), 3);
        let e = parse(text, None, 2).unwrap_err();
        assert_eq!(e.message, "line 5: more than 2 data rows");
    }
}
