//! `DELETE /api/users/{id}` against a real relay under load: no event of the
//! user survives in the log, none is accepted after the answer, and nobody
//! else's event is touched.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{READ_KEY, TestRelay, WRITE_KEY};
use serde_json::{Value, json};

fn delete(relay: &TestRelay, id: &str, key: Option<&str>) -> reqwest::blocking::Response {
    let request = reqwest::blocking::Client::new().delete(relay.url(&format!("/api/users/{id}")));
    match key {
        Some(key) => request.bearer_auth(key),
        None => request,
    }
    .send()
    .unwrap()
}

#[test]
fn an_erasure_under_load_leaves_no_event_of_the_user() {
    let relay = Arc::new(TestRelay::start());
    let erased = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    // Four clients post alice's and bob's events, singles and batches, without pause;
    // each notes which of its events were answered 200 after the erasure was answered.
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (relay, erased, stop) = (relay.clone(), erased.clone(), stop.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                let mut accepted_after = Vec::new();
                let mut bobs = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Acquire) {
                    n += 1;
                    let id = |who: &str| format!("{who}-{client}-{n}");
                    let after = erased.load(Ordering::Acquire);
                    let batch = json!({"batch": [
                        {"eventId": id("alice"), "eventName": "view_product", "userId": "alice",
                         "properties": {"productId": "p1"}},
                        {"eventId": id("bob"), "eventName": "view_product", "userId": "bob",
                         "properties": {"productId": "p1"}},
                    ]});
                    let answer: Value = http
                        .post(relay.url("/api/events/batch"))
                        .bearer_auth(WRITE_KEY)
                        .json(&batch)
                        .send()
                        .unwrap()
                        .json()
                        .unwrap();
                    let alice_refused = answer["rejected"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|r| r["code"] == "user_erased"));
                    if after && !alice_refused {
                        accepted_after.push(id("alice"));
                    }
                    bobs.push(id("bob"));
                    let single = json!({"eventId": id("alice-single"), "eventName": "view_product",
                        "anonymousId": "anon-alice", "properties": {"productId": "p1"}});
                    let status = http
                        .post(relay.url("/api/events"))
                        .bearer_auth(WRITE_KEY)
                        .json(&single)
                        .send()
                        .unwrap()
                        .status();
                    if after && status.is_success() {
                        accepted_after.push(id("alice-single"));
                    }
                }
                (accepted_after, bobs)
            })
        })
        .collect();
    // Link alice's device to her, then let the clients run.
    let identify = json!({"eventId": "identify", "type": "identify", "userId": "alice",
        "anonymousId": "anon-alice"});
    assert_eq!(
        relay.post("/api/events", &identify.to_string()).status(),
        200
    );
    std::thread::sleep(Duration::from_millis(300));

    assert_eq!(delete(&relay, "alice", None).status(), 401);
    assert_eq!(delete(&relay, "alice", Some(WRITE_KEY)).status(), 403);
    let answer = delete(&relay, "alice", Some(READ_KEY));
    assert_eq!(answer.status(), 200);
    erased.store(true, Ordering::Release);
    let body: Value = answer.json().unwrap();
    assert_eq!(
        body["erased"]["anonymousIds"],
        json!(["anon-alice"]),
        "{body}"
    );
    assert!(body["erased"]["logRecords"].as_u64().unwrap() > 2, "{body}");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Release);

    let mut bobs = Vec::new();
    for client in clients {
        let (accepted_after, mut bob) = client.join().unwrap();
        assert!(
            accepted_after.is_empty(),
            "accepted after the erasure: {accepted_after:?}"
        );
        bobs.append(&mut bob);
    }
    let log = relay.log();
    let alice: Vec<&Value> = log
        .iter()
        .filter(|r| r["userId"] == "alice" || r["anonymousId"] == "anon-alice")
        .collect();
    assert!(alice.is_empty(), "left in the log: {alice:?}");
    let kept: std::collections::HashSet<&str> =
        log.iter().filter_map(|r| r["eventId"].as_str()).collect();
    assert!(
        bobs.iter().all(|b| kept.contains(b.as_str())),
        "bob's events are all kept"
    );
    assert!(log.iter().any(|r| r["erased"] == true));
}

#[test]
fn a_bad_user_id_is_a_400() {
    let relay = TestRelay::start();
    let long = "x".repeat(9_000);
    let answer = delete(&relay, &long, Some(READ_KEY));
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().unwrap();
    assert_eq!(body["error"]["code"], "invalid_user_id");
}
