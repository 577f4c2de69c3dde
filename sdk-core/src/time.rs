//! Wall-clock time as the host passes it in.
//!
//! The core never reads a clock. Every call that depends on time takes a
//! [`Timestamp`]: milliseconds since the Unix epoch, as the host's clock says.
//! Tests drive the core with a fake clock by passing whatever they like.

use core::time::Duration;

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
    ///
    /// Written by hand (every event and every send formats a time; the
    /// general-purpose formatter was a visible share of `track`); a test checks
    /// it against the `time` crate.
    pub fn to_rfc3339(self) -> String {
        let millis = self.0 % 1_000;
        let secs = self.0 / 1_000;
        let days = secs / 86_400;
        let in_day = secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        if year > 9999 {
            return String::from("9999-12-31T23:59:59.999Z");
        }
        let mut out = String::with_capacity(24);
        push_digits(&mut out, year, 4);
        out.push('-');
        push_digits(&mut out, month, 2);
        out.push('-');
        push_digits(&mut out, day, 2);
        out.push('T');
        push_digits(&mut out, in_day / 3_600, 2);
        out.push(':');
        push_digits(&mut out, in_day % 3_600 / 60, 2);
        out.push(':');
        push_digits(&mut out, in_day % 60, 2);
        out.push('.');
        push_digits(&mut out, millis, 3);
        out.push('Z');
        out
    }
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Appends `value` as exactly `width` decimal digits (zero-padded).
fn push_digits(out: &mut String, value: u64, width: u32) {
    let mut divisor = 10u64.pow(width - 1);
    while divisor > 0 {
        out.push(char::from(b'0' + (value / divisor % 10) as u8));
        divisor /= 10;
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
    fn matches_the_time_crate_everywhere() {
        use time::OffsetDateTime;
        use time::macros::format_description;
        let reference = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        let mut rng = crate::rng::Rng::from_seed([9; 32]);
        let last = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
        let leap_days = [
            951_782_400_000,
            951_868_800_000,
            4_107_542_400_000,
            4_102_444_800_000,
        ];
        let samples = (0..20_000)
            .map(|_| rng.up_to(last))
            .chain([0, 1, 999, 1_000, 86_399_999, 86_400_000, last])
            .chain(leap_days);
        for millis in samples {
            let t =
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).unwrap();
            assert_eq!(
                Timestamp::from_millis(millis).to_rfc3339(),
                t.format(reference).unwrap(),
                "{millis}"
            );
        }
        assert_eq!(
            Timestamp::from_millis(last + 1).to_rfc3339(),
            "9999-12-31T23:59:59.999Z"
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
