//! A small demo run into a real relay on a loopback port: every planned call
//! lands in the log, duplicates twice, invalid events in the dead-letter log.

use std::collections::HashMap;

use spoor_demo::{DemoConfig, plan, send};
use spoor_log::LogReader;
use spoor_relay::Relay;
use spoor_relay::config::{RelayConfig, SourceConfig};

fn read(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let mut reader = LogReader::open(dir, 0).unwrap();
    let mut out = Vec::new();
    while let Some((_, p)) = reader.next_record().unwrap() {
        out.push(serde_json::from_slice(&p).unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_traffic_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = RelayConfig {
        data_dir: dir.path().to_path_buf(),
        read_key: Some("demo-read-key".into()),
        ..RelayConfig::default()
    };
    config
        .sources
        .push(SourceConfig::new("web", "demo-write-key"));
    let relay = Relay::open(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(relay.serve(relay.router(), listener, async {
        let _ = stopped.await;
    }));

    let config = DemoConfig {
        users: 60,
        days: 7,
        seed: 3,
        end_ms: 1_780_000_000_000,
    };
    let plan = plan(&config);
    let summary = send(&plan, &endpoint, "demo-write-key", |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        summary.delivered as usize,
        plan.calls.len() + plan.late.len()
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();

    let log = read(&dir.path().join("log"));
    // The SDK's calls come first, in event-time order, so only the planned late events (and
    // the retried duplicates after them) arrive behind the pipeline's watermark.
    let times: Vec<&str> = log[..plan.calls.len()]
        .iter()
        .map(|e| e["eventTime"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for e in &log {
        *by_id.entry(e["eventId"].as_str().unwrap()).or_default() += 1;
    }
    let sent_twice = by_id.values().filter(|n| **n == 2).count();
    assert_eq!(sent_twice, plan.duplicates.len());
    assert_eq!(
        by_id.len(),
        plan.calls.len() + plan.late.len() + plan.duplicates.len()
    );
    let dead = read(&dir.path().join("dead-letter"));
    assert_eq!(dead.len(), plan.invalid.len());
    // One SDK client speaks for every simulated person: no event carries
    // another person's userId (anon-00012 is only ever user-00012).
    for e in &log {
        if let (Some(user), Some(anon)) = (e["userId"].as_str(), e["anonymousId"].as_str()) {
            assert_eq!(
                user.trim_start_matches("user-"),
                anon.trim_start_matches("anon-"),
                "{e}"
            );
        }
    }
    // Event times are when things happened, not when the demo ran.
    assert!(
        log.iter()
            .any(|e| e["eventTime"].as_str().unwrap() < "2026-05-29")
    );
}
