//! Queue sizes and counters, for an app's diagnostics screen and for tests.

/// A snapshot of the client's queue and counters since it was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SpoorStats {
    /// Events stored and not yet acknowledged by the relay (including those being sent).
    pub queued: i64,
    /// Bytes of the queued events.
    pub queued_bytes: i64,
    /// Events held in memory until the user decides on consent.
    pub awaiting_consent: i64,
    /// Events in the batch being sent.
    pub in_flight: i64,
    /// Events the relay acknowledged.
    pub delivered: i64,
    /// Batches sent (including retries).
    pub batches_sent: i64,
    /// Sends that failed and will be retried.
    pub send_failures: i64,
    /// Events dropped because the queue was full (oldest first).
    pub dropped_queue_full: i64,
    /// Events the relay refused for good (a 4xx other than 408 or 429).
    pub dropped_rejected: i64,
    /// Events dropped from the full in-memory buffer while consent was pending.
    pub dropped_awaiting_consent: i64,
    /// Events discarded because their consent category was denied.
    pub discarded_no_consent: i64,
    /// Queued events deleted because consent was withdrawn.
    pub purged: i64,
    /// Calls dropped because the background thread was far behind.
    pub dropped_overloaded: i64,
    /// Calls the core refused on the background thread (e.g. an event over the size limit).
    pub refused: i64,
    /// Failed writes to the queue (each is retried).
    pub storage_errors: i64,
}

impl From<spoor::Stats> for SpoorStats {
    fn from(stats: spoor::Stats) -> Self {
        let core = stats.core;
        SpoorStats {
            queued: signed(core.queued as u64),
            queued_bytes: signed(core.queued_bytes as u64),
            awaiting_consent: signed(core.awaiting_consent as u64),
            in_flight: signed(core.in_flight as u64),
            delivered: signed(core.delivered),
            batches_sent: signed(core.batches_sent),
            send_failures: signed(core.send_failures),
            dropped_queue_full: signed(core.dropped_queue_full),
            dropped_rejected: signed(core.dropped_rejected),
            dropped_awaiting_consent: signed(core.dropped_awaiting_consent),
            discarded_no_consent: signed(core.discarded_no_consent),
            purged: signed(core.purged),
            dropped_overloaded: signed(stats.dropped_overloaded),
            refused: signed(stats.refused),
            storage_errors: signed(stats.storage_errors),
        }
    }
}

/// Counters as Kotlin `Long` / Swift `Int64` (they never get near `i64::MAX`).
fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
