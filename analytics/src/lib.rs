//! Spoor's analytics: funnels, retention, attribution and experiments over the
//! pipeline's Parquet, and streamed exports of raw events.
//!
//! Every query has a typed query struct that parses from a query-string map
//! (`from_params`, naming the bad parameter in its [`ParamError`]) and a report
//! that serializes to the JSON of the relay's `GET /api/analytics/*` routes. Each
//! computation is a pure function over an [`EventTable`] (`funnel::compute`, ...);
//! the top-level functions read what the query needs from a [`DataDir`] first.
//!
//! ```no_run
//! use std::collections::HashMap;
//! use spoor_analytics::{DataDir, FunnelQuery};
//!
//! let params: HashMap<String, String> = [("name", "checkout"), ("from", "2026-05-01"), ("to", "2026-05-08")]
//!     .into_iter()
//!     .map(|(k, v)| (k.to_string(), v.to_string()))
//!     .collect();
//! let query = FunnelQuery::from_params(&params)?;
//! let report = spoor_analytics::funnel(&DataDir::new("./spoor-data"), &query)?;
//! println!("{}", serde_json::to_string(&report)?); // {"name":"checkout","steps":[{"event":"view_product","count":..
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! See `docs/analytics.md` for the rules of each computation.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod attribution;
pub mod error;
pub mod experiment;
pub mod export;
pub mod funnel;
pub mod params;
pub mod retention;
pub mod stats;
pub mod store;
pub mod synth;
pub mod table;
pub mod time;

pub use attribution::{AttributionQuery, AttributionReport, Model};
pub use error::{AnalyticsError, ParamError};
pub use experiment::{ExperimentQuery, ExperimentReport};
pub use export::{ExportFormat, ExportProgress, ExportQuery, export};
pub use funnel::{FunnelCatalog, FunnelConfig, FunnelQuery, FunnelReport};
pub use params::TimeRange;
pub use retention::{Period, RetentionQuery, RetentionReport};
pub use store::DataDir;
pub use table::EventTable;

/// Computes a funnel from the data directory (`GET /api/analytics/funnel`).
pub fn funnel(data: &DataDir, query: &FunnelQuery) -> Result<FunnelReport, AnalyticsError> {
    funnel::run(data, query)
}

/// Computes retention cohorts from the data directory (`GET /api/analytics/retention`).
pub fn retention(
    data: &DataDir,
    query: &RetentionQuery,
) -> Result<RetentionReport, AnalyticsError> {
    retention::run(data, query)
}

/// Computes campaign attribution from the data directory (`GET /api/analytics/attribution`).
pub fn attribution(
    data: &DataDir,
    query: &AttributionQuery,
) -> Result<AttributionReport, AnalyticsError> {
    attribution::run(data, query)
}

/// Computes an experiment's results from the data directory (`GET /api/analytics/experiment`).
pub fn experiment(
    data: &DataDir,
    query: &ExperimentQuery,
) -> Result<ExperimentReport, AnalyticsError> {
    experiment::run(data, query)
}
