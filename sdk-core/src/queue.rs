//! The in-memory mirror of the stored queue, with its bounds and the writes
//! not yet committed to storage.
//!
//! Every change is made here first and staged in a [`WriteBatch`]; the client
//! commits the batch to its [`Storage`](crate::Storage) in one transaction.
//! An event appended and removed before a commit never reaches storage.

use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::storage::{Meta, QueuedEvent, WriteBatch};
use crate::time::Timestamp;

/// A queued event and whether it is part of the batch in flight.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub event: QueuedEvent,
    pub in_flight: bool,
}

/// Count and byte bounds of the queue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub max_events: usize,
    pub max_bytes: usize,
}

/// Queued events in `seq` order, plus the staged writes.
///
/// Staged appends are always the newest queued events (every entry with a
/// `seq` at or above the first staged one is staged), which keeps dropping
/// the oldest and purging cheap: no step here is worse than linear.
#[derive(Debug)]
pub(crate) struct Queue {
    entries: VecDeque<Entry>,
    bytes: usize,
    next_seq: u64,
    bounds: Bounds,
    staged_append: Vec<QueuedEvent>,
    staged_remove: Vec<u64>,
    staged_meta: Meta<Option<String>>,
}

impl Queue {
    /// The queue as loaded from storage.
    pub fn new(mut events: Vec<QueuedEvent>, bounds: Bounds) -> Self {
        sort_by_seq(&mut events);
        let next_seq = events.last().map_or(0, |e| e.seq + 1);
        let bytes = events.iter().map(|e| e.body.len()).sum();
        let entries = events
            .into_iter()
            .map(|event| Entry {
                event,
                in_flight: false,
            })
            .collect();
        Queue {
            entries,
            bytes,
            next_seq,
            bounds,
            staged_append: Vec::new(),
            staged_remove: Vec::new(),
            staged_meta: Meta::new(),
        }
    }

    /// Number of queued events.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Bytes of queued event bodies.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The sequence number the next appended event gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The oldest queued event.
    pub fn front(&self) -> Option<&Entry> {
        self.entries.front()
    }

    /// Queued events, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Appends an event; returns how many old events were dropped to stay in bounds.
    pub fn push(
        &mut self,
        event_id: String,
        category: String,
        body: String,
        now: Timestamp,
    ) -> u64 {
        let event = QueuedEvent {
            seq: self.next_seq,
            event_id,
            category,
            queued_at: now,
            body,
        };
        self.next_seq += 1;
        self.bytes += event.body.len();
        self.staged_append.push(event.clone());
        self.entries.push_back(Entry {
            event,
            in_flight: false,
        });
        self.enforce_bounds()
    }

    /// Drops the oldest events not in flight until the queue is within bounds.
    fn enforce_bounds(&mut self) -> u64 {
        let mut dropped = 0;
        while self.entries.len() > self.bounds.max_events || self.bytes > self.bounds.max_bytes {
            // In-flight events are a short run at the front (one batch).
            let Some(index) = self.entries.iter().position(|e| !e.in_flight) else {
                break;
            };
            self.remove_at(index);
            dropped += 1;
        }
        dropped
    }

    /// Marks the first `count` events as in flight.
    pub fn mark_in_flight(&mut self, count: usize) {
        for entry in self.entries.iter_mut().take(count) {
            entry.in_flight = true;
        }
    }

    /// Clears every in-flight mark (the batch failed; its events will be sent again).
    pub fn clear_in_flight(&mut self) {
        for entry in self.entries.iter_mut().take_while(|e| e.in_flight) {
            entry.in_flight = false;
        }
    }

    /// Removes the events with these sequence numbers (a batch: at the front);
    /// returns how many were still queued.
    pub fn remove(&mut self, seqs: &[u64]) -> usize {
        let mut removed = 0;
        for &seq in seqs {
            if let Ok(index) = self.entries.binary_search_by_key(&seq, |e| e.event.seq) {
                self.remove_at(index);
                removed += 1;
            }
        }
        removed
    }

    /// Removes every event whose category fails `keep`; returns how many.
    pub fn purge(&mut self, keep: impl Fn(&str) -> bool) -> usize {
        let staged_from = self.staged_append.first().map(|e| e.seq);
        let mut removed = 0;
        let mut bytes = 0;
        let mut unstaged = Vec::new();
        self.entries.retain(|entry| {
            if keep(&entry.event.category) {
                return true;
            }
            removed += 1;
            bytes += entry.event.body.len();
            if staged_from.is_none_or(|from| entry.event.seq < from) {
                unstaged.push(entry.event.seq);
            }
            false
        });
        self.bytes -= bytes;
        self.staged_remove.extend(unstaged);
        self.staged_append.retain(|event| keep(&event.category));
        removed
    }

    fn remove_at(&mut self, index: usize) {
        let Some(entry) = self.entries.remove(index) else {
            return;
        };
        self.bytes -= entry.event.body.len();
        let seq = entry.event.seq;
        // Never written: forget the append instead of writing and deleting it.
        if self
            .staged_append
            .first()
            .is_some_and(|first| seq >= first.seq)
            && let Ok(i) = self.staged_append.binary_search_by_key(&seq, |e| e.seq)
        {
            self.staged_append.remove(i);
            return;
        }
        self.staged_remove.push(seq);
    }

    /// Stages a meta value to set (`Some`) or delete (`None`) at the next commit.
    pub fn stage_meta(&mut self, key: &str, value: Option<String>) {
        self.staged_meta.insert(key.to_string(), value);
    }

    /// Whether anything waits to be committed.
    pub fn has_staged(&self) -> bool {
        !(self.staged_append.is_empty()
            && self.staged_remove.is_empty()
            && self.staged_meta.is_empty())
    }

    /// Takes the writes to commit; give them back with [`Queue::restore_staged`] if the commit fails.
    pub fn take_staged(&mut self) -> WriteBatch {
        WriteBatch {
            append: core::mem::take(&mut self.staged_append),
            remove: core::mem::take(&mut self.staged_remove),
            meta: core::mem::take(&mut self.staged_meta),
        }
    }

    /// Puts back writes whose commit failed (nothing was staged since they were taken).
    pub fn restore_staged(&mut self, batch: WriteBatch) {
        self.staged_append = batch.append;
        self.staged_remove = batch.remove;
        self.staged_meta = batch.meta;
    }
}

/// Sorts loaded events by `seq` (unique): a heapsort, O(n log n) like
/// `sort_unstable` at a fraction of its code (the pattern-defeating quicksort
/// with its small-sort networks was ~2.5 KB of the browser SDK's WASM,
/// BENCHMARKS.md "Browser SDK"). Stores hand the queue over in `seq` order
/// anyway, so this runs once at start on sorted input.
fn sort_by_seq(events: &mut [QueuedEvent]) {
    fn sift_down(heap: &mut [QueuedEvent], mut node: usize) {
        loop {
            let mut child = 2 * node + 1;
            let Some(left) = heap.get(child) else {
                return;
            };
            if heap
                .get(child + 1)
                .is_some_and(|right| right.seq > left.seq)
            {
                child += 1;
            }
            match (heap.get(node), heap.get(child)) {
                (Some(parent), Some(larger)) if parent.seq < larger.seq => {
                    heap.swap(node, child);
                    node = child;
                }
                _ => return,
            }
        }
    }
    for node in (0..events.len() / 2).rev() {
        sift_down(events, node);
    }
    for end in (1..events.len()).rev() {
        events.swap(0, end);
        if let Some(heap) = events.get_mut(..end) {
            sift_down(heap, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn heapsort_sorts_like_the_standard_sort(seqs in proptest::collection::vec(0u64..1_000, 0..200)) {
            let mut events: Vec<QueuedEvent> = seqs
                .iter()
                .map(|&seq| QueuedEvent {
                    seq,
                    event_id: seq.to_string(),
                    category: "a".into(),
                    queued_at: Timestamp::from_millis(0),
                    body: "{}".into(),
                })
                .collect();
            sort_by_seq(&mut events);
            let mut expected = seqs.clone();
            expected.sort_unstable();
            prop_assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), expected);
        }
    }

    fn queue(max_events: usize, max_bytes: usize) -> Queue {
        Queue::new(
            Vec::new(),
            Bounds {
                max_events,
                max_bytes,
            },
        )
    }

    #[test]
    fn drops_oldest_beyond_count_and_compacts_staged_writes() {
        let mut q = queue(3, usize::MAX);
        let now = Timestamp::from_millis(1);
        for i in 0..3 {
            assert_eq!(q.push(format!("e{i}"), "a".into(), "{}".into(), now), 0);
        }
        assert_eq!(q.push("e3".into(), "a".into(), "{}".into(), now), 1);
        let ids: Vec<&str> = q.iter().map(|e| e.event.event_id.as_str()).collect();
        assert_eq!(ids, ["e1", "e2", "e3"]);
        // e0 was never committed, so storage sees neither its append nor a remove.
        let staged = q.take_staged();
        assert_eq!(staged.append.len(), 3);
        assert!(staged.remove.is_empty());
        q.push("e4".into(), "a".into(), "{}".into(), now);
        assert_eq!(q.take_staged().remove, vec![1]);
        assert!(!q.has_staged());
    }

    #[test]
    fn drops_by_bytes_but_never_in_flight_events() {
        let mut q = queue(100, 10);
        let now = Timestamp::from_millis(1);
        q.push("e0".into(), "a".into(), "12345".into(), now);
        q.mark_in_flight(1);
        q.push("e1".into(), "a".into(), "12345".into(), now);
        assert_eq!(q.push("e2".into(), "a".into(), "12345".into(), now), 1);
        let ids: Vec<&str> = q.iter().map(|e| e.event.event_id.as_str()).collect();
        assert_eq!(ids, ["e0", "e2"]);
        assert_eq!(q.bytes(), 10);
    }

    #[test]
    fn purge_removes_only_the_category() {
        let mut q = queue(100, usize::MAX);
        let now = Timestamp::from_millis(1);
        q.push("e0".into(), "analytics".into(), "{}".into(), now);
        q.push("e1".into(), "marketing".into(), "{}".into(), now);
        q.push("e2".into(), "analytics".into(), "{}".into(), now);
        q.take_staged(); // committed
        q.push("e3".into(), "marketing".into(), "{}".into(), now);
        assert_eq!(q.purge(|c| c == "analytics"), 2);
        assert_eq!(q.len(), 2);
        assert_eq!(q.bytes(), 4);
        assert_eq!(q.next_seq(), 4);
        let staged = q.take_staged();
        assert_eq!(staged.remove, vec![1], "the stored one is deleted");
        assert!(
            staged.append.is_empty(),
            "the unstored one is never written"
        );
    }
}
