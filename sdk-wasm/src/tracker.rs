//! The exported client: `spoor_core::Client` on the browser store, driven by
//! the JavaScript host loop (see the crate docs).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use spoor_core::{
    BatchId, Client, ConsentState, FlushMark, Properties, SendOutcome, Timestamp, parse_retry_after,
};
use wasm_bindgen::prelude::*;

use crate::call::{CallKind, build_message};
use crate::config::parse_config;
use crate::store::{JsStore, Loaded, StoreSink};

/// The tracking client the npm package drives. Every method that depends on
/// time takes `now` in milliseconds since the Unix epoch (`Date.now()`).
/// Errors come back as thrown strings, which the JS side catches and reports;
/// they never reach the page.
#[wasm_bindgen]
pub struct Tracker {
    client: Client<JsStore<StoreSink>>,
    in_flight: Option<BatchId>,
    flush_marks: Vec<(u32, FlushMark)>,
    next_mark: u32,
}

fn at(now: f64) -> Timestamp {
    Timestamp::from_millis(if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    })
}

#[wasm_bindgen]
impl Tracker {
    /// Starts the client from `config` (JSON, see `parse_config`), what the
    /// store held (`loaded`), 32 random bytes (`crypto.getRandomValues`) and
    /// the sink that persists every commit.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: &str,
        loaded: Loaded,
        seed: &[u8],
        now: f64,
        sink: StoreSink,
    ) -> Result<Tracker, String> {
        let config = parse_config(config).map_err(|e| e.message())?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| "the seed must be 32 bytes".to_string())?;
        let client = Client::new(config, JsStore::new(loaded, sink), seed, at(now))
            .map_err(|e| e.message())?;
        Ok(Tracker {
            client,
            in_flight: None,
            flush_marks: Vec::new(),
            next_mark: 0,
        })
    }

    /// Records a call (`kind`: 0 track, 1 identify, 2 page, 3 screen, 4 group,
    /// 5 alias). `name` is the event/page/screen name, userId or groupId;
    /// `previous_id` alias's previousId; `props` and `options` JSON text.
    /// Returns nothing: the page's calls return before they are applied, so
    /// the npm package has no use for the eventId (and a returned string
    /// costs glue on both sides).
    pub fn record(
        &mut self,
        kind: u8,
        name: Option<String>,
        previous_id: Option<String>,
        props: Option<String>,
        options: Option<String>,
        now: f64,
    ) -> Result<(), String> {
        let kind = CallKind::from_code(kind).ok_or_else(|| "unknown call kind".to_string())?;
        let message = build_message(
            kind,
            name,
            previous_id,
            props.as_deref(),
            options.as_deref(),
        )
        .map_err(|e| e.message())?;
        self.client
            .record(message, at(now))
            .map(drop)
            .map_err(|e| e.message())
    }

    /// Sets (`value`: JSON text) or removes (`None`) one key of the context
    /// added to every later event, such as `page` or `campaign` after a navigation.
    #[wasm_bindgen(js_name = setContext)]
    pub fn set_context(&mut self, key: &str, value: Option<String>) -> Result<(), String> {
        let context = self.client.context_mut();
        match value {
            Some(json) => {
                context.insert_json(key, &json).map_err(|e| {
                    let mut message = String::from("context value: ");
                    message.push_str(e.as_str());
                    message
                })?;
            }
            None => {
                context.remove(key);
            }
        }
        Ok(())
    }

    /// Forgets the user: new anonymousId, no userId, a new session next.
    pub fn reset(&mut self, now: f64) {
        self.client.reset(at(now));
    }

    /// The user's decision, as the JSON object `{"granted":[category, ...]}`:
    /// these categories are granted, all others denied (queued events of
    /// revoked categories are purged at once). JSON text rather than a
    /// `string[]`, whose conversion went through the externref table and
    /// cost glue on both sides.
    #[wasm_bindgen(js_name = setConsent)]
    pub fn set_consent(&mut self, decision: &str, now: f64) -> Result<(), String> {
        let granted = Properties::from_json(decision)
            .ok()
            .and_then(|decision| decision.get_str_array("granted"))
            .ok_or_else(|| String::from("consent: expected {\"granted\":[strings]}"))?;
        self.client
            .set_consent(granted, at(now))
            .map_err(|e| e.message())
    }

    /// Denies every category and purges the queue.
    #[wasm_bindgen(js_name = optOut)]
    pub fn opt_out(&mut self, now: f64) -> Result<(), String> {
        self.client.opt_out(at(now)).map_err(|e| e.message())
    }

    /// Consent state of `category`: 0 pending, 1 granted, 2 denied.
    pub fn consent(&self, category: &str) -> u8 {
        match self.client.consent(category) {
            ConsentState::Pending => 0,
            ConsentState::Granted => 1,
            ConsentState::Denied => 2,
        }
    }

    /// Asks for everything queued now to be sent; returns a handle for [`Tracker::flushed`].
    pub fn flush(&mut self, now: f64) -> u32 {
        let mark = self.client.flush(at(now));
        let id = self.next_mark;
        self.next_mark = self.next_mark.wrapping_add(1);
        self.flush_marks.push((id, mark));
        id
    }

    /// Whether everything queued before flush `handle` has left the queue
    /// (the handle is forgotten once this says yes).
    pub fn flushed(&mut self, handle: u32) -> bool {
        let Some(index) = self.flush_marks.iter().position(|(id, _)| *id == handle) else {
            return true;
        };
        let done = self.client.is_flushed(self.flush_marks[index].1);
        if done {
            self.flush_marks.swap_remove(index);
        }
        done
    }

    /// The body of the next batch to send, if one is due (commits staged
    /// writes first). Send it, then report with [`Tracker::on_response`].
    pub fn poll(&mut self, now: f64) -> Result<Option<String>, String> {
        let transmit = self
            .client
            .poll_transmit(at(now))
            .map_err(|e| e.message())?;
        Ok(transmit.map(|t| {
            self.in_flight = Some(t.batch_id);
            t.body
        }))
    }

    /// How the send of the last polled batch ended: an HTTP status, or 0 for
    /// no answer (network error, timeout, a beacon the browser refused);
    /// `retry_after` is the Retry-After header if it was readable.
    #[wasm_bindgen(js_name = onResponse)]
    pub fn on_response(&mut self, status: u16, retry_after: Option<String>, now: f64) {
        let Some(batch) = self.in_flight.take() else {
            return;
        };
        let now = at(now);
        let outcome = if status == 0 {
            SendOutcome::NetworkError
        } else {
            SendOutcome::Response {
                status,
                retry_after: retry_after.and_then(|v| parse_retry_after(&v, now)),
            }
        };
        self.client.on_response(batch, outcome, now);
    }

    /// When to call [`Tracker::poll`] next (ms since the epoch), or -1 for
    /// "not until the next call or response".
    #[wasm_bindgen(js_name = pollTimeout)]
    pub fn poll_timeout(&self) -> f64 {
        self.client
            .poll_timeout()
            .map_or(-1.0, |t| t.as_millis() as f64)
    }

    /// Writes staged changes to the store now.
    pub fn commit(&mut self) -> Result<(), String> {
        self.client.commit().map_err(|e| e.message())
    }

    /// Queue sizes and counters as a JSON object (camelCase).
    pub fn stats(&self) -> String {
        let s = self.client.stats();
        let fields: [(&str, u64); 14] = [
            ("queued", s.queued as u64),
            ("queuedBytes", s.queued_bytes as u64),
            ("awaitingConsent", s.awaiting_consent as u64),
            ("inFlight", s.in_flight as u64),
            ("delivered", s.delivered),
            ("batchesSent", s.batches_sent),
            ("sendFailures", s.send_failures),
            ("droppedQueueFull", s.dropped_queue_full),
            ("droppedRejected", s.dropped_rejected),
            ("droppedAwaitingConsent", s.dropped_awaiting_consent),
            ("discardedNoConsent", s.discarded_no_consent),
            ("purged", s.purged),
            ("unreportedDrops", s.unreported_drops),
            (
                "consecutiveFailures",
                u64::from(self.client.consecutive_failures()),
            ),
        ];
        let mut out = String::from("{");
        for (i, (key, value)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(key);
            out.push_str("\":");
            out.push_str(itoa::Buffer::new().format(*value));
        }
        out.push('}');
        out
    }

    /// The device's anonymous id.
    #[wasm_bindgen(js_name = anonymousId)]
    pub fn anonymous_id(&self) -> String {
        self.client.anonymous_id().to_string()
    }
}

/// Not exported to JavaScript: the npm package does not call these, and each
/// export costs glue in `spoor.js` and a shim in the WASM.
impl Tracker {
    /// The known user id, if identify or alias set one.
    pub fn user_id(&self) -> Option<String> {
        self.client.user_id().map(str::to_string)
    }

    /// The current session id, once a session started.
    pub fn session_id(&self) -> Option<String> {
        self.client.session_id().map(str::to_string)
    }
}
