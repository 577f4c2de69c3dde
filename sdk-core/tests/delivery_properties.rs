//! Property test of the delivery guarantees: under any sequence of track
//! calls, consent changes, send failures, timeouts, successes, flushes and
//! restarts (clean or crash), every event that reached storage while its
//! category was granted is delivered at least once with its original eventId,
//! none is sent again after its acknowledgement was committed, and nothing of a
//! category without consent is ever stored or sent.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};

use common::*;
use proptest::prelude::*;
use spoor_core::{
    Client, Config, MemoryStorage, Recorded, SendOutcome, Timestamp, Track, Transmit,
};

const CATEGORIES: [&str; 3] = ["analytics", "marketing", "ads"];

#[derive(Debug, Clone)]
enum Op {
    Track(usize),
    Poll,
    Respond(Response),
    Advance(u64),
    Flush,
    Commit,
    SetConsent(Vec<bool>),
    Restart { crash: bool },
}

#[derive(Debug, Clone, Copy)]
enum Response {
    Ok,
    Network,
    Status(u16),
    RetryAfter(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize).prop_map(Op::Track),
        4 => Just(Op::Poll),
        4 => prop_oneof![
            3 => Just(Response::Ok),
            2 => Just(Response::Network),
            1 => prop::sample::select(vec![408u16, 429, 500, 503]).prop_map(Response::Status),
            1 => (0..5_000u64).prop_map(Response::RetryAfter),
        ]
        .prop_map(Op::Respond),
        3 => (0..20_000u64).prop_map(Op::Advance),
        1 => Just(Op::Flush),
        1 => Just(Op::Commit),
        1 => prop::collection::vec(any::<bool>(), 3).prop_map(Op::SetConsent),
        1 => any::<bool>().prop_map(|crash| Op::Restart { crash }),
    ]
}

/// Where an event is, in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// In memory, waiting for consent.
    Awaiting,
    /// Queued but maybe not yet committed.
    Staged,
    /// Committed to storage: must be delivered unless consent is revoked.
    Stored,
    /// Lost by design (crash before commit, consent denied or revoked).
    Excused,
}

struct Harness {
    client: Option<Client<MemoryStorage>>,
    config: Config,
    now: Timestamp,
    seed: u8,
    decided: Option<BTreeSet<String>>,
    fate: HashMap<String, Fate>,
    category: HashMap<String, String>,
    in_flight: Option<Transmit>,
    delivered: HashSet<String>,
    /// Acked by the relay; `true` once the deletion was committed.
    acked: HashMap<String, bool>,
}

impl Harness {
    fn new() -> Self {
        let config = Config {
            flush_at: 3,
            max_batch_events: 4,
            ..Config::default()
        };
        Harness {
            client: Some(Client::new(config.clone(), MemoryStorage::new(), [0; 32], T0).unwrap()),
            config,
            now: T0,
            seed: 0,
            decided: None,
            fate: HashMap::new(),
            category: HashMap::new(),
            in_flight: None,
            delivered: HashSet::new(),
            acked: HashMap::new(),
        }
    }

    fn client(&mut self) -> &mut Client<MemoryStorage> {
        self.client.as_mut().unwrap()
    }

    fn granted(&self, category: &str) -> bool {
        self.decided.as_ref().is_some_and(|g| g.contains(category))
    }

    /// A commit happened: staged events are stored, staged acks are durable.
    fn committed(&mut self) {
        for fate in self.fate.values_mut() {
            if *fate == Fate::Staged {
                *fate = Fate::Stored;
            }
        }
        for durable in self.acked.values_mut() {
            *durable = true;
        }
    }

    fn apply(&mut self, op: Op) {
        let now = self.now;
        match op {
            Op::Track(i) => {
                let category = CATEGORIES[i];
                let recorded = self
                    .client()
                    .track(Track::new("e").category(category), now)
                    .unwrap();
                match recorded {
                    Recorded::Discarded => {
                        assert!(self.decided.is_some() && !self.granted(category));
                    }
                    Recorded::AwaitingConsent { event_id } => {
                        assert!(self.decided.is_none());
                        self.category.insert(event_id.clone(), category.into());
                        self.fate.insert(event_id, Fate::Awaiting);
                    }
                    Recorded::Queued { event_id } => {
                        assert!(self.granted(category));
                        self.category.insert(event_id.clone(), category.into());
                        self.fate.insert(event_id, Fate::Staged);
                    }
                }
            }
            Op::Poll => {
                let transmit = self.client().poll_transmit(now).unwrap();
                self.committed();
                if let Some(t) = transmit {
                    assert!(self.in_flight.is_none(), "two batches in flight");
                    self.check_sent(&t);
                    self.in_flight = Some(t);
                }
            }
            Op::Respond(response) => {
                if let Some(t) = self.in_flight.take() {
                    let outcome = match response {
                        Response::Ok => SendOutcome::status(200),
                        Response::Network => SendOutcome::NetworkError,
                        Response::Status(s) => SendOutcome::status(s),
                        Response::RetryAfter(ms) => SendOutcome::Response {
                            status: 429,
                            retry_after: Some(core::time::Duration::from_millis(ms)),
                        },
                    };
                    if matches!(response, Response::Ok) {
                        for id in ids(&t) {
                            self.delivered.insert(id.clone());
                            self.acked.insert(id, false);
                        }
                    }
                    self.client().on_response(t.batch_id, outcome, now);
                }
            }
            Op::Advance(ms) => self.now = now.saturating_add(core::time::Duration::from_millis(ms)),
            Op::Flush => {
                self.client().flush(now);
            }
            Op::Commit => {
                self.client().commit().unwrap();
                self.committed();
            }
            Op::SetConsent(flags) => {
                let granted: BTreeSet<String> = CATEGORIES
                    .iter()
                    .zip(flags)
                    .filter(|(_, g)| *g)
                    .map(|(c, _)| c.to_string())
                    .collect();
                self.client().set_consent(granted.iter(), now).unwrap();
                self.decided = Some(granted);
                // set_consent commits: waiting events of granted categories are now stored.
                for (id, fate) in self.fate.iter_mut() {
                    let ok = self.decided.as_ref().unwrap().contains(&self.category[id]);
                    match (*fate, ok) {
                        (Fate::Awaiting | Fate::Staged, true) => *fate = Fate::Stored,
                        (Fate::Awaiting | Fate::Staged | Fate::Stored, false) => {
                            *fate = Fate::Excused
                        }
                        _ => {}
                    }
                }
                for durable in self.acked.values_mut() {
                    *durable = true;
                }
            }
            Op::Restart { crash } => {
                let mut client = self.client.take().unwrap();
                if !crash {
                    client.commit().unwrap();
                    self.committed();
                }
                for fate in self.fate.values_mut() {
                    if matches!(*fate, Fate::Awaiting | Fate::Staged) {
                        *fate = Fate::Excused;
                    }
                }
                // Acks not committed before a crash may be sent again: that is at least once.
                self.acked.retain(|_, durable| *durable);
                self.in_flight = None;
                self.seed = self.seed.wrapping_add(1);
                let storage = client.into_storage();
                self.client =
                    Some(Client::new(self.config.clone(), storage, [self.seed; 32], now).unwrap());
            }
        }
        self.check_storage();
    }

    fn check_sent(&self, t: &Transmit) {
        for event in events(t) {
            let id = event["eventId"].as_str().unwrap();
            let category = event["context"]["consent"]["category"].as_str().unwrap();
            assert_eq!(
                self.category.get(id).map(String::as_str),
                Some(category),
                "unknown event {id}"
            );
            assert!(
                self.granted(category),
                "sent {id} of {category} without consent"
            );
            assert!(
                !self.acked.contains_key(id),
                "{id} sent again after its ack"
            );
        }
    }

    fn check_storage(&self) {
        let storage = self.client.as_ref().unwrap().storage();
        for stored in storage.events() {
            assert!(
                self.granted(&stored.category),
                "{} of {} stored without consent",
                stored.event_id,
                stored.category
            );
            assert!(stored.body.contains(&stored.event_id));
        }
    }

    /// The relay stays up: drain everything.
    fn settle(&mut self) {
        let now = self.now;
        if let Some(t) = self.in_flight.take() {
            self.client()
                .on_response(t.batch_id, SendOutcome::NetworkError, now);
        }
        self.client().flush(now);
        for _ in 0..10_000 {
            if let Some(wake) = self.client.as_ref().unwrap().poll_timeout() {
                self.now = self.now.max(wake);
            }
            let now = self.now;
            let Some(t) = self.client().poll_transmit(now).unwrap() else {
                break;
            };
            self.committed();
            self.check_sent(&t);
            for id in ids(&t) {
                self.delivered.insert(id.clone());
                self.acked.insert(id, false);
            }
            self.client()
                .on_response(t.batch_id, SendOutcome::status(200), now);
        }
        self.client().commit().unwrap();
        assert_eq!(
            self.client.as_ref().unwrap().stats().queued,
            0,
            "queue drained"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_stored_event_is_delivered_and_no_denied_event_leaves(ops in prop::collection::vec(op(), 1..80)) {
        let mut h = Harness::new();
        for op in ops {
            h.apply(op);
        }
        h.settle();
        for (id, fate) in &h.fate {
            if *fate == Fate::Stored {
                prop_assert!(h.delivered.contains(id), "stored event {} never delivered", id);
            }
            if !h.granted(&h.category[id]) {
                prop_assert!(
                    *fate == Fate::Excused || *fate == Fate::Awaiting || h.delivered.contains(id),
                    "{} of a denied category is {:?}", id, fate
                );
            }
        }
    }
}
