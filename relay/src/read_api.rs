//! The read API, guarded by the read key: analytics from the pipeline's
//! processed tables (never the raw ingestion path).
//!
//! Queries run on the blocking pool: they read Parquet and may take a while.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::Serialize;
use serde_json::{Value, json};
use spoor_analytics::{
    AnalyticsError, AttributionQuery, DataDir, ExperimentQuery, FunnelQuery, ParamError,
    RetentionQuery,
};

use crate::error::ApiError;
use crate::server::RelayState;

type Params = Query<HashMap<String, String>>;

/// `GET /api/analytics/funnel?name=checkout` or `?steps=a,b,c&window=1h`.
pub async fn funnel(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    state.keys.require_read(&headers)?;
    let query = FunnelQuery::from_params(&params).map_err(bad_param)?;
    run(&state, move |data| spoor_analytics::funnel(data, &query)).await
}

/// `GET /api/analytics/retention`.
pub async fn retention(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    state.keys.require_read(&headers)?;
    let query = RetentionQuery::from_params(&params).map_err(bad_param)?;
    run(&state, move |data| spoor_analytics::retention(data, &query)).await
}

/// `GET /api/analytics/attribution`.
pub async fn attribution(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    state.keys.require_read(&headers)?;
    let query = AttributionQuery::from_params(&params).map_err(bad_param)?;
    run(&state, move |data| {
        spoor_analytics::attribution(data, &query)
    })
    .await
}

/// `GET /api/analytics/experiment?name=...`.
pub async fn experiment(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    state.keys.require_read(&headers)?;
    let query = ExperimentQuery::from_params(&params).map_err(bad_param)?;
    run(&state, move |data| {
        spoor_analytics::experiment(data, &query)
    })
    .await
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
    let data_dir = state.config.data_dir.clone();
    let rows = tokio::task::spawn_blocking(move || {
        let since = time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes);
        let since_ms = i64::try_from(since.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MIN);
        spoor_pipeline::realtime::read_since(&data_dir, since_ms)
    })
    .await
    .map_err(|e| ApiError::internal(format!("the realtime query stopped: {e}")))?
    .map_err(|e| ApiError::internal(format!("reading the realtime aggregates: {e}")))?;
    Ok(Json(json!({ "minutes": rows })))
}

async fn run<T, F>(state: &RelayState, query: F) -> Result<Json<Value>, ApiError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&DataDir) -> Result<T, AnalyticsError> + Send + 'static,
{
    let data = DataDir::new(&state.config.data_dir);
    let report = tokio::task::spawn_blocking(move || query(&data))
        .await
        .map_err(|e| ApiError::internal(format!("the query stopped: {e}")))?
        .map_err(|e| match e {
            AnalyticsError::Param(p) => bad_param(p),
            other => ApiError::internal(other.to_string()),
        })?;
    serde_json::to_value(report)
        .map(Json)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// A 400 that names the parameter.
pub fn bad_param(e: ParamError) -> ApiError {
    let mut error = ApiError::bad_request("invalid_parameter", e.to_string());
    error.details = Some(json!({ "parameter": e.param }));
    error
}
