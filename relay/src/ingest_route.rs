//! The ingestion routes: `POST /api/events`, `/api/events/batch` and Segment's `/v1/*`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::metrics::counter::Counter;
use serde_json::json;
use spoor_log::event::EventType;
use spoor_log::{AppendResult, GroupCommit};
use time::OffsetDateTime;
use tokio::sync::oneshot;

use crate::body;
use crate::enrich::{RequestInfo, format_time};
use crate::envelope::{self, Shape};
use crate::error::ApiError;
use crate::incoming::NOT_JSON;
use crate::ingest::{Processed, Route};
use crate::keys::key_from_headers;
use crate::metrics::{ReasonLabel, StatusLabel};
use crate::server::RelayState;

/// Which ingestion route a request came in on.
#[derive(Debug, Clone, Copy)]
pub struct IngestRoute {
    /// Single event or batch body.
    pub shape: Shape,
    /// Type implied by a Segment single-call route, and whether it is Segment's API.
    pub route: Route,
}

impl IngestRoute {
    /// `POST /api/events`.
    pub const EVENT: Self = Self::new(Shape::Single, None, false);
    /// `POST /api/events/batch`.
    pub const BATCH: Self = Self::new(Shape::Batch, None, false);
    /// `POST /v1/batch` (Segment).
    pub const SEGMENT_BATCH: Self = Self::new(Shape::Batch, None, true);

    /// A Segment single-call route (`/v1/track`, ...).
    pub const fn segment(event_type: EventType) -> Self {
        Self::new(Shape::Single, Some(event_type), true)
    }

    const fn new(shape: Shape, event_type: Option<EventType>, segment: bool) -> Self {
        IngestRoute {
            shape,
            route: Route {
                event_type,
                segment,
            },
        }
    }
}

/// Handles one ingestion request end to end; the answer is sent only after
/// every accepted and refused event is durable in its log.
pub async fn handle(
    state: Arc<RelayState>,
    route: IngestRoute,
    peer: SocketAddr,
    headers: HeaderMap,
    raw: Body,
) -> Response {
    let started = Instant::now();
    let result = ingest(&state, route, peer, headers, raw).await;
    let response = match result {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    state
        .metrics
        .responses
        .get_or_create(&StatusLabel {
            status: response.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .request_seconds
        .observe(started.elapsed().as_secs_f64());
    response
}

async fn ingest(
    state: &Arc<RelayState>,
    route: IngestRoute,
    peer: SocketAddr,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    let received_at = OffsetDateTime::now_utc();
    let limits = &state.ingestor.limits;
    // A header key is checked before the body is read, and only once.
    let header_source = match key_from_headers(&headers) {
        Some(key) => Some(
            state
                .keys
                .write_source_index(&key)
                .ok_or_else(|| bad_key(state, &key))?,
        ),
        None => None,
    };
    body::check_content_type(&headers)?;
    let raw = body::read(
        raw,
        limits.max_request_bytes,
        state.config.timeouts.body_idle(),
    )
    .await?;
    let request = Request {
        route,
        peer,
        headers,
        header_source,
        received_at,
    };
    // From the check of the erased ids until the records are queued (see `erasure`).
    let gate = state.ingest_gate.read().await;
    // Processed on this HTTP thread, as nginx processes a request on its worker:
    // handing big bodies to the blocking pool cost a thread switch each way and
    // a quarter of the batch throughput on 2 cores (BENCHMARKS.md, "Relay").
    // A body is at most `max_request_bytes` after inflating, a few milliseconds
    // of work, and the other HTTP threads answer meanwhile.
    let prepared = prepare(state, request, &raw);
    // The request's bytes share hyper's read buffer: let go of them before
    // waiting for the log, so hyper can reuse that buffer for the next request
    // instead of allocating a new one.
    drop(raw);
    let prepared = prepared?;
    let Prepared {
        accepted_counter,
        processed,
    } = prepared;
    let accepted = processed.records.len();

    let started = Instant::now();
    let queued = (
        queue(&state.log, processed.records),
        queue(&state.dead_letter, processed.dead_letters),
    );
    drop(gate);
    let (records, dead) = tokio::join!(durable(queued.0), durable(queued.1));
    for outcome in [&records, &dead] {
        if let Err(e) = outcome {
            return Err(if e.storage_full {
                ApiError::unavailable("storage_full", "the relay's disk is full; retry later", 30)
            } else {
                ApiError::unavailable(
                    "log_unavailable",
                    format!("the log cannot take writes: {e}"),
                    5,
                )
            });
        }
    }
    state
        .metrics
        .commit_seconds
        .observe(started.elapsed().as_secs_f64());
    if let Ok(Some(range)) = &records {
        state
            .metrics
            .log_records
            .set(i64::try_from(range.end).unwrap_or(i64::MAX));
    }
    accepted_counter.inc_by(accepted as u64);
    for r in &processed.rejected {
        state
            .metrics
            .rejected
            .get_or_create(&ReasonLabel {
                reason: r.code.to_string(),
            })
            .inc();
    }
    state.metrics.deprecated.inc_by(processed.deprecated as u64);
    state.metrics.flagged.inc_by(processed.flagged as u64);

    if accepted == 0 {
        let message = match processed.rejected.as_slice() {
            [only] => format!("the event was refused: {}", only.reason),
            all => format!("all {} events were refused", all.len()),
        };
        return Err(ApiError::all_invalid(
            message,
            json!({ "rejected": processed.rejected }),
        ));
    }
    if processed.rejected.is_empty() {
        // The common answer, written directly: the same bytes `Json(json!(...))` makes.
        return Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            format!("{{\"accepted\":{accepted},\"rejected\":[]}}"),
        )
            .into_response());
    }
    Ok(Json(json!({ "accepted": accepted, "rejected": processed.rejected })).into_response())
}

/// What [`prepare`] needs of the request besides its body.
struct Request {
    route: IngestRoute,
    peer: SocketAddr,
    headers: HeaderMap,
    /// The source of the key in the request's headers, already checked
    /// (see [`crate::keys::KeyRing::write_source_index`]).
    header_source: Option<usize>,
    received_at: OffsetDateTime,
}

/// A request's events, checked and turned into records, ready for the logs.
struct Prepared {
    /// Counts the events accepted from the write key's source once they are durable.
    accepted_counter: Counter,
    processed: Processed,
}

/// Decodes, authorizes, rate-limits and processes a request body: everything
/// between reading the body and appending to the logs, without waiting.
fn prepare(state: &RelayState, request: Request, raw: &[u8]) -> Result<Prepared, ApiError> {
    let limits = &state.ingestor.limits;
    let Request {
        route,
        peer,
        headers,
        header_source,
        received_at,
    } = request;
    let body = body::decode(&headers, raw, limits.max_request_bytes)?;
    let envelope = envelope::parse(&body, route.shape, limits)?;
    let source = match header_source {
        Some(index) => state
            .keys
            .source(index)
            .ok_or_else(|| ApiError::internal("the checked write key's source is gone"))?,
        None => {
            let key = envelope.write_key.as_deref().ok_or_else(|| {
                ApiError::unauthorized(
                    "no write key: send Authorization: Bearer KEY, Basic auth, or writeKey in the body",
                )
            })?;
            state
                .keys
                .write_source(key)
                .ok_or_else(|| bad_key(state, key))?
        }
    };
    if route.shape == Shape::Single
        && let Some(raw) = envelope.events.first()
        && raw.len() > limits.max_event_bytes
    {
        return Err(ApiError::too_large(format!(
            "the event is {} bytes, over the {} byte limit",
            raw.len(),
            limits.max_event_bytes
        )));
    }
    source
        .take(envelope.events.len())
        .map_err(ApiError::rate_limited)?;

    let received_at_text = format_time(received_at);
    let info = RequestInfo {
        received_at,
        received_at_text: &received_at_text,
        client_ip: client_ip(&headers, peer, state.config.enrich.trust_forwarded_for),
        source: &source.config.name,
    };
    let dropped = envelope.dropped;
    let processed = state
        .ingestor
        .process(envelope, &source.config, &info, route.route);
    // A single event's body is first parsed here (see `envelope`): one that
    // is not JSON is a malformed request, not a refused event.
    if route.shape == Shape::Single
        && let [only] = processed.rejected.as_slice()
        && only.code == NOT_JSON
    {
        return Err(ApiError::bad_request(
            NOT_JSON,
            format!("the body is {}", only.reason),
        ));
    }
    state.metrics.sdk_dropped.inc_by(dropped);
    Ok(Prepared {
        accepted_counter: state.metrics.accepted_counter(&source.config.name),
        processed,
    })
}

/// Queues `records` (if any) for the log's next group commit.
fn queue(log: &GroupCommit, records: Vec<Vec<u8>>) -> Option<oneshot::Receiver<AppendResult>> {
    (!records.is_empty()).then(|| submit(log, records))
}

/// Waits until queued records are durable; their offsets.
async fn durable(
    queued: Option<oneshot::Receiver<AppendResult>>,
) -> Result<Option<std::ops::Range<u64>>, spoor_log::AppendError> {
    match queued {
        Some(rx) => wait(rx).await.map(Some),
        None => Ok(None),
    }
}

/// Queues `records` (none: a barrier behind everything queued before) for `log`.
pub(crate) fn submit(log: &GroupCommit, records: Vec<Vec<u8>>) -> oneshot::Receiver<AppendResult> {
    let (tx, rx) = oneshot::channel::<AppendResult>();
    log.append(
        records,
        Box::new(move |result| {
            let _ = tx.send(result);
        }),
    );
    rx
}

/// Waits for a queued append to be durable.
pub(crate) async fn wait(
    rx: oneshot::Receiver<AppendResult>,
) -> Result<std::ops::Range<u64>, spoor_log::AppendError> {
    rx.await.unwrap_or_else(|_| {
        Err(spoor_log::AppendError {
            storage_full: false,
            message: "the log writer stopped".into(),
        })
    })
}

fn bad_key(state: &RelayState, key: &str) -> ApiError {
    if state.keys.is_read_key(key) {
        ApiError::forbidden("this is the read key; ingestion needs a write key")
    } else {
        ApiError::unauthorized("the write key is not valid")
    }
}

fn client_ip(
    headers: &HeaderMap,
    peer: SocketAddr,
    trust_forwarded: bool,
) -> Option<std::net::IpAddr> {
    if trust_forwarded
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(ip);
    }
    Some(peer.ip())
}
