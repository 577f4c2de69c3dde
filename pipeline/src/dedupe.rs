//! Dedupe by (source, eventId) over a window of arrival time.
//!
//! The index maps a 64-bit fingerprint of (source, eventId) to the hour the
//! event arrived: 12 bytes of payload, about 16 to 28 bytes per event in the
//! hash table depending on its fill. It is bounded by the window (7 days of
//! arrivals by default) and by `dedupe_max_entries`; past that bound the
//! oldest hours are dropped early. Expired fingerprints stop counting as soon
//! as the window passes them and leave the table when it is full (one pass
//! then, instead of one at every new hour, which a replay of weeks of log
//! would pay hundreds of times). Each range's new fingerprints are written
//! to `state/dedupe/part-A-B.bin` (12 bytes each), so the index survives
//! restarts. Two different events share a fingerprint with probability about
//! n²/2⁶⁵ (n = events in the window): 3·10⁻⁶ for ten million.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufReader, BufWriter, ErrorKind, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::PipelineError;
use crate::fingerprint::{FingerprintBuild, fingerprint};
use crate::range_file::{self, RangeFile};
use crate::stage::{Batch, CommitContext, Stage};
use crate::timefmt::HOUR_MS;
use crate::writer::Output;

/// Bytes of one fingerprint and its hour, in memory and on disk.
const ENTRY_BYTES: usize = 12;

/// A fingerprint held as two `u32` halves: with its `u32` hour a map entry is
/// 12 bytes (alignment 4) instead of the 16 a `(u64, u32)` pads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key([u32; 2]);

impl Key {
    fn new(fp: u64) -> Self {
        Key([fp as u32, (fp >> 32) as u32])
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from(self.0[0]) | (u64::from(self.0[1]) << 32));
    }
}

/// The part of the index that goes into the checkpoint.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DedupeCursor {
    /// Newest arrival hour seen (hours since the epoch).
    pub current_hour: u32,
    /// Fingerprints from before this hour no longer count.
    pub cutoff_hour: u32,
}

/// The dedupe stage.
pub struct Dedupe {
    seen: HashMap<Key, u32, FingerprintBuild>,
    cursor: DedupeCursor,
    window_hours: u32,
    max_entries: usize,
    fresh: Vec<(u64, u32)>,
    /// Duplicates dropped in the current batch.
    pub batch_duplicates: u64,
}

impl Dedupe {
    /// An empty index.
    pub fn new(window_hours: u32, max_entries: usize, cursor: DedupeCursor) -> Self {
        Dedupe {
            seen: HashMap::default(),
            cursor,
            window_hours,
            max_entries: max_entries.max(1),
            fresh: Vec::new(),
            batch_duplicates: 0,
        }
    }

    /// Loads the fingerprints of committed ranges (files ending before `committed`).
    pub fn load(&mut self, dir: &Path, committed: u64) -> Result<(), PipelineError> {
        for file in range_file::list(dir)? {
            if file.last >= committed {
                continue;
            }
            let bytes =
                std::fs::read(&file.path).map_err(|e| PipelineError::io("read", &file.path, e))?;
            if !bytes.len().is_multiple_of(ENTRY_BYTES) {
                return Err(PipelineError::state(
                    &file.path,
                    "length is not a multiple of 12",
                ));
            }
            for chunk in bytes.chunks_exact(ENTRY_BYTES) {
                let (fp, hour) = decode(chunk);
                if hour >= self.cursor.cutoff_hour {
                    self.seen.insert(Key::new(fp), hour);
                }
            }
        }
        Ok(())
    }

    /// The checkpointed cursor.
    pub fn cursor(&self) -> DedupeCursor {
        self.cursor
    }

    /// Fingerprints held.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Approximate bytes the index holds in memory.
    pub fn memory_bytes(&self) -> usize {
        // hashbrown: 12-byte entries plus one control byte per bucket (7/8 of buckets usable).
        const _: () = assert!(std::mem::size_of::<(Key, u32)>() == ENTRY_BYTES);
        self.seen.capacity() * 8 / 7 * (ENTRY_BYTES + 1)
    }

    /// Whether (source, event_id) arriving in `hour` repeats one seen in the window; records it if not.
    pub fn check(&mut self, source: &str, event_id: &str, hour: u32) -> bool {
        if hour > self.cursor.current_hour {
            self.cursor.current_hour = hour;
            // Expired fingerprints no longer count from here on; they leave the index when it
            // would otherwise grow (below), not in a pass over it at every new hour.
            self.cursor.cutoff_hour = self
                .cursor
                .cutoff_hour
                .max(hour.saturating_sub(self.window_hours));
        }
        let capacity = self.seen.capacity();
        if self.seen.len() == capacity {
            self.expire();
            // Little expired: grow now, or the next few inserts would each pass over it again.
            if capacity - self.seen.len() < capacity / 8 {
                self.seen.reserve(capacity / 8 + 1);
            }
        }
        let fp = fingerprint(&[source, event_id]);
        // One probe of the index (it is large: each probe is a cache miss or two).
        match self.seen.entry(Key::new(fp)) {
            Entry::Occupied(seen) if *seen.get() >= self.cursor.cutoff_hour => return true,
            Entry::Occupied(mut expired) => {
                expired.insert(hour);
            }
            Entry::Vacant(slot) => {
                slot.insert(hour);
            }
        }
        self.fresh.push((fp, hour));
        if self.seen.len() > self.max_entries {
            // Over the memory bound: drop the expired fingerprints, then give up the oldest
            // hour(s) early.
            self.expire();
            while self.seen.len() > self.max_entries
                && self.cursor.cutoff_hour < self.cursor.current_hour
            {
                self.cursor.cutoff_hour += 1;
                self.expire();
            }
        }
        false
    }

    fn expire(&mut self) {
        let cutoff = self.cursor.cutoff_hour;
        self.seen.retain(|_, h| *h >= cutoff);
    }

    /// The oldest hour still in the window: older fingerprints have expired.
    pub fn cutoff_hour(&self) -> u32 {
        self.cursor.cutoff_hour
    }

    /// Rewrites the committed fingerprint files of `dir` into one, without the entries of hours
    /// before `cutoff_hour`.
    pub fn compact(
        dir: &Path,
        committed: u64,
        min_files: usize,
        cutoff_hour: u32,
    ) -> Result<(), PipelineError> {
        let files: Vec<RangeFile> = range_file::list(dir)?
            .into_iter()
            .filter(|f| f.last < committed)
            .collect();
        if files.len() < min_files.max(2) {
            return Ok(());
        }
        let (first, last) = (
            files[0].first,
            files.iter().map(|f| f.last).max().unwrap_or(0),
        );
        let path = dir.join(range_file::file_name(first, last, "bin"));
        // Streamed entry by entry: the merged file holds the whole window (12 bytes per event).
        range_file::write_atomic_with(&path, |out| {
            let mut out = BufWriter::with_capacity(1 << 20, out);
            let mut entry = [0u8; ENTRY_BYTES];
            for file in &files {
                let mut input = BufReader::with_capacity(1 << 20, File::open(&file.path)?);
                loop {
                    match input.read_exact(&mut entry) {
                        Ok(()) if decode(&entry).1 >= cutoff_hour => out.write_all(&entry)?,
                        Ok(()) => {}
                        Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
                        Err(e) => return Err(e),
                    }
                }
            }
            out.flush()
        })?;
        range_file::sync_dir(dir)?;
        for file in files.iter().filter(|f| f.path != path) {
            range_file::remove_file(&file.path)?;
        }
        Ok(())
    }
}

fn decode(chunk: &[u8]) -> (u64, u32) {
    let mut fp = [0u8; 8];
    let mut hour = [0u8; 4];
    fp.copy_from_slice(&chunk[..8]);
    hour.copy_from_slice(&chunk[8..12]);
    (u64::from_le_bytes(fp), u32::from_le_bytes(hour))
}

impl Stage for Dedupe {
    fn name(&self) -> &'static str {
        "dedupe"
    }

    fn process(&mut self, batch: &mut Batch<'_>) {
        self.batch_duplicates = 0;
        for event in &mut batch.events {
            let hour =
                u32::try_from(event.received_at.div_euclid(HOUR_MS).max(0)).unwrap_or(u32::MAX);
            event.duplicate = self.check(&event.source, &event.event_id, hour);
            if event.duplicate {
                self.batch_duplicates += 1;
            }
        }
    }

    fn commit(
        &mut self,
        _batch: &Batch<'_>,
        ctx: &CommitContext<'_>,
    ) -> Result<Vec<Output>, PipelineError> {
        let fresh = std::mem::take(&mut self.fresh);
        if !ctx.write || fresh.is_empty() {
            return Ok(Vec::new());
        }
        let dir = ctx.layout.dedupe();
        let mut bytes = Vec::with_capacity(fresh.len() * ENTRY_BYTES);
        for (fp, hour) in fresh {
            bytes.extend_from_slice(&fp.to_le_bytes());
            bytes.extend_from_slice(&hour.to_le_bytes());
        }
        let path = dir.join(range_file::file_name(ctx.first, ctx.last, "bin"));
        Ok(vec![Output::Bytes { path, bytes }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_and_bound() {
        let mut d = Dedupe::new(2, 1000, DedupeCursor::default());
        assert!(!d.check("web", "e1", 10));
        assert!(d.check("web", "e1", 11));
        assert!(!d.check("ios", "e1", 11), "source is part of the key");
        assert!(d.check("web", "e1", 12));
        assert!(!d.check("web", "e1", 13), "out of the 2-hour window");
        let mut small = Dedupe::new(100, 3, DedupeCursor::default());
        for (i, hour) in [(0, 1), (1, 2), (2, 3), (3, 4)] {
            assert!(!small.check("web", &i.to_string(), hour));
        }
        assert!(small.len() <= 3);
    }

    #[test]
    fn expired_fingerprints_leave_a_full_table_instead_of_making_it_grow() {
        let mut d = Dedupe::new(2, 1_000_000, DedupeCursor::default());
        for hour in 0..1000u32 {
            for i in 0..50 {
                assert!(!d.check("web", &format!("{hour}-{i}"), hour));
            }
        }
        // Three hours of 50 are in the window; without expiry the table would hold 50,000.
        assert!(d.seen.capacity() < 1000, "capacity {}", d.seen.capacity());
        assert!(d.check("web", "998-7", 999));
        assert!(!d.check("web", "990-7", 999), "expired");
    }

    #[test]
    fn compaction_keeps_the_window_in_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let entry =
            |fp: u64, hour: u32| [fp.to_le_bytes().as_slice(), &hour.to_le_bytes()].concat();
        for (first, entries) in [(0u64, [(1u64, 5u32), (2, 9)]), (10, [(3, 6), (4, 10)])] {
            let bytes = entries
                .iter()
                .flat_map(|&(fp, h)| entry(fp, h))
                .collect::<Vec<_>>();
            let path = dir
                .path()
                .join(range_file::file_name(first, first + 9, "bin"));
            range_file::write_atomic(&path, &bytes).unwrap();
        }
        Dedupe::compact(dir.path(), 20, 2, 6).unwrap();
        let files = range_file::list(dir.path()).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!((files[0].first, files[0].last), (0, 19));
        let mut d = Dedupe::new(1000, 1000, DedupeCursor::default());
        d.load(dir.path(), 20).unwrap();
        let fp = |k: &Key| u64::from(k.0[0]) | (u64::from(k.0[1]) << 32);
        let mut kept: Vec<(u64, u32)> = d.seen.iter().map(|(k, h)| (fp(k), *h)).collect();
        kept.sort_unstable();
        assert_eq!(
            kept,
            vec![(2, 9), (3, 6), (4, 10)],
            "hour 5 is before the cutoff"
        );
    }
}
