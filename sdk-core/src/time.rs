//! Wall-clock time as the host passes it in.
//!
//! The core never reads a clock. Every call that depends on time takes a
//! [`Timestamp`]: milliseconds since the Unix epoch, as the host's clock says.
//! Tests drive the core with a fake clock by passing whatever they like.

use core::time::Duration;

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// RFC 3339 in UTC with milliseconds: `2026-05-03T10:00:00.123Z`.
const RFC3339_MILLIS: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// A point in time: milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch; also "as early as possible" when returned as a wake-up time.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// A timestamp from milliseconds since the Unix epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Timestamp(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// This time plus `duration`, saturating at the far future.
    pub fn saturating_add(self, duration: Duration) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(millis))
    }

    /// How long after `earlier` this time is (zero if it is not later).
    pub fn saturating_since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// RFC 3339 in UTC with milliseconds, as the wire format wants it.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| t.format(RFC3339_MILLIS).ok())
            // Only reachable for times past year 9999.
            .unwrap_or_else(|| String::from("9999-12-31T23:59:59.999Z"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_with_millis() {
        assert_eq!(Timestamp::EPOCH.to_rfc3339(), "1970-01-01T00:00:00.000Z");
        // 2026-05-03T10:00:00.123Z
        assert_eq!(
            Timestamp::from_millis(1_777_802_400_123).to_rfc3339(),
            "2026-05-03T10:00:00.123Z"
        );
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_millis(1_000);
        assert_eq!(t.saturating_add(Duration::from_secs(1)).as_millis(), 2_000);
        assert_eq!(
            t.saturating_since(Timestamp::from_millis(5_000)),
            Duration::ZERO
        );
        assert_eq!(
            Timestamp::from_millis(u64::MAX).saturating_add(Duration::from_secs(1)),
            Timestamp::from_millis(u64::MAX)
        );
    }
}
