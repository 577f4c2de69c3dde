//! The consent gate: pending, granted, denied, revoked; nothing of a denied
//! category is ever stored or sent.

mod common;

use common::*;
use spoor_core::{
    Client, Config, ConsentState, MemoryStorage, Recorded, SendOutcome, Timestamp, Track,
};

fn pending_client() -> Client<MemoryStorage> {
    client(Config::default())
}

fn categories_sent(c: &mut Client<MemoryStorage>, now: Timestamp) -> Vec<String> {
    let mut sent = Vec::new();
    c.flush(now);
    while let Some(t) = c.poll_transmit(now).unwrap() {
        for e in events(&t) {
            sent.push(
                e["context"]["consent"]["category"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        c.on_response(t.batch_id, SendOutcome::status(200), now);
    }
    sent
}

#[test]
fn before_a_decision_events_wait_in_memory_only() {
    let mut c = pending_client();
    assert_eq!(c.consent("analytics"), ConsentState::Pending);
    let r = c.track(Track::new("clicked"), T0).unwrap();
    assert!(matches!(r, Recorded::AwaitingConsent { .. }));
    c.flush(T0);
    assert_eq!(
        c.poll_transmit(at(3_600_000)).unwrap(),
        None,
        "nothing sent"
    );
    c.commit().unwrap();
    assert_eq!(c.storage().events().count(), 0, "nothing stored");
    assert_eq!(c.stats().awaiting_consent, 1);
    // A restart before the decision loses them: they were never stored.
    let c = Client::new(Config::default(), c.into_storage(), [1; 32], at(1)).unwrap();
    assert_eq!(c.stats().awaiting_consent, 0);
}

#[test]
fn granting_queues_the_waiting_events_with_their_original_ids() {
    let mut c = pending_client();
    let a = c
        .track(Track::new("a"), T0)
        .unwrap()
        .event_id()
        .unwrap()
        .to_string();
    let m = c.track(Track::new("m").category("marketing"), T0).unwrap();
    assert!(matches!(m, Recorded::AwaitingConsent { .. }));
    c.set_consent(["analytics"], at(5)).unwrap();
    assert_eq!(c.consent("analytics"), ConsentState::Granted);
    assert_eq!(c.consent("marketing"), ConsentState::Denied);
    assert_eq!(
        c.storage()
            .events()
            .map(|e| e.event_id.clone())
            .collect::<Vec<_>>(),
        std::slice::from_ref(&a)
    );
    c.flush(at(5));
    let t = c.poll_transmit(at(5)).unwrap().unwrap();
    assert_eq!(ids(&t), [a]);
    assert_eq!(c.stats().discarded_no_consent, 1, "the marketing event");
}

#[test]
fn denied_categories_are_discarded_at_once() {
    let mut c = pending_client();
    c.track(Track::new("waiting"), T0).unwrap();
    c.set_consent(Vec::<String>::new(), T0).unwrap();
    assert_eq!(
        c.track(Track::new("later"), T0).unwrap(),
        Recorded::Discarded
    );
    assert_eq!(c.stats().awaiting_consent, 0);
    assert_eq!(c.stats().queued, 0);
    assert_eq!(c.stats().discarded_no_consent, 2);
    assert!(categories_sent(&mut c, at(1)).is_empty());
    assert_eq!(c.storage().events().count(), 0);
}

#[test]
fn revoking_purges_queued_events_of_that_category_from_storage() {
    let mut c = pending_client();
    c.set_consent(["analytics", "marketing"], T0).unwrap();
    for i in 0..10 {
        let category = if i % 2 == 0 { "analytics" } else { "marketing" };
        c.track(Track::new("e").category(category), T0).unwrap();
    }
    c.commit().unwrap();
    assert_eq!(c.storage().events().count(), 10);
    c.set_consent(["analytics"], at(1)).unwrap();
    assert!(
        c.storage().events().all(|e| e.category == "analytics"),
        "purged at once"
    );
    assert_eq!(c.storage().events().count(), 5);
    assert_eq!(c.stats().purged, 5);
    assert_eq!(
        c.track(Track::new("e").category("marketing"), at(2))
            .unwrap(),
        Recorded::Discarded
    );
    assert_eq!(categories_sent(&mut c, at(2)), vec!["analytics"; 5]);
}

#[test]
fn revoking_while_a_batch_is_in_flight_never_resends_it() {
    let mut c = client(granted_config());
    track_n(&mut c, 20, T0);
    let t = c.poll_transmit(T0).unwrap().unwrap();
    c.opt_out(at(1)).unwrap();
    c.on_response(t.batch_id, SendOutcome::status(500), at(2));
    assert_eq!(c.poll_transmit(at(3_600_000)).unwrap(), None);
    assert_eq!(c.storage().events().count(), 0);
    assert_eq!(
        c.track(Track::new("x"), at(3)).unwrap(),
        Recorded::Discarded
    );
}

#[test]
fn the_decision_survives_a_restart() {
    let mut c = pending_client();
    c.set_consent(["analytics"], T0).unwrap();
    let mut c = Client::new(Config::default(), c.into_storage(), [2; 32], at(1)).unwrap();
    assert_eq!(c.consent("analytics"), ConsentState::Granted);
    assert_eq!(c.consent("ads"), ConsentState::Denied);
    assert!(matches!(
        c.track(Track::new("a"), at(1)).unwrap(),
        Recorded::Queued { .. }
    ));
}

#[test]
fn the_pre_consent_buffer_is_bounded_and_keeps_the_newest() {
    let mut c = client(Config {
        max_pending_events: 3,
        ..Config::default()
    });
    let ids: Vec<String> = (0..5)
        .map(|i| {
            c.track(Track::new(format!("e{i}")), T0)
                .unwrap()
                .event_id()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(c.stats().awaiting_consent, 3);
    assert_eq!(c.stats().dropped_awaiting_consent, 2);
    c.set_consent(["analytics"], T0).unwrap();
    c.flush(T0);
    let t = c.poll_transmit(T0).unwrap().unwrap();
    assert_eq!(common::ids(&t), ids[2..]);
}
