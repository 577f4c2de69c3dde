//! Parquet output: one zstd file with the export's schema, in bounded row groups.

use std::io::Write;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::Sink;
use crate::error::AnalyticsError;

/// Rows per row group of an exported Parquet file (bounds the writer's buffer).
pub const PARQUET_ROW_GROUP_ROWS: usize = 64 * 1024;

/// Writes Parquet.
pub struct ParquetSink<W: Write + Send> {
    writer: ArrowWriter<W>,
}

fn parquet_error(source: parquet::errors::ParquetError) -> AnalyticsError {
    AnalyticsError::Parquet {
        path: "export output".into(),
        source,
    }
}

impl<W: Write + Send> ParquetSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W, schema: SchemaRef) -> Result<Self, AnalyticsError> {
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP_ROWS))
            .build();
        let writer = ArrowWriter::try_new(out, schema, Some(properties)).map_err(parquet_error)?;
        Ok(ParquetSink { writer })
    }
}

impl<W: Write + Send> Sink<W> for ParquetSink<W> {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), AnalyticsError> {
        self.writer.write(batch).map_err(parquet_error)
    }

    fn finish(self: Box<Self>) -> Result<(), AnalyticsError> {
        self.writer.close().map_err(parquet_error)?;
        Ok(())
    }
}
