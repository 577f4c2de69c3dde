//! Writing and reading whole Parquet files, durably.

use std::fs::{self, File};
use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Schema, TimeUnit};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{WriterProperties, WriterPropertiesBuilder};
use parquet::file::statistics::Statistics;
use parquet::schema::types::ColumnPath;

use crate::error::PipelineError;
use crate::range_file::temp_path;

/// The Arrow type of timestamp columns: milliseconds, UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some(Arc::from("UTC")))
}

/// Columns of the pipeline's files whose values are (nearly) unique per row: a dictionary only
/// costs time there (it fills up and falls back to plain pages).
const UNIQUE_COLUMNS: &[&str] = &[
    "event_id",
    "first_event_id",
    "session_id",
    "person_id",
    "anonymous_id",
    "user_id",
    "event_time",
    "start_time",
    "end_time",
    "duration_ms",
    "client_timestamp",
    "sent_at",
    "received_at",
    "log_offset",
];

/// Writer settings: zstd at `level`, dictionary encoding but for [`UNIQUE_COLUMNS`],
/// statistics.
pub fn properties(level: i32) -> WriterProperties {
    properties_builder(level).build()
}

/// The builder of [`properties`], for per-column changes.
pub fn properties_builder(level: i32) -> WriterPropertiesBuilder {
    let zstd = ZstdLevel::try_new(level).unwrap_or_default();
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(zstd))
        .set_max_row_group_row_count(Some(128 * 1024));
    for name in UNIQUE_COLUMNS {
        b = b.set_column_dictionary_enabled(ColumnPath::from(*name), false);
    }
    b
}

/// Writes `batch` to `path` through a temp file and a rename, without syncing: a range
/// output, made durable by the commit's filesystem sync.
pub fn write(
    path: &Path,
    batch: RecordBatch,
    props: WriterProperties,
) -> Result<(), PipelineError> {
    write_batches(path, batch.schema(), vec![batch], props)
}

/// Like [`write`], with the rows of `batches` (all of `schema`) in order: batches built at
/// different times go into one file without being copied into one batch first.
pub fn write_batches(
    path: &Path,
    schema: Arc<Schema>,
    batches: Vec<RecordBatch>,
    props: WriterProperties,
) -> Result<(), PipelineError> {
    let tmp = temp_path(path);
    write_file(&tmp, path, schema, batches.into_iter().map(Ok), props)?;
    fs::rename(&tmp, path).map_err(|e| PipelineError::io("rename", path, e))
}

/// Writes `batch` to `path` atomically and durably (temp file, fsync, rename): a file
/// rewritten outside a range's commit. The caller fsyncs the folder.
pub fn write_durable(
    path: &Path,
    batch: RecordBatch,
    props: WriterProperties,
) -> Result<(), PipelineError> {
    let tmp = temp_path(path);
    let file = write_file(&tmp, path, batch.schema(), [Ok(batch)], props)?;
    sync_and_rename(file, &tmp, path)
}

/// Makes the written temp file `file` (at `tmp`) durable and renames it to `path`.
fn sync_and_rename(file: File, tmp: &Path, path: &Path) -> Result<(), PipelineError> {
    file.sync_all()
        .map_err(|e| PipelineError::io("fsync", tmp, e))?;
    fs::rename(tmp, path).map_err(|e| PipelineError::io("rename", path, e))
}

/// Writes the rows of the Parquet files `sources` (all of `schema`), in order,
/// to `path` with `props`, atomically and durably (temp file, fsync, rename), holding one
/// batch of input at a time. The caller fsyncs the folder.
pub fn write_concatenated(
    path: &Path,
    schema: Arc<Schema>,
    sources: &[&Path],
    props: WriterProperties,
) -> Result<(), PipelineError> {
    let readers = sources
        .iter()
        .map(|source| batches(source))
        .collect::<Result<Vec<_>, _>>()?;
    let rows = readers
        .into_iter()
        .flatten()
        .map(|b| b.map_err(PipelineError::from));
    let tmp = temp_path(path);
    let file = write_file(&tmp, path, schema, rows, props)?;
    sync_and_rename(file, &tmp, path)
}

fn write_file(
    tmp: &Path,
    path: &Path,
    schema: Arc<Schema>,
    batches: impl IntoIterator<Item = Result<RecordBatch, PipelineError>>,
    props: WriterProperties,
) -> Result<File, PipelineError> {
    let file = File::create(tmp).map_err(|e| PipelineError::io("create", tmp, e))?;
    let mut writer = ArrowWriter::try_new(file, schema, Some(props))
        .map_err(|e| PipelineError::parquet(path, e))?;
    for batch in batches {
        writer
            .write(&batch?)
            .map_err(|e| PipelineError::parquet(path, e))?;
    }
    writer
        .into_inner()
        .map_err(|e| PipelineError::parquet(path, e))
}

/// Reads every row group of `path`.
pub fn read(path: &Path) -> Result<Vec<RecordBatch>, PipelineError> {
    let mut out = Vec::new();
    for batch in batches(path)? {
        out.push(batch?);
    }
    Ok(out)
}

/// Reads the columns `names` of `path` (those it has; top-level columns), every row group.
pub fn read_columns(path: &Path, names: &[&str]) -> Result<Vec<RecordBatch>, PipelineError> {
    let file = File::open(path).map_err(|e| PipelineError::io("open", path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| PipelineError::parquet(path, e))?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), names.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| PipelineError::parquet(path, e))?;
    let mut out = Vec::new();
    for batch in reader {
        out.push(batch?);
    }
    Ok(out)
}

/// The rows of `path`, batch by batch.
fn batches(path: &Path) -> Result<ParquetRecordBatchReader, PipelineError> {
    let file = File::open(path).map_err(|e| PipelineError::io("open", path, e))?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| PipelineError::parquet(path, e))?
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| PipelineError::parquet(path, e))
}

/// The largest value of the 64-bit integer (or timestamp) column `column` in `path`, from the
/// file's statistics; `None` when it has no rows, no such column or no statistics for it.
pub fn column_max_i64(path: &Path, column: &str) -> Result<Option<i64>, PipelineError> {
    let file = File::open(path).map_err(|e| PipelineError::io("open", path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| PipelineError::parquet(path, e))?;
    let meta = builder.metadata();
    let Some(index) = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.name() == column)
    else {
        return Ok(None);
    };
    let mut max = None;
    for group in meta.row_groups() {
        match group.column(index).statistics() {
            Some(Statistics::Int64(stats)) => max = max.max(stats.max_opt().copied()),
            _ => return Ok(None),
        }
    }
    Ok(max)
}

/// The schema stored in `path`.
pub fn schema_of(path: &Path) -> Result<Arc<Schema>, PipelineError> {
    let file = File::open(path).map_err(|e| PipelineError::io("open", path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| PipelineError::parquet(path, e))?;
    Ok(builder.schema().clone())
}
