//! Reading Parquet files a record batch at a time, projecting only the named columns.

use std::fs::File;
use std::path::Path;

use arrow::array::RecordBatch;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::AnalyticsError;

/// Rows per record batch when reading.
pub const BATCH_ROWS: usize = 16 * 1024;

/// Reads the columns of `path` named in `columns` (absent ones are skipped) batch by
/// batch, calling `each` on every batch. Memory is bounded by one row group.
pub fn read_batches(
    path: &Path,
    columns: &[&str],
    each: impl FnMut(&RecordBatch) -> Result<(), AnalyticsError>,
) -> Result<(), AnalyticsError> {
    let file = File::open(path).map_err(|error| AnalyticsError::io(path, error))?;
    read_open_batches(file, path, columns, each)
}

/// Like [`read_batches`], from `file` already open (`path` names it in errors).
pub fn read_open_batches(
    file: File,
    path: &Path,
    columns: &[&str],
    mut each: impl FnMut(&RecordBatch) -> Result<(), AnalyticsError>,
) -> Result<(), AnalyticsError> {
    let parquet_error = |source| AnalyticsError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_error)?;
    let roots: Vec<usize> = builder
        .parquet_schema()
        .root_schema()
        .get_fields()
        .iter()
        .enumerate()
        .filter(|(_, field)| columns.contains(&field.name()))
        .map(|(index, _)| index)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(parquet_error)?;
    for batch in reader {
        let batch = batch.map_err(AnalyticsError::Arrow)?;
        each(&batch)?;
    }
    Ok(())
}
