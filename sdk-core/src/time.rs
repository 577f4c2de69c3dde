//! Wall-clock time as the host passes it in.
//!
//! The core never reads a clock. Every call that depends on time takes a
//! [`Timestamp`]: milliseconds since the Unix epoch, as the host's clock says.
//! Tests drive the core with a fake clock by passing whatever they like.

use alloc::string::String;
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

impl Timestamp {
    /// Parses an HTTP date (RFC 9110 §5.6.7) as a Retry-After header carries
    /// it: the preferred IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, the
    /// obsolete RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` and asctime
    /// `Sun Nov  6 08:49:37 1994` forms, and RFC 5322 dates with a numeric zone
    /// (`+0200`). A date before 1970 is [`Timestamp::EPOCH`]; anything else is `None`.
    ///
    /// Written by hand so the core needs no date library (it was a visible
    /// share of the browser SDK's WASM); a test checks it against the `time` crate.
    pub fn from_http_date(text: &str) -> Option<Timestamp> {
        // At most six tokens (a weekday and five); more is no date. An array,
        // not a `Vec`: no collecting code in the WASM.
        let mut slots = [""; 6];
        let mut count = 0;
        for token in text.split([' ', ',']).filter(|t| !t.is_empty()) {
            *slots.get_mut(count)? = token;
            count += 1;
        }
        let mut tokens = slots.get(..count)?;
        if tokens.first().is_some_and(|t| is_weekday(t)) {
            tokens = tokens.get(1..)?;
        }
        let (year, month, day, clock, zone) = match tokens {
            // RFC 850: 06-Nov-94 08:49:37 GMT
            [date, clock, zone] => {
                let mut parts = date.split('-');
                let day = parts.next()?;
                let month = parts.next()?;
                let year = parts.next()?;
                if parts.next().is_some() {
                    return None;
                }
                (year, month, day, *clock, *zone)
            }
            // asctime: Nov 6 08:49:37 1994 (always GMT)
            [month, day, clock, year] if month_number(month).is_some() => {
                (*year, *month, *day, *clock, "GMT")
            }
            // IMF-fixdate and RFC 5322: 06 Nov 1994 08:49:37 GMT
            [day, month, year, clock, zone] => (*year, *month, *day, *clock, *zone),
            _ => return None,
        };
        let year = match (year.len(), number(year)?) {
            (2, y) if y < 50 => 2000 + y,
            (2 | 3, y) => 1900 + y,
            (4, y) => y,
            _ => return None,
        };
        let month = month_number(month)?;
        let day = number(day).filter(|d| (1..=days_in_month(year, month)).contains(d))?;
        let mut clock = clock.split(':');
        let hour = number(clock.next()?).filter(|h| *h < 24)?;
        let minute = number(clock.next()?).filter(|m| *m < 60)?;
        // A leap second (60) is read as the second before it.
        let second = match clock.next() {
            Some(s) => number(s).filter(|s| *s <= 60)?.min(59),
            None => 0,
        };
        if clock.next().is_some() {
            return None;
        }
        let offset = zone_offset_secs(zone)?;
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - offset;
        Some(Timestamp(
            u64::try_from(secs).unwrap_or(0).saturating_mul(1_000),
        ))
    }
}

/// A string of 1 to 4 ASCII digits as a number.
fn number(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_number(text: &str) -> Option<i64> {
    let index = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(text))?;
    i64::try_from(index).ok().map(|i| i + 1)
}

fn is_weekday(text: &str) -> bool {
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    DAYS.iter().any(|d| {
        d.eq_ignore_ascii_case(text)
            || (text.len() == 3 && d.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(text)))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Seconds east of UTC: `GMT`, `UT`, `UTC`, `Z` or `±hhmm`.
fn zone_offset_secs(zone: &str) -> Option<i64> {
    if ["gmt", "ut", "utc", "z"]
        .iter()
        .any(|z| z.eq_ignore_ascii_case(zone))
    {
        return Some(0);
    }
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, zone.get(1..).unwrap_or_default()),
        b'-' => (-1, zone.get(1..).unwrap_or_default()),
        _ => return None,
    };
    if digits.len() != 4 {
        return None;
    }
    let hhmm = number(digits)?;
    let (hours, minutes) = (hhmm / 100, hhmm % 100);
    (minutes < 60).then_some(sign * (hours * 3_600 + minutes * 60))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    fn parses_the_three_http_date_forms() {
        // RFC 9110's example instant in each form.
        let expected = Some(Timestamp::from_millis(784_111_777_000));
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 10:49:37 +0200",
            "sun, 06 nov 1994 08:49:37 utc",
        ] {
            assert_eq!(Timestamp::from_http_date(text), expected, "{text}");
        }
        assert_eq!(
            Timestamp::from_http_date("Thu, 01 Jan 1960 00:00:00 GMT"),
            Some(Timestamp::EPOCH)
        );
        for bad in [
            "",
            "soon",
            "Sun, 30 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 CEST",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 19945 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37:01 GMT",
            "Sun, -6 Nov 1994 08:49:37 GMT",
            "06-Nov 08:49:37 GMT",
        ] {
            assert_eq!(Timestamp::from_http_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn reads_http_dates_as_the_time_crate_writes_them() {
        use time::OffsetDateTime;
        use time::format_description::well_known::Rfc2822;
        let mut rng = crate::rng::Rng::from_seed([3; 32]);
        let last = 253_402_300_799; // 9999-12-31T23:59:59Z
        for secs in (0..20_000).map(|_| rng.up_to(last)).chain([0, last]) {
            let t = OffsetDateTime::from_unix_timestamp(secs as i64).unwrap();
            let text = t.format(&Rfc2822).unwrap();
            assert_eq!(
                Timestamp::from_http_date(&text),
                Some(Timestamp::from_millis(secs * 1_000)),
                "{text}"
            );
            let imf = text.replace("+0000", "GMT");
            assert_eq!(
                Timestamp::from_http_date(&imf),
                Some(Timestamp::from_millis(secs * 1_000)),
                "{imf}"
            );
        }
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
