//! CPU time per event of each stage of the ingestion path, on one core and
//! without HTTP or disk: where a relay request's time goes before the log.
//!
//! The stages are the public functions the relay runs on a batch body,
//! called one after another on the same body the load benchmark sends:
//! `envelope::parse` (which reads each event too) and then what
//! `Ingestor::process` does. The whole path (`envelope::parse` and
//! `Ingestor::process`) is timed too, so the parts can be checked against it.

use std::time::{Duration, Instant};

use serde_json::Value;
use spoor_log::event::EventType;
use spoor_relay::config::{EnrichConfig, Limits, SourceConfig};
use spoor_relay::enrich::{RequestInfo, enrich, format_time};
use spoor_relay::envelope::{self, Shape};
use spoor_relay::incoming::{self, ParseOptions};
use spoor_relay::ingest::{Ingestor, Route};
use spoor_relay::raw_json::RawJson;
use spoor_relay::record;
use spoor_relay::schema_registry::{SchemaCheck, SchemaRegistry};
use time::OffsetDateTime;

/// Nanoseconds per event spent in each stage.
#[derive(Debug, Clone)]
pub struct StageTimes {
    /// `(stage, nanoseconds per event)`, in pipeline order.
    pub stages: Vec<(&'static str, f64)>,
    /// `envelope::parse` and `Ingestor::process` as the relay calls them, per event.
    pub process_ns: f64,
    /// Events timed.
    pub events: u64,
}

/// Times every stage over `iterations` passes of `body` (a batch envelope).
pub fn measure(body: &[u8], iterations: usize) -> Result<StageTimes, String> {
    let registry = SchemaRegistry::embedded().map_err(|e| e.to_string())?;
    let ingestor = Ingestor {
        registry,
        limits: Limits::default(),
        enrich: EnrichConfig::default(),
        erased: Default::default(),
    };
    let source = SourceConfig::new("bench", "bench-write-key");
    let received_at = OffsetDateTime::now_utc();
    let received_at_text = format_time(received_at);
    let info = RequestInfo {
        received_at,
        received_at_text: &received_at_text,
        client_ip: Some([127, 0, 0, 1].into()),
        source: "bench",
    };

    let mut envelope_t = Duration::ZERO;
    let mut parse_t = Duration::ZERO;
    let mut validate_t = Duration::ZERO;
    let mut enrich_t = Duration::ZERO;
    let mut serialize_t = Duration::ZERO;
    let mut process_t = Duration::ZERO;
    let mut events = 0u64;
    for _ in 0..iterations {
        let t0 = Instant::now();
        let mut env =
            envelope::parse(body, Shape::Batch, &ingestor.limits).map_err(|e| e.to_string())?;
        let t1 = Instant::now();
        let options = ParseOptions {
            route_type: None,
            batch_sent_at: env.sent_at.as_deref(),
            generate_missing_id: false,
        };
        let parsed_events = env.events.len() as u64;
        let mut parsed = Vec::with_capacity(env.events.len());
        for (raw, read) in env.events.iter().zip(std::mem::take(&mut env.read)) {
            parsed.push(
                incoming::from_read(raw, read, &ingestor.limits, options).map_err(|e| e.message)?,
            );
        }
        let t2 = Instant::now();
        let mut versions = Vec::with_capacity(parsed.len());
        for event in &parsed {
            if event.event_type != EventType::Track {
                versions.push(None);
                continue;
            }
            let name = event
                .event_name
                .as_ref()
                .and_then(RawJson::as_str)
                .unwrap_or_default();
            let properties = Value::Object(
                event
                    .properties
                    .to_map("properties")
                    .map_err(|e| e.message)?,
            );
            let check = ingestor
                .registry
                .check(&name, event.schema_version, &properties);
            let version = match check {
                SchemaCheck::Valid { version, .. } => Some(version),
                other => return Err(format!("the bench event does not validate: {other:?}")),
            };
            versions.push(version);
        }
        let t3 = Instant::now();
        let stored: Vec<_> = parsed
            .into_iter()
            .zip(versions)
            .map(|(event, version)| enrich(event, &info, &ingestor.enrich, version, Vec::new()))
            .collect();
        let t4 = Instant::now();
        let records: Vec<Vec<u8>> = stored.iter().map(|s| record::write(s, 1024)).collect();
        let t5 = Instant::now();
        std::hint::black_box(records);
        let env =
            envelope::parse(body, Shape::Batch, &ingestor.limits).map_err(|e| e.to_string())?;
        let processed = ingestor.process(env, &source, &info, Route::default());
        let t6 = Instant::now();
        if !processed.rejected.is_empty() {
            return Err(format!("rejected: {:?}", processed.rejected[0]));
        }
        events += parsed_events;
        envelope_t += t1 - t0;
        parse_t += t2 - t1;
        validate_t += t3 - t2;
        enrich_t += t4 - t3;
        serialize_t += t5 - t4;
        process_t += t6 - t5;
    }
    let per_event = |d: Duration| d.as_nanos() as f64 / events.max(1) as f64;
    Ok(StageTimes {
        stages: vec![
            (
                "envelope: read the body and its events (JSON, limits)",
                per_event(envelope_t),
            ),
            (
                "check fields, ids, times; properties map",
                per_event(parse_t),
            ),
            (
                "properties map + validate (JSON Schema)",
                per_event(validate_t),
            ),
            ("enrich (time, ip, user agent)", per_event(enrich_t)),
            ("serialize record", per_event(serialize_t)),
        ],
        process_ns: per_event(process_t),
        events,
    })
}
