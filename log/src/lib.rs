//! Spoor's durable event log.
//!
//! The relay appends every accepted event to an [`EventLog`] and answers the
//! client only after the record is on disk. Records live in segment files
//! named by the offset of their first record (`00000000000000000000.log`),
//! each record framed as `[len u32 LE][crc32 u32 LE][payload]`, so a crash in
//! the middle of a write leaves a torn tail that [`EventLog::open`] finds and
//! cuts off. The segment being written is followed by zeroed space written
//! ahead of the records, so an fsync does not also have to write the file's
//! size ([`LogOptions::preallocate_bytes`]). [`GroupCommit`] batches concurrent appends into one write and one
//! fsync. [`LogReader`] tails the log by offset for `spoor log cat` and the
//! pipeline. The dead-letter log uses the same format in its own directory.
//! [`erase`] overwrites a user's records in place when they ask to be forgotten.
//!
//! ```
//! use spoor_log::{EventLog, LogOptions, LogReader};
//! let dir = tempfile::tempdir().unwrap();
//! let mut log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
//! log.append(&[b"one".as_slice(), b"two"]).unwrap();
//! log.sync().unwrap();
//! let mut reader = LogReader::open(dir.path(), 1).unwrap();
//! assert_eq!(reader.next_record().unwrap(), Some((1, b"two".to_vec())));
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod erase;
mod error;
pub mod event;
mod group_commit;
mod reader;
pub mod record;
mod segment;
mod wake_policy;
mod writer;

pub use error::LogError;
pub use group_commit::{AppendError, AppendResult, GroupCommit, GroupStats, Observer, Reply};
pub use reader::LogReader;
pub use wake_policy::PREEMPTING_GROUP_BYTES;
pub use writer::{EventLog, LogOptions, UNZEROED_GROUP_BYTES};
