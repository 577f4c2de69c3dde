//! Raw storage: every deduplicated event as a row of Hive-partitioned Parquet,
//! `raw/date=YYYY-MM-DD/hour=HH/event=NAME/source=SRC/part-A-B.parquet`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampMillisecondBuilder, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema};

use crate::error::PipelineError;
use crate::event::{Event, TypedValue};
use crate::range_file;
use crate::registry::{ColumnType, TypedColumns};
use crate::sessionize::session_id_text;
use crate::sink::parquet_file::{self, timestamp_type};
use crate::stage::{Batch, CommitContext, Stage};
use crate::timefmt::date_hour_partition;

/// The raw Parquet sink.
pub struct RawSink {
    columns: TypedColumns,
    schema: Arc<Schema>,
    /// Partition folders written since the last compaction.
    pub touched: BTreeSet<PathBuf>,
}

impl RawSink {
    /// A sink writing the base columns plus `columns`.
    pub fn new(columns: TypedColumns) -> Self {
        let schema = raw_schema(&columns);
        RawSink {
            columns,
            schema,
            touched: BTreeSet::new(),
        }
    }

    /// The schema of raw files.
    pub fn schema(&self) -> Arc<Schema> {
        self.schema.clone()
    }

    fn build(&self, events: &[&Event<'_>]) -> Result<RecordBatch, PipelineError> {
        let n = events.len();
        let time = |f: fn(&Event<'_>) -> i64| -> ArrayRef {
            let mut b = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
            for e in events {
                b.append_value(f(e));
            }
            Arc::new(b.finish())
        };
        let mut late = BooleanBuilder::with_capacity(n);
        let mut offset = UInt64Builder::with_capacity(n);
        let mut session = StringBuilder::with_capacity(n, n * 16);
        for e in events {
            late.append_value(e.late);
            offset.append_value(e.offset);
            session.append_option(e.session_id.map(session_id_text));
        }
        let mut columns: Vec<ArrayRef> = vec![
            text_col(events, |e| Some(&e.event_id)),
            text_col(events, |e| e.event_name.as_deref()),
            text_col(events, |e| Some(e.event_type.as_str())),
            text_col(events, |e| e.user_id.as_deref()),
            text_col(events, |e| e.anonymous_id.as_deref()),
            text_col(events, |e| Some(&e.person_id)),
            Arc::new(session.finish()),
            time(|e| e.event_time),
            text_col(events, |e| e.client_timestamp.as_deref()),
            text_col(events, |e| e.sent_at.as_deref()),
            time(|e| e.received_at),
            text_col(events, |e| Some(&e.source)),
            text_col(events, |e| Some(e.properties)),
            text_col(events, |e| Some(e.context)),
            text_col(events, |e| Some(e.traits)),
            text_col(events, |e| e.previous_id.as_deref()),
            text_col(events, |e| e.group_id.as_deref()),
            text_col(events, |e| e.utm_source.as_deref()),
            text_col(events, |e| e.utm_medium.as_deref()),
            text_col(events, |e| e.utm_campaign.as_deref()),
            text_col(events, |e| e.referrer.as_deref()),
            Arc::new(late.finish()),
            Arc::new(offset.finish()),
        ];
        for (i, col) in self.columns.columns().iter().enumerate() {
            let array: ArrayRef = match col.kind {
                ColumnType::Text => {
                    let mut b = StringBuilder::new();
                    for e in events {
                        match typed_of(e, i) {
                            Some(TypedValue::Text(t)) => b.append_value(t.as_ref()),
                            _ => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
                ColumnType::Integer => {
                    let mut b = Int64Builder::with_capacity(n);
                    for e in events {
                        match typed_of(e, i) {
                            Some(TypedValue::Integer(v)) => b.append_value(*v),
                            _ => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
                ColumnType::Number => {
                    let mut b = Float64Builder::with_capacity(n);
                    for e in events {
                        match typed_of(e, i) {
                            Some(TypedValue::Number(v)) => b.append_value(*v),
                            Some(TypedValue::Integer(v)) => b.append_value(*v as f64),
                            _ => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
                ColumnType::Boolean => {
                    let mut b = BooleanBuilder::with_capacity(n);
                    for e in events {
                        match typed_of(e, i) {
                            Some(TypedValue::Boolean(v)) => b.append_value(*v),
                            _ => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
            };
            columns.push(array);
        }
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

fn typed_of<'x>(e: &'x Event<'_>, column: usize) -> Option<&'x TypedValue<'x>> {
    e.typed.iter().find(|(c, _)| *c == column).map(|(_, v)| v)
}

fn text_col<'e, 'a: 'e>(
    events: &[&'e Event<'a>],
    f: impl Fn(&'e Event<'a>) -> Option<&'e str>,
) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(events.len(), events.len() * 16);
    for e in events {
        b.append_option(f(e));
    }
    Arc::new(b.finish())
}

/// The Arrow schema of raw files for these typed columns.
pub fn raw_schema(columns: &TypedColumns) -> Arc<Schema> {
    let text = |n: &str, null: bool| Field::new(n, DataType::Utf8, null);
    let mut fields = vec![
        text("event_id", false),
        text("event_name", true),
        text("type", false),
        text("user_id", true),
        text("anonymous_id", true),
        text("person_id", false),
        text("session_id", true),
        Field::new("event_time", timestamp_type(), false),
        text("client_timestamp", true),
        text("sent_at", true),
        Field::new("received_at", timestamp_type(), false),
        text("source", false),
        text("properties", false),
        text("context", false),
        text("traits", false),
        text("previous_id", true),
        text("group_id", true),
        text("utm_source", true),
        text("utm_medium", true),
        text("utm_campaign", true),
        text("referrer", true),
        Field::new("late", DataType::Boolean, false),
        Field::new("log_offset", DataType::UInt64, false),
    ];
    for c in columns.columns() {
        let t = match c.kind {
            ColumnType::Text => DataType::Utf8,
            ColumnType::Integer => DataType::Int64,
            ColumnType::Number => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
        };
        fields.push(Field::new(&c.column, t, true));
    }
    Arc::new(Schema::new(fields))
}

/// A Hive partition value: bytes outside `[A-Za-z0-9_.-]` percent-encoded; empty becomes `__empty`.
pub fn encode_partition_value(value: &str) -> String {
    if value.is_empty() {
        return "__empty".into();
    }
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.starts_with('.') {
        out.replace_range(0..1, "%2E");
    }
    out
}

/// `date=…/hour=…/event=…/source=…` of an event.
pub fn partition_of(event: &Event<'_>) -> String {
    format!(
        "{}/event={}/source={}",
        date_hour_partition(event.event_time),
        encode_partition_value(event.partition_name()),
        encode_partition_value(&event.source)
    )
}

impl Stage for RawSink {
    fn name(&self) -> &'static str {
        "raw"
    }

    fn process(&mut self, _batch: &mut Batch<'_>) {}

    fn commit(&mut self, batch: &Batch<'_>, ctx: &CommitContext<'_>) -> Result<(), PipelineError> {
        if !ctx.write {
            return Ok(());
        }
        let mut parts: BTreeMap<String, Vec<&Event<'_>>> = BTreeMap::new();
        for e in batch.events.iter().filter(|e| !e.duplicate) {
            parts.entry(partition_of(e)).or_default().push(e);
        }
        if parts.is_empty() {
            return Ok(());
        }
        let root = ctx.layout.raw();
        let name = range_file::file_name(ctx.first, ctx.last, "parquet");
        let jobs: Vec<(PathBuf, Vec<&Event<'_>>)> = parts
            .into_iter()
            .map(|(p, rows)| (root.join(p), rows))
            .collect();
        for (dir, _) in &jobs {
            std::fs::create_dir_all(dir).map_err(|e| PipelineError::io("create dir", dir, e))?;
        }
        let threads = ctx.threads.max(1).min(jobs.len());
        let write_one = |dir: &Path, rows: &[&Event<'_>]| -> Result<PathBuf, PipelineError> {
            let batch = self.build(rows)?;
            parquet_file::write_unsynced(
                &dir.join(&name),
                self.schema.clone(),
                &[batch],
                ctx.zstd_level,
            )
        };
        let results: Vec<Result<Vec<PathBuf>, PipelineError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let jobs = &jobs;
                    let write_one = &write_one;
                    scope.spawn(move || {
                        let mut written = Vec::new();
                        for (dir, rows) in jobs.iter().skip(t).step_by(threads) {
                            written.push(write_one(dir, rows)?);
                        }
                        Ok(written)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(Err(PipelineError::Panicked)))
                .collect()
        });
        let mut temps = Vec::new();
        for r in results {
            temps.extend(r?);
        }
        // One flush for all files of the range, then the renames, then one more for the names.
        range_file::sync_filesystem(&root, &temps)?;
        let mut finals = Vec::with_capacity(jobs.len());
        for (dir, _) in &jobs {
            let path = dir.join(&name);
            let tmp = range_file::temp_path(&path);
            std::fs::rename(&tmp, &path).map_err(|e| PipelineError::io("rename", &path, e))?;
            finals.push(path);
        }
        range_file::sync_filesystem(&root, &finals)?;
        for (dir, _) in jobs {
            self.touched.insert(dir);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_are_path_safe() {
        assert_eq!(encode_partition_value("page_viewed"), "page_viewed");
        assert_eq!(encode_partition_value("a/b c"), "a%2Fb%20c");
        assert_eq!(encode_partition_value(".."), "%2E.");
        assert_eq!(encode_partition_value(""), "__empty");
    }
}
