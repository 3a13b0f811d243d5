//! `nnlab bench --ui`: the app's frames headless, reported as JSON.

use std::process::Command;

fn nnlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nnlab"))
}

#[test]
fn the_ui_bench_prints_the_frame_cost_and_the_training_speed_as_json() {
    let out = nnlab()
        .args(["bench", "--ui", "--seconds", "0.5"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON on stdout");
    let num = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k} in {text}"));
    // 60 frames a second for half a second, less what a busy machine delays.
    let frames = num("frames");
    assert!((5.0..=31.0).contains(&frames), "{frames} frames");
    let (p50, p95) = (num("ms_per_frame_p50"), num("ms_per_frame_p95"));
    assert!(p50 > 0.0 && p95 >= p50, "p50 {p50}, p95 {p95}");
    assert!(num("steps_per_sec") > 0.0);
    assert!(num("run_steps_per_sec") > 0.0);
    assert_eq!(v["size"], serde_json::json!([1600.0, 1000.0]));
}

#[test]
fn the_ui_bench_refuses_other_benches_and_a_bad_time_in_one_line() {
    for other in [
        &["--curvature"][..],
        &["--only", "a"],
        &["--seconds", "0"],
        &["--seconds", "NaN"],
    ] {
        let out = nnlab()
            .args(["bench", "--ui"])
            .args(other)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{other:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(other[0]), "{err}");
    }
}
