//! Counters of the pipeline, committed with the position (so they count each record once).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::PipelineError;

/// What the pipeline has seen, as of the committed offset.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Metrics {
    /// Log records consumed.
    pub records: u64,
    /// Records that are not events (not JSON, missing fields); skipped.
    pub unreadable: u64,
    /// Events kept (not duplicates).
    pub events: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Events behind the watermark (kept in raw, not in realtime; in the live session they
    /// fall into, else placed in a session by the batch path).
    pub late_events: u64,
    /// Late events the batch path placed in sessions.
    pub late_placed: u64,
    /// Sessions closed.
    pub sessions_closed: u64,
    /// Identity links learned.
    pub identities_linked: u64,
    /// Ranges committed.
    pub commits: u64,
}

impl Metrics {
    /// Duplicates among the readable events (0 when there are none).
    pub fn duplicate_rate(&self) -> f64 {
        let total = self.events + self.duplicates;
        if total == 0 {
            0.0
        } else {
            self.duplicates as f64 / total as f64
        }
    }

    /// Late events among the kept events.
    pub fn late_rate(&self) -> f64 {
        if self.events == 0 {
            0.0
        } else {
            self.late_events as f64 / self.events as f64
        }
    }

    /// Prometheus text lines (`spoor_pipeline_*`).
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, v: u64| {
            out.push_str(&format!(
                "# HELP spoor_pipeline_{name} {help}\n# TYPE spoor_pipeline_{name} counter\nspoor_pipeline_{name}_total {v}\n"
            ));
        };
        counter("records", "Log records consumed.", self.records);
        counter(
            "unreadable_records",
            "Log records that are not events.",
            self.unreadable,
        );
        counter("events", "Events kept after dedupe.", self.events);
        counter("duplicates", "Duplicate events dropped.", self.duplicates);
        counter(
            "late_events",
            "Events behind the watermark.",
            self.late_events,
        );
        counter(
            "late_events_placed",
            "Late events the batch path placed in sessions.",
            self.late_placed,
        );
        counter("sessions_closed", "Sessions closed.", self.sessions_closed);
        counter(
            "identity_links",
            "Identity links learned.",
            self.identities_linked,
        );
        counter("commits", "Log ranges committed.", self.commits);
        out
    }
}

/// The metrics as of the last commit in `data_dir` (zeros before the first).
pub fn read(data_dir: &Path) -> Result<Metrics, PipelineError> {
    Ok(read_committed(data_dir)?.unwrap_or_default().metrics)
}

/// What the last commit in a data directory recorded for readers.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Committed {
    /// The committed log offset: the outputs hold every record below it.
    #[serde(default)]
    pub offset: u64,
    /// The counters as of that commit.
    #[serde(default)]
    pub metrics: Metrics,
}

/// The offset and metrics of the last commit in `data_dir`, `None` when no pipeline has
/// committed there. Reads only those from the checkpoint (not its live sessions into memory).
pub fn read_committed(data_dir: &Path) -> Result<Option<Committed>, PipelineError> {
    let path = crate::layout::Layout::new(data_dir).checkpoint();
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<Committed>(&bytes)
            .map(Some)
            .map_err(|e| PipelineError::state(&path, e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(PipelineError::io("read", &path, e)),
    }
}
