//! One log record parsed for the pipeline, borrowing from the record's bytes.
//!
//! Parsing keeps `properties`, `traits` and `context` as the JSON text they
//! are in the log and picks out only what the stages and typed columns need,
//! so no maps are built per event.

use std::borrow::Cow;

use spoor_log::event::EventType;

use crate::record_json::{self, Entries};
use crate::registry::{ColumnType, TypedColumns};
use crate::timefmt::parse_ms;

/// A typed property value.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValue<'a> {
    /// Text.
    Text(Cow<'a, str>),
    /// Integer.
    Integer(i64),
    /// Number.
    Number(f64),
    /// Boolean.
    Boolean(bool),
}

/// An event as the stages see it: the record's fields plus what the stages add.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    /// Offset of the record in the log.
    pub offset: u64,
    /// Client event id.
    pub event_id: Cow<'a, str>,
    /// Kind of call.
    pub event_type: EventType,
    /// Event, page or screen name.
    pub event_name: Option<Cow<'a, str>>,
    /// Known user id.
    pub user_id: Option<Cow<'a, str>>,
    /// Anonymous id.
    pub anonymous_id: Option<Cow<'a, str>>,
    /// Alias: the merged id.
    pub previous_id: Option<Cow<'a, str>>,
    /// Group id.
    pub group_id: Option<Cow<'a, str>>,
    /// Client `timestamp` as sent.
    pub client_timestamp: Option<Cow<'a, str>>,
    /// Client `sentAt` as sent.
    pub sent_at: Option<Cow<'a, str>>,
    /// Arrival at the relay, epoch ms.
    pub received_at: i64,
    /// Skew-corrected event time, epoch ms.
    pub event_time: i64,
    /// Source name.
    pub source: Cow<'a, str>,
    /// `properties` JSON text.
    pub properties: &'a str,
    /// `traits` JSON text.
    pub traits: &'a str,
    /// `context` JSON text.
    pub context: &'a str,
    /// `context.campaign.source`.
    pub utm_source: Option<Cow<'a, str>>,
    /// `context.campaign.medium`.
    pub utm_medium: Option<Cow<'a, str>>,
    /// `context.campaign.name`.
    pub utm_campaign: Option<Cow<'a, str>>,
    /// Referring URL.
    pub referrer: Option<Cow<'a, str>>,
    /// Page path, URL or screen name, when the event has one.
    pub page: Option<Cow<'a, str>>,
    /// `properties.revenue` when it is a number.
    pub revenue: Option<f64>,
    /// Typed column values present on this event: (column index, value).
    pub typed: Vec<(usize, TypedValue<'a>)>,
    /// Set by dedupe: an earlier copy was already processed.
    pub duplicate: bool,
    /// Set by the watermark: later than the allowed lateness.
    pub late: bool,
    /// Set by the watermark: its value when this event came (before the event moved it).
    pub watermark: i64,
    /// Set by identity: the person the event belongs to.
    pub person_id: Cow<'a, str>,
    /// Set by identity: this event linked `.0` to person `.1`.
    pub link: Option<(String, String)>,
    /// Set by the sessionizer.
    pub session_id: Option<u64>,
}

impl Event<'_> {
    /// The raw partition's event name: `event_name`, else the type.
    pub fn partition_name(&self) -> &str {
        self.event_name
            .as_deref()
            .unwrap_or(self.event_type.as_str())
    }
}

/// The entries of a JSON object, values as JSON text.
struct Pairs<'a>(Entries<'a>);

/// `properties.revenue` when it is a finite number.
fn revenue(props: &Pairs<'_>) -> Option<f64> {
    props
        .get("revenue")
        .and_then(|r| r.parse::<f64>().ok())
        .filter(|n| n.is_finite())
}

/// The revenue of an event from its stored `properties` text (as in `raw/`), as the
/// streaming path reads it.
pub fn stored_revenue(properties: &str) -> Option<f64> {
    revenue(&Pairs(record_json::entries(properties)))
}

impl<'a> Pairs<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    fn text(&self, key: &str) -> Option<Cow<'a, str>> {
        self.get(key).and_then(text)
    }
}

/// The page of an event: `properties.path`, `context.page.path`, `properties.url`,
/// `context.page.url`, else the name of a page or screen call.
fn page<'a>(
    props: &Pairs<'a>,
    page_ctx: &Pairs<'a>,
    event_type: EventType,
    event_name: Option<&Cow<'a, str>>,
) -> Option<Cow<'a, str>> {
    props
        .text("path")
        .or_else(|| page_ctx.text("path"))
        .or_else(|| props.text("url"))
        .or_else(|| page_ctx.text("url"))
        .or_else(|| match event_type {
            EventType::Page | EventType::Screen => event_name.cloned(),
            _ => None,
        })
}

/// The page of a stored event (a raw row) by the rule [`parse`] uses: from its `properties`
/// and `context` JSON text, its type and its name.
pub fn stored_page<'a>(
    event_type: EventType,
    event_name: Option<&'a str>,
    properties: &'a str,
    context: &'a str,
) -> Option<Cow<'a, str>> {
    page(
        &Pairs(record_json::entries(properties)),
        &Pairs(record_json::context(context).page),
        event_type,
        event_name.map(Cow::Borrowed).as_ref(),
    )
}

/// A JSON string value's text; `None` for other values.
fn text(json: &str) -> Option<Cow<'_, str>> {
    // Most strings have no escapes: their text is what lies between the quotes (a validated
    // JSON string without a backslash holds no quote and no control character).
    if let Some(inner) = json.strip_prefix('"').and_then(|j| j.strip_suffix('"'))
        && !inner.contains('\\')
    {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(json).ok().map(Cow::Owned)
}

fn typed(json: &str, kind: ColumnType) -> Option<TypedValue<'_>> {
    match kind {
        ColumnType::Text => text(json).map(TypedValue::Text),
        ColumnType::Integer => json.parse::<i64>().ok().map(TypedValue::Integer),
        ColumnType::Number => json
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(TypedValue::Number),
        ColumnType::Boolean => match json {
            "true" => Some(TypedValue::Boolean(true)),
            "false" => Some(TypedValue::Boolean(false)),
            _ => None,
        },
    }
}

/// Why a record could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

/// Parses one log record.
pub fn parse<'a>(
    offset: u64,
    record: &'a [u8],
    columns: &TypedColumns,
) -> Result<Event<'a>, Unreadable> {
    // One UTF-8 check of the whole record (vectorized) instead of one per string.
    let text = std::str::from_utf8(record).map_err(|e| Unreadable(format!("not an event: {e}")))?;
    let mut rec =
        record_json::record(text).map_err(|e| Unreadable(format!("not an event: {e}")))?;
    let missing = |field: &str| Unreadable(format!("not an event: missing field `{field}`"));
    let event_id = rec.event_id.take().ok_or_else(|| missing("eventId"))?;
    let source = rec.source.take().ok_or_else(|| missing("source"))?;
    let received = rec
        .received_at
        .as_deref()
        .ok_or_else(|| missing("receivedAt"))?;
    let received_at =
        parse_ms(received).ok_or_else(|| Unreadable(format!("bad receivedAt {received:?}")))?;
    let event_time = rec
        .event_time
        .as_deref()
        .ok_or_else(|| missing("eventTime"))
        .map(|t| parse_ms(t).unwrap_or(received_at))?;
    let event_type = match rec.event_type.as_deref() {
        None => EventType::default(),
        Some(name) => EventType::from_name(name)
            .ok_or_else(|| Unreadable(format!("not an event: unknown type {name:?}")))?,
    };
    let props = Pairs(std::mem::take(&mut rec.property_entries));
    let campaign = Pairs(std::mem::take(&mut rec.context_view.campaign));
    let page_ctx = Pairs(std::mem::take(&mut rec.context_view.page));
    let mut typed_values = Vec::new();
    for (key, value) in &props.0 {
        if let Some(i) = columns.index_of(key)
            && let Some(v) = typed(value, columns.columns()[i].kind)
        {
            typed_values.push((i, v));
        }
    }
    let page = page(&props, &page_ctx, event_type, rec.event_name.as_ref());
    let person = rec
        .user_id
        .clone()
        .or_else(|| rec.anonymous_id.clone())
        .unwrap_or(Cow::Borrowed(""));
    Ok(Event {
        offset,
        utm_source: campaign
            .text("source")
            .or_else(|| campaign.text("utm_source")),
        utm_medium: campaign
            .text("medium")
            .or_else(|| campaign.text("utm_medium")),
        utm_campaign: campaign
            .text("name")
            .or_else(|| campaign.text("campaign"))
            .or_else(|| campaign.text("utm_campaign")),
        referrer: props
            .text("referrer")
            .or_else(|| page_ctx.text("referrer"))
            .or_else(|| rec.context_view.referrer.and_then(self::text)),
        page,
        revenue: revenue(&props),
        typed: typed_values,
        event_id,
        event_type,
        event_name: rec.event_name,
        user_id: rec.user_id,
        anonymous_id: rec.anonymous_id,
        previous_id: rec.previous_id,
        group_id: rec.group_id,
        client_timestamp: rec.timestamp,
        sent_at: rec.sent_at,
        received_at,
        event_time,
        source,
        properties: rec.properties.unwrap_or("{}"),
        traits: rec.traits.unwrap_or("{}"),
        context: rec.context.unwrap_or("{}"),
        duplicate: false,
        late: false,
        watermark: i64::MIN,
        person_id: person,
        link: None,
        session_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A record of any bytes (a log written by something else, a bit flipped on disk past
        /// the checksum) is an event or unreadable, never a panic; so is a real record with
        /// any byte changed.
        #[test]
        fn any_bytes_are_an_event_or_unreadable(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            at in any::<usize>(),
            byte in any::<u8>(),
        ) {
            let cols = TypedColumns::embedded().unwrap();
            let _ = parse(0, &bytes, &cols);
            let mut record = br#"{"eventId":"e1","type":"page","anonymousId":"a\u00e91","receivedAt":"2026-05-03T10:00:00.000Z","eventTime":"2026-05-03T10:00:00.000Z","source":"web","properties":{"path":"/p","revenue":1.5e2,"orderId":"o\"1"},"context":{"campaign":{"name":"x"},"page":{"url":"u"},"referrer":"r"}}"#.to_vec();
            let at = at % record.len();
            record[at] = byte;
            let _ = parse(0, &record, &cols);
        }
    }

    #[test]
    fn parses_a_stored_event() {
        let cols = TypedColumns::embedded().unwrap();
        let record = br#"{"eventId":"e1","type":"track","eventName":"purchase_completed","anonymousId":"a1","receivedAt":"2026-05-03T10:00:02.000Z","eventTime":"2026-05-03T10:00:00.000Z","source":"web","properties":{"orderId":"o\"1","revenue":12.5,"items":"x"},"context":{"campaign":{"source":"news","medium":"email","name":"spring"},"page":{"path":"/checkout","referrer":"https://r.example/"}}}"#;
        let e = parse(7, record, &cols).unwrap();
        assert_eq!(e.offset, 7);
        assert_eq!(e.event_time, e.received_at - 2000);
        assert_eq!(e.revenue, Some(12.5));
        assert_eq!(e.utm_campaign.as_deref(), Some("spring"));
        assert_eq!(e.referrer.as_deref(), Some("https://r.example/"));
        assert_eq!(e.page.as_deref(), Some("/checkout"));
        assert_eq!(e.person_id, "a1");
        let order = cols.index_of("orderId").unwrap();
        let items = cols.index_of("items").unwrap();
        assert!(e.typed.contains(&(order, TypedValue::Text("o\"1".into()))));
        assert!(
            !e.typed.iter().any(|(i, _)| *i == items),
            "a string is no integer"
        );
        assert!(parse(0, b"{}", &cols).is_err());
    }

    #[test]
    fn context_fields_are_read_in_one_pass_and_the_first_of_a_repeated_key_wins() {
        let cols = TypedColumns::embedded().unwrap();
        let record = br#"{"eventId":"e1","type":"page","anonymousId":"a1","receivedAt":"2026-05-03T10:00:00.000Z","eventTime":"2026-05-03T10:00:00.000Z","source":"web","context":{"page":{"path":"/first"},"referrer":"https://r.example/","page":{"path":"/second"}}}"#;
        let e = parse(0, record, &cols).unwrap();
        assert_eq!(e.page.as_deref(), Some("/first"));
        assert_eq!(e.referrer.as_deref(), Some("https://r.example/"));
        let odd = br#"{"eventId":"e2","type":"track","eventName":"x","anonymousId":"a1","receivedAt":"2026-05-03T10:00:00.000Z","eventTime":"2026-05-03T10:00:00.000Z","source":"web","context":{"page":7,"campaign":{"source":"news"}}}"#;
        let e = parse(1, odd, &cols).unwrap();
        assert_eq!(e.page, None);
        assert_eq!(e.utm_source.as_deref(), Some("news"));
    }

    #[test]
    fn string_values_are_read_with_and_without_escapes() {
        assert_eq!(text(r#""/a b""#).as_deref(), Some("/a b"));
        assert!(matches!(text(r#""/a""#), Some(Cow::Borrowed("/a"))));
        assert_eq!(text(r#""""#).as_deref(), Some(""));
        assert_eq!(text(r#""a\"b\u00e9""#).as_deref(), Some("a\"bé"));
        assert_eq!(text("12"), None);
        assert_eq!(text("null"), None);
        assert_eq!(text(r#"["x"]"#), None);
    }
}
