//! The append side of the log: one writer, segment rolling, torn-tail repair.

use std::fs::{self, File, OpenOptions};
use std::ops::Range;
use std::os::unix::fs::FileExt;
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
    /// Zeroes are written ahead of the records in steps of this many bytes (0: never).
    /// Records then overwrite space the file already has, so the fsync after
    /// each group does not also have to write the file's new size: about a
    /// third less time and CPU per fsync on ext4 (BENCHMARKS.md, "Relay").
    /// A group of [`UNZEROED_GROUP_BYTES`] or more is written past the zeroed
    /// space instead: its fsync writes the new size once for many records,
    /// and zeroes first would double the bytes written.
    pub preallocate_bytes: u64,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            segment_bytes: 128 << 20,
            fsync: true,
            preallocate_bytes: 4 << 20,
        }
    }
}

/// Bytes of a segment's newest records the group-commit writer keeps in the
/// page cache once they are synced, for the pipeline that follows the log;
/// older pages are let go ([`EventLog::release_cache`]). On the benchmark VM,
/// copying appends into page-cache pages the kernel has to take from free
/// memory was a third of all CPU samples in a batch run, while reused pages
/// copy several times faster (BENCHMARKS.md, "Relay").
pub const CACHED_TAIL_BYTES: u64 = 32 << 20;

/// Pages are let go in steps of at least this many bytes.
const RELEASE_STEP_BYTES: u64 = 8 << 20;

/// Groups at least this big are not preallocated for (see
/// [`LogOptions::preallocate_bytes`]). A 100-event batch is ~75 KB: at 256 KiB,
/// as before, groups of one to three batches were written twice (vmstat: 300
/// MB/s to the disk for ~150 MB/s of records).
pub const UNZEROED_GROUP_BYTES: u64 = 32 << 10;

/// Zeroes written per call while preallocating.
static ZEROES: [u8; 64 << 10] = [0; 64 << 10];

/// An append-only log of records in segment files under one directory.
///
/// Offsets are record sequence numbers starting at 0. The segment being
/// written may end in zeroed, preallocated space; a finished segment ends with
/// its last record. Opening repairs a torn tail left by a crash: the last
/// segment is cut after its last whole, checksum-valid record.
#[derive(Debug)]
pub struct EventLog {
    dir: PathBuf,
    options: LogOptions,
    file: File,
    file_path: PathBuf,
    base: u64,
    /// Bytes of records in the current segment.
    len: u64,
    /// Bytes the current segment's file holds (records, then zeroes).
    allocated: u64,
    /// Preallocating failed (say, a full disk): not tried again in this segment.
    preallocate_failed: bool,
    /// Bytes at the start of the current segment already let go from the page cache.
    uncached: u64,
    next_offset: u64,
    repaired_bytes: u64,
    buf: Vec<u8>,
}

impl EventLog {
    /// Opens (or creates) the log in `dir`, truncating a torn tail.
    pub fn open(dir: &Path, options: LogOptions) -> Result<Self, LogError> {
        fs::create_dir_all(dir).map_err(|e| LogError::io("create dir", dir, e))?;
        // An erasure a crash cut short would otherwise read as a torn tail.
        crate::erase::recover(dir)?;
        let bases = segment::list(dir)?;
        let base = bases.last().copied().unwrap_or(0);
        let file_path = segment::path(dir, base);
        let file = open_segment(&file_path)?;
        let bytes = fs::read(&file_path).map_err(|e| LogError::io("read", &file_path, e))?;
        let scan = segment::scan(&bytes);
        if bytes.len() as u64 > scan.valid_len {
            // A torn record, or zeroed space left by the last run: cut both off.
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
            allocated: scan.valid_len,
            preallocate_failed: false,
            uncached: 0,
            next_offset: base + scan.records,
            repaired_bytes: scan.garbage,
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
    /// Empty payloads are refused (an empty record would read as zeroed space).
    pub fn append<P: AsRef<[u8]>>(&mut self, payloads: &[P]) -> Result<Range<u64>, LogError> {
        if payloads.iter().any(|p| p.as_ref().is_empty()) {
            return Err(LogError::EmptyRecord);
        }
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
        let end = self.len + bytes.len() as u64;
        if (bytes.len() as u64) < UNZEROED_GROUP_BYTES {
            self.preallocate(end);
        }
        if let Err(e) = self.file.write_all_at(bytes, self.len) {
            // Cut back any partial write so the segment ends on a record boundary.
            let _ = self.file.set_len(self.len);
            self.allocated = self.len;
            return Err(LogError::io("append to", &self.file_path, e));
        }
        self.len = end;
        self.allocated = self.allocated.max(end);
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

    /// Lets the kernel drop the pages of the current segment older than its last
    /// `CACHED_TAIL_BYTES` from the page cache, so it reuses them for the next
    /// appends instead of taking new memory for each (see the constant). For a
    /// writer that appends for a long time ([`crate::GroupCommit`]), after a
    /// [`EventLog::sync`]; does nothing when fsync is off (the pages may still be dirty).
    pub fn release_cache(&mut self) {
        if !self.options.fsync {
            return;
        }
        let until = self.len.saturating_sub(CACHED_TAIL_BYTES);
        if until < self.uncached + RELEASE_STEP_BYTES {
            return;
        }
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let (Ok(from), Ok(len)) = (
                i64::try_from(self.uncached),
                i64::try_from(until - self.uncached),
            ) else {
                return;
            };
            // SAFETY: posix_fadvise reads no memory of ours; a failure (it is only
            // advice) leaves the pages cached.
            unsafe {
                libc::posix_fadvise(self.file.as_raw_fd(), from, len, libc::POSIX_FADV_DONTNEED);
            }
        }
        self.uncached = until;
    }

    /// Makes sure the file holds at least `end` bytes, writing zeroes ahead in
    /// steps of `preallocate_bytes` (not past the segment size). A failure only
    /// means the records are appended without preallocated space.
    fn preallocate(&mut self, end: u64) {
        let step = self.options.preallocate_bytes;
        if step == 0 || end <= self.allocated || self.preallocate_failed {
            return;
        }
        let target = end
            .div_ceil(step)
            .saturating_mul(step)
            .min(self.options.segment_bytes.max(end));
        let mut at = self.allocated;
        while at < target {
            let n = ZEROES
                .len()
                .min(usize::try_from(target - at).unwrap_or(usize::MAX));
            if self.file.write_all_at(&ZEROES[..n], at).is_err() {
                let _ = self.file.set_len(self.allocated);
                self.preallocate_failed = true;
                return;
            }
            at += n as u64;
        }
        self.allocated = target;
    }

    fn roll(&mut self) -> Result<(), LogError> {
        // A finished segment ends with its last record: cut the zeroed space off.
        if self.allocated > self.len {
            self.file
                .set_len(self.len)
                .map_err(|e| LogError::io("truncate", &self.file_path, e))?;
        }
        self.sync()?;
        let path = segment::path(&self.dir, self.next_offset);
        let file = open_segment(&path)?;
        segment::sync_dir(&self.dir)?;
        self.file = file;
        self.file_path = path;
        self.base = self.next_offset;
        self.len = 0;
        self.allocated = 0;
        self.preallocate_failed = false;
        self.uncached = 0;
        Ok(())
    }
}

/// Opens (creating it if needed) a segment for reading and positioned writes.
fn open_segment(path: &Path) -> Result<File, LogError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| LogError::io("open segment", path, e))
}
