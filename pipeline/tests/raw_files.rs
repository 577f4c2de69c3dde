//! How rows become raw files: a partition with few rows per range gets one file covering
//! several ranges, and a commit leaves no row only in memory.

mod common;

use common::*;
use spoor_pipeline::range_file;

/// (first, last, rows) of every raw file of `data_dir`, by folder.
fn raw_files(data_dir: &std::path::Path) -> Vec<(u64, u64, usize)> {
    let mut out = Vec::new();
    for dir in range_file::walk_dirs(&data_dir.join("raw")).unwrap() {
        for file in range_file::list(&dir).unwrap() {
            let rows = spoor_pipeline::sink::parquet_file::read(&file.path)
                .unwrap()
                .iter()
                .map(|b| b.num_rows())
                .sum();
            out.push((file.first, file.last, rows));
        }
    }
    out.sort();
    out
}

/// 100 page views of one person within a minute: one partition.
fn one_partition() -> Vec<spoor_log::event::StoredEvent> {
    (0..100)
        .map(|i| track(&format!("e{i}"), "page_viewed", "a1", t0() + i * 100, 50))
        .collect()
}

#[test]
fn few_rows_per_range_make_one_file_covering_the_ranges() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), &one_partition());
    // Ranges of 10 records, one commit at the end.
    run(dir.path(), 10);
    assert_eq!(raw_files(dir.path()), vec![(0, 99, 100)]);
}

#[test]
fn each_commit_writes_the_rows_held_so_far() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), &one_partition());
    run_with(dir.path(), uncompacted(10, 0));
    let want: Vec<_> = (0..10).map(|r| (r * 10, r * 10 + 9, 10)).collect();
    assert_eq!(raw_files(dir.path()), want);
    // Killed after four uncommitted ranges: a restart writes their rows once.
    let more: Vec<_> = (100..140)
        .map(|i| track(&format!("e{i}"), "page_viewed", "a1", t0() + i * 100, 50))
        .collect();
    append(dir.path(), &more);
    let mut runner = spoor_pipeline::Runner::open(dir.path(), config(10)).unwrap();
    for _ in 0..4 {
        assert_eq!(runner.step().unwrap(), 10);
    }
    drop(runner);
    assert_eq!(raw_files(dir.path()).len(), 10);
    run_with(dir.path(), uncompacted(10, 10_000));
    let files = raw_files(dir.path());
    assert_eq!(files.last(), Some(&(100, 139, 40)));
    assert_eq!(files.iter().map(|f| f.2).sum::<usize>(), 140);
}

#[test]
fn an_hour_s_rows_from_several_ranges_make_one_file_once_the_hour_has_passed() {
    let dir = tempfile::tempdir().unwrap();
    let hour_start = t0() - t0().rem_euclid(3_600_000);
    // 1,200 page views in one hour, then 10 in the next; ranges of 600 records.
    let events: Vec<_> = (0..1210)
        .map(|i| {
            let t = if i < 1200 {
                hour_start + i
            } else {
                hour_start + 3_600_000 + i
            };
            track(&format!("e{i}"), "page_viewed", "a1", t, 50)
        })
        .collect();
    append(dir.path(), &events);
    run_with(dir.path(), uncompacted(600, 60_000));
    // Not a file per range: the hour's rows waited for it to pass (its file covers the
    // range that passed it), the next hour's few rows for the commit.
    assert_eq!(
        raw_files(dir.path()),
        vec![(0, 1209, 1200), (1200, 1209, 10)]
    );
}
