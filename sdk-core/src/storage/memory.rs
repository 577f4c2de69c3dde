//! A storage in memory: for tests, and hosts that accept losing the queue on exit.

use alloc::collections::BTreeMap;
use alloc::string::String;

use super::{QueuedEvent, Snapshot, Storage, StorageError, WriteBatch};

/// Keeps the queue in memory. Survives a [`Client`](crate::Client) restart
/// (take it back with [`Client::into_storage`](crate::Client::into_storage)),
/// not a process exit.
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    events: BTreeMap<u64, QueuedEvent>,
    meta: BTreeMap<String, String>,
    writes: u64,
}

impl MemoryStorage {
    /// An empty storage.
    pub fn new() -> Self {
        MemoryStorage::default()
    }

    /// Events stored now, in queue order.
    pub fn events(&self) -> impl Iterator<Item = &QueuedEvent> {
        self.events.values()
    }

    /// A stored meta value.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta.get(key).map(String::as_str)
    }

    /// How many write batches were applied (to check batching).
    pub fn writes(&self) -> u64 {
        self.writes
    }
}

impl Storage for MemoryStorage {
    fn load(&mut self) -> Result<Snapshot, StorageError> {
        Ok(Snapshot {
            events: self.events.values().cloned().collect(),
            meta: self
                .meta
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    fn apply(&mut self, batch: &WriteBatch) -> Result<(), StorageError> {
        for seq in &batch.remove {
            self.events.remove(seq);
        }
        for event in &batch.append {
            self.events.insert(event.seq, event.clone());
        }
        for (key, value) in &batch.meta {
            match value {
                Some(value) => self.meta.insert(key.clone(), value.clone()),
                None => self.meta.remove(key),
            };
        }
        self.writes += 1;
        Ok(())
    }
}
