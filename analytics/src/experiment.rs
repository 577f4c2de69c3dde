//! Experiments: per variant exposures, conversions, lift against control, a 95%
//! confidence interval, a two-proportion z-test and a sample-ratio-mismatch check.
//!
//! Rules:
//!
//! - A person is exposed when they have an exposure event (`experiment_viewed` by
//!   default) whose `experiment` is the queried one; their variant is its `variant`.
//! - A person exposed to more than one variant is not counted in any variant; they are
//!   reported in `multipleVariants` (people) instead.
//! - A person converts when they do the conversion event (`purchase_completed` by
//!   default) at or after their first exposure, within the range; once per person.
//! - Against control: `lift` = (rate - control rate) / control rate; the confidence
//!   interval is for the difference of rates (unpooled standard error, ±1.96σ), also
//!   given relative to the control rate; `pValue` is the two-sided two-proportion
//!   z-test with the pooled rate.
//! - Sample ratio: chi-square goodness of fit of the exposures against the expected
//!   split (equal unless `split` says otherwise), `k - 1` degrees of freedom;
//!   `mismatch` when its p-value is below 0.001.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::error::{AnalyticsError, ParamError};
use crate::params::{Params, TimeRange};
use crate::stats::{Z_975, chi_square_sf, normal_two_sided_p};
use crate::store::{DataDir, LoadSpec, TagSource};
use crate::table::{EventTable, Grouped, Key, NONE};

/// P-value below which a sample ratio counts as a mismatch.
pub const SRM_THRESHOLD: f64 = 0.001;

/// An experiment query.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentQuery {
    /// The experiment key (`experiment` property of exposures).
    pub name: String,
    /// The exposure event.
    pub exposure_event: String,
    /// The conversion event.
    pub conversion_event: String,
    /// The control variant.
    pub control: String,
    /// Expected share of each variant (equal when empty).
    pub split: Vec<(String, f64)>,
    /// Events considered.
    pub range: TimeRange,
}

/// Parameters an experiment query accepts.
pub const EXPERIMENT_PARAMS: &[&str] = &[
    "name",
    "exposure_event",
    "conversion_event",
    "control",
    "split",
    "from",
    "to",
];

impl ExperimentQuery {
    /// Parses `name` (required), `exposure_event`, `conversion_event`, `control`,
    /// `split` (`control:50,treatment:50`), `from`, `to`.
    pub fn from_params(params: &HashMap<String, String>) -> Result<ExperimentQuery, ParamError> {
        let params = Params::new(params, EXPERIMENT_PARAMS)?;
        let name = params
            .text("name")
            .ok_or_else(|| ParamError::new("name", "the experiment's key is required"))?;
        let split = params
            .list("split")
            .unwrap_or_default()
            .iter()
            .map(|item| {
                let bad = || {
                    ParamError::new(
                        "split",
                        format!("`{item}` is not `variant:weight` with a positive weight"),
                    )
                };
                let (variant, weight) = item.split_once(':').ok_or_else(bad)?;
                match weight.trim().parse::<f64>() {
                    Ok(weight) if weight > 0.0 && weight.is_finite() => {
                        Ok((variant.trim().to_string(), weight))
                    }
                    _ => Err(bad()),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Shares are weight / total: the total must be a number too (1e308 twice is not).
        if !split
            .iter()
            .map(|(_, weight)| weight)
            .sum::<f64>()
            .is_finite()
        {
            return Err(ParamError::new(
                "split",
                "the weights add up to more than a 64-bit float holds",
            ));
        }
        Ok(ExperimentQuery {
            name: name.to_string(),
            exposure_event: params
                .text("exposure_event")
                .unwrap_or("experiment_viewed")
                .to_string(),
            conversion_event: params
                .text("conversion_event")
                .unwrap_or("purchase_completed")
                .to_string(),
            control: params.text("control").unwrap_or("control").to_string(),
            split,
            range: params.range()?,
        })
    }

    /// An experiment with the default events and control over `range`.
    pub fn new(name: &str, range: TimeRange) -> ExperimentQuery {
        ExperimentQuery {
            name: name.to_string(),
            exposure_event: "experiment_viewed".into(),
            conversion_event: "purchase_completed".into(),
            control: "control".into(),
            split: Vec::new(),
            range,
        }
    }
}

/// One variant's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantResult {
    /// The variant.
    pub variant: String,
    /// People exposed (to this variant only).
    pub exposures: u64,
    /// Of those, people who converted after exposure.
    pub conversions: u64,
    /// conversions / exposures.
    pub conversion_rate: f64,
    /// Relative lift against control (none for control or a control rate of 0).
    pub lift: Option<f64>,
    /// Rate minus control rate.
    pub difference: Option<f64>,
    /// 95% confidence interval of `difference`: low end.
    pub ci_low: Option<f64>,
    /// 95% confidence interval of `difference`: high end.
    pub ci_high: Option<f64>,
    /// The interval relative to the control rate (a lift interval): low end.
    pub lift_ci_low: Option<f64>,
    /// The interval relative to the control rate: high end.
    pub lift_ci_high: Option<f64>,
    /// Two-sided p-value of the two-proportion z-test against control.
    pub p_value: Option<f64>,
    /// `pValue` < 0.05.
    pub significant: bool,
}

/// The sample-ratio-mismatch check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SampleRatio {
    /// Expected share per variant.
    pub expected: BTreeMap<String, f64>,
    /// Observed share per variant.
    pub observed: BTreeMap<String, f64>,
    /// The chi-square statistic.
    pub chi_square: f64,
    /// Degrees of freedom (variants - 1).
    pub degrees_of_freedom: u64,
    /// Its p-value.
    pub p_value: f64,
    /// `pValue` < 0.001: the split is not what was configured; distrust the results.
    pub mismatch: bool,
}

/// The answer of `GET /api/analytics/experiment`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentReport {
    /// The experiment key.
    pub experiment: String,
    /// The exposure event.
    pub exposure_event: String,
    /// The conversion event.
    pub conversion_event: String,
    /// The control variant.
    pub control: String,
    /// The range.
    pub range: TimeRange,
    /// Control first, then the others by name.
    pub variants: Vec<VariantResult>,
    /// People exposed to more than one variant (counted in none).
    pub multiple_variants: u64,
    /// The sample-ratio check (none with fewer than two variants).
    pub sample_ratio: Option<SampleRatio>,
}

/// Reads exposures and conversions and computes the experiment.
pub fn run(data: &DataDir, query: &ExperimentQuery) -> Result<ExperimentReport, AnalyticsError> {
    let table = data.load(&LoadSpec {
        events: Some(vec![
            query.exposure_event.clone(),
            query.conversion_event.clone(),
        ]),
        range: query.range,
        tag: TagSource::Variant {
            experiment: query.name.clone(),
            exposure_event: query.exposure_event.clone(),
        },
        session: false,
        value: false,
    })?;
    Ok(compute(query, &table))
}

/// Computes the experiment from rows whose exposure rows carry the variant as their tag.
pub fn compute(query: &ExperimentQuery, table: &EventTable) -> ExperimentReport {
    let exposure = table.events.get(&query.exposure_event).unwrap_or(NONE);
    let conversion = table.events.get(&query.conversion_event).unwrap_or(NONE);
    let range = query.range;
    let grouped = Grouped::new(&table.rows, table.persons.len(), |row| {
        if range.contains(row.time) {
            row.person
        } else {
            NONE
        }
    });
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut multiple_variants = 0;
    for rows in grouped.groups() {
        let mut exposures = rows
            .iter()
            .filter(|row| row.event == exposure && row.tag != NONE);
        let Some(first) = exposures.next() else {
            continue;
        };
        let variant: Key = first.tag;
        if exposures.any(|row| row.tag != variant) {
            multiple_variants += 1;
            continue;
        }
        let converted = rows
            .iter()
            .any(|row| row.event == conversion && row.time >= first.time);
        let entry = counts
            .entry(table.tags.name(variant).to_string())
            .or_default();
        entry.0 += 1;
        entry.1 += converted as u64;
    }
    let control = counts.get(&query.control).copied();
    let mut variants: Vec<VariantResult> = counts
        .iter()
        .map(|(variant, &(exposures, conversions))| {
            let against = if *variant == query.control {
                None
            } else {
                control
            };
            versus(variant, exposures, conversions, against)
        })
        .collect();
    variants.sort_by_key(|variant| variant.variant != query.control);
    ExperimentReport {
        experiment: query.name.clone(),
        exposure_event: query.exposure_event.clone(),
        conversion_event: query.conversion_event.clone(),
        control: query.control.clone(),
        range,
        sample_ratio: sample_ratio(&counts, &query.split),
        variants,
        multiple_variants,
    }
}

fn rate(conversions: u64, exposures: u64) -> f64 {
    if exposures == 0 {
        0.0
    } else {
        conversions as f64 / exposures as f64
    }
}

fn versus(
    variant: &str,
    exposures: u64,
    conversions: u64,
    control: Option<(u64, u64)>,
) -> VariantResult {
    let p = rate(conversions, exposures);
    let mut result = VariantResult {
        variant: variant.to_string(),
        exposures,
        conversions,
        conversion_rate: p,
        lift: None,
        difference: None,
        ci_low: None,
        ci_high: None,
        lift_ci_low: None,
        lift_ci_high: None,
        p_value: None,
        significant: false,
    };
    let Some((control_n, control_c)) = control.filter(|(n, _)| *n > 0) else {
        return result;
    };
    if exposures == 0 {
        return result;
    }
    let pc = rate(control_c, control_n);
    let (n, nc) = (exposures as f64, control_n as f64);
    let difference = p - pc;
    let spread = Z_975 * (p * (1.0 - p) / n + pc * (1.0 - pc) / nc).sqrt();
    result.difference = Some(difference);
    result.ci_low = Some(difference - spread);
    result.ci_high = Some(difference + spread);
    if pc > 0.0 {
        result.lift = Some(difference / pc);
        result.lift_ci_low = Some((difference - spread) / pc);
        result.lift_ci_high = Some((difference + spread) / pc);
    }
    let pooled = (conversions + control_c) as f64 / (n + nc);
    let standard_error = (pooled * (1.0 - pooled) * (1.0 / n + 1.0 / nc)).sqrt();
    if standard_error > 0.0 {
        let p_value = normal_two_sided_p(difference / standard_error);
        result.p_value = Some(p_value);
        result.significant = p_value < 0.05;
    }
    result
}

fn sample_ratio(
    counts: &BTreeMap<String, (u64, u64)>,
    split: &[(String, f64)],
) -> Option<SampleRatio> {
    let mut weights: BTreeMap<String, f64> = counts
        .keys()
        .map(|variant| (variant.clone(), 1.0))
        .collect();
    if !split.is_empty() {
        weights = counts
            .keys()
            .map(|variant| (variant.clone(), 0.0))
            .collect();
        for (variant, weight) in split {
            weights.insert(variant.clone(), *weight);
        }
    }
    if weights.len() < 2 {
        return None;
    }
    let total_weight: f64 = weights.values().sum();
    let total: u64 = counts.values().map(|(exposures, _)| exposures).sum();
    let mut chi_square = 0.0;
    let mut expected = BTreeMap::new();
    let mut observed = BTreeMap::new();
    for (variant, weight) in &weights {
        let share = weight / total_weight;
        let seen = counts.get(variant).map_or(0, |(exposures, _)| *exposures) as f64;
        let wanted = share * total as f64;
        if wanted > 0.0 {
            chi_square += (seen - wanted).powi(2) / wanted;
        } else if seen > 0.0 {
            chi_square = f64::INFINITY;
        }
        expected.insert(variant.clone(), share);
        observed.insert(
            variant.clone(),
            if total > 0 { seen / total as f64 } else { 0.0 },
        );
    }
    let degrees_of_freedom = weights.len() as u64 - 1;
    let p_value = if chi_square.is_finite() {
        chi_square_sf(chi_square, degrees_of_freedom as f64)
    } else {
        0.0
    };
    Some(SampleRatio {
        expected,
        observed,
        chi_square,
        degrees_of_freedom,
        p_value,
        mismatch: p_value < SRM_THRESHOLD,
    })
}

#[cfg(test)]
mod tests;
