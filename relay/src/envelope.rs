//! Request envelopes: one event, a `{"batch": [...]}`, or a Segment body.
//!
//! A batch body is read in one pass with the events in it (`wire::read_batch`):
//! text that is not JSON anywhere in it is a 400, and each event's fields come
//! out found and checked for `incoming` to go on from. A single event's body
//! is the event: it is not scanned here at all (only for a `writeKey` when it
//! may hold one), and a syntax error found when the event is read answers 400
//! like one found here (see `incoming::parse`).

use serde::Deserialize;

use crate::config::Limits;
use crate::error::ApiError;
use crate::incoming::{Invalid, NOT_JSON};
use crate::wire::{self, Wire};

/// Which routes a body came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `POST /api/events` or a Segment single-call route: the body is the event.
    Single,
    /// `POST /api/events/batch` or `/v1/batch`: `{"batch": [...]}`.
    Batch,
}

/// A parsed envelope: the raw events and the request-level fields.
#[derive(Debug)]
pub struct Envelope<'a> {
    /// Each event's JSON text (a single event's not checked yet).
    pub events: Vec<&'a str>,
    /// What reading each event found, when the envelope read them (a batch);
    /// empty for a single event, which `incoming::parse` reads.
    pub read: Vec<Result<Wire<'a>, Invalid>>,
    /// `writeKey` from the body (sendBeacon cannot set headers).
    pub write_key: Option<String>,
    /// Batch-level `sentAt`, used for events without their own.
    pub sent_at: Option<String>,
    /// Events the SDK dropped from its full queue since its last batch.
    pub dropped: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SingleFields {
    #[serde(default)]
    write_key: Option<String>,
}

/// Parses the envelope; a body that is not JSON of the right shape is a 400.
/// The events of a batch are read against `limits`.
pub fn parse<'a>(body: &'a [u8], shape: Shape, limits: &Limits) -> Result<Envelope<'a>, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("the body is not UTF-8: {e}"))
    })?;
    match shape {
        Shape::Single => {
            let text = text.trim_matches(JSON_WHITESPACE);
            if !text.starts_with('{') {
                return Err(ApiError::bad_request(
                    "invalid_json",
                    "the body must be a JSON object (one event)",
                ));
            }
            // A body without the bytes `writeKey` (and no escape that could
            // spell them) has no such field: skip parsing the event twice.
            let write_key = if text.contains("writeKey") || text.contains('\\') {
                let fields: SingleFields = serde_json::from_str(text).map_err(refused)?;
                fields.write_key
            } else {
                None
            };
            Ok(Envelope {
                events: vec![text],
                read: Vec::new(),
                write_key,
                sent_at: None,
                dropped: 0,
            })
        }
        Shape::Batch => {
            let body = wire::read_batch(text, limits).map_err(|e| {
                if e.code == NOT_JSON {
                    ApiError::bad_request(NOT_JSON, format!("the body is {}", e.message))
                } else {
                    ApiError::bad_request(
                        e.code,
                        format!("the body has a field of the wrong type: {}", e.message),
                    )
                }
            })?;
            let events = body.events.ok_or_else(|| {
                ApiError::bad_request("invalid_batch", "the body must be {\"batch\": [...]}")
            })?;
            if events.is_empty() {
                return Err(ApiError::bad_request(
                    "empty_batch",
                    "the batch holds no events",
                ));
            }
            let (events, read) = events.into_iter().unzip();
            Ok(Envelope {
                events,
                read,
                write_key: body.write_key,
                sent_at: body.sent_at,
                dropped: body.dropped.unwrap_or(0),
            })
        }
    }
}

/// What JSON allows around a value.
const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// A body that is not JSON, or JSON with a field of the wrong type.
fn refused(e: serde_json::Error) -> ApiError {
    if e.is_data() {
        wrong_field(e)
    } else {
        malformed(e)
    }
}

fn malformed(e: serde_json::Error) -> ApiError {
    ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
}

fn wrong_field(e: serde_json::Error) -> ApiError {
    ApiError::bad_request(
        "invalid_body",
        format!("the body has a field of the wrong type: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_envelope() {
        let body = br#"{"batch":[{"a":1},{"b":[2]}],"writeKey":"k","sentAt":"2026-01-01T00:00:00Z","dropped":3}"#;
        let e = parse(body, Shape::Batch, &Limits::default()).unwrap();
        assert_eq!(e.events.len(), 2);
        assert_eq!(e.events[1], r#"{"b":[2]}"#);
        assert_eq!(e.write_key.as_deref(), Some("k"));
        assert_eq!(e.dropped, 3);
    }

    #[test]
    fn single_envelope_write_key() {
        let plain = parse(
            br#"{"eventId":"1","writeKey":"k"}"#,
            Shape::Single,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(plain.write_key.as_deref(), Some("k"));
        let escaped = parse(
            br#"{"eventId":"1","write\u004bey":"k"}"#,
            Shape::Single,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(escaped.write_key.as_deref(), Some("k"));
        let none = parse(
            br#"{"eventId":"1","x":"a\"b"}"#,
            Shape::Single,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(none.write_key, None);
        let without = parse(br#" {"eventId":"1"} "#, Shape::Single, &Limits::default()).unwrap();
        assert_eq!(without.write_key, None);
        assert_eq!(without.events[0], r#"{"eventId":"1"}"#);
        assert_eq!(
            parse(br#"{"writeKey":5}"#, Shape::Single, &Limits::default())
                .unwrap_err()
                .code,
            "invalid_body"
        );
    }

    #[test]
    fn bad_bodies() {
        assert_eq!(
            parse(b"{nope", Shape::Batch, &Limits::default())
                .unwrap_err()
                .code,
            "invalid_json"
        );
        assert_eq!(
            parse(b"[1]", Shape::Single, &Limits::default())
                .unwrap_err()
                .code,
            "invalid_json"
        );
        assert_eq!(
            parse(br#"{"batch":[]}"#, Shape::Batch, &Limits::default())
                .unwrap_err()
                .code,
            "empty_batch"
        );
        assert_eq!(
            parse(br#"{"x":1}"#, Shape::Batch, &Limits::default())
                .unwrap_err()
                .code,
            "invalid_batch"
        );
        assert_eq!(
            parse(br#"{"batch":5}"#, Shape::Batch, &Limits::default())
                .unwrap_err()
                .code,
            "invalid_body"
        );
        assert_eq!(
            parse(&[0xff, 0xfe], Shape::Single, &Limits::default())
                .unwrap_err()
                .code,
            "invalid_json"
        );
    }
}
