//! The read API over HTTP: the read key guards it, a bad parameter is a 400
//! that names it, and analytics and exports come from what the pipeline wrote.

mod common;

use common::{READ_KEY, TestRelay, WRITE_KEY};
use serde_json::{Value, json};
use spoor_analytics::FunnelConfig;
use spoor_pipeline::{PipelineConfig, Runner, range_file};

fn get(relay: &TestRelay, path: &str, key: Option<&str>) -> reqwest::blocking::Response {
    let request = reqwest::blocking::Client::new().get(relay.url(path));
    let request = match key {
        Some(key) => request.bearer_auth(key),
        None => request,
    };
    request.send().unwrap()
}

fn export(relay: &TestRelay, body: Value) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .post(relay.url("/api/events/export"))
        .bearer_auth(READ_KEY)
        .json(&body)
        .send()
        .unwrap()
}

/// The parameter a 400 names.
fn bad_parameter(answer: reqwest::blocking::Response) -> String {
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().unwrap();
    assert_eq!(body["error"]["code"], "invalid_parameter", "{body}");
    body["error"]["details"]["parameter"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Two people view a product on 2026-03-02, one adds it to the cart; the
/// pipeline processes the log into `raw/`. A funnel `cart` is configured.
fn relay_with_data() -> TestRelay {
    let relay = TestRelay::start_with(|config| {
        config.funnels.push(FunnelConfig {
            name: "cart".into(),
            steps: vec!["view_product".into(), "add_to_cart".into()],
            window: Some("1h".into()),
        });
    });
    let event = |id: &str, name: &str, person: &str, minute: u32, plan: &str| {
        json!({"eventId": id, "eventName": name, "anonymousId": person,
               "timestamp": format!("2026-03-02T10:{minute:02}:00.000Z"),
               "properties": {"productId": "p1", "plan": plan}})
    };
    let batch = json!({"batch": [
        event("e1", "view_product", "ann", 1, "pro"),
        event("e2", "view_product", "bob", 2, "free"),
        event("e3", "add_to_cart", "ann", 3, "pro"),
    ]});
    assert_eq!(
        relay.post("/api/events/batch", &batch.to_string()).status(),
        200
    );
    let mut runner = Runner::open(&relay.data_dir, PipelineConfig::default()).unwrap();
    runner.run_to_end(|_| {}).unwrap();
    relay
}

const RANGE: &str = "from=2026-03-01&to=2026-03-03";

#[test]
fn answers_say_how_far_into_the_log_the_pipeline_has_got() {
    let relay = relay_with_data();
    let pipeline = |path: &str| {
        let answer = get(&relay, path, Some(READ_KEY));
        assert_eq!(answer.status(), 200, "{path}");
        answer.json::<Value>().unwrap()["pipeline"].clone()
    };
    let caught_up = json!({"throughOffset": 3, "logEnd": 3, "behindRecords": 0});
    for path in [
        "/api/analytics/funnel?name=cart",
        "/api/analytics/retention",
        "/api/analytics/attribution",
        "/api/analytics/realtime",
    ] {
        assert_eq!(pipeline(path), caught_up, "{path}");
    }
    // Two more events the pipeline has not read: the answers say they are missing.
    let batch = json!({"batch": [
        {"eventId": "e4", "eventName": "view_product", "anonymousId": "cy", "properties": {"productId": "p1"}},
        {"eventId": "e5", "eventName": "view_product", "anonymousId": "di", "properties": {"productId": "p1"}},
    ]});
    assert_eq!(
        relay.post("/api/events/batch", &batch.to_string()).status(),
        200
    );
    let behind = json!({"throughOffset": 3, "logEnd": 5, "behindRecords": 2});
    assert_eq!(pipeline("/api/analytics/funnel?name=cart"), behind);
    assert_eq!(pipeline("/api/analytics/realtime"), behind);
    // An export says it in its headers, since its body is the events themselves.
    let exported = export(&relay, json!({"from": "2026-03-01", "to": "2026-03-03"}));
    assert_eq!(exported.status(), 200);
    let header = |name: &str| exported.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("spoor-pipeline-through-offset"), "3");
    assert_eq!(header("spoor-pipeline-log-end"), "5");
    assert_eq!(header("spoor-pipeline-behind-records"), "2");
    assert_eq!(exported.text().unwrap().lines().count(), 3);
    let metrics = reqwest::blocking::get(relay.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    for line in [
        "spoor_pipeline_committed_offset 3",
        "spoor_pipeline_behind_records 2",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
}

#[test]
fn the_read_api_needs_the_read_key() {
    let relay = TestRelay::start();
    for path in [
        "/api/analytics/funnel?name=checkout",
        "/api/analytics/retention",
        "/api/analytics/attribution",
        "/api/analytics/experiment?name=x",
        "/api/analytics/realtime",
    ] {
        assert_eq!(get(&relay, path, None).status(), 401, "{path}");
        assert_eq!(get(&relay, path, Some("not-a-key")).status(), 401, "{path}");
        let answer = get(&relay, path, Some(WRITE_KEY));
        assert_eq!(answer.status(), 403, "{path}");
        let body: Value = answer.json().unwrap();
        assert_eq!(body["error"]["code"], "forbidden");
    }
    let answer = reqwest::blocking::Client::new()
        .post(relay.url("/api/events/export"))
        .bearer_auth(WRITE_KEY)
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(answer.status(), 403);
}

#[test]
fn a_bad_parameter_is_a_400_that_names_it() {
    let relay = TestRelay::start();
    let key = Some(READ_KEY);
    let cases = [
        ("/api/analytics/funnel?steps=a,b&window=soon", "window"),
        ("/api/analytics/funnel?name=checkout&bogus=1", "bogus"),
        ("/api/analytics/funnel?name=no_such_funnel", "name"),
        (
            "/api/analytics/funnel?steps=a,b&from=2026-03-05&to=2026-03-01",
            "from",
        ),
        ("/api/analytics/experiment", "name"),
        ("/api/analytics/realtime?minutes=0", "minutes"),
    ];
    for (path, parameter) in cases {
        assert_eq!(bad_parameter(get(&relay, path, key)), parameter, "{path}");
    }
    assert_eq!(
        bad_parameter(export(&relay, json!({"format": "xml"}))),
        "format"
    );
    let not_json = reqwest::blocking::Client::new()
        .post(relay.url("/api/events/export"))
        .bearer_auth(READ_KEY)
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let body: Value = not_json.json().unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");
}

#[test]
fn analytics_answer_from_the_pipeline_tables() {
    let relay = relay_with_data();
    for query in ["steps=view_product,add_to_cart&window=1h", "name=cart"] {
        let funnel: Value = get(
            &relay,
            &format!("/api/analytics/funnel?{query}&{RANGE}"),
            Some(READ_KEY),
        )
        .json()
        .unwrap();
        let steps = funnel["steps"].as_array().unwrap();
        assert_eq!(steps[0]["event"], "view_product", "{query}");
        assert_eq!(steps[0]["count"], 2, "{query}");
        assert_eq!(steps[1]["count"], 1, "{query}");
        assert_eq!(steps[1]["conversionRate"], 0.5, "{query}");
        assert_eq!(funnel["windowSeconds"], 3600, "{query}");
    }

    let retention = get(
        &relay,
        &format!("/api/analytics/retention?{RANGE}"),
        Some(READ_KEY),
    );
    assert_eq!(retention.status(), 200);
    let retention: Value = retention.json().unwrap();
    assert_eq!(retention["cohorts"][0]["size"], 2, "{retention}");
}

#[test]
fn exports_stream_each_format_with_filters() {
    let relay = relay_with_data();

    let ndjson = export(
        &relay,
        json!({"from": "2026-03-01", "to": "2026-03-03", "format": "ndjson"}),
    );
    assert_eq!(ndjson.status(), 200);
    assert_eq!(
        ndjson.headers()["content-type"],
        "application/x-ndjson",
        "{:?}",
        ndjson.headers()
    );
    let mut ids: Vec<String> = ndjson
        .text()
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["event_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, ["e1", "e2", "e3"]);

    // Names and a property filter, as URL parameters this time.
    let csv = reqwest::blocking::Client::new()
        .post(relay.url(&format!(
            "/api/events/export?{RANGE}&events=view_product&property.plan=pro&format=csv"
        )))
        .bearer_auth(READ_KEY)
        .send()
        .unwrap();
    assert_eq!(csv.status(), 200);
    let text = csv.text().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("event_id"), "{text}");
    assert!(lines[1].contains("e1"), "{text}");

    let parquet = export(
        &relay,
        json!({"from": "2026-03-01", "to": "2026-03-03", "format": "parquet"}),
    );
    assert_eq!(parquet.status(), 200);
    let bytes = parquet.bytes().unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
}

#[test]
fn an_export_that_fails_before_its_first_chunk_is_a_json_error_not_a_cut_body() {
    let relay = relay_with_data();
    let folders = range_file::walk_dirs(&relay.data_dir.join("raw")).unwrap();
    let files: Vec<_> = folders
        .iter()
        .flat_map(|folder| range_file::list(folder).unwrap())
        .collect();
    assert!(!files.is_empty());
    for file in &files {
        std::fs::write(&file.path, b"not parquet at all").unwrap();
    }
    let answer = export(&relay, json!({"from": "2026-03-01", "to": "2026-03-03"}));
    assert_eq!(answer.status(), 500);
    let body: Value = answer.json().unwrap();
    assert_eq!(body["error"]["code"], "internal", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the export failed"),
        "{body}"
    );
}
