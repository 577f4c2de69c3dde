//! CSV output (RFC 4180): a header of the export's columns, one line per event.

use std::io::{BufWriter, Write};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use super::Sink;
use super::cells::{Cell, cell};
use crate::error::AnalyticsError;

/// Writes CSV.
pub struct CsvSink<W: Write> {
    out: BufWriter<W>,
    line: Vec<u8>,
}

impl<W: Write> CsvSink<W> {
    /// A sink writing to `out`, starting with the header of `schema`.
    pub fn new(out: W, schema: &SchemaRef) -> Result<Self, AnalyticsError> {
        let mut sink = CsvSink {
            out: BufWriter::with_capacity(256 * 1024, out),
            line: Vec::with_capacity(4096),
        };
        for (i, field) in schema.fields().iter().enumerate() {
            if i > 0 {
                sink.line.push(b',');
            }
            quote(&mut sink.line, field.name());
        }
        sink.line.extend_from_slice(b"\r\n");
        sink.out
            .write_all(&sink.line)
            .map_err(AnalyticsError::Write)?;
        Ok(sink)
    }
}

impl<W: Write> Sink<W> for CsvSink<W> {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), AnalyticsError> {
        for row in 0..batch.num_rows() {
            self.line.clear();
            for (i, column) in batch.columns().iter().enumerate() {
                if i > 0 {
                    self.line.push(b',');
                }
                match cell(column, row) {
                    Cell::Null => {}
                    Cell::Literal(text) => self.line.extend_from_slice(text.as_bytes()),
                    Cell::Text(text) => quote(&mut self.line, &text),
                }
            }
            self.line.extend_from_slice(b"\r\n");
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

/// Writes a field, quoted when it holds a comma, quote, CR or LF (quotes doubled).
fn quote(out: &mut Vec<u8>, text: &str) {
    if text.contains([',', '"', '\r', '\n']) {
        out.push(b'"');
        for byte in text.bytes() {
            if byte == b'"' {
                out.push(b'"');
            }
            out.push(byte);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}
