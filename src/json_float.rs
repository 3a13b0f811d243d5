//! f64 in JSON without loss. JSON has no NaN or ±∞, and serde_json would write them as `null`
//! (which then fails to read back as a number). A diverged run's θ, a test loss over an empty
//! test set or an accuracy of a regression are legitimately non-finite, so the session format
//! writes finite values as plain numbers (shortest round-trip form; read back with serde_json's
//! `float_roundtrip`, so every bit survives) and the three non-finite values as the strings
//! `"NaN"`, `"inf"` and `"-inf"`. Reading also accepts `"Infinity"`/`"-Infinity"`. NaN payload
//! bits are not kept (every NaN reads back as the canonical one).
//!
//! Arrays of more than [`BINARY_ABOVE`] values (θ and the optimiser's moments of a large
//! network, long history columns) are written as one string, `"f64le:"` followed by the
//! standard base64 (with padding) of the values' little-endian IEEE-754 bits: exact (NaN
//! payloads included), and under half the size of decimals. Either form reads anywhere.
//!
//! Use with `#[serde(with = "crate::json_float::vec")]` (or `opt_vec`, `scalar`).
//! Arrays longer than [`MAX_LEN`] are refused while reading, before they are allocated.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserializer, Serializer};

/// Longest f64 array read from a session file (2^27 values = 1 GiB).
pub const MAX_LEN: usize = 1 << 27;

/// Values preallocated before the length is known (JSON gives no length up front).
const PREALLOC: usize = 4096;

/// Arrays longer than this are written in the binary form (short ones stay readable).
pub const BINARY_ABOVE: usize = 4096;
/// The prefix of the binary form.
pub const BINARY_PREFIX: &str = "f64le:";

/// `v` in the binary form, prefix included.
fn to_binary(v: &[f64]) -> String {
    use base64::Engine;
    let mut bytes = Vec::with_capacity(v.len() * 8);
    for x in v {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    let mut out = String::with_capacity(BINARY_PREFIX.len() + bytes.len().div_ceil(3) * 4);
    out.push_str(BINARY_PREFIX);
    base64::engine::general_purpose::STANDARD.encode_string(&bytes, &mut out);
    out
}

/// Read the binary form (`s` with its prefix); the length is checked before decoding.
fn from_binary(s: &str) -> Result<Vec<f64>, String> {
    use base64::Engine;
    let Some(b64) = s.strip_prefix(BINARY_PREFIX) else {
        return Err(format!(
            "{:?} is neither an array of numbers nor binary data (\"{BINARY_PREFIX}…\")",
            truncate(s)
        ));
    };
    if b64.len() / 4 * 3 / 8 > MAX_LEN {
        return Err(format!("has more than {MAX_LEN} values (too large)"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("binary data is not valid base64: {e}"))?;
    if !bytes.len().is_multiple_of(8) {
        return Err(format!(
            "binary data of {} bytes is not a whole number of 8-byte values",
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect())
}

fn non_finite_name(x: f64) -> &'static str {
    if x.is_nan() {
        "NaN"
    } else if x > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

fn parse_name(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "inf" | "Infinity" | "+inf" => Some(f64::INFINITY),
        "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// One number: a JSON number or one of the non-finite names.
struct One;

impl Visitor<'_> for One {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number (or \"NaN\", \"inf\", \"-inf\")")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        parse_name(v).ok_or_else(|| {
            E::custom(format!(
                "{:?} is not a number (only \"NaN\", \"inf\", \"-inf\" may be strings)",
                truncate(v)
            ))
        })
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

struct OneSeed;

impl<'de> de::DeserializeSeed<'de> for OneSeed {
    type Value = f64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<f64, D::Error> {
        d.deserialize_any(One)
    }
}

struct Many;

impl<'de> Visitor<'de> for Many {
    type Value = Vec<f64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of numbers")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<f64>, E> {
        from_binary(v).map_err(E::custom)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
        let hint = seq.size_hint().unwrap_or(0).min(PREALLOC);
        let mut out = Vec::with_capacity(hint);
        while let Some(x) = seq.next_element_seed(OneSeed)? {
            if out.len() >= MAX_LEN {
                return Err(de::Error::custom(format!(
                    "has more than {MAX_LEN} values (too large)"
                )));
            }
            out.push(x);
        }
        Ok(out)
    }
}

fn write_one<S: Serializer>(x: f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(x)
    } else {
        s.serialize_str(non_finite_name(x))
    }
}

/// A slice as a JSON array, non-finite values as strings; a long one in the binary form.
pub fn write_slice<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    if v.len() > BINARY_ABOVE {
        return s.serialize_str(&to_binary(v));
    }
    struct Item(f64);
    impl serde::Serialize for Item {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            write_one(self.0, s)
        }
    }
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for &x in v {
        seq.serialize_element(&Item(x))?;
    }
    seq.end()
}

/// `f64` fields.
pub mod scalar {
    use super::*;

    /// Write one number (non-finite ones as the strings described above).
    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        write_one(*x, s)
    }

    /// Read one number, exactly as written.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        d.deserialize_any(One)
    }
}

/// `Vec<f64>` fields.
pub mod vec {
    use super::*;

    /// Write an array of numbers.
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        write_slice(v, s)
    }

    /// Read an array of numbers, exactly as written.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        d.deserialize_any(Many)
    }
}

/// `Option<Vec<f64>>` fields (`null` or absent: None).
pub mod opt_vec {
    use super::*;

    /// Write an array of numbers, or `null` for None.
    pub fn serialize<S: Serializer>(v: &Option<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => write_slice(v, s),
            None => s.serialize_none(),
        }
    }

    /// Read an array of numbers, or None for `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
        struct OptMany;
        impl<'de> Visitor<'de> for OptMany {
            type Value = Option<Vec<f64>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of numbers or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(Many).map(Some)
            }
        }
        d.deserialize_option(OptMany)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug)]
    struct T {
        #[serde(with = "super::vec")]
        v: Vec<f64>,
        #[serde(with = "super::scalar")]
        x: f64,
        #[serde(default, with = "super::opt_vec")]
        o: Option<Vec<f64>>,
    }

    #[test]
    fn every_bit_and_non_finite_values_round_trip() {
        let v = vec![
            0.1,
            -0.0,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            1.0 / 3.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            2.0f64.sqrt() * 1e-300,
        ];
        let t = T {
            v: v.clone(),
            x: f64::NAN,
            o: Some(vec![f64::INFINITY]),
        };
        let s = serde_json::to_string(&t).unwrap();
        assert!(s.contains("\"NaN\"") && s.contains("\"-inf\""), "{s}");
        let back: T = serde_json::from_str(&s).unwrap();
        for (a, b) in v.iter().zip(&back.v) {
            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
        }
        assert!(back.x.is_nan());
        assert_eq!(back.o, Some(vec![f64::INFINITY]));
        let none: T = serde_json::from_str(r#"{"v": [1, -2], "x": 3}"#).unwrap();
        assert_eq!((none.v, none.o), (vec![1.0, -2.0], None));
        let err = serde_json::from_str::<T>(r#"{"v": ["abc"], "x": 3}"#).unwrap_err();
        assert!(err.to_string().contains("\"abc\" is not a number"), "{err}");
        let err = serde_json::from_str::<T>(r#"{"v": "abc", "x": 3}"#).unwrap_err();
        assert!(err.to_string().contains("neither an array"), "{err}");
        let err = serde_json::from_str::<T>(r#"{"v": "f64le:AAAA", "x": 3}"#).unwrap_err();
        assert!(err.to_string().contains("8-byte"), "{err}");
    }

    #[test]
    fn long_arrays_are_binary_and_exact() {
        // Every bit pattern class: signed zero, subnormals, NaN with a payload, infinities.
        let mut v: Vec<f64> = (0..super::BINARY_ABOVE as u64 + 7)
            .map(|i| f64::from_bits(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        v[0] = -0.0;
        v[1] = f64::from_bits(0x7ff8_0000_dead_beef);
        v[2] = f64::NEG_INFINITY;
        let t = T {
            v: v.clone(),
            x: 1.0,
            o: Some(v.clone()),
        };
        let s = serde_json::to_string(&t).unwrap();
        assert!(s.contains("\"f64le:"), "not binary");
        // 8 bytes in base64 plus a little: less than half of 25-character decimals.
        assert!(s.len() < 2 * (v.len() * 11 + 100), "{} bytes", s.len());
        let back: T = serde_json::from_str(&s).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.v), bits(&v));
        assert_eq!(bits(back.o.as_ref().unwrap()), bits(&v));
        // Short arrays stay decimal.
        let short = serde_json::to_string(&T {
            v: vec![0.5; 3],
            x: 0.0,
            o: None,
        })
        .unwrap();
        assert!(short.contains("[0.5,0.5,0.5]"), "{short}");
    }
}
