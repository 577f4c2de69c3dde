//! The committed position and the live state, in `state/checkpoint.json`.
//!
//! Writing this file (temp file, fsync, rename, fsync the folder) is the
//! commit: everything of ranges before `offset` is durable by then.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dedupe::DedupeCursor;
use crate::error::PipelineError;
use crate::layout::Layout;
use crate::metrics::Metrics;
use crate::range_file;
use crate::realtime::Minute;
use crate::sessionize::Session;

const VERSION: u32 = 1;

/// Everything needed to resume after `offset`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Checkpoint {
    /// Format version.
    pub version: u32,
    /// Records before this offset are done; the next range starts here.
    pub offset: u64,
    /// A replay in progress rebuilds state without writing files until this offset.
    pub emit_from: u64,
    /// Newest capped event time seen (epoch ms).
    pub max_event_time: Option<i64>,
    /// Dedupe window position.
    pub dedupe: DedupeCursor,
    /// Live sessions.
    pub sessions: Vec<Session>,
    /// Open realtime minutes.
    pub realtime: BTreeMap<i64, Minute>,
    /// Counters.
    pub metrics: Metrics,
    /// Raw hours holding late events the batch path has not placed in sessions yet.
    pub late_hours: BTreeSet<String>,
    /// Sessions re-opened by late events whose older rows the batch pass has not removed yet:
    /// (first log offset of the range of the file holding the row, session id).
    pub reopened_sessions: BTreeSet<(u64, u64)>,
    /// Hours (starts, epoch ms) holding events later than the allowed lateness that the
    /// realtime aggregates' batch path has not counted again yet.
    pub realtime_late_hours: BTreeSet<i64>,
    /// Bytes of the log's ledger of erased users these outputs were built after
    /// (see [`crate::erasure`]); a longer ledger makes the pipeline rebuild.
    pub erasures: u64,
}

impl Checkpoint {
    /// The checkpoint of `layout`, or an empty one before the first commit.
    pub fn load(layout: &Layout) -> Result<Checkpoint, PipelineError> {
        let path = layout.checkpoint();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let cp: Checkpoint = serde_json::from_slice(&bytes)
                    .map_err(|e| PipelineError::state(&path, e.to_string()))?;
                if cp.version != VERSION {
                    return Err(PipelineError::state(
                        &path,
                        format!("unknown version {}", cp.version),
                    ));
                }
                Ok(cp)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Checkpoint {
                version: VERSION,
                ..Checkpoint::default()
            }),
            Err(e) => Err(PipelineError::io("read", &path, e)),
        }
    }

    /// Writes the checkpoint atomically: the commit point.
    pub fn store(&mut self, layout: &Layout) -> Result<(), PipelineError> {
        self.version = VERSION;
        let dir = layout.state();
        range_file::create_dir_durable(&dir)?;
        // Streamed: with many live sessions the JSON runs to tens of megabytes.
        range_file::write_atomic_with(&layout.checkpoint(), |file| {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            serde_json::to_writer(&mut out, self)?;
            out.flush()
        })?;
        range_file::sync_dir(&dir)
    }
}

/// The committed offset of `data_dir` (0 before the first commit).
pub fn committed_offset(data_dir: &Path) -> Result<u64, PipelineError> {
    Ok(crate::metrics::read_committed(data_dir)?.map_or(0, |c| c.offset))
}

/// How far the pipeline's outputs reach into the log: what analytics answers are built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Freshness {
    /// The outputs hold every record below this offset (the committed offset).
    pub through_offset: u64,
    /// Records below this offset are in the log.
    pub log_end: u64,
    /// Records in the log the outputs do not hold yet: the pipeline catching up, or
    /// rebuilding everything from offset 0 after a user was erased.
    pub behind_records: u64,
}

impl Freshness {
    /// Outputs holding the records below `through_offset` of a log whose records below
    /// `log_end` are durable.
    pub fn new(through_offset: u64, log_end: u64) -> Freshness {
        Freshness {
            through_offset,
            log_end,
            behind_records: log_end.saturating_sub(through_offset),
        }
    }

    /// The outputs of `data_dir` against a log whose records below `log_end` are durable.
    pub fn read(data_dir: &Path, log_end: u64) -> Result<Freshness, PipelineError> {
        Ok(Freshness::new(committed_offset(data_dir)?, log_end))
    }

    /// Prometheus text lines (`spoor_pipeline_committed_offset`, `spoor_pipeline_behind_records`).
    pub fn prometheus(&self) -> String {
        format!(
            "# HELP spoor_pipeline_committed_offset The log offset the pipeline's outputs hold every record below.\n\
             # TYPE spoor_pipeline_committed_offset gauge\n\
             spoor_pipeline_committed_offset {}\n\
             # HELP spoor_pipeline_behind_records Durable log records the pipeline's outputs do not hold yet.\n\
             # TYPE spoor_pipeline_behind_records gauge\n\
             spoor_pipeline_behind_records {}\n",
            self.through_offset, self.behind_records
        )
    }
}
