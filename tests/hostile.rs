//! Hostile use of the headless binary: nothing saved is lost, nothing written fails to load,
//! special files and bad paths are refused with one line before any work is done.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nnlab::session::Session;

use nnlab::session;

fn nnlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nnlab"))
}

/// A fresh folder for one test's files.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nnlab-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run with a deadline: a command that hangs is killed and the test fails (instead of the
/// whole suite waiting for ever).
fn run_within(args: &[&std::ffi::OsStr], limit: Duration) -> Output {
    let mut child = nnlab()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("nnlab {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn run(args: &[&str]) -> Output {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| std::ffi::OsStr::new(*a)).collect();
    run_within(&args, Duration::from_secs(120))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 2 with one stderr line containing `needle`, no panic.
fn refused(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "expected exit 2: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "expected «{needle}» in «{err}»");
    assert!(!err.contains("panicked"), "{err}");
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

const XOR: &str = r#"{
  "nnlab": 1, "name": "xor", "seed": 42,
  "data": {"source": "xor", "n": 200, "noise": 0.1, "test_fraction": 0.2},
  "network": {"inputs": 2,
    "layers": [{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}],
    "init": "xavier_normal"},
  "loss": "bce",
  "optimizer": {"kind": "adam", "lr": 0.01, "batch_size": 32}
}"#;

const PERCEPTRON: &str = r#"{
  "nnlab": 1, "name": "perceptron", "seed": 3,
  "data": {"source": "linear", "n": 60, "noise": 0.0, "test_fraction": 0.0},
  "network": {"inputs": 2, "layers": [{"units": 1, "activation": "step"}], "init": "zeros"},
  "loss": "hinge",
  "optimizer": {"kind": "perceptron", "lr": 1.0, "batch_size": 1}
}"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_csv_session_saved_in_another_folder_loads_and_verifies() {
    let dir = scratch("csv");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut csv = String::from("x1,x2,label\n");
    for i in 0..40 {
        let (x, y) = ((i as f64 * 0.37).sin(), (i as f64 * 0.91).cos());
        csv.push_str(&format!("{x},{y},{}\n", u8::from(x * x + y * y < 0.5)));
    }
    write(&data, "points.csv", &csv);
    let spec = write(
        &data,
        "c.json",
        &XOR.replace(
            r#""source": "xor", "n": 200, "noise": 0.1, "test_fraction": 0.2"#,
            r#""source": "csv", "path": "points.csv", "test_fraction": 0.25"#,
        ),
    );
    // Into another folder (as the recovery file is): the CSV is named absolutely.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let moved = other.join("c.json");
    ok(&run(&[
        "run",
        s(&spec),
        "--steps",
        "20",
        "--out",
        s(&moved),
    ]));
    let loaded = session::load(&moved).unwrap();
    assert_eq!(loaded.train.rows() + loaded.test.rows(), 40);
    ok(&run(&["replay", s(&moved), "--verify"]));
    ok(&run(&[
        "run",
        s(&moved),
        "--steps",
        "5",
        "--out",
        s(&moved),
    ]));
    // Beside its CSV the path stays relative, so the pair can be moved together.
    let beside = data.join("c2.json");
    ok(&run(&[
        "run",
        s(&moved),
        "--steps",
        "5",
        "--out",
        s(&beside),
    ]));
    let text = std::fs::read_to_string(&beside).unwrap();
    assert!(text.contains(r#""path": "points.csv""#), "{text}");
    // Writing the session (or its metrics) over its own data is refused before training.
    let csv_path = data.join("points.csv");
    for flag in ["--out", "--metrics"] {
        let o = run(&["run", s(&spec), "--steps", "5", flag, s(&csv_path)]);
        refused(&o, "the session's own CSV data");
    }
    assert_eq!(std::fs::read_to_string(&csv_path).unwrap(), csv);
}

#[test]
fn perceptron_recordings_keep_their_first_mistakes_and_replay_bit_identically() {
    let dir = scratch("perceptron");
    let spec = write(&dir, "p.json", PERCEPTRON);
    let out = dir.join("out.json");
    ok(&run(&["run", s(&spec), "--steps", "40", "--out", s(&out)]));
    let rec = session::load(&out).unwrap().session;
    // Zero init: the first example is always a mistake (sign(0) ≠ its label or the update is
    // made on the tie), so the column must start at a non-zero count.
    assert_eq!(rec.history.mistakes.len(), 40, "one count per step");
    assert!(
        rec.history.mistakes[0] >= 1,
        "{:?}",
        &rec.history.mistakes[..5]
    );
    let o = run(&["replay", s(&out), "--verify"]);
    ok(&o);
    // The shipped perceptron sessions and lessons too.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for f in [
        "sessions/perceptron_linear.json",
        "sessions/lessons/r01_perceptron_novikoff.json",
        "sessions/lessons/r02_xor_perceptron.json",
        "sessions/lessons/r33_cover.json",
    ] {
        let o = run(&["run", s(&root.join(f)), "--steps", "30", "--out", s(&out)]);
        ok(&o);
        let o = run(&["replay", s(&out), "--verify"]);
        assert_eq!(o.status.code(), Some(0), "{f}: {}", stderr(&o));
    }
}

#[test]
fn a_network_of_a_million_parameters_saves_loads_and_larger_ones_are_refused_before_training() {
    let dir = scratch("large");
    // 2-1200-1200-1: 1.45M parameters, once refused at any checkpoint budget.
    let big = write(
        &dir,
        "big.json",
        &XOR.replace(
            r#"[{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}]"#,
            r#"[{"units": 1200, "activation": "relu"}, {"units": 1200, "activation": "relu"}, {"units": 1, "activation": "sigmoid"}]"#,
        ),
    );
    let out = dir.join("out.json");
    for budget in ["0", "8388608"] {
        let o = run(&[
            "run",
            s(&big),
            "--steps",
            "2",
            "--checkpoint-budget",
            budget,
            "--out",
            s(&out),
        ]);
        ok(&o);
        let l = session::load(&out).unwrap();
        assert_eq!(l.session.state.as_ref().unwrap().theta.len(), 1_446_001);
        let bytes = std::fs::metadata(&out).unwrap().len();
        assert!(bytes < session::MAX_SESSION_BYTES, "{bytes} bytes");
    }
    // 25M parameters: refused when the file is read, naming the supported size.
    let huge = write(
        &dir,
        "huge.json",
        &XOR.replace(
            r#"[{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}]"#,
            r#"[{"units": 5000, "activation": "relu"}, {"units": 5000, "activation": "relu"}, {"units": 1, "activation": "sigmoid"}]"#,
        ),
    );
    let o = run(&["run", s(&huge), "--steps", "1", "--out", s(&out)]);
    refused(
        &o,
        "the lab supports networks of at most 2000000 parameters",
    );
}

#[test]
fn bad_output_paths_are_refused_before_the_first_step() {
    let dir = scratch("outputs");
    let spec = write(&dir, "x.json", XOR);
    // The most steps a run may take (hours): only a check made before the first step can
    // answer within the deadline.
    let many = "10000000000";
    for (flag, path, needle) in [
        ("--out", dir.join("missing/x.json"), "does not exist"),
        ("--metrics", dir.join("missing/m.csv"), "does not exist"),
        ("--out", dir.clone(), "is a folder"),
        (
            "--metrics",
            PathBuf::from("/dev/null"),
            "not a regular file",
        ),
    ] {
        let o = run(&["run", s(&spec), "--steps", many, flag, s(&path)]);
        refused(&o, needle);
    }
    let same = dir.join("same");
    let o = run(&[
        "run",
        s(&spec),
        "--steps",
        many,
        "--out",
        s(&same),
        "--metrics",
        s(&same),
    ]);
    refused(&o, "name the same file");
    assert!(Path::new("/dev/null").exists());
}

#[cfg(unix)]
#[test]
fn a_read_only_folder_is_refused_before_training() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("readonly");
    let spec = write(&dir, "x.json", XOR);
    let ro = dir.join("ro");
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root writes in any ordinary folder; nobody may create files in /sys.
    let probe = ro.join(".probe");
    let root = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    let target = if root {
        PathBuf::from("/sys/nnlab-test.json")
    } else {
        ro.join("x.json")
    };
    let many = "10000000000";
    let o = run(&["run", s(&spec), "--steps", many, "--out", s(&target)]);
    refused(&o, "cannot write");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn saving_writes_through_links_keeps_the_mode_and_cleans_killed_temp_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("links");
    let real = write(&dir, "real.json", XOR);
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    // Temp files of writes killed midway: two of a process that is gone, one of a live one.
    let dead = [
        ".real.json.999999999.tmp",
        ".real.json.nnlab-999999999-3.tmp",
    ];
    let live = format!(".real.json.nnlab-{}-0.tmp", std::process::id());
    // Two minutes old (a dead process's temp file is left alone for its first minute).
    let then = std::time::SystemTime::now() - Duration::from_secs(120);
    for t in dead.iter().copied().chain([live.as_str()]) {
        let f = std::fs::File::create(dir.join(t)).unwrap();
        f.set_modified(then).unwrap();
    }
    ok(&run(&["run", s(&link), "--steps", "5", "--out", s(&link)]));
    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(meta.file_type().is_symlink(), "the link was replaced");
    let l = session::load(&real).unwrap();
    assert_eq!(
        l.session.state.unwrap().step,
        5,
        "the target was not updated"
    );
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    for t in dead {
        assert!(!dir.join(t).exists(), "{t} was left");
    }
    assert!(
        dir.join(&live).exists(),
        "a live process's temp file was removed"
    );
}

#[cfg(unix)]
#[test]
fn special_files_are_refused_without_reading_or_waiting() {
    let dir = scratch("special");
    std::os::unix::fs::symlink("/dev/urandom", dir.join("random.json")).unwrap();
    let fifo = dir.join("fifo.json");
    let made = Command::new("mkfifo").arg(&fifo).status();
    let mut files = vec![PathBuf::from("/dev/zero"), dir.join("random.json")];
    if made.is_ok_and(|s| s.success()) {
        files.push(fifo);
    }
    for f in &files {
        for cmd in ["grad", "run"] {
            let o = run_within(
                &[std::ffi::OsStr::new(cmd), f.as_os_str()],
                Duration::from_secs(20),
            );
            refused(&o, "not a regular file");
        }
    }
    // The same as a session's CSV data.
    let spec = write(
        &dir,
        "c.json",
        &XOR.replace(
            r#""source": "xor", "n": 200, "noise": 0.1"#,
            r#""source": "csv", "path": "/dev/zero""#,
        ),
    );
    refused(&run(&["grad", s(&spec)]), "not a regular file");
}

#[test]
fn what_nnlab_writes_it_loads_and_what_it_cannot_write_it_refuses_up_front() {
    let dir = scratch("writes");
    let spec = write(&dir, "x.json", XOR);
    let out = dir.join("a.json");
    ok(&run(&["run", s(&spec), "--steps", "10", "--out", s(&out)]));
    // A step counter at the limit: refused when read, not wrapped.
    let text = std::fs::read_to_string(&out).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["state"]["step"] = serde_json::json!(u64::MAX);
    let huge = write(&dir, "huge-step.json", &v.to_string());
    refused(&run(&["replay", s(&huge), "--verify"]), "state.step");
    refused(&run(&["run", s(&huge), "--steps", "50"]), "state.step");
    // Too many steps asked of a run.
    refused(
        &run(&["run", s(&out), "--steps", "18446744073709551615"]),
        "--steps",
    );
    // An initial scale that overflows the draws: U(−1e308, 1e308) spans more than f64 holds.
    let scaled = write(
        &dir,
        "scale.json",
        &XOR.replace(
            r#""init": "xavier_normal""#,
            r#""init": "uniform", "init_scale": 1e308"#,
        ),
    );
    refused(&run(&["run", s(&scaled), "--steps", "1"]), "init_scale");
    // An evaluation recorded past the state: refused when read (before, it was written back).
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let evals = &mut v["history"]["evaluations"]["step"];
    let last = evals.as_array().unwrap().len() - 1;
    evals[last] = serde_json::json!(1000);
    let past = write(&dir, "eval-past.json", &v.to_string());
    refused(
        &run(&["run", s(&past), "--steps", "1", "--out", s(&out)]),
        "step",
    );
    ok(&run(&["replay", s(&out), "--verify"]));
}

#[test]
fn small_ones_bom_duplicate_keys_nul_bytes_typos_and_usage_errors_give_one_clear_line() {
    let dir = scratch("small");
    let bom = write(&dir, "bom.json", &format!("\u{feff}{XOR}"));
    ok(&run(&["grad", s(&bom)]));
    let dup = write(
        &dir,
        "dup.json",
        &XOR.replacen(r#""nnlab": 1,"#, r#""nnlab": 1, "nnlab": 1,"#, 1),
    );
    refused(&run(&["grad", s(&dup)]), "duplicate field `nnlab`");
    // A NUL byte in a CSV is shown escaped, not echoed raw.
    write(&dir, "nul.csv", "x1,x2,label\n0.1,0\u{0}2,1\n");
    let spec = write(
        &dir,
        "nul.json",
        &XOR.replace(
            r#""source": "xor", "n": 200, "noise": 0.1"#,
            r#""source": "csv", "path": "nul.csv""#,
        ),
    );
    let o = run(&["grad", s(&spec)]);
    refused(&o, "\\u{0}");
    assert!(!o.stderr.contains(&0u8), "a raw NUL on stderr");
    // A mistyped command is not a window to open; usage errors are one line.
    refused(&run(&["frobnicate"]), "not an nnlab command");
    refused(&run(&["run", "--bogus", s(&spec)]), "--bogus");
    refused(&run(&["hessian"]), "<SESSION>");
}

/// The README's promise, exactly: training 300 steps, saving, and training 200 more gives the
/// session an uninterrupted 500-step run gives, except for the evaluation the first run made
/// at its last step (a run always evaluates where it stops).
#[test]
fn train_save_train_equals_one_run_except_the_evaluation_at_the_save() {
    let dir = scratch("resume");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/spiral.json");
    let (a, b, c) = (dir.join("a.json"), dir.join("b.json"), dir.join("c.json"));
    ok(&run(&["run", s(&spec), "--steps", "300", "--out", s(&a)]));
    ok(&run(&["run", s(&a), "--steps", "200", "--out", s(&b)]));
    ok(&run(&["run", s(&spec), "--steps", "500", "--out", s(&c)]));
    let mut b = session::load(&b).unwrap().session;
    let c = session::load(&c).unwrap().session;
    let e = &mut b.history.evaluations;
    assert_eq!(e.step, vec![300, 500]);
    for col in [
        &mut e.train_loss,
        &mut e.train_accuracy,
        &mut e.test_loss,
        &mut e.test_accuracy,
    ] {
        col.remove(0);
    }
    e.step.remove(0);
    assert!(
        b == c,
        "resumed and uninterrupted runs differ beyond the evaluation at 300"
    );
}

/// `save` checks what it writes as a load would: a session that could not be read back is
/// refused and nothing is written (an evaluation recorded past the state, here).
#[test]
fn save_refuses_what_a_load_would_refuse_and_writes_nothing() {
    let dir = scratch("savable");
    let spec = write(&dir, "x.json", XOR);
    let out = dir.join("a.json");
    ok(&run(&["run", s(&spec), "--steps", "10", "--out", s(&out)]));
    let good: Session = session::load(&out).unwrap().session;
    let mut bad = good.clone();
    *bad.history.evaluations.step.last_mut().unwrap() = 1000;
    let target = dir.join("b.json");
    let e = session::save(&target, &bad).unwrap_err();
    assert!(e.message.contains("state.step"), "{}", e.message);
    assert!(!target.exists(), "a refused session was written");
    session::save(&target, &good).unwrap();
    assert_eq!(session::load(&target).unwrap().session, good);
}
