//! Real-time aggregates: per minute of event time, counts by event name and
//! source, distinct persons, revenue of purchases.
//!
//! Only events within the allowed lateness count; a minute closes when the
//! watermark passes its end and is then written to
//! `tables/realtime/part-A-B.parquet`. Minutes still open are in
//! `tables/realtime/open.parquet` and in the checkpoint. The relay serves
//! [`read`] at `GET /api/analytics/realtime`.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Builder, Int64Builder, RecordBatch, StringBuilder, TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

use crate::columns;
use crate::error::PipelineError;
use crate::fingerprint::{FingerprintBuild, fingerprint};
use crate::layout::Layout;
use crate::range_file;
use crate::sink::parquet_file::{self, timestamp_type};
use crate::stage::{Batch, CommitContext, Stage};
use crate::writer::Output;

/// File name of the open minutes in `tables/realtime`.
pub const OPEN_FILE: &str = "open.parquet";

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
            let minute = event.event_time.div_euclid(60_000) * 60_000;
            let person = fingerprint(&[&event.person_id]);
            let m = self.open.entry(minute).or_default();
            m.total.add(person, event.revenue);
            let name = event.partition_name();
            let sources = match m.groups.get_mut(name) {
                Some(s) => s,
                None => m.groups.entry(name.to_string()).or_default(),
            };
            let counts = match sources.get_mut(event.source.as_ref()) {
                Some(c) => c,
                None => sources.entry(event.source.to_string()).or_default(),
            };
            counts.add(person, event.revenue);
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
    let layout = Layout::new(data_dir);
    let committed = crate::checkpoint::committed_offset(data_dir)?;
    let dir = layout.realtime();
    let mut paths: Vec<_> = range_file::list(&dir)?
        .into_iter()
        .filter(|f| f.last < committed)
        .map(|f| f.path)
        .collect();
    let open = dir.join(OPEN_FILE);
    if open.exists() {
        paths.push(open);
    }
    let mut out = Vec::new();
    for path in paths {
        for batch in parquet_file::read(&path)? {
            for row in 0..batch.num_rows() {
                let minute = columns::timestamp(&batch, "minute", row).unwrap_or_default();
                if minute < since_ms {
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
