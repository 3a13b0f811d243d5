//! `nnlab lessons`: list the bundled lessons, or verify them headless and print a table.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::lessons::{self, LessonFile, LessonResult, Mode};

/// What `nnlab lessons` does: list, or verify (which lessons, how many seeds, how fast).
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
    /// Re-run every lesson and its control with seeds 1..=N (data and initialisation) and
    /// print each lesson's pass rate; a lesson must pass, and its control fail, on at least
    /// 95 % of the seeds (19 of 20).
    #[arg(long)]
    pub seeds: Option<u64>,
    /// Store the numbers the lesson texts quote (`{variant.metric}`) as measured by the full
    /// check at each session's seed, in the lesson files.
    #[arg(long)]
    pub write_measured: bool,
}

/// Ok(0) when every check passed (or when only listing), Ok(1) on any miss.
pub fn lessons(args: &LessonsArgs) -> Result<i32> {
    let dir = args.dir.clone().unwrap_or_else(lessons::default_dir);
    if args.write_measured {
        declare_quotes(&dir, args.only.as_deref())?;
    }
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
    if args.write_measured {
        if args.fast || args.seeds.is_some() {
            return Err(Error::field(
                "--write-measured",
                "stores the full check at the session's seed: drop --fast and --seeds",
            ));
        }
        for f in &mut files {
            write_measured(f)?;
            let _ = writeln!(out, "{}: quoted numbers written", f.name);
        }
    }
    let start = std::time::Instant::now();
    if let Some(n) = args.seeds {
        if !(1..=1000).contains(&n) {
            return Err(Error::field("--seeds", "must be between 1 and 1000"));
        }
        let runs = run_seeds(&files, mode, args.jobs, n);
        let ok = print_seed_table(&mut out, &files, &runs, n);
        let _ = writeln!(
            out,
            "{} lessons × {n} seeds (and controls) in {:.1} s",
            files.len(),
            start.elapsed().as_secs_f64()
        );
        return Ok(if ok { 0 } else { 1 });
    }
    let results = run_all(&files, mode, args.jobs);
    let ok = print_table(&mut out, &results);
    let passed = results.iter().filter(|r| r.verified()).count();
    let _ = writeln!(
        out,
        "{passed}/{} lessons passed (with their controls failing) in {:.1} s",
        results.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(if ok { 0 } else { 1 })
}

/// Before --write-measured: make every lesson file's `lesson.check.measured` list exactly the
/// numbers its texts quote (new ones at 0), so that the files load and the check measures them.
fn declare_quotes(dir: &std::path::Path, only: Option<&str>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        if path.extension().and_then(|s| s.to_str()) != Some("json")
            || only.is_some_and(|o| stem.as_deref() != Some(o))
        {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        let mut value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        let Some(lesson) = value.get("lesson") else {
            continue;
        };
        let mut keys = std::collections::BTreeSet::new();
        for ptr in ["/title", "/text", "/check/control/text"] {
            for lang in ["en", "zh"] {
                if let Some(s) = lesson
                    .pointer(&format!("{ptr}/{lang}"))
                    .and_then(|v| v.as_str())
                {
                    keys.extend(lessons::placeholders(s).into_iter().map(|(k, _)| k));
                }
            }
        }
        let Some(check) = value
            .pointer_mut("/lesson/check")
            .and_then(|c| c.as_object_mut())
        else {
            continue;
        };
        let old = check.get("measured").cloned().unwrap_or_default();
        let mut stored = serde_json::Map::new();
        for k in keys {
            let v = old.get(&k).cloned().unwrap_or(serde_json::json!(0.0));
            stored.insert(k, v);
        }
        if stored.is_empty() {
            check.remove("measured");
        } else {
            check.insert("measured".into(), serde_json::Value::Object(stored));
        }
        let pretty = serde_json::to_string_pretty(&value)
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        std::fs::write(&path, pretty + "\n")
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

/// Run the full check at the session's seed and store the values its texts quote.
fn write_measured(file: &mut LessonFile) -> Result<()> {
    let text = std::fs::read_to_string(&file.path)
        .map_err(|e| Error::new(format!("{}: {e}", file.path.display())))?;
    let mut value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::new(format!("{}: {e}", file.path.display())))?;
    let lesson = file.lesson().clone();
    let mut texts = vec![&lesson.text, &lesson.title];
    if let Some(c) = &lesson.check.control {
        texts.push(&c.text);
    }
    let keys: std::collections::BTreeSet<String> = texts
        .iter()
        .flat_map(|t| [&t.en, &t.zh])
        .flat_map(|s| lessons::placeholders(s))
        .map(|(k, _)| k)
        .collect();
    let mut lesson = lesson.clone();
    lesson.check.measured = keys.iter().map(|k| (k.clone(), 0.0)).collect();
    lesson.check.control = None;
    let r = lessons::run_session_lesson(
        &file.session,
        &lesson,
        file.path.parent(),
        &file.name,
        Mode::Full,
    );
    if let Some(e) = r.error {
        return Err(Error::new(format!("{}: {e}", file.name)));
    }
    let mut stored = serde_json::Map::new();
    for k in &keys {
        let v = r.values.get(k).copied().unwrap_or(f64::NAN);
        let n = serde_json::Number::from_f64(v)
            .ok_or_else(|| Error::new(format!("{}: {k} measured {v}", file.name)))?;
        stored.insert(k.clone(), serde_json::Value::Number(n));
    }
    let check_value = value
        .pointer_mut("/lesson/check")
        .and_then(|c| c.as_object_mut())
        .ok_or_else(|| Error::new(format!("{}: no lesson.check", file.name)))?;
    if stored.is_empty() {
        check_value.remove("measured");
    } else {
        check_value.insert("measured".into(), serde_json::Value::Object(stored));
    }
    let pretty = serde_json::to_string_pretty(&value)
        .map_err(|e| Error::new(format!("{}: {e}", file.name)))?;
    std::fs::write(&file.path, pretty + "\n")
        .map_err(|e| Error::new(format!("{}: {e}", file.path.display())))?;
    *file = lessons::load_file(&file.path)?;
    Ok(())
}

/// Run the checks (and controls) at each session's seed on `jobs` threads; results in the
/// order of `files`.
pub fn run_all(files: &[LessonFile], mode: Mode, jobs: usize) -> Vec<LessonResult> {
    let tasks: Vec<(usize, Option<u64>)> = (0..files.len()).map(|i| (i, None)).collect();
    run_tasks(files, &tasks, mode, jobs)
}

/// Run every lesson (and its control) with seeds 1..=n; `out[i][s − 1]` is lesson i at seed s.
pub fn run_seeds(files: &[LessonFile], mode: Mode, jobs: usize, n: u64) -> Vec<Vec<LessonResult>> {
    let tasks: Vec<(usize, Option<u64>)> = (0..files.len())
        .flat_map(|i| (1..=n).map(move |s| (i, Some(s))))
        .collect();
    let flat = run_tasks(files, &tasks, mode, jobs);
    let mut out: Vec<Vec<LessonResult>> = vec![Vec::new(); files.len()];
    for ((i, _), r) in tasks.iter().zip(flat) {
        out[*i].push(r);
    }
    out
}

/// Run (lesson, seed) tasks on `jobs` threads, each thread taking the next task in order;
/// results in the order of `tasks` (each check is deterministic whichever thread ran it).
fn run_tasks(
    files: &[LessonFile],
    tasks: &[(usize, Option<u64>)],
    mode: Mode,
    jobs: usize,
) -> Vec<LessonResult> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<LessonResult>>> = Mutex::new(vec![None; tasks.len()]);
    std::thread::scope(|s| {
        for _ in 0..jobs.min(tasks.len()).max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&(f, seed)) = tasks.get(i) else {
                        break;
                    };
                    let file = &files[f];
                    let r = match seed {
                        Some(seed) => lessons::run_lesson_seeded(file, mode, seed),
                        None => lessons::run_lesson(file, mode),
                    };
                    eprintln!(
                        "{:<28} seed {:<4} {} ({:.1} s)",
                        r.name,
                        r.seed,
                        if r.verified() { "pass" } else { "FAIL" },
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

/// Passes on at least 95 % of the seeds (19 of 20).
fn enough(k: usize, n: u64) -> bool {
    20 * k as u64 >= 19 * n
}

/// One line per lesson: pass rate, control fail rate, verdict; returns whether all hold.
fn print_seed_table(
    out: &mut impl Write,
    files: &[LessonFile],
    runs: &[Vec<LessonResult>],
    n: u64,
) -> bool {
    let w = files.iter().map(|f| f.name.len()).max().unwrap_or(6).max(6);
    let _ = writeln!(
        out,
        "{:<w$}  row  passed    control failed  verdict",
        "lesson"
    );
    let mut all = true;
    for (f, rs) in files.iter().zip(runs) {
        let passed: Vec<u64> = rs.iter().filter(|r| r.passed()).map(|r| r.seed).collect();
        let control_failed = rs
            .iter()
            .filter(|r| r.control.as_ref().is_some_and(|c| c.failed_as_expected()))
            .count();
        let has_control = f.lesson().check.control.is_some();
        let verdict = if !has_control {
            "BROKEN: no control".to_string()
        } else if !enough(control_failed, n) {
            "BROKEN: the control passes".to_string()
        } else if !enough(passed.len(), n) {
            "FAIL: too few seeds pass".to_string()
        } else {
            "ok, control fails as expected".to_string()
        };
        all &= verdict.starts_with("ok");
        let missed: Vec<String> = rs
            .iter()
            .filter(|r| !r.passed())
            .map(|r| r.seed.to_string())
            .collect();
        let missed = if missed.is_empty() {
            String::new()
        } else {
            format!("  (missed at seed {})", missed.join(", "))
        };
        let _ = writeln!(
            out,
            "{:<w$}  {:>3}  {:>3}/{:<4}  {:>3}/{:<10}  {verdict}{missed}",
            f.name,
            f.lesson().row,
            passed.len(),
            n,
            control_failed,
            n
        );
    }
    all
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
        lines.push(control_line(r));
        for s in &r.stale {
            lines.push([
                String::new(),
                String::new(),
                format!("quoted number is stale: {s}"),
                "(nnlab lessons --verify --write-measured)".into(),
                "FAIL".into(),
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
    results.iter().all(|r| r.verified())
}

/// The control's line: the first expectation it misses, and whether that is as it should be.
fn control_line(r: &LessonResult) -> [String; 5] {
    let blank = String::new;
    match &r.control {
        None => [
            blank(),
            blank(),
            "control: none declared".into(),
            blank(),
            "BROKEN".into(),
        ],
        Some(c) => {
            if let Some(e) = &c.error {
                return [
                    blank(),
                    blank(),
                    format!("control: error: {e}"),
                    blank(),
                    "BROKEN".into(),
                ];
            }
            match c.results.iter().find(|x| !x.pass) {
                Some(x) => [
                    blank(),
                    blank(),
                    format!(
                        "control: {}.{} = {}",
                        x.variant,
                        x.metric,
                        crate::lessons::fmt_num(x.measured)
                    ),
                    x.expected.clone(),
                    "control fails as expected".into(),
                ],
                None => [
                    blank(),
                    blank(),
                    "control: every expectation holds there too".into(),
                    blank(),
                    "BROKEN".into(),
                ],
            }
        }
    }
}
