//! The on-disk record framing: `[len: u32 LE][crc32 of payload: u32 LE][payload]`.
//!
//! Payloads are never empty, so an all-zero header marks space the writer has
//! zeroed ahead of its records but not written yet (see `LogOptions::preallocate_bytes`).

/// Bytes of framing before each payload.
pub const HEADER_LEN: usize = 8;

/// Largest payload a record may hold (16 MiB); anything larger is corruption.
pub const MAX_PAYLOAD: usize = 16 << 20;

/// Appends one framed record holding `payload` to `out` (which must not be
/// empty: [`crate::EventLog::append`] refuses empty payloads).
pub fn encode_into(out: &mut Vec<u8>, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// What the bytes at the start of a buffer hold.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole, checksum-valid record and its total framed length.
    Record(&'a [u8], usize),
    /// The buffer ends before the record does (a tail still being written, or torn).
    Incomplete,
    /// An all-zero header: preallocated space no record has been written to yet.
    Unwritten,
    /// The bytes cannot be a valid record (bad length or checksum).
    Corrupt,
}

/// Decodes the record at the start of `buf`.
pub fn decode(buf: &[u8]) -> Decoded<'_> {
    if buf.len() < HEADER_LEN {
        return Decoded::Incomplete;
    }
    let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    let crc = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    if len == 0 && crc == 0 {
        return Decoded::Unwritten;
    }
    if len > MAX_PAYLOAD {
        return Decoded::Corrupt;
    }
    let Some(payload) = buf.get(HEADER_LEN..HEADER_LEN + len) else {
        return Decoded::Incomplete;
    };
    if crc32fast::hash(payload) != crc {
        return Decoded::Corrupt;
    }
    Decoded::Record(payload, HEADER_LEN + len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trips_and_detects_truncation(payload in proptest::collection::vec(any::<u8>(), 1..512)) {
            let mut buf = Vec::new();
            encode_into(&mut buf, &payload);
            prop_assert_eq!(decode(&buf), Decoded::Record(&payload, buf.len()));
            for cut in 0..buf.len() {
                prop_assert_eq!(decode(&buf[..cut]), Decoded::Incomplete);
            }
        }

        #[test]
        fn flipped_payload_bit_is_corrupt(payload in proptest::collection::vec(any::<u8>(), 1..256), bit in 0usize..2048) {
            let mut buf = Vec::new();
            encode_into(&mut buf, &payload);
            let i = HEADER_LEN + (bit / 8) % payload.len();
            buf[i] ^= 1 << (bit % 8);
            prop_assert_eq!(decode(&buf), Decoded::Corrupt);
        }

        #[test]
        fn a_record_cut_short_by_zeroed_space_is_not_whole(payload in proptest::collection::vec(1u8.., 1..256), keep in 0usize..256) {
            let mut buf = Vec::new();
            encode_into(&mut buf, &payload);
            let keep = keep % buf.len();
            buf[keep..].fill(0);
            prop_assert!(!matches!(decode(&buf), Decoded::Record(..)));
        }
    }

    #[test]
    fn zeroed_space_is_unwritten() {
        assert_eq!(decode(&[0; 64]), Decoded::Unwritten);
        assert_eq!(decode(&[0; HEADER_LEN]), Decoded::Unwritten);
    }
}
