//! Compaction: many small range files of one folder become one file covering
//! their ranges. The merged file is renamed into place before the inputs are
//! deleted; a crash in between leaves inputs inside the merged file's range,
//! which [`range_file::clean`] removes on the next start.

use std::path::Path;

use crate::error::PipelineError;
use crate::range_file::{self, RangeFile};
use crate::sink::parquet_file;

/// Files at least this big are left alone.
pub const LARGE_FILE_BYTES: u64 = 64 << 20;

/// Merges the small committed Parquet range files of `dir` once there are `min_files` of them.
/// Returns how many files were merged.
pub fn compact_parquet(
    dir: &Path,
    committed: u64,
    min_files: usize,
    level: i32,
) -> Result<usize, PipelineError> {
    let files: Vec<RangeFile> = range_file::list(dir)?
        .into_iter()
        .filter(|f| f.last < committed)
        .filter(|f| {
            std::fs::metadata(&f.path)
                .map(|m| m.len() < LARGE_FILE_BYTES)
                .unwrap_or(false)
        })
        .collect();
    if files.len() < min_files.max(2) {
        return Ok(0);
    }
    // Merge runs of files that share a schema (a new schema version adds columns).
    let mut merged = 0;
    let mut run: Vec<&RangeFile> = Vec::new();
    let mut run_schema = None;
    for file in &files {
        let schema = parquet_file::schema_of(&file.path)?;
        if run_schema.as_ref() != Some(&schema) {
            merged += merge(dir, &run, level)?;
            run.clear();
            run_schema = Some(schema);
        }
        run.push(file);
    }
    merged += merge(dir, &run, level)?;
    Ok(merged)
}

fn merge(dir: &Path, run: &[&RangeFile], level: i32) -> Result<usize, PipelineError> {
    if run.len() < 2 {
        return Ok(0);
    }
    let schema = parquet_file::schema_of(&run[0].path)?;
    let mut batches = Vec::new();
    for file in run {
        batches.extend(parquet_file::read(&file.path)?);
    }
    let first = run[0].first;
    let last = run.iter().map(|f| f.last).max().unwrap_or(first);
    let path = dir.join(range_file::file_name(first, last, "parquet"));
    parquet_file::write(&path, schema, &batches, level)?;
    range_file::sync_dir(dir)?;
    for file in run.iter().filter(|f| f.path != path) {
        range_file::remove_file(&file.path)?;
    }
    range_file::sync_dir(dir)?;
    Ok(run.len())
}
