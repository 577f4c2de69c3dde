//! The SQLite queue for native and mobile hosts (feature `sqlite`).
//!
//! WAL journal with `synchronous=NORMAL`: a commit survives the process
//! crashing (the case that matters for an SDK); only a power loss may lose the
//! last commits. Each [`WriteBatch`] is one transaction with cached prepared
//! statements, which is what makes the queue fast.

use std::path::Path;

use rusqlite::{Connection, params};

use super::{QueuedEvent, Snapshot, Storage, StorageError, WriteBatch};
use crate::time::Timestamp;

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS spoor_queue (
        seq       INTEGER PRIMARY KEY,
        event_id  TEXT NOT NULL,
        category  TEXT NOT NULL,
        queued_at INTEGER NOT NULL,
        body      TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS spoor_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
";

/// The queue in an SQLite database file.
#[derive(Debug)]
pub struct SqliteStorage {
    conn: Connection,
}

/// SQLite integers are signed; sequence numbers and milliseconds stay far below `i64::MAX`.
fn to_sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn from_sql_int(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn sql_error(what: &str) -> impl FnOnce(rusqlite::Error) -> StorageError + '_ {
    move |e| StorageError::with_source(format!("sqlite {what}"), e)
}

impl SqliteStorage {
    /// Opens (creating if needed) the queue database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StorageError> {
        let conn = Connection::open(path.as_ref()).map_err(sql_error("open"))?;
        Self::with_connection(conn)
    }

    /// A queue in an in-memory SQLite database (for tests and benchmarks).
    pub fn open_in_memory() -> Result<Self, StorageError> {
        let conn = Connection::open_in_memory().map_err(sql_error("open"))?;
        Self::with_connection(conn)
    }

    fn with_connection(conn: Connection) -> Result<Self, StorageError> {
        conn.execute_batch(SCHEMA).map_err(sql_error("schema"))?;
        Ok(SqliteStorage { conn })
    }

    /// Number of queued events stored.
    pub fn len(&self) -> Result<u64, StorageError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM spoor_queue", [], |row| {
                row.get(0).map(from_sql_int)
            })
            .map_err(sql_error("count"))
    }

    /// Whether no event is stored.
    pub fn is_empty(&self) -> Result<bool, StorageError> {
        Ok(self.len()? == 0)
    }
}

impl Storage for SqliteStorage {
    fn load(&mut self) -> Result<Snapshot, StorageError> {
        let mut snapshot = Snapshot::default();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, event_id, category, queued_at, body FROM spoor_queue ORDER BY seq",
            )
            .map_err(sql_error("load"))?;
        let rows = stmt
            .query_map([], |row| {
                Ok(QueuedEvent {
                    seq: from_sql_int(row.get(0)?),
                    event_id: row.get(1)?,
                    category: row.get(2)?,
                    queued_at: Timestamp::from_millis(from_sql_int(row.get(3)?)),
                    body: row.get(4)?,
                })
            })
            .map_err(sql_error("load"))?;
        for row in rows {
            snapshot.events.push(row.map_err(sql_error("load"))?);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM spoor_meta")
            .map_err(sql_error("load meta"))?;
        let rows = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(sql_error("load meta"))?;
        for row in rows {
            let (key, value) = row.map_err(sql_error("load meta"))?;
            snapshot.meta.insert(key, value);
        }
        Ok(snapshot)
    }

    fn apply(&mut self, batch: &WriteBatch) -> Result<(), StorageError> {
        if batch.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction().map_err(sql_error("begin"))?;
        {
            if !batch.remove.is_empty() {
                let mut delete = tx
                    .prepare_cached("DELETE FROM spoor_queue WHERE seq = ?1")
                    .map_err(sql_error("delete"))?;
                for seq in &batch.remove {
                    delete
                        .execute([to_sql_int(*seq)])
                        .map_err(sql_error("delete"))?;
                }
            }
            if !batch.append.is_empty() {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT OR REPLACE INTO spoor_queue (seq, event_id, category, queued_at, body)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(sql_error("insert"))?;
                for e in &batch.append {
                    insert
                        .execute(params![
                            to_sql_int(e.seq),
                            e.event_id,
                            e.category,
                            to_sql_int(e.queued_at.as_millis()),
                            e.body
                        ])
                        .map_err(sql_error("insert"))?;
                }
            }
            for (key, value) in &batch.meta {
                match value {
                    Some(value) => tx
                        .prepare_cached(
                            "INSERT INTO spoor_meta (key, value) VALUES (?1, ?2)
                             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        )
                        .and_then(|mut s| s.execute(params![key, value]))
                        .map_err(sql_error("meta"))?,
                    None => tx
                        .prepare_cached("DELETE FROM spoor_meta WHERE key = ?1")
                        .and_then(|mut s| s.execute([key]))
                        .map_err(sql_error("meta"))?,
                };
            }
        }
        tx.commit().map_err(sql_error("commit"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64) -> QueuedEvent {
        QueuedEvent {
            seq,
            event_id: format!("e{seq}"),
            category: String::from("analytics"),
            queued_at: Timestamp::from_millis(seq * 10),
            body: format!(r#"{{"eventId":"e{seq}"}}"#),
        }
    }

    #[test]
    fn survives_reopen_and_applies_removes_and_meta() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.db");
        {
            let mut s = SqliteStorage::open(&path).unwrap();
            let mut batch = WriteBatch {
                append: (0..5).map(event).collect(),
                ..WriteBatch::default()
            };
            batch.meta.insert("anonymousId".into(), Some("a1".into()));
            batch.meta.insert("userId".into(), Some("u1".into()));
            s.apply(&batch).unwrap();
            let mut batch = WriteBatch {
                remove: vec![0, 2],
                ..WriteBatch::default()
            };
            batch.meta.insert("userId".into(), None);
            s.apply(&batch).unwrap();
        }
        let mut s = SqliteStorage::open(&path).unwrap();
        let snap = s.load().unwrap();
        let seqs: Vec<u64> = snap.events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 3, 4]);
        assert_eq!(snap.events[0], event(1));
        assert_eq!(snap.meta.get("anonymousId").map(String::as_str), Some("a1"));
        assert!(!snap.meta.contains_key("userId"));
        assert_eq!(s.len().unwrap(), 3);
    }
}
