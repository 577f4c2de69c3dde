//! One incoming event: parsed, checked against the limits and the wire format,
//! with Segment's field names mapped to Spoor's.

use std::borrow::Cow;

use spoor_log::event::EventType;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::Limits;
use crate::raw_json::{Context, Object, RawJson};
use crate::wire::{self, Wire};

/// A reason an event is refused: a stable code and a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Machine-readable code.
    pub code: &'static str,
    /// For a person.
    pub message: String,
}

impl Invalid {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Invalid {
            code,
            message: message.into(),
        }
    }
}

/// A well-formed event, before enrichment. Its string fields are JSON
/// string text, borrowed from the body and checked to decode.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingEvent<'a> {
    /// Client id of the event.
    pub event_id: RawJson<'a>,
    /// Kind of call.
    pub event_type: EventType,
    /// Event, page or screen name.
    pub event_name: Option<RawJson<'a>>,
    /// Known user.
    pub user_id: Option<RawJson<'a>>,
    /// Anonymous device id.
    pub anonymous_id: Option<RawJson<'a>>,
    /// Alias: the id merged into `user_id`.
    pub previous_id: Option<RawJson<'a>>,
    /// Group call: the group.
    pub group_id: Option<RawJson<'a>>,
    /// Client event time, as sent, and parsed.
    pub timestamp: Option<(RawJson<'a>, OffsetDateTime)>,
    /// When the client sent it, as sent, and parsed.
    pub sent_at: Option<(RawJson<'a>, OffsetDateTime)>,
    /// Properties: JSON object text, checked against the limits.
    pub properties: Object<'a>,
    /// Traits: JSON object text, checked against the limits.
    pub traits: Object<'a>,
    /// Context, its values as they came.
    pub context: Context<'a>,
    /// Requested schema version.
    pub schema_version: Option<u32>,
}

/// How to read one event.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions<'a> {
    /// The type a Segment single-call route implies (`/v1/track` → track).
    pub route_type: Option<EventType>,
    /// Batch-level `sentAt` for events without their own.
    pub batch_sent_at: Option<&'a str>,
    /// Generate an eventId when none is sent (Segment routes; their clients always send one).
    pub generate_missing_id: bool,
}

/// The code of an event that is not JSON at all.
pub const NOT_JSON: &str = "invalid_json";

const MAX_ID: usize = 128;
const MAX_NAME: usize = 256;
const MAX_USER_ID: usize = 256;

/// Parses and checks one event's JSON text.
pub fn parse<'a>(
    raw: &'a str,
    limits: &Limits,
    options: ParseOptions<'_>,
) -> Result<IncomingEvent<'a>, Invalid> {
    check_size(raw, limits)?;
    from_wire(wire::read(raw, limits)?, options)
}

/// Checks one event of a batch the envelope has read: `raw` is its text and
/// `read` what reading it found (see `wire::read_batch`).
pub fn from_read<'a>(
    raw: &str,
    read: Result<Wire<'a>, Invalid>,
    limits: &Limits,
    options: ParseOptions<'_>,
) -> Result<IncomingEvent<'a>, Invalid> {
    check_size(raw, limits)?;
    from_wire(read?, options)
}

fn check_size(raw: &str, limits: &Limits) -> Result<(), Invalid> {
    if raw.len() > limits.max_event_bytes {
        return Err(Invalid::new(
            "event_too_large",
            format!(
                "the event is {} bytes, over the {} byte limit",
                raw.len(),
                limits.max_event_bytes
            ),
        ));
    }
    Ok(())
}

/// The event from its fields as read: the kinds, names and ids checked.
fn from_wire<'a>(wire: Wire<'a>, options: ParseOptions<'_>) -> Result<IncomingEvent<'a>, Invalid> {
    let event_type = match (options.route_type, wire.event_type) {
        (Some(t), _) => t,
        (None, None) => EventType::Track,
        (None, Some(t)) => match string_field("type", &t)? {
            Some(t) => parse_type(&t)?,
            None => return Err(must_be_a_string("type")),
        },
    };
    let event_id = match id_field("eventId", wire.event_id.or(wire.message_id), MAX_ID)? {
        Some(id) => id,
        None if options.generate_missing_id => RawJson::string(&uuid::Uuid::now_v7().to_string()),
        None => return Err(Invalid::new("missing_field", "eventId is required")),
    };
    let event_name = wire.event_name.or(wire.event).or(wire.name);
    match &event_name {
        Some(name) => {
            let name =
                string_field("eventName", name)?.ok_or_else(|| must_be_a_string("eventName"))?;
            if name.is_empty() || name.len() > MAX_NAME {
                return Err(Invalid::new(
                    "invalid_field",
                    format!("eventName must have 1 to {MAX_NAME} bytes"),
                ));
            }
        }
        None if event_type == EventType::Track => {
            return Err(Invalid::new(
                "missing_field",
                "eventName is required for track events",
            ));
        }
        None => {}
    }
    let user_id = id_field("userId", wire.user_id, MAX_USER_ID)?;
    let anonymous_id = id_field("anonymousId", wire.anonymous_id, MAX_USER_ID)?;
    if user_id.is_none() && anonymous_id.is_none() {
        return Err(Invalid::new(
            "missing_field",
            "userId or anonymousId is required",
        ));
    }
    let previous_id = id_field("previousId", wire.previous_id, MAX_USER_ID)?;
    if event_type == EventType::Alias && (previous_id.is_none() || user_id.is_none()) {
        return Err(Invalid::new(
            "missing_field",
            "alias needs previousId and userId",
        ));
    }
    let group_id = id_field("groupId", wire.group_id, MAX_USER_ID)?;
    if event_type == EventType::Group && group_id.is_none() {
        return Err(Invalid::new("missing_field", "group needs groupId"));
    }
    let timestamp = time_field("timestamp", wire.timestamp)?;
    let sent_at = time_field(
        "sentAt",
        wire.sent_at
            .or_else(|| options.batch_sent_at.map(RawJson::string)),
    )?;

    let properties = wire.properties.map_or_else(Object::default, Object::Text);
    let traits = wire.traits.map_or_else(Object::default, Object::Text);
    let context = wire.context.unwrap_or_default();
    Ok(IncomingEvent {
        event_id,
        event_type,
        event_name,
        user_id,
        anonymous_id,
        previous_id,
        group_id,
        timestamp,
        sent_at,
        properties,
        traits,
        context,
        schema_version: wire.schema_version,
    })
}

fn parse_type(t: &str) -> Result<EventType, Invalid> {
    Ok(match t {
        "track" => EventType::Track,
        "identify" => EventType::Identify,
        "page" => EventType::Page,
        "screen" => EventType::Screen,
        "group" => EventType::Group,
        "alias" => EventType::Alias,
        other => {
            return Err(Invalid::new(
                "invalid_field",
                format!("type {other:?} is not one of track, identify, page, screen, group, alias"),
            ));
        }
    })
}

/// A string field, decoded; `None` when it holds another kind of value.
fn string_field<'b>(field: &str, value: &'b RawJson<'_>) -> Result<Option<Cow<'b, str>>, Invalid> {
    value.decode_str().map_err(|e| {
        Invalid::new(
            "invalid_event",
            format!("{field} has an escape that is no character (a lone surrogate?): {e}"),
        )
    })
}

fn must_be_a_string(field: &str) -> Invalid {
    Invalid::new("invalid_field", format!("{field} must be a string"))
}

/// Ids may be strings or numbers (Segment allows numeric user ids); stored as
/// strings, a number as it was written.
fn id_field<'a>(
    field: &str,
    value: Option<RawJson<'a>>,
    max: usize,
) -> Result<Option<RawJson<'a>>, Invalid> {
    let Some(value) = value else { return Ok(None) };
    let text = value.get();
    let (id, len) = match text.as_bytes().first() {
        Some(b'"') => {
            let len = string_field(field, &value)?.map_or(0, |id| id.len());
            (value, len)
        }
        Some(b'-' | b'0'..=b'9') => (RawJson::string(text), text.len()),
        _ => return Err(must_be_a_string(field)),
    };
    if len == 0 || len > max {
        return Err(Invalid::new(
            "invalid_field",
            format!("{field} must have 1 to {max} bytes"),
        ));
    }
    Ok(Some(id))
}

fn time_field<'a>(
    field: &str,
    value: Option<RawJson<'a>>,
) -> Result<Option<(RawJson<'a>, OffsetDateTime)>, Invalid> {
    let Some(value) = value else { return Ok(None) };
    let Some(text) = string_field(field, &value)? else {
        return Err(must_be_a_string(field));
    };
    match OffsetDateTime::parse(&text, &Rfc3339) {
        Ok(t) => Ok(Some((value, t))),
        Err(_) => Err(Invalid::new(
            "invalid_field",
            format!("{field} {:?} is not an RFC 3339 time", truncate(&text, 64)),
        )),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ParseOptions<'static> {
        ParseOptions {
            route_type: None,
            batch_sent_at: None,
            generate_missing_id: false,
        }
    }

    fn code(raw: &str) -> &'static str {
        parse(raw, &Limits::default(), opts()).unwrap_err().code
    }

    #[test]
    fn seed_example_parses() {
        let raw = r#"{"eventId":"0193a5f0-7c1e-7d2a-9b1e-3f4c5d6e7f80","type":"track","eventName":"product_clicked","userId":"u456","anonymousId":"anon_789","timestamp":"2026-05-03T10:00:00Z","sentAt":"2026-05-03T10:00:02Z","properties":{"productId":"p123","category":"shoes","surface":"home"},"context":{"device":"mobile","appVersion":"1.2.3","ip":"1.2.3.4"}}"#;
        let e = parse(raw, &Limits::default(), opts()).unwrap();
        assert_eq!(e.event_name.unwrap().get(), r#""product_clicked""#);
        assert_eq!(
            e.properties.to_map("properties").unwrap()["productId"],
            "p123"
        );
        assert!(e.sent_at.is_some());
    }

    #[test]
    fn refusals_name_the_field() {
        assert_eq!(code(r#"{"eventName":"a","userId":"u"}"#), "missing_field");
        assert_eq!(code(r#"{"eventId":"1","userId":"u"}"#), "missing_field");
        assert_eq!(code(r#"{"eventId":"1","eventName":"a"}"#), "missing_field");
        assert_eq!(
            code(r#"{"eventId":"1","eventName":"a","userId":{}}"#),
            "invalid_field"
        );
        assert_eq!(
            code(r#"{"eventId":"1","eventName":"a","userId":"u","type":"boom"}"#),
            "invalid_field"
        );
        assert_eq!(
            code(r#"{"eventId":"1","eventName":"a","userId":"u","timestamp":"yesterday"}"#),
            "invalid_field"
        );
        assert_eq!(
            code(r#"{"eventId":"1","eventName":"a","userId":"u","properties":[]}"#),
            "invalid_event"
        );
        let deep = format!(
            r#"{{"eventId":"1","eventName":"a","userId":"u","properties":{{"x":{}1{}}}}}"#,
            "[".repeat(20),
            "]".repeat(20)
        );
        assert_eq!(code(&deep), "too_deep");
        let long = format!(
            r#"{{"eventId":"1","eventName":"a","userId":"u","properties":{{"x":"{}"}}}}"#,
            "y".repeat(9000)
        );
        assert_eq!(code(&long), "string_too_long");
        let big = format!(
            r#"{{"eventId":"1","eventName":"a","userId":"u","properties":{{"x":"{}"}}}}"#,
            "y".repeat(40_000)
        );
        assert_eq!(code(&big), "event_too_large");
    }

    /// The context is kept as text: what its scan lets through but a JSON
    /// reader refuses is refused here, so every record reads back.
    #[test]
    fn context_values_are_checked_though_kept_as_text() {
        let with = |context: &str| {
            format!(r#"{{"eventId":"1","eventName":"a","userId":"u","context":{context}}}"#)
        };
        for bad in [
            r#"{"x":"\ud800"}"#,
            r#"{"n":1e400}"#,
            r#"{"p":{"n":-1e999}}"#,
            r#"{"p":{"\ud800":1}}"#,
            r#"{"p":[1,"\udc00x"]}"#,
        ] {
            assert_eq!(code(&with(bad)), "invalid_event", "{bad}");
        }
        let deep = format!(r#"{{"x":{}1{}}}"#, "[".repeat(20), "]".repeat(20));
        assert_eq!(code(&with(&deep)), "too_deep");
        let long = format!(r#"{{"x":"{}"}}"#, "y".repeat(9000));
        assert_eq!(code(&with(&long)), "string_too_long");
        let escaped_long = format!(r#"{{"x":"{}"}}"#, "\\n".repeat(5000));
        assert!(parse(&with(&escaped_long), &Limits::default(), opts()).is_ok());

        let raw = with(r#"{"ip":"1.2.3.4","q":"a\"b","n":1.50,"page":{"path":"/"},"ok":true}"#);
        let e = parse(&raw, &Limits::default(), opts()).unwrap();
        assert_eq!(
            e.context.get("q").unwrap().as_str().as_deref(),
            Some("a\"b")
        );
        assert_eq!(
            e.context.get("ip").unwrap().as_str().as_deref(),
            Some("1.2.3.4")
        );
        assert_eq!(
            e.context.get("n").unwrap().get(),
            "1.50",
            "numbers go through as written"
        );
        assert_eq!(e.context.get("n").unwrap().as_str(), None);
        assert_eq!(e.context.get("page").unwrap().get(), r#"{"path":"/"}"#);

        let raw = with(r#"{"ip":"1.2.3.4","p\u0061ge":{}}"#);
        let e = parse(&raw, &Limits::default(), opts()).unwrap();
        let keys: Vec<_> = e.context.iter().map(|(k, _)| &k.0).collect();
        assert!(
            matches!(keys[0], Cow::Borrowed("ip")),
            "a plain key is borrowed"
        );
        assert!(
            matches!(keys[1], Cow::Owned(k) if k == "page"),
            "an escaped one decoded"
        );
    }

    /// String fields are kept as the JSON text they came in: each must be a
    /// string (ids may be numbers) whose escapes decode, so records read back.
    #[test]
    fn string_fields_are_checked_though_kept_as_text() {
        let event = |fields: &str| format!(r#"{{"eventName":"a","userId":"u",{fields}}}"#);
        for (fields, expected) in [
            (r#""eventId":"\ud800""#, "invalid_event"),
            (r#""eventId":"1","type":5"#, "invalid_field"),
            (r#""eventId":"1","timestamp":7"#, "invalid_field"),
            (r#""eventId":"1","anonymousId":true"#, "invalid_field"),
            (r#""eventId":"""#, "invalid_field"),
            (r#""eventId":"1","groupId":"\udc00x""#, "invalid_event"),
        ] {
            assert_eq!(code(&event(fields)), expected, "{fields}");
        }
        let long = format!(r#""eventId":"{}""#, "\\u0041".repeat(MAX_ID));
        assert!(
            parse(&event(&long), &Limits::default(), opts()).is_ok(),
            "limits count decoded bytes"
        );

        let raw = r#"{"eventId":"a\"b","eventName":"x\u0041","userId":4.2e1,"type":"tr\u0061ck","timestamp":"2026-05-03T10:00:00\u005A"}"#;
        let e = parse(raw, &Limits::default(), opts()).unwrap();
        assert_eq!(e.event_id.as_str().as_deref(), Some("a\"b"));
        assert_eq!(e.event_id.get(), r#""a\"b""#, "kept as written");
        assert_eq!(e.event_name.unwrap().as_str().as_deref(), Some("xA"));
        assert_eq!(e.user_id.unwrap().as_str().as_deref(), Some("4.2e1"));
        assert_eq!(e.event_type, EventType::Track);
        assert!(e.timestamp.is_some());
    }

    #[test]
    fn segment_names_map() {
        let raw = r#"{"messageId":"m1","event":"signed_up","userId":42}"#;
        let e = parse(
            raw,
            &Limits::default(),
            ParseOptions {
                route_type: Some(EventType::Track),
                ..opts()
            },
        )
        .unwrap();
        assert_eq!(e.event_id.get(), r#""m1""#);
        assert_eq!(e.event_name.unwrap().get(), r#""signed_up""#);
        assert_eq!(
            e.user_id.unwrap().get(),
            r#""42""#,
            "a numeric id is stored as a string"
        );
    }
}
