//! DuckDB (from PyPI, installed by .ci/setup-pipeline.sh into .venv) reads `raw/` with Hive
//! partitioning and finds exactly the deduplicated events of the log.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::Command;

use spoor_log::event::StoredEvent;
use spoor_pipeline::synth::{Synth, SynthOptions};

fn python() -> PathBuf {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run .ci/setup-pipeline.sh (installs DuckDB from PyPI)",
        python.display()
    );
    python
}

#[test]
fn duckdb_reads_raw_partitions_and_agrees_with_the_log() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let events: Vec<StoredEvent> = Synth::new(SynthOptions {
        records: 20_000,
        people: 300,
        duplicate_rate: 0.05,
        late_rate: 0.02,
        ..SynthOptions::default()
    })
    .collect();
    common::append(dir.path(), &events);
    let metrics = common::run(dir.path(), 3000);

    // What the log holds after dedupe, computed here independently of the pipeline.
    let mut seen = HashSet::new();
    let mut by_event: BTreeMap<String, i64> = BTreeMap::new();
    for e in &events {
        if seen.insert((e.source.clone(), e.event_id.clone())) {
            let name = e
                .event_name
                .clone()
                .unwrap_or_else(|| e.event_type.as_str().to_string());
            *by_event.entry(name).or_default() += 1;
        }
    }
    assert!(seen.len() < events.len(), "the log has duplicates");
    assert_eq!(metrics.events as usize, seen.len());

    let script = r#"
import duckdb, json, sys
raw = sys.argv[1] + "/raw/**/*.parquet"
con = duckdb.connect()
q = lambda sql: con.execute(sql.replace("RAW", f"read_parquet('{raw}', hive_partitioning = true, union_by_name = true)")).fetchall()
out = {
  "rows": q("SELECT count(*) FROM RAW")[0][0],
  "distinct": q("SELECT count(DISTINCT (source, event_id)) FROM RAW")[0][0],
  "by_event": dict(q("SELECT event, count(*) FROM RAW GROUP BY event")),
  "misplaced": q("""SELECT count(*) FROM RAW WHERE strftime(event_time AT TIME ZONE 'UTC', '%Y-%m-%d') <> CAST(date AS VARCHAR)
                    OR CAST(strftime(event_time AT TIME ZONE 'UTC', '%H') AS INTEGER) <> hour""")[0][0],
  "revenue": q("SELECT round(sum(revenue), 2) FROM RAW WHERE event_name = 'purchase_completed'")[0][0],
  "files": q(f"SELECT count(*) FROM glob('{raw}')")[0][0],
}
print(json.dumps(out))
"#;
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(dir.path())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["rows"].as_u64(), Some(seen.len() as u64));
    assert_eq!(got["distinct"].as_u64(), Some(seen.len() as u64));
    assert_eq!(got["misplaced"].as_u64(), Some(0));
    let got_by_event: BTreeMap<String, i64> =
        serde_json::from_value(got["by_event"].clone()).unwrap();
    assert_eq!(got_by_event, by_event);
    let mut revenue = 0.0;
    let mut counted = HashSet::new();
    for e in &events {
        if e.event_name.as_deref() == Some("purchase_completed")
            && counted.insert((e.source.clone(), e.event_id.clone()))
        {
            revenue += e.properties["revenue"].as_f64().unwrap();
        }
    }
    assert!((got["revenue"].as_f64().unwrap() - revenue).abs() < 0.01);
}
