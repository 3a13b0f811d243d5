//! The bundled lessons: every file is a valid session with a bilingual lesson, every check
//! passes in fast mode (the whole set runs in a few seconds in release, so all of them are
//! verified here, not a subset), and a wrong expectation is reported as a miss with exit 1.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use nnlab::lessons::{self, Mode};

fn lessons_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sessions/lessons")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nnlab-lessons-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn nnlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nnlab"))
        .args(args)
        .output()
        .expect("run nnlab")
}

/// The THEORY.md rows with a lesson: every one, 1–38.
const ROWS: [u32; 38] = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
    27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38,
];

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn every_lesson_file_parses_and_is_bilingual() {
    let files = lessons::load_dir(&lessons_dir()).unwrap();
    assert!(files.len() >= 20, "only {} lessons", files.len());
    let mut rows = BTreeSet::new();
    let mut row_22 = 0;
    for f in &files {
        let l = f.lesson();
        assert!(
            ROWS.contains(&l.row),
            "{}: row {} is not in the list",
            f.name,
            l.row
        );
        // Row 22 has two: the quadratic's hard edge (r22_lr_edge) and progressive sharpening
        // up to it (r22_edge_of_stability).
        let second_of_22 = l.row == 22 && f.name.starts_with("r22_") && {
            row_22 += 1;
            row_22 == 2
        };
        assert!(
            rows.insert(l.row) || second_of_22,
            "{}: row {} has two lessons",
            f.name,
            l.row
        );
        for (what, t) in [("title", &l.title), ("text", &l.text)] {
            assert!(!t.en.trim().is_empty(), "{}: empty English {what}", f.name);
            assert!(has_cjk(&t.zh), "{}: the 中文 {what} has no Chinese", f.name);
            assert!(
                !has_cjk(&t.en),
                "{}: the English {what} has Chinese",
                f.name
            );
        }
        let sentences = l.text.en.matches(". ").count() + l.text.en.matches(".\n\n").count() + 1;
        assert!(
            (2..=8).contains(&sentences),
            "{}: {sentences} sentences",
            f.name
        );
        // Every lesson names its control, in both languages.
        let control = l
            .check
            .control
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no control", f.name));
        assert!(has_cjk(&control.text.zh) && !has_cjk(&control.text.en));
        // Every quoted number is one the check stores (load_dir refuses others) and is filled.
        for zh in [false, true] {
            let filled = lessons::fill(l.text.get(zh), &l.check.measured);
            assert!(
                lessons::placeholders(&filled).is_empty() && !filled.contains('?'),
                "{}: {filled}",
                f.name
            );
        }
        // Each lesson opens as an ordinary session: its data builds and it trains.
        let loaded = nnlab::session::load(&f.path).unwrap();
        let mut tr = nnlab::session::trainer(&loaded).unwrap();
        let r = tr.step();
        assert!(!r.diverged, "{}: the first step diverged", f.name);
    }
    assert_eq!(rows.len(), ROWS.len(), "rows covered: {rows:?}");
}

#[test]
fn every_fast_check_passes_and_is_deterministic() {
    let files = lessons::load_dir(&lessons_dir()).unwrap();
    let first = nnlab::cli::lessons::run_all(&files, Mode::Fast, 2);
    assert_eq!(first.len(), files.len());
    // Each lesson passes and its control fails (by a measured miss, not an error).
    let failed: Vec<String> = first
        .iter()
        .filter(|r| !r.verified())
        .map(|r| format!("{}: {:?} {:?} {:?}", r.name, r.error, r.results, r.control))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    // One thread instead of two: the same numbers to the last bit.
    let again = nnlab::cli::lessons::run_all(&files, Mode::Fast, 1);
    for (a, b) in first.iter().zip(&again) {
        for (x, y) in a.results.iter().zip(&b.results) {
            assert_eq!(
                x.measured.to_bits(),
                y.measured.to_bits(),
                "{} {}",
                a.name,
                x.metric
            );
        }
        let (ca, cb) = (a.control.as_ref().unwrap(), b.control.as_ref().unwrap());
        for (x, y) in ca.results.iter().zip(&cb.results) {
            assert_eq!(
                x.measured.to_bits(),
                y.measured.to_bits(),
                "{} control",
                a.name
            );
        }
    }
}

/// A lesson file rewritten by `edit`, in its own folder.
fn write_edited(dir: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let src = lessons_dir().join(format!("{name}.json"));
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    edit(&mut v);
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    path
}

#[test]
fn a_control_that_also_passes_is_flagged_broken() {
    // r16's control starts the unit unconfident; a control that changes nothing passes too.
    let dir = temp_dir("broken");
    let path = write_edited(&dir, "r16_bce_vs_mse", |v| {
        v["lesson"]["check"]["control"]["set"] = serde_json::json!({"seed": 14});
    });
    let r = lessons::run_lesson(&lessons::load_file(&path).unwrap(), Mode::Fast);
    assert!(r.passed() && !r.verified(), "{r:?}");
    assert!(!r.control.as_ref().unwrap().failed_as_expected());
    let out = nnlab(&["lessons", "--verify", "--dir", dir.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("BROKEN"), "{stdout}");
    // The bundled r16: the control misses, and the table says so.
    let out = nnlab(&["lessons", "--verify", "--only", "r16_bce_vs_mse"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("control fails as expected"), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn seeds_print_pass_rates_and_control_rates() {
    let out = nnlab(&[
        "lessons",
        "--verify",
        "--seeds",
        "3",
        "--only",
        "r09_vanishing_gradients",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("r09_vanishing_gradients"))
        .unwrap();
    // Passed on 3 of 3 seeds, control failed on 3 of 3.
    assert_eq!(line.matches("3/3").count(), 2, "{line}");
    assert!(line.contains("control fails as expected"), "{line}");
    // The seed replaces the session's: the numbers differ from seed to seed.
    let file = lessons::load_file(&lessons_dir().join("r09_vanishing_gradients.json")).unwrap();
    let a = lessons::run_lesson_seeded(&file, Mode::Fast, 1);
    let b = lessons::run_lesson_seeded(&file, Mode::Fast, 2);
    assert_eq!((a.seed, b.seed), (1, 2));
    assert_ne!(a.results[0].measured, b.results[0].measured);
}

#[test]
fn a_stale_quoted_number_fails_the_full_check() {
    let dir = temp_dir("stale");
    write_edited(&dir, "r09_vanishing_gradients", |v| {
        v["lesson"]["check"]["measured"]["relu_he.grad_ratio_first_last"] = serde_json::json!(0.5);
    });
    let out = nnlab(&["lessons", "--verify", "--dir", dir.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("stale") && stdout.contains("0.5000 →"),
        "{stdout}"
    );
    // --write-measured stores the measurement and the check passes again.
    let out = nnlab(&[
        "lessons",
        "--verify",
        "--write-measured",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(dir.join("r09_vanishing_gradients.json")).unwrap();
    let orig = std::fs::read_to_string(lessons_dir().join("r09_vanishing_gradients.json")).unwrap();
    assert_eq!(
        text, orig,
        "the rewritten file differs from the bundled one"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A copy of a lesson with its first expectation's constant replaced.
fn write_modified(dir: &Path, name: &str, value: f64) -> PathBuf {
    let src = lessons_dir().join(format!("{name}.json"));
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    v["lesson"]["check"]["expect"][0]["value"] = serde_json::json!(value);
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    path
}

#[test]
fn a_wrong_expectation_is_a_miss_and_exit_1() {
    let dir = temp_dir("wrong");
    // Row 9 expects the sigmoid ratio < 1e-3; demand < 1e-9, which the measured ~7e-7 misses.
    let path = write_modified(&dir, "r09_vanishing_gradients", 1e-9);
    let file = lessons::load_file(&path).unwrap();
    let r = lessons::run_lesson(&file, Mode::Fast);
    assert!(!r.passed());
    assert!(!r.results[0].pass && r.results[1].pass, "{:?}", r.results);
    assert!(r.results[0].measured > 1e-9 && r.results[0].measured < 1e-3);

    let out = nnlab(&[
        "lessons",
        "--verify",
        "--fast",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(stdout.contains("0/1 lessons passed"), "{stdout}");

    // The unmodified lesson in the same place passes with exit 0.
    let good = temp_dir("good");
    write_modified(&good, "r09_vanishing_gradients", 1e-3);
    let out = nnlab(&["lessons", "--verify", "--dir", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(good);
}

#[test]
fn listing_and_only() {
    let out = nnlab(&["lessons"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("r01_perceptron_novikoff"), "{text}");
    assert!(text.lines().count() > 20);
    let out = nnlab(&["lessons", "--verify", "--only", "r16_bce_vs_mse"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bce.output_grad") && !text.contains("r01"),
        "{text}"
    );
    let out = nnlab(&["lessons", "--only", "no_such_lesson"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no_such_lesson"), "{err}");
}

fn base_lesson() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(lessons_dir().join("r16_bce_vs_mse.json")).unwrap(),
    )
    .unwrap()
}

fn error_of(v: &serde_json::Value) -> String {
    let dir = temp_dir("bad");
    let path = dir.join("bad.json");
    std::fs::write(&path, v.to_string()).unwrap();
    let e = match lessons::load_file(&path) {
        Ok(f) => lessons::run_lesson(&f, Mode::Fast)
            .error
            .unwrap_or_else(|| "no error".into()),
        Err(e) => e.message,
    };
    let _ = std::fs::remove_dir_all(dir);
    e
}

#[test]
fn bad_checks_are_refused_with_a_message() {
    let mut v = base_lesson();
    v["lesson"]["check"]["expect"][0]["metric"] = "no_such_metric".into();
    let e = error_of(&v);
    assert!(e.contains("lesson.check.expect[0].metric"), "{e}");

    let mut v = base_lesson();
    v["lesson"]["check"]["expect"][0]["variant"] = "nobody".into();
    let e = error_of(&v);
    assert!(e.contains("nobody") && e.contains("not declared"), "{e}");

    let mut v = base_lesson();
    v["lesson"]["check"]["expect"][0]
        .as_object_mut()
        .unwrap()
        .remove("value");
    let e = error_of(&v);
    assert!(e.contains("exactly one of"), "{e}");

    let mut v = base_lesson();
    v["lesson"]["check"]["variants"][1]["set"] = serde_json::json!({"network.layers.7.units": 3});
    let e = error_of(&v);
    assert!(
        e.contains("variant mse") && e.contains("past the end"),
        "{e}"
    );

    let mut v = base_lesson();
    v["lesson"]["check"]["variants"][1]["set"] = serde_json::json!({"loss": "poisson"});
    let e = error_of(&v);
    assert!(e.contains("variant mse") && e.contains("loss"), "{e}");

    // A metric the run cannot measure is an error, not a pass.
    let mut v = base_lesson();
    v["lesson"]["check"]["expect"][0]["metric"] = "fa_angle".into();
    let e = error_of(&v);
    assert!(e.contains("feedback_alignment"), "{e}");
}

#[test]
fn a_variant_changes_only_what_it_sets() {
    let file = lessons::load_file(&lessons_dir().join("r13_batchnorm.json")).unwrap();
    let check = &file.lesson().check;
    let v = check
        .variants
        .iter()
        .find(|v| v.name == "no_bn_lr_4")
        .unwrap();
    let s = lessons::apply_variant(&file.session, v).unwrap();
    assert_eq!(s.optimizer.lr, 4.0);
    assert!(s.network.layers.iter().all(|l| !l.batch_norm));
    let mut back = s.clone();
    back.optimizer.lr = file.session.optimizer.lr;
    for (l, orig) in back
        .network
        .layers
        .iter_mut()
        .zip(&file.session.network.layers)
    {
        l.batch_norm = orig.batch_norm;
    }
    assert_eq!(back, file.session);
}
