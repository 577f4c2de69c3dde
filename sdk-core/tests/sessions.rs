//! Sessions and identity on a fake clock.

mod common;

use core::time::Duration;

use common::*;
use serde_json::Value;
use spoor_core::{Client, Config, Identify, MemoryStorage, Timestamp, Track};

const MINUTE: u64 = 60_000;

fn send_one(c: &mut Client<MemoryStorage>, now: Timestamp) -> Value {
    c.track(Track::new("tick"), now).unwrap();
    c.flush(now);
    let t = c.poll_transmit(now).unwrap().unwrap();
    c.on_response(t.batch_id, spoor_core::SendOutcome::status(200), now);
    events(&t).pop().unwrap()
}

#[test]
fn session_rotates_after_30_minutes_of_inactivity() {
    let mut c = client(granted_config());
    let first = send_one(&mut c, T0);
    let s1 = first["context"]["sessionId"].clone();
    assert_eq!(first["context"]["sessionStart"], true);
    // Activity every 29 minutes keeps the session open for two hours.
    let mut now = 0;
    for _ in 0..4 {
        now += 29 * MINUTE;
        let e = send_one(&mut c, at(now));
        assert_eq!(e["context"]["sessionId"], s1);
        assert!(e["context"].get("sessionStart").is_none());
    }
    now += 30 * MINUTE;
    let e = send_one(&mut c, at(now));
    assert_ne!(e["context"]["sessionId"], s1);
    assert_eq!(e["context"]["sessionStart"], true);
}

#[test]
fn session_timeout_is_configurable_and_survives_a_restart() {
    let config = Config {
        session_timeout: Duration::from_secs(60),
        ..granted_config()
    };
    let mut c = client(config.clone());
    let s1 = send_one(&mut c, T0)["context"]["sessionId"].clone();
    c.commit().unwrap();
    let mut c = Client::new(config, c.into_storage(), [5; 32], at(59_000)).unwrap();
    let e = send_one(&mut c, at(59_000));
    assert_eq!(
        e["context"]["sessionId"], s1,
        "same session after a restart"
    );
    let e = send_one(&mut c, at(119_000));
    assert_ne!(e["context"]["sessionId"], s1);
}

#[test]
fn anonymous_id_is_made_once_and_persisted() {
    let mut c = client(granted_config());
    let anon = c.anonymous_id().to_string();
    c.commit().unwrap();
    let c2 = Client::new(granted_config(), c.into_storage(), [6; 32], at(1)).unwrap();
    assert_eq!(c2.anonymous_id(), anon);
    let other = Client::new(granted_config(), MemoryStorage::new(), [6; 32], at(1)).unwrap();
    assert_ne!(other.anonymous_id(), anon, "another device, another id");
}

#[test]
fn identify_persists_the_user_and_reset_forgets_it() {
    let mut c = client(granted_config());
    let anon = c.anonymous_id().to_string();
    c.identify(
        Identify {
            user_id: Some("u456".into()),
            ..Identify::default()
        },
        T0,
    )
    .unwrap();
    let e = send_one(&mut c, at(1));
    assert_eq!(e["userId"], "u456");
    assert_eq!(e["anonymousId"], anon.as_str());
    c.commit().unwrap();
    let mut c = Client::new(granted_config(), c.into_storage(), [7; 32], at(2)).unwrap();
    assert_eq!(c.user_id(), Some("u456"));
    let session = c.session_id().unwrap().to_string();
    c.reset(at(3));
    assert_eq!(c.user_id(), None);
    assert_ne!(c.anonymous_id(), anon);
    let e = send_one(&mut c, at(4));
    assert!(e.get("userId").is_none());
    assert_eq!(e["anonymousId"], c.anonymous_id());
    assert_ne!(
        e["context"]["sessionId"],
        session.as_str(),
        "reset starts a new session"
    );
    c.commit().unwrap();
    let c = Client::new(granted_config(), c.into_storage(), [8; 32], at(5)).unwrap();
    assert_eq!(c.user_id(), None);
}
