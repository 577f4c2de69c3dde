//! Export over hand-written partitions: range, event and property filters, the three formats.

use std::path::Path;

use serde_json::json;
use spoor_log::event::{EventType, StoredEvent};

use super::*;

/// Four events through the real log and pipeline: two page views in hour 10, two
/// purchases in hour 11 (only purchases have the typed `revenue` column).
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let event = |id: &str, name: &str, at: &str, properties: serde_json::Value| -> StoredEvent {
        StoredEvent {
            event_id: id.into(),
            event_type: EventType::Track,
            event_name: Some(name.into()),
            user_id: Some("u1".into()),
            anonymous_id: None,
            previous_id: None,
            group_id: None,
            timestamp: Some(at.into()),
            sent_at: Some(at.into()),
            received_at: at.into(),
            event_time: at.into(),
            source: "web".into(),
            properties: properties.as_object().cloned().unwrap_or_default(),
            traits: Default::default(),
            context: serde_json::Map::new(),
            schema_version: None,
            flags: Vec::new(),
        }
    };
    let events = [
        event(
            "e1",
            "page_viewed",
            "2026-05-03T10:05:00Z",
            json!({"plan": "pro", "path": "/a,b"}),
        ),
        event(
            "e2",
            "page_viewed",
            "2026-05-03T10:55:00Z",
            json!({"plan": "free"}),
        ),
        event(
            "e3",
            "purchase_completed",
            "2026-05-03T11:10:00Z",
            json!({"plan": "pro", "revenue": 12.5, "orderId": "o1", "currency": "USD"}),
        ),
        event(
            "e4",
            "purchase_completed",
            "2026-05-03T11:40:00Z",
            json!({"plan": "pro", "items": 3, "orderId": "o2", "currency": "USD"}),
        ),
    ];
    let mut log = spoor_log::EventLog::open(&dir.path().join("log"), Default::default()).unwrap();
    let payloads: Vec<Vec<u8>> = events
        .iter()
        .map(|e| serde_json::to_vec(e).unwrap())
        .collect();
    log.append(&payloads).unwrap();
    log.sync().unwrap();
    drop(log);
    let mut runner = spoor_pipeline::Runner::open(dir.path(), Default::default()).unwrap();
    runner.run_to_end(|_| {}).unwrap();
    dir
}

fn query(pairs: &[(&str, &str)]) -> ExportQuery {
    let mut params: HashMap<String, String> = [
        ("from", "2026-05-03T10:00:00Z"),
        ("to", "2026-05-03T12:00:00Z"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    params.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    ExportQuery::from_params(&params).unwrap()
}

fn run(dir: &Path, query: &ExportQuery) -> (Vec<u8>, ExportProgress) {
    let mut out = Vec::new();
    let mut reports = 0;
    let done = export(&DataDir::new(dir), query, &mut out, |_| reports += 1).unwrap();
    assert!(reports >= 3, "progress is reported per batch");
    (out, done)
}

#[test]
fn ndjson_with_range_and_property_filter() {
    let dir = fixture();
    let (out, done) = run(
        dir.path(),
        &query(&[("to", "2026-05-03T11:30:00Z"), ("property.plan", "pro")]),
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let ids: Vec<&str> = lines
        .iter()
        .map(|l| l["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["e1", "e3"]);
    assert_eq!(lines[0]["properties"]["path"], "/a,b");
    assert_eq!(lines[0]["event_time"], "2026-05-03T10:05:00.000000Z");
    assert_eq!(lines[1]["revenue"], 12.5);
    assert_eq!(
        (done.rows_total, done.rows_read, done.rows_written),
        (4, 4, 2)
    );
    assert_eq!((done.files_total, done.files_read), (2, 2));
}

#[test]
fn csv_has_the_union_of_columns() {
    let dir = fixture();
    let (out, _) = run(
        dir.path(),
        &query(&[("format", "csv"), ("property.items", "3")]),
    );
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|line| !line.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    let header: Vec<&str> = lines[0].split(',').collect();
    for column in [
        "event_id",
        "event_name",
        "event_time",
        "person_id",
        "properties",
        "revenue",
    ] {
        assert!(header.contains(&column), "{column} in {header:?}");
    }
    let at = |name: &str| header.iter().position(|c| *c == name).unwrap();
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(row[at("event_id")], "e4");
    assert_eq!(row[at("event_time")], "2026-05-03T11:40:00.000000Z");
    assert!(
        lines[1].contains(r#""{""#),
        "JSON text is quoted with doubled quotes: {}",
        lines[1]
    );
}

#[test]
fn parquet_of_selected_events_reads_back() {
    let dir = fixture();
    let (out, done) = run(
        dir.path(),
        &query(&[("format", "parquet"), ("events", "purchase_completed")]),
    );
    assert_eq!((done.rows_total, done.rows_written), (2, 2));
    let path = dir.path().join("export.parquet");
    std::fs::write(&path, out).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1024).unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 2);
    assert!(batches[0].column_by_name("revenue").is_some());
}

#[test]
fn bad_parameters_are_named() {
    let params: HashMap<String, String> = [("format".to_string(), "xml".to_string())].into();
    assert_eq!(
        ExportQuery::from_params(&params).unwrap_err().param,
        "format"
    );
    let body = serde_json::json!({"from": "2026-05-01", "to": "2026-05-02", "events": [1]});
    assert_eq!(ExportQuery::from_json(&body).unwrap_err().param, "events");
    let body = serde_json::json!({"from": "2026-05-01", "to": "2026-05-02", "properties": {"plan": "pro"}, "format": "csv"});
    let query = ExportQuery::from_json(&body).unwrap();
    assert_eq!(
        query.filters,
        vec![PropertyFilter {
            key: "plan".into(),
            value: "pro".into()
        }]
    );
    assert_eq!(query.format, ExportFormat::Csv);
}
