//! Attribution: conversions and revenue credited to the campaigns that led to them.
//!
//! Rules:
//!
//! - A touch is any event carrying a channel: `utm_source` (with `utm_medium` and
//!   `utm_campaign`), or else a `referrer` (medium `referral`).
//! - A conversion is a conversion event (`purchase_completed` by default) in the range;
//!   each one is credited (a person converting twice is credited twice).
//! - Its touches are the person's touches at or before it and at most `lookback` (30
//!   days by default) earlier, in time order; consecutive touches of the same channel
//!   count as one (the first of them).
//! - Models, for touches 1..n: first touch (all to 1), last touch (all to n), linear
//!   (1/n each), position based (40% to the first, 40% to the last, 20% shared by the
//!   middle ones; 50/50 for two), time decay (weight 2^(-age/half_life), `half_life`
//!   7 days by default, normalized).
//! - A conversion without touches is `unattributed`. Revenue is the `revenue` of the
//!   conversion (0 when absent), summed whatever its currency.

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::error::{AnalyticsError, ParamError};
use crate::params::{Params, TimeRange};
use crate::store::{CHANNEL_SEPARATOR, DataDir, LoadSpec, TagSource};
use crate::table::{EventTable, Grouped, Key, NONE, same_time_runs};
use crate::time::{DAY, Micros, SECOND};

/// An attribution model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// All credit to the first touch.
    FirstTouch,
    /// All credit to the last touch.
    LastTouch,
    /// Equal credit to every touch.
    Linear,
    /// 40% first, 40% last, 20% shared by the middle.
    PositionBased,
    /// Credit halving every `half_life` before the conversion.
    TimeDecay,
}

impl Model {
    /// Every model, in report order.
    pub const ALL: [Model; 5] = [
        Model::FirstTouch,
        Model::LastTouch,
        Model::Linear,
        Model::PositionBased,
        Model::TimeDecay,
    ];

    /// The parameter value naming this model.
    pub fn name(self) -> &'static str {
        match self {
            Model::FirstTouch => "first_touch",
            Model::LastTouch => "last_touch",
            Model::Linear => "linear",
            Model::PositionBased => "position_based",
            Model::TimeDecay => "time_decay",
        }
    }

    /// Each touch's share of one conversion, for touches at `ages` before it (oldest first).
    pub fn shares(self, ages: &[Micros], half_life: Micros, shares: &mut Vec<f64>) {
        let n = ages.len();
        shares.clear();
        shares.resize(n, 0.0);
        if n == 0 {
            return;
        }
        match self {
            Model::FirstTouch => shares[0] = 1.0,
            Model::LastTouch => shares[n - 1] = 1.0,
            Model::Linear => shares.fill(1.0 / n as f64),
            Model::PositionBased => match n {
                1 => shares[0] = 1.0,
                2 => shares.fill(0.5),
                _ => {
                    shares.fill(0.2 / (n - 2) as f64);
                    shares[0] = 0.4;
                    shares[n - 1] = 0.4;
                }
            },
            Model::TimeDecay => {
                for (share, age) in shares.iter_mut().zip(ages) {
                    *share = (-(*age as f64) / half_life as f64).exp2();
                }
                let total: f64 = shares.iter().sum();
                shares.iter_mut().for_each(|share| *share /= total);
            }
        }
    }
}

/// An attribution query.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributionQuery {
    /// The conversion event.
    pub conversion_event: String,
    /// The models to report.
    pub models: Vec<Model>,
    /// How far before a conversion touches count.
    pub lookback: Micros,
    /// Half-life of the time-decay model.
    pub half_life: Micros,
    /// Conversions considered (touches from `lookback` before `from`).
    pub range: TimeRange,
}

/// Parameters an attribution query accepts.
pub const ATTRIBUTION_PARAMS: &[&str] = &[
    "conversion_event",
    "model",
    "lookback",
    "half_life",
    "from",
    "to",
];

/// Default lookback window.
pub const DEFAULT_LOOKBACK: Micros = 30 * DAY;
/// Default half-life of the time-decay model.
pub const DEFAULT_HALF_LIFE: Micros = 7 * DAY;

impl AttributionQuery {
    /// Parses `conversion_event`, `model` (one of the five names or `all`, the
    /// default), `lookback` (`30d`), `half_life` (`7d`), `from`, `to`.
    pub fn from_params(params: &HashMap<String, String>) -> Result<AttributionQuery, ParamError> {
        let params = Params::new(params, ATTRIBUTION_PARAMS)?;
        let mut names: Vec<&str> = Model::ALL.iter().map(|model| model.name()).collect();
        names.push("all");
        let models = match params.choice("model", &names)? {
            Some(index) if index < Model::ALL.len() => vec![Model::ALL[index]],
            _ => Model::ALL.to_vec(),
        };
        Ok(AttributionQuery {
            conversion_event: params
                .text("conversion_event")
                .unwrap_or("purchase_completed")
                .to_string(),
            models,
            lookback: params.duration("lookback")?.unwrap_or(DEFAULT_LOOKBACK),
            half_life: params.duration("half_life")?.unwrap_or(DEFAULT_HALF_LIFE),
            range: params.range()?,
        })
    }

    /// All models, default windows, `purchase_completed` conversions in `range`.
    pub fn new(range: TimeRange) -> AttributionQuery {
        AttributionQuery {
            conversion_event: "purchase_completed".into(),
            models: Model::ALL.to_vec(),
            lookback: DEFAULT_LOOKBACK,
            half_life: DEFAULT_HALF_LIFE,
            range,
        }
    }
}

/// Credit given to one channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelCredit {
    /// `utm_source`, or the referrer.
    pub source: String,
    /// `utm_medium` (`referral` for a referrer).
    pub medium: String,
    /// `utm_campaign`.
    pub campaign: String,
    /// Credited conversions (fractional).
    pub conversions: f64,
    /// Credited revenue.
    pub revenue: f64,
}

/// One model's credit per channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelCredit {
    /// The model.
    pub model: Model,
    /// Channels, the most credited conversions first.
    pub channels: Vec<ChannelCredit>,
}

/// Conversions nobody gets credit for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unattributed {
    /// Conversions without a touch in the lookback window.
    pub conversions: u64,
    /// Their revenue.
    pub revenue: f64,
}

/// The answer of `GET /api/analytics/attribution`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributionReport {
    /// The conversion event.
    pub conversion_event: String,
    /// Lookback in seconds.
    pub lookback_seconds: i64,
    /// Time-decay half-life in seconds.
    pub half_life_seconds: i64,
    /// The range of conversions.
    pub range: TimeRange,
    /// Conversions in the range.
    pub conversions: u64,
    /// Their revenue.
    pub revenue: f64,
    /// Conversions without touches.
    pub unattributed: Unattributed,
    /// Credit per model.
    pub models: Vec<ModelCredit>,
}

/// Reads touches and conversions and computes the attribution.
pub fn run(data: &DataDir, query: &AttributionQuery) -> Result<AttributionReport, AnalyticsError> {
    let table = data.load(&LoadSpec {
        events: None,
        range: TimeRange {
            from: query.range.from - query.lookback,
            to: query.range.to,
        },
        tag: TagSource::Channel,
        session: false,
        value: true,
    })?;
    Ok(compute(query, &table))
}

/// Computes attribution from rows whose tags are channels (`source␟medium␟campaign`).
pub fn compute(query: &AttributionQuery, table: &EventTable) -> AttributionReport {
    let conversion = table.events.get(&query.conversion_event).unwrap_or(NONE);
    let range = query.range;
    let earliest = range.from - query.lookback;
    let grouped = Grouped::new(&table.rows, table.persons.len(), |row| {
        let relevant = row.tag != NONE || row.event == conversion;
        if relevant && row.time >= earliest && row.time < range.to {
            row.person
        } else {
            NONE
        }
    });
    let mut credit: Vec<FxHashMap<Key, (f64, f64)>> =
        vec![FxHashMap::default(); query.models.len()];
    let mut conversions = 0u64;
    let mut revenue = 0.0;
    let mut unattributed = Unattributed {
        conversions: 0,
        revenue: 0.0,
    };
    let mut touches: Vec<(Micros, Key)> = Vec::new();
    let mut path: Vec<(Micros, Key)> = Vec::new();
    let mut ages: Vec<Micros> = Vec::new();
    let mut shares: Vec<f64> = Vec::new();
    for rows in grouped.groups() {
        touches.clear();
        for run in same_time_runs(rows) {
            touches.extend(
                run.iter()
                    .filter(|row| row.tag != NONE)
                    .map(|row| (row.time, row.tag)),
            );
            for row in run
                .iter()
                .filter(|row| row.event == conversion && range.contains(row.time))
            {
                let value = if row.value.is_nan() { 0.0 } else { row.value };
                conversions += 1;
                revenue += value;
                let start = touches.partition_point(|(at, _)| *at < row.time - query.lookback);
                path.clear();
                for &(at, channel) in &touches[start..] {
                    if path.last().is_none_or(|&(_, last)| last != channel) {
                        path.push((at, channel));
                    }
                }
                if path.is_empty() {
                    unattributed.conversions += 1;
                    unattributed.revenue += value;
                    continue;
                }
                ages.clear();
                ages.extend(path.iter().map(|(at, _)| row.time - at));
                for (model, credit) in query.models.iter().zip(credit.iter_mut()) {
                    model.shares(&ages, query.half_life, &mut shares);
                    for (&(_, channel), &share) in path.iter().zip(&shares) {
                        if share == 0.0 {
                            continue;
                        }
                        let entry = credit.entry(channel).or_default();
                        entry.0 += share;
                        entry.1 += share * value;
                    }
                }
            }
        }
    }
    let models = query
        .models
        .iter()
        .zip(credit)
        .map(|(model, credit)| {
            let mut channels: Vec<ChannelCredit> = credit
                .into_iter()
                .map(|(channel, (conversions, revenue))| {
                    let mut parts = table.tags.name(channel).split(CHANNEL_SEPARATOR);
                    let mut part = || parts.next().unwrap_or("").to_string();
                    ChannelCredit {
                        source: part(),
                        medium: part(),
                        campaign: part(),
                        conversions,
                        revenue,
                    }
                })
                .collect();
            channels.sort_by(|a, b| {
                b.conversions.total_cmp(&a.conversions).then_with(|| {
                    (&a.source, &a.medium, &a.campaign).cmp(&(&b.source, &b.medium, &b.campaign))
                })
            });
            ModelCredit {
                model: *model,
                channels,
            }
        })
        .collect();
    AttributionReport {
        conversion_event: query.conversion_event.clone(),
        lookback_seconds: query.lookback / SECOND,
        half_life_seconds: query.half_life / SECOND,
        range,
        conversions,
        revenue,
        unattributed,
        models,
    }
}

#[cfg(test)]
mod tests;
