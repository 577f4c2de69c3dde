//! The ingestion path without I/O: envelope events → parsed, validated,
//! enriched log records, and dead letters for the rest.
//!
//! Kept free of HTTP and files so the fuzz target and the benchmarks drive
//! exactly what the server runs.

use serde::Serialize;
use serde_json::Value;
use spoor_log::event::{DeadLetter, EventType};

use crate::config::{EnrichConfig, InvalidPolicy, Limits, SourceConfig};
use crate::enrich::{RequestInfo, apply_pii_policy, enrich};
use crate::envelope::Envelope;
use crate::erasure::{ErasedIds, USER_ERASED, erased_owner};
use crate::incoming::{IncomingEvent, Invalid, ParseOptions, from_read, parse};
use crate::raw_json::{Object, RawJson};
use crate::record;
use crate::schema_registry::{SchemaCheck, SchemaRegistry};
use crate::wire::RESERVED_KEY;

/// One event of a request that was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    /// Its position in the request (0 for a single event).
    pub index: usize,
    /// Its eventId, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Stable reason code.
    pub code: &'static str,
    /// Why, naming the field.
    pub reason: String,
}

/// What came out of one request.
#[derive(Debug, Default)]
pub struct Processed {
    /// Log records (JSON `StoredEvent`) for the accepted events, in request order.
    pub records: Vec<Vec<u8>>,
    /// Dead-letter records (JSON `DeadLetter`) for the refused ones.
    pub dead_letters: Vec<Vec<u8>>,
    /// The refused events, for the answer.
    pub rejected: Vec<Rejection>,
    /// Accepted events validated against a deprecated schema.
    pub deprecated: usize,
    /// Accepted events carrying a quality flag.
    pub flagged: usize,
}

/// Everything the ingestion path needs, built once at start.
pub struct Ingestor {
    /// The compiled schemas.
    pub registry: SchemaRegistry,
    /// Size and shape limits.
    pub limits: Limits,
    /// Enrichment settings.
    pub enrich: EnrichConfig,
    /// Users who asked to be erased: their events are refused and stored nowhere.
    pub erased: ErasedIds,
}

/// How the request's route reads its events.
#[derive(Debug, Clone, Copy, Default)]
pub struct Route {
    /// The type a Segment single-call route implies.
    pub event_type: Option<EventType>,
    /// A Segment route: a missing messageId is generated.
    pub segment: bool,
}

impl Ingestor {
    /// Processes every event of `envelope` for `source`: an event the
    /// envelope has read (a batch's) goes on from there, a single event is
    /// read here.
    pub fn process(
        &self,
        envelope: Envelope<'_>,
        source: &SourceConfig,
        info: &RequestInfo<'_>,
        route: Route,
    ) -> Processed {
        let options = ParseOptions {
            route_type: route.event_type,
            batch_sent_at: envelope.sent_at.as_deref(),
            generate_missing_id: route.segment,
        };
        let mut out = Processed::default();
        let mut read = envelope.read.into_iter();
        for (index, raw) in envelope.events.iter().enumerate() {
            let event = match read.next() {
                Some(wire) => from_read(raw, wire, &self.limits, options),
                None => parse(raw, &self.limits, options),
            };
            if let Ok(event) = &event
                && let Some(id) = self.erased_id(event)
            {
                out.rejected.push(Rejection {
                    index,
                    event_id: event.event_id.as_str().map(String::from),
                    code: USER_ERASED,
                    reason: format!("{id} was erased at their request; their events are not kept"),
                });
                continue;
            }
            match event.and_then(|event| self.accept(event, raw.len(), source, info)) {
                Ok((record, deprecated, flagged)) => {
                    out.records.push(record);
                    out.deprecated += usize::from(deprecated);
                    out.flagged += usize::from(flagged);
                }
                Err(invalid) => {
                    let (record, event_id) = dead_letter(raw, &invalid, index, source, info);
                    out.dead_letters.push(record);
                    out.rejected.push(Rejection {
                        index,
                        event_id,
                        code: invalid.code,
                        reason: invalid.message,
                    });
                }
            }
        }
        out
    }

    /// The id of an erased user whose event this is, if any (see
    /// [`crate::erasure::erased_owner`]: another user's event from a device an
    /// erased user once used is kept).
    fn erased_id(&self, event: &IncomingEvent<'_>) -> Option<String> {
        if self.erased.is_empty() {
            return None;
        }
        // A number id is kept as written, so it is compared as written.
        let text = |id: &Option<RawJson<'_>>| {
            id.as_ref().map(|id| {
                id.as_str()
                    .unwrap_or(std::borrow::Cow::Borrowed(id.get()))
                    .into_owned()
            })
        };
        let alias_from = match event.event_type {
            EventType::Alias => text(&event.previous_id),
            _ => None,
        };
        erased_owner(
            text(&event.user_id).as_deref(),
            text(&event.anonymous_id).as_deref(),
            alias_from.as_deref(),
            |id| self.erased.contains(id),
        )
        .map(String::from)
    }

    /// One event (of `raw_len` bytes of JSON) to a log record; returns
    /// (record, deprecated, flagged).
    fn accept(
        &self,
        mut event: IncomingEvent<'_>,
        raw_len: usize,
        source: &SourceConfig,
        info: &RequestInfo<'_>,
    ) -> Result<(Vec<u8>, bool, bool), Invalid> {
        let mut flags = Vec::new();
        let mut version = None;
        let mut deprecated = false;
        if event.event_type == EventType::Track {
            let name = event
                .event_name
                .as_ref()
                .and_then(RawJson::as_str)
                .unwrap_or_default();
            let properties = Value::Object(event.properties.to_map("properties")?);
            let check = self
                .registry
                .check(&name, event.schema_version, &properties);
            let problem = match check {
                SchemaCheck::Valid {
                    version: v,
                    deprecated: d,
                    pii,
                } => {
                    // The record keeps the request's text unless the policy changed it.
                    if let Value::Object(mut map) = properties
                        && apply_pii_policy(&mut map, pii, source.pii)
                    {
                        event.properties = Object::Map(map);
                    }
                    version = Some(v);
                    deprecated = d;
                    if d {
                        flags.push("deprecated_schema".to_string());
                    }
                    None
                }
                SchemaCheck::UnknownEvent => Some(Invalid::new(
                    "unknown_event",
                    format!("no schema is registered for event {name:?}"),
                )),
                SchemaCheck::UnknownVersion(v) => Some(Invalid::new(
                    "schema_violation",
                    format!("event {name:?} has no schema version {v}"),
                )),
                SchemaCheck::Invalid {
                    version: v,
                    message,
                } => {
                    version = Some(v);
                    Some(Invalid::new(
                        "schema_violation",
                        format!("{name} v{v}: {message}"),
                    ))
                }
            };
            if let Some(invalid) = problem {
                match source.on_invalid {
                    InvalidPolicy::Reject => return Err(invalid),
                    InvalidPolicy::Flag => flags.push(invalid.code.to_string()),
                }
            }
        }
        let flagged = !flags.is_empty();
        let stored = enrich(event, info, &self.enrich, version, flags);
        // A record is the event plus a few hundred bytes of server fields:
        // size the buffer once instead of growing it by doubling.
        let record = record::write(&stored, raw_len + 512);
        Ok((record, deprecated, flagged))
    }
}

/// The dead letter of the event `raw` (the `index`th of its request), and its
/// eventId if it has one. The event is kept as the JSON value it is, or as a
/// string when that value would not read back as written: text that decodes
/// to no value (a lone surrogate escape, which the reader only scans where it
/// keeps nothing), or an object holding serde_json's reserved key.
fn dead_letter(
    raw: &str,
    invalid: &Invalid,
    index: usize,
    source: &SourceConfig,
    info: &RequestInfo<'_>,
) -> (Vec<u8>, Option<String>) {
    let value: Option<Value> = serde_json::from_str(raw).ok();
    let event_id = value
        .as_ref()
        .and_then(|v| {
            ["eventId", "messageId"]
                .iter()
                .find_map(|k| v.get(k)?.as_str())
        })
        .map(|s| s.chars().take(128).collect::<String>());
    let event = value
        .filter(|v| !has_reserved_key(v))
        .unwrap_or_else(|| Value::String(raw.to_string()));
    let dead = DeadLetter {
        reason: invalid.message.clone(),
        code: invalid.code.to_string(),
        received_at: info.received_at_text.to_string(),
        source: source.name.clone(),
        event_id: event_id.clone(),
        index: Some(index),
        event,
    };
    (to_json(&dead), event_id)
}

/// True when an object in `value` has [`RESERVED_KEY`].
fn has_reserved_key(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key(RESERVED_KEY) || map.values().any(has_reserved_key),
        Value::Array(items) => items.iter().any(has_reserved_key),
        _ => false,
    }
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain structs of strings, maps and JSON values cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use spoor_log::event::StoredEvent;
    use time::macros::datetime;

    use super::*;
    use crate::config::PiiPolicy;
    use crate::envelope::{self, Shape};

    /// The record of one `signed_up` event (whose schema marks `email` as
    /// personal data) from a source with `pii`.
    fn record(pii: PiiPolicy) -> (String, StoredEvent) {
        let ingestor = Ingestor {
            registry: SchemaRegistry::embedded().unwrap(),
            limits: Limits::default(),
            enrich: EnrichConfig::default(),
            erased: Default::default(),
        };
        let source = SourceConfig {
            pii,
            ..SourceConfig::new("web", "k")
        };
        let info = RequestInfo {
            received_at: datetime!(2026-05-03 10:00:05 UTC),
            received_at_text: "2026-05-03T10:00:05.000Z",
            client_ip: None,
            source: "web",
        };
        let body = br#"{"batch":[{"eventId":"e1","eventName":"signed_up","userId":"u",
            "properties":{"plan":"pro", "email":"a@b.c","method":"email"}}]}"#;
        let envelope = envelope::parse(body, Shape::Batch, &ingestor.limits).unwrap();
        let processed = ingestor.process(envelope, &source, &info, Route::default());
        let text = String::from_utf8(processed.records[0].clone()).unwrap();
        let stored = serde_json::from_str(&text).unwrap();
        (text, stored)
    }

    #[test]
    fn properties_are_kept_as_sent_unless_the_pii_policy_changes_them() {
        let (text, stored) = record(PiiPolicy::Keep);
        assert!(
            text.contains(r#""properties":{"plan":"pro", "email":"a@b.c","method":"email"}"#),
            "{text}"
        );
        assert_eq!(stored.properties["email"], "a@b.c");

        let (_, stored) = record(PiiPolicy::Hash);
        let hashed = stored.properties["email"].as_str().unwrap();
        assert_eq!(hashed.len(), 64);
        assert_ne!(hashed, "a@b.c");
        assert_eq!(stored.properties["plan"], "pro");

        let (_, stored) = record(PiiPolicy::Drop);
        assert_eq!(
            serde_json::Value::Object(stored.properties),
            json!({"plan": "pro", "method": "email"})
        );
    }
}
