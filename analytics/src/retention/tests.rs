//! Hand-computed retention triangles.

use super::*;
use crate::time::{DAY, parse_time};

fn day(n: i64, hour: i64) -> Micros {
    parse_time("2026-05-01T00:00:00Z").unwrap() + (n - 1) * DAY + hour * 3_600_000_000
}

fn range(days: i64) -> TimeRange {
    TimeRange {
        from: day(1, 0),
        to: day(1 + days, 0),
    }
}

#[test]
fn daily_triangle_on_any_event() {
    let mut table = EventTable::default();
    for (person, d) in [
        ("p1", 1),
        ("p1", 2),
        ("p1", 4),
        ("p1", 4),
        ("p2", 1),
        ("p2", 3),
        ("p3", 2),
        ("p3", 3),
        ("p4", 4),
    ] {
        table.push(person, "page_viewed", day(d, 10), None, None);
    }
    table.push("p5", "page_viewed", day(6, 10), None, None); // after the range
    let report = compute(&RetentionQuery::new(Period::Day, range(4)), &table);
    let cohorts: Vec<(&str, u64, Vec<u64>)> = report
        .cohorts
        .iter()
        .map(|c| (c.start.as_str(), c.size, c.retained.clone()))
        .collect();
    assert_eq!(
        cohorts,
        vec![
            ("2026-05-01", 2, vec![2, 1, 1, 1]),
            ("2026-05-02", 1, vec![1, 1, 0]),
            ("2026-05-04", 1, vec![1]),
        ]
    );
    // Day 1: (1 + 1) retained of the 3 people in cohorts that reach day 1.
    assert_eq!(report.summary[0].period, 1);
    assert_eq!(report.summary[0].rate, Some(2.0 / 3.0));
    assert_eq!(report.summary[1].rate, None);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["cohorts"][0]["retained"],
        serde_json::json!([2, 1, 1, 1])
    );
}

#[test]
fn chosen_start_and_return_events() {
    let mut table = EventTable::default();
    // p5: a purchase before signing up does not count; the one after does.
    table.push("p5", "purchase", day(1, 9), None, None);
    table.push("p5", "signed_up", day(1, 10), None, None);
    table.push("p5", "purchase", day(1, 11), None, None);
    table.push("p5", "purchase", day(2, 11), None, None);
    // p6: only a purchase before signing up.
    table.push("p6", "purchase", day(1, 9), None, None);
    table.push("p6", "signed_up", day(1, 10), None, None);
    // p7: never signed up: in no cohort.
    table.push("p7", "purchase", day(1, 9), None, None);
    let mut query = RetentionQuery::new(Period::Day, range(2));
    query.start_event = Some("signed_up".into());
    query.return_event = Some("purchase".into());
    let report = compute(&query, &table);
    assert_eq!(report.cohorts.len(), 1);
    assert_eq!(report.cohorts[0].size, 2);
    assert_eq!(report.cohorts[0].retained, vec![1, 1]);
}

#[test]
fn weekly_cohorts_start_on_monday() {
    let mut table = EventTable::default();
    // 2026-05-01 is a Friday: its week starts Monday 2026-04-27.
    table.push("p", "x", day(1, 10), None, None);
    table.push("p", "x", day(4, 10), None, None); // Monday 2026-05-04: week 1
    table.push("q", "x", day(5, 10), None, None);
    let report = compute(&RetentionQuery::new(Period::Week, range(14)), &table);
    let cohorts: Vec<(&str, u64, Vec<u64>)> = report
        .cohorts
        .iter()
        .map(|c| (c.start.as_str(), c.size, c.retained.clone()))
        .collect();
    assert_eq!(
        cohorts,
        vec![
            ("2026-04-27", 1, vec![1, 1, 0]),
            ("2026-05-04", 1, vec![1, 0])
        ]
    );
}

#[test]
fn bad_parameters_are_named() {
    let params: HashMap<String, String> = [("period".to_string(), "month".to_string())].into();
    assert_eq!(
        RetentionQuery::from_params(&params).unwrap_err().param,
        "period"
    );
}
