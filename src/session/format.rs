//! The JSON layout of saved sessions: objects indented one field a line (readable, diffable),
//! arrays compact on one line (θ, history columns and checkpoints stay short).

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

struct Layout {
    pretty: PrettyFormatter<'static>,
    compact: CompactFormatter,
    /// Arrays we are inside of: everything in an array is compact.
    arrays: usize,
}

macro_rules! either {
    ($self:ident, $method:ident ( $($arg:expr),* )) => {
        if $self.arrays > 0 {
            $self.compact.$method($($arg),*)
        } else {
            $self.pretty.$method($($arg),*)
        }
    };
}

impl Formatter for Layout {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.arrays += 1;
        self.compact.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.arrays -= 1;
        self.compact.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.compact.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.compact.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        either!(self, begin_object(w))
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        either!(self, end_object(w))
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        either!(self, begin_object_key(w, first))
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        either!(self, end_object_key(w))
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        either!(self, begin_object_value(w))
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        either!(self, end_object_value(w))
    }
}

/// `value` as JSON text in the session layout.
pub fn to_string<T: Serialize>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let layout = Layout {
        pretty: PrettyFormatter::new(),
        compact: CompactFormatter,
        arrays: 0,
    };
    let mut ser = serde_json::Serializer::with_formatter(&mut out, layout);
    value.serialize(&mut ser)?;
    out.push(b'\n');
    // serde_json writes only valid UTF-8.
    Ok(String::from_utf8(out).unwrap_or_default())
}
