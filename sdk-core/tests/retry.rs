//! Retry decisions on a fake clock: backoff growth and jitter bounds,
//! Retry-After, 413 splitting, dropping on 4xx and restarts.

mod common;

use core::time::Duration;

use common::*;
use spoor_core::{Client, Config, SendOutcome, Timestamp, max_backoff};

#[test]
fn backoff_grows_within_full_jitter_bounds_and_resets_on_success() {
    let mut c = client(granted_config());
    let ids = track_n(&mut c, 20, T0);
    let mut now = T0;
    for failure in 1..=12u32 {
        let t = c.poll_transmit(now).unwrap().expect("due");
        assert_eq!(
            common::ids(&t),
            ids,
            "same events, same ids on every attempt"
        );
        assert_eq!(
            body(&t)["sentAt"],
            now.to_rfc3339(),
            "sentAt stamped per attempt"
        );
        c.on_response(t.batch_id, SendOutcome::NetworkError, now);
        let retry_at = c.poll_timeout().expect("a retry is scheduled");
        let delay = retry_at.saturating_since(now);
        let bound = max_backoff(Duration::from_secs(1), Duration::from_secs(300), failure);
        assert!(delay <= bound, "failure {failure}: {delay:?} > {bound:?}");
        assert_eq!(c.consecutive_failures(), failure);
        if delay > Duration::ZERO {
            let just_before = Timestamp::from_millis(retry_at.as_millis() - 1);
            assert_eq!(
                c.poll_transmit(just_before).unwrap(),
                None,
                "no send before the backoff"
            );
        }
        now = retry_at;
    }
    let t = c.poll_transmit(now).unwrap().unwrap();
    c.on_response(t.batch_id, SendOutcome::status(200), now);
    assert_eq!(c.consecutive_failures(), 0);
    assert_eq!(c.stats().delivered, 20);
    assert_eq!(c.stats().send_failures, 12);
}

#[test]
fn jitter_spreads_over_the_whole_window() {
    // First failure: uniform in 0..=1 s. Over many seeds the delays must cover it.
    let mut delays = Vec::new();
    for seed in 0..200u8 {
        let mut c = Client::new(
            granted_config(),
            spoor_core::MemoryStorage::new(),
            [seed; 32],
            T0,
        )
        .unwrap();
        track_n(&mut c, 20, T0);
        let t = c.poll_transmit(T0).unwrap().unwrap();
        c.on_response(t.batch_id, SendOutcome::status(503), T0);
        delays.push(c.poll_timeout().unwrap().saturating_since(T0).as_millis());
    }
    assert!(delays.iter().all(|&d| d <= 1_000));
    assert!(delays.iter().any(|&d| d < 200), "{delays:?}");
    assert!(delays.iter().any(|&d| d > 800), "{delays:?}");
    let mean = delays.iter().sum::<u128>() as f64 / delays.len() as f64;
    assert!((350.0..650.0).contains(&mean), "mean {mean}");
}

#[test]
fn retry_after_is_honoured_exactly_and_capped() {
    let mut c = client(granted_config());
    track_n(&mut c, 20, T0);
    let t = c.poll_transmit(T0).unwrap().unwrap();
    c.on_response(
        t.batch_id,
        SendOutcome::Response {
            status: 429,
            retry_after: Some(Duration::from_secs(7)),
        },
        T0,
    );
    assert_eq!(c.poll_timeout(), Some(at(7_000)));
    assert_eq!(c.poll_transmit(at(6_999)).unwrap(), None);
    let t = c.poll_transmit(at(7_000)).unwrap().unwrap();
    // A 503 asking for an hour waits the cap (5 min).
    let header = spoor_core::parse_retry_after("3600", at(7_000));
    c.on_response(
        t.batch_id,
        SendOutcome::Response {
            status: 503,
            retry_after: header,
        },
        at(7_000),
    );
    assert_eq!(c.poll_timeout(), Some(at(7_000 + 300_000)));
}

#[test]
fn status_408_and_5xx_retry_other_4xx_drop_and_count() {
    for status in [408, 500, 502, 503, 504] {
        let mut c = client(granted_config());
        track_n(&mut c, 20, T0);
        let t = c.poll_transmit(T0).unwrap().unwrap();
        c.on_response(t.batch_id, SendOutcome::status(status), T0);
        assert_eq!(c.stats().queued, 20, "{status} keeps the events");
        assert_eq!(c.stats().dropped_rejected, 0);
    }
    let mut c = client(granted_config());
    track_n(&mut c, 20, T0);
    let t = c.poll_transmit(T0).unwrap().unwrap();
    c.on_response(t.batch_id, SendOutcome::status(400), T0);
    assert_eq!(c.stats().queued, 0);
    assert_eq!(c.stats().dropped_rejected, 20);
    assert_eq!(c.consecutive_failures(), 0, "a drop is not a retry");
    // The drop count rides on the next batch until that batch is acknowledged.
    track_n(&mut c, 20, at(1));
    let t = c.poll_transmit(at(1)).unwrap().unwrap();
    assert_eq!(body(&t)["dropped"], 20);
    c.on_response(t.batch_id, SendOutcome::NetworkError, at(1));
    let retry = c.poll_timeout().unwrap();
    let t = c.poll_transmit(retry).unwrap().unwrap();
    assert_eq!(
        body(&t)["dropped"],
        20,
        "reported again after a failed send"
    );
    c.on_response(t.batch_id, SendOutcome::status(200), retry);
    track_n(&mut c, 20, retry);
    let t = c.poll_transmit(retry).unwrap().unwrap();
    assert!(
        body(&t).get("dropped").is_none(),
        "acknowledged, so not reported again"
    );
}

#[test]
fn payload_too_large_halves_the_batch_and_drops_a_single_event() {
    let mut c = client(granted_config());
    let ids = track_n(&mut c, 100, T0);
    let t = c.poll_transmit(T0).unwrap().unwrap();
    assert_eq!(events(&t).len(), 100);
    c.on_response(t.batch_id, SendOutcome::status(413), T0);
    let t = c
        .poll_transmit(T0)
        .unwrap()
        .expect("resent at once, no backoff");
    assert_eq!(common::ids(&t), ids[..50]);
    c.on_response(t.batch_id, SendOutcome::status(413), T0);
    let t = c.poll_transmit(T0).unwrap().unwrap();
    assert_eq!(common::ids(&t), ids[..25]);
    c.on_response(t.batch_id, SendOutcome::status(200), T0);
    // After a success batches may grow again.
    let t = c.poll_transmit(T0).unwrap().unwrap();
    assert_eq!(common::ids(&t), ids[25..]);
    c.on_response(t.batch_id, SendOutcome::status(200), T0);
    assert_eq!(c.stats().delivered, 100);

    let mut c = client(granted_config());
    track_n(&mut c, 1, T0);
    c.flush(T0);
    let t = c.poll_transmit(T0).unwrap().unwrap();
    c.on_response(t.batch_id, SendOutcome::status(413), T0);
    assert_eq!(c.stats().queued, 0);
    assert_eq!(c.stats().dropped_rejected, 1);
}

#[test]
fn stale_responses_are_ignored() {
    let mut c = client(granted_config());
    track_n(&mut c, 20, T0);
    let t = c.poll_transmit(T0).unwrap().unwrap();
    c.on_response(
        spoor_core::BatchId(t.batch_id.0 + 1),
        SendOutcome::status(200),
        T0,
    );
    assert_eq!(c.stats().in_flight, 20);
    c.on_response(t.batch_id, SendOutcome::status(200), T0);
    c.on_response(t.batch_id, SendOutcome::status(500), T0);
    assert_eq!(c.stats().delivered, 20);
    assert_eq!(c.consecutive_failures(), 0);
}

#[test]
fn a_restart_resends_unacknowledged_events_with_the_same_ids() {
    fn drain(c: &mut Client<spoor_core::MemoryStorage>, now: Timestamp) -> Vec<String> {
        let mut sent = Vec::new();
        c.flush(now);
        while let Some(t) = c.poll_transmit(now).unwrap() {
            sent.extend(common::ids(&t));
            c.on_response(t.batch_id, SendOutcome::status(200), now);
        }
        sent
    }

    // Crash after an ack that was not yet committed: everything is sent again.
    let mut c = client(granted_config());
    let ids = track_n(&mut c, 30, T0);
    let t = c.poll_transmit(T0).unwrap().unwrap();
    c.on_response(t.batch_id, SendOutcome::status(200), T0);
    let mut c = Client::new(granted_config(), c.into_storage(), [9; 32], at(60_000)).unwrap();
    assert_eq!(c.stats().queued, 30);
    assert_eq!(
        drain(&mut c, at(60_000)),
        ids,
        "at least once, original ids, original order"
    );

    // Crash while the second batch is in flight: the first batch's ack was committed.
    let mut c = client(granted_config());
    let ids = track_n(&mut c, 120, T0);
    let t = c.poll_transmit(T0).unwrap().unwrap();
    c.on_response(t.batch_id, SendOutcome::status(200), T0);
    c.flush(T0);
    let in_flight = c.poll_transmit(T0).unwrap().unwrap();
    assert_eq!(common::ids(&in_flight), ids[100..]);
    let mut c = Client::new(granted_config(), c.into_storage(), [9; 32], at(60_000)).unwrap();
    assert_eq!(
        drain(&mut c, at(60_000)),
        ids[100..],
        "acknowledged events are not resent"
    );
}

#[test]
fn shutdown_sends_everything_then_finishes_and_keeps_the_rest_on_timeout() {
    let mut c = client(granted_config());
    track_n(&mut c, 5, T0);
    c.shutdown(Duration::from_secs(5), T0);
    assert!(c.track(spoor_core::Track::new("late"), T0).is_err());
    assert!(!c.is_finished(T0));
    let t = c
        .poll_transmit(T0)
        .unwrap()
        .expect("below flushAt but shutting down");
    c.on_response(t.batch_id, SendOutcome::status(200), at(10));
    assert!(c.is_finished(at(10)));

    let mut c = client(Config {
        retry_base: Duration::from_secs(60),
        ..granted_config()
    });
    track_n(&mut c, 5, T0);
    c.shutdown(Duration::from_secs(5), T0);
    let t = c.poll_transmit(T0).unwrap().unwrap();
    c.on_response(t.batch_id, SendOutcome::NetworkError, at(10));
    let deadline_or_retry = c.poll_timeout().unwrap();
    assert!(deadline_or_retry <= at(5_000), "wakes by the deadline");
    let now = at(5_000);
    assert!(c.is_finished(now));
    c.commit().unwrap();
    assert_eq!(
        c.storage().events().count(),
        5,
        "unsent events stay for the next start"
    );
}
