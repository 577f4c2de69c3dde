//! Where the pipeline reads and writes inside a data directory.

use std::path::{Path, PathBuf};

/// The paths of one data directory (see docs/pipeline.md).
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout of `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Layout {
            root: data_dir.to_path_buf(),
        }
    }

    /// `DATA/log`: the relay's event log.
    pub fn log(&self) -> PathBuf {
        self.root.join("log")
    }

    /// `DATA/raw`: Hive-partitioned Parquet of every deduplicated event.
    pub fn raw(&self) -> PathBuf {
        self.root.join("raw")
    }

    /// `DATA/tables`.
    pub fn tables(&self) -> PathBuf {
        self.root.join("tables")
    }

    /// `DATA/tables/sessions`.
    pub fn sessions(&self) -> PathBuf {
        self.tables().join("sessions")
    }

    /// `DATA/tables/identities`.
    pub fn identities(&self) -> PathBuf {
        self.tables().join("identities")
    }

    /// `DATA/tables/realtime`.
    pub fn realtime(&self) -> PathBuf {
        self.tables().join("realtime")
    }

    /// `DATA/state`.
    pub fn state(&self) -> PathBuf {
        self.root.join("state")
    }

    /// `DATA/state/dedupe`: fingerprints by log range.
    pub fn dedupe(&self) -> PathBuf {
        self.state().join("dedupe")
    }

    /// `DATA/state/checkpoint.json`: the committed position and live state.
    pub fn checkpoint(&self) -> PathBuf {
        self.state().join("checkpoint.json")
    }

    /// Every directory holding range-named outputs, except `raw` (walked recursively).
    pub fn range_dirs(&self) -> Vec<PathBuf> {
        vec![
            self.sessions(),
            self.identities(),
            self.realtime(),
            self.dedupe(),
        ]
    }
}
