//! Synthetic relay records for tests and benchmarks: many people over a
//! stretch of time, a shop's event mix with typed properties, campaigns,
//! identifies, duplicates (retries minutes later) and late events.
//!
//! Deterministic for a seed, so two runs over the same records must agree.

use serde_json::{Map, Value, json};
use spoor_log::event::{EventType, StoredEvent};

use crate::timefmt::format_ms;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Records to produce (duplicates and late events included).
    pub records: u64,
    /// Distinct people (anonymous ids).
    pub people: u64,
    /// Arrival time of the first record (epoch ms).
    pub start_ms: i64,
    /// Time the records' arrivals span (ms).
    pub span_ms: i64,
    /// Share of records that repeat an earlier one (a client retry).
    pub duplicate_rate: f64,
    /// Share of records that arrive 5 to 120 minutes after their event time.
    pub late_rate: f64,
    /// Mean events of one visit: a person's events come in visits of about this many, about
    /// a minute apart. 1 makes every event a random person's (nearly every event its own
    /// session).
    pub visit_events: u64,
    /// Seed.
    pub seed: u64,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            records: 10_000,
            people: 500,
            start_ms: 1_777_766_400_000, // 2026-05-03T00:00:00Z
            span_ms: 6 * 3_600_000,
            duplicate_rate: 0.02,
            late_rate: 0.01,
            visit_events: 1,
            seed: 7,
        }
    }
}

/// SplitMix64: small, fast, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const EVENTS: &[(&str, u64)] = &[
    ("page_viewed", 40),
    ("product_impression", 15),
    ("product_clicked", 10),
    ("view_product", 10),
    ("add_to_cart", 7),
    ("search_performed", 5),
    ("cart_viewed", 4),
    ("checkout_started", 3),
    ("experiment_viewed", 3),
    ("purchase_completed", 2),
    ("signed_up", 1),
];

const CATEGORIES: &[&str] = &["shoes", "shirts", "bags", "hats", "socks"];
const CAMPAIGNS: &[(&str, &str, &str)] = &[
    ("google", "cpc", "spring_sale"),
    ("newsletter", "email", "weekly"),
    ("facebook", "social", "launch"),
];

/// The records, in arrival order.
pub struct Synth {
    options: SynthOptions,
    rng: Rng,
    produced: u64,
    recent: Vec<StoredEvent>,
    /// Visits under way: (person, events still to come).
    visits: Vec<(u64, u64)>,
}

impl Synth {
    /// A generator for `options`.
    pub fn new(options: SynthOptions) -> Self {
        // As many visits under way as records arrive in a minute, so one visit's events
        // arrive about a minute apart.
        let per_minute = options.records as i128 * 60_000 / options.span_ms.max(1) as i128;
        let under_way = if options.visit_events > 1 {
            per_minute.clamp(1, 1 << 20) as usize
        } else {
            0
        };
        Synth {
            rng: Rng(options.seed),
            options,
            produced: 0,
            recent: Vec::new(),
            visits: vec![(0, 0); under_way],
        }
    }

    /// Whose the next event is: a random person's, or the next of a visit under way (a new
    /// visit of a random person when the one picked has ended).
    fn person(&mut self) -> u64 {
        let (people, mean) = (self.options.people, self.options.visit_events);
        if self.visits.is_empty() {
            return self.rng.below(people);
        }
        let i = self.rng.below(self.visits.len() as u64) as usize;
        if self.visits[i].1 == 0 {
            // 1 to 2·mean − 1 events: the mean is `mean`.
            self.visits[i] = (
                self.rng.below(people),
                1 + self.rng.below(mean.saturating_mul(2) - 1),
            );
        }
        let visit = &mut self.visits[i];
        visit.1 -= 1;
        visit.0
    }

    fn fresh(&mut self, received: i64) -> StoredEvent {
        let person = self.person();
        let rng = &mut self.rng;
        let late = rng.chance(self.options.late_rate);
        let delay = if late {
            (5 + rng.below(115) as i64) * 60_000
        } else {
            rng.below(3000) as i64
        };
        let event_time = received - delay;
        let id = format!(
            "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
            (event_time / 1000) as u32,
            rng.below(1 << 16),
            rng.below(1 << 12),
            rng.below(1 << 16),
            rng.below(1 << 48)
        );
        let mut e = StoredEvent {
            event_id: id,
            event_type: EventType::Track,
            event_name: None,
            user_id: None,
            anonymous_id: Some(format!("anon-{person:07}")),
            previous_id: None,
            group_id: None,
            timestamp: Some(format_ms(event_time)),
            sent_at: None,
            received_at: format_ms(received),
            event_time: format_ms(event_time),
            source: if person.is_multiple_of(5) {
                "ios"
            } else {
                "web"
            }
            .into(),
            properties: Map::new(),
            traits: Map::new(),
            context: Map::new(),
            schema_version: None,
            flags: Vec::new(),
        };
        if rng.below(200) == 0 {
            e.event_type = EventType::Identify;
            e.user_id = Some(format!("user-{person:07}"));
            e.traits = obj(json!({"plan": "pro"}));
            return e;
        }
        let mut pick = rng.below(EVENTS.iter().map(|(_, w)| w).sum());
        let mut name = EVENTS[0].0;
        for (n, w) in EVENTS {
            if pick < *w {
                name = n;
                break;
            }
            pick -= w;
        }
        let product = format!("p{}", rng.below(300));
        let category = CATEGORIES[rng.below(CATEGORIES.len() as u64) as usize];
        let path = format!("/{category}/{product}");
        e.properties = obj(match name {
            "page_viewed" => json!({"path": path, "title": "Spoor shop"}),
            "search_performed" => json!({"query": category, "results": rng.below(40)}),
            "experiment_viewed" => {
                json!({"experiment": "checkout_button", "variant": if person.is_multiple_of(2) { "control" } else { "green" }})
            }
            "purchase_completed" => {
                json!({"orderId": format!("o{}", rng.below(1 << 40)), "revenue": (rng.below(20_000) as f64) / 100.0, "currency": "EUR", "items": 1 + rng.below(4)})
            }
            "signed_up" => json!({"method": "email"}),
            "cart_viewed" | "checkout_started" => {
                json!({"cartValue": (rng.below(20_000) as f64) / 100.0, "items": 1 + rng.below(4)})
            }
            _ => {
                json!({"productId": product, "category": category, "price": (rng.below(10_000) as f64) / 100.0})
            }
        });
        e.event_name = Some(name.to_string());
        let mut context = json!({
            "library": {"name": "spoor-browser", "version": "0.1.0"},
            "page": {"path": path, "referrer": "https://search.example/"},
            "locale": "de-DE",
        });
        if rng.below(4) == 0 {
            let (s, m, c) = CAMPAIGNS[rng.below(CAMPAIGNS.len() as u64) as usize];
            context["campaign"] = json!({"source": s, "medium": m, "name": c});
        }
        e.context = obj(context);
        e
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl Iterator for Synth {
    type Item = StoredEvent;

    fn next(&mut self) -> Option<StoredEvent> {
        if self.produced >= self.options.records {
            return None;
        }
        let o = &self.options;
        let received = o.start_ms
            + (o.span_ms as i128 * self.produced as i128 / o.records.max(1) as i128) as i64;
        self.produced += 1;
        if !self.recent.is_empty() && self.rng.chance(self.options.duplicate_rate) {
            let i = self.rng.below(self.recent.len() as u64) as usize;
            let mut dup = self.recent[i].clone();
            dup.received_at = format_ms(received);
            return Some(dup);
        }
        let e = self.fresh(received);
        if self.recent.len() < 4096 {
            self.recent.push(e.clone());
        } else {
            let i = self.rng.below(4096) as usize;
            self.recent[i] = e.clone();
        }
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timefmt::parse_ms;

    /// Events per session of `options`' records: a person's events in time order, a new
    /// session after 30 minutes without one.
    fn events_per_session(options: SynthOptions) -> f64 {
        let mut times: Vec<(String, i64)> = Synth::new(options)
            .filter_map(|e| Some((e.anonymous_id?, parse_ms(&e.event_time)?)))
            .collect();
        times.sort();
        let sessions = times
            .windows(2)
            .filter(|w| w[0].0 != w[1].0 || w[1].1 - w[0].1 > 30 * 60_000)
            .count()
            + 1;
        times.len() as f64 / sessions as f64
    }

    #[test]
    fn visits_bring_a_person_s_events_together_in_sessions() {
        let options = SynthOptions {
            records: 50_000,
            people: 5_000,
            span_ms: 24 * 3_600_000,
            ..SynthOptions::default()
        };
        let random = events_per_session(options.clone());
        let visits = events_per_session(SynthOptions {
            visit_events: 8,
            ..options
        });
        assert!(random < 1.5, "{random} events per session");
        assert!((6.0..10.0).contains(&visits), "{visits} events per session");
    }

    #[test]
    fn the_same_seed_gives_the_same_records() {
        let options = SynthOptions {
            visit_events: 8,
            ..SynthOptions::default()
        };
        let ids = |o: SynthOptions| Synth::new(o).map(|e| e.event_id).collect::<Vec<_>>();
        assert_eq!(ids(options.clone()), ids(options));
    }
}
