//! An accepted event's log record, written by hand: the JSON of a
//! `StoredEvent` (the field names and the fields left out when empty are
//! the ones its `Serialize` writes, which a test checks), with the text the
//! request brought copied through as it is.
//!
//! By hand because serde's derive escaped every field name and went through
//! serde_json's raw-value machinery for every text field.

use spoor_log::event::StoredEvent;

use spoor_core::json_lex::plain_len;

use spoor_log::event::JsonObject;

use crate::raw_json::{Context, JsonString, Object};

/// The record of `event`, in a buffer of `capacity` bytes to start with.
pub fn write(
    event: &StoredEvent<Context<'_>, JsonString<'_>, Object<'_>>,
    capacity: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    out.extend_from_slice(b"{\"eventId\":");
    string(&mut out, &event.event_id);
    out.extend_from_slice(b",\"type\":\"");
    out.extend_from_slice(event.event_type.as_str().as_bytes());
    out.push(b'"');
    for (name, value) in [
        (&b",\"eventName\":"[..], &event.event_name),
        (b",\"userId\":", &event.user_id),
        (b",\"anonymousId\":", &event.anonymous_id),
        (b",\"previousId\":", &event.previous_id),
        (b",\"groupId\":", &event.group_id),
        (b",\"timestamp\":", &event.timestamp),
        (b",\"sentAt\":", &event.sent_at),
    ] {
        if let Some(value) = value {
            out.extend_from_slice(name);
            string(&mut out, value);
        }
    }
    for (name, value) in [
        (&b",\"receivedAt\":"[..], &event.received_at),
        (b",\"eventTime\":", &event.event_time),
        (b",\"source\":", &event.source),
    ] {
        out.extend_from_slice(name);
        string(&mut out, value);
    }
    for (name, object) in [
        (&b",\"properties\":"[..], &event.properties),
        (b",\"traits\":", &event.traits),
    ] {
        if !object.is_empty() {
            out.extend_from_slice(name);
            match object {
                Object::Text(text) => out.extend_from_slice(text.as_bytes()),
                Object::Map(map) => json(&mut out, map),
            }
        }
    }
    if !event.context.is_empty() {
        out.extend_from_slice(b",\"context\":{");
        for (i, (key, value)) in event.context.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            text(&mut out, &key.0);
            out.push(b':');
            out.extend_from_slice(value.get().as_bytes());
        }
        out.push(b'}');
    }
    if let Some(version) = event.schema_version {
        out.extend_from_slice(b",\"schemaVersion\":");
        number(&mut out, version);
    }
    if !event.flags.is_empty() {
        out.extend_from_slice(b",\"flags\":");
        json(&mut out, &event.flags);
    }
    out.push(b'}');
    out
}

/// `n` in decimal.
fn number(out: &mut Vec<u8>, n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

fn string(out: &mut Vec<u8>, value: &JsonString<'_>) {
    match value {
        JsonString::Raw(json) => out.extend_from_slice(json.get().as_bytes()),
        JsonString::Text(s) => text(out, s),
    }
}

/// `s` as a JSON string: copied between quotes when nothing in it needs an escape.
fn text(out: &mut Vec<u8>, s: &str) {
    if plain_len(s.as_bytes()) == s.len() {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        json(out, s);
    }
}

fn json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Strings, maps of JSON values and lists of strings always serialize.
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use spoor_log::event::StoredEvent;
    use time::macros::datetime;

    use super::*;
    use crate::config::{EnrichConfig, Limits};
    use crate::enrich::{RequestInfo, enrich};
    use crate::incoming::{ParseOptions, parse};

    #[test]
    fn a_record_is_one_line_whatever_the_request_looked_like() {
        let raw = "{\r\n  \"eventId\": \"e1\",\n  \"eventName\": \"signed_up\",\n  \"userId\": \"u1\",\n  \"context\": {\n    \"page\": {\n      \"path\": \"/a\\nb\"\n    },\n    \"tags\": [\n      1,\n      2\n    ]\n  }\n}";
        let options = ParseOptions {
            route_type: None,
            batch_sent_at: None,
            generate_missing_id: false,
        };
        let event = parse(raw, &Limits::default(), options).unwrap();
        let info = RequestInfo {
            received_at: datetime!(2026-05-03 10:00:05 UTC),
            received_at_text: "2026-05-03T10:00:05.000Z",
            client_ip: None,
            source: "web",
        };
        let record = write(
            &enrich(event, &info, &EnrichConfig::default(), None, Vec::new()),
            0,
        );
        assert!(!record.contains(&b'\n') && !record.contains(&b'\r'));
        let read: StoredEvent = serde_json::from_slice(&record).unwrap();
        assert_eq!(
            read.context["page"]["path"], "/a\nb",
            "an escaped line break stays"
        );
        assert_eq!(read.context["tags"], serde_json::json!([1, 2]));
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [0, 7, 10, 1234, u32::MAX] {
            let mut out = Vec::new();
            number(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    /// A record as written here is byte for byte the one serde writes for
    /// the same event once read back: the same names, order and omissions
    /// (context keys aside: kept in the order they came, where serde's map
    /// sorts them, so the record with a parsed user agent is compared as JSON).
    #[test]
    fn records_are_what_serde_writes() {
        let events = [
            r#"{"eventId":"e1","type":"track","eventName":"signed_up","userId":"u1","anonymousId":"a1","timestamp":"2026-05-03T10:00:00Z","sentAt":"2026-05-03T10:00:01Z","properties":{"plan":"pro","n":[1,{"x":null}]},"context":{"userAgent":"curl/8.0","ip":"1.2.3.4","library":{"name":"spoor"}}}"#,
            r#"{"eventId":"e2","type":"identify","userId":"u\"2","traits":{"email":"a@b.c"}}"#,
            r#"{"eventId":"e3","type":"alias","userId":"u3","previousId":"a3"}"#,
            r#"{"eventId":"e4","type":"group","anonymousId":"a4","groupId":"g4","context":{"tab\tkey":1}}"#,
            r#"{"eventId":"e5","type":"page","anonymousId":"a5","name":"Home"}"#,
        ];
        let info = RequestInfo {
            received_at: datetime!(2026-05-03 10:00:05 UTC),
            received_at_text: "2026-05-03T10:00:05.000Z",
            client_ip: None,
            source: "web \"main\"",
        };
        let options = ParseOptions {
            route_type: None,
            batch_sent_at: None,
            generate_missing_id: false,
        };
        for (i, raw) in events.iter().enumerate() {
            let event = parse(raw, &Limits::default(), options).unwrap();
            let flags = if i == 1 {
                vec!["future_timestamp".into()]
            } else {
                Vec::new()
            };
            let version = (i == 0).then_some(1);
            let stored = enrich(event, &info, &EnrichConfig::default(), version, flags);
            let record = write(&stored, 0);
            let read: StoredEvent = serde_json::from_slice(&record).unwrap();
            let text = String::from_utf8(record).unwrap();
            let again = serde_json::to_string(&read).unwrap();
            if raw.contains("userAgent") {
                let value = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap();
                assert_eq!(value(&text), value(&again));
            } else {
                assert_eq!(text, again);
            }
        }
    }
}
