//! A failing storage: nothing is sent before it is stored, and a failed
//! commit is retried whole at the next one.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::*;
use spoor_core::{Client, MemoryStorage, SendOutcome, Snapshot, Storage, StorageError, WriteBatch};

/// Memory storage whose writes fail while the shared flag is set.
struct Flaky {
    inner: MemoryStorage,
    failing: Rc<Cell<bool>>,
}

impl Storage for Flaky {
    fn load(&mut self) -> Result<Snapshot, StorageError> {
        self.inner.load()
    }

    fn apply(&mut self, batch: &WriteBatch) -> Result<(), StorageError> {
        if self.failing.get() {
            return Err(StorageError::new("disk full"));
        }
        self.inner.apply(batch)
    }
}

#[test]
fn nothing_is_sent_until_stored_and_a_failed_commit_is_retried_whole() {
    let failing = Rc::new(Cell::new(true));
    let storage = Flaky {
        inner: MemoryStorage::new(),
        failing: Rc::clone(&failing),
    };
    let mut c = Client::new(granted_config(), storage, [4; 32], T0).unwrap();
    let mut ids = track_n(&mut c, 25, T0);
    assert!(
        c.poll_transmit(T0).is_err(),
        "cannot store, so nothing is sent"
    );
    assert_eq!(c.storage().inner.events().count(), 0);
    assert_eq!(c.stats().queued, 25, "still queued in memory");
    ids.extend(track_n(&mut c, 5, T0));

    failing.set(false);
    let t = c.poll_transmit(T0).unwrap().expect("stored, now sent");
    assert_eq!(
        c.storage().inner.events().count(),
        30,
        "the failed writes went in with the new ones"
    );
    assert!(c.storage().inner.meta("anonymousId").is_some());
    assert_eq!(common::ids(&t), ids);

    failing.set(true);
    c.on_response(t.batch_id, SendOutcome::status(200), T0);
    assert!(c.commit().is_err());
    assert_eq!(
        c.storage().inner.events().count(),
        30,
        "acked but not yet deleted"
    );
    failing.set(false);
    c.commit().unwrap();
    assert_eq!(c.storage().inner.events().count(), 0);
}
