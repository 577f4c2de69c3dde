//! The Rust side of the mobile `track()` benchmark: `SpoorClient::track`
//! called from Rust, i.e. the same method the Kotlin benchmark calls, without
//! the FFI. `sdk-mobile/scripts/bench.sh` runs it beside the Kotlin benchmark
//! (`kotlin-tests/TrackBench.kt`) with the same event, sizes and settings.
//!
//! `cargo bench -p spoor-mobile --bench track [rounds] [calls per round]`

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use spoor_mobile::{JsonValue, SpoorClient, SpoorConfig, SpoorStats};

/// The benchmark event's properties: the same six as in TrackBench.kt.
fn properties(i: i64) -> HashMap<String, JsonValue> {
    HashMap::from([
        ("productId".to_string(), JsonValue::from(format!("p{i}"))),
        ("category".to_string(), "shoes".into()),
        ("surface".to_string(), "home".into()),
        ("position".to_string(), i.into()),
        ("price".to_string(), 9.99.into()),
        ("inStock".to_string(), true.into()),
    ])
}

fn handled(stats: &SpoorStats) -> i64 {
    stats.queued + stats.dropped_queue_full + stats.delivered
}

/// Waits until the background thread has handled `total` calls, so rounds do not overlap.
fn settle(client: &SpoorClient, total: i64) {
    while handled(&client.stats().expect("stats")) < total {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn per_call(elapsed: Duration, calls: usize) -> f64 {
    elapsed.as_nanos() as f64 / calls as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rounds = args.first().copied().unwrap_or(20);
    let calls = args.get(1).copied().unwrap_or(5_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let client = SpoorClient::configure(SpoorConfig {
        write_key: "bench-write-key".into(),
        // Nothing listens here: the background thread queues (and commits) every
        // event and retries with backoff, as in an app that is offline.
        endpoint: "http://127.0.0.1:1".into(),
        data_dir: dir.path().display().to_string(),
        flush_at: None,
        flush_interval_ms: None,
        max_queue_events: None,
        max_queue_bytes: None,
        request_timeout_ms: None,
        session_timeout_ms: None,
        require_consent: false,
        track_lifecycle_events: false,
        context: HashMap::new(),
    })
    .expect("configure");

    let mut total = 0i64;
    let mut build = Vec::new();
    let mut track = Vec::new();
    let mut single = Vec::new();
    for round in 0..=rounds {
        let started = Instant::now();
        let maps: Vec<_> = (0..calls as i64).map(properties).collect();
        let built = started.elapsed();
        let started = Instant::now();
        for map in maps {
            client
                .track("product_clicked".into(), black_box(map), None)
                .expect("track");
        }
        let tracked = started.elapsed();
        total += calls as i64;
        settle(&client, total);
        for i in 0..100 {
            let map = properties(i);
            let started = Instant::now();
            client
                .track("product_clicked".into(), black_box(map), None)
                .expect("track");
            single.push(started.elapsed().as_nanos() as f64);
            total += 1;
        }
        settle(&client, total);
        if round > 0 {
            // Round 0 warms up.
            build.push(per_call(built, calls));
            track.push(per_call(tracked, calls));
        }
    }
    single.sort_by(f64::total_cmp);
    let p = |q: f64| single[((single.len() - 1) as f64 * q) as usize] / 1000.0;
    let stats = client.shutdown(1_000).expect("shutdown");
    println!("rust: {rounds} rounds x {calls} calls, median round");
    println!(
        "rust  build the properties (HashMap<String, JsonValue>)  {:.2} µs",
        median(build) / 1000.0
    );
    println!(
        "rust  SpoorClient::track(prebuilt properties)            {:.2} µs",
        median(track) / 1000.0
    );
    println!(
        "rust  single calls p50 {:.2} µs, p99 {:.2} µs, max {:.2} µs",
        p(0.5),
        p(0.99),
        p(1.0)
    );
    println!(
        "rust  background: {} queued, {} dropped (queue full), {} overloaded, {} storage errors",
        stats.queued, stats.dropped_queue_full, stats.dropped_overloaded, stats.storage_errors
    );
}
