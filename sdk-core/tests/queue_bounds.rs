//! Queue bounds by count and bytes, drop counting and its report to the relay.

mod common;

use common::*;
use spoor_core::{Client, Config, SendOutcome, Track};

#[test]
fn a_full_queue_drops_the_oldest_and_reports_the_count() {
    let config = Config {
        max_queue_events: 10,
        ..granted_config()
    };
    let mut c = client(config.clone());
    let ids = track_n(&mut c, 15, T0);
    assert_eq!(c.stats().queued, 10);
    assert_eq!(c.stats().dropped_queue_full, 5);
    c.commit().unwrap();
    let stored: Vec<String> = c.storage().events().map(|e| e.event_id.clone()).collect();
    assert_eq!(stored, ids[5..], "the newest ten are kept");
    // The count survives a restart and goes out with the next batch.
    let mut c = Client::new(config, c.into_storage(), [3; 32], at(1)).unwrap();
    assert_eq!(c.stats().unreported_drops, 5);
    c.flush(at(1));
    let t = c.poll_transmit(at(1)).unwrap().unwrap();
    assert_eq!(body(&t)["dropped"], 5);
    assert_eq!(common::ids(&t), ids[5..]);
    c.on_response(t.batch_id, SendOutcome::status(200), at(2));
    assert_eq!(c.stats().unreported_drops, 0);
}

#[test]
fn the_byte_bound_drops_oldest_but_never_the_batch_in_flight() {
    let padding = "x".repeat(900);
    let config = Config {
        max_queue_bytes: 10_000,
        flush_at: 5,
        ..granted_config()
    };
    let mut c = client(config);
    let mut ids = Vec::new();
    for _ in 0..5 {
        let r = c
            .track(Track::new("big").property("p", padding.as_str()), T0)
            .unwrap();
        ids.push(r.event_id().unwrap().to_string());
    }
    let in_flight = c.poll_transmit(T0).unwrap().unwrap();
    assert_eq!(common::ids(&in_flight), ids);
    for _ in 0..20 {
        c.track(Track::new("big").property("p", padding.as_str()), T0)
            .unwrap();
    }
    let stats = c.stats();
    assert!(stats.queued_bytes <= 10_000, "{}", stats.queued_bytes);
    assert!(stats.dropped_queue_full > 0);
    // The in-flight events are still queued, so their ack deletes them.
    c.on_response(in_flight.batch_id, SendOutcome::status(200), T0);
    assert_eq!(c.stats().delivered, 5);
}
