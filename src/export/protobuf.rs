//! The protocol-buffer wire format, as much of it as an ONNX file needs: varints and
//! length-delimited fields (strings, bytes, nested messages).
//!
//! Written by hand rather than generated: the ONNX messages a network needs are a dozen
//! fields (see `onnx.rs`), and a generated encoder would bring a build-time protobuf compiler
//! or a few thousand lines of generated code for them. The encoding is checked by decoding
//! the files with tract-onnx (tests/export.rs) and against hand-encoded bytes below.

/// Wire types (the low three bits of a field's key).
const VARINT: u64 = 0;
const LENGTH_DELIMITED: u64 = 2;

/// One message being written: its fields in the order they are added.
#[derive(Clone, Debug, Default)]
pub struct Message {
    bytes: Vec<u8>,
}

impl Message {
    pub fn new() -> Self {
        Self::default()
    }

    /// The encoded message.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    fn key(&mut self, field: u32, wire: u64) {
        varint(&mut self.bytes, (u64::from(field) << 3) | wire);
    }

    /// An int64, int32 or enum field. Negative values take ten bytes (two's complement),
    /// as the format says.
    pub fn int(&mut self, field: u32, value: i64) -> &mut Self {
        self.key(field, VARINT);
        varint(&mut self.bytes, value as u64);
        self
    }

    /// A bytes field.
    pub fn bytes(&mut self, field: u32, value: &[u8]) -> &mut Self {
        self.key(field, LENGTH_DELIMITED);
        varint(&mut self.bytes, value.len() as u64);
        self.bytes.extend_from_slice(value);
        self
    }

    /// A string field (UTF-8).
    pub fn string(&mut self, field: u32, value: &str) -> &mut Self {
        self.bytes(field, value.as_bytes())
    }

    /// A nested message field.
    pub fn message(&mut self, field: u32, value: &Message) -> &mut Self {
        self.bytes(field, &value.bytes)
    }
}

/// Base-128 varint: seven bits a byte, least significant first, the high bit set on every
/// byte but the last.
fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_the_format_examples() {
        // The protobuf encoding guide: 1 → 01, 150 → 96 01, 300 → ac 02.
        for (v, want) in [
            (1u64, vec![0x01]),
            (150, vec![0x96, 0x01]),
            (300, vec![0xac, 0x02]),
            (0, vec![0x00]),
        ] {
            let mut out = Vec::new();
            varint(&mut out, v);
            assert_eq!(out, want, "{v}");
        }
        // −1 as an int64: ten bytes, nine 0xff and a final 0x01.
        let mut m = Message::new();
        m.int(1, -1);
        let mut want = vec![0x08];
        want.extend([0xff; 9]);
        want.push(0x01);
        assert_eq!(m.into_bytes(), want);
    }

    #[test]
    fn fields_carry_their_keys() {
        // Field 1 varint 150: 08 96 01 (the guide's "Test1" message).
        let mut m = Message::new();
        m.int(1, 150);
        assert_eq!(m.into_bytes(), [0x08, 0x96, 0x01]);
        // Field 2 string "testing": 12 07 74 65 73 74 69 6e 67 (the guide's "Test2").
        let mut m = Message::new();
        m.string(2, "testing");
        assert_eq!(
            m.into_bytes(),
            [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]
        );
        // Field 3 holding Test1 {a: 150}: 1a 03 08 96 01 (the guide's "Test3").
        let mut inner = Message::new();
        inner.int(1, 150);
        let mut m = Message::new();
        m.message(3, &inner);
        assert_eq!(m.into_bytes(), [0x1a, 0x03, 0x08, 0x96, 0x01]);
        // Field 9 bytes [1, 2]: key 0x4a (9 << 3 | 2), length, bytes.
        let mut m = Message::new();
        m.bytes(9, &[1, 2]);
        assert_eq!(m.into_bytes(), [0x4a, 0x02, 0x01, 0x02]);
    }
}
