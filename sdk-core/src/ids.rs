//! Identifiers the core mints: event ids (UUIDv7), anonymous and session ids.

use alloc::borrow::ToOwned;
use alloc::string::String;

use uuid::{Builder, Uuid};

use crate::rng::Rng;
use crate::time::Timestamp;

/// A UUIDv7 for `now`: 48 bits of Unix milliseconds, then random bits, so ids
/// sort by creation time.
pub fn uuid_v7(now: Timestamp, rng: &mut Rng) -> Uuid {
    let mut random = [0u8; 10];
    rng.fill_bytes(&mut random);
    Builder::from_unix_timestamp_millis(now.as_millis(), &random).into_uuid()
}

/// `id` in its hyphenated lower-case text form. Written straight into a
/// buffer rather than through `Display`, which would link `core::fmt`'s
/// padding machinery into the browser SDK's WASM.
pub fn to_text(id: Uuid) -> String {
    id.hyphenated()
        .encode_lower(&mut Uuid::encode_buffer())
        .to_owned()
}

/// A random UUIDv4, for ids that must not reveal when they were made (anonymousId).
pub fn uuid_v4(rng: &mut Rng) -> Uuid {
    let mut random = [0u8; 16];
    rng.fill_bytes(&mut random);
    Builder::from_random_bytes(random).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_carries_the_time_and_version() {
        let mut rng = Rng::from_seed([3; 32]);
        let now = Timestamp::from_millis(1_777_802_400_123);
        let id = uuid_v7(now, &mut rng);
        assert_eq!(id.get_version_num(), 7);
        let (secs, nanos) = id.get_timestamp().expect("v7 has a timestamp").to_unix();
        assert_eq!(secs * 1_000 + u64::from(nanos) / 1_000_000, now.as_millis());
        assert_ne!(id, uuid_v7(now, &mut rng));
    }

    #[test]
    fn text_form_is_display() {
        let mut rng = Rng::from_seed([5; 32]);
        let id = uuid_v7(Timestamp::from_millis(1), &mut rng);
        assert_eq!(to_text(id), id.to_string());
    }

    #[test]
    fn v4_is_random_version() {
        let mut rng = Rng::from_seed([3; 32]);
        assert_eq!(uuid_v4(&mut rng).get_version_num(), 4);
    }
}
