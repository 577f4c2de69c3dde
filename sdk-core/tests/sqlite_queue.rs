//! The client on the SQLite queue: a restart (clean or not) resends what the
//! relay did not acknowledge, with the same ids, and keeps identity and consent.
#![cfg(feature = "sqlite")]

mod common;

use common::*;
use spoor_core::{Client, Config, ConsentState, SendOutcome, SqliteStorage, Track};

#[test]
fn restart_on_sqlite_resends_unacknowledged_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.db");
    let config = Config::default();
    let storage = SqliteStorage::open(&path).unwrap();
    let mut c = Client::new(config.clone(), storage, [1; 32], T0).unwrap();
    c.set_consent(["analytics"], T0).unwrap();
    let anon = c.anonymous_id().to_string();
    let ids = track_n(&mut c, 150, T0);
    c.track(Track::new("no").category("ads"), T0).unwrap();
    let first = c.poll_transmit(T0).unwrap().unwrap();
    assert_eq!(common::ids(&first), ids[..100]);
    c.on_response(first.batch_id, SendOutcome::status(200), T0);
    let second = c.poll_transmit(T0).unwrap().unwrap();
    assert_eq!(common::ids(&second), ids[100..]);
    drop(c); // killed with the second batch in flight

    let storage = SqliteStorage::open(&path).unwrap();
    assert_eq!(storage.len().unwrap(), 50);
    let mut c = Client::new(config, storage, [2; 32], at(1_000)).unwrap();
    assert_eq!(c.anonymous_id(), anon);
    assert_eq!(c.consent("analytics"), ConsentState::Granted);
    assert_eq!(c.consent("ads"), ConsentState::Denied);
    let t = c
        .poll_transmit(at(1_000))
        .unwrap()
        .expect("restored events are due at once");
    assert_eq!(common::ids(&t), ids[100..]);
    c.on_response(t.batch_id, SendOutcome::status(200), at(1_000));
    c.commit().unwrap();
    assert!(c.storage().is_empty().unwrap());
}
