//! Funnels: ordered steps within a conversion window, counted per person or per session.
//!
//! Rules (each one has a hand-computed test below):
//!
//! - A unit (person or session) *reaches* step k when it did steps 1..k at strictly
//!   increasing times, all within `window` of step 1 (inclusive: a conversion at
//!   exactly `window` counts, one microsecond later does not).
//! - Loose order (default): other events, including other steps, may happen in between.
//!   Strict order: between two consecutive steps the unit does no other event of the
//!   funnel (a step or an exclusion event); events at the same instant are not "between".
//! - A unit is counted once per step however often it converts; `count` is the number of
//!   units that reached the step, `conversionRate` is against step 1 and
//!   `stepConversionRate` against the step before.
//! - `medianSecondsFromPrevious` of step k: for each unit that reached step k, the time
//!   from step k-1 to step k in its first conversion to step k (the one that got there
//!   earliest; among those, the one that started latest), with every step taken at its
//!   earliest occurrence after the step before. The median of an even count is the mean
//!   of the two middle values.
//! - An exclusion `event:a-b` (steps 1-based, default from step 1 to the last step) breaks
//!   a conversion that has reached step a (or a later one before b) and not yet step b when
//!   the event happens: that conversion stops there; the steps it already reached still
//!   count, and the unit may convert afresh later.
//! - Breakdown by a property: each unit is counted under the value the property had on its
//!   first step-1 event in the range (`null` when absent).
//!
//! The computation keeps, per step, only the conversion that started latest: a later
//! start has at least as much of its window left, so it dominates every earlier one.
//! That makes a unit's events one linear pass.

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{AnalyticsError, ParamError};
use crate::params::{Params, TimeRange};
use crate::store::{DataDir, LoadSpec, TagSource};
use crate::table::{EventTable, Grouped, Interner, Key, NONE, Row, same_time_runs};
use crate::time::{DAY, Micros, SECOND};

/// The most steps a funnel may have.
pub const MAX_STEPS: usize = 16;

/// Whether other funnel events may happen between two steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepOrder {
    /// Other events may happen in between.
    Loose,
    /// No other event of the funnel in between.
    Strict,
}

/// What a funnel counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FunnelUnit {
    /// People (after identity stitching).
    Person,
    /// Sessions.
    Session,
}

/// An exclusion step: `event` done after step `after` and before step `before` breaks the conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    /// The event name.
    pub event: String,
    /// 1-based step after which the event breaks a conversion.
    pub after: usize,
    /// 1-based step before which it does.
    pub before: usize,
}

/// A named funnel (from configuration or built in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedFunnel {
    /// Its name (`checkout`).
    pub name: String,
    /// The steps' event names.
    pub steps: Vec<String>,
    /// The conversion window.
    pub window: Micros,
}

/// A named funnel as configured (`[[funnels]]` in `spoor.toml`:
/// `name = "signup"`, `steps = ["page_viewed", "signed_up"]`, `window = "1d"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelConfig {
    /// The name queries use.
    pub name: String,
    /// The steps' event names.
    pub steps: Vec<String>,
    /// The conversion window (`1h`, `14d`; default 14 days).
    #[serde(default)]
    pub window: Option<String>,
}

/// Named funnels a query may refer to with `name=`.
#[derive(Debug, Clone, Default)]
pub struct FunnelCatalog {
    funnels: Vec<NamedFunnel>,
}

impl FunnelCatalog {
    /// The funnels Spoor ships: `checkout` (view_product → add_to_cart → checkout_started → purchase_completed, 1 day).
    pub fn builtin() -> FunnelCatalog {
        FunnelCatalog {
            funnels: vec![NamedFunnel {
                name: "checkout".into(),
                steps: [
                    "view_product",
                    "add_to_cart",
                    "checkout_started",
                    "purchase_completed",
                ]
                .map(String::from)
                .to_vec(),
                window: DAY,
            }],
        }
    }

    /// The built-in funnels plus configured ones (a configured name replaces a built-in one).
    pub fn with_config(funnels: &[FunnelConfig]) -> Result<FunnelCatalog, ParamError> {
        let mut catalog = FunnelCatalog::builtin();
        for funnel in funnels {
            if funnel.steps.is_empty() || funnel.steps.len() > MAX_STEPS {
                return Err(ParamError::new(
                    "steps",
                    format!("funnel `{}` needs 1 to {MAX_STEPS} steps", funnel.name),
                ));
            }
            let window = match &funnel.window {
                None => DEFAULT_WINDOW,
                Some(text) => match crate::time::parse_window(text) {
                    Some(window) => window,
                    None => {
                        return Err(ParamError::new(
                            "window",
                            format!(
                                "funnel `{}`: `{text}` is not a positive duration of at most \
                                 100 years",
                                funnel.name
                            ),
                        ));
                    }
                },
            };
            catalog.insert(NamedFunnel {
                name: funnel.name.clone(),
                steps: funnel.steps.clone(),
                window,
            });
        }
        Ok(catalog)
    }

    /// Adds or replaces a funnel.
    pub fn insert(&mut self, funnel: NamedFunnel) {
        self.funnels.retain(|known| known.name != funnel.name);
        self.funnels.push(funnel);
    }

    /// The funnel called `name`.
    pub fn get(&self, name: &str) -> Option<&NamedFunnel> {
        self.funnels.iter().find(|funnel| funnel.name == name)
    }
}

/// A funnel query.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelQuery {
    /// The named funnel this came from, if any.
    pub name: Option<String>,
    /// The steps' event names, 1..=16 of them.
    pub steps: Vec<String>,
    /// Conversion window from step 1.
    pub window: Micros,
    /// Loose or strict order.
    pub order: StepOrder,
    /// Person or session.
    pub unit: FunnelUnit,
    /// Exclusion steps.
    pub exclusions: Vec<Exclusion>,
    /// Property to break down by (read from the step-1 event).
    pub breakdown: Option<String>,
    /// Events considered.
    pub range: TimeRange,
}

/// Parameters a funnel query accepts.
pub const FUNNEL_PARAMS: &[&str] = &[
    "name",
    "steps",
    "window",
    "order",
    "unit",
    "exclude",
    "breakdown",
    "from",
    "to",
];

/// Default conversion window of ad-hoc funnels.
pub const DEFAULT_WINDOW: Micros = 14 * DAY;

impl FunnelQuery {
    /// Parses `name` or `steps` (comma-separated), `window` (`1h`, `14d`), `order`
    /// (`loose`|`strict`), `unit` (`person`|`session`), `exclude` (`event` or
    /// `event:2-4`, comma-separated), `breakdown` (property), `from`, `to`, resolving
    /// names against the built-in catalog.
    pub fn from_params(params: &HashMap<String, String>) -> Result<FunnelQuery, ParamError> {
        FunnelQuery::from_params_with(params, &FunnelCatalog::builtin())
    }

    /// Like [`FunnelQuery::from_params`] with a catalog of named funnels.
    pub fn from_params_with(
        params: &HashMap<String, String>,
        catalog: &FunnelCatalog,
    ) -> Result<FunnelQuery, ParamError> {
        let params = Params::new(params, FUNNEL_PARAMS)?;
        let named =
            match params.text("name") {
                Some(name) => Some(catalog.get(name).ok_or_else(|| {
                    ParamError::new("name", format!("no funnel called `{name}`"))
                })?),
                None => None,
            };
        let steps = match (params.list("steps"), named) {
            (Some(steps), _) => steps,
            (None, Some(named)) => named.steps.clone(),
            (None, None) => {
                return Err(ParamError::new("steps", "give `steps` or a funnel `name`"));
            }
        };
        if steps.is_empty() || steps.len() > MAX_STEPS {
            return Err(ParamError::new(
                "steps",
                format!("give 1 to {MAX_STEPS} event names"),
            ));
        }
        let window = params
            .duration("window")?
            .or(named.map(|named| named.window))
            .unwrap_or(DEFAULT_WINDOW);
        let order = match params.choice("order", &["loose", "strict"])? {
            Some(1) => StepOrder::Strict,
            _ => StepOrder::Loose,
        };
        let unit = match params.choice("unit", &["person", "session"])? {
            Some(1) => FunnelUnit::Session,
            _ => FunnelUnit::Person,
        };
        let exclusions = params
            .list("exclude")
            .unwrap_or_default()
            .iter()
            .map(|item| parse_exclusion(item, steps.len()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FunnelQuery {
            name: named.map(|named| named.name.clone()),
            steps,
            window,
            order,
            unit,
            exclusions,
            breakdown: params.text("breakdown").map(String::from),
            range: params.range()?,
        })
    }

    /// An ad-hoc loose per-person funnel over `range` (for tests and library callers).
    pub fn new(steps: &[&str], window: Micros, range: TimeRange) -> FunnelQuery {
        FunnelQuery {
            name: None,
            steps: steps.iter().map(|step| step.to_string()).collect(),
            window,
            order: StepOrder::Loose,
            unit: FunnelUnit::Person,
            exclusions: Vec::new(),
            breakdown: None,
            range,
        }
    }

    /// The events the funnel reads: its steps and exclusion events.
    pub fn event_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.steps.clone();
        names.extend(
            self.exclusions
                .iter()
                .map(|exclusion| exclusion.event.clone()),
        );
        names.sort();
        names.dedup();
        names
    }
}

fn parse_exclusion(item: &str, steps: usize) -> Result<Exclusion, ParamError> {
    let bad = || {
        ParamError::new(
            "exclude",
            format!("`{item}` is not `event` or `event:FROM-TO` with 1 <= FROM < TO <= {steps}"),
        )
    };
    let (event, after, before) = match item.split_once(':') {
        None => (item, 1, steps),
        Some((event, span)) => {
            let (after, before) = span.split_once('-').ok_or_else(bad)?;
            (
                event,
                after.trim().parse().map_err(|_| bad())?,
                before.trim().parse().map_err(|_| bad())?,
            )
        }
    };
    if event.is_empty() || after < 1 || after >= before || before > steps {
        return Err(bad());
    }
    Ok(Exclusion {
        event: event.to_string(),
        after,
        before,
    })
}

/// One step of a funnel result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    /// The step's event name.
    pub event: String,
    /// Units that reached this step.
    pub count: u64,
    /// `count` / count of step 1 (0 when step 1 has none).
    pub conversion_rate: f64,
    /// `count` / count of the step before (1 for step 1 when it has any).
    pub step_conversion_rate: f64,
    /// Median seconds from the step before (none for step 1 or when nobody got here).
    pub median_seconds_from_previous: Option<f64>,
}

/// One value of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakdownGroup {
    /// The property's value (`null` when the step-1 event did not have it).
    pub value: Option<String>,
    /// The funnel of the units with this value.
    pub steps: Vec<StepResult>,
}

/// A breakdown of a funnel by a property.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown {
    /// The property.
    pub property: String,
    /// One group per value, the most units first.
    pub groups: Vec<BreakdownGroup>,
}

/// The answer of `GET /api/analytics/funnel`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunnelReport {
    /// The named funnel, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The steps, in order.
    pub steps: Vec<StepResult>,
    /// Conversion window in seconds.
    pub window_seconds: i64,
    /// Loose or strict.
    pub order: StepOrder,
    /// Person or session.
    pub unit: FunnelUnit,
    /// The range.
    pub range: TimeRange,
    /// The breakdown, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Breakdown>,
}

/// Reads the funnel's events from the data directory and computes it.
pub fn run(data: &DataDir, query: &FunnelQuery) -> Result<FunnelReport, AnalyticsError> {
    let tag = match &query.breakdown {
        Some(property) => TagSource::Property {
            name: property.clone(),
            only_event: Some(query.steps[0].clone()),
        },
        None => TagSource::None,
    };
    let spec = LoadSpec {
        events: Some(query.event_names()),
        range: query.range,
        tag,
        session: query.unit == FunnelUnit::Session,
        value: false,
    };
    let table = data.load(&spec)?;
    Ok(compute(query, &table))
}

#[derive(Clone, Copy)]
struct Chain {
    start: Micros,
    times: [Micros; MAX_STEPS],
}

/// What one unit did.
struct UnitOutcome {
    /// Steps reached (0: never did step 1 in range).
    depth: usize,
    /// Per step (from the second): the gap to the step before in the first conversion there.
    gaps: [Micros; MAX_STEPS],
    /// The breakdown value (tag of the first step-1 event).
    tag: Key,
}

struct Rules {
    steps: usize,
    window: Micros,
    strict: bool,
    /// Per event key: bit k set when the event is step k.
    step_mask: Vec<u32>,
    /// Per event key: levels (0-based) an occurrence kills, as half-open ranges.
    kills: Vec<Vec<(usize, usize)>>,
}

impl Rules {
    fn new(query: &FunnelQuery, table: &EventTable) -> Rules {
        let mut step_mask = vec![0u32; table.events.len()];
        let mut kills = vec![Vec::new(); table.events.len()];
        for (k, step) in query.steps.iter().enumerate() {
            if let Some(key) = table.events.get(step) {
                step_mask[key as usize] |= 1 << k;
            }
        }
        for exclusion in &query.exclusions {
            if let Some(key) = table.events.get(&exclusion.event) {
                kills[key as usize].push((exclusion.after - 1, exclusion.before - 1));
            }
        }
        Rules {
            steps: query.steps.len(),
            window: query.window,
            strict: query.order == StepOrder::Strict,
            step_mask,
            kills,
        }
    }

    fn is_funnel_event(&self, row: &Row) -> bool {
        let key = row.event as usize;
        key < self.step_mask.len() && (self.step_mask[key] != 0 || !self.kills[key].is_empty())
    }

    /// One pass over a unit's time-sorted rows.
    fn walk(&self, rows: &[Row], scratch: &mut Vec<Row>, tags: &Interner) -> UnitOutcome {
        scratch.clear();
        scratch.extend(rows.iter().filter(|row| self.is_funnel_event(row)));
        let mut state: [Option<Chain>; MAX_STEPS] = [None; MAX_STEPS];
        let mut outcome = UnitOutcome {
            depth: 0,
            gaps: [0; MAX_STEPS],
            tag: NONE,
        };
        let mut first_step_time = None;
        for run in same_time_runs(scratch) {
            let t = run[0].time;
            for row in run {
                for &(low, high) in &self.kills[row.event as usize] {
                    state[low..high].fill(None);
                }
            }
            let snapshot = state;
            if self.strict {
                state = [None; MAX_STEPS];
            }
            for row in run {
                let mut mask = self.step_mask[row.event as usize];
                while mask != 0 {
                    let k = mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    let candidate = if k == 0 {
                        if first_step_time.is_none_or(|first| first == t) {
                            first_step_time = Some(t);
                            outcome.tag = earlier_tag(outcome.tag, row.tag, tags);
                        }
                        let mut times = [0; MAX_STEPS];
                        times[0] = t;
                        Chain { start: t, times }
                    } else {
                        match snapshot[k - 1] {
                            Some(chain) if t - chain.start <= self.window => {
                                let mut chain = chain;
                                chain.times[k] = t;
                                chain
                            }
                            _ => continue,
                        }
                    };
                    match state[k] {
                        Some(current) if current.start >= candidate.start => {}
                        _ => state[k] = Some(candidate),
                    }
                }
            }
            for (k, chain) in state.iter().enumerate().take(self.steps) {
                if let Some(chain) = chain
                    && k >= outcome.depth
                {
                    // First time this step is reached: keep the gap of this conversion.
                    if k > 0 {
                        outcome.gaps[k] = chain.times[k] - chain.times[k - 1];
                    }
                    outcome.depth = k + 1;
                }
            }
        }
        outcome
    }
}

/// Picks the breakdown tag among step-1 events at the same first instant: the
/// smallest value, a missing value last.
fn earlier_tag(current: Key, candidate: Key, tags: &Interner) -> Key {
    match (current, candidate) {
        (NONE, _) => candidate,
        (_, NONE) => current,
        _ if tags.name(candidate) < tags.name(current) => candidate,
        _ => current,
    }
}

#[derive(Default)]
struct Tally {
    counts: [u64; MAX_STEPS],
    gaps: Vec<Vec<Micros>>,
}

impl Tally {
    fn add(&mut self, outcome: &UnitOutcome, steps: usize) {
        if self.gaps.is_empty() {
            self.gaps = vec![Vec::new(); steps];
        }
        for k in 0..outcome.depth {
            self.counts[k] += 1;
            if k > 0 {
                self.gaps[k].push(outcome.gaps[k]);
            }
        }
    }

    fn steps(mut self, names: &[String]) -> Vec<StepResult> {
        if self.gaps.is_empty() {
            self.gaps = vec![Vec::new(); names.len()];
        }
        names
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let count = self.counts[k];
                let first = self.counts[0];
                let previous = if k == 0 { first } else { self.counts[k - 1] };
                StepResult {
                    event: name.clone(),
                    count,
                    conversion_rate: ratio(count, first),
                    step_conversion_rate: ratio(count, previous),
                    median_seconds_from_previous: if k == 0 {
                        None
                    } else {
                        median_seconds(&mut self.gaps[k])
                    },
                }
            })
            .collect()
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Median of microsecond gaps, in seconds (mean of the middle two for an even count).
fn median_seconds(values: &mut [Micros]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let middle = values.len() / 2;
    let micros = if values.len() % 2 == 1 {
        values[middle] as f64
    } else {
        (values[middle - 1] as f64 + values[middle] as f64) / 2.0
    };
    Some(micros / SECOND as f64)
}

/// Computes a funnel over the rows of `table` (rows outside the query's range are ignored).
pub fn compute(query: &FunnelQuery, table: &EventTable) -> FunnelReport {
    let rules = Rules::new(query, table);
    let range = query.range;
    let in_range: Vec<Row> = table
        .rows
        .iter()
        .filter(|row| range.contains(row.time))
        .copied()
        .collect();
    let grouped = match query.unit {
        FunnelUnit::Person => Grouped::new(&in_range, table.persons.len(), |row| row.person),
        FunnelUnit::Session => Grouped::new(&in_range, table.sessions.len(), |row| row.session),
    };
    drop(in_range);
    let steps = query.steps.len();
    let mut total = Tally::default();
    let mut by_value: FxHashMap<Key, Tally> = FxHashMap::default();
    let mut scratch = Vec::new();
    for rows in grouped.groups() {
        let outcome = rules.walk(rows, &mut scratch, &table.tags);
        if outcome.depth == 0 {
            continue;
        }
        total.add(&outcome, steps);
        if query.breakdown.is_some() {
            by_value
                .entry(outcome.tag)
                .or_default()
                .add(&outcome, steps);
        }
    }
    let breakdown = query.breakdown.as_ref().map(|property| {
        let mut groups: Vec<BreakdownGroup> = by_value
            .into_iter()
            .map(|(tag, tally)| BreakdownGroup {
                value: (tag != NONE).then(|| table.tags.name(tag).to_string()),
                steps: tally.steps(&query.steps),
            })
            .collect();
        groups.sort_by(|a, b| {
            b.steps[0]
                .count
                .cmp(&a.steps[0].count)
                .then(a.value.cmp(&b.value))
        });
        Breakdown {
            property: property.clone(),
            groups,
        }
    });
    FunnelReport {
        name: query.name.clone(),
        steps: total.steps(&query.steps),
        window_seconds: query.window / SECOND,
        order: query.order,
        unit: query.unit,
        range,
        breakdown,
    }
}

#[cfg(test)]
mod tests;
