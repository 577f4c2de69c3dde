//! Compaction: many small range files of one folder become one file covering
//! their ranges. The merged file is renamed into place before the inputs are
//! deleted; a crash in between leaves inputs inside the merged file's range,
//! which [`range_file::clean`] removes on the next start.

use std::path::Path;

use parquet::file::properties::WriterProperties;

use crate::error::PipelineError;
use crate::range_file::{self, RangeFile};
use crate::sink::parquet_file;

/// Files at least this big are merged enough: left alone (so a row is rewritten once or
/// twice, not at every pass), and a run of small files to merge stops at them.
pub const MERGED_FILE_BYTES: u64 = 16 << 20;

/// A merge takes in at most about this many bytes.
pub const MERGE_INPUT_BYTES: u64 = 64 << 20;

/// Merges the small committed Parquet range files of `dir` once there are `min_files` of them,
/// writing with `props`. Returns how many files were merged.
pub fn compact_parquet(
    dir: &Path,
    committed: u64,
    min_files: usize,
    props: &WriterProperties,
) -> Result<usize, PipelineError> {
    compact_with(dir, committed, min_files, props, MERGED_FILE_BYTES, &|_| {
        Ok(false)
    })
}

/// Like [`compact_parquet`], leaving alone (like a big file) every file `hold` says may still
/// change: the sessions table's files holding sessions a late event may re-open, so that
/// removing their older rows rewrites small files.
pub fn compact_parquet_holding(
    dir: &Path,
    committed: u64,
    min_files: usize,
    props: &WriterProperties,
    hold: &dyn Fn(&Path) -> Result<bool, PipelineError>,
) -> Result<usize, PipelineError> {
    compact_with(dir, committed, min_files, props, MERGED_FILE_BYTES, hold)
}

fn compact_with(
    dir: &Path,
    committed: u64,
    min_files: usize,
    props: &WriterProperties,
    merged_file_bytes: u64,
    hold: &dyn Fn(&Path) -> Result<bool, PipelineError>,
) -> Result<usize, PipelineError> {
    let mut files: Vec<(RangeFile, u64)> = Vec::new();
    for f in range_file::list(dir)?
        .into_iter()
        .filter(|f| f.last < committed)
    {
        let bytes = std::fs::metadata(&f.path)
            .map_err(|e| PipelineError::io("stat", &f.path, e))?
            .len();
        // A held file counts as merged enough: left alone, and runs stop at it.
        let bytes = if hold(&f.path)? { u64::MAX } else { bytes };
        files.push((f, bytes));
    }
    let small = files
        .iter()
        .filter(|(_, bytes)| *bytes < merged_file_bytes)
        .count();
    if small < min_files.max(2) {
        return Ok(0);
    }
    // Merge runs of adjacent small files that share a schema (a new schema version adds
    // columns), each run up to about MERGE_INPUT_BYTES. A run never spans a file it leaves
    // out: the merged file's range would cover that file's, and a restart would delete it.
    let mut merged = 0;
    let mut run: Vec<&RangeFile> = Vec::new();
    let mut run_bytes = 0;
    let mut run_schema = None;
    for (file, bytes) in &files {
        if *bytes >= merged_file_bytes {
            merged += merge(dir, &run, props)?;
            run.clear();
            run_bytes = 0;
            run_schema = None;
            continue;
        }
        let schema = parquet_file::schema_of(&file.path)?;
        if run_schema.as_ref() != Some(&schema) || run_bytes + bytes > MERGE_INPUT_BYTES {
            merged += merge(dir, &run, props)?;
            run.clear();
            run_bytes = 0;
            run_schema = Some(schema);
        }
        run.push(file);
        run_bytes += bytes;
    }
    merged += merge(dir, &run, props)?;
    Ok(merged)
}

fn merge(dir: &Path, run: &[&RangeFile], props: &WriterProperties) -> Result<usize, PipelineError> {
    if run.len() < 2 {
        return Ok(0);
    }
    let schema = parquet_file::schema_of(&run[0].path)?;
    let first = run[0].first;
    let last = run.iter().map(|f| f.last).max().unwrap_or(first);
    let path = dir.join(range_file::file_name(first, last, "parquet"));
    let sources: Vec<&Path> = run.iter().map(|f| f.path.as_path()).collect();
    parquet_file::write_concatenated(&path, schema, &sources, props.clone())?;
    range_file::sync_dir(dir)?;
    for file in run.iter().filter(|f| f.path != path) {
        range_file::remove_file(&file.path)?;
    }
    range_file::sync_dir(dir)?;
    Ok(run.len())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn write_part(dir: &Path, first: u64, last: u64, schema: &Arc<Schema>) {
        let values = Int64Array::from_iter_values(first as i64..=last as i64);
        let batch = RecordBatch::try_new(Arc::clone(schema), vec![Arc::new(values)]).unwrap();
        let path = dir.join(range_file::file_name(first, last, "parquet"));
        crate::writer::Output::parquet(path, batch, 3)
            .write()
            .unwrap();
    }

    #[test]
    fn small_committed_files_become_one_with_every_row_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        for (first, last) in [(0, 9), (10, 19), (20, 29), (30, 39)] {
            write_part(dir.path(), first, last, &schema);
        }
        // The last file is not committed yet and stays as it is.
        assert_eq!(
            compact_parquet(dir.path(), 30, 2, &parquet_file::properties(3)).unwrap(),
            3
        );
        let files = range_file::list(dir.path()).unwrap();
        let ranges: Vec<_> = files.iter().map(|f| (f.first, f.last)).collect();
        assert_eq!(ranges, vec![(0, 29), (30, 39)]);
        let rows: Vec<i64> = parquet_file::read(&files[0].path)
            .unwrap()
            .iter()
            .flat_map(|b| {
                let column = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                (0..column.len())
                    .map(|i| column.value(i))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(rows, (0..30).collect::<Vec<_>>());
    }

    #[test]
    fn a_merge_never_spans_a_file_it_leaves_out() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        write_part(dir.path(), 0, 9, &schema);
        write_part(dir.path(), 10, 50_009, &schema);
        for (first, last) in [(50_010, 50_019), (50_020, 50_029)] {
            write_part(dir.path(), first, last, &schema);
        }
        let files = range_file::list(dir.path()).unwrap();
        let big = std::fs::metadata(&files[1].path).unwrap().len();
        let small = std::fs::metadata(&files[0].path).unwrap().len();
        assert!(big > small);
        // The big file counts as merged enough: the small ones on each side of it are not
        // merged across it (a file covering 0-50029 would make a restart delete it).
        assert_eq!(
            compact_with(
                dir.path(),
                60_000,
                2,
                &parquet_file::properties(3),
                big,
                &|_| Ok(false)
            )
            .unwrap(),
            2
        );
        let ranges: Vec<_> = range_file::list(dir.path())
            .unwrap()
            .iter()
            .map(|f| (f.first, f.last))
            .collect();
        assert_eq!(ranges, vec![(0, 9), (10, 50_009), (50_010, 50_029)]);
    }
}
