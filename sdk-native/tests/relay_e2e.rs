//! End to end against a real relay on loopback: the backend SDK with its
//! SQLite queue, the relay's real HTTP stack, group-committed log and fsync.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use spoor::{Config, Options, Track, blocking};
use spoor_log::LogReader;
use spoor_relay::config::{RelayConfig, SourceConfig};
use spoor_relay::{BackgroundRelay, Relay};

const WRITE_KEY: &str = "sdk-e2e-write-key";

/// Starts a relay on `addr` (port 0: any free port) from `data_dir`; returns it and its address.
fn start_relay(data_dir: &Path, addr: SocketAddr) -> (BackgroundRelay, SocketAddr) {
    let mut config = RelayConfig {
        data_dir: data_dir.to_path_buf(),
        ..RelayConfig::default()
    };
    config.sources.push(SourceConfig::new("server", WRITE_KEY));
    let relay = Relay::open(config)
        .expect("relay opens its data dir")
        .spawn(addr)
        .expect("relay listening");
    let addr = relay.addr();
    (relay, addr)
}

/// Every record of the relay's log as JSON.
fn read_log(data_dir: &Path) -> Vec<serde_json::Value> {
    let mut reader = LogReader::open(&spoor_relay::log_dir(data_dir), 0).unwrap();
    let mut records = Vec::new();
    while let Some((_, payload)) = reader.next_record().unwrap() {
        records.push(serde_json::from_slice(&payload).unwrap());
    }
    records
}

fn dead_letters(data_dir: &Path) -> usize {
    let dir = spoor_relay::dead_letter_dir(data_dir);
    if !dir.exists() {
        return 0;
    }
    let mut reader = LogReader::open(&dir, 0).unwrap();
    let mut n = 0;
    while reader.next_record().unwrap().is_some() {
        n += 1;
    }
    n
}

/// SDK options with short timers, so retries happen within the test's seconds.
fn sdk_options(addr: SocketAddr, queue: &Path) -> Options {
    let mut options = Options::new(format!("http://{addr}"), WRITE_KEY).queue_path(queue);
    options.config = Config {
        flush_interval: Duration::from_millis(100),
        retry_base: Duration::from_millis(20),
        retry_cap: Duration::from_millis(250),
        ..options.config
    };
    options.request_timeout = Duration::from_secs(5);
    options
}

fn clicked(n: usize, run: &str) -> Track {
    Track::new("product_clicked")
        .property("productId", format!("p{n}"))
        .property("category", "shoes")
        .property("surface", "home")
        .property("position", n as u64)
        .property("n", n as u64)
        .property("run", run)
}

fn track_range(sdk: &blocking::Spoor, range: std::ops::Range<usize>, run: &str) {
    for n in range {
        sdk.track(clicked(n, run)).unwrap();
    }
}

/// Polls the SDK's stats until `done` holds (the SDK's own timers decide when; no fixed sleeps).
fn wait_for(sdk: &blocking::Spoor, done: impl Fn(&spoor::Stats) -> bool) -> spoor::Stats {
    let started = Instant::now();
    loop {
        let stats = sdk.stats().unwrap();
        if done(&stats) {
            return stats;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "gave up waiting: {stats:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn relay_outage_and_sdk_restart_lose_nothing_and_duplicate_no_event_id() {
    let relay_dir = tempfile::tempdir().unwrap();
    let sdk_dir = tempfile::tempdir().unwrap();
    let queue: PathBuf = sdk_dir.path().join("queue.db");
    let run = "outage";

    // 1. Relay up: the first events go straight through.
    let (relay, addr) = start_relay(relay_dir.path(), "127.0.0.1:0".parse().unwrap());
    let sdk = blocking::Spoor::start(sdk_options(addr, &queue)).unwrap();
    track_range(&sdk, 0..300, run);
    sdk.flush(Duration::from_secs(30))
        .expect("relay up: flushed");

    // 2. Relay down: sends fail with connection refused and back off; events wait in SQLite.
    relay.stop().unwrap();
    track_range(&sdk, 300..600, run);
    // Sends fail with connection refused (twice, so a backoff happened).
    let stats = wait_for(&sdk, |s| s.core.send_failures >= 2);
    assert!(stats.core.queued >= 300, "{stats:?}");
    assert!(
        sdk.flush(Duration::from_millis(200)).is_err(),
        "cannot flush without a relay"
    );

    // 3. The SDK restarts while the relay is still down: the queue survives on disk.
    let stats = sdk.shutdown(Duration::from_millis(100)).unwrap();
    assert!(stats.core.queued >= 300, "{stats:?}");
    drop(sdk);
    let sdk = blocking::Spoor::start(sdk_options(addr, &queue)).unwrap();
    track_range(&sdk, 600..800, run);
    // The restarted SDK loaded the stored events and is already retrying them.
    let stats = wait_for(&sdk, |s| s.core.send_failures >= 1);
    assert!(stats.core.queued >= 500, "{stats:?}");

    // 4. The relay comes back on the same port; the SDK resends with the original ids.
    let (relay, addr_again) = start_relay(relay_dir.path(), addr);
    assert_eq!(addr_again, addr);
    track_range(&sdk, 800..1_000, run);
    sdk.flush(Duration::from_secs(60))
        .expect("everything acknowledged after the outage");
    let stats = sdk.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(stats.core.queued, 0, "{stats:?}");
    assert_eq!(
        stats.dropped_overloaded + stats.refused + stats.core.dropped_queue_full,
        0
    );
    relay.stop().unwrap();

    // Every tracked event is in the log; distinct eventIds equal events tracked.
    let records = read_log(relay_dir.path());
    let mut ids_by_n: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    let mut event_ids = BTreeSet::new();
    for record in &records {
        assert_eq!(record["properties"]["run"], run);
        assert_eq!(record["source"], "server");
        let id = record["eventId"].as_str().unwrap().to_string();
        let n = record["properties"]["n"].as_u64().unwrap();
        ids_by_n.entry(n).or_default().insert(id.clone());
        event_ids.insert(id);
    }
    assert_eq!(ids_by_n.len(), 1_000, "every tracked event arrived");
    assert_eq!(
        ids_by_n.keys().copied().collect::<Vec<_>>(),
        (0..1_000).collect::<Vec<u64>>()
    );
    assert!(
        ids_by_n.values().all(|ids| ids.len() == 1),
        "a resent event kept its eventId"
    );
    assert_eq!(
        event_ids.len(),
        1_000,
        "distinct eventIds == events tracked"
    );
    assert_eq!(dead_letters(relay_dir.path()), 0, "no event was refused");
    eprintln!(
        "log records: {}, distinct eventIds: {} (duplicates from resends: {})",
        records.len(),
        event_ids.len(),
        records.len() - event_ids.len()
    );
}

#[test]
fn a_denied_category_never_reaches_the_relay() {
    let relay_dir = tempfile::tempdir().unwrap();
    let sdk_dir = tempfile::tempdir().unwrap();
    let (relay, addr) = start_relay(relay_dir.path(), "127.0.0.1:0".parse().unwrap());
    let sdk = blocking::Spoor::start(sdk_options(addr, &sdk_dir.path().join("q.db"))).unwrap();
    sdk.set_consent(["analytics"]).unwrap();
    for n in 0..50 {
        sdk.track(clicked(n, "consent")).unwrap();
        sdk.track(clicked(1_000 + n, "consent").category("marketing"))
            .unwrap();
    }
    sdk.flush(Duration::from_secs(30)).unwrap();
    let stats = sdk.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(stats.core.discarded_no_consent, 50);
    relay.stop().unwrap();
    let records = read_log(relay_dir.path());
    assert_eq!(records.len(), 50);
    assert!(
        records
            .iter()
            .all(|r| r["context"]["consent"]["category"] == "analytics")
    );
    assert!(
        records
            .iter()
            .all(|r| r["properties"]["n"].as_u64().unwrap() < 1_000)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_client_delivers_every_call_type() {
    let relay_dir = tempfile::tempdir().unwrap();
    let (relay, addr) = start_relay(relay_dir.path(), "127.0.0.1:0".parse().unwrap());
    let mut options = Options::new(format!("http://{addr}/"), WRITE_KEY);
    options.config.flush_interval = Duration::from_millis(50);
    let sdk = spoor::Spoor::start(options).unwrap();
    sdk.identify(spoor::Identify {
        user_id: Some("u456".into()),
        ..Default::default()
    })
    .unwrap();
    sdk.track(clicked(1, "async")).unwrap();
    sdk.page(spoor::Page {
        name: Some("Home".into()),
        ..Default::default()
    })
    .unwrap();
    sdk.flush(Duration::from_secs(30)).await.unwrap();
    let stats = sdk.shutdown(Duration::from_secs(5)).await.unwrap();
    assert_eq!(stats.core.delivered, 3, "{stats:?}");
    assert!(
        sdk.track(clicked(2, "async")).is_err(),
        "closed after shutdown"
    );
    let data_dir = relay_dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || relay.stop().unwrap())
        .await
        .unwrap();
    let records = read_log(&data_dir);
    let types: Vec<&str> = records
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["identify", "track", "page"]);
    assert!(records.iter().all(|r| r["userId"] == "u456"));
    assert_eq!(records[1]["context"]["library"]["name"], "spoor-rust");
    assert!(records[1]["sentAt"].is_string());
}

#[test]
fn dropping_the_blocking_client_sends_what_is_queued() {
    let relay_dir = tempfile::tempdir().unwrap();
    let (relay, addr) = start_relay(relay_dir.path(), "127.0.0.1:0".parse().unwrap());
    let mut options = Options::new(format!("http://{addr}"), WRITE_KEY);
    // Long defaults: only the shutdown on drop can send these 5 events in time.
    options.drop_timeout = Duration::from_secs(60);
    let sdk = blocking::Spoor::start(options).unwrap();
    for n in 0..5 {
        sdk.track(clicked(n, "drop")).unwrap();
    }
    drop(sdk);
    relay.stop().unwrap();
    assert_eq!(read_log(relay_dir.path()).len(), 5);
}
