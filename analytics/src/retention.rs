//! Retention: cohorts by the period people started in, and how many came back each period after.
//!
//! Rules:
//!
//! - A person's cohort is the period (UTC day, or ISO week starting Monday) of their
//!   first start event in the range (any event unless `start_event` is given).
//! - `retained[k]` counts the people of a cohort who did a return event (any event
//!   unless `return_event` is given) in the period k periods after their cohort's, at
//!   or after their first start event. `retained[0]` therefore equals `size` when both
//!   events are "any".
//! - The triangle runs to the period holding the end of the range (which may be partial).
//! - `summary` gives the overall rate at day 1, 7 and 30 (week 1, 4 and 12): people
//!   retained at k over the size of the cohorts whose triangle reaches k.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::error::{AnalyticsError, ParamError};
use crate::params::{Params, TimeRange};
use crate::store::{DataDir, LoadSpec, TagSource};
use crate::table::{EventTable, Grouped, Key, NONE};
use crate::time::{self, Micros};

/// The length of a retention period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// A UTC day.
    Day,
    /// An ISO week (Monday to Sunday, UTC).
    Week,
}

impl Period {
    fn index(self, at: Micros) -> i64 {
        match self {
            Period::Day => time::day_index(at),
            Period::Week => time::week_index(at),
        }
    }

    fn start_date(self, index: i64) -> String {
        match self {
            Period::Day => time::format_day(index),
            Period::Week => time::format_day(time::week_start_day(index)),
        }
    }

    fn summary_offsets(self) -> [usize; 3] {
        match self {
            Period::Day => [1, 7, 30],
            Period::Week => [1, 4, 12],
        }
    }
}

/// A retention query.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionQuery {
    /// Day or week.
    pub period: Period,
    /// The event that puts a person in a cohort (any when `None`).
    pub start_event: Option<String>,
    /// The event that counts as coming back (any when `None`).
    pub return_event: Option<String>,
    /// Events considered.
    pub range: TimeRange,
}

/// Parameters a retention query accepts.
pub const RETENTION_PARAMS: &[&str] = &["period", "start_event", "return_event", "from", "to"];

impl RetentionQuery {
    /// Parses `period` (`day`|`week`), `start_event`, `return_event`, `from`, `to`.
    pub fn from_params(params: &HashMap<String, String>) -> Result<RetentionQuery, ParamError> {
        let params = Params::new(params, RETENTION_PARAMS)?;
        let period = match params.choice("period", &["day", "week"])? {
            Some(1) => Period::Week,
            _ => Period::Day,
        };
        Ok(RetentionQuery {
            period,
            start_event: params.text("start_event").map(String::from),
            return_event: params.text("return_event").map(String::from),
            range: params.range()?,
        })
    }

    /// Daily retention on any event over `range`.
    pub fn new(period: Period, range: TimeRange) -> RetentionQuery {
        RetentionQuery {
            period,
            start_event: None,
            return_event: None,
            range,
        }
    }
}

/// One cohort: its start, its size and the triangle row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    /// First day of the cohort's period (`YYYY-MM-DD`).
    pub start: String,
    /// People in the cohort.
    pub size: u64,
    /// `retained[k]`: people of the cohort active k periods later.
    pub retained: Vec<u64>,
}

/// Overall retention k periods after the start.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPoint {
    /// k.
    pub period: usize,
    /// Retained people / size of the cohorts whose triangle reaches k (`null` when none does).
    pub rate: Option<f64>,
    /// Retained people at k.
    pub retained: u64,
    /// People in the cohorts that reach k.
    pub eligible: u64,
}

/// The answer of `GET /api/analytics/retention`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionReport {
    /// Day or week.
    pub period: Period,
    /// The start event (any when absent).
    pub start_event: Option<String>,
    /// The return event (any when absent).
    pub return_event: Option<String>,
    /// The range.
    pub range: TimeRange,
    /// The cohorts, oldest first.
    pub cohorts: Vec<Cohort>,
    /// Day 1 / 7 / 30 (week 1 / 4 / 12).
    pub summary: Vec<RetentionPoint>,
}

/// Reads the events retention needs and computes it.
pub fn run(data: &DataDir, query: &RetentionQuery) -> Result<RetentionReport, AnalyticsError> {
    let events = match (&query.start_event, &query.return_event) {
        (Some(start), Some(back)) => Some(vec![start.clone(), back.clone()]),
        _ => None,
    };
    let table = data.load(&LoadSpec {
        events,
        range: query.range,
        tag: TagSource::None,
        session: false,
        value: false,
    })?;
    Ok(compute(query, &table))
}

/// Computes retention over the rows of `table` in the query's range.
pub fn compute(query: &RetentionQuery, table: &EventTable) -> RetentionReport {
    let key_of = |name: &Option<String>| match name {
        None => Some(NONE),
        Some(name) => table.events.get(name),
    };
    let (start_key, return_key) = (key_of(&query.start_event), key_of(&query.return_event));
    let matches = |wanted: Option<Key>, event: Key| match wanted {
        Some(NONE) => true,
        Some(key) => key == event,
        None => false,
    };
    let range = query.range;
    let last_period = query.period.index(range.to - 1);
    let grouped = Grouped::new(&table.rows, table.persons.len(), |row| {
        if range.contains(row.time) {
            row.person
        } else {
            NONE
        }
    });
    let mut cohorts: BTreeMap<i64, (u64, Vec<u64>)> = BTreeMap::new();
    for rows in grouped.groups() {
        let Some(first) = rows.iter().find(|row| matches(start_key, row.event)) else {
            continue;
        };
        let cohort = query.period.index(first.time);
        let width = (last_period - cohort + 1) as usize;
        let entry = cohorts.entry(cohort).or_insert_with(|| (0, vec![0; width]));
        entry.0 += 1;
        let mut last_counted = -1i64;
        for row in rows.iter().filter(|row| row.time >= first.time) {
            if !matches(return_key, row.event) {
                continue;
            }
            let k = query.period.index(row.time) - cohort;
            if k > last_counted {
                entry.1[k as usize] += 1;
                last_counted = k;
            }
        }
    }
    let summary = query
        .period
        .summary_offsets()
        .iter()
        .map(|&k| {
            let (mut retained, mut eligible) = (0, 0);
            for (size, row) in cohorts.values() {
                if let Some(count) = row.get(k) {
                    retained += count;
                    eligible += size;
                }
            }
            RetentionPoint {
                period: k,
                rate: (eligible > 0).then(|| retained as f64 / eligible as f64),
                retained,
                eligible,
            }
        })
        .collect();
    RetentionReport {
        period: query.period,
        start_event: query.start_event.clone(),
        return_event: query.return_event.clone(),
        range,
        cohorts: cohorts
            .into_iter()
            .map(|(index, (size, retained))| Cohort {
                start: query.period.start_date(index),
                size,
                retained,
            })
            .collect(),
        summary,
    }
}

#[cfg(test)]
mod tests;
