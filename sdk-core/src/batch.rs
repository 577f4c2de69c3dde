//! Building a batch request body from the front of the queue.

use alloc::string::String;
use alloc::vec::Vec;

use crate::event::push_with_sent_at;
use crate::queue::Entry;

/// Identifies a batch handed to the host, for [`Client::on_response`](crate::Client::on_response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BatchId(pub u64);

/// A request the host must send: `POST {endpoint}/api/events/batch` with this
/// JSON body, `Content-Type: application/json` and the write key as a Bearer
/// token; then report how it went with [`Client::on_response`](crate::Client::on_response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Pass back to `on_response`.
    pub batch_id: BatchId,
    /// `{"batch":[...],"sentAt":"...","dropped":n}` (`dropped` only when non-zero).
    pub body: String,
    /// The `eventId`s in the batch, in order.
    pub event_ids: Vec<String>,
}

/// Limits of one batch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchLimits {
    pub max_events: usize,
    pub max_bytes: usize,
}

/// The body and the `seq`s of the events in it.
pub(crate) struct BuiltBatch {
    pub body: String,
    pub seqs: Vec<u64>,
    pub event_ids: Vec<String>,
}

/// Takes events from the front of `entries` while the body stays within `limits`
/// (always at least one, so an event never blocks the queue).
pub(crate) fn build<'a>(
    entries: impl Iterator<Item = &'a Entry>,
    limits: BatchLimits,
    sent_at: &str,
    dropped: u64,
) -> BuiltBatch {
    // Built with push_str, not format! or concat, to keep core::fmt and
    // slice joining out of the browser SDK's WASM.
    let mut sent_at_json = String::with_capacity(sent_at.len() + 2);
    sent_at_json.push('"');
    sent_at_json.push_str(sent_at);
    sent_at_json.push('"');
    let mut tail = String::from("],\"sentAt\":");
    tail.push_str(&sent_at_json);
    if dropped > 0 {
        tail.push_str(",\"dropped\":");
        tail.push_str(itoa::Buffer::new().format(dropped));
    }
    tail.push('}');
    const HEAD: &str = "{\"batch\":[";
    // `"sentAt":"...",` added to every event.
    let per_event = "\"sentAt\":,".len() + sent_at_json.len();

    let mut body = String::from(HEAD);
    let mut seqs = Vec::new();
    let mut event_ids = Vec::new();
    let mut size = HEAD.len() + tail.len();
    for entry in entries.take(limits.max_events.max(1)) {
        let separator = usize::from(!seqs.is_empty());
        let grown = size + separator + entry.event.body.len() + per_event;
        if grown > limits.max_bytes && !seqs.is_empty() {
            break;
        }
        if separator == 1 {
            body.push(',');
        }
        push_with_sent_at(&mut body, &entry.event.body, &sent_at_json);
        size = grown;
        seqs.push(entry.event.seq);
        event_ids.push(entry.event.event_id.clone());
    }
    body.push_str(&tail);
    BuiltBatch {
        body,
        seqs,
        event_ids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::QueuedEvent;
    use crate::time::Timestamp;

    fn entry(seq: u64, body_len: usize) -> Entry {
        let padding = "x".repeat(body_len.saturating_sub(r#"{"eventId":"e","p":""}"#.len()));
        Entry {
            event: QueuedEvent {
                seq,
                event_id: format!("e{seq}"),
                category: "analytics".into(),
                queued_at: Timestamp::from_millis(0),
                body: format!(r#"{{"eventId":"e{seq}","p":"{padding}"}}"#),
            },
            in_flight: false,
        }
    }

    #[test]
    fn body_is_valid_json_with_sent_at_everywhere_and_dropped() {
        let entries = [entry(0, 40), entry(1, 40)];
        let limits = BatchLimits {
            max_events: 100,
            max_bytes: 10_000,
        };
        let built = build(entries.iter(), limits, "2026-01-01T00:00:00.000Z", 3);
        let v: serde_json::Value = serde_json::from_str(&built.body).unwrap();
        assert_eq!(v["batch"].as_array().unwrap().len(), 2);
        assert_eq!(v["batch"][1]["sentAt"], "2026-01-01T00:00:00.000Z");
        assert_eq!(v["sentAt"], "2026-01-01T00:00:00.000Z");
        assert_eq!(v["dropped"], 3);
        assert_eq!(built.seqs, vec![0, 1]);
        let none_dropped = build(entries.iter(), limits, "t", 0);
        assert!(!none_dropped.body.contains("dropped"));
    }

    #[test]
    fn respects_byte_and_count_limits_exactly() {
        let entries: Vec<Entry> = (0..10).map(|i| entry(i, 1_000)).collect();
        for max_bytes in [500, 1_100, 2_000, 3_150, 5_000, 20_000] {
            let limits = BatchLimits {
                max_events: 7,
                max_bytes,
            };
            let built = build(entries.iter(), limits, "2026-01-01T00:00:00.000Z", 0);
            assert!(!built.seqs.is_empty());
            assert!(built.seqs.len() <= 7);
            if built.seqs.len() > 1 {
                assert!(
                    built.body.len() <= max_bytes,
                    "{} > {max_bytes}",
                    built.body.len()
                );
            }
            // One more event would not have fit (unless the count limit stopped it).
            if built.seqs.len() < 7 {
                let more = build(
                    entries.iter().take(built.seqs.len() + 1),
                    BatchLimits {
                        max_events: 100,
                        max_bytes: usize::MAX,
                    },
                    "2026-01-01T00:00:00.000Z",
                    0,
                );
                assert!(more.body.len() > max_bytes);
            }
        }
    }
}
