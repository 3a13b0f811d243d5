//! `nnlab lessons`: list the bundled lessons, or verify them headless and print a table.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::lessons::{self, LessonFile, LessonResult, Mode};

#[derive(clap::Args, Debug, Clone)]
pub struct LessonsArgs {
    /// Run every lesson's check and print measured against expected; exit 1 on any miss.
    #[arg(long)]
    pub verify: bool,
    /// Shorter runs where the claim still shows (what CI runs).
    #[arg(long)]
    pub fast: bool,
    /// Only the lesson with this name (the file name without .json).
    #[arg(long)]
    pub only: Option<String>,
    /// The lessons folder (default: sessions/lessons).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Checks run at once (each check is deterministic whatever this is).
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
}

/// Ok(0) when every check passed (or when only listing), Ok(1) on any miss.
pub fn lessons(args: &LessonsArgs) -> Result<i32> {
    let dir = args.dir.clone().unwrap_or_else(lessons::default_dir);
    let mut files = lessons::load_dir(&dir)?;
    if let Some(only) = &args.only {
        files.retain(|f| &f.name == only);
        if files.is_empty() {
            return Err(Error::field(
                "--only",
                format!("no lesson named \"{only}\" in {}", dir.display()),
            ));
        }
    }
    let mut out = std::io::stdout().lock();
    if !args.verify {
        let w = files.iter().map(|f| f.name.len()).max().unwrap_or(4).max(6);
        let _ = writeln!(out, "{:<w$}  row  title", "lesson");
        for f in &files {
            let l = f.lesson();
            let _ = writeln!(out, "{:<w$}  {:>3}  {}", f.name, l.row, l.title.en);
        }
        return Ok(0);
    }
    if !(1..=64).contains(&args.jobs) {
        return Err(Error::field("--jobs", "must be between 1 and 64"));
    }
    let mode = if args.fast { Mode::Fast } else { Mode::Full };
    let start = std::time::Instant::now();
    let results = run_all(&files, mode, args.jobs);
    let ok = print_table(&mut out, &results);
    let passed = results.iter().filter(|r| r.passed()).count();
    let _ = writeln!(
        out,
        "{passed}/{} lessons passed in {:.1} s",
        results.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(if ok { 0 } else { 1 })
}

/// Run the checks on `jobs` threads; results in the order of `files`.
pub fn run_all(files: &[LessonFile], mode: Mode, jobs: usize) -> Vec<LessonResult> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<LessonResult>>> = Mutex::new(vec![None; files.len()]);
    std::thread::scope(|s| {
        for _ in 0..jobs.min(files.len()).max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(f) = files.get(i) else { break };
                    let r = lessons::run_lesson(f, mode);
                    eprintln!(
                        "{:<28} {} ({:.1} s)",
                        r.name,
                        if r.passed() { "pass" } else { "FAIL" },
                        r.seconds
                    );
                    if let Ok(mut v) = slots.lock() {
                        v[i] = Some(r);
                    }
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// One line per expectation; returns whether everything passed.
fn print_table(out: &mut impl Write, results: &[LessonResult]) -> bool {
    let mut lines: Vec<[String; 5]> = Vec::new();
    for r in results {
        if let Some(e) = &r.error {
            lines.push([
                r.name.clone(),
                r.row.to_string(),
                format!("error: {e}"),
                String::new(),
                "FAIL".into(),
            ]);
            continue;
        }
        for (k, x) in r.results.iter().enumerate() {
            lines.push([
                if k == 0 {
                    r.name.clone()
                } else {
                    String::new()
                },
                if k == 0 {
                    r.row.to_string()
                } else {
                    String::new()
                },
                format!(
                    "{}.{} = {}",
                    x.variant,
                    x.metric,
                    crate::lessons::fmt_num(x.measured)
                ),
                x.expected.clone(),
                if x.pass { "pass" } else { "FAIL" }.into(),
            ]);
        }
    }
    let head = ["lesson", "row", "measured", "expected", "result"];
    let width = |c: usize| {
        lines
            .iter()
            .map(|l| l[c].chars().count())
            .chain([head[c].len()])
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..4).map(width).collect();
    let pad = |s: &str, n: usize| format!("{s}{}", " ".repeat(n.saturating_sub(s.chars().count())));
    let _ = writeln!(
        out,
        "{}  {}  {}  {}  {}",
        pad(head[0], w[0]),
        pad(head[1], w[1]),
        pad(head[2], w[2]),
        pad(head[3], w[3]),
        head[4]
    );
    for l in &lines {
        let _ = writeln!(
            out,
            "{}  {}  {}  {}  {}",
            pad(&l[0], w[0]),
            pad(&l[1], w[1]),
            pad(&l[2], w[2]),
            pad(&l[3], w[3]),
            l[4]
        );
    }
    results.iter().all(|r| r.passed())
}
