//! Export over hand-written partitions: range, event and property filters, the three formats.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;

use super::*;
use crate::time::parse_time;

/// Writes one raw partition file with the columns the export reads (a fixture for
/// the reader's edge cases: a typed column only some partitions have).
fn partition(root: &Path, hour: &str, event: &str, rows: &[(&str, &str, &str, Option<f64>)]) {
    let dir = root.join(format!(
        "raw/date=2026-05-03/hour={hour}/event={event}/source=web"
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let utc: Arc<str> = "UTC".into();
    let mut fields = vec![
        Field::new("event_id", DataType::Utf8, false),
        Field::new("event_name", DataType::Utf8, true),
        Field::new(
            "event_time",
            DataType::Timestamp(TimeUnit::Millisecond, Some(utc.clone())),
            false,
        ),
        Field::new("properties", DataType::Utf8, false),
    ];
    let ids: Vec<String> = rows.iter().map(|r| r.0.to_string()).collect();
    let times: Vec<i64> = rows
        .iter()
        .map(|r| parse_time(r.1).unwrap() / 1_000)
        .collect();
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ids)),
        Arc::new(StringArray::from(vec![Some(event); rows.len()])),
        Arc::new(TimestampMillisecondArray::from(times).with_timezone(utc)),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )),
    ];
    if rows.iter().any(|r| r.3.is_some()) {
        fields.push(Field::new("revenue", DataType::Float64, true));
        columns.push(Arc::new(Float64Array::from(
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let file = std::fs::File::create(dir.join("part-0-1.parquet")).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    partition(
        dir.path(),
        "10",
        "page_viewed",
        &[
            (
                "e1",
                "2026-05-03T10:05:00Z",
                r#"{"plan":"pro","path":"/a,b"}"#,
                None,
            ),
            ("e2", "2026-05-03T10:55:00Z", r#"{"plan":"free"}"#, None),
        ],
    );
    partition(
        dir.path(),
        "11",
        "purchase_completed",
        &[
            (
                "e3",
                "2026-05-03T11:10:00Z",
                r#"{"plan":"pro","revenue":12.5}"#,
                Some(12.5),
            ),
            (
                "e4",
                "2026-05-03T11:40:00Z",
                r#"{"plan":"pro","items":3}"#,
                None,
            ),
        ],
    );
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
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "event_id,event_name,event_time,properties,revenue"
    );
    assert_eq!(
        lines[1],
        r#"e4,purchase_completed,2026-05-03T11:40:00.000000Z,"{""plan"":""pro"",""items"":3}","#
    );
    assert_eq!(lines.len(), 3);
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
