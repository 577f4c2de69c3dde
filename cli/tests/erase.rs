//! Erasing a user end to end: `spoor up`, events over HTTP, `spoor delete-user`;
//! the user's events leave the log, the dead-letter log and the pipeline's
//! outputs, and their later events are refused, also after a restart.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Spoor, log_cat};
use serde_json::{Value, json};

const WRITE_KEY: &str = "erase-test-write-key";
const READ_KEY: &str = "erase-test-read-key";

fn start_up(data_dir: &Path) -> (Spoor, String) {
    let up = common::start("up", data_dir, WRITE_KEY, READ_KEY);
    let addr = up.addr.clone();
    (up, addr)
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn post(addr: &str, batch: Vec<Value>) -> (u16, Value) {
    let answer = reqwest::blocking::Client::new()
        .post(format!("http://{addr}/api/events/batch"))
        .bearer_auth(WRITE_KEY)
        .json(&json!({ "batch": batch }))
        .send()
        .unwrap();
    (answer.status().as_u16(), answer.json().unwrap())
}

/// The NDJSON export of the last day: what `raw/` holds; `None` when the
/// pipeline cleared its outputs for a rebuild while the export read them (503).
fn exported(addr: &str) -> Option<String> {
    let from = (time::OffsetDateTime::now_utc() - time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let answer = reqwest::blocking::Client::new()
        .post(format!("http://{addr}/api/events/export"))
        .bearer_auth(READ_KEY)
        .json(&json!({ "from": from, "to": now() }))
        .send()
        .unwrap();
    if answer.status() == 503 {
        let body: Value = answer.json().unwrap();
        assert_eq!(body["error"]["code"], "outputs_changed", "{body}");
        return None;
    }
    assert!(answer.status().is_success(), "{}", answer.status());
    Some(answer.text().unwrap())
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether `text` holds any of Alice's events (Bob's event from her old device is Bob's).
fn alices(text: &str) -> bool {
    [
        "\"alice\"",
        "alice@example.com",
        "\"a1\"",
        "\"a2\"",
        "\"a-identify\"",
        "\"a3\"",
        "\"a5\"",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

#[test]
fn an_erased_user_leaves_the_logs_and_the_outputs_and_stays_out() {
    let dir = tempfile::tempdir().unwrap();
    let (up, addr) = start_up(dir.path());
    let event = |id: &str, who: (&str, &str)| {
        let mut e = json!({"eventId": id, "eventName": "view_product", "timestamp": now(),
            "properties": {"productId": "p1"}});
        if !who.0.is_empty() {
            e["userId"] = json!(who.0);
        }
        if !who.1.is_empty() {
            e["anonymousId"] = json!(who.1);
        }
        e
    };
    // Alice browses anonymously, signs in (identify links her device), browses on;
    // Bob browses on a device Alice used before; one of Alice's events is refused (dead letter).
    let mut identify = json!({"eventId": "a-identify", "type": "identify", "userId": "alice",
        "anonymousId": "anon-alice", "traits": {"email": "alice@example.com"}, "timestamp": now()});
    identify["sentAt"] = json!(now());
    let (status, _) = post(
        &addr,
        vec![
            event("a1", ("", "anon-alice")),
            identify,
            event("a2", ("alice", "anon-alice")),
            event("b1", ("bob", "anon-bob")),
            event("b2", ("bob", "anon-alice")),
            json!({"eventId": "a-bad", "eventName": "view_product", "userId": "alice",
                "timestamp": "not a time"}),
        ],
    );
    assert_eq!(status, 200);
    wait_for("the pipeline to write the events", || {
        exported(&addr).is_some_and(|raw| raw.lines().count() == 5)
    });
    assert!(log_cat(dir.path(), true).contains("alice"));

    let out = Command::new(env!("CARGO_BIN_EXE_spoor"))
        .args(["delete-user", "alice", "--endpoint"])
        .arg(format!("http://{addr}"))
        .args(["--read-key", READ_KEY])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["erased"]["userId"], "alice", "{answer}");
    assert_eq!(
        answer["erased"]["anonymousIds"],
        json!(["anon-alice"]),
        "{answer}"
    );
    assert_eq!(answer["erased"]["logRecords"], 3, "{answer}");
    assert_eq!(answer["erased"]["deadLetterRecords"], 1, "{answer}");

    // The logs: Alice's records are gone, Bob's (one from her old device) stay.
    let log = log_cat(dir.path(), false);
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(!alices(&log), "{log}");
    assert!(log.contains("\"b1\"") && log.contains("\"b2\""), "{log}");
    assert!(!log_cat(dir.path(), true).contains("alice"));

    // The pipeline rebuilds its outputs without her.
    wait_for("the pipeline to rebuild without alice", || {
        exported(&addr).is_some_and(|raw| raw.lines().count() == 2 && !alices(&raw))
    });

    // Her later events are refused and stored nowhere; the write key cannot erase.
    let (status, body) = post(
        &addr,
        vec![event("a3", ("alice", "")), event("a4", ("", "anon-alice"))],
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["details"]["rejected"][0]["code"], "user_erased",
        "{body}"
    );
    assert_eq!(
        body["error"]["details"]["rejected"][1]["code"], "user_erased",
        "{body}"
    );
    let denied = reqwest::blocking::Client::new()
        .delete(format!("http://{addr}/api/users/bob"))
        .bearer_auth(WRITE_KEY)
        .send()
        .unwrap();
    assert_eq!(denied.status(), 403);
    drop(up);

    // After a restart too.
    let (_up, addr) = start_up(dir.path());
    let (status, body) = post(&addr, vec![event("a5", ("alice", "anon-new"))]);
    assert_eq!(status, 422, "{body}");
    let (status, _) = post(&addr, vec![event("b3", ("bob", "anon-bob"))]);
    assert_eq!(status, 200);
    let log = log_cat(dir.path(), false);
    assert!(!alices(&log) && log.contains("\"b3\""), "{log}");
    assert!(!log_cat(dir.path(), true).contains("alice"));
}
