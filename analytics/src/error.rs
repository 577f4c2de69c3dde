//! Errors of the analytics library.

use std::path::PathBuf;

/// A query parameter that is missing, malformed or out of range; names the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad parameter `{param}`: {message}")]
pub struct ParamError {
    /// The parameter's name as written in the query string (`window`, `steps`, ...).
    pub param: String,
    /// What is wrong with it.
    pub message: String,
}

impl ParamError {
    /// A new error for `param`.
    pub fn new(param: &str, message: impl Into<String>) -> ParamError {
        ParamError {
            param: param.to_string(),
            message: message.into(),
        }
    }
}

/// Anything that can go wrong while answering a query or an export.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// A bad query parameter (maps to HTTP 400).
    #[error(transparent)]
    Param(#[from] ParamError),
    /// Reading the data directory failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A Parquet file could not be read or written.
    #[error("parquet file {path}: {source}")]
    Parquet {
        /// The file (empty for an export's output).
        path: PathBuf,
        /// The cause.
        source: parquet::errors::ParquetError,
    },
    /// A column has a type the analytics cannot read.
    #[error("{path}: column `{column}` has unsupported type {found}")]
    ColumnType {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// The Arrow type found.
        found: String,
    },
    /// The identity links could not be read.
    #[error("reading the identity links: {0}")]
    Identities(#[source] spoor_pipeline::PipelineError),
    /// An Arrow kernel failed (export filtering and casting).
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// Writing the output of an export failed.
    #[error("writing the export: {0}")]
    Write(std::io::Error),
}

impl AnalyticsError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> AnalyticsError {
        AnalyticsError::Io {
            path: path.into(),
            source,
        }
    }

    /// True when a file that was listed was gone when it was opened: the pipeline
    /// merged it away meanwhile, and reading again from a new listing succeeds
    /// (see `spoor_pipeline::range_file::retry_vanished`).
    pub fn is_vanished_file(&self) -> bool {
        matches!(self, AnalyticsError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}
