//! Time as the analytics see it: microseconds since the Unix epoch, UTC.
//!
//! Parsing accepts RFC 3339 timestamps and plain `YYYY-MM-DD` dates (midnight
//! UTC); durations are written `90s`, `30m`, `1h`, `14d` or `2w`.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};

/// Microseconds since the Unix epoch, UTC.
pub type Micros = i64;

/// Microseconds in one second.
pub const SECOND: Micros = 1_000_000;
/// Microseconds in one hour.
pub const HOUR: Micros = 3_600 * SECOND;
/// Microseconds in one day.
pub const DAY: Micros = 86_400 * SECOND;
/// Microseconds in one week.
pub const WEEK: Micros = 7 * DAY;

/// Parses an RFC 3339 timestamp or a `YYYY-MM-DD` date (midnight UTC).
pub fn parse_time(text: &str) -> Option<Micros> {
    let text = text.trim();
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some((at.unix_timestamp_nanos() / 1_000) as Micros);
    }
    let date = parse_date(text)?;
    Some(days_to_micros(
        date.to_julian_day() as i64 - EPOCH_JULIAN_DAY,
    ))
}

/// Parses a duration such as `45s`, `30m`, `1h`, `14d` or `2w` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Option<Micros> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().ok()?;
    let unit_micros = match unit {
        "" | "s" => SECOND,
        "m" => 60 * SECOND,
        "h" => 3_600 * SECOND,
        "d" => DAY,
        "w" => WEEK,
        _ => return None,
    };
    number.checked_mul(unit_micros)
}

/// The longest window, lookback or half-life a query takes: 100 years. Any time the API reads
/// (years 0 to 9999) plus or minus it stays far inside `i64` microseconds, so no window
/// arithmetic can overflow.
pub const MAX_WINDOW: Micros = 36_525 * DAY;

/// Parses a window, lookback or half-life: a [`parse_duration`] above zero and at most
/// [`MAX_WINDOW`].
pub fn parse_window(text: &str) -> Option<Micros> {
    parse_duration(text).filter(|micros| (1..=MAX_WINDOW).contains(micros))
}

/// Formats a time as RFC 3339 in UTC with microseconds (`2026-05-03T10:00:00.000000Z`).
pub fn format_time(at: Micros) -> String {
    let date = date_of_day(at.div_euclid(DAY));
    let in_day = at.rem_euclid(DAY);
    let secs = in_day / SECOND;
    format!(
        "{}T{:02}:{:02}:{:02}.{:06}Z",
        format_date(date),
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        in_day % SECOND
    )
}

/// The day number (days since 1970-01-01) of a time.
pub fn day_index(at: Micros) -> i64 {
    at.div_euclid(DAY)
}

/// The week number of a time; weeks start on Monday (1970-01-01 was a Thursday).
pub fn week_index(at: Micros) -> i64 {
    (day_index(at) + 3).div_euclid(7)
}

/// The first day (days since 1970-01-01) of a week number from [`week_index`].
pub fn week_start_day(week: i64) -> i64 {
    week * 7 - 3
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(day: i64) -> String {
    format_date(date_of_day(day))
}

/// Midnight UTC of a day number, in microseconds.
pub fn days_to_micros(day: i64) -> Micros {
    day * DAY
}

/// Julian day number of 1970-01-01.
const EPOCH_JULIAN_DAY: i64 = 2_440_588;

fn date_of_day(day: i64) -> Date {
    let julian = (day + EPOCH_JULIAN_DAY).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    Date::from_julian_day(julian).unwrap_or(Date::MIN)
}

fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        date.month() as u8,
        date.day()
    )
}

fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// Parses a partition directory date (`2026-05-03`) into a day number.
pub fn parse_day(text: &str) -> Option<i64> {
    Some(parse_date(text)?.to_julian_day() as i64 - EPOCH_JULIAN_DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        let at = parse_time("2026-05-03T10:00:00Z").unwrap();
        assert_eq!(format_time(at), "2026-05-03T10:00:00.000000Z");
        assert_eq!(
            parse_time("2026-05-03"),
            parse_time("2026-05-03T00:00:00+00:00")
        );
        assert_eq!(parse_time("2026-05-03T12:00:00+02:00"), Some(at));
        assert_eq!(parse_duration("1h"), Some(3_600 * SECOND));
        assert_eq!(parse_duration("14d"), Some(14 * DAY));
        assert_eq!(parse_duration("90"), Some(90 * SECOND));
        assert_eq!(parse_duration("1y"), None);
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn weeks_start_on_monday() {
        let monday = day_index(parse_time("2026-05-04").unwrap());
        let sunday = day_index(parse_time("2026-05-10").unwrap());
        assert_eq!(week_index(monday * DAY), week_index(sunday * DAY));
        assert_eq!(week_index(monday * DAY) - 1, week_index((monday - 1) * DAY));
        assert_eq!(
            format_day(week_start_day(week_index(sunday * DAY))),
            "2026-05-04"
        );
        assert_eq!(parse_day("1970-01-02"), Some(1));
    }
}
