//! Reading typed query values from a query-string map, naming the bad parameter.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::ParamError;
use crate::time::{self, DAY, Micros};

/// A query-string map restricted to the parameters a query knows.
pub struct Params<'a> {
    map: &'a HashMap<String, String>,
}

impl<'a> Params<'a> {
    /// Wraps `map`; an unknown parameter is an error (a typo must not be ignored silently).
    pub fn new(map: &'a HashMap<String, String>, known: &[&str]) -> Result<Params<'a>, ParamError> {
        let mut names: Vec<&String> = map.keys().collect();
        names.sort();
        if let Some(unknown) = names
            .into_iter()
            .find(|name| !known.contains(&name.as_str()))
        {
            return Err(ParamError::new(
                unknown,
                format!("unknown parameter (known: {})", known.join(", ")),
            ));
        }
        Ok(Params { map })
    }

    /// The trimmed value of `name`, if present and not empty.
    pub fn text(&self, name: &str) -> Option<&'a str> {
        self.map
            .get(name)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// A comma-separated list (empty items dropped).
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.text(name).map(|value| {
            value
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(String::from)
                .collect()
        })
    }

    /// A time (RFC 3339 or `YYYY-MM-DD`).
    pub fn time(&self, name: &str) -> Result<Option<Micros>, ParamError> {
        self.text(name)
            .map(|value| {
                time::parse_time(value).ok_or_else(|| {
                    ParamError::new(
                        name,
                        format!("`{value}` is not an RFC 3339 time or a YYYY-MM-DD date"),
                    )
                })
            })
            .transpose()
    }

    /// A window, lookback or half-life ([`time::parse_window`]).
    pub fn duration(&self, name: &str) -> Result<Option<Micros>, ParamError> {
        self.text(name)
            .map(|value| match time::parse_window(value) {
                Some(micros) => Ok(micros),
                None => Err(ParamError::new(
                    name,
                    format!(
                        "`{value}` is not a positive duration of at most 100 years, \
                         such as 30m, 1h, 14d or 2w"
                    ),
                )),
            })
            .transpose()
    }

    /// One of `choices`; returns its index.
    pub fn choice(&self, name: &str, choices: &[&str]) -> Result<Option<usize>, ParamError> {
        self.text(name)
            .map(|value| {
                choices
                    .iter()
                    .position(|choice| *choice == value)
                    .ok_or_else(|| {
                        ParamError::new(
                            name,
                            format!("`{value}` is not one of {}", choices.join(", ")),
                        )
                    })
            })
            .transpose()
    }

    /// A number in `range`.
    pub fn number(&self, name: &str, min: f64, max: f64) -> Result<Option<f64>, ParamError> {
        self.text(name)
            .map(|value| match value.parse::<f64>() {
                Ok(number) if number >= min && number <= max => Ok(number),
                _ => Err(ParamError::new(
                    name,
                    format!("`{value}` is not a number in {min}..={max}"),
                )),
            })
            .transpose()
    }

    /// The time range `from`/`to`; `to` defaults to now, `from` to 30 days before `to`.
    pub fn range(&self) -> Result<TimeRange, ParamError> {
        let to = match self.time("to")? {
            Some(to) => to,
            None => (::time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as Micros,
        };
        let from = self.time("from")?.unwrap_or(to - 30 * DAY);
        if from >= to {
            return Err(ParamError::new("from", "must be before `to`"));
        }
        Ok(TimeRange { from, to })
    }
}

/// A half-open time range `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    /// First included instant.
    #[serde(serialize_with = "serialize_time")]
    pub from: Micros,
    /// First excluded instant.
    #[serde(serialize_with = "serialize_time")]
    pub to: Micros,
}

impl TimeRange {
    /// True when `at` lies in the range.
    pub fn contains(&self, at: Micros) -> bool {
        at >= self.from && at < self.to
    }
}

/// Serializes microseconds as an RFC 3339 string.
pub fn serialize_time<S: serde::Serializer>(at: &Micros, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time::format_time(*at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_the_bad_parameter() {
        let values = map(&[("window", "soon")]);
        let params = Params::new(&values, &["window"]).unwrap();
        assert_eq!(params.duration("window").unwrap_err().param, "window");
        let values = map(&[("windw", "1h")]);
        assert_eq!(
            Params::new(&values, &["window"]).err().unwrap().param,
            "windw"
        );
        // A lookback of ~15 million weeks from year 0 would take `from - lookback` below i64.
        let values = map(&[("lookback", "15250000w"), ("window", "5217w")]);
        let params = Params::new(&values, &["lookback", "window"]).unwrap();
        assert_eq!(params.duration("lookback").unwrap_err().param, "lookback");
        assert_eq!(params.duration("window").unwrap(), Some(5217 * 7 * DAY));
        let values = map(&[("window", "36526d")]);
        let params = Params::new(&values, &["window"]).unwrap();
        assert_eq!(params.duration("window").unwrap_err().param, "window");
        let values = map(&[("from", "2026-05-03"), ("to", "2026-05-01")]);
        let params = Params::new(&values, &["from", "to"]).unwrap();
        assert_eq!(params.range().unwrap_err().param, "from");
    }

    /// Text close to what the readers take: digits, units, date and time punctuation.
    fn near_valid() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::prop_oneof![
            "[0-9+\\-:.TZtzsmhdwy ]{0,40}",
            "[+-]?[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2}))?",
            "[0-9]{1,25}[smhdw]?",
            "\\PC{0,20}",
        ]
    }

    proptest::proptest! {
        /// Whatever the query string holds, reading it gives a value in range or an error
        /// naming the parameter, never a panic.
        #[test]
        fn any_value_reads_in_range_or_is_named(
            from in near_valid(),
            to in near_valid(),
            window in near_valid(),
            number in near_valid(),
        ) {
            let values = map(&[("from", &from), ("to", &to), ("window", &window), ("n", &number)]);
            let params = Params::new(&values, &["from", "to", "window", "n"]).unwrap();
            match params.range() {
                Ok(range) => proptest::prop_assert!(range.from < range.to),
                Err(e) => proptest::prop_assert!(e.param == "from" || e.param == "to"),
            }
            match params.duration("window") {
                Ok(Some(micros)) => proptest::prop_assert!((1..=time::MAX_WINDOW).contains(&micros)),
                Ok(None) => proptest::prop_assert!(window.trim().is_empty()),
                Err(e) => proptest::prop_assert_eq!(e.param, "window"),
            }
            if let Ok(Some(n)) = params.number("n", 0.0, 1.0) {
                proptest::prop_assert!((0.0..=1.0).contains(&n));
            }
        }
    }
}
