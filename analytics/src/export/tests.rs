//! Export over hand-written partitions: range, event and property filters, the three formats.

use std::path::Path;

use serde_json::json;
use spoor_log::event::{EventType, StoredEvent};

use super::*;

/// A stored event of user `u1`.
fn stored(id: &str, name: &str, at: &str, properties: serde_json::Value) -> StoredEvent {
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
}

/// Appends `events` to the log of `dir` and runs the real pipeline over them.
fn write(dir: &Path, events: &[StoredEvent]) {
    let mut log = spoor_log::EventLog::open(&dir.join("log"), Default::default()).unwrap();
    let payloads: Vec<Vec<u8>> = events
        .iter()
        .map(|e| serde_json::to_vec(e).unwrap())
        .collect();
    log.append(&payloads).unwrap();
    log.sync().unwrap();
    drop(log);
    let mut runner = spoor_pipeline::Runner::open(dir, Default::default()).unwrap();
    runner.run_to_end(|_| {}).unwrap();
}

/// Four events through the real log and pipeline: two page views in hour 10, two
/// purchases in hour 11 (only purchases have the typed `revenue` column).
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let events = [
        stored(
            "e1",
            "page_viewed",
            "2026-05-03T10:05:00Z",
            json!({"plan": "pro", "path": "/a,b"}),
        ),
        stored(
            "e2",
            "page_viewed",
            "2026-05-03T10:55:00Z",
            json!({"plan": "free"}),
        ),
        stored(
            "e3",
            "purchase_completed",
            "2026-05-03T11:10:00Z",
            json!({"plan": "pro", "revenue": 12.5, "orderId": "o1", "currency": "USD"}),
        ),
        stored(
            "e4",
            "purchase_completed",
            "2026-05-03T11:40:00Z",
            json!({"plan": "pro", "items": 3, "orderId": "o2", "currency": "USD"}),
        ),
    ];
    write(dir.path(), &events);
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

/// Two page views written by two pipeline passes: two range files in one folder, which
/// a compaction merges into one. Returns the data directory and that folder.
fn two_files_in_one_folder() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let view = |id: &str, at: &str| stored(id, "page_viewed", at, json!({"plan": "pro"}));
    write(dir.path(), &[view("e1", "2026-05-03T10:05:00Z")]);
    write(dir.path(), &[view("e2", "2026-05-03T10:55:00Z")]);
    let folder = dir
        .path()
        .join("raw/date=2026-05-03/hour=10/event=page_viewed/source=web");
    assert_eq!(parquet_count(&folder), 2, "one file per pass");
    (dir, folder)
}

fn parquet_count(folder: &Path) -> usize {
    std::fs::read_dir(folder)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.ends_with(".parquet") && !name.starts_with('.')
        })
        .count()
}

fn compact(folder: &Path) {
    let merged = spoor_pipeline::compact::compact_parquet(
        folder,
        u64::MAX,
        2,
        &parquet::file::properties::WriterProperties::default(),
    )
    .unwrap();
    assert_eq!(merged, 2);
}

fn exported_ids(out: &[u8]) -> Vec<String> {
    let mut ids: Vec<String> = String::from_utf8(out.to_vec())
        .unwrap()
        .lines()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            row["event_id"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_compaction_while_the_export_runs_loses_and_repeats_nothing() {
    let (dir, folder) = two_files_in_one_folder();
    let mut out = Vec::new();
    let mut compacted = false;
    // The first progress report comes after the files are listed and planned, before any is read.
    export(&DataDir::new(dir.path()), &query(&[]), &mut out, |_| {
        if !compacted {
            compact(&folder);
            compacted = true;
        }
    })
    .unwrap();
    assert_eq!(parquet_count(&folder), 1, "the compaction ran");
    assert_eq!(exported_ids(&out), ["e1", "e2"]);
}

#[test]
fn a_merge_s_inputs_still_on_disk_are_read_once() {
    // The moment between the merged file's rename and its inputs' deletion.
    let (dir, folder) = two_files_in_one_folder();
    let inputs: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    compact(&folder);
    for (path, bytes) in &inputs {
        std::fs::write(path, bytes).unwrap();
    }
    assert_eq!(parquet_count(&folder), 3);
    let (out, _) = run(dir.path(), &query(&[]));
    assert_eq!(exported_ids(&out), ["e1", "e2"]);
    let table = DataDir::new(dir.path())
        .load(&crate::store::LoadSpec {
            events: None,
            range: query(&[]).range,
            tag: crate::store::TagSource::None,
            session: false,
            value: false,
        })
        .unwrap();
    assert_eq!(table.rows.len(), 2, "each event loaded once");
}

#[test]
fn outputs_cleared_while_the_export_runs_fail_it_as_vanished_instead_of_skipping_rows() {
    // What the pipeline does to rebuild after an erasure or a replay from 0.
    let (dir, _folder) = two_files_in_one_folder();
    let mut out = Vec::new();
    let mut cleared = false;
    let error = export(&DataDir::new(dir.path()), &query(&[]), &mut out, |_| {
        if !cleared {
            std::fs::remove_dir_all(dir.path().join("raw")).unwrap();
            cleared = true;
        }
    })
    .unwrap_err();
    assert!(error.is_vanished_file(), "{error}");
    assert!(out.is_empty(), "nothing was written before the error");
}
