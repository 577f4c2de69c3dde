//! The host's clock and randomness, handed to the sans-IO core.

use std::time::{SystemTime, UNIX_EPOCH};

use spoor_core::Timestamp;

/// Now, as the core wants it (wall clock, milliseconds since the Unix epoch).
pub fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    Timestamp::from_millis(millis)
}

/// A fresh seed from the OS for event ids, the anonymous id and jitter.
pub fn seed() -> [u8; 32] {
    rand::random()
}
