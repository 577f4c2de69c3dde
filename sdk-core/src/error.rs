//! Errors of the core's API.

use alloc::string::String;

use crate::storage::StorageError;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A required field is empty (`eventName` of a track or screen, `groupId`, alias `userId`).
    #[error("{}", self.message())]
    MissingField(&'static str),
    /// The serialized event is over the per-event limit.
    #[error("{}", self.message())]
    EventTooLarge {
        /// Size of the serialized event.
        size: usize,
        /// The configured `max_event_bytes`.
        limit: usize,
    },
    /// The client was shut down; it takes no more events.
    #[error("{}", self.message())]
    ShutDown,
    /// The storage failed; the change stays staged and is retried at the next commit.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Error {
    /// The message (`Display` writes it), built without `core::fmt`, which the
    /// browser SDK's WASM leaves out.
    pub fn message(&self) -> String {
        let mut out = String::new();
        match self {
            Error::MissingField(field) => {
                out.push_str(field);
                out.push_str(" is required and must not be empty");
            }
            Error::EventTooLarge { size, limit } => {
                out.push_str("event is ");
                out.push_str(itoa::Buffer::new().format(*size));
                out.push_str(" bytes, over the limit of ");
                out.push_str(itoa::Buffer::new().format(*limit));
                out.push_str(" bytes");
            }
            Error::ShutDown => out.push_str("the client is shut down"),
            Error::Storage(error) => {
                out.push_str("storage: ");
                out.push_str(error.message());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::JsonError;

    #[test]
    fn message_is_the_display_text() {
        for error in [
            Error::MissingField("eventName"),
            Error::EventTooLarge {
                size: 40_001,
                limit: 32_768,
            },
            Error::ShutDown,
            Error::Storage(StorageError::new("disk full")),
            Error::Storage(StorageError::with_source(
                "sqlite write",
                std::io::Error::other("io"),
            )),
        ] {
            assert_eq!(error.message(), error.to_string());
        }
        for error in [
            JsonError::Invalid,
            JsonError::LoneSurrogate,
            JsonError::NotAnObject,
            JsonError::NumberOutOfRange,
        ] {
            assert_eq!(error.as_str(), error.to_string());
        }
        // The texts themselves, as callers and the browser SDK's `onError` see them.
        assert_eq!(
            Error::EventTooLarge {
                size: 40_001,
                limit: 32_768
            }
            .message(),
            "event is 40001 bytes, over the limit of 32768 bytes"
        );
        assert_eq!(
            Error::MissingField("eventName").to_string(),
            "eventName is required and must not be empty"
        );
        assert_eq!(JsonError::Invalid.to_string(), "not valid JSON");
    }
}
