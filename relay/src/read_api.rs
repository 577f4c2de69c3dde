//! The read API, guarded by the read key: analytics from the pipeline's
//! processed tables (never the raw ingestion path).
//!
//! Queries run on the blocking pool: they read Parquet and may take a while.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};
use spoor_analytics::{
    AnalyticsError, AttributionQuery, DataDir, ExperimentQuery, ExportQuery, FunnelQuery,
    ParamError, RetentionQuery,
};

use spoor_pipeline::PipelineError;
use spoor_pipeline::checkpoint::Freshness;

use crate::error::ApiError;
use crate::server::RelayState;

type Params = Query<HashMap<String, String>>;

/// `GET /api/analytics/funnel?name=checkout` or `?steps=a,b,c&window=1h`.
pub async fn funnel(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    // Configured funnels were checked when the configuration was loaded.
    let catalog = state
        .config
        .funnel_catalog()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let query = FunnelQuery::from_params_with(&params, &catalog);
    answer(&state, &headers, query, spoor_analytics::funnel).await
}

/// `GET /api/analytics/retention`.
pub async fn retention(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let query = RetentionQuery::from_params(&params);
    answer(&state, &headers, query, spoor_analytics::retention).await
}

/// `GET /api/analytics/attribution`.
pub async fn attribution(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let query = AttributionQuery::from_params(&params);
    answer(&state, &headers, query, spoor_analytics::attribution).await
}

/// `GET /api/analytics/experiment?name=...`.
pub async fn experiment(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let query = ExperimentQuery::from_params(&params);
    answer(&state, &headers, query, spoor_analytics::experiment).await
}

/// The read key first (401/403 before any 400), then the parsed query (a bad
/// parameter is a 400 naming it), then `compute` on the blocking pool.
async fn answer<Q, T>(
    state: &RelayState,
    headers: &HeaderMap,
    query: Result<Q, ParamError>,
    compute: fn(&DataDir, &Q) -> Result<T, AnalyticsError>,
) -> Result<Json<Value>, ApiError>
where
    Q: Send + 'static,
    T: Serialize + Send + 'static,
{
    state.keys.require_read(headers)?;
    let query = query.map_err(bad_param)?;
    run(state, move |data| compute(data, &query)).await
}

/// `GET /api/analytics/realtime?minutes=60`: per-minute counts by event and
/// source, distinct users and revenue, from the pipeline's aggregates.
pub async fn realtime(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    state.keys.require_read(&headers)?;
    let mut minutes: i64 = 60;
    for (name, value) in &params {
        match name.as_str() {
            "minutes" => {
                minutes = value
                    .parse()
                    .ok()
                    .filter(|m| (1..=7 * 24 * 60).contains(m))
                    .ok_or_else(|| {
                        bad_param(ParamError::new(
                            "minutes",
                            "must be a whole number from 1 to 10080",
                        ))
                    })?;
            }
            other => {
                return Err(bad_param(ParamError::new(
                    other,
                    "unknown parameter (known: minutes)",
                )));
            }
        }
    }
    let log_end = state.log.durable_offset().load(Ordering::Acquire);
    let data_dir = state.config.data_dir.clone();
    let (freshness, rows) = tokio::task::spawn_blocking(move || {
        let freshness = Freshness::read(&data_dir, log_end);
        let since = time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes);
        let since_ms = i64::try_from(since.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MIN);
        (
            freshness,
            spoor_pipeline::realtime::read_since(&data_dir, since_ms),
        )
    })
    .await
    .map_err(|e| ApiError::internal(format!("the realtime query stopped: {e}")))?;
    let rows =
        rows.map_err(|e| ApiError::internal(format!("reading the realtime aggregates: {e}")))?;
    with_freshness(json!({ "minutes": rows }), freshness)
}

async fn run<T, F>(state: &RelayState, query: F) -> Result<Json<Value>, ApiError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&DataDir) -> Result<T, AnalyticsError> + Send + 'static,
{
    let log_end = state.log.durable_offset().load(Ordering::Acquire);
    let data_dir = state.config.data_dir.clone();
    let (freshness, report) = tokio::task::spawn_blocking(move || {
        let freshness = Freshness::read(&data_dir, log_end);
        (freshness, query(&DataDir::new(&data_dir)))
    })
    .await
    .map_err(|e| ApiError::internal(format!("the query stopped: {e}")))?;
    let report = report.map_err(|e| match e {
        AnalyticsError::Param(p) => bad_param(p),
        other => ApiError::internal(other.to_string()),
    })?;
    let value = serde_json::to_value(report).map_err(|e| ApiError::internal(e.to_string()))?;
    with_freshness(value, freshness)
}

/// An analytics answer with `pipeline`: how far into the log the outputs it was computed from
/// reach, read before the query (the answer holds at least the records below
/// `throughOffset`), so a client can tell a pipeline catching up or rebuilding from a quiet
/// site.
fn with_freshness(
    mut answer: Value,
    freshness: Result<Freshness, PipelineError>,
) -> Result<Json<Value>, ApiError> {
    let freshness = freshness
        .map_err(|e| ApiError::internal(format!("reading the pipeline's position: {e}")))?;
    if let Value::Object(fields) = &mut answer {
        fields.insert("pipeline".into(), json!(freshness));
    }
    Ok(Json(answer))
}

/// A 400 that names the parameter.
pub fn bad_param(e: ParamError) -> ApiError {
    let mut error = ApiError::bad_request("invalid_parameter", e.to_string());
    error.details = Some(json!({ "parameter": e.param }));
    error
}

/// Largest export request body: a JSON query.
const EXPORT_REQUEST_BYTES: usize = 64 * 1024;

/// Bytes handed to the HTTP body at a time.
const EXPORT_CHUNK: usize = 64 * 1024;

/// Chunks in flight between the exporting thread and the connection: memory
/// stays at `EXPORT_QUEUE` × [`EXPORT_CHUNK`] whatever the size of the export.
const EXPORT_QUEUE: usize = 8;

/// `DELETE /api/users/{id}`: erases the user from the logs and refuses their
/// later events (see [`crate::erasure`]); answers once that is durable, with
/// the ledger line. The pipeline then rebuilds `raw/` and `tables/` without them.
pub async fn erase_user(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.keys.require_read(&headers)?;
    if id.is_empty() || id.len() > state.config.limits.max_string_bytes {
        return Err(ApiError::bad_request(
            "invalid_user_id",
            "the user id must be 1 or more bytes, no longer than the longest string an event may hold",
        ));
    }
    let erased = crate::erasure::erase_user(&state, &id).await?;
    Ok(Json(
        json!({ "erased": erased, "pipeline": "rebuilding raw/ and tables/ without the user" }),
    ))
}

/// `POST /api/events/export`: the events of a time range (optionally of some
/// names, matching property filters) as NDJSON, CSV or Parquet, streamed.
///
/// The query is the JSON body or, when the body is empty, the URL parameters.
/// Errors found before the first chunk are JSON answers; an error later aborts
/// the body, so a client never takes a cut-off export for a whole one. The
/// `Spoor-Pipeline-*` headers say how far into the log the exported outputs reach.
pub async fn export(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Query(params): Params,
    body: Body,
) -> Result<Response, ApiError> {
    state.keys.require_read(&headers)?;
    let body = crate::body::read(
        body,
        EXPORT_REQUEST_BYTES,
        state.config.timeouts.body_idle(),
    )
    .await?;
    let query = if body.iter().all(u8::is_ascii_whitespace) {
        ExportQuery::from_params(&params)
    } else {
        let value: Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(
                "invalid_json",
                format!("the export request is not JSON: {e}"),
            )
        })?;
        ExportQuery::from_json(&value)
    }
    .map_err(bad_param)?;
    let format = query.format;
    let (tx, mut rx) = tokio::sync::mpsc::channel(EXPORT_QUEUE);
    let data = DataDir::new(&state.config.data_dir);
    let log_end = state.log.durable_offset().load(Ordering::Acquire);
    let (fresh_tx, fresh_rx) = tokio::sync::oneshot::channel();
    tokio::task::spawn_blocking(move || {
        // Read before the export, as for the analytics answers.
        let _ = fresh_tx.send(Freshness::read(data.root(), log_end));
        let mut out = ChunkWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(EXPORT_CHUNK),
            sent: false,
        };
        let written = spoor_analytics::export(&data, &query, &mut out, |_| {})
            .and_then(|_| out.flush().map_err(AnalyticsError::Write));
        if let Err(e) = written {
            // After the first chunk the client learns of it only as a broken
            // body, so the reason is logged here, unless the client is what went
            // away; before it, the answer is the error itself.
            if out.sent && !tx.is_closed() {
                tracing::error!("an export stopped after it started: {e}");
            }
            let _ = tx.blocking_send(Err(e));
        }
    });
    let freshness = fresh_rx
        .await
        .map_err(|_| ApiError::internal("the export stopped before it started"))?
        .map_err(|e| ApiError::internal(format!("reading the pipeline's position: {e}")))?;
    // The answer waits for the first chunk: an export that fails before it (every
    // export smaller than a chunk) answers with a JSON error instead of a cut body.
    let first = match rx.recv().await {
        Some(Err(e)) => return Err(export_failed(&e)),
        first => first,
    };
    let rest = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let stream = futures_util::StreamExt::chain(futures_util::stream::iter(first), rest);
    Response::builder()
        .header(header::CONTENT_TYPE, format.content_type())
        .header(
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"spoor-export.{}\"",
                format.extension()
            ),
        )
        .header("spoor-pipeline-through-offset", freshness.through_offset)
        .header("spoor-pipeline-log-end", freshness.log_end)
        .header("spoor-pipeline-behind-records", freshness.behind_records)
        .body(Body::from_stream(stream))
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// The answer to an export that failed before its first chunk: 503 when the
/// pipeline's outputs changed under it (cleared for a rebuild after an erasure
/// or a replay, the files listed gone), so the client exports again; else 500.
fn export_failed(e: &AnalyticsError) -> ApiError {
    if e.is_vanished_file() {
        ApiError::unavailable(
            "outputs_changed",
            format!(
                "the pipeline's outputs changed while the export read them \
                 (a rebuild after an erasure, or a replay); export again: {e}"
            ),
            1,
        )
    } else {
        ApiError::internal(format!("the export failed: {e}"))
    }
}

/// A `Write` that hands full chunks to the response body, waiting while the
/// client is slow (backpressure) and failing once it has gone.
struct ChunkWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, AnalyticsError>>,
    buf: Vec<u8>,
    /// A chunk has gone to the client: a later failure can only cut the body.
    sent: bool,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(EXPORT_CHUNK),
        ));
        self.sent = true;
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the client closed the export",
            )
        })
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= EXPORT_CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_whose_files_went_away_is_a_503_to_retry_and_any_other_failure_a_500() {
        let gone = export_failed(&AnalyticsError::io(
            "raw/date=2026-05-03",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
        assert_eq!(gone.status, 503);
        assert_eq!(gone.code, "outputs_changed");
        assert_eq!(gone.retry_after, Some(1));
        let broken = export_failed(&AnalyticsError::Write(std::io::Error::other(
            "not a Parquet file",
        )));
        assert_eq!(broken.status, 500);
        assert!(broken.message.contains("not a Parquet file"));
    }
}
