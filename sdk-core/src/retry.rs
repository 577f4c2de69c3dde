//! What a send's outcome means, and when to try again.
//!
//! The policy is DESIGN.md's: retry on network errors, 408, 429 and 5xx with
//! exponential backoff and full jitter (base 1 s, cap 5 min), honouring
//! Retry-After; split the batch on 413; drop and count on other 4xx.
//!
//! Why not the `backoff` crate: it reads `Instant::now()` itself, which a
//! sans-IO core must not do (and which panics on wasm32). The policy is the
//! same: the n-th consecutive failure waits a uniform random time in
//! `0..=min(cap, base * 2^(n-1))`.

use core::time::Duration;

use crate::rng::Rng;
use crate::time::Timestamp;

/// How a send ended, as the host reports it to [`Client::on_response`](crate::Client::on_response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// The relay answered with an HTTP status.
    Response {
        /// HTTP status code.
        status: u16,
        /// The Retry-After header, if any (see [`parse_retry_after`]).
        retry_after: Option<Duration>,
    },
    /// No HTTP answer: connection refused or reset, DNS failure, TLS error, timeout.
    NetworkError,
}

impl SendOutcome {
    /// A response with this status and no Retry-After.
    pub fn status(status: u16) -> Self {
        SendOutcome::Response {
            status,
            retry_after: None,
        }
    }
}

/// What the client does with a batch after a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Acknowledged: delete its events.
    Delivered,
    /// Keep its events and try again after a backoff (or the server's Retry-After).
    Retry(Option<Duration>),
    /// Too large for the relay: send fewer events per batch.
    Split,
    /// Refused for good: delete its events and count them.
    Drop,
}

impl Verdict {
    pub fn of(outcome: SendOutcome) -> Self {
        match outcome {
            SendOutcome::NetworkError => Verdict::Retry(None),
            SendOutcome::Response {
                status,
                retry_after,
            } => match status {
                200..=299 => Verdict::Delivered,
                413 => Verdict::Split,
                408 | 429 => Verdict::Retry(retry_after),
                400..=499 => Verdict::Drop,
                // 5xx, and anything a proxy might invent (1xx, 3xx): retrying loses nothing.
                _ => Verdict::Retry(retry_after),
            },
        }
    }
}

/// Parses a Retry-After header: delay seconds (`120`) or an HTTP date, relative to `now`.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    Some(Timestamp::from_http_date(value)?.saturating_since(now))
}

/// The longest wait after `failures` consecutive failures: `min(cap, base * 2^(failures-1))`.
pub fn max_backoff(base: Duration, cap: Duration, failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(32);
    base.saturating_mul(1u32 << exponent.min(31)).min(cap)
}

/// Consecutive failures and the earliest time to try again.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
    retry_at: Option<Timestamp>,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Self {
        Backoff {
            base,
            cap,
            failures: 0,
            retry_at: None,
        }
    }

    /// A failure at `now`: wait the server's Retry-After (capped) if given, else full jitter.
    pub fn fail(&mut self, now: Timestamp, retry_after: Option<Duration>, rng: &mut Rng) {
        self.failures = self.failures.saturating_add(1);
        let delay = match retry_after {
            Some(delay) => delay.min(self.cap),
            None => {
                let max = max_backoff(self.base, self.cap, self.failures);
                let max_millis = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
                Duration::from_millis(rng.up_to(max_millis))
            }
        };
        self.retry_at = Some(now.saturating_add(delay));
    }

    /// A success: the next failure starts from the base again.
    pub fn succeed(&mut self) {
        self.failures = 0;
        self.retry_at = None;
    }

    /// Whether a send may start at `now`.
    pub fn ready(&self, now: Timestamp) -> bool {
        self.retry_at.is_none_or(|at| now >= at)
    }

    /// When the next send may start, if waiting.
    pub fn retry_at(&self) -> Option<Timestamp> {
        self.retry_at
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statuses() {
        assert_eq!(Verdict::of(SendOutcome::status(200)), Verdict::Delivered);
        assert_eq!(Verdict::of(SendOutcome::status(204)), Verdict::Delivered);
        assert_eq!(Verdict::of(SendOutcome::NetworkError), Verdict::Retry(None));
        for s in [408, 429, 500, 502, 503, 504] {
            assert_eq!(
                Verdict::of(SendOutcome::status(s)),
                Verdict::Retry(None),
                "{s}"
            );
        }
        for s in [400, 401, 403, 404, 415, 422] {
            assert_eq!(Verdict::of(SendOutcome::status(s)), Verdict::Drop, "{s}");
        }
        assert_eq!(Verdict::of(SendOutcome::status(413)), Verdict::Split);
    }

    #[test]
    fn parses_retry_after_seconds_and_dates() {
        let now = Timestamp::from_millis(784_111_777_000 - 30_000);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        // RFC 9110's example date, 30 s after `now`.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn max_backoff_doubles_up_to_the_cap() {
        let (base, cap) = (Duration::from_secs(1), Duration::from_secs(300));
        assert_eq!(max_backoff(base, cap, 1), Duration::from_secs(1));
        assert_eq!(max_backoff(base, cap, 2), Duration::from_secs(2));
        assert_eq!(max_backoff(base, cap, 9), Duration::from_secs(256));
        assert_eq!(max_backoff(base, cap, 10), cap);
        assert_eq!(max_backoff(base, cap, u32::MAX), cap);
    }
}
