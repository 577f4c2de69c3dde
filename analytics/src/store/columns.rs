//! Typed access to the columns of a record batch, whatever physical type the writer chose.

use std::path::Path;

use arrow::array::{
    Array, ArrayRef, AsArray, LargeStringArray, RecordBatch, StringArray, StringViewArray,
};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int32Type, Int64Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};

use crate::error::AnalyticsError;
use crate::time::{Micros, parse_time};

/// A string column (plain, large, view or dictionary-encoded), or a missing one (all null).
pub enum StrColumn<'a> {
    /// The column is not in the file.
    Missing,
    /// `Utf8`.
    Plain(&'a StringArray),
    /// `LargeUtf8`.
    Large(&'a LargeStringArray),
    /// `Utf8View`.
    View(&'a StringViewArray),
    /// A dictionary: per-row value index (`None` for null) into `values`.
    Dictionary(Vec<Option<usize>>, Box<StrColumn<'a>>),
}

impl<'a> StrColumn<'a> {
    /// Reads column `name` of `batch` (missing when absent).
    pub fn of(
        batch: &'a RecordBatch,
        name: &str,
        path: &Path,
    ) -> Result<StrColumn<'a>, AnalyticsError> {
        match batch.column_by_name(name) {
            None => Ok(StrColumn::Missing),
            Some(array) => StrColumn::from_array(array, name, path),
        }
    }

    fn from_array(
        array: &'a ArrayRef,
        name: &str,
        path: &Path,
    ) -> Result<StrColumn<'a>, AnalyticsError> {
        Ok(match array.data_type() {
            DataType::Utf8 => StrColumn::Plain(array.as_string::<i32>()),
            DataType::LargeUtf8 => StrColumn::Large(array.as_string::<i64>()),
            DataType::Utf8View => StrColumn::View(array.as_string_view()),
            DataType::Null => StrColumn::Missing,
            DataType::Dictionary(_, _) => {
                let dictionary = array.as_any_dictionary();
                let keys = dictionary.normalized_keys();
                let indices = (0..array.len())
                    .map(|i| array.is_valid(i).then(|| keys[i]))
                    .collect();
                let values = StrColumn::from_array(dictionary.values(), name, path)?;
                StrColumn::Dictionary(indices, Box::new(values))
            }
            other => return Err(unsupported(path, name, other)),
        })
    }

    /// The value at row `i` (`None` for null or missing).
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            StrColumn::Missing => None,
            StrColumn::Plain(array) => array.is_valid(i).then(|| array.value(i)),
            StrColumn::Large(array) => array.is_valid(i).then(|| array.value(i)),
            StrColumn::View(array) => array.is_valid(i).then(|| array.value(i)),
            StrColumn::Dictionary(indices, values) => values.get(indices[i]?),
        }
    }

    /// True when the column is absent from the file.
    pub fn is_missing(&self) -> bool {
        matches!(self, StrColumn::Missing)
    }
}

/// A time column as microseconds: a timestamp of any unit, an `Int64` of
/// microseconds or RFC 3339 text.
pub enum TimeColumn<'a> {
    /// Timestamps or integers, already scaled to microseconds.
    Micros(Vec<Option<Micros>>),
    /// Microsecond timestamps (no copy).
    Native(&'a arrow::array::PrimitiveArray<TimestampMicrosecondType>),
    /// Text.
    Text(StrColumn<'a>),
}

impl<'a> TimeColumn<'a> {
    /// Reads column `name` of `batch`; a missing time column is an error.
    pub fn of(
        batch: &'a RecordBatch,
        name: &str,
        path: &Path,
    ) -> Result<TimeColumn<'a>, AnalyticsError> {
        let array = batch
            .column_by_name(name)
            .ok_or_else(|| AnalyticsError::ColumnType {
                path: path.to_path_buf(),
                column: name.to_string(),
                found: "nothing (the column is missing)".into(),
            })?;
        fn scaled<T: arrow::datatypes::ArrowPrimitiveType<Native = i64>>(
            array: &ArrayRef,
            scale: impl Fn(i64) -> i64,
        ) -> Vec<Option<Micros>> {
            array
                .as_primitive::<T>()
                .iter()
                .map(|v| v.map(&scale))
                .collect()
        }
        Ok(match array.data_type() {
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                TimeColumn::Native(array.as_primitive::<TimestampMicrosecondType>())
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                TimeColumn::Micros(scaled::<TimestampMillisecondType>(array, |v| v * 1_000))
            }
            DataType::Timestamp(TimeUnit::Second, _) => {
                TimeColumn::Micros(scaled::<TimestampSecondType>(array, |v| v * 1_000_000))
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                TimeColumn::Micros(scaled::<TimestampNanosecondType>(array, |v| {
                    v.div_euclid(1_000)
                }))
            }
            DataType::Int64 => TimeColumn::Micros(scaled::<Int64Type>(array, |v| v)),
            DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Dictionary(_, _) => {
                TimeColumn::Text(StrColumn::from_array(array, name, path)?)
            }
            other => return Err(unsupported(path, name, other)),
        })
    }

    /// The time at row `i`.
    pub fn get(&self, i: usize) -> Option<Micros> {
        match self {
            TimeColumn::Micros(values) => values[i],
            TimeColumn::Native(array) => array.is_valid(i).then(|| array.value(i)),
            TimeColumn::Text(column) => column.get(i).and_then(parse_time),
        }
    }
}

/// A numeric column read as `f64` (missing or null → `None`).
pub enum NumColumn<'a> {
    /// Not in the file.
    Missing,
    /// Any numeric type, converted.
    Values(Vec<Option<f64>>),
    /// `Float64` (no copy).
    Native(&'a arrow::array::PrimitiveArray<Float64Type>),
}

impl<'a> NumColumn<'a> {
    /// Reads column `name` of `batch`.
    pub fn of(
        batch: &'a RecordBatch,
        name: &str,
        path: &Path,
    ) -> Result<NumColumn<'a>, AnalyticsError> {
        let Some(array) = batch.column_by_name(name) else {
            return Ok(NumColumn::Missing);
        };
        Ok(match array.data_type() {
            DataType::Float64 => NumColumn::Native(array.as_primitive::<Float64Type>()),
            DataType::Float32 => NumColumn::Values(
                array
                    .as_primitive::<Float32Type>()
                    .iter()
                    .map(|v| v.map(f64::from))
                    .collect(),
            ),
            DataType::Int64 => NumColumn::Values(
                array
                    .as_primitive::<Int64Type>()
                    .iter()
                    .map(|v| v.map(|v| v as f64))
                    .collect(),
            ),
            DataType::Int32 => NumColumn::Values(
                array
                    .as_primitive::<Int32Type>()
                    .iter()
                    .map(|v| v.map(f64::from))
                    .collect(),
            ),
            DataType::Null => NumColumn::Missing,
            other => return Err(unsupported(path, name, other)),
        })
    }

    /// The value at row `i`.
    pub fn get(&self, i: usize) -> Option<f64> {
        match self {
            NumColumn::Missing => None,
            NumColumn::Values(values) => values[i],
            NumColumn::Native(array) => array.is_valid(i).then(|| array.value(i)),
        }
    }

    /// True when the column is absent from the file.
    pub fn is_missing(&self) -> bool {
        matches!(self, NumColumn::Missing)
    }
}

fn unsupported(path: &Path, column: &str, found: &DataType) -> AnalyticsError {
    AnalyticsError::ColumnType {
        path: path.to_path_buf(),
        column: column.to_string(),
        found: found.to_string(),
    }
}

/// Reads one property from a `properties` JSON text: strings as they are, other
/// scalars as JSON text, objects and arrays as JSON text, null as `None`.
pub fn json_property(properties: &str, name: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(properties).ok()?;
    match value.get(name)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}
