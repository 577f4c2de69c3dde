//! Hand-computed experiment cases: counting rules, the z-test and the SRM check.

use super::*;
use crate::time::{DAY, Micros, parse_time};

fn at(hours: i64) -> Micros {
    parse_time("2026-05-01T00:00:00Z").unwrap() + hours * 3_600_000_000
}

fn range() -> TimeRange {
    TimeRange {
        from: at(0),
        to: at(0) + 30 * DAY,
    }
}

fn exposed(table: &mut EventTable, person: &str, variant: &str, hour: i64) {
    table.push(person, "experiment_viewed", at(hour), Some(variant), None);
}

fn bought(table: &mut EventTable, person: &str, hour: i64) {
    table.push(person, "purchase_completed", at(hour), None, Some(10.0));
}

#[test]
fn counts_people_once_and_reports_two_variant_people() {
    let mut table = EventTable::default();
    for (i, variant) in [
        "control",
        "control",
        "control",
        "control",
        "treatment",
        "treatment",
        "treatment",
        "treatment",
    ]
    .iter()
    .enumerate()
    {
        exposed(&mut table, &format!("p{i}"), variant, 1);
    }
    exposed(&mut table, "p0", "control", 5); // exposed again: still one person
    bought(&mut table, "p0", 2);
    bought(&mut table, "p0", 3); // converting twice: once
    bought(&mut table, "p1", 0); // bought before exposure: not a conversion
    bought(&mut table, "p4", 2);
    bought(&mut table, "p5", 2);
    // Exposed to both variants: reported, in neither.
    exposed(&mut table, "both", "control", 1);
    exposed(&mut table, "both", "treatment", 2);
    bought(&mut table, "both", 3);
    bought(&mut table, "never-exposed", 3);
    let report = compute(&ExperimentQuery::new("checkout_button", range()), &table);
    assert_eq!(report.multiple_variants, 1);
    let control = &report.variants[0];
    let treatment = &report.variants[1];
    assert_eq!(
        (
            control.variant.as_str(),
            control.exposures,
            control.conversions
        ),
        ("control", 4, 1)
    );
    assert_eq!(
        (
            treatment.variant.as_str(),
            treatment.exposures,
            treatment.conversions
        ),
        ("treatment", 4, 2)
    );
    assert_eq!(control.conversion_rate, 0.25);
    assert_eq!(control.p_value, None);
    assert_eq!(treatment.lift, Some(1.0));
    assert_eq!(treatment.difference, Some(0.25));
    // Pooled rate 3/8: z = 0.25 / sqrt(3/8 * 5/8 * (1/4 + 1/4)) = 0.7302967433402214,
    // two-sided p = erfc(z / sqrt 2) = 0.46520881845214174.
    let p = treatment.p_value.unwrap();
    assert!((p - 0.465_208_818_452_141_74).abs() < 1e-12, "{p}");
    assert!(!treatment.significant);
    // Unpooled: 0.25 ± 1.959963984540054 * sqrt(0.25*0.75/4 + 0.5*0.5/4).
    assert!((treatment.ci_low.unwrap() - -0.398_197_160_217_028_45).abs() < 1e-12);
    assert!((treatment.ci_high.unwrap() - 0.898_197_160_217_028_4).abs() < 1e-12);
    let srm = report.sample_ratio.unwrap();
    assert_eq!(
        (srm.chi_square, srm.p_value, srm.mismatch),
        (0.0, 1.0, false)
    );
}

#[test]
fn sample_ratio_mismatch_is_flagged() {
    let mut table = EventTable::default();
    for i in 0..600 {
        exposed(&mut table, &format!("c{i}"), "control", 1);
    }
    for i in 0..400 {
        exposed(&mut table, &format!("t{i}"), "treatment", 1);
    }
    let report = compute(&ExperimentQuery::new("e", range()), &table);
    let srm = report.sample_ratio.unwrap();
    // chi² = 2 * 100² / 500 = 40; df 1: p = erfc(sqrt(20)) = 2.53962858947086e-10.
    assert_eq!(srm.chi_square, 40.0);
    assert!(
        (srm.p_value - 2.539_628_589_470_86e-10).abs() < 1e-20,
        "{}",
        srm.p_value
    );
    assert!(srm.mismatch);
    // The same counts match a configured 60/40 split.
    let mut query = ExperimentQuery::new("e", range());
    query.split = vec![("control".into(), 60.0), ("treatment".into(), 40.0)];
    let srm = compute(&query, &table).sample_ratio.unwrap();
    assert!(srm.chi_square.abs() < 1e-9 && !srm.mismatch);
}

#[test]
fn bad_parameters_are_named() {
    let parse = |pairs: &[(&str, &str)]| {
        let params: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ExperimentQuery::from_params(&params)
            .map(|_| ())
            .map_err(|error| error.param)
    };
    assert_eq!(parse(&[("name", "e")]), Ok(()));
    assert_eq!(parse(&[]), Err("name".into()));
    assert_eq!(
        parse(&[("name", "e"), ("split", "control:-1")]),
        Err("split".into())
    );
    assert_eq!(
        parse(&[("name", "e"), ("split", "control:1e308,treatment:1e308")]),
        Err("split".into())
    );
    assert_eq!(
        parse(&[("name", "e"), ("split", "control:1e300,treatment:1e300")]),
        Ok(())
    );
}
