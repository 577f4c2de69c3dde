//! Real-time aggregates: per minute of event time, counts by event name and
//! source, distinct persons, revenue of purchases.
//!
//! The streaming path counts only events within the allowed lateness; a minute
//! closes when the watermark passes its end and is then written to
//! `tables/realtime/part-A-B.parquet`. Minutes still open are in
//! `tables/realtime/open.parquet` and in the checkpoint. The relay serves
//! [`read`] at `GET /api/analytics/realtime`.
//!
//! Events later than that are corrected by the batch path ([`correct`]): once
//! the watermark has passed the whole hour such an event falls into (by the
//! `recent_session_hours` the sessionizer keeps closed sessions for), every
//! minute of that hour is counted again from `raw/` (which holds every
//! deduplicated event, late or not) into `tables/realtime/late-hour-H.parquet`
//! (H: the hour's start, epoch ms), and [`read`] takes that file's rows for the
//! hour instead of the streaming rows.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Float64Array, Float64Builder, Int64Builder, RecordBatch, StringArray,
    StringBuilder, TimestampMillisecondArray, TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

use crate::columns;
use crate::error::PipelineError;
use crate::event::stored_revenue;
use crate::fingerprint::{FingerprintBuild, fingerprint};
use crate::late_sessions::{self, LateConfig};
use crate::layout::Layout;
use crate::range_file;
use crate::sink::parquet_file::{self, timestamp_type};
use crate::stage::{Batch, CommitContext, Stage};
use crate::timefmt::{HOUR_MS, date_hour_partition};
use crate::writer::Output;

/// File name of the open minutes in `tables/realtime`.
pub const OPEN_FILE: &str = "open.parquet";

/// Name prefix of an hour counted again by the batch path: `late-hour-H.parquet`.
const LATE_HOUR_PREFIX: &str = "late-hour-";

/// The raw columns the batch path counts from, with the revenue from the typed `revenue`
/// column (a registry property: the same number the streaming path reads from the
/// properties), or else from the `properties` text.
const COUNTED_COLUMNS: [&str; 6] = [
    "event_time",
    "person_id",
    "source",
    "event_name",
    "type",
    "revenue",
];

/// Start (epoch ms) of the hour holding `ms`.
pub fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS) * HOUR_MS
}

/// One row of the realtime table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RealtimeRow {
    /// Start of the minute (epoch ms).
    pub minute: i64,
    /// Event name; `None` for the minute's total.
    pub event_name: Option<String>,
    /// Source; `None` for the minute's total.
    pub source: Option<String>,
    /// Events.
    pub events: i64,
    /// Distinct persons.
    pub persons: i64,
    /// Sum of the `revenue` property.
    pub revenue: f64,
}

/// Counters of one group in one minute (checkpointed).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Counts {
    /// Events.
    pub events: i64,
    /// Revenue.
    pub revenue: f64,
    /// Fingerprints of the distinct persons.
    pub persons: Vec<u64>,
    #[serde(skip)]
    seen: HashSet<u64, FingerprintBuild>,
}

impl Counts {
    fn add(&mut self, person: u64, revenue: Option<f64>) {
        self.events += 1;
        if let Some(r) = revenue {
            self.revenue += r;
        }
        if self.seen.len() < self.persons.len() {
            self.seen.extend(self.persons.iter().copied());
        }
        if self.seen.insert(person) {
            self.persons.push(person);
        }
    }
}

/// One open minute (checkpointed).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Minute {
    /// All events of the minute.
    pub total: Counts,
    /// By (event name, source).
    pub groups: BTreeMap<String, BTreeMap<String, Counts>>,
}

/// The realtime aggregation stage.
pub struct Realtime {
    open: BTreeMap<i64, Minute>,
    closed: Vec<RealtimeRow>,
}

impl Realtime {
    /// Aggregates with the open minutes of a checkpoint.
    pub fn new(open: BTreeMap<i64, Minute>) -> Self {
        Realtime {
            open,
            closed: Vec::new(),
        }
    }

    /// The open minutes, for the checkpoint.
    pub fn open_minutes(&self) -> &BTreeMap<i64, Minute> {
        &self.open
    }

    fn rows(minute: i64, m: &Minute, out: &mut Vec<RealtimeRow>) {
        let row = |name: Option<&str>, source: Option<&str>, c: &Counts| RealtimeRow {
            minute,
            event_name: name.map(str::to_string),
            source: source.map(str::to_string),
            events: c.events,
            persons: c.persons.len() as i64,
            revenue: c.revenue,
        };
        out.push(row(None, None, &m.total));
        for (name, sources) in &m.groups {
            for (source, c) in sources {
                out.push(row(Some(name), Some(source), c));
            }
        }
    }

    /// Rows of the open minutes.
    pub fn open_rows(&self) -> Vec<RealtimeRow> {
        let mut out = Vec::new();
        for (minute, m) in &self.open {
            Self::rows(*minute, m, &mut out);
        }
        out
    }
}

impl Stage for Realtime {
    fn name(&self) -> &'static str {
        "realtime"
    }

    fn process(&mut self, batch: &mut Batch<'_>) {
        for event in &batch.events {
            if event.duplicate || event.late {
                continue;
            }
            count(
                &mut self.open,
                event.event_time,
                &event.person_id,
                event.partition_name(),
                &event.source,
                event.revenue,
            );
        }
    }

    fn commit(
        &mut self,
        _batch: &Batch<'_>,
        ctx: &CommitContext<'_>,
    ) -> Result<Vec<Output>, PipelineError> {
        let still_open = self
            .open
            .split_off(&ctx.watermark.saturating_sub(60_000).saturating_add(1));
        let closing = std::mem::replace(&mut self.open, still_open);
        for (minute, m) in &closing {
            Self::rows(*minute, m, &mut self.closed);
        }
        let closed = std::mem::take(&mut self.closed);
        ctx.table_file(ctx.layout.realtime(), closed.is_empty(), move || {
            to_batch(&closed)
        })
    }

    fn persist(&mut self, layout: &Layout, zstd_level: i32) -> Result<Vec<Output>, PipelineError> {
        let open = to_batch(&self.open_rows())?;
        let path = layout.realtime().join(OPEN_FILE);
        Ok(vec![Output::parquet(path, open, zstd_level)])
    }
}

/// Counts one event into its minute of `minutes`.
fn count(
    minutes: &mut BTreeMap<i64, Minute>,
    event_time: i64,
    person_id: &str,
    name: &str,
    source: &str,
    revenue: Option<f64>,
) {
    let minute = event_time.div_euclid(60_000) * 60_000;
    let person = fingerprint(&[person_id]);
    let m = minutes.entry(minute).or_default();
    m.total.add(person, revenue);
    let sources = match m.groups.get_mut(name) {
        Some(s) => s,
        None => m.groups.entry(name.to_string()).or_default(),
    };
    let counts = match sources.get_mut(source) {
        Some(c) => c,
        None => sources.entry(source.to_string()).or_default(),
    };
    counts.add(person, revenue);
}

/// The batch path's correction (see the module docs): counts every minute of each
/// of `hours` (starts, epoch ms) again from the committed raw files into its
/// `late-hour-H.parquet`; returns the hours the watermark has not passed by
/// `recent_ms` yet, which wait for a later pass. Counting again gives the same file, so a pass
/// cut short is simply run again.
pub fn correct(
    config: &LateConfig<'_>,
    hours: &BTreeSet<i64>,
) -> Result<BTreeSet<i64>, PipelineError> {
    let mut waiting = BTreeSet::new();
    let dir = config.layout.realtime();
    let mut written = false;
    for &hour in hours {
        // Counted once the hour is settled: the watermark past its end by the hours the
        // streaming path keeps closed sessions for (late events come in bursts; counting
        // an hour at each would read it again and again).
        if hour
            .saturating_add(HOUR_MS)
            .saturating_add(config.recent_ms)
            > config.watermark
        {
            waiting.insert(hour);
            continue;
        }
        let rows = count_raw_hour(config, hour)?;
        if !written {
            std::fs::create_dir_all(&dir).map_err(|e| PipelineError::io("create", &dir, e))?;
        }
        let path = dir.join(format!("{LATE_HOUR_PREFIX}{hour}.parquet"));
        parquet_file::write_durable(
            &path,
            to_batch(&rows)?,
            parquet_file::properties(config.zstd_level),
        )?;
        written = true;
    }
    if written {
        range_file::sync_dir(&dir)?;
    }
    Ok(waiting)
}

/// The realtime rows of every minute of `hour`, counted from its committed raw files.
fn count_raw_hour(config: &LateConfig<'_>, hour: i64) -> Result<Vec<RealtimeRow>, PipelineError> {
    let mut minutes = BTreeMap::new();
    for path in late_sessions::raw_files(config, &date_hour_partition(hour))? {
        let (batches, typed_revenue) = counted_columns(&path)?;
        for batch in batches {
            let missing = || PipelineError::content(&path, "a raw file without a counted column");
            let text = |name| columns::array::<StringArray>(&batch, name).ok_or_else(missing);
            let (person, source, name, kind) = (
                text("person_id")?,
                text("source")?,
                text("event_name")?,
                text("type")?,
            );
            let time = columns::array::<TimestampMillisecondArray>(&batch, "event_time")
                .ok_or_else(missing)?;
            let revenue = columns::array::<Float64Array>(&batch, "revenue");
            let properties = columns::array::<StringArray>(&batch, "properties");
            for row in 0..batch.num_rows() {
                if time.is_null(row) || person.is_null(row) || source.is_null(row) {
                    return Err(PipelineError::content(
                        &path,
                        "a row without event_time, person_id or source",
                    ));
                }
                let name = if name.is_valid(row) {
                    name.value(row)
                } else if kind.is_valid(row) {
                    kind.value(row)
                } else {
                    ""
                };
                let revenue = if typed_revenue {
                    revenue.filter(|r| r.is_valid(row)).map(|r| r.value(row))
                } else {
                    properties
                        .filter(|p| p.is_valid(row))
                        .and_then(|p| stored_revenue(p.value(row)))
                };
                count(
                    &mut minutes,
                    time.value(row),
                    person.value(row),
                    name,
                    source.value(row),
                    revenue,
                );
            }
        }
    }
    let mut rows = Vec::new();
    for (minute, m) in &minutes {
        Realtime::rows(*minute, m, &mut rows);
    }
    Ok(rows)
}

/// The [`COUNTED_COLUMNS`] of a raw file, with `properties` in place of a `revenue` column
/// the file does not have as a number; true when it has.
fn counted_columns(path: &Path) -> Result<(Vec<RecordBatch>, bool), PipelineError> {
    let batches = parquet_file::read_columns(path, &COUNTED_COLUMNS)?;
    let typed_revenue = batches.first().is_none_or(|b| {
        b.schema()
            .field_with_name("revenue")
            .is_ok_and(|f| *f.data_type() == DataType::Float64)
    });
    if typed_revenue {
        return Ok((batches, true));
    }
    let mut names = COUNTED_COLUMNS;
    names[5] = "properties";
    Ok((parquet_file::read_columns(path, &names)?, false))
}

/// The hours counted again by the batch path, with their files.
fn late_hour_files(dir: &Path) -> Result<BTreeMap<i64, std::path::PathBuf>, PipelineError> {
    let mut out = BTreeMap::new();
    for entry in range_file::entries(dir)? {
        let name = entry.file_name();
        let hour = name
            .to_str()
            .and_then(|n| n.strip_prefix(LATE_HOUR_PREFIX))
            .and_then(|n| n.strip_suffix(".parquet"))
            .and_then(|n| n.parse::<i64>().ok());
        if let Some(hour) = hour {
            out.insert(hour, entry.path());
        }
    }
    Ok(out)
}

/// Arrow schema of the realtime table.
pub fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("minute", timestamp_type(), false),
        Field::new("event_name", DataType::Utf8, true),
        Field::new("source", DataType::Utf8, true),
        Field::new("events", DataType::Int64, false),
        Field::new("persons", DataType::Int64, false),
        Field::new("revenue", DataType::Float64, false),
    ]))
}

fn to_batch(rows: &[RealtimeRow]) -> Result<RecordBatch, PipelineError> {
    let mut minute = TimestampMillisecondBuilder::new().with_timezone("UTC");
    let mut name = StringBuilder::new();
    let mut source = StringBuilder::new();
    let mut events = Int64Builder::new();
    let mut persons = Int64Builder::new();
    let mut revenue = Float64Builder::new();
    for r in rows {
        minute.append_value(r.minute);
        name.append_option(r.event_name.as_deref());
        source.append_option(r.source.as_deref());
        events.append_value(r.events);
        persons.append_value(r.persons);
        revenue.append_value(r.revenue);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(minute.finish()),
        Arc::new(name.finish()),
        Arc::new(source.finish()),
        Arc::new(events.finish()),
        Arc::new(persons.finish()),
        Arc::new(revenue.finish()),
    ];
    Ok(RecordBatch::try_new(schema(), columns)?)
}

/// Every realtime row of `data_dir` (closed and open minutes), by minute, then name and source
/// (the minute's total first).
pub fn read(data_dir: &Path) -> Result<Vec<RealtimeRow>, PipelineError> {
    read_since(data_dir, i64::MIN)
}

/// The realtime rows of minutes starting at or after `since_ms` (epoch ms).
pub fn read_since(data_dir: &Path, since_ms: i64) -> Result<Vec<RealtimeRow>, PipelineError> {
    // The pipeline may merge these files while they are read.
    range_file::retry_vanished(PipelineError::is_not_found, || {
        read_since_once(data_dir, since_ms)
    })
}

fn read_since_once(data_dir: &Path, since_ms: i64) -> Result<Vec<RealtimeRow>, PipelineError> {
    let layout = Layout::new(data_dir);
    let committed = crate::checkpoint::committed_offset(data_dir)?;
    let dir = layout.realtime();
    let mut paths: Vec<_> = range_file::list_current(&dir)?
        .into_iter()
        .filter(|f| f.last < committed)
        .map(|f| f.path)
        .collect();
    let open = dir.join(OPEN_FILE);
    if open.exists() {
        paths.push(open);
    }
    // An hour the batch path counted again is read from its file alone.
    let late = late_hour_files(&dir)?;
    let streamed = paths.len();
    paths.extend(late.values().cloned());
    let mut out = Vec::new();
    for (index, path) in paths.into_iter().enumerate() {
        for batch in parquet_file::read(&path)? {
            for row in 0..batch.num_rows() {
                let minute = columns::timestamp(&batch, "minute", row).unwrap_or_default();
                if minute < since_ms || (index < streamed && late.contains_key(&hour_of(minute))) {
                    continue;
                }
                out.push(RealtimeRow {
                    minute,
                    event_name: columns::text(&batch, "event_name", row),
                    source: columns::text(&batch, "source", row),
                    events: columns::int(&batch, "events", row).unwrap_or_default(),
                    persons: columns::int(&batch, "persons", row).unwrap_or_default(),
                    revenue: columns::float(&batch, "revenue", row).unwrap_or_default(),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        (a.minute, &a.event_name, &a.source).cmp(&(b.minute, &b.event_name, &b.source))
    });
    Ok(out)
}
