//! The little CBOR (RFC 8949) an authenticator writes: unsigned and negative integers, byte
//! and text strings, and maps of them, in definite lengths. Enough for an attestation object
//! and a COSE key; nothing here reads CBOR.

/// One CBOR value.
#[derive(Debug, Clone)]
pub(crate) enum Cbor {
    Int(i64),
    Bytes(Vec<u8>),
    Text(&'static str),
    Map(Vec<(Cbor, Cbor)>),
}

impl Cbor {
    /// The encoding, map entries in the order given (callers give CTAP2's canonical order).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(n) if *n >= 0 => head(out, 0, n.unsigned_abs()),
            Cbor::Int(n) => head(out, 1, (-1 - n).unsigned_abs()),
            Cbor::Bytes(bytes) => {
                head(out, 2, bytes.len() as u64);
                out.extend_from_slice(bytes);
            }
            Cbor::Text(text) => {
                head(out, 3, text.len() as u64);
                out.extend_from_slice(text.as_bytes());
            }
            Cbor::Map(entries) => {
                head(out, 5, entries.len() as u64);
                for (key, value) in entries {
                    key.write(out);
                    value.write(out);
                }
            }
        }
    }
}

/// A data item's head: the major type and its argument in the shortest form (additional
/// information 24 to 27: the argument follows in 1, 2, 4 or 8 bytes).
fn head(out: &mut Vec<u8>, major: u8, argument: u64) {
    let major = major << 5;
    let bytes = argument.to_be_bytes();
    let (info, width) = match argument {
        0..=23 => (bytes[7], 0),
        0x18..=0xff => (0x18, 1),
        0x100..=0xffff => (0x19, 2),
        0x1_0000..=0xffff_ffff => (0x1a, 4),
        _ => (0x1b, 8),
    };
    out.push(major | info);
    out.extend_from_slice(&bytes[8 - width..]);
}

#[cfg(test)]
mod tests {
    use super::Cbor;

    /// Examples from RFC 8949 appendix A.
    #[test]
    fn encodes_as_the_rfc_examples() {
        assert_eq!(Cbor::Int(0).encode(), [0x00]);
        assert_eq!(Cbor::Int(23).encode(), [0x17]);
        assert_eq!(Cbor::Int(24).encode(), [0x18, 0x18]);
        assert_eq!(Cbor::Int(1000).encode(), [0x19, 0x03, 0xe8]);
        assert_eq!(
            Cbor::Int(1_000_000).encode(),
            [0x1a, 0x00, 0x0f, 0x42, 0x40]
        );
        assert_eq!(Cbor::Int(-1).encode(), [0x20]);
        assert_eq!(Cbor::Int(-100).encode(), [0x38, 0x63]);
        assert_eq!(Cbor::Bytes(vec![1, 2, 3, 4]).encode(), [0x44, 1, 2, 3, 4]);
        assert_eq!(Cbor::Text("IETF").encode(), [0x64, b'I', b'E', b'T', b'F']);
        assert_eq!(
            Cbor::Map(vec![
                (Cbor::Int(1), Cbor::Int(2)),
                (Cbor::Int(3), Cbor::Int(4))
            ])
            .encode(),
            [0xa2, 0x01, 0x02, 0x03, 0x04]
        );
        assert_eq!(Cbor::Map(Vec::new()).encode(), [0xa0]);
    }
}
