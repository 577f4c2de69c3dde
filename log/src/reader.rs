//! The read side: tail the log from an offset, across segments.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::LogError;
use crate::record::{Decoded, decode};
use crate::segment;

const READ_CHUNK: usize = 1 << 20;

/// Reads records in offset order; at the end it returns `None` and can be
/// polled again later to pick up what the writer appended since.
#[derive(Debug)]
pub struct LogReader {
    dir: PathBuf,
    segment_base: u64,
    file: Option<File>,
    file_pos: u64,
    buf: Vec<u8>,
    cursor: usize,
    next: u64,
    limit: Option<Arc<AtomicU64>>,
}

impl LogReader {
    /// Opens a reader positioned at record offset `from` (the end if `from` is past it).
    pub fn open(dir: &Path, from: u64) -> Result<Self, LogError> {
        let bases = if dir.exists() {
            segment::list(dir)?
        } else {
            Vec::new()
        };
        let base = bases
            .iter()
            .copied()
            .filter(|b| *b <= from)
            .max()
            .unwrap_or(0);
        let mut reader = LogReader {
            dir: dir.to_path_buf(),
            segment_base: base,
            file: None,
            file_pos: 0,
            buf: Vec::new(),
            cursor: 0,
            next: base,
            limit: None,
        };
        while reader.next < from {
            if reader.next_record()?.is_none() {
                break;
            }
        }
        Ok(reader)
    }

    /// Never reads at or past the offset `limit` holds (the writer's durable end).
    pub fn with_limit(mut self, limit: Arc<AtomicU64>) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Offset of the record the next call returns.
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// The next record and its offset, or `None` when nothing more is there yet.
    pub fn next_record(&mut self) -> Result<Option<(u64, Vec<u8>)>, LogError> {
        if let Some(limit) = &self.limit
            && self.next >= limit.load(Ordering::Acquire)
        {
            return Ok(None);
        }
        // A record being erased reads as corrupt for a moment (see `erase`): read once more.
        let mut reread = false;
        loop {
            match decode(&self.buf[self.cursor..]) {
                Decoded::Record(payload, len) => {
                    let payload = payload.to_vec();
                    self.cursor += len;
                    let offset = self.next;
                    self.next += 1;
                    return Ok(Some((offset, payload)));
                }
                Decoded::Incomplete | Decoded::Unwritten | Decoded::Corrupt => {
                    if self.fill()? {
                        continue;
                    }
                    // Nothing more in this segment right now. A later segment means this one is
                    // finished: move on, unless its end is damaged.
                    let later = segment::path(&self.dir, self.next);
                    if self.next != self.segment_base && later.exists() {
                        let rest = &self.buf[self.cursor..];
                        if !rest.is_empty() && decode(rest) != Decoded::Unwritten {
                            if !reread {
                                reread = true;
                                std::thread::sleep(std::time::Duration::from_millis(20));
                                continue;
                            }
                            return Err(LogError::Corrupt {
                                path: segment::path(&self.dir, self.segment_base),
                                position: self.file_pos - rest.len() as u64,
                            });
                        }
                        self.segment_base = self.next;
                        self.file = None;
                        self.file_pos = 0;
                        self.buf.clear();
                        self.cursor = 0;
                        continue;
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// Reads the current segment again from the first record not yet
    /// returned (bytes past it may still change: the writer overwrites the
    /// zeroed space ahead of its records); true when that made a record whole.
    fn fill(&mut self) -> Result<bool, LogError> {
        let path = segment::path(&self.dir, self.segment_base);
        let start = self.file_pos - (self.buf.len() - self.cursor) as u64;
        let file = match &mut self.file {
            Some(file) => file,
            None => match File::open(&path) {
                Ok(file) => self.file.insert(file),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(LogError::io("open", &path, e)),
            },
        };
        file.seek(SeekFrom::Start(start))
            .map_err(|e| LogError::io("seek", &path, e))?;
        self.buf.clear();
        self.cursor = 0;
        self.file_pos = start;
        loop {
            let old = self.buf.len();
            self.buf.resize(old + READ_CHUNK, 0);
            let n = file
                .read(&mut self.buf[old..])
                .map_err(|e| LogError::io("read", &path, e))?;
            self.buf.truncate(old + n);
            self.file_pos += n as u64;
            match decode(&self.buf) {
                Decoded::Record(..) => return Ok(true),
                Decoded::Incomplete if n > 0 => {}
                Decoded::Incomplete | Decoded::Unwritten | Decoded::Corrupt => return Ok(false),
            }
        }
    }
}
