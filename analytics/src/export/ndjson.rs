//! NDJSON output: one object per event, JSON-text columns embedded as JSON.

use std::io::{BufWriter, Write};

use arrow::array::RecordBatch;

use super::Sink;
use super::cells::{Cell, cell};
use crate::error::AnalyticsError;

/// Columns holding JSON text, written as nested JSON.
const JSON_COLUMNS: &[&str] = &["properties", "context", "traits"];

/// Writes NDJSON.
pub struct NdjsonSink<W: Write> {
    out: BufWriter<W>,
    line: Vec<u8>,
}

impl<W: Write> NdjsonSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        NdjsonSink {
            out: BufWriter::with_capacity(256 * 1024, out),
            line: Vec::with_capacity(4096),
        }
    }
}

impl<W: Write> Sink<W> for NdjsonSink<W> {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), AnalyticsError> {
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            self.line.clear();
            self.line.push(b'{');
            let mut first = true;
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                let value = cell(column, row);
                if matches!(value, Cell::Null) {
                    continue;
                }
                if !first {
                    self.line.push(b',');
                }
                first = false;
                write_json_string(&mut self.line, field.name());
                self.line.push(b':');
                match value {
                    Cell::Null => {}
                    Cell::Literal(text) => self.line.extend_from_slice(text.as_bytes()),
                    Cell::Text(text) => {
                        let embedded = JSON_COLUMNS.contains(&field.name().as_str())
                            && serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok();
                        if embedded {
                            self.line.extend_from_slice(text.trim().as_bytes());
                        } else {
                            write_json_string(&mut self.line, &text);
                        }
                    }
                }
            }
            self.line.extend_from_slice(b"}\n");
            self.out
                .write_all(&self.line)
                .map_err(AnalyticsError::Write)?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), AnalyticsError> {
        self.out.flush().map_err(AnalyticsError::Write)
    }
}

fn write_json_string(out: &mut Vec<u8>, text: &str) {
    // serde_json escapes exactly as JSON requires; writing to a Vec cannot fail.
    if serde_json::to_writer(&mut *out, text).is_err() {
        out.extend_from_slice(b"null");
    }
}
