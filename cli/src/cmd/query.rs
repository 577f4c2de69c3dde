//! `spoor query funnel|retention|attribution|experiment`: the analytics API's
//! answers from the command line, printed as a table (or JSON with `--json`).
//!
//! Options are the API's query parameters (`--start-event` is `start_event`), so
//! the library parses both the same way.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;
use spoor_analytics::funnel::{FunnelUnit, StepOrder};
use spoor_analytics::time::format_time;
use spoor_analytics::{
    AttributionQuery, AttributionReport, ExperimentQuery, ExperimentReport, FunnelQuery,
    FunnelReport, RetentionQuery, RetentionReport,
};
use spoor_relay::config::RelayConfig;

use super::data_range::{DataRange, flag_error};

/// Options every query takes.
#[derive(Args)]
pub struct Common {
    #[command(flatten)]
    range: DataRange,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Configuration file whose `[[funnels]]` name funnels (default ./spoor.toml when present).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// The query to run.
#[derive(Subcommand)]
pub enum QueryCommand {
    /// Ordered steps within a conversion window.
    Funnel {
        #[command(flatten)]
        common: Common,
        /// A named funnel (`checkout`).
        #[arg(long)]
        name: Option<String>,
        /// Ad-hoc steps: event names, comma-separated.
        #[arg(long)]
        steps: Option<String>,
        /// Conversion window (`1h`, `14d`).
        #[arg(long)]
        window: Option<String>,
        /// `loose` (default) or `strict`.
        #[arg(long)]
        order: Option<String>,
        /// `person` (default) or `session`.
        #[arg(long)]
        unit: Option<String>,
        /// Exclusion steps: `event` or `event:FROM-TO`, comma-separated.
        #[arg(long)]
        exclude: Option<String>,
        /// Break down by this property of the first step.
        #[arg(long)]
        breakdown: Option<String>,
    },
    /// Cohorts by first-seen period and how many came back.
    Retention {
        #[command(flatten)]
        common: Common,
        /// `day` (default) or `week`.
        #[arg(long)]
        period: Option<String>,
        /// The event that puts a person in a cohort (default: any).
        #[arg(long)]
        start_event: Option<String>,
        /// The event that counts as coming back (default: any).
        #[arg(long)]
        return_event: Option<String>,
    },
    /// Conversions credited to campaigns.
    Attribution {
        #[command(flatten)]
        common: Common,
        /// first_touch, last_touch, linear, position_based, time_decay or all (default).
        #[arg(long)]
        model: Option<String>,
        /// Lookback window (default 30d).
        #[arg(long)]
        lookback: Option<String>,
        /// Half-life of time decay (default 7d).
        #[arg(long)]
        half_life: Option<String>,
        /// The conversion event (default purchase_completed).
        #[arg(long)]
        conversion_event: Option<String>,
    },
    /// Variants of an A/B test: rates, lift, confidence interval, p-value, SRM.
    Experiment {
        #[command(flatten)]
        common: Common,
        /// The experiment key.
        #[arg(long)]
        name: String,
        /// The control variant (default `control`).
        #[arg(long)]
        control: Option<String>,
        /// Expected split: `control:50,treatment:50` (default equal).
        #[arg(long)]
        split: Option<String>,
        /// The exposure event (default experiment_viewed).
        #[arg(long)]
        exposure_event: Option<String>,
        /// The conversion event (default purchase_completed).
        #[arg(long)]
        conversion_event: Option<String>,
    },
}

/// Runs a query and prints its answer.
pub fn run(command: QueryCommand) -> anyhow::Result<()> {
    match command {
        QueryCommand::Funnel {
            common,
            name,
            steps,
            window,
            order,
            unit,
            exclude,
            breakdown,
        } => {
            let params = common.range.params([
                ("name", name),
                ("steps", steps),
                ("window", window),
                ("order", order),
                ("unit", unit),
                ("exclude", exclude),
                ("breakdown", breakdown),
            ]);
            let catalog = RelayConfig::load(common.config.as_deref())
                .context("loading the configuration")?
                .funnel_catalog()?;
            let query = FunnelQuery::from_params_with(&params, &catalog).map_err(flag_error)?;
            let report = spoor_analytics::funnel(&common.range.data(), &query)
                .context("computing the funnel")?;
            print(&common, &report, funnel_table)
        }
        QueryCommand::Retention {
            common,
            period,
            start_event,
            return_event,
        } => {
            let params = common.range.params([
                ("period", period),
                ("start_event", start_event),
                ("return_event", return_event),
            ]);
            let query = RetentionQuery::from_params(&params).map_err(flag_error)?;
            let report = spoor_analytics::retention(&common.range.data(), &query)
                .context("computing retention")?;
            print(&common, &report, retention_table)
        }
        QueryCommand::Attribution {
            common,
            model,
            lookback,
            half_life,
            conversion_event,
        } => {
            let params = common.range.params([
                ("model", model),
                ("lookback", lookback),
                ("half_life", half_life),
                ("conversion_event", conversion_event),
            ]);
            let query = AttributionQuery::from_params(&params).map_err(flag_error)?;
            let report = spoor_analytics::attribution(&common.range.data(), &query)
                .context("computing attribution")?;
            print(&common, &report, attribution_table)
        }
        QueryCommand::Experiment {
            common,
            name,
            control,
            split,
            exposure_event,
            conversion_event,
        } => {
            let params = common.range.params([
                ("name", Some(name)),
                ("control", control),
                ("split", split),
                ("exposure_event", exposure_event),
                ("conversion_event", conversion_event),
            ]);
            let query = ExperimentQuery::from_params(&params).map_err(flag_error)?;
            let report = spoor_analytics::experiment(&common.range.data(), &query)
                .context("computing the experiment")?;
            print(&common, &report, experiment_table)
        }
    }
}

fn print<T: Serialize>(common: &Common, report: &T, table: fn(&T) -> String) -> anyhow::Result<()> {
    if common.json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", table(report));
    }
    Ok(())
}

/// Renders rows as aligned columns, numbers right-aligned.
fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            let numeric = cell
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+');
            if numeric && i > 0 {
                out.push_str(&format!("{cell:>width$}"));
            } else {
                out.push_str(&format!("{cell:<width$}"));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    out.push_str(&line(
        widths
            .iter()
            .map(|w| "─".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

fn optional(value: Option<f64>, show: impl Fn(f64) -> String) -> String {
    value.map_or("-".to_string(), show)
}

fn seconds(value: f64) -> String {
    match value {
        v if v < 120.0 => format!("{v:.0}s"),
        v if v < 7_200.0 => format!("{:.1}m", v / 60.0),
        v if v < 172_800.0 => format!("{:.1}h", v / 3_600.0),
        v => format!("{:.1}d", v / 86_400.0),
    }
}

fn steps_rows(steps: &[spoor_analytics::funnel::StepResult]) -> Vec<Vec<String>> {
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            vec![
                format!("{}. {}", i + 1, step.event),
                step.count.to_string(),
                percent(step.conversion_rate),
                percent(step.step_conversion_rate),
                optional(step.median_seconds_from_previous, seconds),
            ]
        })
        .collect()
}

const STEP_HEADER: [&str; 5] = ["step", "count", "overall", "from previous", "median time"];

fn funnel_table(report: &FunnelReport) -> String {
    let order = match report.order {
        StepOrder::Loose => "loose",
        StepOrder::Strict => "strict",
    };
    let unit = match report.unit {
        FunnelUnit::Person => "person",
        FunnelUnit::Session => "session",
    };
    let mut out = format!(
        "funnel {}({order} order, per {unit}, window {}, {} to {})\n\n",
        report
            .name
            .as_deref()
            .map(|n| format!("{n} "))
            .unwrap_or_default(),
        seconds(report.window_seconds as f64),
        format_time(report.range.from),
        format_time(report.range.to),
    );
    out.push_str(&render(&STEP_HEADER, &steps_rows(&report.steps)));
    if let Some(breakdown) = &report.breakdown {
        for group in &breakdown.groups {
            out.push_str(&format!(
                "\n{} = {}\n",
                breakdown.property,
                group.value.as_deref().unwrap_or("(none)")
            ));
            out.push_str(&render(&STEP_HEADER, &steps_rows(&group.steps)));
        }
    }
    out
}

fn retention_table(report: &RetentionReport) -> String {
    let width = report
        .cohorts
        .iter()
        .map(|c| c.retained.len())
        .max()
        .unwrap_or(0);
    let unit = match report.period {
        spoor_analytics::Period::Day => "day",
        spoor_analytics::Period::Week => "week",
    };
    let mut header = vec!["cohort".to_string(), "size".to_string()];
    header.extend((0..width).map(|k| format!("{unit} {k}")));
    let rows: Vec<Vec<String>> = report
        .cohorts
        .iter()
        .map(|cohort| {
            let mut row = vec![cohort.start.clone(), cohort.size.to_string()];
            row.extend(cohort.retained.iter().map(|n| {
                if cohort.size == 0 {
                    "0".into()
                } else {
                    format!("{n} ({})", percent(*n as f64 / cohort.size as f64))
                }
            }));
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut out = render(&header, &rows);
    out.push('\n');
    for point in &report.summary {
        out.push_str(&format!(
            "{unit} {:>2}: {} ({} of {})\n",
            point.period,
            optional(point.rate, percent),
            point.retained,
            point.eligible
        ));
    }
    out
}

fn attribution_table(report: &AttributionReport) -> String {
    let mut out = format!(
        "{} conversions, revenue {:.2}; {} unattributed ({:.2}); lookback {}\n",
        report.conversions,
        report.revenue,
        report.unattributed.conversions,
        report.unattributed.revenue,
        seconds(report.lookback_seconds as f64),
    );
    for model in &report.models {
        out.push_str(&format!("\n{}\n", model.model.name()));
        let rows: Vec<Vec<String>> = model
            .channels
            .iter()
            .map(|c| {
                vec![
                    c.source.clone(),
                    c.medium.clone(),
                    c.campaign.clone(),
                    format!("{:.2}", c.conversions),
                    format!("{:.2}", c.revenue),
                ]
            })
            .collect();
        out.push_str(&render(
            &["source", "medium", "campaign", "conversions", "revenue"],
            &rows,
        ));
    }
    out
}

fn experiment_table(report: &ExperimentReport) -> String {
    let rows: Vec<Vec<String>> = report
        .variants
        .iter()
        .map(|v| {
            vec![
                v.variant.clone(),
                v.exposures.to_string(),
                v.conversions.to_string(),
                percent(v.conversion_rate),
                optional(v.lift, |l| format!("{:+.1}%", l * 100.0)),
                match (v.ci_low, v.ci_high) {
                    (Some(low), Some(high)) => {
                        format!("[{:+.2}, {:+.2}] pp", low * 100.0, high * 100.0)
                    }
                    _ => "-".into(),
                },
                optional(v.p_value, |p| format!("{p:.4}")),
            ]
        })
        .collect();
    let mut out = format!(
        "experiment {} (control: {})\n\n",
        report.experiment, report.control
    );
    out.push_str(&render(
        &[
            "variant",
            "exposed",
            "converted",
            "rate",
            "lift",
            "95% CI of difference",
            "p-value",
        ],
        &rows,
    ));
    out.push_str(&format!(
        "\npeople in more than one variant (not counted): {}\n",
        report.multiple_variants
    ));
    if let Some(srm) = &report.sample_ratio {
        out.push_str(&format!(
            "sample ratio: chi² {:.3}, p {:.4}{}\n",
            srm.chi_square,
            srm.p_value,
            if srm.mismatch {
                " — MISMATCH: the split is off, distrust these results"
            } else {
                " (ok)"
            }
        ));
    }
    out
}
