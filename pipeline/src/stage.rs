//! The small trait between stages, and the batch that flows through them.

use std::path::PathBuf;

use arrow::array::RecordBatch;

use crate::error::PipelineError;
use crate::event::Event;
use crate::layout::Layout;
use crate::range_file;
use crate::writer::Output;

/// The events of one log range, in log order.
#[derive(Debug)]
pub struct Batch<'a> {
    /// Offset of the first record of the range.
    pub first: u64,
    /// Offset of the last record of the range (inclusive).
    pub last: u64,
    /// The parsed events (unreadable records are left out and counted).
    pub events: Vec<Event<'a>>,
}

/// What a stage needs to write its outputs for a range.
#[derive(Debug)]
pub struct CommitContext<'l> {
    /// Where to write.
    pub layout: &'l Layout,
    /// First offset of the range.
    pub first: u64,
    /// Last offset of the range (inclusive).
    pub last: u64,
    /// False while a replay rebuilds state before the offset it rewrites from: no files then.
    pub write: bool,
    /// The watermark after the range: event times before it are final.
    pub watermark: i64,
    /// Zstd level for Parquet outputs.
    pub zstd_level: i32,
}

impl CommitContext<'_> {
    /// The range's Parquet file in the table folder `dir`, its rows built by `batch` on the
    /// writer's thread — none when the stage has no rows for the range or the range is not
    /// written.
    pub fn table_file(
        &self,
        dir: PathBuf,
        no_rows: bool,
        batch: impl FnOnce() -> Result<RecordBatch, PipelineError> + Send + 'static,
    ) -> Result<Vec<Output>, PipelineError> {
        if !self.write || no_rows {
            return Ok(Vec::new());
        }
        let path = dir.join(range_file::file_name(self.first, self.last, "parquet"));
        Ok(vec![Output::Built {
            path,
            build: Box::new(batch),
            zstd_level: self.zstd_level,
        }])
    }
}

/// One step of the pipeline: it annotates events in log order, then writes
/// what it owns for the range when the range commits.
pub trait Stage {
    /// Short name for errors and logs.
    fn name(&self) -> &'static str;

    /// Looks at every event of the batch in log order, updating its state and the events.
    fn process(&mut self, batch: &mut Batch<'_>);

    /// This stage's outputs for the range, built from the batch and the stage's state (the
    /// runner's writer writes them; the next commit's sync makes them durable).
    fn commit(
        &mut self,
        batch: &Batch<'_>,
        ctx: &CommitContext<'_>,
    ) -> Result<Vec<Output>, PipelineError>;

    /// The files of what readers see of the stage's live state (open sessions, open minutes)
    /// in `layout`; written at each commit, whose sync makes them durable with the range
    /// outputs before the checkpoint.
    fn persist(
        &mut self,
        _layout: &Layout,
        _zstd_level: i32,
    ) -> Result<Vec<Output>, PipelineError> {
        Ok(Vec::new())
    }
}
