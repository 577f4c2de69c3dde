//! Erased users: the relay erases their records from the log in place and
//! appends them to the log's ledger (`spoor_log::erase`); the pipeline's
//! outputs still hold their events, so when the ledger has grown since the
//! outputs were built, [`crate::Runner::open`] clears the outputs and the
//! pipeline builds them again from the log (a replay from offset 0, which
//! reads the erased records as holes).

use crate::error::PipelineError;
use crate::layout::Layout;

/// Removes everything the pipeline derived from the log: `raw/`, `tables/`
/// and the state under `state/` (not the lock file the caller holds).
pub fn clear_outputs(layout: &Layout) -> Result<(), PipelineError> {
    for dir in [layout.raw(), layout.tables()] {
        remove_all(&dir)?;
    }
    for entry in crate::range_file::entries(&layout.state())? {
        let path = entry.path();
        if path
            .file_name()
            .is_some_and(|n| n == crate::runner::LOCK_FILE)
        {
            continue;
        }
        if path.is_dir() {
            remove_all(&path)?;
        } else {
            std::fs::remove_file(&path).map_err(|e| PipelineError::io("remove", &path, e))?;
        }
    }
    Ok(())
}

fn remove_all(dir: &std::path::Path) -> Result<(), PipelineError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PipelineError::io("remove", dir, e)),
    }
}
