//! Prometheus metrics, served at `GET /metrics` in the text format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Label: the source of a write key.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    /// Source name.
    pub source: String,
}

/// Label: why an event was refused.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// Rejection code.
    pub reason: String,
}

/// Label: an HTTP answer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    /// Status code.
    pub status: u16,
}

/// The relay's metrics.
pub struct Metrics {
    registry: Registry,
    /// Events written to the log, by source.
    pub accepted: Family<SourceLabel, Counter>,
    /// Events sent to the dead-letter log, by reason.
    pub rejected: Family<ReasonLabel, Counter>,
    /// Accepted events validated against a deprecated schema.
    pub deprecated: Counter,
    /// Accepted events carrying a quality flag.
    pub flagged: Counter,
    /// Events SDKs report having dropped from full queues.
    pub sdk_dropped: Counter,
    /// Ingestion answers by status.
    pub responses: Family<StatusLabel, Counter>,
    /// Seconds from a request's records being handed to the log to their fsync.
    pub commit_seconds: Histogram,
    /// Records in the log (next offset).
    pub log_records: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("spoor");
        let accepted = Family::<SourceLabel, Counter>::default();
        let rejected = Family::<ReasonLabel, Counter>::default();
        let deprecated = Counter::default();
        let flagged = Counter::default();
        let sdk_dropped = Counter::default();
        let responses = Family::<StatusLabel, Counter>::default();
        let commit_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let log_records = Gauge::default();
        registry.register(
            "events_accepted",
            "Events written to the log",
            accepted.clone(),
        );
        registry.register(
            "events_rejected",
            "Events written to the dead-letter log",
            rejected.clone(),
        );
        registry.register(
            "deprecated_events",
            "Accepted events on a deprecated schema",
            deprecated.clone(),
        );
        registry.register(
            "flagged_events",
            "Accepted events carrying a quality flag",
            flagged.clone(),
        );
        registry.register(
            "sdk_dropped_events",
            "Events SDKs dropped from full queues",
            sdk_dropped.clone(),
        );
        registry.register(
            "ingest_responses",
            "Ingestion answers by status",
            responses.clone(),
        );
        registry.register(
            "log_commit_seconds",
            "Time from hand-over to fsync",
            commit_seconds.clone(),
        );
        registry.register(
            "log_records",
            "Records in the event log",
            log_records.clone(),
        );
        Metrics {
            registry,
            accepted,
            rejected,
            deprecated,
            flagged,
            sdk_dropped,
            responses,
            commit_seconds,
            log_records,
        }
    }
}

impl Metrics {
    /// The metrics in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
