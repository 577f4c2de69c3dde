//! Prometheus metrics, served at `GET /metrics` in the text format.

use std::collections::HashMap;

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

/// Label: which log (`events` or `dead_letter`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LogLabel {
    /// Log name.
    pub log: &'static str,
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
    /// Ingestion answers by status (their rate is the ingestion QPS).
    pub responses: Family<StatusLabel, Counter>,
    /// Seconds from an ingestion request's start to its answer.
    pub request_seconds: Histogram,
    /// Seconds from a request's records being handed to the log to their fsync.
    pub commit_seconds: Histogram,
    /// Records in the log (next offset).
    pub log_records: Gauge,
    /// Bytes written to each log, framing included.
    pub log_bytes: Family<LogLabel, Counter>,
    /// Seconds each fsync of a group took, by log.
    pub fsync_seconds: Family<LogLabel, Histogram>,
    /// `accepted` resolved once per configured source, so counting allocates nothing.
    accepted_by_source: HashMap<String, Counter>,
}

impl Metrics {
    /// Metrics for a relay whose write keys belong to `sources`.
    pub fn new<'a>(sources: impl IntoIterator<Item = &'a str>) -> Self {
        let mut registry = Registry::with_prefix("spoor");
        let accepted = Family::<SourceLabel, Counter>::default();
        let rejected = Family::<ReasonLabel, Counter>::default();
        let deprecated = Counter::default();
        let flagged = Counter::default();
        let sdk_dropped = Counter::default();
        let responses = Family::<StatusLabel, Counter>::default();
        let request_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let commit_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let log_records = Gauge::default();
        let log_bytes = Family::<LogLabel, Counter>::default();
        let fsync_seconds =
            Family::<LogLabel, Histogram>::new_with_constructor(seconds_histogram as fn() -> _);
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
            "ingest_request_seconds",
            "Time from an ingestion request's start to its answer",
            request_seconds.clone(),
        );
        registry.register(
            "log_bytes_written",
            "Bytes written to the log, framing included",
            log_bytes.clone(),
        );
        registry.register(
            "log_fsync_seconds",
            "Time each group's fsync took",
            fsync_seconds.clone(),
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
        let accepted_by_source = sources
            .into_iter()
            .map(|source| {
                let counter = accepted
                    .get_or_create(&SourceLabel {
                        source: source.to_string(),
                    })
                    .clone();
                (source.to_string(), counter)
            })
            .collect();
        Metrics {
            registry,
            accepted_by_source,
            accepted,
            rejected,
            deprecated,
            flagged,
            sdk_dropped,
            responses,
            request_seconds,
            commit_seconds,
            log_records,
            log_bytes,
            fsync_seconds,
        }
    }

    /// The counter of events accepted from `source` (resolved at start for
    /// configured sources, so a request allocates no label).
    pub fn accepted_counter(&self, source: &str) -> Counter {
        match self.accepted_by_source.get(source) {
            Some(counter) => counter.clone(),
            None => self
                .accepted
                .get_or_create(&SourceLabel {
                    source: source.to_string(),
                })
                .clone(),
        }
    }

    /// Feeds the bytes and fsync time of each group written to `log` into the metrics.
    pub fn log_observer(&self, log: &'static str) -> spoor_log::Observer {
        let label = LogLabel { log };
        let bytes = self.log_bytes.get_or_create(&label).clone();
        let fsync = self.fsync_seconds.get_or_create(&label).clone();
        Box::new(move |group| {
            bytes.inc_by(group.bytes);
            fsync.observe(group.fsync.as_secs_f64());
        })
    }

    /// The metrics in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.00005, 2.0, 16))
}
