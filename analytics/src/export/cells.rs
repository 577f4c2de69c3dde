//! One cell of an Arrow column as text or JSON, for the CSV and NDJSON writers.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::time::format_time;

/// A cell's value.
pub enum Cell<'a> {
    /// Null.
    Null,
    /// Text (written quoted in JSON).
    Text(std::borrow::Cow<'a, str>),
    /// A number or boolean, already as its literal.
    Literal(String),
}

/// The value at `row` of `column`.
pub fn cell(column: &ArrayRef, row: usize) -> Cell<'_> {
    if column.is_null(row) {
        return Cell::Null;
    }
    let literal = |text: String| Cell::Literal(text);
    match column.data_type() {
        DataType::Utf8 => Cell::Text(column.as_string::<i32>().value(row).into()),
        DataType::LargeUtf8 => Cell::Text(column.as_string::<i64>().value(row).into()),
        DataType::Utf8View => Cell::Text(column.as_string_view().value(row).into()),
        DataType::Boolean => literal(column.as_boolean().value(row).to_string()),
        DataType::Int8 => literal(column.as_primitive::<Int8Type>().value(row).to_string()),
        DataType::Int16 => literal(column.as_primitive::<Int16Type>().value(row).to_string()),
        DataType::Int32 => literal(column.as_primitive::<Int32Type>().value(row).to_string()),
        DataType::Int64 => literal(column.as_primitive::<Int64Type>().value(row).to_string()),
        DataType::UInt8 => literal(column.as_primitive::<UInt8Type>().value(row).to_string()),
        DataType::UInt16 => literal(column.as_primitive::<UInt16Type>().value(row).to_string()),
        DataType::UInt32 => literal(column.as_primitive::<UInt32Type>().value(row).to_string()),
        DataType::UInt64 => literal(column.as_primitive::<UInt64Type>().value(row).to_string()),
        DataType::Float32 => float(column.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Float64 => float(column.as_primitive::<Float64Type>().value(row)),
        DataType::Timestamp(unit, _) => {
            let micros = match unit {
                TimeUnit::Second => {
                    column.as_primitive::<TimestampSecondType>().value(row) * 1_000_000
                }
                TimeUnit::Millisecond => {
                    column.as_primitive::<TimestampMillisecondType>().value(row) * 1_000
                }
                TimeUnit::Microsecond => {
                    column.as_primitive::<TimestampMicrosecondType>().value(row)
                }
                TimeUnit::Nanosecond => column
                    .as_primitive::<TimestampNanosecondType>()
                    .value(row)
                    .div_euclid(1_000),
            };
            Cell::Text(format_time(micros).into())
        }
        _ => {
            let options = FormatOptions::default();
            match ArrayFormatter::try_new(column.as_ref(), &options) {
                Ok(formatter) => Cell::Text(formatter.value(row).to_string().into()),
                Err(_) => Cell::Null,
            }
        }
    }
}

fn float(value: f64) -> Cell<'static> {
    if value.is_finite() {
        Cell::Literal(value.to_string())
    } else {
        Cell::Null
    }
}
