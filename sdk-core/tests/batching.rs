//! Batching thresholds, batch limits and the wire format, on a fake clock.

mod common;

use core::time::Duration;

use common::*;
use spoor_core::{Config, SendOutcome, Track};

#[test]
fn waits_for_flush_at_then_sends_exactly_the_queue() {
    let mut c = client(granted_config());
    let mut all = track_n(&mut c, 19, T0);
    assert_eq!(c.poll_transmit(T0).unwrap(), None);
    // Nothing due before the oldest event has waited flushInterval (10 s).
    assert_eq!(c.poll_timeout(), Some(at(10_000)));
    all.extend(track_n(&mut c, 1, at(5)));
    let t = c.poll_transmit(at(5)).unwrap().expect("20 events are due");
    assert_eq!(ids(&t), all);
    assert_eq!(t.event_ids, all);
}

#[test]
fn flush_interval_sends_a_partial_batch() {
    let mut c = client(granted_config());
    track_n(&mut c, 3, T0);
    track_n(&mut c, 2, at(4_000));
    assert_eq!(c.poll_transmit(at(9_999)).unwrap(), None);
    let t = c
        .poll_transmit(at(10_000))
        .unwrap()
        .expect("interval elapsed");
    assert_eq!(events(&t).len(), 5);
}

#[test]
fn one_batch_in_flight_and_batches_capped_at_100_events() {
    let mut c = client(granted_config());
    track_n(&mut c, 250, T0);
    let first = c.poll_transmit(T0).unwrap().unwrap();
    assert_eq!(events(&first).len(), 100);
    assert_eq!(
        c.poll_transmit(T0).unwrap(),
        None,
        "only one batch in flight"
    );
    assert_eq!(
        c.poll_timeout(),
        None,
        "waiting for the response, not a timer"
    );
    c.on_response(first.batch_id, SendOutcome::status(200), at(10));
    let second = c.poll_transmit(at(10)).unwrap().unwrap();
    assert_eq!(events(&second).len(), 100);
    c.on_response(second.batch_id, SendOutcome::status(200), at(20));
    let third = c.poll_transmit(at(20)).unwrap().unwrap();
    assert_eq!(events(&third).len(), 50);
    c.on_response(third.batch_id, SendOutcome::status(200), at(30));
    assert_eq!(c.poll_transmit(at(30)).unwrap(), None);
    assert_eq!(c.stats().delivered, 250);
    assert_eq!(c.stats().queued, 0);
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn batches_stay_within_max_batch_bytes() {
    let config = Config {
        max_batch_bytes: 8_000,
        ..granted_config()
    };
    let mut c = client(config);
    let padding = "x".repeat(1_000);
    for _ in 0..30 {
        c.track(Track::new("big").property("p", padding.as_str()), T0)
            .unwrap();
    }
    let mut sent = 0;
    let mut now = T0;
    while let Some(t) = c.poll_transmit(now).unwrap() {
        assert!(t.body.len() <= 8_000, "body {} bytes", t.body.len());
        let n = events(&t).len();
        assert!((5..=7).contains(&n), "{n} events of ~1.3 KB in 8 KB");
        sent += n;
        c.on_response(t.batch_id, SendOutcome::status(200), now);
        now = now.saturating_add(Duration::from_secs(10));
    }
    assert_eq!(sent, 30);
}

#[test]
fn flush_sends_what_is_queued_now_without_waiting() {
    let mut c = client(granted_config());
    track_n(&mut c, 2, T0);
    let mark = c.flush(at(1));
    assert!(!c.is_flushed(mark));
    assert_eq!(
        c.poll_timeout(),
        Some(spoor_core::Timestamp::EPOCH),
        "due at once"
    );
    let t = c.poll_transmit(at(1)).unwrap().unwrap();
    assert_eq!(events(&t).len(), 2);
    c.on_response(t.batch_id, SendOutcome::status(200), at(2));
    assert!(c.is_flushed(mark));
    // Events after the flush wait for the thresholds again.
    track_n(&mut c, 1, at(3));
    assert!(
        c.is_flushed(mark),
        "later events do not hold up an earlier flush"
    );
    assert_eq!(c.poll_transmit(at(3)).unwrap(), None);
    assert_eq!(c.poll_timeout(), Some(at(10_003)));
}

#[test]
fn wire_format_matches_design() {
    let mut c = client(granted_config());
    c.context_mut()
        .insert("app".into(), serde_json::json!({"version": "1.2.3"}));
    let mut track = Track::new("product_clicked").property("productId", "p123");
    track
        .options
        .context
        .insert("page".into(), serde_json::json!({"path": "/shoes"}));
    let id = c.track(track, T0).unwrap().event_id().unwrap().to_string();
    c.flush(at(1));
    let t = c.poll_transmit(at(2_000)).unwrap().unwrap();
    let b = body(&t);
    assert_eq!(b["sentAt"], "2026-05-03T10:00:02.000Z");
    assert!(b.get("dropped").is_none());
    let e = &b["batch"][0];
    assert_eq!(e["eventId"], id.as_str());
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    assert_eq!(e["type"], "track");
    assert_eq!(e["eventName"], "product_clicked");
    assert_eq!(e["anonymousId"], c.anonymous_id());
    assert!(e.get("userId").is_none());
    assert_eq!(e["timestamp"], "2026-05-03T10:00:00.000Z");
    assert_eq!(e["sentAt"], "2026-05-03T10:00:02.000Z");
    assert_eq!(e["properties"]["productId"], "p123");
    assert_eq!(e["context"]["library"]["name"], "spoor-core");
    assert_eq!(e["context"]["app"]["version"], "1.2.3");
    assert_eq!(e["context"]["page"]["path"], "/shoes");
    assert_eq!(e["context"]["sessionId"], c.session_id().unwrap());
    assert_eq!(e["context"]["sessionStart"], true);
    assert_eq!(e["context"]["consent"]["category"], "analytics");
}

#[test]
fn every_call_type_has_its_fields() {
    use spoor_core::{Alias, Group, Identify, Page, Screen};
    let mut c = client(granted_config());
    let anon = c.anonymous_id().to_string();
    let mut traits = spoor_core::Properties::new();
    traits.insert("plan".into(), "pro".into());
    c.identify(
        Identify {
            user_id: Some("u1".into()),
            traits: traits.clone(),
            ..Identify::default()
        },
        T0,
    )
    .unwrap();
    c.page(
        Page {
            name: Some("Home".into()),
            ..Page::default()
        },
        T0,
    )
    .unwrap();
    c.screen(
        Screen {
            name: "Settings".into(),
            ..Screen::default()
        },
        T0,
    )
    .unwrap();
    c.group(
        Group {
            group_id: "acme".into(),
            traits,
            ..Group::default()
        },
        T0,
    )
    .unwrap();
    c.alias(
        Alias {
            user_id: "u2".into(),
            ..Alias::default()
        },
        T0,
    )
    .unwrap();
    c.flush(T0);
    let t = c.poll_transmit(T0).unwrap().unwrap();
    let e = events(&t);
    assert_eq!(e[0]["type"], "identify");
    assert_eq!(e[0]["userId"], "u1");
    assert_eq!(e[0]["anonymousId"], anon.as_str());
    assert_eq!(e[0]["traits"]["plan"], "pro");
    assert_eq!(e[1]["type"], "page");
    assert_eq!(e[1]["eventName"], "Home");
    assert_eq!(e[1]["userId"], "u1");
    assert_eq!(e[2]["type"], "screen");
    assert_eq!(e[2]["eventName"], "Settings");
    assert_eq!(e[3]["type"], "group");
    assert_eq!(e[3]["groupId"], "acme");
    assert_eq!(e[4]["type"], "alias");
    assert_eq!(e[4]["userId"], "u2");
    assert_eq!(e[4]["previousId"], "u1");
    assert_eq!(c.user_id(), Some("u2"));
}

#[test]
fn per_event_identity_overrides_leave_the_client_alone() {
    let mut c = client(granted_config());
    let anon = c.anonymous_id().to_string();
    let mut track = Track::new("order_completed").user_id("customer-1");
    track.options.anonymous_id = Some("visitor-9".into());
    c.track(track, T0).unwrap();
    c.track(Track::new("heartbeat"), T0).unwrap();
    c.flush(T0);
    let e = events(&c.poll_transmit(T0).unwrap().unwrap());
    assert_eq!(e[0]["userId"], "customer-1");
    assert_eq!(e[0]["anonymousId"], "visitor-9");
    assert!(e[1].get("userId").is_none());
    assert_eq!(e[1]["anonymousId"], anon.as_str());
    assert_eq!(c.user_id(), None);
}

/// A backend speaking for many users through one client: each event carries
/// exactly the ids its call names, an identify for one user does not leak into
/// another user's events, and the client's own identity stays untouched.
#[test]
fn calls_that_name_their_user_neither_borrow_nor_change_the_clients_identity() {
    use spoor_core::{Alias, EventOptions, Identify};
    let mut c = client(granted_config());
    let own_anon = c.anonymous_id().to_string();
    let named = |anon: &str| EventOptions {
        anonymous_id: Some(anon.into()),
        ..EventOptions::default()
    };
    c.identify(
        Identify {
            user_id: Some("user-1".into()),
            options: named("anon-1"),
            ..Identify::default()
        },
        T0,
    )
    .unwrap();
    let mut other = Track::new("add_to_cart");
    other.options = named("anon-2");
    c.track(other, T0).unwrap();
    c.alias(
        Alias {
            user_id: "user-3".into(),
            previous_id: None,
            options: named("anon-3"),
        },
        T0,
    )
    .unwrap();
    c.track(Track::new("heartbeat"), T0).unwrap();
    c.flush(T0);
    let e = events(&c.poll_transmit(T0).unwrap().unwrap());
    assert_eq!(e[0]["type"], "identify");
    assert_eq!(e[0]["userId"], "user-1");
    assert_eq!(e[0]["anonymousId"], "anon-1");
    assert!(e[1].get("userId").is_none(), "user-1 leaked: {}", e[1]);
    assert!(
        e[1]["context"].get("sessionId").is_none(),
        "the client's session is its own device's"
    );
    assert_eq!(e[1]["anonymousId"], "anon-2");
    assert_eq!(e[2]["userId"], "user-3");
    assert_eq!(e[2]["previousId"], "anon-3");
    assert!(e[3].get("userId").is_none());
    assert_eq!(e[3]["anonymousId"], own_anon.as_str());
    assert!(e[3]["context"]["sessionId"].is_string());
    assert_eq!(c.user_id(), None);
}

#[test]
fn invalid_calls_are_refused() {
    use spoor_core::{Error, Screen};
    let mut c = client(Config {
        max_event_bytes: 1_000,
        ..granted_config()
    });
    assert!(matches!(
        c.track(Track::new(""), T0),
        Err(Error::MissingField("eventName"))
    ));
    assert!(matches!(
        c.screen(Screen::default(), T0),
        Err(Error::MissingField("eventName"))
    ));
    let big = Track::new("big").property("p", "x".repeat(1_000));
    assert!(matches!(
        c.track(big, T0),
        Err(Error::EventTooLarge { limit: 1_000, .. })
    ));
    assert_eq!(c.stats().queued, 0);
}

#[test]
fn writes_are_committed_in_one_batch_before_sending() {
    let mut c = client(granted_config());
    let writes_before = c.storage().writes();
    track_n(&mut c, 50, T0);
    assert_eq!(c.storage().events().count(), 0, "staged, not yet written");
    let t = c.poll_transmit(T0).unwrap().unwrap();
    assert_eq!(
        c.storage().writes(),
        writes_before + 1,
        "one transaction for 50 events"
    );
    assert_eq!(
        c.storage().events().count(),
        50,
        "every event sent is stored"
    );
    c.on_response(t.batch_id, SendOutcome::status(200), T0);
    c.commit().unwrap();
    assert_eq!(c.storage().events().count(), 0, "deleted once acknowledged");
}
