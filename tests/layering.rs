//! The module layering of DESIGN.md, kept true: `{net, data, optim} → analysis → train →
//! session → {runtime, export} → lessons → {cli, ui}` ("→": is used by), with the small shared modules
//! (`error`, `rng`, `memory`, `json_float`) below everything. A module may use the ones below
//! it, never one above it or a sibling on its own floor; only `runtime` starts threads, and
//! the UI never spawns a bare thread.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Floor of each top-level module of the library (higher floors use lower ones).
const FLOORS: &[(&str, u32)] = &[
    ("error", 0),
    ("rng", 0),
    ("memory", 0),
    ("json_float", 0),
    ("formula", 0),
    ("net", 1),
    ("data", 1),
    ("optim", 1),
    ("analysis", 2),
    ("train", 3),
    ("session", 4),
    ("runtime", 5),
    ("export", 5),
    ("lessons", 6),
    ("bench", 6),
    ("cli", 7),
    ("ui", 7),
];

/// Modules of floor 0 may use each other (small shared helpers with no cycle among them).
const SHARED_FLOOR: u32 = 0;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`src/train/trainer.rs` → `train`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// Every top-level module a source text names through `crate::`: `crate::net::x`,
/// `crate::{net, data::y}` (nested groups included). Comments are skipped.
fn used_modules(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        // `nnlab_crate::` or `$crate::` are not paths of this crate.
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // The top-level names of the group: split at depth-0 commas.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(first_ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.push(first_ident(&item));
        } else {
            out.push(first_ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

fn first_ident(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn no_module_uses_one_above_it_or_a_sibling() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let floors: BTreeMap<&str, u32> = FLOORS.iter().copied().collect();
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    let mut seen = 0;
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let Some(&floor) = floors.get(module.as_str()) else {
            wrong.push(format!(
                "{}: module `{module}` has no floor in tests/layering.rs",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for used in used_modules(&text) {
            seen += 1;
            if used == module {
                continue;
            }
            let Some(&used_floor) = floors.get(used.as_str()) else {
                continue; // a crate-root item (`crate::Error`), below everything
            };
            let sibling = used_floor == floor && floor != SHARED_FLOOR;
            if used_floor > floor || sibling {
                wrong.push(format!(
                    "{}: `{module}` (floor {floor}) uses `{used}` (floor {used_floor})",
                    file.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    // The scan found the crate's imports (a broken scan would pass vacuously).
    assert!(seen > 300, "only {seen} crate:: paths found");
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn only_the_runtime_starts_threads_and_the_ui_never_does() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src.join("ui"), &mut files);
    assert!(files.len() > 10);
    let mut wrong = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("thread::spawn") || code.contains("thread::Builder") {
                wrong.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the UI starts threads through runtime::JobThread only:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scan_sees_grouped_and_nested_imports() {
    let text = "use crate::{net::{a, b}, data::x};\nuse crate::session::Session; // crate::ui\nlet y = $crate::cli::z;";
    assert_eq!(used_modules(text), vec!["net", "data", "session"]);
}

/// The app keeps only the composition (issue #12 item 3): at most 15 fields, none `pub` (the
/// tests and other crates read the lab through its accessors and change it through commands).
#[test]
fn the_app_is_only_a_composition() {
    let text = std::fs::read_to_string("src/ui/app.rs").unwrap();
    let start = text
        .find("pub struct NnlabApp {")
        .expect("NnlabApp is defined in src/ui/app.rs");
    let body = &text[start..];
    let body = &body[..body.find("\n}\n").expect("the struct's end")];
    let fields: Vec<&str> = body
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.is_empty() && l.contains(':'))
        .collect();
    assert!(
        fields.len() <= 15,
        "NnlabApp has {} fields (at most 15): {fields:?}",
        fields.len()
    );
    let public: Vec<&&str> = fields.iter().filter(|l| l.starts_with("pub ")).collect();
    assert!(public.is_empty(), "public fields of NnlabApp: {public:?}");
}

/// Every view draws from a `ViewCtx` and sends commands; none sees the app itself: no file
/// under src/ui/panels/ (panels, tiles, the workspace's tile dispatch) or src/ui/workspace/,
/// nor the tile state modules, nor the view context and commands, names `NnlabApp`.
#[test]
fn views_never_see_the_app() {
    let rust_files = |dir: &str| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect()
    };
    let mut files = rust_files("src/ui/panels");
    assert!(files.len() >= 20, "the panels are where they were");
    files.extend(rust_files("src/ui/workspace"));
    for f in [
        "collapse",
        "command",
        "curvature",
        "dynamics",
        "files",
        "geometry",
        "lab",
        "landscape",
        "layer_update",
        "regimes",
        "settings",
        "spectral",
        "view",
    ] {
        files.push(format!("src/ui/{f}.rs").into());
    }
    let mut offenders = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        if text.contains("NnlabApp") {
            offenders.push(file.display().to_string());
        }
    }
    assert!(
        offenders.is_empty(),
        "{offenders:?} name NnlabApp; a view draws from its ViewCtx and sends commands"
    );
}
