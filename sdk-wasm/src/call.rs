//! Turning a call from JavaScript into a `spoor-core` [`Message`].
//!
//! The JavaScript side snapshots the call's arguments with `JSON.stringify`
//! when the page makes it (so later mutations of the page's objects do not
//! leak in, and a circular object fails there, not here), and hands them over
//! as JSON text in one boundary crossing.

use alloc::string::String;

use spoor_core::json_lex::{Decimal, Lexer};
use spoor_core::{
    Alias, EventOptions, Group, Identify, JsonError, Message, Page, Properties, Screen, Timestamp,
    Track,
};

/// Which call the page made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// `track(name, properties)`.
    Track,
    /// `identify(userId, traits)`.
    Identify,
    /// `page(name, properties)`.
    Page,
    /// `screen(name, properties)`.
    Screen,
    /// `group(groupId, traits)`.
    Group,
    /// `alias(userId, previousId)`.
    Alias,
}

impl CallKind {
    /// The kind for its wire code (0 track … 5 alias), as the JS side numbers them.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => CallKind::Track,
            1 => CallKind::Identify,
            2 => CallKind::Page,
            3 => CallKind::Screen,
            4 => CallKind::Group,
            5 => CallKind::Alias,
            _ => return None,
        })
    }
}

/// Why a call's arguments were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The properties, traits or options were not valid JSON.
    #[error("{what}: {reason}")]
    Json {
        /// Which argument.
        what: &'static str,
        /// What is wrong with it.
        reason: JsonError,
    },
    /// An argument that must be a JSON object was something else.
    #[error("{0} must be an object")]
    NotAnObject(&'static str),
}

impl CallError {
    /// The message, the same text as `Display` gives, without `core::fmt`
    /// (which this crate's WASM leaves out).
    pub fn message(&self) -> String {
        let (what, rest) = match self {
            CallError::Json { what, reason } => (what, [": ", reason.as_str()]),
            CallError::NotAnObject(what) => (what, [" must be an object", ""]),
        };
        let mut out = String::from(*what);
        out.push_str(rest[0]);
        out.push_str(rest[1]);
        out
    }
}

/// Builds the message for a call: `name` is the event, page or screen name,
/// the userId (identify, alias) or the groupId; `previous_id` is alias's
/// previousId; `props` the properties or traits; `options` the JSON object
/// `{category?, context?, timestamp? (ms since the epoch)}`.
pub fn build_message(
    kind: CallKind,
    name: Option<String>,
    previous_id: Option<String>,
    props: Option<&str>,
    options: Option<&str>,
) -> Result<Message, CallError> {
    let properties = parse_object(props, "properties")?;
    let options = parse_options(options)?;
    let name_or_empty = || name.clone().unwrap_or_default();
    Ok(match kind {
        CallKind::Track => Message::Track(Track {
            name: name_or_empty(),
            properties,
            options,
        }),
        CallKind::Identify => Message::Identify(Identify {
            user_id: name,
            traits: properties,
            options,
        }),
        CallKind::Page => Message::Page(Page {
            name,
            properties,
            options,
        }),
        CallKind::Screen => Message::Screen(Screen {
            name: name_or_empty(),
            properties,
            options,
        }),
        CallKind::Group => Message::Group(Group {
            group_id: name_or_empty(),
            traits: properties,
            options,
        }),
        CallKind::Alias => Message::Alias(Alias {
            user_id: name_or_empty(),
            previous_id,
            options,
        }),
    })
}

/// `json` as an object; absent, empty or JSON `null` (JSON's whitespace around it allowed;
/// `null` and a vertical tab is not JSON) is an empty one.
fn parse_object(json: Option<&str>, what: &'static str) -> Result<Properties, CallError> {
    let Some(json) = json.filter(|s| !s.is_empty()) else {
        return Ok(Properties::new());
    };
    Properties::from_json(json).or_else(|reason| match reason {
        // Checked to be one JSON value: the only one starting with `n` is `null`.
        JsonError::NotAnObject if first_token_byte(json) == Some(b'n') => Ok(Properties::new()),
        JsonError::NotAnObject => Err(CallError::NotAnObject(what)),
        reason => Err(CallError::Json { what, reason }),
    })
}

/// The first byte of `json` that is not JSON's whitespace.
fn first_token_byte(json: &str) -> Option<u8> {
    let mut lex = Lexer::new(json);
    lex.space();
    lex.peek()
}

/// A JSON number that is not negative, in whole units: a fraction is cut
/// off, more than `u64::MAX` saturates, and a number too large for an `f64`
/// is refused, the way `serde_json::Value::as_f64` and `as u64` read it (up to
/// the rounding of an `f64`). `None` for any other JSON value.
pub fn non_negative(json: &str) -> Option<u64> {
    let mut lex = Lexer::new(json);
    lex.number().ok()?;
    if lex.at != json.len() {
        return None;
    }
    let number = Decimal::of(json.as_bytes());
    if number.significant.is_empty() {
        return Some(0);
    }
    if number.negative || !number.is_finite_f64() {
        return None;
    }
    // The whole part: the first `magnitude` digits, zeros past the last one.
    let whole = number.magnitude.max(0) as usize;
    let digits = number.digits().chain(core::iter::repeat(b'0')).take(whole);
    Some(digits.fold(0u64, |value, b| {
        value.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

fn parse_options(json: Option<&str>) -> Result<EventOptions, CallError> {
    let map = parse_object(json, "options")?;
    let category = map
        .get_str("category")
        .filter(|c| !c.is_empty())
        .map(|c| c.into_owned());
    let context = match map.get_json("context") {
        None | Some("null") => Properties::new(),
        Some(_) => map
            .get_object("context")
            .ok_or(CallError::NotAnObject("options.context"))?,
    };
    let timestamp = map
        .get_json("timestamp")
        .and_then(non_negative)
        .map(Timestamp::from_millis);
    Ok(EventOptions {
        category,
        context,
        timestamp,
        ..EventOptions::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_with_properties_and_options() {
        let message = build_message(
            CallKind::Track,
            Some("product_clicked".into()),
            None,
            Some(r#"{"productId":"p1","price":9.5}"#),
            Some(r#"{"category":"marketing","context":{"page":{"path":"/"}},"timestamp":1777802400123}"#),
        )
        .unwrap();
        let Message::Track(track) = message else {
            panic!("not a track: {message:?}");
        };
        assert_eq!(track.name, "product_clicked");
        assert_eq!(track.properties.get_str("productId").as_deref(), Some("p1"));
        assert_eq!(track.properties.get_json("price"), Some("9.5"));
        assert_eq!(track.options.category.as_deref(), Some("marketing"));
        assert_eq!(
            track
                .options
                .context
                .get_object("page")
                .and_then(|p| p.get_str("path").map(|s| s.into_owned()))
                .as_deref(),
            Some("/")
        );
        assert_eq!(
            track.options.timestamp,
            Some(Timestamp::from_millis(1_777_802_400_123))
        );
    }

    #[test]
    fn each_kind_maps_its_name_argument() {
        let build = |kind| build_message(kind, Some("x".into()), Some("prev".into()), None, None);
        assert!(
            matches!(build(CallKind::Identify), Ok(Message::Identify(m)) if m.user_id.as_deref() == Some("x"))
        );
        assert!(
            matches!(build(CallKind::Page), Ok(Message::Page(m)) if m.name.as_deref() == Some("x"))
        );
        assert!(matches!(build(CallKind::Screen), Ok(Message::Screen(m)) if m.name == "x"));
        assert!(matches!(build(CallKind::Group), Ok(Message::Group(m)) if m.group_id == "x"));
        assert!(
            matches!(build(CallKind::Alias), Ok(Message::Alias(m)) if m.user_id == "x" && m.previous_id.as_deref() == Some("prev"))
        );
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let err = build_message(CallKind::Track, Some("e".into()), None, Some("[1,2]"), None);
        assert_eq!(err, Err(CallError::NotAnObject("properties")));
        let err = build_message(CallKind::Track, Some("e".into()), None, Some("{"), None);
        assert_eq!(
            err,
            Err(CallError::Json {
                what: "properties",
                reason: JsonError::Invalid,
            })
        );
        let err = build_message(CallKind::Track, Some("e".into()), None, Some("{x"), None);
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("properties: not valid JSON".to_string())
        );
        let err = build_message(
            CallKind::Track,
            Some("e".into()),
            None,
            Some(r#"{"s":"\ud800"}"#),
            None,
        );
        assert_eq!(
            err,
            Err(CallError::Json {
                what: "properties",
                reason: JsonError::LoneSurrogate,
            })
        );
        let err = build_message(
            CallKind::Track,
            Some("e".into()),
            None,
            None,
            Some(r#"{"context":3}"#),
        );
        assert_eq!(err, Err(CallError::NotAnObject("options.context")));
        // A number no f64 holds: refused at the call, as the relay would refuse the event.
        let err = build_message(
            CallKind::Track,
            Some("e".into()),
            None,
            Some(r#"{"n":[1e400]}"#),
            None,
        );
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("properties: a number is too large for a 64-bit float".to_string())
        );
        let max = build_message(
            CallKind::Track,
            Some("e".into()),
            None,
            Some(r#"{"n":1.7976931348623157e308,"m":-1e-400}"#),
            None,
        );
        assert!(max.is_ok());
        // Only JSON's whitespace around a `null`.
        let err = build_message(
            CallKind::Track,
            Some("e".into()),
            None,
            Some(" null\u{b}"),
            None,
        );
        assert_eq!(
            err,
            Err(CallError::Json {
                what: "properties",
                reason: JsonError::Invalid,
            })
        );
        assert!(
            build_message(
                CallKind::Track,
                Some("e".into()),
                None,
                Some("\r\n null\t"),
                None
            )
            .is_ok()
        );
        // A missing name is the core's to refuse (MissingField), not a parse error.
        assert!(build_message(CallKind::Track, None, None, Some("null"), Some("")).is_ok());
    }

    #[test]
    fn numbers_read_as_value_as_f64_did() {
        for (json, expected) in [
            ("0", Some(0)),
            ("1777802400123", Some(1_777_802_400_123)),
            ("2500.7", Some(2500)),
            ("2.5e3", Some(2500)),
            ("-0", Some(0)),
            ("-1", None),
            ("1e400", None),
            ("0.5", Some(0)),
            ("0.05e1", Some(0)),
            ("1e-5", Some(0)),
            ("-0.0", Some(0)),
            ("-0.5", None),
            ("12.5E+1", Some(125)),
            ("100", Some(100)),
            ("18446744073709551616", Some(u64::MAX)),
            ("1e9223372036854775807", None),
            ("0.000000001e9223372036854775807", None),
            ("1e-9223372036854775808", Some(0)),
            ("1e+", None),
            ("1.5.5", None),
            ("1e309", None),
            ("1e308", Some(u64::MAX)),
            ("\"5\"", None),
            ("true", None),
        ] {
            assert_eq!(non_negative(json), expected, "{json}");
        }
    }

    #[test]
    fn message_is_the_display_text() {
        for error in [
            CallError::Json {
                what: "properties",
                reason: JsonError::LoneSurrogate,
            },
            CallError::NotAnObject("options.context"),
        ] {
            assert_eq!(error.message(), error.to_string());
        }
    }

    #[test]
    fn kind_codes_round_trip() {
        for code in 0..6 {
            assert!(CallKind::from_code(code).is_some());
        }
        assert_eq!(CallKind::from_code(6), None);
    }
}
