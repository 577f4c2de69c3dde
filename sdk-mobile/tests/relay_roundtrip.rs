//! The mobile client from Rust (the same methods the Kotlin and Swift bindings
//! call) against a real relay on loopback: its HTTP stack, group-committed
//! log and fsync. The JVM tests in `kotlin-tests/` cover the FFI side.

use std::collections::HashMap;
use std::path::Path;

use spoor_log::LogReader;
use spoor_mobile::{JsonValue, SpoorClient, SpoorConfig};
use spoor_relay::config::{InvalidPolicy, RelayConfig, SourceConfig};
use spoor_relay::{BackgroundRelay, Relay};

const WRITE_KEY: &str = "mobile-rust-write-key";

/// A relay on a free loopback port, on its own thread; stops when dropped.
fn start_relay(data_dir: &Path) -> BackgroundRelay {
    let mut config = RelayConfig {
        data_dir: data_dir.to_path_buf(),
        ..RelayConfig::default()
    };
    config.sources.push(SourceConfig {
        on_invalid: InvalidPolicy::Flag,
        ..SourceConfig::new("android", WRITE_KEY)
    });
    let relay = Relay::open(config).expect("relay opens its data dir");
    relay
        .spawn("127.0.0.1:0".parse().expect("address"))
        .expect("relay listening")
}

fn read_log(data_dir: &Path) -> Vec<serde_json::Value> {
    let mut reader = LogReader::open(&spoor_relay::log_dir(data_dir), 0).unwrap();
    let mut records = Vec::new();
    while let Some((_, payload)) = reader.next_record().unwrap() {
        records.push(serde_json::from_slice(&payload).unwrap());
    }
    records
}

fn config(endpoint: String, data_dir: &Path) -> SpoorConfig {
    SpoorConfig {
        write_key: WRITE_KEY.into(),
        endpoint,
        data_dir: data_dir.display().to_string(),
        flush_at: None,
        flush_interval_ms: None,
        max_queue_events: None,
        max_queue_bytes: None,
        request_timeout_ms: None,
        session_timeout_ms: None,
        require_consent: true,
        track_lifecycle_events: true,
        context: HashMap::new(),
    }
}

fn properties(pairs: Vec<(&str, JsonValue)>) -> HashMap<String, JsonValue> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[test]
fn events_reach_the_relay_with_their_types_and_nothing_stays_queued() {
    let relay_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let relay = start_relay(relay_dir.path());
    let endpoint = format!("http://{}", relay.addr());

    let client = SpoorClient::configure(config(endpoint.clone(), app_dir.path())).unwrap();
    client.on_foreground().unwrap();
    client.set_consent(vec!["analytics".into()]).unwrap();
    for seq in 0..250i64 {
        let props = properties(vec![
            ("productId", format!("p{seq}").into()),
            ("category", "shoes".into()),
            ("surface", "home".into()),
            ("position", seq.into()),
            ("price", 9.5.into()),
            ("tags", vec!["a".into(), JsonValue::Null].into()),
        ]);
        client.track("product_clicked".into(), props, None).unwrap();
    }
    client
        .identify(
            Some("u-7".into()),
            properties(vec![("plan", "pro".into())]),
            None,
        )
        .unwrap();
    client.on_background().unwrap();
    let stats = client.shutdown(10_000).unwrap();
    assert_eq!(stats.queued, 0, "{stats:?}");
    assert_eq!(stats.delivered, 253, "{stats:?}");

    // A new start on the same data dir finds nothing left to send.
    let again = SpoorClient::configure(config(endpoint, app_dir.path())).unwrap();
    assert_eq!(again.stats().unwrap().queued, 0);
    again.shutdown(1_000).unwrap();

    let records = read_log(relay_dir.path());
    assert_eq!(records.len(), 253);
    let names: Vec<_> = records
        .iter()
        .map(|r| {
            r["eventName"]
                .as_str()
                .unwrap_or(r["type"].as_str().unwrap())
        })
        .collect();
    assert_eq!(names.first(), Some(&"Application Opened"));
    assert_eq!(names.last(), Some(&"Application Backgrounded"));
    let clicks: Vec<_> = records
        .iter()
        .filter(|r| r["eventName"] == "product_clicked")
        .collect();
    assert_eq!(clicks.len(), 250);
    for (seq, click) in clicks.iter().enumerate() {
        let props = &click["properties"];
        assert_eq!(props["position"], serde_json::json!(seq));
        assert!(props["position"].is_i64(), "integers stay integers");
        assert_eq!(props["price"], serde_json::json!(9.5));
        assert_eq!(props["tags"], serde_json::json!(["a", null]));
        assert_eq!(click["context"]["library"]["name"], "spoor-mobile");
    }
    let identify = records.iter().find(|r| r["type"] == "identify").unwrap();
    assert_eq!(identify["userId"], "u-7");
    assert_eq!(identify["traits"]["plan"], "pro");
}
