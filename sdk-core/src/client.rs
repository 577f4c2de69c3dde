//! The client state machine: calls in, batches out, outcomes back in.

use alloc::borrow::ToOwned;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use crate::batch::{self, BatchId, BatchLimits, Transmit};
use crate::config::Config;
use crate::consent::{Categories, ConsentGate, ConsentState};
use crate::error::Error;
use crate::event::{EventContext, EventType, WireEvent};
use crate::identity::Identity;
use crate::ids::{to_text, uuid_v7};
use crate::json::Properties;
use crate::message::{Alias, Group, Identify, Message, Page, Screen, Track};
use crate::queue::{Bounds, Queue};
use crate::retry::{Backoff, SendOutcome, Verdict};
use crate::rng::Rng;
use crate::session::Sessions;
use crate::stats::Stats;
use crate::storage::Storage;
use crate::time::Timestamp;

/// Meta key of the count of drops not yet reported to the relay.
const DROPPED_KEY: &str = "dropped";

/// Room for `"sentAt":"2026-05-03T10:00:00.000Z",` that every send adds to an event.
const SENT_AT_OVERHEAD: usize = 36;

/// What happened to a recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Queued (written to storage at the next commit) and will be sent.
    Queued {
        /// The event's `eventId`.
        event_id: String,
    },
    /// Waiting in memory for a consent decision on its category.
    AwaitingConsent {
        /// The event's `eventId`.
        event_id: String,
    },
    /// Its category is denied: discarded, never stored or sent.
    Discarded,
}

impl Recorded {
    /// The event's id, unless it was discarded.
    pub fn event_id(&self) -> Option<&str> {
        match self {
            Recorded::Queued { event_id } | Recorded::AwaitingConsent { event_id } => {
                Some(event_id)
            }
            Recorded::Discarded => None,
        }
    }
}

/// The queue position when [`Client::flush`] was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlushMark(u64);

/// An event waiting for consent (memory only).
#[derive(Debug, Clone)]
struct AwaitingEvent {
    event_id: String,
    category: String,
    body: String,
}

/// The batch the host is sending.
#[derive(Debug, Clone)]
struct InFlight {
    id: BatchId,
    seqs: Vec<u64>,
    reported_drops: u64,
}

/// The sans-IO tracking client.
///
/// The host calls the recording methods ([`track`](Client::track),
/// [`identify`](Client::identify), ...), then asks [`poll_transmit`](Client::poll_transmit)
/// for a batch to send, reports its outcome with [`on_response`](Client::on_response),
/// and sleeps until [`poll_timeout`](Client::poll_timeout) or the next call.
/// Every method that depends on time takes `now`; nothing here reads a clock,
/// touches the network or spawns anything. See the crate docs for a host loop.
#[derive(Debug)]
pub struct Client<S: Storage> {
    config: Config,
    storage: S,
    rng: Rng,
    identity: Identity,
    sessions: Sessions,
    session_dirty: bool,
    consent: ConsentGate,
    /// Oldest first. A `Vec`, not a `VecDeque`: one generic collection less
    /// in the browser WASM, and dropping the oldest happens only when full.
    awaiting: Vec<AwaitingEvent>,
    queue: Queue,
    in_flight: Option<InFlight>,
    backoff: Backoff,
    split_limit: Option<usize>,
    flush_before_seq: Option<u64>,
    shutdown_deadline: Option<Timestamp>,
    unreported_drops: u64,
    next_batch_id: u64,
    stats: Stats,
}

impl<S: Storage> Client<S> {
    /// Starts a client on `storage`, loading what an earlier run left there
    /// (queued events are sent again with their original ids).
    ///
    /// `seed` feeds event ids, the anonymous id and retry jitter: pass 32 fresh
    /// bytes from a secure source (`getrandom`, `crypto.getRandomValues`) on
    /// every start; tests pass a constant for determinism.
    pub fn new(
        config: Config,
        mut storage: S,
        seed: [u8; 32],
        now: Timestamp,
    ) -> Result<Self, Error> {
        let snapshot = storage.load()?;
        let mut rng = Rng::from_seed(seed);
        let meta = |key: &str| snapshot.meta.get(key).map(String::as_str);
        let (identity, fresh) = Identity::load(
            meta(Identity::ANONYMOUS_ID_KEY),
            meta(Identity::USER_ID_KEY),
            &mut rng,
        );
        let sessions = Sessions::new(config.session_timeout, meta(Sessions::META_KEY));
        let consent = ConsentGate::new(config.consent_mode, meta(ConsentGate::META_KEY));
        let unreported_drops = meta(DROPPED_KEY).and_then(|s| s.parse().ok()).unwrap_or(0);
        let bounds = Bounds {
            max_events: config.max_queue_events.max(1),
            max_bytes: config.max_queue_bytes,
        };
        let mut events = snapshot.events;
        for event in &mut events {
            // The clock went back since the last run: do not let the flush interval wait for it.
            event.queued_at = event.queued_at.min(now);
        }
        let mut queue = Queue::new(events, bounds);
        if fresh {
            queue.stage_meta(
                Identity::ANONYMOUS_ID_KEY,
                Some(identity.anonymous_id.clone()),
            );
        }
        let mut client = Client {
            backoff: Backoff::new(config.retry_base, config.retry_cap),
            storage,
            rng,
            identity,
            sessions,
            session_dirty: false,
            consent,
            awaiting: Vec::new(),
            queue,
            in_flight: None,
            split_limit: None,
            flush_before_seq: None,
            shutdown_deadline: None,
            unreported_drops,
            next_batch_id: 0,
            stats: Stats::default(),
            config,
        };
        // A decision made earlier may have been persisted after the queue (crash in between).
        client.purge_not_granted();
        Ok(client)
    }

    /// Records a track call.
    pub fn track(&mut self, track: Track, now: Timestamp) -> Result<Recorded, Error> {
        self.record(Message::Track(track), now)
    }

    /// Records an identify call; a given `user_id` becomes the client's userId.
    pub fn identify(&mut self, identify: Identify, now: Timestamp) -> Result<Recorded, Error> {
        self.record(Message::Identify(identify), now)
    }

    /// Records a page view.
    pub fn page(&mut self, page: Page, now: Timestamp) -> Result<Recorded, Error> {
        self.record(Message::Page(page), now)
    }

    /// Records a screen view.
    pub fn screen(&mut self, screen: Screen, now: Timestamp) -> Result<Recorded, Error> {
        self.record(Message::Screen(screen), now)
    }

    /// Records a group call.
    pub fn group(&mut self, group: Group, now: Timestamp) -> Result<Recorded, Error> {
        self.record(Message::Group(group), now)
    }

    /// Records an alias call; its `user_id` becomes the client's userId.
    pub fn alias(&mut self, alias: Alias, now: Timestamp) -> Result<Recorded, Error> {
        self.record(Message::Alias(alias), now)
    }

    /// Records any call (what the named methods do).
    ///
    /// Identity changes (identify, alias) apply even when the event itself is
    /// discarded for lack of consent: they are the app's state, not an event.
    pub fn record(&mut self, message: Message, now: Timestamp) -> Result<Recorded, Error> {
        if self.shutdown_deadline.is_some() {
            return Err(Error::ShutDown);
        }
        validate(&message)?;
        let previous_id = self.apply_identity(&message);
        let options = message.options();
        let category = options
            .category
            .clone()
            .unwrap_or_else(|| self.config.default_category.clone());
        let state = self.consent.state(&category);
        if state == ConsentState::Denied {
            self.stats.discarded_no_consent += 1;
            return Ok(Recorded::Discarded);
        }

        let event_id = to_text(uuid_v7(now, &mut self.rng));
        let timestamp = options.timestamp.unwrap_or(now).to_rfc3339();
        // The client's session is this device's; a call about another user
        // (a backend's) gets none and leaves it alone. The pipeline
        // sessionizes every person from event times either way.
        let (session_id, session_start) = if options.names_user() {
            ("", false)
        } else {
            let start = self.sessions.touch(now, &mut self.rng).1;
            self.session_dirty = true;
            (self.sessions.current_id().unwrap_or_default(), start)
        };
        let context = EventContext {
            host: &self.config.context,
            event: &options.context,
            library: &self.config.library,
            session_id,
            session_start,
            category: &category,
        };
        let body = self.serialize(
            &message,
            &event_id,
            &timestamp,
            &context,
            previous_id.as_deref(),
        );
        if body.len() + SENT_AT_OVERHEAD > self.config.max_event_bytes {
            return Err(Error::EventTooLarge {
                size: body.len() + SENT_AT_OVERHEAD,
                limit: self.config.max_event_bytes,
            });
        }

        if state == ConsentState::Pending {
            self.awaiting.push(AwaitingEvent {
                event_id: event_id.clone(),
                category,
                body,
            });
            let excess = self
                .awaiting
                .len()
                .saturating_sub(self.config.max_pending_events);
            // retain, not drain(..excess): no range check to panic (and format) in the WASM.
            let mut seen = 0;
            self.awaiting.retain(|_| {
                seen += 1;
                seen > excess
            });
            self.stats.dropped_awaiting_consent += excess as u64;
            return Ok(Recorded::AwaitingConsent { event_id });
        }
        self.enqueue(event_id.clone(), category, body, now);
        Ok(Recorded::Queued { event_id })
    }

    /// Updates userId for identify and alias; returns alias's previousId.
    ///
    /// A call that names its own user (`options.user_id`/`anonymous_id`, a
    /// backend speaking for many users) is about that user only: it neither
    /// changes the client's identity nor borrows from it.
    fn apply_identity(&mut self, message: &Message) -> Option<String> {
        let options = message.options();
        if options.names_user() {
            return match message {
                Message::Alias(alias) => alias
                    .previous_id
                    .clone()
                    .or_else(|| options.user_id.clone())
                    .or_else(|| options.anonymous_id.clone()),
                _ => None,
            };
        }
        let (new_user, previous) = match message {
            Message::Identify(Identify {
                user_id: Some(user_id),
                ..
            }) => (user_id.clone(), None),
            Message::Alias(alias) => {
                let previous = alias
                    .previous_id
                    .clone()
                    .or_else(|| self.identity.user_id.clone())
                    .unwrap_or_else(|| self.identity.anonymous_id.clone());
                (alias.user_id.clone(), Some(previous))
            }
            _ => return None,
        };
        if self.identity.user_id.as_deref() != Some(new_user.as_str()) {
            self.queue
                .stage_meta(Identity::USER_ID_KEY, Some(new_user.clone()));
            self.identity.user_id = Some(new_user);
        }
        previous
    }

    fn serialize(
        &self,
        message: &Message,
        event_id: &str,
        timestamp: &str,
        context: &EventContext<'_>,
        previous_id: Option<&str>,
    ) -> String {
        let empty = Properties::new();
        let options = message.options();
        // The event's identity: what the call names, else the client's own.
        let (user_id, anonymous_id) = if options.names_user() {
            (options.user_id.as_deref(), options.anonymous_id.as_deref())
        } else {
            (
                self.identity.user_id.as_deref(),
                Some(self.identity.anonymous_id.as_str()),
            )
        };
        let mut event = WireEvent {
            event_id,
            event_type: EventType::Track,
            event_name: None,
            user_id,
            anonymous_id,
            previous_id,
            group_id: None,
            timestamp,
            properties: &empty,
            traits: &empty,
            context,
        };
        match message {
            Message::Track(m) => {
                event.event_name = Some(&m.name);
                event.properties = &m.properties;
            }
            Message::Identify(m) => {
                event.event_type = EventType::Identify;
                event.traits = &m.traits;
                if m.user_id.is_some() {
                    event.user_id = m.user_id.as_deref();
                }
            }
            Message::Page(m) => {
                event.event_type = EventType::Page;
                event.event_name = m.name.as_deref();
                event.properties = &m.properties;
            }
            Message::Screen(m) => {
                event.event_type = EventType::Screen;
                event.event_name = Some(&m.name);
                event.properties = &m.properties;
            }
            Message::Group(m) => {
                event.event_type = EventType::Group;
                event.group_id = Some(&m.group_id);
                event.traits = &m.traits;
            }
            Message::Alias(m) => {
                event.event_type = EventType::Alias;
                event.user_id = Some(&m.user_id);
            }
        }
        event.to_json()
    }

    fn enqueue(&mut self, event_id: String, category: String, body: String, now: Timestamp) {
        let dropped = self.queue.push(event_id, category, body, now);
        if dropped > 0 {
            self.stats.dropped_queue_full += dropped;
            self.add_unreported_drops(dropped);
        }
    }

    fn add_unreported_drops(&mut self, count: u64) {
        self.unreported_drops = self.unreported_drops.saturating_add(count);
        self.queue
            .stage_meta(DROPPED_KEY, Some(decimal(self.unreported_drops)));
    }

    /// Forgets the user: a new anonymousId, no userId, and the next event starts a new session.
    pub fn reset(&mut self, _now: Timestamp) {
        self.identity.reset(&mut self.rng);
        self.sessions.end();
        self.queue.stage_meta(
            Identity::ANONYMOUS_ID_KEY,
            Some(self.identity.anonymous_id.clone()),
        );
        self.queue.stage_meta(Identity::USER_ID_KEY, None);
        self.session_dirty = true;
    }

    /// Records the user's consent decision: `granted` categories are granted,
    /// every other category is denied. Events waiting for consent are queued
    /// (granted) or discarded (denied); queued events of a category no longer
    /// granted are purged from memory and storage. Commits at once, so a
    /// revoked category's events are gone from storage when this returns
    /// (on a storage error they are gone from memory and the purge is retried
    /// at the next commit).
    pub fn set_consent<I>(&mut self, granted: I, now: Timestamp) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let granted: Categories = granted
            .into_iter()
            .map(|c| c.as_ref().to_string())
            .collect();
        let persisted = self.consent.decide(granted);
        self.queue
            .stage_meta(ConsentGate::META_KEY, Some(persisted));
        for event in core::mem::take(&mut self.awaiting) {
            if self.consent.state(&event.category) == ConsentState::Granted {
                self.enqueue(event.event_id, event.category, event.body, now);
            } else {
                self.stats.discarded_no_consent += 1;
            }
        }
        self.purge_not_granted();
        self.commit()
    }

    /// Denies every category: nothing more is queued or sent, and everything
    /// queued is purged (committed at once, like [`set_consent`](Client::set_consent)).
    pub fn opt_out(&mut self, now: Timestamp) -> Result<(), Error> {
        self.set_consent(core::iter::empty::<&str>(), now)
    }

    /// The consent state of `category`.
    pub fn consent(&self, category: &str) -> ConsentState {
        self.consent.state(category)
    }

    fn purge_not_granted(&mut self) {
        let consent = &self.consent;
        let purged = self
            .queue
            .purge(|category| consent.state(category) == ConsentState::Granted);
        self.stats.purged += purged as u64;
    }

    /// Asks for everything queued now to be sent without waiting for
    /// `flushAt`/`flushInterval` (a retry backoff still applies). The mark
    /// tells [`is_flushed`](Client::is_flushed) when that is done.
    pub fn flush(&mut self, _now: Timestamp) -> FlushMark {
        let mark = self.queue.next_seq();
        self.flush_before_seq = Some(self.flush_before_seq.map_or(mark, |seq| seq.max(mark)));
        FlushMark(mark)
    }

    /// Whether every event queued before `mark` was taken has left the queue
    /// (acknowledged, or dropped and counted).
    pub fn is_flushed(&self, mark: FlushMark) -> bool {
        self.queue
            .front()
            .is_none_or(|front| front.event.seq >= mark.0)
    }

    /// Starts shutting down: no more events are taken, everything queued is
    /// sent until `timeout` from `now` has passed. The host keeps driving the
    /// client until [`is_finished`](Client::is_finished), then calls
    /// [`commit`](Client::commit); whatever was not acknowledged stays in
    /// storage for the next start.
    pub fn shutdown(&mut self, timeout: Duration, now: Timestamp) {
        self.shutdown_deadline = Some(now.saturating_add(timeout));
        self.flush_before_seq = Some(u64::MAX);
    }

    /// After [`shutdown`](Client::shutdown): whether the host may stop (all
    /// sent, the deadline passed, or the next retry would come too late).
    pub fn is_finished(&self, now: Timestamp) -> bool {
        let Some(deadline) = self.shutdown_deadline else {
            return false;
        };
        if now >= deadline {
            return true;
        }
        if self.in_flight.is_some() {
            return false;
        }
        self.queue.len() == 0 || self.backoff.retry_at().is_some_and(|at| at > deadline)
    }

    /// Writes every staged change (new, acknowledged, dropped and purged
    /// events, identity, consent, session) to storage in one atomic batch.
    /// [`poll_transmit`](Client::poll_transmit) calls it first, so hosts that
    /// poll after each call need not call it themselves. On error the changes
    /// stay staged and the next commit tries again.
    pub fn commit(&mut self) -> Result<(), Error> {
        if self.session_dirty {
            // Staged once per commit, not per event: it changes with every event.
            self.queue
                .stage_meta(Sessions::META_KEY, self.sessions.persisted());
            self.session_dirty = false;
        }
        if !self.queue.has_staged() {
            return Ok(());
        }
        let batch = self.queue.take_staged();
        if let Err(e) = self.storage.apply(&batch) {
            self.queue.restore_staged(batch);
            return Err(e.into());
        }
        Ok(())
    }

    /// The next batch to send, if one is due at `now`: at least `flushAt`
    /// events or a full batch by bytes queued, the oldest queued for
    /// `flushInterval`, or a flush or shutdown asked for; no batch in flight and
    /// no retry backoff pending. Commits staged changes first, so every event
    /// sent is already in storage.
    pub fn poll_transmit(&mut self, now: Timestamp) -> Result<Option<Transmit>, Error> {
        self.commit()?;
        if self.in_flight.is_some() || !self.backoff.ready(now) {
            return Ok(None);
        }
        if self
            .shutdown_deadline
            .is_some_and(|deadline| now >= deadline)
        {
            return Ok(None);
        }
        match self.due_at() {
            Some(at) if at <= now => {}
            _ => return Ok(None),
        }
        let limits = BatchLimits {
            max_events: self
                .split_limit
                .unwrap_or(self.config.max_batch_events)
                .min(self.config.max_batch_events),
            max_bytes: self.config.max_batch_bytes,
        };
        let built = batch::build(
            self.queue.iter(),
            limits,
            &now.to_rfc3339(),
            self.unreported_drops,
        );
        self.queue.mark_in_flight(built.seqs.len());
        let batch_id = BatchId(self.next_batch_id);
        self.next_batch_id += 1;
        self.stats.batches_sent += 1;
        self.in_flight = Some(InFlight {
            id: batch_id,
            seqs: built.seqs,
            reported_drops: self.unreported_drops,
        });
        Ok(Some(Transmit {
            batch_id,
            body: built.body,
            event_ids: built.event_ids,
        }))
    }

    /// When the queue front becomes due, ignoring backoff and in-flight state.
    fn due_at(&self) -> Option<Timestamp> {
        let front = self.queue.front()?;
        let full = self.queue.len() >= self.config.flush_at.max(1)
            || self.queue.bytes() >= self.config.max_batch_bytes;
        let flushing = self
            .flush_before_seq
            .is_some_and(|seq| front.event.seq < seq);
        if full || flushing {
            Some(Timestamp::EPOCH)
        } else {
            Some(
                front
                    .event
                    .queued_at
                    .saturating_add(self.config.flush_interval),
            )
        }
    }

    /// Reports how sending batch `batch_id` ended. An acknowledged batch's
    /// events are deleted (at the next commit); a failed one is retried after
    /// a backoff; a 413 makes batches smaller; another 4xx drops the batch and
    /// counts it. Unknown or stale batch ids are ignored.
    pub fn on_response(&mut self, batch_id: BatchId, outcome: SendOutcome, now: Timestamp) {
        let Some(flight) = self.in_flight.take_if(|f| f.id == batch_id) else {
            return;
        };
        match Verdict::of(outcome) {
            Verdict::Delivered => {
                let removed = self.queue.remove(&flight.seqs);
                self.stats.delivered += removed as u64;
                self.backoff.succeed();
                self.split_limit = None;
                if flight.reported_drops > 0 {
                    self.unreported_drops =
                        self.unreported_drops.saturating_sub(flight.reported_drops);
                    self.queue
                        .stage_meta(DROPPED_KEY, Some(decimal(self.unreported_drops)));
                }
            }
            Verdict::Retry(retry_after) => {
                self.queue.clear_in_flight();
                self.stats.send_failures += 1;
                self.backoff.fail(now, retry_after, &mut self.rng);
            }
            Verdict::Split if flight.seqs.len() > 1 => {
                self.queue.clear_in_flight();
                self.split_limit = Some(flight.seqs.len() / 2);
            }
            Verdict::Split | Verdict::Drop => {
                let removed = self.queue.remove(&flight.seqs) as u64;
                self.stats.dropped_rejected += removed;
                self.add_unreported_drops(removed);
            }
        }
        if self
            .flush_before_seq
            .is_some_and(|seq| self.queue.front().is_none_or(|f| f.event.seq >= seq))
            && self.shutdown_deadline.is_none()
        {
            self.flush_before_seq = None;
        }
    }

    /// When the host should call [`poll_transmit`](Client::poll_transmit)
    /// next, if nothing else happens first (a time in the past means now).
    /// `None`: nothing to wait for until the next call or response.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let send_at = if self.in_flight.is_some() {
            None
        } else {
            self.due_at().map(|due| match self.backoff.retry_at() {
                Some(retry) => due.max(retry),
                None => due,
            })
        };
        match (send_at, self.shutdown_deadline) {
            (Some(at), Some(deadline)) => Some(at.min(deadline)),
            (at, deadline) => at.or(deadline),
        }
    }

    /// Counters and queue sizes.
    pub fn stats(&self) -> Stats {
        Stats {
            queued: self.queue.len(),
            queued_bytes: self.queue.bytes(),
            awaiting_consent: self.awaiting.len(),
            in_flight: self.in_flight.as_ref().map_or(0, |f| f.seqs.len()),
            unreported_drops: self.unreported_drops,
            ..self.stats
        }
    }

    /// The device's anonymous id (generated once, persisted).
    pub fn anonymous_id(&self) -> &str {
        &self.identity.anonymous_id
    }

    /// The known user id, if identify or alias set one.
    pub fn user_id(&self) -> Option<&str> {
        self.identity.user_id.as_deref()
    }

    /// The current session id, if a session was started.
    pub fn session_id(&self) -> Option<&str> {
        self.sessions.current_id()
    }

    /// Consecutive failed sends (0 after a success).
    pub fn consecutive_failures(&self) -> u32 {
        self.backoff.failures()
    }

    /// The context added to every event; hosts put app, device, os, locale here.
    pub fn context_mut(&mut self) -> &mut Properties {
        &mut self.config.context
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Gives the storage back without committing: staged changes are lost,
    /// as in a crash. Call [`commit`](Client::commit) first for a clean stop.
    pub fn into_storage(self) -> S {
        self.storage
    }
}

/// `n` in decimal, through `itoa` rather than `Display` (see `ids::to_text`).
fn decimal(n: u64) -> String {
    itoa::Buffer::new().format(n).to_owned()
}

fn validate(message: &Message) -> Result<(), Error> {
    let missing = match message {
        Message::Track(m) => m.name.is_empty().then_some("eventName"),
        Message::Screen(m) => m.name.is_empty().then_some("eventName"),
        Message::Group(m) => m.group_id.is_empty().then_some("groupId"),
        Message::Alias(m) => m.user_id.is_empty().then_some("userId"),
        Message::Identify(m) => m
            .user_id
            .as_deref()
            .is_some_and(str::is_empty)
            .then_some("userId"),
        Message::Page(_) => None,
    };
    missing.map_or(Ok(()), |field| Err(Error::MissingField(field)))
}
