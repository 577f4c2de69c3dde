//! Liveness and metrics routes.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use spoor_pipeline::checkpoint::Freshness;

use crate::server::RelayState;

/// `GET /healthz`: the process is up and serving.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /metrics`: Prometheus text format; with the pipeline's counters (`spoor_pipeline_*`, as
/// of its last commit) and how far behind the log it is, when one has committed in the data
/// directory.
pub async fn metrics(State(state): State<Arc<RelayState>>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    let data_dir = state.config.data_dir.clone();
    let log_end = state.log.durable_offset().load(Ordering::Acquire);
    let pipeline =
        tokio::task::spawn_blocking(move || spoor_pipeline::metrics::read_committed(&data_dir))
            .await;
    let section = match pipeline {
        Ok(Ok(Some(c))) => {
            c.metrics.prometheus() + &Freshness::new(c.offset, log_end).prometheus()
        }
        Ok(Ok(None)) => String::new(),
        // The checkpoint could not be read: say so rather than leave the counters out silently.
        Ok(Err(_)) | Err(_) => "# HELP spoor_pipeline_checkpoint_unreadable The pipeline's checkpoint could not be read.\n\
             # TYPE spoor_pipeline_checkpoint_unreadable gauge\n\
             spoor_pipeline_checkpoint_unreadable 1\n"
            .to_string(),
    };
    // OpenMetrics ends with `# EOF`: the pipeline's families go before it.
    let at = text.rfind("# EOF").unwrap_or(text.len());
    text.insert_str(at, &section);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
}

/// `GET /`: the dashboard (one static page that reads the analytics API with the read key).
pub async fn dashboard() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../assets/dashboard.html"),
    )
}
