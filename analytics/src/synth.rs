//! A synthetic shop's event stream, for the agreement tests and the benchmark.
//!
//! People arrive over `days`, come back less and less often, browse in sessions
//! that start from a campaign, a referrer or nothing, see an A/B test, and walk
//! the checkout funnel (view_product → add_to_cart → checkout_started →
//! purchase_completed) with drop-off, sometimes out of order. Many browse
//! anonymously on one or two devices before logging in (an `identify` links the
//! device to the user), so the same person has several ids and may see both
//! variants of the test. The stream is in arrival order, day by day, with
//! duplicates (the same `eventId` sent again) and late events (held back a day).
//! Everything follows from the seed.

use serde_json::{Map, Value, json};
use spoor_log::event::{EventType, StoredEvent};

use crate::time::{DAY, Micros, SECOND, format_time};

/// The campaigns landing sessions come from: (utm source, medium, campaign).
pub const CAMPAIGNS: &[(&str, &str, &str)] = &[
    ("google", "cpc", "spring_sale"),
    ("google", "cpc", "brand"),
    ("facebook", "social", "launch"),
    ("newsletter", "email", "may_digest"),
    ("tiktok", "video", "creators"),
];

/// Referrers of sessions without a campaign.
pub const REFERRERS: &[&str] = &[
    "https://news.example.com/article",
    "https://blog.example.org/review",
];

/// The experiment every person may see, with its variants.
pub const EXPERIMENT: &str = "checkout_button";

/// How to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// Seed of everything.
    pub seed: u64,
    /// People.
    pub persons: usize,
    /// Days of traffic.
    pub days: i64,
    /// Midnight UTC of the first day.
    pub start: Micros,
    /// Share of events sent twice.
    pub duplicate_rate: f64,
    /// Share of events that arrive a day late.
    pub late_rate: f64,
}

impl SynthConfig {
    /// A small data set: `persons` people over `days` days from 2026-05-01.
    pub fn small(seed: u64, persons: usize, days: i64) -> SynthConfig {
        SynthConfig {
            seed,
            persons,
            days,
            start: crate::time::parse_time("2026-05-01").unwrap_or(0),
            duplicate_rate: 0.02,
            late_rate: 0.01,
        }
    }
}

/// SplitMix64: small, fast, good enough for synthetic traffic.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

struct Person {
    user: String,
    devices: Vec<String>,
    first_day: i64,
    /// Day of login, if the person ever logs in.
    login_day: Option<i64>,
    logged_in: bool,
}

/// Generates the stream; call [`Generator::next_day`] until it returns `None`.
pub struct Generator {
    config: SynthConfig,
    rng: Rng,
    people: Vec<Person>,
    day: i64,
    held_back: Vec<StoredEvent>,
    pending: Vec<(Micros, StoredEvent)>,
    counter: u64,
}

impl Generator {
    /// A generator for `config`.
    pub fn new(config: SynthConfig) -> Generator {
        let mut rng = Rng::new(config.seed);
        let people = (0..config.persons)
            .map(|i| {
                let devices = if rng.chance(0.3) { 2 } else { 1 };
                let first_day = rng.below(config.days.max(1) as u64) as i64;
                let login_day = rng.chance(0.6).then(|| first_day + rng.below(4) as i64);
                Person {
                    user: format!("u{i}"),
                    devices: (0..devices)
                        .map(|d| format!("a{i}-{d}-{:x}", rng.next_u64() & 0xffff))
                        .collect(),
                    first_day,
                    login_day,
                    logged_in: false,
                }
            })
            .collect();
        Generator {
            config,
            rng,
            people,
            day: 0,
            held_back: Vec::new(),
            pending: Vec::new(),
            counter: 0,
        }
    }

    /// The events that arrive on the next day (in arrival order), or `None` when done.
    ///
    /// Events arrive in event-time order, except the late ones (held back a day)
    /// and the duplicates (sent again right after the original).
    pub fn next_day(&mut self) -> Option<Vec<StoredEvent>> {
        if self.day >= self.config.days && self.pending.is_empty() && self.held_back.is_empty() {
            return None;
        }
        let mut today = std::mem::take(&mut self.pending);
        if self.day < self.config.days {
            for index in 0..self.people.len() {
                self.person_day(index, &mut today);
            }
        }
        today.sort_by_key(|(at, _)| *at);
        let day_end = self.config.start + (self.day + 1) * DAY;
        let split = today.partition_point(|(at, _)| *at < day_end);
        self.pending = today.split_off(split);
        let mut arrivals = std::mem::take(&mut self.held_back);
        for (_, event) in today {
            if self.rng.chance(self.config.late_rate) {
                self.held_back.push(event);
                continue;
            }
            if self.rng.chance(self.config.duplicate_rate) {
                arrivals.push(event.clone());
            }
            arrivals.push(event);
        }
        self.day += 1;
        Some(arrivals)
    }

    fn person_day(&mut self, index: usize, out: &mut Vec<(Micros, StoredEvent)>) {
        let day = self.day;
        let first_day = self.people[index].first_day;
        if day < first_day {
            return;
        }
        let age = (day - first_day) as f64;
        let active = day == first_day || self.rng.chance(0.45 * 0.88f64.powf(age) + 0.04);
        if !active {
            return;
        }
        let sessions = 1 + self.rng.below(2);
        let mut at =
            self.config.start + day * DAY + (self.rng.below(14 * 3600) as i64 + 6 * 3600) * SECOND;
        for _ in 0..sessions {
            self.session(index, &mut at, out);
            at += (30 + self.rng.below(180) as i64) * 60 * SECOND;
        }
    }

    fn session(&mut self, index: usize, at: &mut Micros, out: &mut Vec<(Micros, StoredEvent)>) {
        let day = self.day;
        let device = self.rng.below(self.people[index].devices.len() as u64) as usize;
        let source = if device == 0 { "web" } else { "ios" };
        let login_now = self.people[index].login_day == Some(day) && !self.people[index].logged_in;
        let step = |rng: &mut Rng, at: &mut Micros| *at += (5 + rng.below(600) as i64) * SECOND;

        let mut context = Map::new();
        let roll = self.rng.unit();
        if roll < 0.45 {
            let (source, medium, name) = CAMPAIGNS[self.rng.below(CAMPAIGNS.len() as u64) as usize];
            context.insert(
                "campaign".into(),
                json!({"source": source, "medium": medium, "name": name}),
            );
        } else if roll < 0.6 {
            let referrer = REFERRERS[self.rng.below(REFERRERS.len() as u64) as usize];
            context.insert("page".into(), json!({"referrer": referrer}));
        }
        self.emit(
            index,
            device,
            source,
            "page_viewed",
            *at,
            json!({"path": "/"}),
            context,
            EventType::Page,
            out,
        );
        if login_now {
            step(&mut self.rng, at);
            self.people[index].logged_in = true;
            self.emit(
                index,
                device,
                source,
                "",
                *at,
                json!({}),
                Map::new(),
                EventType::Identify,
                out,
            );
        }
        if self.rng.chance(0.5) {
            step(&mut self.rng, at);
            let variant_of = if self.people[index].logged_in {
                self.people[index].user.clone()
            } else {
                self.people[index].devices[device].clone()
            };
            let variant = if fnv(&variant_of).is_multiple_of(2) {
                "control"
            } else {
                "treatment"
            };
            let props = json!({"experiment": EXPERIMENT, "variant": variant});
            self.emit(
                index,
                device,
                source,
                "experiment_viewed",
                *at,
                props,
                Map::new(),
                EventType::Track,
                out,
            );
        }
        let treatment_boost = if fnv(&self.people[index].user) % 2 == 1 {
            0.08
        } else {
            0.0
        };
        let surfaces = ["home", "search", "recs"];
        let surface = surfaces[self.rng.below(3) as usize];
        let mut funnel: Vec<&str> = Vec::new();
        if self.rng.chance(0.8) {
            funnel.push("view_product");
            if self.rng.chance(0.45) {
                funnel.push("add_to_cart");
                if self.rng.chance(0.6) {
                    funnel.push("checkout_started");
                    if self.rng.chance(0.6 + treatment_boost) {
                        funnel.push("purchase_completed");
                    }
                }
            }
        }
        if funnel.len() >= 2 && self.rng.chance(0.05) {
            funnel.swap(0, 1); // out of order
        }
        for name in funnel {
            step(&mut self.rng, at);
            if name == "purchase_completed" && self.rng.chance(0.1) {
                *at += DAY / 2 + (self.rng.below(3600) as i64) * 20 * SECOND; // finishes much later
            }
            let props = match name {
                "view_product" => {
                    json!({"productId": format!("p{}", self.rng.below(50)), "surface": surface})
                }
                "add_to_cart" => {
                    json!({"productId": format!("p{}", self.rng.below(50)), "quantity": 1 + self.rng.below(3)})
                }
                "checkout_started" => json!({"cartValue": 10 + self.rng.below(200)}),
                _ => {
                    let cents = 1_000 + self.rng.below(20_000);
                    json!({"orderId": format!("o{}", self.counter), "revenue": cents as f64 / 100.0, "currency": "USD"})
                }
            };
            self.emit(
                index,
                device,
                source,
                name,
                *at,
                props,
                Map::new(),
                EventType::Track,
                out,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        index: usize,
        device: usize,
        source: &str,
        name: &str,
        at: Micros,
        properties: Value,
        context: Map<String, Value>,
        kind: EventType,
        out: &mut Vec<(Micros, StoredEvent)>,
    ) {
        self.counter += 1;
        let person = &self.people[index];
        let at = at - at.rem_euclid(1_000); // Parquet keeps milliseconds
        let time = format_time(at);
        let properties = match properties {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let event = StoredEvent {
            event_id: format!("{:016x}-{:08x}", self.config.seed, self.counter),
            event_type: kind,
            event_name: (!name.is_empty()).then(|| name.to_string()),
            user_id: person.logged_in.then(|| person.user.clone()),
            anonymous_id: Some(person.devices[device].clone()),
            previous_id: None,
            group_id: None,
            timestamp: Some(time.clone()),
            sent_at: Some(time.clone()),
            received_at: time.clone(),
            event_time: time,
            source: source.to_string(),
            properties,
            traits: Map::new(),
            context,
            schema_version: None,
            flags: Vec::new(),
        };
        out.push((at, event));
    }
}

/// Writes the whole stream into the relay's log at `data_dir/log` (as the relay
/// would have), returning the number of records written.
pub fn write_log(
    data_dir: &std::path::Path,
    config: SynthConfig,
) -> Result<u64, spoor_log::LogError> {
    let mut log =
        spoor_log::EventLog::open(&data_dir.join("log"), spoor_log::LogOptions::default())?;
    let mut generator = Generator::new(config);
    let mut records = 0u64;
    while let Some(day) = generator.next_day() {
        for chunk in day.chunks(10_000) {
            let payloads: Vec<Vec<u8>> = chunk
                .iter()
                .map(|event| serde_json::to_vec(event).unwrap_or_default())
                .collect();
            log.append(&payloads)?;
            records += payloads.len() as u64;
        }
    }
    log.sync()?;
    Ok(records)
}

/// Writes the stream into `data_dir/log` and runs the real pipeline over it to the
/// end, leaving raw partitions and tables as `spoor up` would. Returns the
/// pipeline's counters (events kept, duplicates dropped, late events, links).
pub fn build_dataset(
    data_dir: &std::path::Path,
    config: SynthConfig,
) -> Result<spoor_pipeline::metrics::Metrics, Box<dyn std::error::Error + Send + Sync>> {
    write_log(data_dir, config)?;
    let mut runner =
        spoor_pipeline::Runner::open(data_dir, spoor_pipeline::PipelineConfig::default())?;
    runner.run_to_end(|_| {})?;
    Ok(runner.metrics().clone())
}

/// FNV-1a, to give ids a stable variant.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ byte as u64).wrapping_mul(0x0100_0000_01b3)
    })
}
