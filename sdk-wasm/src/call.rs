//! Turning a call from JavaScript into a `spoor-core` [`Message`].
//!
//! The JavaScript side snapshots the call's arguments with `JSON.stringify`
//! when the page makes it (so later mutations of the page's objects do not
//! leak in, and a circular object fails there, not here), and hands them over
//! as JSON text in one boundary crossing.

use serde_json::{Map, Value};
use spoor_core::{
    Alias, EventOptions, Group, Identify, Message, Page, Properties, Screen, Timestamp, Track,
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
    #[error("{what} is not valid JSON: {reason}")]
    Json {
        /// Which argument.
        what: &'static str,
        /// What kind of error the parser found (see [`json_error`]).
        reason: &'static str,
    },
    /// An argument that must be a JSON object was something else.
    #[error("{0} must be an object")]
    NotAnObject(&'static str),
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

fn parse_object(json: Option<&str>, what: &'static str) -> Result<Properties, CallError> {
    let Some(json) = json.filter(|s| !s.is_empty()) else {
        return Ok(Properties::new());
    };
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Properties::new()),
        Ok(_) => Err(CallError::NotAnObject(what)),
        Err(e) => Err(CallError::Json {
            what,
            reason: json_error(&e),
        }),
    }
}

/// What kind of error `e` is, as a fixed message. `serde_json::Error`'s own
/// message (with its line and column) would link its formatting code and
/// `std::io::Error`'s into the WASM; the JS side stringifies every argument,
/// so these errors are not expected in practice.
pub fn json_error(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Eof => "unexpected end of input",
    }
}

fn parse_options(json: Option<&str>) -> Result<EventOptions, CallError> {
    let mut map: Map<String, Value> = parse_object(json, "options")?;
    let category = match map.remove("category") {
        Some(Value::String(c)) if !c.is_empty() => Some(c),
        _ => None,
    };
    let context = match map.remove("context") {
        Some(Value::Object(context)) => context,
        None | Some(Value::Null) => Properties::new(),
        Some(_) => return Err(CallError::NotAnObject("options.context")),
    };
    let timestamp = map
        .get("timestamp")
        .and_then(Value::as_f64)
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| Timestamp::from_millis(ms as u64));
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
        assert_eq!(track.properties["productId"], "p1");
        assert_eq!(track.options.category.as_deref(), Some("marketing"));
        assert_eq!(track.options.context["page"]["path"], "/");
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
                reason: "unexpected end of input",
            })
        );
        let err = build_message(CallKind::Track, Some("e".into()), None, Some("{x"), None);
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("properties is not valid JSON: syntax error".to_string())
        );
        let err = build_message(
            CallKind::Track,
            Some("e".into()),
            None,
            None,
            Some(r#"{"context":3}"#),
        );
        assert_eq!(err, Err(CallError::NotAnObject("options.context")));
        // A missing name is the core's to refuse (MissingField), not a parse error.
        assert!(build_message(CallKind::Track, None, None, Some("null"), Some("")).is_ok());
    }

    #[test]
    fn kind_codes_round_trip() {
        for code in 0..6 {
            assert!(CallKind::from_code(code).is_some());
        }
        assert_eq!(CallKind::from_code(6), None);
    }
}
