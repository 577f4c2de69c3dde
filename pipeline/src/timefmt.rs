//! RFC 3339 timestamps to and from epoch milliseconds.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Epoch milliseconds of an RFC 3339 timestamp; the relay's `…T10:00:00.000Z` form takes a fast path.
pub fn parse_ms(text: &str) -> Option<i64> {
    fast_utc(text.as_bytes()).or_else(|| {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
    })
}

fn digits(b: &[u8]) -> Option<i64> {
    let mut n = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
    }
    Some(n)
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` only.
fn fast_utc(b: &[u8]) -> Option<i64> {
    let millis = match b.len() {
        20 if b[19] == b'Z' => 0,
        24 if b[19] == b'.' && b[23] == b'Z' => digits(&b[20..23])?,
        _ => return None,
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (hh, mm, ss) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;

/// `date=YYYY-MM-DD/hour=HH` of an epoch-millisecond time.
pub fn date_hour_partition(ms: i64) -> String {
    let hours = ms.div_euclid(HOUR_MS);
    let (y, m, d) = civil_from_days(hours.div_euclid(24));
    format!("date={y:04}-{m:02}-{d:02}/hour={:02}", hours.rem_euclid(24))
}

/// RFC 3339 UTC text with milliseconds of an epoch-millisecond time.
pub fn format_ms(ms: i64) -> String {
    let (y, mo, d) = civil_from_days(ms.div_euclid(86_400_000));
    let rem = ms.rem_euclid(86_400_000);
    let (h, mi, s, milli) = (
        rem / HOUR_MS,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_time() {
        for text in [
            "2026-05-03T10:00:00.123Z",
            "2026-05-03T10:00:00Z",
            "1999-12-31T23:59:59.999Z",
            "2024-02-29T00:00:00.000Z",
        ] {
            let slow = OffsetDateTime::parse(text, &Rfc3339).unwrap();
            assert_eq!(
                parse_ms(text),
                Some((slow.unix_timestamp_nanos() / 1_000_000) as i64)
            );
            assert_eq!(
                parse_ms(&format_ms(parse_ms(text).unwrap())),
                parse_ms(text)
            );
        }
        assert_eq!(
            parse_ms("2026-05-03T12:00:00+02:00"),
            parse_ms("2026-05-03T10:00:00Z")
        );
        assert_eq!(parse_ms("yesterday"), None);
        assert_eq!(
            date_hour_partition(parse_ms("2026-05-03T07:59:00Z").unwrap()),
            "date=2026-05-03/hour=07"
        );
    }
}
