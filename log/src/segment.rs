//! Segment files: naming, listing and scanning.

use std::fs;
use std::path::{Path, PathBuf};

use crate::LogError;
use crate::record::{Decoded, decode};

/// File name of the segment whose first record has offset `base`.
pub fn file_name(base: u64) -> String {
    format!("{base:020}.log")
}

/// Path of the segment starting at `base` in `dir`.
pub fn path(dir: &Path, base: u64) -> PathBuf {
    dir.join(file_name(base))
}

/// Base offsets of the segments in `dir`, ascending.
pub fn list(dir: &Path) -> Result<Vec<u64>, LogError> {
    let entries = fs::read_dir(dir).map_err(|e| LogError::io("read dir", dir, e))?;
    let mut bases = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| LogError::io("read dir", dir, e))?;
        let name = entry.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".log")) else {
            continue;
        };
        if let Ok(base) = stem.parse::<u64>() {
            bases.push(base);
        }
    }
    bases.sort_unstable();
    Ok(bases)
}

/// Result of scanning a segment's bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Scan {
    /// Whole valid records from the start.
    pub records: u64,
    /// Byte length covered by those records.
    pub valid_len: u64,
    /// Bytes after `valid_len` up to the last non-zero one: a torn or corrupt
    /// tail (zeroed space ahead of the records does not count).
    pub garbage: u64,
}

/// Counts the valid records at the start of `bytes`.
pub fn scan(bytes: &[u8]) -> Scan {
    let mut pos = 0usize;
    let mut records = 0u64;
    while pos < bytes.len() {
        match decode(&bytes[pos..]) {
            Decoded::Record(_, len) => {
                pos += len;
                records += 1;
            }
            Decoded::Incomplete | Decoded::Unwritten | Decoded::Corrupt => break,
        }
    }
    let garbage = bytes[pos..]
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |last| last + 1);
    Scan {
        records,
        valid_len: pos as u64,
        garbage: garbage as u64,
    }
}

/// fsyncs a directory so that a created or renamed file in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<(), LogError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| LogError::io("fsync dir", dir, e))
}
