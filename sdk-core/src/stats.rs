//! Counters a host can show or export.

/// A snapshot of the client's queue and counters (since this client started).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events in the queue (stored, not yet acknowledged), including those in flight.
    pub queued: usize,
    /// Bytes of queued events.
    pub queued_bytes: usize,
    /// Events waiting in memory for a consent decision.
    pub awaiting_consent: usize,
    /// Events in the batch being sent.
    pub in_flight: usize,
    /// Events the relay acknowledged.
    pub delivered: u64,
    /// Batches handed to the host to send.
    pub batches_sent: u64,
    /// Sends that failed and will be retried.
    pub send_failures: u64,
    /// Events dropped because the queue was full (oldest first).
    pub dropped_queue_full: u64,
    /// Events dropped because the relay refused them for good (4xx other than 408/429).
    pub dropped_rejected: u64,
    /// Events dropped from the full pre-consent buffer.
    pub dropped_awaiting_consent: u64,
    /// Events discarded because their category was denied.
    pub discarded_no_consent: u64,
    /// Queued events purged because consent was revoked.
    pub purged: u64,
    /// Drops not yet reported to the relay (sent as `dropped` with the next batch).
    pub unreported_drops: u64,
}
