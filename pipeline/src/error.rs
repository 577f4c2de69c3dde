//! Errors of the pipeline.

use std::path::{Path, PathBuf};

/// What can go wrong while consuming the log or writing outputs.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Reading the relay's log failed.
    #[error("reading the log: {0}")]
    Log(#[from] spoor_log::LogError),
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Writing or reading a Parquet file failed.
    #[error("parquet {path}: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What the parquet crate said.
        source: parquet::errors::ParquetError,
    },
    /// Building Arrow data failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A state file is unreadable.
    #[error("state file {path}: {message}")]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A schema file of the registry is unreadable.
    #[error("schema {file}: {message}")]
    Schema {
        /// The file name.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A file the pipeline wrote does not hold what it should (a column missing or of
    /// another type).
    #[error("{path}: {message}")]
    Content {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The pipeline thread stopped abnormally.
    #[error("the pipeline thread panicked")]
    Panicked,
    /// Another pipeline (a `spoor up`, `spoor pipeline` or `spoor replay`) works on this data
    /// directory; two would overwrite each other's outputs.
    #[error("another pipeline holds {0}; stop it first (only one may run per data directory)")]
    Busy(PathBuf),
}

impl PipelineError {
    pub(crate) fn io(op: &'static str, path: &Path, source: std::io::Error) -> Self {
        PipelineError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn parquet(path: &Path, source: parquet::errors::ParquetError) -> Self {
        PipelineError::Parquet {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn content(path: &Path, message: impl Into<String>) -> Self {
        PipelineError::Content {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub(crate) fn state(path: &Path, message: impl Into<String>) -> Self {
        PipelineError::State {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    /// True when a file operation found no such file (a file listed, then merged away).
    pub fn is_not_found(&self) -> bool {
        matches!(self, PipelineError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}
