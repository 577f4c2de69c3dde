//! The hand-written HTTP-date parser behind Retry-After never panics on what a
//! server or proxy might send, and reads back every date it is given in any
//! of the three HTTP forms.

use proptest::prelude::*;
use spoor_core::{Timestamp, parse_retry_after};

const DAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Civil date of a day count since 1970-01-01 (the inverse the parser does not have).
fn civil(days: i64) -> (i64, usize, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month as usize, day)
}

proptest! {
    #[test]
    fn never_panics_on_any_text(text in "\\PC{0,40}") {
        let _ = Timestamp::from_http_date(&text);
        let _ = parse_retry_after(&text, Timestamp::from_millis(0));
    }

    #[test]
    fn never_panics_on_date_shaped_text(
        day in "[A-Za-z]{0,9}",
        sep in "[ ,-]{1,2}",
        n1 in "[0-9+-]{0,5}",
        month in "[A-Za-z]{0,4}",
        n2 in "[0-9:+-]{0,9}",
        zone in "[A-Za-z0-9+-]{0,5}",
    ) {
        let text = format!("{day}{sep}{n1} {month} {n2} {zone}");
        let _ = Timestamp::from_http_date(&text);
    }

    #[test]
    fn reads_every_form_back(secs in 0i64..253_402_300_799) {
        let days = secs.div_euclid(86_400);
        let (y, m, d) = civil(days);
        let t = secs.rem_euclid(86_400);
        let clock = format!("{:02}:{:02}:{:02}", t / 3_600, t % 3_600 / 60, t % 60);
        let weekday = DAYS[days.rem_euclid(7) as usize];
        let short = &weekday[..3];
        let month = MONTHS[m - 1];
        let expected = Some(Timestamp::from_millis(secs as u64 * 1_000));
        let imf = format!("{short}, {d:02} {month} {y:04} {clock} GMT");
        prop_assert_eq!(Timestamp::from_http_date(&imf), expected, "{}", imf);
        let asctime = format!("{short} {month} {d:>2} {clock} {y:04}");
        prop_assert_eq!(Timestamp::from_http_date(&asctime), expected, "{}", asctime);
        if (1950..2050).contains(&y) {
            let rfc850 = format!("{weekday}, {d:02}-{month}-{:02} {clock} GMT", y % 100);
            prop_assert_eq!(Timestamp::from_http_date(&rfc850), expected, "{}", rfc850);
        }
    }
}
