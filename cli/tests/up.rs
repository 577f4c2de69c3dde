//! `spoor up` runs the pipeline beside the relay: events posted over HTTP
//! become realtime aggregates and funnel answers on the read API, a second
//! pipeline on the same data directory is refused, and SIGTERM stops both.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const WRITE_KEY: &str = "up-test-write-key";
const READ_KEY: &str = "up-test-read-key";

fn get(client: &reqwest::blocking::Client, url: &str) -> Value {
    let answer = client.get(url).bearer_auth(READ_KEY).send().expect("GET");
    assert!(answer.status().is_success(), "{url}: {}", answer.status());
    answer.json().expect("JSON answer")
}

#[test]
fn up_runs_the_pipeline_and_serves_its_tables() {
    let dir = tempfile::tempdir().unwrap();
    let mut up = common::start("up", dir.path(), WRITE_KEY, READ_KEY);
    let addr = up.addr.clone();
    assert!(
        up.output
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("relay and pipeline")),
        "spoor up runs the pipeline too"
    );
    let client = reqwest::blocking::Client::new();

    // Three people view a product, two add it to the cart, one of them twice
    // (the duplicate eventId is counted once).
    let at = |minutes_ago: i64| {
        (time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes_ago))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let mut batch = Vec::new();
    for person in 0..3 {
        batch.push(json!({"eventId": format!("v{person}"), "eventName": "view_product",
            "timestamp": at(10), "anonymousId": format!("anon-{person}"), "properties": {"productId": "p1"}}));
    }
    for person in 0..2 {
        batch.push(json!({"eventId": format!("a{person}"), "eventName": "add_to_cart",
            "timestamp": at(5), "anonymousId": format!("anon-{person}"), "properties": {"productId": "p1"}}));
    }
    batch.push(batch[3].clone());
    let answer = client
        .post(format!("http://{addr}/api/events/batch"))
        .bearer_auth(WRITE_KEY)
        .json(&json!({ "batch": batch }))
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200);

    // The pipeline picks the events up from the durable log by itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    let total = loop {
        let realtime = get(&client, &format!("http://{addr}/api/analytics/realtime"));
        let total: i64 = realtime["minutes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["eventName"].is_null())
            .map(|row| row["events"].as_i64().unwrap())
            .sum();
        if total >= 5 || Instant::now() > deadline {
            break total;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(total, 5, "realtime totals after dedupe");

    // /metrics carries the pipeline's counters (as of its checkpoint, written just after the
    // realtime files) beside the relay's, before the closing `# EOF`.
    let deadline = Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let text = client
            .get(format!("http://{addr}/metrics"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        if text.lines().any(|l| l == "spoor_pipeline_events_total 5") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for line in [
        "spoor_pipeline_events_total 5",
        "spoor_pipeline_duplicates_total 1",
        "spoor_pipeline_late_events_total 0",
        "spoor_pipeline_committed_offset 6",
        "spoor_pipeline_behind_records 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
    assert!(metrics.trim_end().ends_with("# EOF"), "{metrics}");
    assert!(metrics.contains("spoor_log_records"), "{metrics}");

    let funnel = get(
        &client,
        &format!("http://{addr}/api/analytics/funnel?steps=view_product,add_to_cart&window=1h"),
    );
    let counts: Vec<i64> = funnel["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [3, 2], "{funnel}");

    // A second pipeline on the same data would overwrite this one's outputs.
    let second = Command::new(env!("CARGO_BIN_EXE_spoor"))
        .args(["pipeline", "--once", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("another pipeline holds"), "{stderr}");

    // SIGTERM: the relay drains, the pipeline finishes its range, exit 0.
    unsafe { libc::kill(up.child.id() as i32, libc::SIGTERM) };
    let status = up.child.wait().unwrap();
    assert!(status.success(), "{status}");

    // With `spoor up` gone the data directory is free again.
    let again = Command::new(env!("CARGO_BIN_EXE_spoor"))
        .args(["pipeline", "--once", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(dir.path().join("raw").is_dir());
}
