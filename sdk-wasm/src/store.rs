//! The queue's storage in the browser: a write-through mirror in JavaScript.
//!
//! `spoor-core`'s [`Storage`] is synchronous, IndexedDB is not. So, as
//! docs/sdk.md describes for the browser, the JavaScript side reads the whole
//! store once before the client starts (handed in as [`Loaded`]), and every
//! [`WriteBatch`] the core commits is passed to a [`WriteSink`] that queues it
//! as one IndexedDB transaction (or writes it to localStorage at once).
//! Transactions on the same object stores run in the order they were made,
//! so the persisted queue follows the core's commits in order.

use alloc::string::{String, ToString};

use spoor_core::{QueuedEvent, Snapshot, Storage, StorageError, Timestamp, WriteBatch};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The JavaScript store (`npm/src/store.js`): `put`, `del` and `meta`
    /// record one write batch, `end` persists it as one transaction.
    pub type StoreSink;

    #[wasm_bindgen(method)]
    fn put(this: &StoreSink, seq: f64, event_id: &str, category: &str, queued_at: f64, body: &str);

    #[wasm_bindgen(method)]
    fn del(this: &StoreSink, seq: f64);

    #[wasm_bindgen(method)]
    fn meta(this: &StoreSink, key: &str, value: Option<String>);

    #[wasm_bindgen(method)]
    fn end(this: &StoreSink);
}

/// Where committed write batches go, one call per change then [`end`](WriteSink::end).
pub trait WriteSink {
    /// An event to add to the persisted queue.
    fn put(&self, event: &QueuedEvent);
    /// The event with this `seq` leaves the persisted queue.
    fn del(&self, seq: u64);
    /// A meta value to set (`Some`) or delete (`None`).
    fn meta(&self, key: &str, value: Option<&str>);
    /// The batch is complete: persist it atomically.
    fn end(&self);
}

impl WriteSink for StoreSink {
    fn put(&self, event: &QueuedEvent) {
        StoreSink::put(
            self,
            event.seq as f64,
            &event.event_id,
            &event.category,
            event.queued_at.as_millis() as f64,
            &event.body,
        );
    }

    fn del(&self, seq: u64) {
        StoreSink::del(self, seq as f64);
    }

    fn meta(&self, key: &str, value: Option<&str>) {
        StoreSink::meta(self, key, value.map(str::to_string));
    }

    fn end(&self) {
        StoreSink::end(self);
    }
}

/// What the JavaScript side read from IndexedDB or localStorage at start.
#[wasm_bindgen]
#[derive(Debug, Default)]
pub struct Loaded {
    snapshot: Snapshot,
}

#[wasm_bindgen]
impl Loaded {
    /// An empty store.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Loaded {
        Loaded::default()
    }

    /// Adds a persisted event (`seq` gives the queue order).
    pub fn event(
        &mut self,
        seq: f64,
        event_id: String,
        category: String,
        queued_at: f64,
        body: String,
    ) {
        self.snapshot.events.push(QueuedEvent {
            seq: seq.max(0.0) as u64,
            event_id,
            category,
            queued_at: Timestamp::from_millis(queued_at.max(0.0) as u64),
            body,
        });
    }

    /// Adds a persisted meta value.
    pub fn meta(&mut self, key: String, value: String) {
        self.snapshot.meta.insert(key, value);
    }
}

/// Not exported to JavaScript (the npm package does not call them).
impl Loaded {
    /// Number of events loaded.
    pub fn len(&self) -> usize {
        self.snapshot.events.len()
    }

    /// Whether no event was loaded.
    pub fn is_empty(&self) -> bool {
        self.snapshot.events.is_empty()
    }
}

/// A [`Storage`] that serves the loaded snapshot and mirrors writes to a [`WriteSink`].
#[derive(Debug)]
pub struct JsStore<W: WriteSink> {
    loaded: Option<Snapshot>,
    sink: W,
}

impl<W: WriteSink> JsStore<W> {
    /// A store that starts from `loaded` and writes through to `sink`.
    pub fn new(loaded: Loaded, sink: W) -> Self {
        JsStore {
            loaded: Some(loaded.snapshot),
            sink,
        }
    }

    /// The sink writes go to.
    pub fn sink(&self) -> &W {
        &self.sink
    }
}

impl<W: WriteSink> Storage for JsStore<W> {
    fn load(&mut self) -> Result<Snapshot, StorageError> {
        Ok(self.loaded.take().unwrap_or_default())
    }

    fn apply(&mut self, batch: &WriteBatch) -> Result<(), StorageError> {
        for seq in &batch.remove {
            self.sink.del(*seq);
        }
        for event in &batch.append {
            self.sink.put(event);
        }
        for (key, value) in &batch.meta {
            self.sink.meta(key, value.as_deref());
        }
        self.sink.end();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use spoor_core::{Client, Config, ConsentMode, SendOutcome, Track};

    use super::*;

    /// Records what the JS side would be asked to write.
    #[derive(Debug, Default)]
    struct Recorder(RefCell<Vec<String>>);

    impl WriteSink for Recorder {
        fn put(&self, event: &QueuedEvent) {
            self.0
                .borrow_mut()
                .push(format!("put {} {}", event.seq, event.event_id));
        }
        fn del(&self, seq: u64) {
            self.0.borrow_mut().push(format!("del {seq}"));
        }
        fn meta(&self, key: &str, value: Option<&str>) {
            let state = if value.is_some() { "set" } else { "unset" };
            self.0.borrow_mut().push(format!("meta {key} {state}"));
        }
        fn end(&self) {
            self.0.borrow_mut().push("end".into());
        }
    }

    #[test]
    fn loaded_events_are_resent_and_acks_delete_them() {
        let mut loaded = Loaded::new();
        loaded.event(
            7.0,
            "e-old".into(),
            "analytics".into(),
            1_000.0,
            r#"{"eventId":"e-old"}"#.into(),
        );
        loaded.meta("anonymousId".into(), "anon-1".into());
        assert_eq!(loaded.len(), 1);
        let config = Config {
            consent_mode: ConsentMode::GrantedUntilDecided,
            ..Config::default()
        };
        let now = Timestamp::from_millis(2_000);
        let mut client = Client::new(
            config,
            JsStore::new(loaded, Recorder::default()),
            [1; 32],
            now,
        )
        .unwrap();
        assert_eq!(client.anonymous_id(), "anon-1");

        client.track(Track::new("clicked"), now).unwrap();
        client.flush(now);
        let transmit = client.poll_transmit(now).unwrap().expect("a batch is due");
        assert_eq!(transmit.event_ids[0], "e-old");
        assert_eq!(transmit.event_ids.len(), 2);
        client.on_response(transmit.batch_id, SendOutcome::status(200), now);
        client.commit().unwrap();

        let writes = client.storage().sink().0.borrow().clone();
        let new_id = &transmit.event_ids[1];
        // First commit: the new event (seq after the loaded one) and the session; then the acks.
        assert_eq!(writes[0], format!("put 8 {new_id}"));
        assert!(writes.contains(&"meta session set".to_string()));
        let first_end = writes.iter().position(|w| w == "end").unwrap();
        assert_eq!(&writes[first_end + 1..], ["del 7", "del 8", "end"]);
    }
}
