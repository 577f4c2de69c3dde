//! The whole path of an event, every part real: the Rust SDK (SQLite queue) →
//! the relay over loopback HTTP (fsync before 2xx) → the pipeline in the same
//! process, reading only what the relay made durable → Parquet → the read
//! API's funnel (with identity stitching across login) and export.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use spoor::{EventOptions, Identify, Options, Track, blocking};
use spoor_core::Timestamp;
use spoor_pipeline::{Pipeline, PipelineConfig};
use spoor_relay::Relay;
use spoor_relay::config::{RelayConfig, SourceConfig};

const WRITE_KEY: &str = "e2e-write-key";
const READ_KEY: &str = "e2e-read-key";
const MINUTE: u64 = 60_000;

fn options(anonymous_id: Option<&str>, user_id: Option<&str>, at: u64) -> EventOptions {
    EventOptions {
        anonymous_id: anonymous_id.map(String::from),
        user_id: user_id.map(String::from),
        timestamp: Some(Timestamp::from_millis(at)),
        ..EventOptions::default()
    }
}

fn track(name: &str, options: EventOptions) -> Track {
    let mut track = Track::new(name).property("productId", "p1");
    track.options = options;
    track
}

#[test]
fn events_tracked_by_the_sdk_come_back_from_the_read_api() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = RelayConfig {
        data_dir: dir.path().join("data"),
        read_key: Some(READ_KEY.into()),
        ..RelayConfig::default()
    };
    config.sources.push(SourceConfig::new("server", WRITE_KEY));
    let relay = Relay::open(config).unwrap();
    let durable = relay.durable_offset();
    let pipeline = Pipeline::start(
        &dir.path().join("data"),
        PipelineConfig {
            durable_offset: Some(durable.clone()),
            poll_interval_ms: 50,
            ..PipelineConfig::default()
        },
    )
    .unwrap();
    let relay = relay.spawn("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = relay.addr();

    // Six people view a product, four add it to the cart; two of those sign
    // in and start checkout as known users only (no anonymousId on that event).
    let spoor = blocking::Spoor::start(
        Options::new(format!("http://{addr}"), WRITE_KEY).queue_path(dir.path().join("queue.db")),
    )
    .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let start = now - 60 * MINUTE;
    let mut tracked = 0;
    for p in 0..6u64 {
        let anon = format!("anon-{p}");
        let user = format!("user-{p}");
        let t = start + p * MINUTE;
        spoor
            .track(track("view_product", options(Some(&anon), None, t)))
            .unwrap();
        tracked += 1;
        if p < 4 {
            spoor
                .track(track(
                    "add_to_cart",
                    options(Some(&anon), None, t + 2 * MINUTE),
                ))
                .unwrap();
            tracked += 1;
        }
        if p < 2 {
            spoor
                .identify(Identify {
                    user_id: Some(user.clone()),
                    options: options(Some(&anon), None, t + 3 * MINUTE),
                    ..Identify::default()
                })
                .unwrap();
            spoor
                .track(track(
                    "checkout_started",
                    options(None, Some(&user), t + 4 * MINUTE),
                ))
                .unwrap();
            tracked += 2;
        }
    }
    spoor.flush(Duration::from_secs(20)).unwrap();
    assert_eq!(
        durable.load(Ordering::Acquire),
        tracked,
        "all acknowledged and durable"
    );

    // The pipeline catches up by itself.
    let data = dir.path().join("data");
    let deadline = Instant::now() + Duration::from_secs(60);
    while spoor_pipeline::checkpoint::committed_offset(&data).unwrap_or(0) < tracked {
        assert!(Instant::now() < deadline, "the pipeline did not catch up");
        std::thread::sleep(Duration::from_millis(50));
    }

    let client = reqwest::blocking::Client::new();
    let funnel: Value = client
        .get(format!(
            "http://{addr}/api/analytics/funnel?steps=view_product,add_to_cart,checkout_started&window=1h"
        ))
        .bearer_auth(READ_KEY)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let counts: Vec<i64> = funnel["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_i64().unwrap())
        .collect();
    // checkout_started carries only the userId: it counts for the same person
    // as the anonymous steps because identify linked the two.
    assert_eq!(counts, [6, 4, 2], "{funnel}");

    let export = client
        .post(format!("http://{addr}/api/events/export"))
        .bearer_auth(READ_KEY)
        .json(&serde_json::json!({"format": "ndjson"}))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let ids: BTreeSet<String> = export
        .lines()
        .map(|l| {
            let row: Value = serde_json::from_str(l).unwrap();
            row["event_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len() as u64, tracked, "every event exported once");

    spoor.shutdown(Duration::from_secs(5)).unwrap();
    relay.stop().unwrap();
    pipeline.stop().unwrap();
}
