//! How the pipeline runs; every field has a default.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Pipeline settings (`[pipeline]` in spoor.toml); all durations in the units their names say.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// A new session starts after this much inactivity (event time).
    pub session_timeout_secs: u64,
    /// Events this far behind the newest event time still count in sessions and realtime aggregates.
    pub allowed_lateness_secs: u64,
    /// Closed sessions stay in memory this long (event time past their end plus the timeout)
    /// so that an event later than the allowed lateness re-opens the one it falls into as it
    /// streams by; older ones are left to the batch pass after the commit, which rewrites
    /// files. About 500 bytes of memory per session kept; 0 leaves every such event to the
    /// batch pass.
    pub recent_session_hours: u32,
    /// Duplicates of an event are dropped for this long after it arrived.
    pub dedupe_window_hours: u32,
    /// Upper bound on fingerprints kept; past it the oldest hours are dropped early.
    pub dedupe_max_entries: usize,
    /// Most records processed and committed as one range.
    pub max_batch_records: usize,
    /// How long to wait before looking at the log again when it has nothing new.
    pub poll_interval_ms: u64,
    /// While catching up, commit (sync the outputs, write the checkpoint) at most this often;
    /// a run that reaches the log's end commits at once. A crash redoes the ranges since the
    /// last commit. 0 commits every range.
    pub commit_interval_ms: u64,
    /// Compact a partition once it holds this many files.
    pub compact_min_files: usize,
    /// Threads for parsing and Parquet encoding (0 = number of cores).
    pub threads: usize,
    /// Zstd level of the Parquet files.
    pub zstd_level: i32,
    /// Records at or past this offset are not read yet: the relay's durable end, when it runs in
    /// the same process (`Relay::durable_offset`). `None` reads whatever is in the files.
    #[serde(skip)]
    pub durable_offset: Option<Arc<AtomicU64>>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            session_timeout_secs: 30 * 60,
            allowed_lateness_secs: 60 * 60,
            recent_session_hours: 3,
            dedupe_window_hours: 7 * 24,
            dedupe_max_entries: 50_000_000,
            max_batch_records: 40_000,
            poll_interval_ms: 1000,
            commit_interval_ms: 10_000,
            compact_min_files: 8,
            threads: 0,
            zstd_level: 1,
            durable_offset: None,
        }
    }
}

impl PipelineConfig {
    /// Session timeout in milliseconds.
    pub fn session_timeout_ms(&self) -> i64 {
        (self.session_timeout_secs as i64).saturating_mul(1000)
    }

    /// Allowed lateness in milliseconds.
    pub fn allowed_lateness_ms(&self) -> i64 {
        (self.allowed_lateness_secs as i64).saturating_mul(1000)
    }

    /// How long closed sessions stay re-openable, in milliseconds.
    pub fn recent_session_ms(&self) -> i64 {
        i64::from(self.recent_session_hours).saturating_mul(crate::timefmt::HOUR_MS)
    }

    /// The poll interval.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    /// The commit interval.
    pub fn commit_interval(&self) -> Duration {
        Duration::from_millis(self.commit_interval_ms)
    }

    /// Threads to use.
    pub fn thread_count(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }
}
