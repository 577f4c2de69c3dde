//! Typed access to the columns of Arrow record batches read back from tables.

use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray, UInt64Array,
};

/// Column `name` as an array of type `T` (None when missing or of another type): for loops over
/// every row, which look the column up once rather than per row.
pub fn array<'b, T: 'static>(batch: &'b RecordBatch, name: &str) -> Option<&'b T> {
    batch
        .column_by_name(name)
        .and_then(|c: &ArrayRef| c.as_any().downcast_ref::<T>())
}

/// String value at `row` of column `name` (None when null or missing).
pub fn text(batch: &RecordBatch, name: &str, row: usize) -> Option<String> {
    let c = array::<StringArray>(batch, name)?;
    (!c.is_null(row)).then(|| c.value(row).to_string())
}

/// Int64 value.
pub fn int(batch: &RecordBatch, name: &str, row: usize) -> Option<i64> {
    let c = array::<Int64Array>(batch, name)?;
    (!c.is_null(row)).then(|| c.value(row))
}

/// UInt64 value.
pub fn uint(batch: &RecordBatch, name: &str, row: usize) -> Option<u64> {
    let c = array::<UInt64Array>(batch, name)?;
    (!c.is_null(row)).then(|| c.value(row))
}

/// Float64 value.
pub fn float(batch: &RecordBatch, name: &str, row: usize) -> Option<f64> {
    let c = array::<Float64Array>(batch, name)?;
    (!c.is_null(row)).then(|| c.value(row))
}

/// Boolean value.
pub fn boolean(batch: &RecordBatch, name: &str, row: usize) -> Option<bool> {
    let c = array::<BooleanArray>(batch, name)?;
    (!c.is_null(row)).then(|| c.value(row))
}

/// Timestamp (epoch ms) value.
pub fn timestamp(batch: &RecordBatch, name: &str, row: usize) -> Option<i64> {
    let c = array::<TimestampMillisecondArray>(batch, name)?;
    (!c.is_null(row)).then(|| c.value(row))
}
