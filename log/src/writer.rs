//! The append side of the log: one writer, segment rolling, torn-tail repair.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::LogError;
use crate::record::encode_into;
use crate::segment;

/// How the log writes.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// A segment is closed and a new one started once it reaches this many bytes.
    pub segment_bytes: u64,
    /// fsync after every append group (turn off only for benchmarks of the rest).
    pub fsync: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            segment_bytes: 128 << 20,
            fsync: true,
        }
    }
}

/// An append-only log of records in segment files under one directory.
///
/// Offsets are record sequence numbers starting at 0. Opening repairs a torn
/// tail left by a crash: the last segment is cut after its last whole,
/// checksum-valid record.
#[derive(Debug)]
pub struct EventLog {
    dir: PathBuf,
    options: LogOptions,
    file: File,
    file_path: PathBuf,
    base: u64,
    len: u64,
    next_offset: u64,
    repaired_bytes: u64,
    buf: Vec<u8>,
}

impl EventLog {
    /// Opens (or creates) the log in `dir`, truncating a torn tail.
    pub fn open(dir: &Path, options: LogOptions) -> Result<Self, LogError> {
        fs::create_dir_all(dir).map_err(|e| LogError::io("create dir", dir, e))?;
        let bases = segment::list(dir)?;
        let base = bases.last().copied().unwrap_or(0);
        let file_path = segment::path(dir, base);
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&file_path)
            .map_err(|e| LogError::io("open", &file_path, e))?;
        let bytes = fs::read(&file_path).map_err(|e| LogError::io("read", &file_path, e))?;
        let scan = segment::scan(&bytes);
        let mut repaired_bytes = 0;
        if scan.has_garbage {
            repaired_bytes = bytes.len() as u64 - scan.valid_len;
            file.set_len(scan.valid_len)
                .and_then(|()| file.sync_all())
                .map_err(|e| LogError::io("truncate torn tail of", &file_path, e))?;
        }
        if bases.is_empty() {
            segment::sync_dir(dir)?;
        }
        Ok(EventLog {
            dir: dir.to_path_buf(),
            options,
            file,
            file_path,
            base,
            len: scan.valid_len,
            next_offset: base + scan.records,
            repaired_bytes,
            buf: Vec::new(),
        })
    }

    /// The directory holding the segments.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Offset the next appended record will get (= records in the log).
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }

    /// Bytes of torn tail cut off when the log was opened.
    pub fn repaired_bytes(&self) -> u64 {
        self.repaired_bytes
    }

    /// Writes `payloads` as consecutive records (not yet durable: call [`EventLog::sync`]).
    ///
    /// On failure nothing of this call stays in the log: the segment is cut
    /// back to where it was, so a full disk never leaves a partial record.
    pub fn append<P: AsRef<[u8]>>(&mut self, payloads: &[P]) -> Result<Range<u64>, LogError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        for p in payloads {
            encode_into(&mut buf, p.as_ref());
        }
        let result = self.write_group(&buf, payloads.len() as u64);
        self.buf = buf;
        result
    }

    fn write_group(&mut self, bytes: &[u8], count: u64) -> Result<Range<u64>, LogError> {
        if self.len > 0 && self.len + bytes.len() as u64 > self.options.segment_bytes {
            self.roll()?;
        }
        if let Err(e) = self.file.write_all(bytes) {
            // Cut back any partial write so the segment ends on a record boundary.
            let _ = self.file.set_len(self.len);
            return Err(LogError::io("append to", &self.file_path, e));
        }
        self.len += bytes.len() as u64;
        let first = self.next_offset;
        self.next_offset += count;
        Ok(first..self.next_offset)
    }

    /// Makes everything appended so far durable (fsync), if the options ask for it.
    pub fn sync(&mut self) -> Result<(), LogError> {
        if self.options.fsync {
            self.file
                .sync_data()
                .map_err(|e| LogError::io("fsync", &self.file_path, e))?;
        }
        Ok(())
    }

    fn roll(&mut self) -> Result<(), LogError> {
        self.sync()?;
        let path = segment::path(&self.dir, self.next_offset);
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| LogError::io("create segment", &path, e))?;
        segment::sync_dir(&self.dir)?;
        self.file = file;
        self.file_path = path;
        self.base = self.next_offset;
        self.len = 0;
        Ok(())
    }
}
