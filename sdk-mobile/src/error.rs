//! The one error type apps see: `SpoorException` in Kotlin, `SpoorError` in Swift.
//!
//! It is a flat UniFFI error: each variant carries the full message, so
//! `e.message` in Kotlin (and `localizedDescription` in Swift) says what went
//! wrong and which argument or path caused it.

/// Why a call failed.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum SpoorError {
    /// An argument is not acceptable: an empty event name, a number that is not
    /// finite, values nested too deep, an event over the size limit, a bad setting.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The data directory or the queue in it cannot be created, opened or written.
    #[error("storage: {0}")]
    Storage(String),
    /// The client was shut down and takes no more calls.
    #[error("the Spoor client is shut down")]
    Closed,
    /// The background thread is far behind; this call was dropped (and counted).
    #[error("the Spoor client is overloaded; the call was dropped")]
    Overloaded,
    /// The background thread or HTTP client could not be started.
    #[error("cannot start the Spoor client: {0}")]
    Start(String),
}

impl From<spoor::Error> for SpoorError {
    fn from(error: spoor::Error) -> Self {
        match error {
            spoor::Error::Closed => SpoorError::Closed,
            spoor::Error::Overloaded => SpoorError::Overloaded,
            spoor::Error::Core(core) => match core {
                spoor_core::Error::MissingField(_) | spoor_core::Error::EventTooLarge { .. } => {
                    SpoorError::InvalidArgument(core.to_string())
                }
                spoor_core::Error::ShutDown => SpoorError::Closed,
                spoor_core::Error::Storage(storage) => {
                    let text = chain(&storage);
                    // This variant's message already starts with "storage: ".
                    let text = text.strip_prefix("storage: ").unwrap_or(&text);
                    SpoorError::Storage(text.to_string())
                }
            },
            other => SpoorError::Start(chain(&other)),
        }
    }
}

/// An error and its causes on one line: `sqlite open: unable to open database file`.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
