//! The fuzz harness for the pipeline's record reader (`spoor_pipeline::record_json`, under
//! `spoor_pipeline::event::parse`), shared by the cargo-fuzz target `record` and
//! `pipeline/tests/fuzz_regressions.rs`. See docs/fuzzing.md.
//!
//! An input is a stored record's bytes. Besides "no panic", a record the reader reads must be
//! one `serde_json` reads, with the same values: every string field (`null` as absent), the
//! `properties`, `traits` and `context` values, and the entries of `properties` (the last of
//! a repeated key, as `serde_json` keeps it). The entries it keeps of `context` (`campaign`,
//! `page`, `referrer`; the first of a repeated key) must each be JSON.

use std::sync::OnceLock;

use serde::de::IgnoredAny;
use serde_json::{Map, Value};
use spoor_pipeline::record_json::{self, Entries};
use spoor_pipeline::registry::TypedColumns;

/// The registry's typed columns, compiled once.
fn columns() -> &'static TypedColumns {
    static COLUMNS: OnceLock<TypedColumns> = OnceLock::new();
    COLUMNS.get_or_init(|| TypedColumns::embedded().expect("the embedded registry loads"))
}

/// Runs one input through the reader and checks it against `serde_json`; panics on a broken
/// promise.
pub fn record_one(data: &[u8]) {
    // The whole path the pipeline runs on a record: no panic, whatever the bytes.
    let _ = spoor_pipeline::event::parse(0, data, columns());
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rec) = record_json::record(text) else {
        return;
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            // serde_json's `Value` refuses a lone surrogate escape; its skipping reader, like
            // ours, does not decode strings it does not need.
            assert!(
                serde_json::from_str::<IgnoredAny>(text).is_ok(),
                "read a record serde_json refuses ({e}): {text:?}"
            );
            return;
        }
    };
    let object = value.as_object().expect("a record read is an object");
    let field = |name: &str| object.get(name).filter(|v| !v.is_null());
    let strings = [
        ("eventId", &rec.event_id),
        ("type", &rec.event_type),
        ("eventName", &rec.event_name),
        ("userId", &rec.user_id),
        ("anonymousId", &rec.anonymous_id),
        ("previousId", &rec.previous_id),
        ("groupId", &rec.group_id),
        ("timestamp", &rec.timestamp),
        ("sentAt", &rec.sent_at),
        ("receivedAt", &rec.received_at),
        ("eventTime", &rec.event_time),
        ("source", &rec.source),
    ];
    for (name, got) in strings {
        let expected = field(name).map(|v| v.as_str().expect("a string field read is a string"));
        assert_eq!(got.as_deref(), expected, "{name} of {text:?}");
    }
    for (name, got) in [
        ("properties", rec.properties),
        ("traits", rec.traits),
        ("context", rec.context),
    ] {
        let got = got.map(json);
        assert_eq!(got.as_ref(), field(name), "{name} of {text:?}");
    }
    let properties = match field("properties") {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    assert_eq!(
        last_of_each(&rec.property_entries),
        properties,
        "properties' entries of {text:?}"
    );
    let view = &rec.context_view;
    for (_, v) in view.campaign.iter().chain(&view.page) {
        json(v);
    }
    if let Some(referrer) = view.referrer {
        json(referrer);
    }
}

/// The value of JSON text the reader handed out; panics when it is not JSON.
fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("handed out {text:?}, not JSON: {e}"))
}

/// Entries as a map, the last of a repeated key kept.
fn last_of_each(entries: &Entries<'_>) -> Map<String, Value> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), json(v)))
        .collect()
}
