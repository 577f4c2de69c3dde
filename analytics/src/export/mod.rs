//! Streamed export of raw events to NDJSON, CSV or Parquet, for a time range,
//! event names and property filters, into any [`std::io::Write`].
//!
//! The export lists the partitions of the range and events, reads every file's
//! footer first (row counts for progress and the union of their columns, since a
//! partition only has the typed columns of its event), then reads one record
//! batch at a time, keeps the rows in range that match the filters and writes
//! them out. Memory stays at one batch (plus one Parquet row group of at most
//! [`PARQUET_ROW_GROUP_ROWS`] rows) whatever the size of the export. Rows come
//! in partition order: by hour, then event name, then source.

mod cells;
mod csv;
mod ndjson;
mod parquet_out;
mod schema;

use std::collections::HashMap;
use std::io::Write;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use serde::Serialize;

use crate::error::{AnalyticsError, ParamError};
use crate::params::{Params, TimeRange};
use crate::store::DataDir;
use crate::store::col;
use crate::store::columns::{StrColumn, TimeColumn, json_property};
use crate::store::layout;

pub use parquet_out::PARQUET_ROW_GROUP_ROWS;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One JSON object per line; `properties`, `context` and `traits` as objects.
    Ndjson,
    /// RFC 4180 CSV with a header; JSON columns as text.
    Csv,
    /// One Parquet file (zstd) with the union of the columns.
    Parquet,
}

impl ExportFormat {
    /// The HTTP content type of the format.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "application/x-ndjson",
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Parquet => "application/vnd.apache.parquet",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::Csv => "csv",
            ExportFormat::Parquet => "parquet",
        }
    }
}

/// A property filter: the event's property `key` equals `value` (strings as they
/// are, other JSON values as their JSON text: `3`, `true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyFilter {
    /// The property.
    pub key: String,
    /// The wanted value.
    pub value: String,
}

/// An export request.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportQuery {
    /// Events whose `event_time` lies in the range.
    pub range: TimeRange,
    /// Only these event names (all when `None`).
    pub events: Option<Vec<String>>,
    /// Every filter must match.
    pub filters: Vec<PropertyFilter>,
    /// The output format.
    pub format: ExportFormat,
}

/// Parameters an export accepts (plus any `property.KEY`).
pub const EXPORT_PARAMS: &[&str] = &["from", "to", "events", "format"];

/// Prefix of property-filter parameters: `property.plan=pro`.
pub const PROPERTY_PREFIX: &str = "property.";

impl ExportQuery {
    /// Parses `from`, `to`, `events` (comma-separated), `format` (`ndjson`, the
    /// default, `csv` or `parquet`) and filters `property.KEY=VALUE`.
    pub fn from_params(params: &HashMap<String, String>) -> Result<ExportQuery, ParamError> {
        let mut known: Vec<&str> = EXPORT_PARAMS.to_vec();
        known.extend(
            params
                .keys()
                .map(String::as_str)
                .filter(|key| key.starts_with(PROPERTY_PREFIX)),
        );
        let parsed = Params::new(params, &known)?;
        let format = match parsed.choice("format", &["ndjson", "csv", "parquet"])? {
            Some(1) => ExportFormat::Csv,
            Some(2) => ExportFormat::Parquet,
            _ => ExportFormat::Ndjson,
        };
        let mut filters: Vec<PropertyFilter> = params
            .iter()
            .filter_map(|(key, value)| {
                key.strip_prefix(PROPERTY_PREFIX)
                    .map(|property| (key, property, value))
            })
            .map(|(key, property, value)| {
                if property.is_empty() {
                    Err(ParamError::new(
                        key,
                        "name the property: property.KEY=VALUE",
                    ))
                } else {
                    Ok(PropertyFilter {
                        key: property.to_string(),
                        value: value.clone(),
                    })
                }
            })
            .collect::<Result<_, _>>()?;
        filters.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(ExportQuery {
            range: parsed.range()?,
            events: parsed.list("events"),
            filters,
            format,
        })
    }

    /// Parses a JSON body `{"from", "to", "events": [..], "properties": {KEY: VALUE}, "format"}`
    /// (the body of `POST /api/events/export`), naming the bad field.
    pub fn from_json(body: &serde_json::Value) -> Result<ExportQuery, ParamError> {
        let object = body
            .as_object()
            .ok_or_else(|| ParamError::new("body", "expected a JSON object"))?;
        let mut params = HashMap::new();
        for (key, value) in object {
            match (key.as_str(), value) {
                ("from" | "to" | "format", serde_json::Value::String(text)) => {
                    params.insert(key.clone(), text.clone());
                }
                ("events", serde_json::Value::Array(names)) => {
                    let names: Option<Vec<&str>> = names.iter().map(|name| name.as_str()).collect();
                    let names = names.ok_or_else(|| {
                        ParamError::new("events", "expected an array of event names")
                    })?;
                    params.insert(key.clone(), names.join(","));
                }
                ("properties", serde_json::Value::Object(filters)) => {
                    for (property, wanted) in filters {
                        let text = match wanted {
                            serde_json::Value::String(text) => text.clone(),
                            other => other.to_string(),
                        };
                        params.insert(format!("{PROPERTY_PREFIX}{property}"), text);
                    }
                }
                (_, serde_json::Value::Null) => {}
                ("from" | "to" | "format" | "events" | "properties", _) => {
                    return Err(ParamError::new(key, "has the wrong JSON type"));
                }
                _ => {
                    return Err(ParamError::new(
                        key,
                        "unknown field (known: from, to, events, properties, format)",
                    ));
                }
            }
        }
        ExportQuery::from_params(&params)
    }
}

/// Where an export stands, reported after every batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportProgress {
    /// Rows of the selected files read so far.
    pub rows_read: u64,
    /// Rows in the selected files (known from their footers before reading).
    pub rows_total: u64,
    /// Rows written so far.
    pub rows_written: u64,
    /// Files read so far.
    pub files_read: u64,
    /// Files selected.
    pub files_total: u64,
}

/// Writes the events `query` selects to `out` in its format, calling `progress`
/// after every batch. Returns the final progress (rows written, ...).
pub fn export<W: Write + Send>(
    data: &DataDir,
    query: &ExportQuery,
    out: W,
    mut progress: impl FnMut(&ExportProgress),
) -> Result<ExportProgress, AnalyticsError> {
    let (files, plan) = planned(data, query)?;
    let mut state = ExportProgress {
        rows_total: plan.rows,
        files_total: files.len() as u64,
        ..ExportProgress::default()
    };
    progress(&state);
    let mut sink: Box<dyn Sink<W>> = match query.format {
        ExportFormat::Ndjson => Box::new(ndjson::NdjsonSink::new(out)),
        ExportFormat::Csv => Box::new(csv::CsvSink::new(out, &plan.schema)?),
        ExportFormat::Parquet => Box::new(parquet_out::ParquetSink::new(out, plan.schema.clone())?),
    };
    // Folder by folder, each opened whole when its turn comes: the pipeline may merge a
    // folder's files while the export streams, and the rows already written cannot be taken back.
    let columns = plan.column_names();
    for folder in files.chunk_by(|a, b| a.path.parent() == b.path.parent()) {
        let inside = folder[0].hour_inside(&query.range);
        let dir = folder[0].path.parent().unwrap_or(data.root());
        for (path, file) in layout::open_folder(dir)? {
            crate::store::scan::read_open_batches(file, &path, &columns, |batch| {
                state.rows_read += batch.num_rows() as u64;
                let keep = selection(batch, query, inside, &path)?;
                let batch = match keep {
                    Some(mask) => filter_record_batch(batch, &mask)?,
                    None => batch.clone(),
                };
                if batch.num_rows() > 0 {
                    let batch = schema::conform(&batch, &plan.schema)?;
                    sink.write(&batch)?;
                    state.rows_written += batch.num_rows() as u64;
                }
                progress(&state);
                Ok(())
            })?;
            state.files_read += 1;
        }
    }
    sink.finish()?;
    progress(&state);
    Ok(state)
}

/// The files of the query's partitions and the export's columns, read again from a new
/// listing when a file went away meanwhile (merged by the pipeline; a few times at most).
fn planned(
    data: &DataDir,
    query: &ExportQuery,
) -> Result<(Vec<layout::RawFile>, schema::Plan), AnalyticsError> {
    spoor_pipeline::range_file::retry_vanished(AnalyticsError::is_vanished_file, || {
        let files = data.raw_files(query.events.as_deref(), query.range)?;
        let plan = schema::plan(&files)?;
        Ok((files, plan))
    })
}

/// The rows of `batch` to keep (`None`: all of them).
fn selection(
    batch: &RecordBatch,
    query: &ExportQuery,
    inside: bool,
    path: &std::path::Path,
) -> Result<Option<BooleanArray>, AnalyticsError> {
    if inside && query.filters.is_empty() {
        return Ok(None);
    }
    let time = TimeColumn::of(batch, col::EVENT_TIME, path)?;
    let properties = StrColumn::of(batch, col::PROPERTIES, path)?;
    let mask: BooleanArray = (0..batch.num_rows())
        .map(|i| {
            let in_range = inside || time.get(i).is_some_and(|at| query.range.contains(at));
            let matches = in_range && matches_filters(properties.get(i), &query.filters);
            Some(matches)
        })
        .collect();
    Ok(Some(mask))
}

fn matches_filters(properties: Option<&str>, filters: &[PropertyFilter]) -> bool {
    if filters.is_empty() {
        return true;
    }
    let Some(properties) = properties else {
        return false;
    };
    filters.iter().all(|filter| {
        json_property(properties, &filter.key).as_deref() == Some(filter.value.as_str())
    })
}

/// An output format's writer.
trait Sink<W: Write> {
    /// Writes one batch (already in the export's schema).
    fn write(&mut self, batch: &RecordBatch) -> Result<(), AnalyticsError>;
    /// Flushes and closes the output.
    fn finish(self: Box<Self>) -> Result<(), AnalyticsError>;
}

#[cfg(test)]
mod tests;
