//! Where the queue and the client's small persistent state live.
//!
//! The core keeps the queue in memory and writes every change through a
//! [`Storage`] in one atomic [`WriteBatch`] per commit (see
//! [`Client::commit`](crate::Client::commit)); on start it reads everything
//! back with [`Storage::load`]. So an implementation only needs "load all"
//! and "apply this batch atomically", which SQLite, IndexedDB (behind a
//! write-behind mirror), localStorage or a file can all do.
//!
//! Events of a category without consent never reach a `Storage`.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

mod memory;
mod meta;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryStorage;
pub use meta::{Meta, MetaIter};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStorage;

use crate::time::Timestamp;

/// One queued event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEvent {
    /// Queue position: increases with every event queued; the queue is sent in this order.
    pub seq: u64,
    /// The event's `eventId` (kept so a restart resends the same id).
    pub event_id: String,
    /// Consent category, so revoking consent can purge it.
    pub category: String,
    /// When it entered the queue (drives `flushInterval`).
    pub queued_at: Timestamp,
    /// The event as a JSON object, without `sentAt`.
    pub body: String,
}

/// Everything a storage holds, read once at start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Queued events, any order (the core sorts by `seq`).
    pub events: Vec<QueuedEvent>,
    /// Small persistent values: anonymousId, userId, consent, session, drop count.
    pub meta: Meta<String>,
}

/// Changes to apply atomically: all of them or none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    /// Events to add.
    pub append: Vec<QueuedEvent>,
    /// Sequence numbers of events to delete (acknowledged, dropped or purged).
    /// Never names an event in `append` of the same batch.
    pub remove: Vec<u64>,
    /// Meta values to set (`Some`) or delete (`None`).
    pub meta: Meta<Option<String>>,
}

impl WriteBatch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.append.is_empty() && self.remove.is_empty() && self.meta.is_empty()
    }
}

/// A storage failure, with its cause.
#[derive(Debug, thiserror::Error)]
#[error("storage: {message}")]
pub struct StorageError {
    message: String,
    #[source]
    source: Option<Box<dyn core::error::Error + Send + Sync + 'static>>,
}

impl StorageError {
    /// An error with a message and no underlying cause.
    pub fn new(message: impl Into<String>) -> Self {
        StorageError {
            message: message.into(),
            source: None,
        }
    }

    /// The message, without the cause.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// An error with a message and the underlying cause.
    pub fn with_source(
        message: impl Into<String>,
        source: impl core::error::Error + Send + Sync + 'static,
    ) -> Self {
        StorageError {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// Durable home of the queue and meta values.
pub trait Storage {
    /// Reads everything stored. Called once when a [`Client`](crate::Client) starts.
    fn load(&mut self) -> Result<Snapshot, StorageError>;

    /// Applies `batch` atomically: after an error nothing of it may be visible.
    fn apply(&mut self, batch: &WriteBatch) -> Result<(), StorageError>;
}

impl<T: Storage + ?Sized> Storage for Box<T> {
    fn load(&mut self) -> Result<Snapshot, StorageError> {
        (**self).load()
    }

    fn apply(&mut self, batch: &WriteBatch) -> Result<(), StorageError> {
        (**self).apply(batch)
    }
}
