//! Errors of the event log.

use std::path::PathBuf;

/// What can go wrong with the log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// An I/O operation failed (a full disk shows up here as `StorageFull`).
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A segment before the last one is damaged; this is not a torn tail and is not repaired.
    #[error("segment {path} is corrupt at byte {position}")]
    Corrupt {
        /// The damaged segment.
        path: PathBuf,
        /// Where the bad record starts.
        position: u64,
    },
    /// An empty payload was appended; records always hold at least one byte.
    #[error("a log record cannot be empty")]
    EmptyRecord,
    /// The log's writer thread has stopped.
    #[error("the log writer has stopped")]
    Closed,
}

impl LogError {
    /// True when the failure is the disk being full (ENOSPC) or over quota.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, LogError::Io { source, .. }
            if matches!(source.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded))
    }

    pub(crate) fn io(op: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        LogError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}
