//! Errors of the core's API.

use crate::storage::StorageError;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A required field is empty (`eventName` of a track or screen, `groupId`, alias `userId`).
    #[error("{0} is required and must not be empty")]
    MissingField(&'static str),
    /// The serialized event is over the per-event limit.
    #[error("event is {size} bytes, over the limit of {limit} bytes")]
    EventTooLarge {
        /// Size of the serialized event.
        size: usize,
        /// The configured `max_event_bytes`.
        limit: usize,
    },
    /// The client was shut down; it takes no more events.
    #[error("the client is shut down")]
    ShutDown,
    /// The storage failed; the change stays staged and is retried at the next commit.
    #[error(transparent)]
    Storage(#[from] StorageError),
}
