//! The relay over HTTP on a loopback port: answers, errors, and what lands in
//! the log and the dead-letter log.

mod common;

use std::io::Write;

use common::{READ_KEY, TestRelay, WRITE_KEY};
use serde_json::{Value, json};

const SEED: &str = r#"{"eventId":"0193a5f0-7c1e-7d2a-9b1e-3f4c5d6e7f80","type":"track","eventName":"product_clicked","userId":"u456","anonymousId":"anon_789","timestamp":"2026-05-03T10:00:00Z","sentAt":"2026-05-03T10:00:02Z","properties":{"productId":"p123","category":"shoes","surface":"home"},"context":{"device":"mobile","appVersion":"1.2.3","ip":"1.2.3.4"}}"#;

fn error_code(response: reqwest::blocking::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().unwrap();
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn seed_example_is_accepted_and_logged_with_received_at() {
    let relay = TestRelay::start();
    let response = relay.post("/api/events", SEED);
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let text = response.text().unwrap();
    assert_eq!(text, r#"{"accepted":1,"rejected":[]}"#);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"accepted": 1, "rejected": []})
    );
    let log = relay.log();
    assert_eq!(log.len(), 1);
    let e = &log[0];
    assert_eq!(e["eventId"], "0193a5f0-7c1e-7d2a-9b1e-3f4c5d6e7f80");
    assert_eq!(e["eventName"], "product_clicked");
    assert_eq!(e["properties"]["surface"], "home");
    assert_eq!(e["source"], "web");
    assert_eq!(e["timestamp"], "2026-05-03T10:00:00Z");
    assert_eq!(
        e["context"]["ip"], "1.2.3.0",
        "IP truncated to /24 by default"
    );
    let received = e["receivedAt"].as_str().unwrap();
    assert_eq!(received.len(), "2026-05-03T10:00:00.000Z".len());
    assert!(received.ends_with('Z'));
    // Clock skew: the event happened 2 s before the client sent it.
    let event_time = e["eventTime"].as_str().unwrap();
    assert!(event_time < received, "{event_time} < {received}");
}

#[test]
fn malformed_json_is_400() {
    let relay = TestRelay::start();
    assert_eq!(
        error_code(relay.post("/api/events", "{\"eventId\": ")),
        (400, "invalid_json".into())
    );
    assert_eq!(
        error_code(relay.post("/api/events/batch", "not json")),
        (400, "invalid_json".into())
    );
    // A single event's body is first parsed as the event: a syntax error deep
    // inside it, trailing bytes, or a body that is not an object are still 400.
    for body in [
        r#"{"eventId":"e1","eventName":"page_viewed","properties":{"a":[1,}}"#,
        r#"{"eventId":"e1","eventName":"page_viewed"} x"#,
        r#"{"eventId":"e1","writeKey":"k","#,
        r#"[{"eventId":"e1"}]"#,
        "",
    ] {
        assert_eq!(
            error_code(relay.post("/api/events", body)),
            (400, "invalid_json".into()),
            "{body}"
        );
        assert_eq!(
            error_code(relay.post("/v1/track", body)),
            (400, "invalid_json".into()),
            "{body}"
        );
    }
    // A batch is read in one pass with its events: a syntax error in any event
    // is a 400 for the whole body, and none of its events is kept.
    for body in [
        r#"{"batch":[{"eventId":"ok","eventName":"signed_up","userId":"u"},{"eventId":"e2","eventName":}]}"#,
        r#"{"batch":[{"eventId":"ok","eventName":"signed_up","userId":"u"},{"eventId":"e2","context":{"a":"\x"}}]}"#,
        r#"{"batch":[{"eventId":"ok","eventName":"signed_up","userId":"u"}]"#,
    ] {
        assert_eq!(
            error_code(relay.post("/api/events/batch", body)),
            (400, "invalid_json".into()),
            "{body}"
        );
    }
    assert!(relay.log().is_empty());
    assert!(
        relay.dead_letters().is_empty(),
        "a malformed body is no dead letter"
    );
}

#[test]
fn missing_or_bad_key_is_401_and_read_key_is_403() {
    let relay = TestRelay::start();
    let client = reqwest::blocking::Client::new();
    let none = client
        .post(relay.url("/api/events"))
        .header("content-type", "application/json")
        .body(SEED)
        .send()
        .unwrap();
    assert_eq!(error_code(none), (401, "unauthorized".into()));
    let bad = client
        .post(relay.url("/api/events"))
        .bearer_auth("wrong-key-123")
        .body(SEED)
        .send()
        .unwrap();
    assert_eq!(error_code(bad), (401, "unauthorized".into()));
    let read = client
        .post(relay.url("/api/events"))
        .bearer_auth(READ_KEY)
        .body(SEED)
        .send()
        .unwrap();
    assert_eq!(error_code(read), (403, "forbidden".into()));
    assert!(relay.log().is_empty());
}

#[test]
fn a_40_kb_event_is_413() {
    let relay = TestRelay::start();
    let mut event: Value = serde_json::from_str(SEED).unwrap();
    event["properties"]["blob"] = Value::String("x".repeat(40 * 1024));
    assert_eq!(
        error_code(relay.post("/api/events", &event.to_string())),
        (413, "payload_too_large".into())
    );
    let big_body = json!({"batch": (0..30).map(|_| event.clone()).collect::<Vec<_>>()}).to_string();
    assert_eq!(
        error_code(relay.post("/api/events/batch", &big_body)),
        (413, "payload_too_large".into())
    );
    assert!(relay.log().is_empty());
}

#[test]
fn partly_invalid_batch_is_200_with_rejections_in_dead_letter_log() {
    let relay = TestRelay::start();
    let body = json!({"batch": [
        serde_json::from_str::<Value>(SEED).unwrap(),
        {"eventId": "e-wrong-type", "eventName": "purchase_completed", "userId": "u1",
         "properties": {"orderId": "o1", "revenue": "12.50", "currency": "EUR"}},
        {"eventId": "e-unknown", "eventName": "teleported", "userId": "u1"}
    ]});
    let response = relay.post("/api/events/batch", &body.to_string());
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().unwrap();
    assert_eq!(answer["accepted"], 1);
    let rejected = answer["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["index"], 1);
    assert_eq!(rejected[0]["eventId"], "e-wrong-type");
    assert!(
        rejected[0]["reason"].as_str().unwrap().contains("revenue"),
        "{}",
        rejected[0]
    );
    assert_eq!(rejected[1]["index"], 2);
    assert_eq!(rejected[1]["eventId"], "e-unknown");
    assert_eq!(rejected[1]["code"], "unknown_event");

    assert_eq!(relay.log().len(), 1);
    let dead = relay.dead_letters();
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0]["eventId"], "e-wrong-type");
    assert_eq!(dead[0]["code"], "schema_violation");
    assert!(dead[0]["reason"].as_str().unwrap().contains("revenue"));
    assert_eq!(dead[0]["event"]["properties"]["revenue"], "12.50");
    assert_eq!(dead[1]["eventId"], "e-unknown");
    assert!(dead[1]["reason"].as_str().unwrap().contains("teleported"));
    assert_eq!(dead[1]["source"], "web");
}

/// Bodies of 16 KiB and more are processed off the HTTP threads: the same
/// answers, keys and order as small ones.
#[test]
fn big_batches_keep_order_rejections_and_body_keys() {
    let relay = TestRelay::start();
    let events: Vec<Value> = (0..200)
        .map(|i| {
            if i == 117 {
                json!({"eventId": "e-117", "eventName": "teleported", "anonymousId": "a"})
            } else {
                json!({"eventId": format!("e-{i}"), "eventName": "page_viewed", "anonymousId": "a",
                       "properties": {"path": format!("/products/{i}"), "padding": "x".repeat(100)}})
            }
        })
        .collect();
    let body = json!({"writeKey": WRITE_KEY, "batch": events}).to_string();
    assert!(body.len() > 16 * 1024);
    let response = reqwest::blocking::Client::new()
        .post(relay.url("/api/events/batch"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().unwrap();
    assert_eq!(answer["accepted"], 199);
    assert_eq!(answer["rejected"][0]["index"], 117);
    assert_eq!(answer["rejected"][0]["code"], "unknown_event");
    let ids: Vec<String> = relay
        .log()
        .iter()
        .map(|r| r["eventId"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..200)
        .filter(|i| *i != 117)
        .map(|i| format!("e-{i}"))
        .collect();
    assert_eq!(ids, expected);
    assert_eq!(relay.dead_letters()[0]["eventId"], "e-117");

    let bad_key = json!({"writeKey": "not-a-key", "batch": (0..200).map(|i| json!({
        "eventId": format!("k-{i}"), "eventName": "page_viewed", "anonymousId": "a",
        "properties": {"padding": "y".repeat(100)}})).collect::<Vec<_>>()});
    let response = reqwest::blocking::Client::new()
        .post(relay.url("/api/events/batch"))
        .header("content-type", "application/json")
        .body(bad_key.to_string())
        .send()
        .unwrap();
    assert_eq!(error_code(response), (401, "unauthorized".into()));
    assert_eq!(relay.log().len(), 199);
}

#[test]
fn all_invalid_is_422_and_still_dead_lettered() {
    let relay = TestRelay::start();
    let body = json!({"batch": [{"eventId": "x1", "eventName": "nope", "userId": "u"}]});
    let response = relay.post("/api/events/batch", &body.to_string());
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().unwrap();
    assert_eq!(answer["error"]["code"], "invalid_events");
    assert_eq!(answer["error"]["details"]["rejected"][0]["eventId"], "x1");
    assert_eq!(relay.dead_letters().len(), 1);
    let single = relay.post("/api/events", r#"{"eventId":"x2","eventName":"signed_up"}"#);
    assert_eq!(error_code(single), (422, "invalid_events".into()));
    assert_eq!(relay.dead_letters().len(), 2);
}

/// The envelope only scans each event's text; one whose escapes decode to no
/// string is refused, and its dead letter keeps the text rather than nothing.
#[test]
fn undecodable_event_is_dead_lettered_with_its_text() {
    let relay = TestRelay::start();
    let bad = r#"{"eventId":"\ud800","eventName":"signed_up","userId":"u"}"#;
    let body =
        format!(r#"{{"batch":[{bad},{{"eventId":"ok-1","eventName":"signed_up","userId":"u"}}]}}"#);
    let response = relay.post("/api/events/batch", &body);
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().unwrap();
    assert_eq!(answer["accepted"], 1);
    assert_eq!(answer["rejected"][0]["code"], "invalid_event");
    let reason = answer["rejected"][0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("eventId has an escape"), "{reason}");
    let dead = relay.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["event"], bad);
    assert_eq!(relay.log().len(), 1);
}

#[test]
fn segment_batch_with_basic_auth_is_accepted() {
    let relay = TestRelay::start();
    let body = json!({
        "batch": [
            {"type": "track", "messageId": "seg-1", "event": "signed_up", "userId": "u9",
             "properties": {"method": "email"}, "timestamp": "2026-05-03T10:00:00.000Z"},
            {"type": "identify", "messageId": "seg-2", "userId": "u9", "traits": {"plan": "pro"}},
            {"type": "page", "messageId": "seg-3", "anonymousId": "a1", "name": "Home"}
        ],
        "sentAt": "2026-05-03T10:00:01.000Z"
    });
    let response = reqwest::blocking::Client::new()
        .post(relay.url("/v1/batch"))
        .basic_auth(WRITE_KEY, Some(""))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let log = relay.log();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0]["eventId"], "seg-1");
    assert_eq!(log[0]["eventName"], "signed_up");
    assert_eq!(log[0]["sentAt"], "2026-05-03T10:00:01.000Z");
    assert_eq!(log[1]["type"], "identify");
    assert_eq!(log[1]["traits"]["plan"], "pro");
    assert_eq!(log[2]["eventName"], "Home");

    let track = reqwest::blocking::Client::new()
        .post(relay.url("/v1/track"))
        .basic_auth(WRITE_KEY, None::<&str>)
        .json(&json!({"messageId": "seg-4", "event": "search_performed", "anonymousId": "a1", "properties": {"query": "boots"}}))
        .send()
        .unwrap();
    assert_eq!(track.status(), 200);
    assert_eq!(relay.log()[3]["type"], "track");
}

#[test]
fn beacon_style_text_plain_with_write_key_in_body() {
    let relay = TestRelay::start();
    let body = json!({"writeKey": WRITE_KEY, "batch": [{"eventId": "b1", "eventName": "page_viewed", "anonymousId": "a"}]});
    let response = reqwest::blocking::Client::new()
        .post(relay.url("/api/events/batch"))
        .header("content-type", "text/plain;charset=UTF-8")
        .header("origin", "https://shop.example")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    // A page's fetch can read Retry-After on a 429 only when it is exposed.
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "retry-after"
    );
    assert_eq!(relay.log()[0]["eventId"], "b1");
    let preflight = reqwest::blocking::Client::new()
        .request(reqwest::Method::OPTIONS, relay.url("/api/events/batch"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .unwrap();
    assert!(preflight.status().is_success());
    assert!(
        preflight
            .headers()
            .contains_key("access-control-allow-methods")
    );
}

#[test]
fn gzip_bodies_and_gzip_bombs() {
    let relay = TestRelay::start();
    let body = json!({"batch": [serde_json::from_str::<Value>(SEED).unwrap()]}).to_string();
    let client = reqwest::blocking::Client::new();
    let ok = client
        .post(relay.url("/api/events/batch"))
        .bearer_auth(WRITE_KEY)
        .header("content-encoding", "gzip")
        .body(gzip(body.as_bytes()))
        .send()
        .unwrap();
    assert_eq!(ok.status(), 200);
    let bomb = gzip(&vec![b' '; 64 << 20]);
    let refused = client
        .post(relay.url("/api/events/batch"))
        .bearer_auth(WRITE_KEY)
        .header("content-encoding", "gzip")
        .body(bomb)
        .send()
        .unwrap();
    assert_eq!(error_code(refused), (413, "payload_too_large".into()));
    assert_eq!(relay.log().len(), 1);
}

#[test]
fn wrong_content_type_is_415() {
    let relay = TestRelay::start();
    let response = reqwest::blocking::Client::new()
        .post(relay.url("/api/events"))
        .bearer_auth(WRITE_KEY)
        .header("content-type", "application/xml")
        .body(SEED)
        .send()
        .unwrap();
    assert_eq!(error_code(response), (415, "unsupported_media_type".into()));
}

#[test]
fn rate_limit_answers_429_with_retry_after() {
    let relay = TestRelay::start_with(|c| {
        c.rate_limit.events_per_second = 1;
        c.rate_limit.burst = 3;
    });
    let batch = |n: usize| {
        json!({"batch": (0..n).map(|i| json!({"eventId": format!("r{i}"), "eventName": "signed_up", "userId": "u"})).collect::<Vec<_>>()}).to_string()
    };
    assert_eq!(relay.post("/api/events/batch", &batch(3)).status(), 200);
    let limited = relay.post("/api/events/batch", &batch(2));
    assert_eq!(limited.status(), 429);
    assert!(
        limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(error_code(limited), (429, "rate_limited".into()));
    assert_eq!(relay.log().len(), 3);
}

#[test]
fn deprecated_schemas_are_accepted_and_counted_and_flag_policy_keeps_unknown_events() {
    let relay = TestRelay::start_with(|c| {
        c.sources[0].on_invalid = spoor_relay::config::InvalidPolicy::Flag
    });
    let body = json!({"batch": [
        {"eventId": "d1", "eventName": "cart_viewed", "userId": "u"},
        {"eventId": "d2", "eventName": "brand_new_event", "userId": "u"}
    ]});
    let answer: Value = relay
        .post("/api/events/batch", &body.to_string())
        .json()
        .unwrap();
    assert_eq!(answer["accepted"], 2);
    let log = relay.log();
    assert_eq!(log[0]["flags"], json!(["deprecated_schema"]));
    assert_eq!(log[1]["flags"], json!(["unknown_event"]));
    let metrics = reqwest::blocking::get(relay.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("spoor_deprecated_events_total 1"),
        "{metrics}"
    );
}

#[test]
fn metrics_show_rates_latency_errors_bytes_and_fsync() {
    let relay = TestRelay::start();
    let good = json!({"eventId": "m1", "eventName": "signed_up", "userId": "u"});
    assert_eq!(relay.post("/api/events", &good.to_string()).status(), 200);
    assert_eq!(relay.post("/api/events", "{not json").status(), 400);
    let unknown = json!({"eventId": "m2", "eventName": "no_such_event", "userId": "u"});
    assert_eq!(
        relay.post("/api/events", &unknown.to_string()).status(),
        422
    );
    let metrics = reqwest::blocking::get(relay.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    let value = |line_start: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {line_start} in {metrics}"))
    };
    assert_eq!(value("spoor_ingest_responses_total{status=\"200\"}"), 1.0);
    assert_eq!(value("spoor_ingest_responses_total{status=\"400\"}"), 1.0);
    assert_eq!(value("spoor_ingest_responses_total{status=\"422\"}"), 1.0);
    assert_eq!(value("spoor_ingest_request_seconds_count"), 3.0);
    assert_eq!(value("spoor_events_accepted_total{source=\"web\"}"), 1.0);
    assert_eq!(
        value("spoor_events_rejected_total{reason=\"unknown_event\"}"),
        1.0
    );
    // One record each way: the accepted event, and the unknown one in the dead-letter log.
    assert!(value("spoor_log_bytes_written_total{log=\"events\"}") > 8.0);
    assert!(value("spoor_log_bytes_written_total{log=\"dead_letter\"}") > 8.0);
    assert_eq!(value("spoor_log_fsync_seconds_count{log=\"events\"}"), 1.0);
    assert!(value("spoor_log_fsync_seconds_sum{log=\"events\"}") > 0.0);
}

/// `spoor log cat` prints one record per line: a pretty-printed request
/// (line breaks inside `context`) still makes one-line records.
#[test]
fn pretty_printed_requests_make_one_line_records() {
    let relay = TestRelay::start();
    let event = |id: &str| {
        json!({"eventId": id, "eventName": "signed_up", "userId": "u",
               "context": {"page": {"path": "/a\nb"}, "tags": [1, 2]}})
    };
    let single = serde_json::to_string_pretty(&event("p1")).unwrap();
    assert_eq!(relay.post("/api/events", &single).status(), 200);
    let batch =
        serde_json::to_string_pretty(&json!({"batch": [event("p2"), event("p3")]})).unwrap();
    assert_eq!(relay.post("/api/events/batch", &batch).status(), 200);
    let records = common::read_payloads(&relay.data_dir.join("log"));
    assert_eq!(records.len(), 3);
    for record in &records {
        assert!(
            !record.contains(&b'\n'),
            "{}",
            String::from_utf8_lossy(record)
        );
    }
    assert_eq!(relay.log()[2]["context"]["page"]["path"], "/a\nb");
}

#[test]
fn hostile_strings_round_trip_unchanged() {
    let relay = TestRelay::start();
    let hostile = "'; DROP TABLE events; -- <script>alert(1)</script> \u{0000}\u{202e}ﷺ🦀\"\\\n\t";
    let event = json!({"eventId": "h1", "eventName": "search_performed", "anonymousId": hostile,
                       "properties": {"query": hostile, hostile: hostile}});
    assert_eq!(relay.post("/api/events", &event.to_string()).status(), 200);
    let log = relay.log();
    assert_eq!(log[0]["properties"]["query"], hostile);
    assert_eq!(log[0]["anonymousId"], hostile);
    assert_eq!(log[0]["properties"][hostile], hostile);
}

#[test]
fn restart_keeps_offsets_and_health_and_unknown_routes_answer_json() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_in(dir.path(), |_| {});
    assert_eq!(relay.post("/api/events", SEED).status(), 200);
    let health: Value = reqwest::blocking::get(relay.url("/healthz"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    let missing = reqwest::blocking::get(relay.url("/nope")).unwrap();
    assert_eq!(error_code(missing), (404, "not_found".into()));
    relay.stop();
    let relay = TestRelay::start_in(dir.path(), |_| {});
    assert_eq!(relay.post("/api/events", SEED).status(), 200);
    assert_eq!(relay.log().len(), 2);
}

#[test]
fn dashboard_is_served_at_root() {
    let relay = TestRelay::start();
    let page = reqwest::blocking::get(relay.url("/")).unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().unwrap().contains("/api/analytics/funnel"));
}

#[test]
fn parsed_user_agent_is_in_every_record() {
    let relay = TestRelay::start();
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    let event = |id: &str| {
        json!({"eventId": id, "eventName": "product_clicked", "userId": "u",
               "properties": {"productId": "p", "category": "c", "surface": "home"},
               "context": {"userAgent": ua}})
    };
    for i in 0..3 {
        let response = relay.post("/api/events", &event(&format!("single-{i}")).to_string());
        assert_eq!(response.status(), 200);
    }
    let batch = json!({"batch": [event("batch-0"), event("batch-1"), event("batch-2")]});
    let response = relay.post("/api/events/batch", &batch.to_string());
    assert_eq!(response.status(), 200);
    let log = relay.log();
    assert_eq!(log.len(), 6);
    for e in &log {
        assert_eq!(e["context"]["ua"]["browser"], "Chrome", "{e}");
        assert_eq!(e["context"]["ua"]["device"], "pc", "{e}");
        assert_eq!(e["context"]["userAgent"], ua);
    }
}
