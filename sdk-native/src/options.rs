//! How to start the SDK: relay endpoint, write key, queue location, core config.

use std::path::PathBuf;
use std::time::Duration;

use spoor_core::{Config, ConsentMode, Library};

/// Where the queue lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueStore {
    /// In memory: lost when the process exits (fine for tests and short scripts).
    Memory,
    /// An SQLite file: unacknowledged events survive a restart and are resent.
    Sqlite(PathBuf),
}

/// Settings of a [`Spoor`](crate::Spoor) client.
#[derive(Debug, Clone)]
pub struct Options {
    /// Base URL of the relay, e.g. `http://127.0.0.1:8080`; batches go to `{endpoint}/api/events/batch`.
    pub endpoint: String,
    /// The source's write key, sent as a Bearer token.
    pub write_key: String,
    /// The queue. Default [`QueueStore::Memory`]; use [`Options::queue_path`] for SQLite.
    pub queue: QueueStore,
    /// The core's settings. Defaults: DESIGN.md client defaults, library
    /// `spoor-rust`, and [`ConsentMode::GrantedUntilDecided`] (a backend usually
    /// has consent recorded elsewhere; call `set_consent` to narrow it).
    pub config: Config,
    /// Time limit of one HTTP request (connect, send, answer). Default 10 s.
    pub request_timeout: Duration,
    /// Calls buffered between the calling threads and the background task;
    /// beyond it calls are dropped and counted rather than blocking. Default 100,000.
    pub channel_capacity: usize,
    /// How long the task keeps sending after the last handle is dropped. Default 5 s.
    pub drop_timeout: Duration,
}

impl Options {
    /// Options for a relay at `endpoint` with `write_key`, everything else default.
    pub fn new(endpoint: impl Into<String>, write_key: impl Into<String>) -> Self {
        let config = Config {
            library: Library {
                name: String::from("spoor-rust"),
                version: String::from(env!("CARGO_PKG_VERSION")),
            },
            consent_mode: ConsentMode::GrantedUntilDecided,
            ..Config::default()
        };
        Options {
            endpoint: endpoint.into(),
            write_key: write_key.into(),
            queue: QueueStore::Memory,
            config,
            request_timeout: Duration::from_secs(10),
            channel_capacity: 100_000,
            drop_timeout: Duration::from_secs(5),
        }
    }

    /// Keeps the queue in an SQLite file at `path` (created if missing).
    pub fn queue_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.queue = QueueStore::Sqlite(path.into());
        self
    }

    /// The URL batches are posted to.
    pub fn batch_url(&self) -> String {
        format!("{}/api/events/batch", self.endpoint.trim_end_matches('/'))
    }
}
