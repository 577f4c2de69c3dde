//! Erasing records in place: a user's events leave the log, offsets stay.
//!
//! An erased record keeps its length and its place; its payload becomes
//! [`ERASED`] padded with spaces, under a new checksum, so every later offset
//! and byte position is unchanged (the pipeline's outputs are named by
//! offset) and readers skip it ([`is_erased`]).
//!
//! A crash in the middle of overwriting would leave a record whose checksum
//! fails, which [`crate::EventLog::open`] would take for a torn tail and cut
//! off with every record after it. So the positions to overwrite are first
//! written to a journal (`erase.journal` in the log's directory, with its own
//! checksum) and made durable; then the records are overwritten and synced;
//! then the journal is removed. [`recover`] (run by `EventLog::open` and by
//! [`erase`]) finishes a journal a crash left behind: overwriting a record
//! again gives the same bytes.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::LogError;
use crate::record::{Decoded, HEADER_LEN, decode};
use crate::segment;

/// The payload of an erased record starts with this (spaces fill the rest).
pub const ERASED: &[u8] = b"{\"erased\":true}";

const JOURNAL: &str = "erase.journal";
const JOURNAL_TMP: &str = "erase.journal.tmp";
/// Bytes of one journal entry: segment base u64, position u64, payload length u32.
const ENTRY_LEN: usize = 20;

/// True when `payload` is an erased record's.
pub fn is_erased(payload: &[u8]) -> bool {
    payload.starts_with(ERASED)
}

/// One record to overwrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Target {
    /// Base offset of its segment.
    base: u64,
    /// Byte position of its header in the segment.
    position: u64,
    /// Payload length.
    len: u32,
}

/// Erases every record of the log in `dir` below offset `below` whose payload
/// `select` picks (records already erased are not offered); returns how many
/// it erased. Records at or past `below` are not read, so a writer may go on
/// appending meanwhile.
pub fn erase(
    dir: &Path,
    below: u64,
    mut select: impl FnMut(&[u8]) -> bool,
) -> Result<u64, LogError> {
    recover(dir)?;
    let mut targets = Vec::new();
    for base in segment::list(dir)? {
        if base >= below {
            break;
        }
        let path = segment::path(dir, base);
        let bytes = fs::read(&path).map_err(|e| LogError::io("read", &path, e))?;
        let mut position = 0usize;
        let mut offset = base;
        while offset < below {
            let Some(rest) = bytes.get(position..) else {
                break;
            };
            let Decoded::Record(payload, framed) = decode(rest) else {
                break;
            };
            if !is_erased(payload) && select(payload) {
                targets.push(Target {
                    base,
                    position: position as u64,
                    len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
                });
            }
            position += framed;
            offset += 1;
        }
    }
    if targets.is_empty() {
        return Ok(0);
    }
    write_journal(dir, &targets)?;
    overwrite(dir, &targets)?;
    remove_journal(dir)?;
    Ok(targets.len() as u64)
}

/// Finishes an erasure a crash interrupted (see the module docs); returns the
/// records it overwrote again. A journal that is not whole was never acted on
/// and is removed.
pub fn recover(dir: &Path) -> Result<u64, LogError> {
    let tmp = dir.join(JOURNAL_TMP);
    if tmp.exists() {
        fs::remove_file(&tmp).map_err(|e| LogError::io("remove", &tmp, e))?;
    }
    let path = dir.join(JOURNAL);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(LogError::io("read", &path, e)),
    };
    let targets = read_journal(&bytes).unwrap_or_default();
    overwrite(dir, &targets)?;
    remove_journal(dir)?;
    Ok(targets.len() as u64)
}

fn write_journal(dir: &Path, targets: &[Target]) -> Result<(), LogError> {
    let mut bytes = Vec::with_capacity(targets.len() * ENTRY_LEN + 4);
    for t in targets {
        bytes.extend_from_slice(&t.base.to_le_bytes());
        bytes.extend_from_slice(&t.position.to_le_bytes());
        bytes.extend_from_slice(&t.len.to_le_bytes());
    }
    bytes.extend_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
    let tmp = dir.join(JOURNAL_TMP);
    fs::write(&tmp, &bytes)
        .and_then(|()| File::open(&tmp)?.sync_all())
        .map_err(|e| LogError::io("write", &tmp, e))?;
    let path = dir.join(JOURNAL);
    fs::rename(&tmp, &path).map_err(|e| LogError::io("rename", &path, e))?;
    segment::sync_dir(dir)
}

fn read_journal(bytes: &[u8]) -> Option<Vec<Target>> {
    let (entries, crc) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
    if entries.len() % ENTRY_LEN != 0 || crc32fast::hash(entries).to_le_bytes() != crc {
        return None;
    }
    let word = |e: &[u8], at: usize| u64::from_le_bytes(e[at..at + 8].try_into().unwrap_or([0; 8]));
    Some(
        entries
            .chunks_exact(ENTRY_LEN)
            .map(|e| Target {
                base: word(e, 0),
                position: word(e, 8),
                len: u32::from_le_bytes(e[16..20].try_into().unwrap_or([0; 4])),
            })
            .collect(),
    )
}

fn remove_journal(dir: &Path) -> Result<(), LogError> {
    let path = dir.join(JOURNAL);
    fs::remove_file(&path).map_err(|e| LogError::io("remove", &path, e))?;
    segment::sync_dir(dir)
}

/// Writes the erased payload and its checksum over each target, then syncs each segment.
fn overwrite(dir: &Path, targets: &[Target]) -> Result<(), LogError> {
    let mut files: BTreeMap<u64, (PathBuf, File)> = BTreeMap::new();
    for t in targets {
        let (path, file) = match files.entry(t.base) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let path = segment::path(dir, t.base);
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| LogError::io("open segment", &path, e))?;
                e.insert((path, file))
            }
        };
        let payload = erased_payload(t.len as usize);
        let mut bytes = Vec::with_capacity(4 + payload.len());
        bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        // The length (the header's first 4 bytes) stays as it is.
        file.write_all_at(&bytes, t.position + 4)
            .map_err(|e| LogError::io("erase a record in", path, e))?;
    }
    for (path, file) in files.values() {
        file.sync_data()
            .map_err(|e| LogError::io("fsync", path, e))?;
    }
    Ok(())
}

/// [`ERASED`] padded with spaces to `len` bytes (only spaces if `len` is shorter).
fn erased_payload(len: usize) -> Vec<u8> {
    let mut payload = vec![b' '; len];
    if len >= ERASED.len() {
        payload[..ERASED.len()].copy_from_slice(ERASED);
    }
    payload
}

/// The ledger of erased users, `erased-users.ndjson` in the event log's
/// directory: one JSON line per erasure, appended once the log no longer holds
/// the user's records. The relay refuses these users' later events; the
/// pipeline rebuilds its outputs when the ledger grows.
pub const LEDGER: &str = "erased-users.ndjson";

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErasedUser {
    /// The user id the erasure was asked for.
    pub user_id: String,
    /// Anonymous ids found linked to it (sent together with it, or aliased to it).
    pub anonymous_ids: Vec<String>,
    /// When the erasure finished (RFC 3339, UTC).
    pub erased_at: String,
    /// Event-log records erased.
    pub log_records: u64,
    /// Dead-letter records erased.
    pub dead_letter_records: u64,
}

/// The erasures recorded for the log in `dir` (none without a ledger). A
/// torn last line (a crash while appending it) is left out.
pub fn ledger(dir: &Path) -> Result<Vec<ErasedUser>, LogError> {
    let path = dir.join(LEDGER);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(LogError::io("read", &path, e)),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

/// Bytes in the ledger of the log in `dir` (0 without one): a cheap way to see it grow.
pub fn ledger_len(dir: &Path) -> u64 {
    fs::metadata(dir.join(LEDGER)).map_or(0, |m| m.len())
}

/// Appends `user` to the ledger of the log in `dir`, durably.
pub fn record(dir: &Path, user: &ErasedUser) -> Result<(), LogError> {
    use std::io::Write;
    let path = dir.join(LEDGER);
    let mut line = serde_json::to_vec(user).map_err(|e| LogError::io("encode", &path, e.into()))?;
    line.push(b'\n');
    let created = !path.exists();
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| LogError::io("open", &path, e))?;
    // A line torn by an earlier crash is ended first, so this one reads whole.
    let len = file.metadata().map_or(0, |m| m.len());
    if len > 0 && !ends_with_newline(&path, len) {
        line.insert(0, b'\n');
    }
    file.write_all(&line)
        .and_then(|()| file.sync_data())
        .map_err(|e| LogError::io("append to", &path, e))?;
    if created {
        segment::sync_dir(dir)?;
    }
    Ok(())
}

fn ends_with_newline(path: &Path, len: u64) -> bool {
    let mut last = [0u8];
    File::open(path)
        .and_then(|f| f.read_exact_at(&mut last, len - 1))
        .is_ok_and(|()| last[0] == b'\n')
}

const _: () = assert!(
    HEADER_LEN == 8,
    "the checksum sits at bytes 4..8 of a header"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventLog, LogOptions, LogReader};

    fn records(dir: &Path) -> Vec<(u64, Vec<u8>)> {
        let mut reader = LogReader::open(dir, 0).unwrap();
        std::iter::from_fn(|| reader.next_record().unwrap()).collect()
    }

    fn small_segments() -> LogOptions {
        LogOptions {
            segment_bytes: 200,
            ..LogOptions::default()
        }
    }

    #[test]
    fn erased_records_keep_their_offsets_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = EventLog::open(dir.path(), small_segments()).unwrap();
        for i in 0..30 {
            let who = if i % 3 == 0 { "alice" } else { "bob" };
            log.append(&[format!("{{\"userId\":\"{who}\",\"n\":{i}}}")])
                .unwrap();
        }
        log.sync().unwrap();
        assert!(segment::list(dir.path()).unwrap().len() > 2);
        let erased = erase(dir.path(), 25, |p| p.windows(5).any(|w| w == b"alice")).unwrap();
        assert_eq!(erased, 9, "alice's records below offset 25: 0, 3, ..., 24");
        let after = records(dir.path());
        assert_eq!(after.len(), 30);
        for (offset, payload) in &after {
            let alice = offset % 3 == 0;
            assert_eq!(is_erased(payload), alice && *offset < 25, "offset {offset}");
            assert!(!(is_erased(payload) && payload.windows(5).any(|w| w == b"alice")));
        }
        // Again: nothing left to erase below 25; the writer goes on appending.
        assert_eq!(
            erase(dir.path(), 25, |p| p.windows(5).any(|w| w == b"alice")).unwrap(),
            0
        );
        log.append(&[b"{\"userId\":\"carol\"}"]).unwrap();
        log.sync().unwrap();
        drop(log);
        let log = EventLog::open(dir.path(), small_segments()).unwrap();
        assert_eq!(log.next_offset(), 31);
        assert_eq!(log.repaired_bytes(), 0);
    }

    #[test]
    fn a_journal_left_by_a_crash_is_finished_before_the_log_opens() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
        let first: &[u8] = b"{\"userId\":\"alice\",\"secret\":1}";
        let second: &[u8] = b"{\"userId\":\"bob\"}";
        log.append(&[first, second, b"{\"userId\":\"alice\",\"secret\":2}"])
            .unwrap();
        log.sync().unwrap();
        drop(log);
        // The crash: journal durable, the first record half overwritten, the second not at all.
        let targets = [
            Target {
                base: 0,
                position: 0,
                len: first.len() as u32,
            },
            Target {
                base: 0,
                position: (2 * HEADER_LEN + first.len() + second.len()) as u64,
                len: first.len() as u32,
            },
        ];
        write_journal(dir.path(), &targets).unwrap();
        let file = OpenOptions::new()
            .write(true)
            .open(segment::path(dir.path(), 0))
            .unwrap();
        file.write_all_at(b"{\"erased\":", 8).unwrap();
        drop(file);
        let log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
        assert_eq!(log.next_offset(), 3, "nothing was cut off as a torn tail");
        assert_eq!(log.repaired_bytes(), 0);
        let after = records(dir.path());
        assert!(is_erased(&after[0].1));
        assert_eq!(after[1].1, b"{\"userId\":\"bob\"}");
        assert!(is_erased(&after[2].1));
        assert!(!dir.path().join(JOURNAL).exists());
    }

    #[test]
    fn a_journal_that_is_not_whole_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
        log.append(&[b"{\"userId\":\"alice\"}"]).unwrap();
        log.sync().unwrap();
        drop(log);
        fs::write(dir.path().join(JOURNAL), [1, 2, 3, 4, 5, 6, 7]).unwrap();
        assert_eq!(recover(dir.path()).unwrap(), 0);
        assert_eq!(records(dir.path())[0].1, b"{\"userId\":\"alice\"}");
    }

    #[test]
    fn the_ledger_skips_a_torn_line_and_goes_on_after_it() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ledger(dir.path()).unwrap().is_empty());
        let user = |id: &str| ErasedUser {
            user_id: id.into(),
            anonymous_ids: vec![format!("anon-{id}")],
            erased_at: "2026-11-30T06:00:00.000Z".into(),
            log_records: 2,
            dead_letter_records: 0,
        };
        record(dir.path(), &user("alice")).unwrap();
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join(LEDGER))
            .unwrap();
        std::io::Write::write_all(&mut file, b"{\"userId\":\"bo").unwrap();
        record(dir.path(), &user("carol")).unwrap();
        assert_eq!(
            ledger(dir.path()).unwrap(),
            vec![user("alice"), user("carol")]
        );
        assert!(ledger_len(dir.path()) > 0);
    }

    #[test]
    fn short_payloads_become_spaces() {
        assert_eq!(erased_payload(3), b"   ");
        assert_eq!(&erased_payload(20)[..ERASED.len()], ERASED);
        assert!(is_erased(&erased_payload(40)));
    }
}
