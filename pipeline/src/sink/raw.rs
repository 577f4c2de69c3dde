//! Raw storage: every deduplicated event as a row of Hive-partitioned Parquet,
//! `raw/date=YYYY-MM-DD/hour=HH/event=NAME/source=SRC/part-A-B.parquet`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::Array;
use arrow::array::{
    ArrayRef, BooleanArray, BooleanBuilder, Float64Array, Int64Array, RecordBatch, StringArray,
    StringBuilder, TimestampMillisecondBuilder, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterPropertiesBuilder};
use parquet::schema::types::ColumnPath;
use rustc_hash::FxHashMap;

use crate::error::PipelineError;
use crate::event::{Event, TypedValue};
use crate::layout::Layout;
use crate::range_file;
use crate::registry::{ColumnType, TypedColumns};
use crate::sink::parquet_file::{self, timestamp_type};
use crate::stage::{Batch, CommitContext, Stage};
use crate::timefmt::{HOUR_MS, date_hour_partition};
use crate::writer::Output;

/// A partition's rows are written once it has this many since its last file and its hour has
/// passed (or at the next commit): a range's late events touch many old partitions with a row
/// or two each, and a file per range for those would cost a file's fixed work (create, 44
/// column chunks) per row.
const FILE_MIN_ROWS: usize = 512;

/// Held rows, over all partitions, beyond which a range writes the biggest partitions' rows.
/// Holding an hour's rows until the hour has passed makes one file of them where a file per
/// range would have to be merged again by compaction.
const MAX_HELD_ROWS: usize = 100_000;

/// The raw Parquet sink.
pub struct RawSink {
    columns: TypedColumns,
    schema: Arc<Schema>,
    /// Rows of partitions not written yet (fewer than [`FILE_MIN_ROWS`]), by partition path.
    held: BTreeMap<String, Held>,
    /// Partition folders written since the last compaction.
    pub touched: BTreeSet<PathBuf>,
    /// The newest event time seen (epoch ms): the hours before it have passed.
    newest: i64,
}

/// Rows of one partition waiting for a file: built batches, from the range starting at `first` on.
struct Held {
    first: u64,
    /// End of the partition's hour (epoch ms).
    hour_end: i64,
    batches: Vec<RecordBatch>,
    rows: usize,
}

impl RawSink {
    /// A sink writing the base columns plus `columns`.
    pub fn new(columns: TypedColumns) -> Self {
        let schema = raw_schema(&columns);
        RawSink {
            columns,
            schema,
            held: BTreeMap::new(),
            touched: BTreeSet::new(),
            newest: i64::MIN,
        }
    }

    /// Files for every held row, named as covering offsets up to `last` (the last range
    /// processed); the runner writes them before each commit's sync, so no committed range
    /// leaves rows behind in memory.
    pub fn release_held(
        &mut self,
        layout: &Layout,
        last: u64,
        zstd_level: i32,
    ) -> Result<Vec<Output>, PipelineError> {
        std::mem::take(&mut self.held)
            .into_iter()
            .map(|(part, h)| self.file(layout, &part, h, last, zstd_level))
            .collect()
    }

    /// The file of a partition's held rows, covering offsets `held.first..=last`.
    fn file(
        &mut self,
        layout: &Layout,
        part: &str,
        held: Held,
        last: u64,
        zstd_level: i32,
    ) -> Result<Output, PipelineError> {
        let dir = layout.raw().join(part);
        let output = Output::Parquet {
            path: dir.join(range_file::file_name(held.first, last, "parquet")),
            props: Box::new(file_properties(&held.batches, zstd_level)),
            schema: self.schema.clone(),
            batches: held.batches,
        };
        self.touched.insert(dir);
        Ok(output)
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
        let mut id_buf = [0u8; 16];
        for e in events {
            late.append_value(e.late);
            offset.append_value(e.offset);
            match e.session_id {
                Some(id) => session.append_value(session_id_hex(id, &mut id_buf)),
                None => session.append_null(),
            }
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
        // Typed columns in one pass over the events: each event carries only the few values it has.
        let mut typed: Vec<TypedBuilder> = self
            .columns
            .columns()
            .iter()
            .map(|c| TypedBuilder::new(c.kind))
            .collect();
        for (row, e) in events.iter().enumerate() {
            for (i, v) in &e.typed {
                if let Some(b) = typed.get_mut(*i) {
                    b.set(row, v);
                }
            }
        }
        for b in typed {
            columns.push(b.finish(n));
        }
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

/// The values of one typed column, gathered sparsely as (row, value) and turned into an array at
/// the end (each event carries only the few typed values it has).
enum TypedBuilder<'x> {
    Text(Vec<(usize, &'x str)>),
    Integer(Vec<(usize, i64)>),
    Number(Vec<(usize, f64)>),
    Boolean(Vec<(usize, bool)>),
}

/// Rows `0..n` of `values` (sorted by row): the value for the rows that have one, `None` for the rest.
fn dense<T: Copy>(n: usize, values: &[(usize, T)]) -> Vec<Option<T>> {
    let mut rows = vec![None; n];
    for &(row, v) in values {
        if let Some(slot) = rows.get_mut(row) {
            *slot = Some(v);
        }
    }
    rows
}

impl<'x> TypedBuilder<'x> {
    fn new(kind: ColumnType) -> Self {
        match kind {
            ColumnType::Text => TypedBuilder::Text(Vec::new()),
            ColumnType::Integer => TypedBuilder::Integer(Vec::new()),
            ColumnType::Number => TypedBuilder::Number(Vec::new()),
            ColumnType::Boolean => TypedBuilder::Boolean(Vec::new()),
        }
    }

    /// Records the value of `row`; rows come in order and the first value of a row wins.
    fn set(&mut self, row: usize, v: &'x TypedValue<'x>) {
        fn fresh<T>(out: &[(usize, T)], row: usize) -> bool {
            out.last().is_none_or(|x| x.0 != row)
        }
        match (self, v) {
            (TypedBuilder::Text(out), TypedValue::Text(t)) if fresh(out, row) => {
                out.push((row, t.as_ref()))
            }
            (TypedBuilder::Integer(out), TypedValue::Integer(x)) if fresh(out, row) => {
                out.push((row, *x))
            }
            (TypedBuilder::Number(out), TypedValue::Number(x)) if fresh(out, row) => {
                out.push((row, *x))
            }
            (TypedBuilder::Number(out), TypedValue::Integer(x)) if fresh(out, row) => {
                out.push((row, *x as f64))
            }
            (TypedBuilder::Boolean(out), TypedValue::Boolean(x)) if fresh(out, row) => {
                out.push((row, *x))
            }
            _ => {}
        }
    }

    fn finish(self, n: usize) -> ArrayRef {
        match self {
            TypedBuilder::Text(values) => Arc::new(StringArray::from(dense(n, &values))),
            TypedBuilder::Integer(values) => Arc::new(Int64Array::from(dense(n, &values))),
            TypedBuilder::Number(values) => Arc::new(Float64Array::from(dense(n, &values))),
            TypedBuilder::Boolean(values) => Arc::new(BooleanArray::from(dense(n, &values))),
        }
    }
}

/// A session id as 16 lowercase hex digits, written into `buf`.
fn session_id_hex(id: u64, buf: &mut [u8; 16]) -> &str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in buf.iter_mut().enumerate() {
        *b = HEX[((id >> (60 - 4 * i)) & 0xf) as usize];
    }
    std::str::from_utf8(buf).unwrap_or("")
}

fn text_col<'e, 'a: 'e>(
    events: &[&'e Event<'a>],
    f: impl Fn(&'e Event<'a>) -> Option<&'e str>,
) -> ArrayRef {
    let bytes = events.iter().map(|e| f(e).map_or(0, str::len)).sum();
    let mut b = StringBuilder::with_capacity(events.len(), bytes);
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

/// JSON text columns: min/max statistics of them help no reader.
const NO_STATISTICS_COLUMNS: &[&str] = &["properties", "context", "traits"];

/// Writer settings for one raw file of `batches`: zstd, except for columns that are null in every row (their
/// pages hold only definition levels, so a compressor would cost a context for nothing); no
/// dictionary for per-row-unique columns ([`parquet_file::properties_builder`]); no statistics on
/// JSON text.
pub fn file_properties(batches: &[RecordBatch], level: i32) -> WriterProperties {
    let mut b = raw_properties(level);
    let Some(first) = batches.first() else {
        return b.build();
    };
    for (i, field) in first.schema().fields().iter().enumerate() {
        let columns = || batches.iter().filter_map(|batch| batch.columns().get(i));
        let nulls: usize = columns().map(|c| c.null_count()).sum();
        let rows: usize = columns().map(|c| c.len()).sum();
        if nulls == rows {
            let path = ColumnPath::from(field.name().as_str());
            b = b
                .set_column_compression(path.clone(), Compression::UNCOMPRESSED)
                .set_column_dictionary_enabled(path, false);
        } else if columns().map(payload_bytes).sum::<usize>() < SMALL_CHUNK_BYTES {
            b = b.set_column_compression(
                ColumnPath::from(field.name().as_str()),
                Compression::UNCOMPRESSED,
            );
        }
    }
    b.build()
}

/// Column chunks whose values take fewer bytes than this are not compressed: zstd could save
/// a few hundred bytes at most, and the parquet crate sets up a compressor (and a decompressor)
/// per compressed chunk, which costs more than that saving is worth in a file of a few rows.
const SMALL_CHUNK_BYTES: usize = 1024;

/// Bytes of a column's non-null values (as Parquet's plain encoding would hold them).
fn payload_bytes(column: &ArrayRef) -> usize {
    if let Some(text) = column.as_any().downcast_ref::<StringArray>() {
        let offsets = text.value_offsets();
        let (first, last) = (offsets.first(), offsets.last());
        return first.zip(last).map_or(0, |(a, b)| (b - a).max(0) as usize);
    }
    let width = column.data_type().primitive_width().unwrap_or(1);
    (column.len() - column.null_count()) * width
}

/// Writer settings for a raw file merged from others: those of [`file_properties`] but for
/// the all-null columns (which the inputs may not share).
pub fn merged_file_properties(level: i32) -> WriterProperties {
    raw_properties(level).build()
}

fn raw_properties(level: i32) -> WriterPropertiesBuilder {
    let mut b = parquet_file::properties_builder(level);
    for name in NO_STATISTICS_COLUMNS {
        b = b.set_column_statistics_enabled(ColumnPath::from(*name), EnabledStatistics::None);
    }
    b
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
    partition_path(event.event_time, event.partition_name(), &event.source)
}

fn partition_path(event_time: i64, name: &str, source: &str) -> String {
    format!(
        "{}/event={}/source={}",
        date_hour_partition(event_time),
        encode_partition_value(name),
        encode_partition_value(source)
    )
}

impl Stage for RawSink {
    fn name(&self) -> &'static str {
        "raw"
    }

    fn process(&mut self, _batch: &mut Batch<'_>) {}

    fn commit(
        &mut self,
        batch: &Batch<'_>,
        ctx: &CommitContext<'_>,
    ) -> Result<Vec<Output>, PipelineError> {
        if !ctx.write {
            return Ok(Vec::new());
        }
        // Group by (hour, name, source) without formatting a path per event; the paths are built
        // once per partition (two keys that encode to the same path share it, in log order).
        let mut groups: FxHashMap<(i64, &str, &str), Vec<&Event<'_>>> = FxHashMap::default();
        for e in batch.events.iter().filter(|e| !e.duplicate) {
            let hour = e.event_time.div_euclid(HOUR_MS);
            self.newest = self.newest.max(e.event_time);
            groups
                .entry((hour, e.partition_name(), e.source.as_ref()))
                .or_default()
                .push(e);
        }
        let mut parts: BTreeMap<String, (i64, Vec<&Event<'_>>)> = BTreeMap::new();
        for ((hour, name, source), rows) in groups {
            let path = partition_path(hour * HOUR_MS, name, source);
            match parts.entry(path) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(((hour + 1) * HOUR_MS, rows));
                }
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    o.get_mut().1.extend(rows);
                    o.get_mut().1.sort_by_key(|e| e.offset);
                }
            }
        }
        // Every partition's rows join its held ones; a partition with enough whose hour has
        // passed gets its file, named as covering the ranges its rows came from (no other file
        // of the folder lies inside that span: every row of it since `first` is in this file).
        let mut outputs = Vec::new();
        for (part, (hour_end, rows)) in parts {
            let batch = self.build(&rows)?;
            let mut held = self.held.remove(&part).unwrap_or(Held {
                first: ctx.first,
                hour_end,
                batches: Vec::new(),
                rows: 0,
            });
            held.rows += batch.num_rows();
            held.batches.push(batch);
            self.held.insert(part, held);
        }
        let passed: Vec<String> = self
            .held
            .iter()
            .filter(|(_, h)| h.rows >= FILE_MIN_ROWS && h.hour_end <= self.newest)
            .map(|(part, _)| part.clone())
            .collect();
        for part in passed {
            if let Some(held) = self.held.remove(&part) {
                outputs.push(self.file(ctx.layout, &part, held, ctx.last, ctx.zstd_level)?);
            }
        }
        let mut held_rows: usize = self.held.values().map(|h| h.rows).sum();
        if held_rows > MAX_HELD_ROWS {
            // The biggest first, down to half the limit: the few rows of old partitions wait
            // for the commit, where more of them may have come.
            let mut by_rows: Vec<(usize, String)> =
                self.held.iter().map(|(p, h)| (h.rows, p.clone())).collect();
            by_rows.sort_unstable_by(|a, b| b.cmp(a));
            for (rows, part) in by_rows {
                if held_rows <= MAX_HELD_ROWS / 2 {
                    break;
                }
                if let Some(held) = self.held.remove(&part) {
                    held_rows -= rows;
                    outputs.push(self.file(ctx.layout, &part, held, ctx.last, ctx.zstd_level)?);
                }
            }
        }
        Ok(outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_column_chunks_are_not_compressed() {
        let big: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..100).map(|i| format!("{i:032}")),
        ));
        let small: ArrayRef = Arc::new(StringArray::from_iter(
            (0..100).map(|i| (i == 0).then_some("x")),
        ));
        let nulls: ArrayRef = Arc::new(StringArray::from_iter((0..100).map(|_| None::<&str>)));
        let batch = RecordBatch::try_from_iter([("big", big), ("small", small), ("nulls", nulls)])
            .expect("batch");
        // One batch, or the same rows in two (a partition's rows held across ranges).
        for batches in [
            vec![batch.clone()],
            vec![batch.slice(0, 50), batch.slice(50, 50)],
        ] {
            let props = file_properties(&batches, 1);
            let codec = |name: &str| props.compression(&ColumnPath::from(name));
            assert!(matches!(codec("big"), Compression::ZSTD(_)));
            assert_eq!(codec("small"), Compression::UNCOMPRESSED);
            assert_eq!(codec("nulls"), Compression::UNCOMPRESSED);
        }
    }

    #[test]
    fn partition_values_are_path_safe() {
        assert_eq!(encode_partition_value("page_viewed"), "page_viewed");
        assert_eq!(encode_partition_value("a/b c"), "a%2Fb%20c");
        assert_eq!(encode_partition_value(".."), "%2E.");
        assert_eq!(encode_partition_value(""), "__empty");
    }
}
