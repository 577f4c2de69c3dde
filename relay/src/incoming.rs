//! One incoming event: parsed, checked against the limits and the wire format,
//! with Segment's field names mapped to Spoor's.

use std::borrow::Cow;
use std::collections::BTreeMap;

use std::cell::Cell;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Map, Value};
use spoor_log::event::EventType;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::Limits;

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

/// A JSON value kept as its text: borrowed from the request body, or made
/// by the relay (a truncated IP, a parsed user agent). Written to the record
/// as it is: no parsing into values, no escaping again.
#[derive(Debug, Clone)]
pub struct RawJson<'a>(Cow<'a, RawValue>);

/// An event's `context`: its top-level keys, each value as JSON text.
pub type Context<'a> = BTreeMap<String, RawJson<'a>>;

impl RawJson<'_> {
    /// A JSON string holding `s`.
    pub fn string(s: &str) -> RawJson<'static> {
        // Serializing a `str` cannot fail; `null` would be the fallback.
        RawJson(Cow::Owned(to_raw_value(s).unwrap_or_default()))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The string, when the value is a JSON string (escapes decoded).
    pub fn as_str(&self) -> Option<Cow<'_, str>> {
        let text = self.get();
        let inner = text.strip_prefix('"')?.strip_suffix('"')?;
        if inner.contains('\\') {
            serde_json::from_str::<String>(text).ok().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(inner))
        }
    }
}

impl From<Box<RawValue>> for RawJson<'static> {
    fn from(raw: Box<RawValue>) -> Self {
        RawJson(Cow::Owned(raw))
    }
}

impl PartialEq for RawJson<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Serialize for RawJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawJson<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(deserializer).map(|raw| RawJson(Cow::Borrowed(raw)))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    event_id: Option<Value>,
    message_id: Option<Value>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    event_name: Option<String>,
    event: Option<String>,
    name: Option<String>,
    user_id: Option<Value>,
    anonymous_id: Option<Value>,
    previous_id: Option<Value>,
    group_id: Option<Value>,
    timestamp: Option<String>,
    sent_at: Option<String>,
    properties: Option<Map<String, Value>>,
    traits: Option<Map<String, Value>>,
    #[serde(borrow)]
    context: Option<Context<'a>>,
    schema_version: Option<u32>,
}

/// A well-formed event, before enrichment.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingEvent<'a> {
    /// Client id of the event.
    pub event_id: String,
    /// Kind of call.
    pub event_type: EventType,
    /// Event, page or screen name.
    pub event_name: Option<String>,
    /// Known user.
    pub user_id: Option<String>,
    /// Anonymous device id.
    pub anonymous_id: Option<String>,
    /// Alias: the id merged into `user_id`.
    pub previous_id: Option<String>,
    /// Group call: the group.
    pub group_id: Option<String>,
    /// Client event time, as sent, and parsed.
    pub timestamp: Option<(String, OffsetDateTime)>,
    /// When the client sent it, as sent, and parsed.
    pub sent_at: Option<(String, OffsetDateTime)>,
    /// Properties.
    pub properties: Map<String, Value>,
    /// Traits.
    pub traits: Map<String, Value>,
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
    let wire: Wire = serde_json::from_str(raw).map_err(|e| {
        if e.is_data() {
            Invalid::new("invalid_event", format!("{e}"))
        } else {
            // A single event's body reaches here unchecked: the route answers
            // 400 for it (see `envelope`). In a batch only what the envelope's
            // scan lets through gets here (a lone surrogate escape).
            Invalid::new(NOT_JSON, format!("not valid JSON: {e}"))
        }
    })?;

    let event_type = match (options.route_type, wire.event_type.as_deref()) {
        (Some(t), _) => t,
        (None, None) => EventType::Track,
        (None, Some(t)) => parse_type(t)?,
    };
    let event_id = match id_field("eventId", wire.event_id.or(wire.message_id), MAX_ID)? {
        Some(id) => id,
        None if options.generate_missing_id => uuid::Uuid::now_v7().to_string(),
        None => return Err(Invalid::new("missing_field", "eventId is required")),
    };
    let event_name = wire.event_name.or(wire.event).or(wire.name);
    if let Some(name) = &event_name {
        if name.is_empty() || name.len() > MAX_NAME {
            return Err(Invalid::new(
                "invalid_field",
                format!("eventName must have 1 to {MAX_NAME} bytes"),
            ));
        }
    } else if event_type == EventType::Track {
        return Err(Invalid::new(
            "missing_field",
            "eventName is required for track events",
        ));
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
            .or_else(|| options.batch_sent_at.map(str::to_string)),
    )?;

    let properties = wire.properties.unwrap_or_default();
    let traits = wire.traits.unwrap_or_default();
    let context = wire.context.unwrap_or_default();
    for (field, map) in [("properties", &properties), ("traits", &traits)] {
        check_count(field, map.len(), limits)?;
        for (key, value) in map {
            check_value(field, key, value, 1, limits)?;
        }
    }
    check_count("context", context.len(), limits)?;
    for (key, value) in &context {
        check_raw("context", key, value, limits)?;
    }
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

/// Ids may be strings or numbers (Segment allows numeric user ids); stored as strings.
fn id_field(field: &str, value: Option<Value>, max: usize) -> Result<Option<String>, Invalid> {
    let id = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            return Err(Invalid::new(
                "invalid_field",
                format!("{field} must be a string"),
            ));
        }
    };
    if id.is_empty() || id.len() > max {
        return Err(Invalid::new(
            "invalid_field",
            format!("{field} must have 1 to {max} bytes"),
        ));
    }
    Ok(Some(id))
}

fn time_field(
    field: &str,
    value: Option<String>,
) -> Result<Option<(String, OffsetDateTime)>, Invalid> {
    let Some(text) = value else { return Ok(None) };
    match OffsetDateTime::parse(&text, &Rfc3339) {
        Ok(t) => Ok(Some((text, t))),
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

fn check_count(field: &str, keys: usize, limits: &Limits) -> Result<(), Invalid> {
    if keys > limits.max_properties {
        return Err(Invalid::new(
            "too_many_properties",
            format!(
                "{field} has {keys} keys, over the limit of {}",
                limits.max_properties
            ),
        ));
    }
    Ok(())
}

/// [`check_value`] for a value kept as text, walking the text without
/// building values. The scan that found the value's end checked its syntax but
/// not all of its meaning (a lone surrogate escape, a number out of `f64`'s
/// range): the walk decodes every string and number of it (short strings
/// without escapes and literals need none), so every record reads back.
fn check_raw(field: &str, key: &str, value: &RawJson<'_>, limits: &Limits) -> Result<(), Invalid> {
    let text = value.get();
    let needs_walk = match text.as_bytes().first() {
        // The text of a string is never shorter than the string.
        Some(b'"') => text.len() - 2 > limits.max_string_bytes || text.contains('\\'),
        Some(b't' | b'f' | b'n') => false,
        _ => true,
    };
    if !needs_walk {
        return Ok(());
    }
    let found = Cell::new(None);
    let walk = LimitWalk {
        field,
        key,
        limits,
        depth: 1,
        found: &found,
    };
    let mut reader = serde_json::Deserializer::from_str(text);
    walk.deserialize(&mut reader)
        .and_then(|()| reader.end())
        .map_err(|e| {
            found
                .take()
                .unwrap_or_else(|| Invalid::new("invalid_event", format!("{field}.{key}: {e}")))
        })
}

/// One value of a context value's text being checked: what [`check_value`]
/// checks of a parsed one; a limit passed is left in `found`.
#[derive(Clone, Copy)]
struct LimitWalk<'a> {
    field: &'a str,
    key: &'a str,
    limits: &'a Limits,
    depth: usize,
    found: &'a Cell<Option<Invalid>>,
}

impl LimitWalk<'_> {
    fn refuse<E: de::Error>(&self, invalid: Invalid) -> E {
        self.found.set(Some(invalid));
        E::custom("over a limit")
    }
}

impl<'de> DeserializeSeed<'de> for LimitWalk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.depth > self.limits.max_depth {
            return Err(self.refuse(too_deep(self.field, self.key, self.limits)));
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LimitWalk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        if s.len() > self.limits.max_string_bytes {
            return Err(self.refuse(too_long(self.field, self.key, s.len(), self.limits)));
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        let inner = LimitWalk {
            depth: self.depth + 1,
            ..self
        };
        while items.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        let inner = LimitWalk {
            depth: self.depth + 1,
            ..self
        };
        // Keys are decoded too (a lone surrogate in a key would not read back).
        while entries.next_key_seed(KeyWalk)?.is_some() {
            entries.next_value_seed(inner)?;
        }
        Ok(())
    }
}

/// An object key being checked: decoded, not kept.
struct KeyWalk;

impl<'de> DeserializeSeed<'de> for KeyWalk {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyWalk {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

fn too_deep(field: &str, key: &str, limits: &Limits) -> Invalid {
    Invalid::new(
        "too_deep",
        format!(
            "{field}.{key} nests deeper than {} levels",
            limits.max_depth
        ),
    )
}

fn too_long(field: &str, key: &str, len: usize, limits: &Limits) -> Invalid {
    Invalid::new(
        "string_too_long",
        format!(
            "{field}.{key} is a string of {len} bytes, over {}",
            limits.max_string_bytes
        ),
    )
}

fn check_value(
    field: &str,
    key: &str,
    value: &Value,
    depth: usize,
    limits: &Limits,
) -> Result<(), Invalid> {
    if depth > limits.max_depth {
        return Err(too_deep(field, key, limits));
    }
    match value {
        Value::String(s) if s.len() > limits.max_string_bytes => {
            Err(too_long(field, key, s.len(), limits))
        }
        Value::Array(items) => items
            .iter()
            .try_for_each(|v| check_value(field, key, v, depth + 1, limits)),
        Value::Object(map) => map
            .values()
            .try_for_each(|v| check_value(field, key, v, depth + 1, limits)),
        _ => Ok(()),
    }
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
        assert_eq!(e.event_name.as_deref(), Some("product_clicked"));
        assert_eq!(e.properties["productId"], "p123");
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
        assert_eq!(e.context["q"].as_str().as_deref(), Some("a\"b"));
        assert_eq!(e.context["ip"].as_str().as_deref(), Some("1.2.3.4"));
        assert_eq!(
            e.context["n"].get(),
            "1.50",
            "numbers go through as written"
        );
        assert_eq!(e.context["n"].as_str(), None);
        assert_eq!(e.context["page"].get(), r#"{"path":"/"}"#);
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
        assert_eq!(e.event_id, "m1");
        assert_eq!(e.event_name.as_deref(), Some("signed_up"));
        assert_eq!(e.user_id.as_deref(), Some("42"));
    }
}
