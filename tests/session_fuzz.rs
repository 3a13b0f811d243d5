//! Mutated session files (byte flips, truncations, deleted or replaced fields of a valid v2
//! session) never make the loader panic: parsing and validation give Ok or an error with a
//! message, and whatever loads also builds, trains a few steps and replays without a panic.

use proptest::prelude::*;
use serde_json::Value;

use nnlab::session::{self, Loaded};

const BASE: &str = include_str!("bad_sessions/valid_base.json");

/// The whole loading pipeline of `session::load`, from text; then, if it loads, use it.
fn load_and_use(text: &str) {
    if let Err(e) = session::exercise::session_text(text) {
        assert!(!e.message.trim().is_empty(), "an empty message");
        assert!(!e.message.contains('\n'), "a message of several lines");
    }
}

/// Every path (object keys and array indices) in a JSON tree, in document order.
fn paths(v: &Value, here: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                here.push(Seg::Key(k.clone()));
                out.push(here.clone());
                paths(c, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                here.push(Seg::Index(i));
                out.push(here.clone());
                paths(c, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

fn parent_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in &path[..path.len() - 1] {
        cur = match s {
            Seg::Key(k) => cur.get_mut(k.as_str())?,
            Seg::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

/// Values a field may be replaced with: wrong types, edge numbers, non-finite strings.
fn replacement(k: usize) -> Value {
    let deep = (0..200).fold(Value::Null, |acc, _| Value::Array(vec![acc]));
    let all = [
        Value::Null,
        Value::Bool(true),
        serde_json::json!(-1),
        serde_json::json!(0),
        serde_json::json!(3),
        serde_json::json!(2.5),
        serde_json::json!(1e308),
        serde_json::json!(-1e308),
        serde_json::json!(u64::MAX),
        serde_json::json!("NaN"),
        serde_json::json!("-inf"),
        serde_json::json!("x"),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!([1, 2]),
        deep,
    ];
    all[k % all.len()].clone()
}

#[derive(Clone, Debug)]
enum Mutation {
    FlipByte(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
    Delete(prop::sample::Index),
    Replace(prop::sample::Index, usize),
    /// Replace one field with a copy of another (right type in the wrong place, or vice versa).
    Swap(prop::sample::Index, prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipByte(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
        (any::<prop::sample::Index>(), 0usize..64).prop_map(|(i, k)| Mutation::Replace(i, k)),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
}

fn apply(text: &str, m: &Mutation) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    let tree = || -> (Value, Vec<Vec<Seg>>) {
        let v: Value = serde_json::from_str(text).unwrap();
        let mut out = Vec::new();
        paths(&v, &mut Vec::new(), &mut out);
        (v, out)
    };
    match m {
        Mutation::FlipByte(i, b) => {
            let i = i.index(bytes.len());
            bytes[i] ^= b.max(&1);
            bytes
        }
        Mutation::Truncate(i) => {
            bytes.truncate(i.index(bytes.len()));
            bytes
        }
        Mutation::Delete(i) | Mutation::Replace(i, _) | Mutation::Swap(i, _) => {
            let (mut v, all) = tree();
            let path = &all[i.index(all.len())];
            let new = match m {
                Mutation::Replace(_, k) => Some(replacement(*k)),
                Mutation::Swap(_, j) => {
                    let other = &all[j.index(all.len())];
                    let mut cur = &v;
                    for s in other {
                        cur = match s {
                            Seg::Key(k) => &cur[k.as_str()],
                            Seg::Index(i) => &cur[*i],
                        };
                    }
                    Some(cur.clone())
                }
                _ => None,
            };
            let parent = parent_mut(&mut v, path).unwrap();
            match (path.last().unwrap(), new) {
                (Seg::Key(k), None) => {
                    parent.as_object_mut().unwrap().remove(k);
                }
                (Seg::Index(i), None) => {
                    parent.as_array_mut().unwrap().remove(*i);
                }
                (Seg::Key(k), Some(n)) => parent[k.as_str()] = n,
                (Seg::Index(i), Some(n)) => parent[*i] = n,
            }
            serde_json::to_vec(&v).unwrap()
        }
    }
}

proptest! {
    // Bounded so the run takes about a second in CI; set PROPTEST_CASES to search longer.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
    ))]

    #[test]
    fn mutated_sessions_never_panic_the_loader(muts in prop::collection::vec(mutation(), 1..4)) {
        let mut text = BASE.to_string();
        for m in &muts {
            let bytes = apply(&text, m);
            match String::from_utf8(bytes) {
                // Later tree mutations need valid JSON; keep mutating only while it parses.
                Ok(t) if serde_json::from_str::<Value>(&t).is_ok() => text = t,
                Ok(t) => { text = t; break; }
                Err(_) => { text = String::new(); break; }
            }
        }
        load_and_use(&text);
    }
}

/// A small valid CSV: two inputs, a class label.
const CSV: &str = "x1,x2,label\n0.1,0.2,1\n-0.5,0.25,0\n\"3\",1e-3,1\n";

/// CSV-like text: digits, separators, quotes, signs, exponents, line breaks and a few
/// troublemakers (NUL, a BOM, non-ASCII, NaN and inf words).
fn csv_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "0", "1", "2", "9", ".", "-", "+", "e", "E", ",", ",", "\n", "\r\n", "\"", " ", "\t", "\0",
        "\u{feff}", "é", "NaN", "inf", "x1", "label", "1e400", "",
    ]);
    prop::collection::vec(pieces, 0..120).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
    ))]

    #[test]
    fn any_csv_text_gives_data_or_one_line(text in csv_like()) {
        if let Err(e) = session::exercise::csv_text(&text) {
            prop_assert!(!e.message.contains('\n'), "{}", e.message);
            prop_assert!(!e.message.contains('\0'), "{}", e.message);
        }
    }

    #[test]
    fn a_mutated_csv_gives_data_or_one_line(i in any::<prop::sample::Index>(), piece in csv_like()) {
        let at = i.index(CSV.len() + 1);
        let at = (0..=at).rev().find(|&k| CSV.is_char_boundary(k)).unwrap_or(0);
        let text = format!("{}{piece}{}", &CSV[..at], &CSV[at..]);
        if let Err(e) = session::exercise::csv_text(&text) {
            prop_assert!(!e.message.contains('\n'), "{}", e.message);
        }
    }
}

#[test]
fn the_valid_csv_reads() {
    session::exercise::csv_text(CSV).unwrap();
}

#[test]
fn the_unmutated_base_loads_and_verifies() {
    let s = session::parse(BASE).unwrap();
    let (train, test) = session::build_data(&s, None).unwrap();
    let loaded = Loaded {
        session: s,
        train,
        test,
        dir: None,
    };
    assert_eq!(session::verify(&loaded).unwrap().mismatch, None);
}
