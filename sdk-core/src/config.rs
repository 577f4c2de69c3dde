//! Client configuration, with the defaults from DESIGN.md.

use alloc::string::String;
use core::time::Duration;

use crate::json::Properties;

/// Which SDK produced an event; sent as `context.library`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    /// Library name, e.g. `spoor-rust`, `spoor-browser`, `spoor-android`.
    pub name: String,
    /// Library version.
    pub version: String,
}

impl Default for Library {
    fn default() -> Self {
        Library {
            name: String::from("spoor-core"),
            version: String::from(env!("CARGO_PKG_VERSION")),
        }
    }
}

/// What the core does with events before the user has made a consent decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsentMode {
    /// Nothing is stored or sent until [`Client::set_consent`](crate::Client::set_consent);
    /// events wait in a bounded in-memory buffer meanwhile. The default.
    #[default]
    RequireDecision,
    /// Every category counts as granted until the first `set_consent` call
    /// (for backend services and apps with consent handled elsewhere).
    GrantedUntilDecided,
}

/// Client settings. `Config::default()` gives the DESIGN.md client defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Sent as `context.library` on every event.
    pub library: Library,
    /// Context the host adds to every event (app, device, os, locale, ...).
    /// Per-event context is merged over it; `library` and `sessionId` are set by the core.
    pub context: Properties,
    /// Send as soon as this many events are queued. Default 20.
    pub flush_at: usize,
    /// Send queued events at the latest this long after the oldest was queued. Default 10 s.
    pub flush_interval: Duration,
    /// At most this many events per batch (the relay's SDK limit). Default 100.
    pub max_batch_events: usize,
    /// At most this many bytes per batch request body. Default 500 KiB.
    pub max_batch_bytes: usize,
    /// Larger events are refused at `track` time. Default 32 KiB (the relay's limit).
    pub max_event_bytes: usize,
    /// Queue bound by count; the oldest are dropped (and counted) beyond it. Default 10,000.
    pub max_queue_events: usize,
    /// Queue bound by bytes of serialized events; the oldest are dropped beyond it. Default 10 MiB.
    pub max_queue_bytes: usize,
    /// Bound of the in-memory pre-consent buffer; the oldest are dropped beyond it. Default 1,000.
    pub max_pending_events: usize,
    /// Retry backoff base: the first retry waits up to this long. Default 1 s.
    pub retry_base: Duration,
    /// Retry backoff cap, also the longest Retry-After honoured. Default 5 min.
    pub retry_cap: Duration,
    /// A new session starts after this long without events. Default 30 min.
    pub session_timeout: Duration,
    /// Consent behaviour before the user decides. Default [`ConsentMode::RequireDecision`].
    pub consent_mode: ConsentMode,
    /// Category of events that name none. Default `"analytics"`.
    pub default_category: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            library: Library::default(),
            context: Properties::new(),
            flush_at: 20,
            flush_interval: Duration::from_secs(10),
            max_batch_events: 100,
            max_batch_bytes: 500 * 1024,
            max_event_bytes: 32 * 1024,
            max_queue_events: 10_000,
            max_queue_bytes: 10 * 1024 * 1024,
            max_pending_events: 1_000,
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(5 * 60),
            session_timeout: Duration::from_secs(30 * 60),
            consent_mode: ConsentMode::RequireDecision,
            default_category: String::from("analytics"),
        }
    }
}
