//! The relay's readers of the pipeline's tables (realtime minutes, identity links) while a
//! compaction runs: between the merged file's rename and the deletion of its inputs, both
//! are on disk, and each row must still be read once.

mod common;

use std::path::{Path, PathBuf};

use common::{append, identify, mixed_traffic, run_with, t0, uncompacted};
use spoor_pipeline::layout::Layout;

/// The range files of `dir` with their bytes.
fn range_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    spoor_pipeline::range_file::list(dir)
        .unwrap()
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f.path).unwrap();
            (f.path, bytes)
        })
        .collect()
}

/// Merges the range files of `dir` and puts the inputs back beside the merged file, as a
/// reader finds them while a compaction is between its rename and its deletes.
fn merge_leaving_inputs(dir: &Path) {
    let inputs = range_files(dir);
    assert!(
        inputs.len() >= 2,
        "{}: {} files",
        dir.display(),
        inputs.len()
    );
    let merged = spoor_pipeline::compact::compact_parquet(
        dir,
        u64::MAX,
        2,
        &parquet::file::properties::WriterProperties::default(),
    )
    .unwrap();
    assert!(merged >= 2);
    for (path, bytes) in &inputs {
        std::fs::write(path, bytes).unwrap();
    }
    assert!(
        range_files(dir).len() > inputs.len(),
        "the merged file is there too"
    );
}

#[test]
fn realtime_minutes_and_identity_links_are_read_once_beside_a_merge_s_inputs() {
    let dir = tempfile::tempdir().unwrap();
    // Identify calls at both ends of the log, so identity links land in several ranges.
    let mut events = vec![identify("id-first", "anon-first", "user-first", t0())];
    events.extend(mixed_traffic(6));
    events.push(identify("id-last", "anon-last", "user-last", t0() + 1));
    append(dir.path(), &events);
    run_with(dir.path(), uncompacted(50, 0));
    let layout = Layout::new(dir.path());
    let realtime = spoor_pipeline::realtime::read(dir.path()).unwrap();
    let identities = spoor_pipeline::identity::read(dir.path()).unwrap();
    assert!(!realtime.is_empty() && !identities.is_empty());

    merge_leaving_inputs(&layout.realtime());
    merge_leaving_inputs(&layout.identities());

    let got = spoor_pipeline::realtime::read(dir.path()).unwrap();
    assert!(
        got == realtime,
        "{} realtime rows, {} before",
        got.len(),
        realtime.len()
    );
    let got = spoor_pipeline::identity::read(dir.path()).unwrap();
    assert!(
        got == identities,
        "{} links, {} before",
        got.len(),
        identities.len()
    );
}
