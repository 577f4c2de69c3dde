//! Replay: rebuild everything downstream of the log from an offset.
//!
//! Outputs are named by log range, so a replay deletes the files of ranges
//! at or after the start and writes them again. State (dedupe index,
//! identities, sessions, aggregates) is rebuilt by reading the log from 0
//! without writing until the start is reached.

use std::path::Path;

use crate::checkpoint::Checkpoint;
use crate::config::PipelineConfig;
use crate::error::PipelineError;
use crate::layout::Layout;
use crate::range_file;
use crate::runner::{Progress, Runner};

/// Prepares `data_dir` for a replay from `from` and returns the offset outputs are rewritten
/// from: `from`, lowered to the start of any output file whose range spans it.
pub fn prepare(data_dir: &Path, from: u64) -> Result<u64, PipelineError> {
    let layout = Layout::new(data_dir);
    // Refuse while a pipeline runs here; the lock is dropped before the runner takes it.
    let _lock = crate::runner::lock_data_dir(&layout)?;
    let cp = Checkpoint::load(&layout)?;
    let mut start = from.min(cp.offset.max(cp.emit_from));
    let mut files = Vec::new();
    let mut dirs = range_file::walk_dirs(&layout.raw())?;
    dirs.extend(layout.range_dirs());
    for dir in &dirs {
        files.extend(range_file::list(dir)?);
    }
    loop {
        let lowered = files
            .iter()
            .filter(|f| f.first < start && f.last >= start)
            .map(|f| f.first)
            .min();
        match lowered {
            Some(s) => start = s,
            None => break,
        }
    }
    if start == 0 {
        crate::erasure::clear_outputs(&layout)?;
        return Ok(0);
    }
    // Commit the intent first: from here on a restart rebuilds state before writing again.
    // Late events of the files kept (before `start`) may still wait for the batch path.
    let mut intent = Checkpoint {
        emit_from: start,
        late_hours: cp.late_hours,
        realtime_late_hours: cp.realtime_late_hours,
        erasures: cp.erasures,
        ..Checkpoint::default()
    };
    intent.store(&layout)?;
    for dir in &dirs {
        range_file::clean(dir, start)?;
    }
    for open in [
        layout.sessions().join(crate::sessionize::OPEN_FILE),
        layout.realtime().join(crate::realtime::OPEN_FILE),
    ] {
        range_file::remove_file(&open)?;
    }
    Ok(start)
}

/// Replays `data_dir` from `from` to the end of the log; returns the offset it rewrote from.
pub fn replay(
    data_dir: &Path,
    from: u64,
    config: PipelineConfig,
    progress: impl FnMut(Progress),
) -> Result<u64, PipelineError> {
    let start = prepare(data_dir, from)?;
    let mut runner = Runner::open(data_dir, config)?;
    runner.run_to_end(progress)?;
    Ok(start)
}
