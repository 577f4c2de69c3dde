//! The export's one schema: the union of the selected files' columns.

use std::sync::Arc;

use arrow::array::{RecordBatch, new_null_array};
use arrow::compute::cast;
use arrow::datatypes::{Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ArrowReaderMetadata;

use crate::error::AnalyticsError;
use crate::store::layout::RawFile;

/// What the footers told: the union schema and the total row count.
pub struct Plan {
    /// Every column of every file, in order of first appearance, all nullable.
    pub schema: SchemaRef,
    /// Rows in all files.
    pub rows: u64,
}

impl Plan {
    /// The column names.
    pub fn column_names(&self) -> Vec<&str> {
        self.schema
            .fields()
            .iter()
            .map(|field| field.name().as_str())
            .collect()
    }
}

/// Reads the footer of every file.
pub fn plan(files: &[RawFile]) -> Result<Plan, AnalyticsError> {
    let mut fields: Vec<Field> = Vec::new();
    let mut rows = 0u64;
    for file in files {
        let handle = std::fs::File::open(&file.path)
            .map_err(|error| AnalyticsError::io(&file.path, error))?;
        let metadata =
            ArrowReaderMetadata::load(&handle, Default::default()).map_err(|source| {
                AnalyticsError::Parquet {
                    path: file.path.clone(),
                    source,
                }
            })?;
        rows += metadata.metadata().file_metadata().num_rows().max(0) as u64;
        for field in metadata.schema().fields() {
            if !fields.iter().any(|known| known.name() == field.name()) {
                fields.push(Field::new(field.name(), field.data_type().clone(), true));
            }
        }
    }
    Ok(Plan {
        schema: Arc::new(Schema::new(fields)),
        rows,
    })
}

/// Gives `batch` exactly the columns of `schema`: missing ones as nulls, others cast.
pub fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, AnalyticsError> {
    let columns = schema
        .fields()
        .iter()
        .map(|field| match batch.column_by_name(field.name()) {
            None => Ok(new_null_array(field.data_type(), batch.num_rows())),
            Some(column) if column.data_type() == field.data_type() => Ok(column.clone()),
            Some(column) => cast(column, field.data_type()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
