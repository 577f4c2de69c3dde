//! Shared helpers: write relay log records, run the pipeline, read back its outputs.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value, json};
use spoor_log::event::{EventType, StoredEvent};
use spoor_log::{EventLog, LogOptions};
use spoor_pipeline::PipelineConfig;
use spoor_pipeline::columns;
use spoor_pipeline::range_file;
use spoor_pipeline::sink::parquet_file;
use spoor_pipeline::timefmt::{format_ms, parse_ms};

/// 2026-05-03T10:00:00Z in epoch ms.
pub fn t0() -> i64 {
    parse_ms("2026-05-03T10:00:00Z").unwrap()
}

pub const MIN: i64 = 60_000;

/// A track event at `t` (epoch ms) that arrived `delay` ms later.
pub fn track(id: &str, name: &str, anon: &str, t: i64, delay: i64) -> StoredEvent {
    StoredEvent {
        event_id: id.into(),
        event_type: EventType::Track,
        event_name: Some(name.into()),
        user_id: None,
        anonymous_id: Some(anon.into()),
        previous_id: None,
        group_id: None,
        timestamp: Some(format_ms(t)),
        sent_at: Some(format_ms(t + delay)),
        received_at: format_ms(t + delay),
        event_time: format_ms(t),
        source: "web".into(),
        properties: Map::new(),
        traits: Map::new(),
        context: Map::new(),
        schema_version: None,
        flags: Vec::new(),
    }
}

pub fn with_props(mut e: StoredEvent, props: Value) -> StoredEvent {
    e.properties = props.as_object().cloned().unwrap_or_default();
    e
}

pub fn identify(id: &str, anon: &str, user: &str, t: i64) -> StoredEvent {
    let mut e = track(id, "x", anon, t, 0);
    e.event_type = EventType::Identify;
    e.event_name = None;
    e.user_id = Some(user.into());
    e.traits = json!({"plan": "pro"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    e
}

/// Appends `events` to `data_dir/log` the way the relay does.
pub fn append(data_dir: &Path, events: &[StoredEvent]) {
    let mut log = EventLog::open(&data_dir.join("log"), LogOptions::default()).unwrap();
    let payloads: Vec<Vec<u8>> = events
        .iter()
        .map(|e| serde_json::to_vec(e).unwrap())
        .collect();
    log.append(&payloads).unwrap();
    log.sync().unwrap();
}

pub fn config(batch: usize) -> PipelineConfig {
    PipelineConfig {
        max_batch_records: batch,
        poll_interval_ms: 20,
        compact_min_files: 4,
        threads: 2,
        ..PipelineConfig::default()
    }
}

/// [`config`] without compaction, committing at most every `commit_interval_ms` (0: after
/// every range), so that output files end where ranges and commits do.
pub fn uncompacted(batch: usize, commit_interval_ms: u64) -> PipelineConfig {
    PipelineConfig {
        compact_min_files: 1000,
        commit_interval_ms,
        ..config(batch)
    }
}

/// Processes what the log holds.
pub fn run(data_dir: &Path, batch: usize) -> spoor_pipeline::metrics::Metrics {
    run_with(data_dir, config(batch))
}

/// Processes what the log holds with `config`.
pub fn run_with(data_dir: &Path, config: PipelineConfig) -> spoor_pipeline::metrics::Metrics {
    let mut runner = spoor_pipeline::Runner::open(data_dir, config).unwrap();
    runner.run_to_end(|_| {}).unwrap();
    runner.metrics().clone()
}

/// A raw row, the fields that tests compare.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawRow {
    pub event_id: String,
    pub log_offset: u64,
    pub person_id: String,
    pub session_id: Option<String>,
    pub late: bool,
    pub partition: String,
}

/// Every raw row (sorted), read with the parquet crate.
pub fn raw_rows(data_dir: &Path) -> Vec<RawRow> {
    let raw = data_dir.join("raw");
    let mut out = Vec::new();
    for dir in range_file::walk_dirs(&raw).unwrap() {
        for file in range_file::list(&dir).unwrap() {
            let partition = dir.strip_prefix(&raw).unwrap().display().to_string();
            for batch in parquet_file::read(&file.path).unwrap() {
                for row in 0..batch.num_rows() {
                    out.push(RawRow {
                        event_id: columns::text(&batch, "event_id", row).unwrap(),
                        log_offset: columns::uint(&batch, "log_offset", row).unwrap(),
                        person_id: columns::text(&batch, "person_id", row).unwrap(),
                        session_id: columns::text(&batch, "session_id", row),
                        late: columns::boolean(&batch, "late", row).unwrap(),
                        partition: partition.clone(),
                    });
                }
            }
        }
    }
    out.sort();
    out
}

/// The session of event `id` among `rows` (which must hold it).
pub fn session_of(rows: &[RawRow], id: &str) -> Option<String> {
    rows.iter()
        .find(|r| r.event_id == id)
        .unwrap_or_else(|| panic!("no raw row of {id}"))
        .session_id
        .clone()
}

/// Everything downstream of the log, in comparable form.
#[derive(Debug, PartialEq)]
pub struct Outputs {
    pub raw: Vec<RawRow>,
    pub sessions: Vec<spoor_pipeline::sessionize::Session>,
    pub realtime: Vec<spoor_pipeline::realtime::RealtimeRow>,
    pub identities: BTreeMap<String, String>,
    pub metrics: spoor_pipeline::metrics::Metrics,
}

pub fn outputs(data_dir: &Path) -> Outputs {
    let mut metrics = spoor_pipeline::metrics::read(data_dir).unwrap();
    metrics.commits = 0; // depends on how the log was cut into ranges
    Outputs {
        raw: raw_rows(data_dir),
        sessions: spoor_pipeline::sessionize::read(data_dir).unwrap(),
        realtime: spoor_pipeline::realtime::read(data_dir).unwrap(),
        identities: spoor_pipeline::identity::read(data_dir)
            .unwrap()
            .into_iter()
            .collect(),
        metrics,
    }
}

pub fn distinct_event_ids(rows: &[RawRow]) -> usize {
    rows.iter()
        .map(|r| &r.event_id)
        .collect::<BTreeSet<_>>()
        .len()
}

/// A realistic mix: several people over two hours, page views, purchases, an identify,
/// duplicates a few minutes apart, late events.
pub fn mixed_traffic(n_people: usize) -> Vec<StoredEvent> {
    let mut out = Vec::new();
    let start = t0();
    for minute in 0..120i64 {
        for p in 0..n_people {
            if (minute + p as i64) % 7 == 0 {
                continue; // gaps make several sessions
            }
            let anon = format!("anon{p}");
            let t = start + minute * MIN + (p as i64 * 997) % MIN;
            let id = format!("e-{p}-{minute}");
            let e = if minute % 10 == 3 {
                with_props(
                    track(&id, "purchase_completed", &anon, t, 500),
                    json!({"orderId": id, "revenue": 10.5, "currency": "EUR", "items": 2}),
                )
            } else {
                let mut e = with_props(
                    track(&id, "page_viewed", &anon, t, 500),
                    json!({"path": format!("/p{}", minute % 5)}),
                );
                e.event_type = EventType::Page;
                e
            };
            out.push(e.clone());
            if minute % 13 == 0 {
                let mut dup = e;
                dup.received_at = format_ms(t + 4 * MIN);
                out.push(dup);
            }
            if minute == 60 && p % 2 == 0 {
                out.push(identify(
                    &format!("id-{p}"),
                    &anon,
                    &format!("user{}", p / 2),
                    t + 1,
                ));
            }
            if minute % 17 == 5 {
                // A late event: 40 minutes behind, arriving now.
                let mut late = track(
                    &format!("late-{p}-{minute}"),
                    "product_clicked",
                    &anon,
                    t - 40 * MIN,
                    0,
                );
                late.received_at = format_ms(t);
                out.push(late);
            }
        }
    }
    out
}

/// Asserts two outputs are equal, printing only the first difference of each part.
pub fn assert_same(got: &Outputs, want: &Outputs) {
    fn first_diff<T: std::fmt::Debug + PartialEq>(what: &str, got: &[T], want: &[T]) {
        if got == want {
            return;
        }
        let i = got
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "{what} differ ({} vs {} rows); first difference at {i}:\n got: {:?}\nwant: {:?}",
            got.len(),
            want.len(),
            got.get(i),
            want.get(i)
        );
    }
    first_diff("raw rows", &got.raw, &want.raw);
    if got.sessions != want.sessions {
        let brief = |v: &[spoor_pipeline::sessionize::Session]| -> Vec<String> {
            v.iter()
                .map(|s| {
                    format!(
                        "{} {} {} {}",
                        s.person_id, s.start_time, s.event_count, s.first_event_id
                    )
                })
                .collect()
        };
        panic!(
            "sessions differ:\n got: {:?}\nwant: {:?}",
            brief(&got.sessions),
            brief(&want.sessions)
        );
    }
    first_diff("realtime rows", &got.realtime, &want.realtime);
    let gi: Vec<_> = got.identities.iter().collect();
    let wi: Vec<_> = want.identities.iter().collect();
    first_diff("identities", &gi, &wi);
    assert_eq!(got.metrics, want.metrics);
}
