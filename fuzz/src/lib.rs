//! The fuzz harness for the relay's ingestion path, shared by the cargo-fuzz
//! target (`fuzz_targets/ingest.rs`) and the regression tests
//! (`relay/tests/fuzz_regressions.rs` includes this file as a module).
//!
//! An input is `[control][route][body...]`:
//!
//! - `control` bits 0–1 pick how the body arrives: a single event
//!   (`POST /api/events`), a batch (`POST /api/events/batch`), the batch
//!   gzipped and decoded again, or the body taken as a gzip stream as sent;
//!   bit 2 the source's policy for invalid events (reject or accept-and-flag);
//!   bits 3–4 its PII policy; bits 5–6 the IP policy; bit 7 small limits (so
//!   the fuzzer reaches every limit with short inputs) or the shipped ones.
//! - `route` picks Spoor's routes or a Segment one (`/v1/track`, …, `/v1/batch`), and an
//!   IPv4 or IPv6 peer.
//!
//! The body goes through the same public functions the server runs:
//! `body::decode`, `envelope::parse`, `Ingestor::process` (parse, limits,
//! schema validation, PII policy, enrichment, serialization), plus the header
//! parsers `keys::key_from_headers` and `body::check_content_type`. Besides
//! "no panic", it checks what the relay promises: every event of a request is
//! accepted or rejected exactly once, every record reads back as a
//! `StoredEvent`/`DeadLetter`, server fields are the server's, and the IP
//! policy holds.

use std::io::Write;
use std::net::IpAddr;
use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use spoor_log::event::{DeadLetter, EventType, StoredEvent};
use spoor_relay::body;
use spoor_relay::config::{EnrichConfig, InvalidPolicy, IpPolicy, Limits, PiiPolicy, SourceConfig};
use spoor_relay::enrich::{RequestInfo, format_time, truncate_ip};
use spoor_relay::envelope::{self, Shape};
use spoor_relay::ingest::{Ingestor, Route};
use spoor_relay::keys::key_from_headers;
use spoor_relay::schema_registry::SchemaRegistry;
use time::OffsetDateTime;

/// How the body reaches the envelope parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Single,
    Batch,
    GzipRoundTrip,
    GzipAsSent,
}

/// Ingestors for every (limits, IP policy) pair, each with the embedded
/// registry compiled once, like the relay does at start.
fn ingestors() -> &'static [Ingestor] {
    static INGESTORS: OnceLock<Vec<Ingestor>> = OnceLock::new();
    INGESTORS.get_or_init(|| {
        let mut all = Vec::new();
        for small in [false, true] {
            for ip in [IpPolicy::Keep, IpPolicy::Truncate, IpPolicy::Drop] {
                all.push(Ingestor {
                    registry: SchemaRegistry::embedded().expect("embedded schemas compile"),
                    limits: limits(small),
                    enrich: EnrichConfig {
                        ip,
                        ..EnrichConfig::default()
                    },
                    erased: Default::default(),
                });
            }
        }
        all
    })
}

fn limits(small: bool) -> Limits {
    if small {
        Limits {
            max_event_bytes: 2048,
            max_request_bytes: 8192,
            max_depth: 6,
            max_properties: 16,
            max_string_bytes: 256,
        }
    } else {
        Limits::default()
    }
}

/// Runs one fuzz input through the ingestion path and checks its promises;
/// panics on a broken promise.
pub fn ingest_one(data: &[u8]) {
    let [control, route_byte, body @ ..] = data else {
        return;
    };
    let (control, route_byte) = (*control, *route_byte);
    let delivery = match control & 0b11 {
        0 => Delivery::Single,
        1 => Delivery::Batch,
        2 => Delivery::GzipRoundTrip,
        _ => Delivery::GzipAsSent,
    };
    let source = SourceConfig {
        name: "fuzz".into(),
        write_key: "fuzz-write-key".into(),
        on_invalid: if control & 0b100 == 0 {
            InvalidPolicy::Reject
        } else {
            InvalidPolicy::Flag
        },
        pii: match (control >> 3) & 0b11 {
            0 | 3 => PiiPolicy::Keep,
            1 => PiiPolicy::Hash,
            _ => PiiPolicy::Drop,
        },
    };
    let ip_index = match (control >> 5) & 0b11 {
        0 | 3 => 1,
        1 => 0,
        _ => 2,
    };
    let small = control & 0x80 != 0;
    let ingestor = &ingestors()[usize::from(small) * 3 + ip_index];
    let route = match route_byte % 8 {
        0 => Route::default(),
        7 => Route {
            event_type: None,
            segment: true,
        },
        n => Route {
            event_type: Some(EventType::ALL[usize::from(n - 1)]),
            segment: true,
        },
    };
    let peer: IpAddr = if route_byte & 0x80 == 0 {
        IpAddr::from([203, 0, 113, 77])
    } else {
        IpAddr::from([0x2001, 0xdb8, 0x1234, 0x5678, 0, 0, 0, 0x99])
    };

    check_headers(body);

    let limit = ingestor.limits.max_request_bytes;
    let decoded = match delivery {
        Delivery::Single | Delivery::Batch => {
            body::decode(&HeaderMap::new(), body, limit).map(|out| out.into_owned())
        }
        Delivery::GzipRoundTrip => {
            let zipped = gzip(body);
            let result = body::decode(&gzip_headers(), &zipped, limit).map(|out| out.into_owned());
            match &result {
                Ok(out) => assert_eq!(out.as_slice(), body, "gzip round trip changed the body"),
                Err(e) => {
                    assert!(
                        body.len() > limit,
                        "gzip of {} bytes refused: {e}",
                        body.len()
                    );
                    assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
                }
            }
            result
        }
        Delivery::GzipAsSent => {
            body::decode(&gzip_headers(), body, limit).map(|out| out.into_owned())
        }
    };
    let decoded = match decoded {
        Ok(bytes) => bytes,
        Err(e) => {
            assert!(
                e.status == StatusCode::BAD_REQUEST || e.status == StatusCode::PAYLOAD_TOO_LARGE,
                "body refused with {}: {e}",
                e.status
            );
            return;
        }
    };
    assert!(decoded.len() <= limit, "decoded body over the limit");

    let shape = if delivery == Delivery::Single {
        Shape::Single
    } else {
        Shape::Batch
    };
    let envelope = match envelope::parse(&decoded, shape, &ingestor.limits) {
        Ok(envelope) => envelope,
        Err(e) => {
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "envelope refused: {e}");
            return;
        }
    };
    assert!(!envelope.events.is_empty(), "an envelope without events");

    let received_at = OffsetDateTime::from_unix_timestamp(1_777_802_405).expect("valid time");
    let received_at_text = format_time(received_at);
    let info = RequestInfo {
        received_at,
        received_at_text: &received_at_text,
        client_ip: Some(peer),
        source: &source.name,
    };
    let n = envelope.events.len();
    let processed = ingestor.process(envelope, &source, &info, route);

    assert_eq!(
        processed.records.len() + processed.rejected.len(),
        n,
        "every event is accepted or rejected exactly once"
    );
    assert_eq!(processed.dead_letters.len(), processed.rejected.len());
    let mut last_index = None;
    for r in &processed.rejected {
        assert!(r.index < n, "rejected index out of range");
        assert!(last_index < Some(r.index), "rejections out of order");
        last_index = Some(r.index);
        assert!(!r.code.is_empty() && !r.reason.is_empty());
        if let Some(id) = &r.event_id {
            assert!(id.chars().count() <= 128, "rejection echoes a long eventId");
        }
    }
    for record in &processed.records {
        assert!(record.len() <= spoor_log::record::MAX_PAYLOAD);
        let stored: StoredEvent = serde_json::from_slice(record)
            .unwrap_or_else(|e| panic!("record does not read back: {e}"));
        assert_eq!(stored.received_at, received_at_text);
        assert_eq!(stored.source, "fuzz");
        assert_eq!(stored.event_time.len(), received_at_text.len());
        assert!(!stored.event_id.is_empty() && stored.event_id.len() <= 128);
        if let Some(t) = route.event_type {
            assert_eq!(stored.event_type, t, "the route's type wins");
        }
        if stored.event_type == EventType::Track {
            assert!(stored.event_name.is_some(), "a track event without a name");
        }
        if stored.flags.is_empty() && stored.event_type == EventType::Track {
            assert!(
                stored.schema_version.is_some(),
                "unflagged track event not validated"
            );
        }
        check_ip(&stored, ingestor.enrich.ip);
    }
    for (record, rejection) in processed.dead_letters.iter().zip(&processed.rejected) {
        assert!(record.len() <= spoor_log::record::MAX_PAYLOAD);
        let dead: DeadLetter = serde_json::from_slice(record)
            .unwrap_or_else(|e| panic!("dead letter does not read back: {e}"));
        assert_eq!(dead.index, Some(rejection.index));
        assert_eq!(dead.code, rejection.code);
        assert_eq!(dead.received_at, received_at_text);
    }
}

fn check_ip(stored: &StoredEvent, policy: IpPolicy) {
    let ip = stored.context.get("ip");
    match policy {
        IpPolicy::Drop => assert!(ip.is_none(), "ip kept under the drop policy"),
        IpPolicy::Keep => assert!(ip.is_some(), "no ip under the keep policy"),
        IpPolicy::Truncate => {
            let text = ip.and_then(|v| v.as_str()).expect("a truncated ip");
            let parsed: IpAddr = text.parse().expect("a stored ip parses");
            assert_eq!(truncate_ip(parsed), parsed, "ip {text} not truncated");
        }
    }
}

/// The header parsers see the first line of the body as a header value.
fn check_headers(body: &[u8]) {
    let line = body.split(|b| *b == b'\n').next().unwrap_or_default();
    let Ok(value) = HeaderValue::from_bytes(&line[..line.len().min(512)]) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value.clone());
    headers.insert(header::CONTENT_TYPE, value);
    if let Some(key) = key_from_headers(&headers) {
        assert!(key.len() <= line.len(), "a key longer than its header");
    }
    let _ = body::check_content_type(&headers);
}

fn gzip_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    headers
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).expect("writing to a Vec");
    encoder.finish().expect("writing to a Vec")
}
