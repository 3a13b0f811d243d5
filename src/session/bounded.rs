//! Lists whose length is checked while they are read, so an absurd count is refused at the
//! first entry over the limit instead of after building them all.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use crate::train::{LiveEdit, TrainerState};

use super::analysis::Analysis;
use super::{MAX_ANALYSES, MAX_CHECKPOINTS, MAX_EDITS};

struct Bounded<T> {
    max: usize,
    _t: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Bounded<T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an array of at most {} entries", self.max)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        while let Some(x) = seq.next_element()? {
            if out.len() >= self.max {
                return Err(de::Error::custom(format!(
                    "has more than {} entries (too many)",
                    self.max
                )));
            }
            out.push(x);
        }
        Ok(out)
    }
}

fn bounded<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    max: usize,
) -> Result<Vec<T>, D::Error> {
    d.deserialize_seq(Bounded {
        max,
        _t: PhantomData,
    })
}

pub fn checkpoints<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<TrainerState>, D::Error> {
    bounded(d, MAX_CHECKPOINTS)
}

pub fn edits<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<LiveEdit>, D::Error> {
    bounded(d, MAX_EDITS)
}

pub fn analyses<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Analysis>, D::Error> {
    bounded(d, MAX_ANALYSES)
}
