//! Errors of the backend SDK.

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client was shut down (or its task ended); it takes no more calls.
    #[error("the spoor client is shut down")]
    Closed,
    /// Too many calls are waiting for the background task; this one was dropped (and counted).
    #[error("the spoor client is overloaded; the call was dropped")]
    Overloaded,
    /// The core refused to start (storage could not be opened or read).
    #[error(transparent)]
    Core(#[from] spoor_core::Error),
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// The background thread of the blocking client could not start.
    #[error("cannot start the background thread: {0}")]
    Thread(#[from] std::io::Error),
    /// A flush did not finish within its timeout.
    #[error("flush timed out")]
    FlushTimeout,
}
