//! Every kind of result checked against DuckDB SQL written independently
//! (`tests/duckdb/agreement.py`) over the same Parquet files: a synthetic shop's
//! traffic with duplicates, late events, identity merges and several campaigns is
//! written into a real relay log, the real pipeline turns it into raw partitions
//! and identity links, and both engines answer the same questions. Counts must
//! agree exactly, rates and amounts to 1e-9.
//!
//! Needs DuckDB in `.venv` at the repository root (`.ci/setup-pipeline.sh`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;
use spoor_analytics::attribution::Model;
use spoor_analytics::store::CHANNEL_SEPARATOR;
use spoor_analytics::synth::{self, SynthConfig};
use spoor_analytics::time::{DAY, HOUR, format_day, parse_time};
use spoor_analytics::{
    AttributionQuery, DataDir, ExperimentQuery, FunnelQuery, Period, RetentionQuery, TimeRange,
};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn python() -> PathBuf {
    let python = repo_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "DuckDB is needed for this test: run .ci/setup-pipeline.sh (creates .venv with duckdb at {})",
        python.display()
    );
    python
}

/// Mismatches, collected so one run shows all of them.
#[derive(Default)]
struct Check(Vec<String>);

impl Check {
    fn count(&mut self, what: &str, ours: u64, duckdb: &Value) {
        if Some(ours) != duckdb.as_u64() {
            self.0
                .push(format!("{what}: spoor {ours}, duckdb {duckdb}"));
        }
    }

    fn close(&mut self, what: &str, ours: Option<f64>, duckdb: Option<f64>) {
        let ok = match (ours, duckdb) {
            (None, None) => true,
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            _ => false,
        };
        if !ok {
            self.0
                .push(format!("{what}: spoor {ours:?}, duckdb {duckdb:?}"));
        }
    }
}

#[test]
fn every_result_agrees_with_duckdb() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let config = SynthConfig::small(2026, 700, 35);
    let records = synth::write_log(dir.path(), config.clone()).unwrap();
    eprintln!(
        "{records} records written to the log in {:?}",
        started.elapsed()
    );
    let mut runner =
        spoor_pipeline::Runner::open(dir.path(), spoor_pipeline::PipelineConfig::default())
            .unwrap();
    runner.run_to_end(|_| {}).unwrap();
    let metrics = runner.metrics().clone();
    drop(runner);
    eprintln!("pipeline done at {:?}: {metrics:?}", started.elapsed());
    if std::env::var_os("SPOOR_KEEP_AGREEMENT_DATA").is_some() {
        eprintln!("data kept in {}", dir.keep().display());
        return;
    }
    // The data set has what the rules are about.
    assert!(metrics.duplicates > 100, "duplicates: {metrics:?}");
    assert!(metrics.late_events > 10, "late events: {metrics:?}");
    assert!(
        metrics.identities_linked > 100,
        "identity merges: {metrics:?}"
    );
    assert_eq!(metrics.records, records);

    let data = DataDir::new(dir.path());
    // Boundaries inside a day and an hour, so partition pruning and row filters both matter.
    let range = TimeRange {
        from: config.start + 2 * DAY + 7 * HOUR + 30 * 60_000_000,
        to: config.start + 33 * DAY + 13 * HOUR,
    };
    let params = |pairs: &[(&str, String)]| -> HashMap<String, String> {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        map.insert(
            "from".into(),
            spoor_analytics::time::format_time(range.from),
        );
        map.insert("to".into(), spoor_analytics::time::format_time(range.to));
        map
    };

    let funnel_query = FunnelQuery::from_params(&params(&[
        ("name", "checkout".into()),
        ("breakdown", "surface".into()),
    ]))
    .unwrap();
    let funnel = spoor_analytics::funnel(&data, &funnel_query).unwrap();
    let retention_query = RetentionQuery::from_params(&params(&[])).unwrap();
    assert_eq!(retention_query.period, Period::Day);
    eprintln!("funnel at {:?}", started.elapsed());
    let retention = spoor_analytics::retention(&data, &retention_query).unwrap();
    eprintln!("retention at {:?}", started.elapsed());
    let attribution_query = AttributionQuery::from_params(&params(&[
        ("lookback", "7d".into()),
        ("half_life", "2d".into()),
    ]))
    .unwrap();
    let attribution = spoor_analytics::attribution(&data, &attribution_query).unwrap();
    eprintln!("attribution at {:?}", started.elapsed());
    let experiment_query =
        ExperimentQuery::from_params(&params(&[("name", synth::EXPERIMENT.into())])).unwrap();
    let experiment = spoor_analytics::experiment(&data, &experiment_query).unwrap();
    eprintln!("spoor answered at {:?}", started.elapsed());

    let request = serde_json::json!({
        "from_us": range.from,
        "to_us": range.to,
        "steps": funnel_query.steps,
        "window_us": funnel_query.window,
        "breakdown": "surface",
        "lookback_us": attribution_query.lookback,
        "half_life_us": attribution_query.half_life,
        "experiment": synth::EXPERIMENT,
    });
    let output = Command::new(&python)
        .arg(repo_root().join("analytics/tests/duckdb/agreement.py"))
        .arg(dir.path())
        .arg(request.to_string())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "duckdb script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let duck: Value = serde_json::from_slice(&output.stdout).unwrap();
    eprintln!("duckdb answered at {:?}", started.elapsed());
    assert_eq!(
        duck["events"].as_u64(),
        Some(metrics.events),
        "both engines read every kept event"
    );

    let mut check = Check::default();

    // Funnel: counts, rates, medians, breakdown.
    let first = funnel.steps[0].count;
    assert!(
        first > 300 && funnel.steps[3].count > 100,
        "a meaningful funnel: {:?}",
        funnel.steps
    );
    for (k, step) in funnel.steps.iter().enumerate() {
        let duck_count = &duck["funnel"]["counts"][k];
        check.count(
            &format!("funnel step {} count", k + 1),
            step.count,
            duck_count,
        );
        let duck_first = duck["funnel"]["counts"][0].as_f64().unwrap();
        check.close(
            &format!("funnel step {} rate", k + 1),
            Some(step.conversion_rate),
            duck_count.as_f64().map(|c| c / duck_first),
        );
        check.close(
            &format!("funnel step {} median", k + 1),
            step.median_seconds_from_previous,
            duck["funnel"]["medians"][k].as_f64(),
        );
    }
    let breakdown = funnel.breakdown.as_ref().unwrap();
    assert_eq!(
        breakdown.groups.len(),
        duck["funnel"]["breakdown"].as_object().unwrap().len()
    );
    for group in &breakdown.groups {
        let value = group.value.clone().unwrap_or_else(|| "(none)".into());
        for (k, step) in group.steps.iter().enumerate() {
            check.count(
                &format!("funnel {value} step {}", k + 1),
                step.count,
                &duck["funnel"]["breakdown"][&value][k],
            );
        }
    }

    // Retention: the whole triangle.
    let duck_cohorts = duck["retention"].as_array().unwrap();
    assert_eq!(retention.cohorts.len(), duck_cohorts.len(), "cohorts");
    assert!(retention.cohorts.len() >= 30);
    for (ours, theirs) in retention.cohorts.iter().zip(duck_cohorts) {
        let day = format_day(theirs["day"].as_i64().unwrap());
        assert_eq!(ours.start, day);
        check.count(&format!("cohort {day} size"), ours.size, &theirs["size"]);
        assert_eq!(
            ours.retained.len(),
            theirs["retained"].as_array().unwrap().len(),
            "cohort {day} width"
        );
        for (k, retained) in ours.retained.iter().enumerate() {
            check.count(
                &format!("cohort {day} day {k}"),
                *retained,
                &theirs["retained"][k],
            );
        }
    }

    // Attribution: totals, unattributed, every model's credit per channel.
    let duck_attr = &duck["attribution"];
    check.count(
        "conversions",
        attribution.conversions,
        &duck_attr["conversions"],
    );
    check.close(
        "revenue",
        Some(attribution.revenue),
        duck_attr["revenue"].as_f64(),
    );
    check.count(
        "unattributed",
        attribution.unattributed.conversions,
        &duck_attr["unattributed"]["conversions"],
    );
    check.close(
        "unattributed revenue",
        Some(attribution.unattributed.revenue),
        duck_attr["unattributed"]["revenue"].as_f64(),
    );
    assert_eq!(attribution.models.len(), Model::ALL.len());
    for model in &attribution.models {
        let theirs = duck_attr["models"][model.model.name()].as_object().unwrap();
        let ours: BTreeMap<String, (f64, f64)> = model
            .channels
            .iter()
            .map(|c| {
                let key = format!(
                    "{}{CHANNEL_SEPARATOR}{}{CHANNEL_SEPARATOR}{}",
                    c.source, c.medium, c.campaign
                );
                (key, (c.conversions, c.revenue))
            })
            .collect();
        assert!(ours.len() >= 6, "several campaigns and referrers: {ours:?}");
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>(),
            "{:?} channels",
            model.model
        );
        for (channel, (conversions, revenue)) in &ours {
            let label = format!(
                "{} {}",
                model.model.name(),
                channel.replace(CHANNEL_SEPARATOR, "/")
            );
            check.close(
                &format!("{label} conversions"),
                Some(*conversions),
                theirs[channel][0].as_f64(),
            );
            check.close(
                &format!("{label} revenue"),
                Some(*revenue),
                theirs[channel][1].as_f64(),
            );
        }
    }

    // Experiment: per variant, the test against control, people in two variants, SRM.
    let duck_exp = &duck["experiment"];
    check.count(
        "people in two variants",
        experiment.multiple_variants,
        &duck_exp["multiple"],
    );
    assert!(
        experiment.multiple_variants > 0,
        "identity merges put some people in both variants"
    );
    assert_eq!(experiment.variants.len(), 2);
    for variant in &experiment.variants {
        let theirs = &duck_exp["variants"][&variant.variant];
        let name = &variant.variant;
        check.count(
            &format!("{name} exposures"),
            variant.exposures,
            &theirs["exposures"],
        );
        check.count(
            &format!("{name} conversions"),
            variant.conversions,
            &theirs["conversions"],
        );
        check.close(
            &format!("{name} rate"),
            Some(variant.conversion_rate),
            theirs["rate"].as_f64(),
        );
        for (field, ours) in [
            ("difference", variant.difference),
            ("ci_low", variant.ci_low),
            ("ci_high", variant.ci_high),
            ("lift", variant.lift),
            ("p_value", variant.p_value),
        ] {
            check.close(&format!("{name} {field}"), ours, theirs[field].as_f64());
        }
    }
    let srm = experiment.sample_ratio.as_ref().unwrap();
    check.close(
        "srm chi-square",
        Some(srm.chi_square),
        duck_exp["srm"]["chi_square"].as_f64(),
    );
    check.close(
        "srm p-value",
        Some(srm.p_value),
        duck_exp["srm"]["p_value"].as_f64(),
    );

    assert!(
        check.0.is_empty(),
        "spoor and duckdb disagree:\n{}",
        check.0.join("\n")
    );
}

#[test]
fn the_time_helpers_used_above_are_consistent() {
    assert_eq!(
        parse_time("2026-05-01T01:00:00Z").unwrap() - parse_time("2026-05-01").unwrap(),
        HOUR
    );
}
