//! Helpers shared by the client tests: a fake clock and batch inspection.
#![allow(dead_code)]

use core::time::Duration;

use serde_json::Value;
use spoor_core::{Client, Config, ConsentMode, MemoryStorage, Storage, Timestamp, Track, Transmit};

/// 2026-05-03T10:00:00Z, the fake clock's zero.
pub const T0: Timestamp = Timestamp::from_millis(1_777_802_400_000);

/// `T0` plus `ms` milliseconds.
pub fn at(ms: u64) -> Timestamp {
    T0.saturating_add(Duration::from_millis(ms))
}

/// Default config with every category granted until decided (no consent prompt in the way).
pub fn granted_config() -> Config {
    Config {
        consent_mode: ConsentMode::GrantedUntilDecided,
        ..Config::default()
    }
}

/// A client on a fresh memory storage.
pub fn client(config: Config) -> Client<MemoryStorage> {
    Client::new(config, MemoryStorage::new(), [42; 32], T0).unwrap()
}

/// Tracks `n` events named `e{i}` at `now`; returns their ids.
pub fn track_n<S: Storage>(client: &mut Client<S>, n: usize, now: Timestamp) -> Vec<String> {
    (0..n)
        .map(|i| {
            client
                .track(Track::new(format!("e{i}")), now)
                .unwrap()
                .event_id()
                .expect("queued")
                .to_string()
        })
        .collect()
}

/// The parsed body of a batch.
pub fn body(transmit: &Transmit) -> Value {
    serde_json::from_str(&transmit.body).expect("batch body is JSON")
}

/// The events of a batch.
pub fn events(transmit: &Transmit) -> Vec<Value> {
    body(transmit)["batch"]
        .as_array()
        .expect("batch array")
        .clone()
}

/// The eventIds in a batch body (read from the JSON, not from `event_ids`).
pub fn ids(transmit: &Transmit) -> Vec<String> {
    events(transmit)
        .iter()
        .map(|e| e["eventId"].as_str().expect("eventId").to_string())
        .collect()
}
