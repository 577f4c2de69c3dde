//! The traffic model: who visits, from which campaign, what they do.
//!
//! Deterministic for a seed, so a demo data set can be rebuilt exactly.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use spoor::{EventOptions, Identify, Message, Page, Track};

/// Sizes and seed of a demo run.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Simulated people.
    pub users: usize,
    /// Days of history, ending now.
    pub days: u32,
    /// Random seed.
    pub seed: u64,
    /// End of the simulated period (ms since the Unix epoch), usually now.
    pub end_ms: u64,
}

/// One call of the plan, at its event time.
#[derive(Debug, Clone)]
pub struct PlannedCall {
    /// Event time, ms since the Unix epoch.
    pub at_ms: u64,
    /// The SDK call.
    pub message: Message,
}

/// Everything a demo run sends.
#[derive(Debug, Default)]
pub struct Plan {
    /// Calls through the SDK, in event-time order.
    pub calls: Vec<PlannedCall>,
    /// Calls of devices that were offline: sent after all the others, stamped
    /// with the time they happened, so the pipeline sees them late.
    pub late: Vec<PlannedCall>,
    /// Raw events posted twice with the same eventId (a client retrying after a lost answer).
    pub duplicates: Vec<Value>,
    /// Raw events the relay refuses (unknown names, wrong types).
    pub invalid: Vec<Value>,
}

/// The experiment the demo runs on the checkout button.
pub const EXPERIMENT: &str = "checkout_button";

struct Campaign {
    source: &'static str,
    medium: &'static str,
    name: &'static str,
    referrer: &'static str,
    weight: u32,
}

const CAMPAIGNS: &[Campaign] = &[
    Campaign {
        source: "google",
        medium: "cpc",
        name: "spring_sale",
        referrer: "https://www.google.com/",
        weight: 35,
    },
    Campaign {
        source: "facebook",
        medium: "paid_social",
        name: "retarget",
        referrer: "https://www.facebook.com/",
        weight: 20,
    },
    Campaign {
        source: "newsletter",
        medium: "email",
        name: "weekly",
        referrer: "",
        weight: 15,
    },
    Campaign {
        source: "partner_blog",
        medium: "referral",
        name: "review",
        referrer: "https://blog.example/review",
        weight: 10,
    },
    Campaign {
        source: "",
        medium: "",
        name: "",
        referrer: "",
        weight: 20,
    },
];

const CATEGORIES: &[&str] = &["shoes", "jackets", "bags", "hats"];
const SURFACES: &[&str] = &["home", "search", "category", "recommendations"];
const QUERIES: &[&str] = &[
    "running shoes",
    "rain jacket",
    "leather bag",
    "wool hat",
    "sneakers",
];

const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// Builds the plan for `config`.
pub fn plan(config: &DemoConfig) -> Plan {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let start = config.end_ms.saturating_sub(u64::from(config.days) * DAY);
    let mut out = Plan::default();
    for user in 0..config.users {
        plan_person(&mut rng, user, start, config.end_ms, &mut out);
    }
    out.calls.sort_by_key(|c| c.at_ms);
    // About one call in fifty comes from a device that was offline for hours.
    let (late, on_time): (Vec<_>, Vec<_>) = std::mem::take(&mut out.calls)
        .into_iter()
        .enumerate()
        .partition(|(i, c)| i % 50 == 7 && c.at_ms + 3 * HOUR < config.end_ms);
    out.calls = on_time.into_iter().map(|(_, c)| c).collect();
    out.late = late.into_iter().map(|(_, c)| c).collect();
    out
}

fn pick_campaign(rng: &mut StdRng) -> &'static Campaign {
    let total: u32 = CAMPAIGNS.iter().map(|c| c.weight).sum();
    let mut roll = rng.random_range(0..total);
    for c in CAMPAIGNS {
        if roll < c.weight {
            return c;
        }
        roll -= c.weight;
    }
    &CAMPAIGNS[0]
}

/// Of the people who would still come back after the end of the period, one
/// in this many is on the site in its last hour, so the realtime minutes have
/// something to show right after a demo run (people who stopped coming are not).
const LIVE_EVERY: usize = 2;

fn plan_person(rng: &mut StdRng, user: usize, start: u64, end: u64, out: &mut Plan) {
    let anonymous_id = format!("anon-{user:05}");
    let user_id = format!("user-{user:05}");
    let first_campaign = pick_campaign(rng);
    let variant = if rng.random_bool(0.5) {
        "treatment"
    } else {
        "control"
    };
    let span = end.saturating_sub(start).max(DAY);
    let mut person = Person {
        anonymous_id: &anonymous_id,
        user_id: &user_id,
        variant,
        identified: false,
        end,
    };
    let mut t = start + rng.random_range(0..span * 2 / 3);
    let mut last_call = 0;
    let mut churned = false;
    // Retention: after each visit, the chance of coming back shrinks.
    let mut return_chance = 0.7;
    let mut visit = 0;
    while t < end {
        let campaign = if visit == 0 {
            Some(first_campaign)
        } else if rng.random_bool(0.3) {
            Some(pick_campaign(rng))
        } else {
            None
        };
        t = person.visit(rng, t, campaign, out);
        last_call = t;
        visit += 1;
        if !rng.random_bool(return_chance) {
            churned = true;
            break;
        }
        return_chance *= 0.8;
        t += rng.random_range(HOUR * 20..DAY * 4);
    }
    if !churned && user.is_multiple_of(LIVE_EVERY) {
        let live = end.saturating_sub(rng.random_range(MINUTE..HOUR));
        if last_call < live {
            person.visit(rng, live, None, out);
        }
    }
    if user.is_multiple_of(25)
        && let Some(last) = out.calls.last()
    {
        out.duplicates.push(raw_event(
            &format!("dup-{user}"),
            "search_performed",
            &anonymous_id,
            last.at_ms,
            json!({"query": "boots"}),
        ));
    }
    if user.is_multiple_of(40) {
        out.invalid.push(raw_event(
            &format!("bad-name-{user}"),
            "teleported",
            &anonymous_id,
            t,
            json!({}),
        ));
        out.invalid.push(raw_event(
            &format!("bad-type-{user}"),
            "purchase_completed",
            &anonymous_id,
            t,
            json!({"orderId": "o", "revenue": "a lot", "currency": "EUR"}),
        ));
    }
}

/// Who a planned visit belongs to, and whether they have signed up yet.
struct Person<'a> {
    anonymous_id: &'a str,
    user_id: &'a str,
    variant: &'static str,
    identified: bool,
    /// End of the simulated period: a visit still going on then is cut there.
    end: u64,
}

impl Person<'_> {
    /// Plans one visit starting at `t` into `out`, without what it would do after the end
    /// (that has not happened yet); returns the time its last call would have.
    fn visit(
        &mut self,
        rng: &mut StdRng,
        t: u64,
        campaign: Option<&'static Campaign>,
        out: &mut Plan,
    ) -> u64 {
        let ids = Ids {
            anonymous_id: self.anonymous_id,
            user_id: self.identified.then_some(self.user_id),
        };
        let mut session = Session {
            calls: Vec::new(),
            t,
            ids,
            campaign,
        };
        session.visit(rng, self.variant);
        if !self.identified && rng.random_bool(0.35) {
            session.sign_up(rng, self.user_id);
            self.identified = true;
        }
        let happened = session.calls.partition_point(|c| c.at_ms <= self.end);
        session.calls.truncate(happened);
        out.calls.extend(session.calls);
        session.t
    }
}

fn raw_event(
    event_id: &str,
    name: &str,
    anonymous_id: &str,
    at_ms: u64,
    properties: Value,
) -> Value {
    json!({
        "eventId": event_id,
        "eventName": name,
        "anonymousId": anonymous_id,
        "timestamp": spoor_core::Timestamp::from_millis(at_ms).to_rfc3339(),
        "properties": properties,
    })
}

#[derive(Clone, Copy)]
struct Ids<'a> {
    anonymous_id: &'a str,
    user_id: Option<&'a str>,
}

struct Session<'a> {
    calls: Vec<PlannedCall>,
    t: u64,
    ids: Ids<'a>,
    campaign: Option<&'static Campaign>,
}

impl Session<'_> {
    fn options(&mut self, rng: &mut StdRng, path: &str) -> EventOptions {
        self.t += rng.random_range(5_000..90_000);
        let mut context = Map::new();
        context.insert(
            "page".into(),
            json!({"path": path, "url": format!("https://shop.example{path}")}),
        );
        if let Some(c) = self.campaign.filter(|c| !c.source.is_empty()) {
            context.insert(
                "campaign".into(),
                json!({"source": c.source, "medium": c.medium, "name": c.name}),
            );
        }
        if let Some(c) = self.campaign.filter(|c| !c.referrer.is_empty()) {
            context.insert("referrer".into(), json!({"url": c.referrer}));
        }
        EventOptions {
            context: context.into(),
            timestamp: Some(spoor_core::Timestamp::from_millis(self.t)),
            user_id: self.ids.user_id.map(str::to_string),
            anonymous_id: Some(self.ids.anonymous_id.to_string()),
            ..EventOptions::default()
        }
    }

    fn track(&mut self, rng: &mut StdRng, name: &str, path: &str, properties: Value) {
        let options = self.options(rng, path);
        let properties = properties.as_object().cloned().unwrap_or_default();
        let at_ms = self.t;
        self.calls.push(PlannedCall {
            at_ms,
            message: Message::Track(Track {
                name: name.into(),
                properties: properties.into(),
                options,
            }),
        });
    }

    fn page(&mut self, rng: &mut StdRng, path: &str, title: &str) {
        let options = self.options(rng, path);
        let at_ms = self.t;
        let mut properties = Map::new();
        properties.insert("path".into(), json!(path));
        properties.insert("title".into(), json!(title));
        self.calls.push(PlannedCall {
            at_ms,
            message: Message::Page(Page {
                name: Some(title.into()),
                properties: properties.into(),
                options,
            }),
        });
    }

    fn visit(&mut self, rng: &mut StdRng, variant: &str) {
        self.page(rng, "/", "Home");
        if rng.random_bool(0.4) {
            let query = QUERIES[rng.random_range(0..QUERIES.len())];
            let results = rng.random_range(0..40);
            self.track(
                rng,
                "search_performed",
                "/search",
                json!({"query": query, "results": results}),
            );
        }
        let category = CATEGORIES[rng.random_range(0..CATEGORIES.len())];
        let surface = SURFACES[rng.random_range(0..SURFACES.len())];
        let product = format!("p-{}-{}", category, rng.random_range(1..30));
        for position in 0..rng.random_range(2..6) {
            let p = format!("p-{}-{}", category, rng.random_range(1..30));
            self.track(rng, "product_impression", "/", json!({"productId": p, "category": category, "surface": surface, "position": position}));
        }
        if !rng.random_bool(0.75) {
            return;
        }
        self.track(
            rng,
            "product_clicked",
            "/",
            json!({"productId": product, "category": category, "surface": surface}),
        );
        let price = f64::from(rng.random_range(1500..20000)) / 100.0;
        let pdp = format!("/products/{product}");
        self.track(
            rng,
            "view_product",
            &pdp,
            json!({"productId": product, "category": category, "price": price}),
        );
        if !rng.random_bool(0.45) {
            return;
        }
        let quantity = rng.random_range(1..3);
        self.track(
            rng,
            "add_to_cart",
            &pdp,
            json!({"productId": product, "quantity": quantity, "price": price, "currency": "EUR"}),
        );
        if !rng.random_bool(0.6) {
            return;
        }
        self.track(
            rng,
            "experiment_viewed",
            "/checkout",
            json!({"experiment": EXPERIMENT, "variant": variant}),
        );
        let value = price * f64::from(quantity);
        self.track(
            rng,
            "checkout_started",
            "/checkout",
            json!({"cartValue": value, "currency": "EUR", "items": quantity}),
        );
        let buy_chance = if variant == "treatment" { 0.62 } else { 0.5 };
        if rng.random_bool(buy_chance) {
            let order = format!("o-{}-{}", self.ids.anonymous_id, self.t);
            self.track(rng, "purchase_completed", "/checkout/done", json!({"orderId": order, "revenue": (value * 100.0).round() / 100.0, "currency": "EUR", "items": quantity}));
        }
    }

    fn sign_up(&mut self, rng: &mut StdRng, user_id: &str) {
        let method = if rng.random_bool(0.5) {
            "email"
        } else {
            "google"
        };
        self.track(
            rng,
            "signed_up",
            "/signup",
            json!({"method": method, "plan": "free"}),
        );
        let options = self.options(rng, "/signup");
        let at_ms = self.t;
        let mut traits = Map::new();
        traits.insert("plan".into(), json!("free"));
        self.calls.push(PlannedCall {
            at_ms,
            message: Message::Identify(Identify {
                user_id: Some(user_id.into()),
                traits: traits.into(),
                options,
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_deterministic_and_shaped_like_a_shop() {
        let config = DemoConfig {
            users: 200,
            days: 14,
            seed: 7,
            end_ms: 1_780_000_000_000,
        };
        let a = plan(&config);
        let b = plan(&config);
        assert_eq!(a.calls.len(), b.calls.len());
        let count = |name: &str| {
            a.calls
                .iter()
                .filter(|c| matches!(&c.message, Message::Track(t) if t.name == name))
                .count()
        };
        assert!(count("view_product") > count("add_to_cart"));
        assert!(count("add_to_cart") > count("checkout_started"));
        assert!(count("checkout_started") > count("purchase_completed"));
        assert!(count("purchase_completed") > 0);
        assert!(
            a.calls
                .iter()
                .any(|c| matches!(c.message, Message::Identify(_)))
        );
        assert!(!a.duplicates.is_empty() && !a.invalid.is_empty() && !a.late.is_empty());
        assert!(a.calls.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        let start = config.end_ms - 14 * DAY;
        assert!(a.calls.iter().all(|c| c.at_ms >= start));
        // People on the site in the last hour, none of them ahead of the end.
        let live = a
            .calls
            .iter()
            .filter(|c| c.at_ms > config.end_ms - HOUR)
            .count();
        assert!(live >= 20, "{live} calls in the last hour");
    }

    #[test]
    fn nothing_is_planned_after_the_end() {
        for seed in 0..20 {
            let config = DemoConfig {
                users: 300,
                days: 7,
                seed,
                end_ms: 1_780_000_000_000,
            };
            let plan = plan(&config);
            let last = plan.calls.iter().chain(&plan.late).map(|c| c.at_ms).max();
            assert!(last <= Some(config.end_ms), "seed {seed}: {last:?}");
        }
    }
}
