//! Hand-computed funnel cases: every rule in the module doc has one.

use super::*;
use crate::time::parse_time;

const MINUTE: Micros = 60 * SECOND;

fn at(minutes: i64) -> Micros {
    base() + minutes * MINUTE
}

fn base() -> Micros {
    parse_time("2026-05-03T10:00:00Z").unwrap()
}

fn range() -> TimeRange {
    TimeRange {
        from: base() - DAY,
        to: base() + 30 * DAY,
    }
}

fn query(steps: &[&str], window_minutes: i64) -> FunnelQuery {
    FunnelQuery::new(steps, window_minutes * MINUTE, range())
}

fn table(events: &[(&str, &str, i64)]) -> EventTable {
    let mut table = EventTable::default();
    for (person, event, minute) in events {
        table.push(person, event, at(*minute), None, None);
    }
    table
}

fn counts(report: &FunnelReport) -> Vec<u64> {
    report.steps.iter().map(|step| step.count).collect()
}

#[test]
fn counts_rates_and_medians() {
    let table = table(&[
        ("p1", "a", 0),
        ("p1", "b", 10),
        ("p1", "c", 20),
        ("p2", "a", 0),
        ("p2", "b", 5),
        ("p3", "b", 0), // never did step 1: not in the funnel
        ("p3", "c", 1),
    ]);
    let report = compute(&query(&["a", "b", "c"], 60), &table);
    assert_eq!(counts(&report), vec![2, 2, 1]);
    let rates: Vec<f64> = report.steps.iter().map(|s| s.conversion_rate).collect();
    assert_eq!(rates, vec![1.0, 1.0, 0.5]);
    assert_eq!(report.steps[2].step_conversion_rate, 0.5);
    assert_eq!(report.steps[0].median_seconds_from_previous, None);
    // Gaps a→b: 10 min and 5 min; median of two = 7.5 min.
    assert_eq!(report.steps[1].median_seconds_from_previous, Some(450.0));
    assert_eq!(report.steps[2].median_seconds_from_previous, Some(600.0));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["steps"][0]["event"], "a");
    assert_eq!(json["steps"][2]["count"], 1);
    assert_eq!(json["steps"][2]["conversionRate"], 0.5);
}

#[test]
fn a_step_done_out_of_order_does_not_count_until_redone_in_order() {
    // b before a, c before the b that follows a: only a → b is in order.
    let table = table(&[
        ("p", "b", 0),
        ("p", "a", 10),
        ("p", "c", 20),
        ("p", "b", 30),
    ]);
    let loose = compute(&query(&["a", "b", "c"], 120), &table);
    assert_eq!(counts(&loose), vec![1, 1, 0]);
    assert_eq!(loose.steps[1].median_seconds_from_previous, Some(1_200.0));
}

#[test]
fn strict_order_breaks_on_another_funnel_event_in_between() {
    let events = table(&[
        // p1: a, c, b, c — c intervenes between a and b.
        ("p1", "a", 0),
        ("p1", "c", 5),
        ("p1", "b", 10),
        ("p1", "c", 20),
        // p2: a, (unrelated event), b, c — unrelated events do not break it.
        ("p2", "a", 0),
        ("p2", "page_viewed", 5),
        ("p2", "b", 10),
        ("p2", "c", 20),
    ]);
    let mut strict = query(&["a", "b", "c"], 60);
    strict.order = StepOrder::Strict;
    assert_eq!(counts(&compute(&strict, &events)), vec![2, 1, 1]);
    assert_eq!(
        counts(&compute(&query(&["a", "b", "c"], 60), &events)),
        vec![2, 2, 2]
    );
}

#[test]
fn a_conversion_just_outside_the_window_does_not_count() {
    let table = table(&[
        ("inside", "a", 0),
        ("inside", "b", 30),
        ("inside", "c", 60), // exactly the window: counts
        ("outside", "a", 0),
        ("outside", "b", 30),
    ]);
    let mut table = table;
    table.push("outside", "c", at(60) + 1, None, None); // one microsecond late
    assert_eq!(
        counts(&compute(&query(&["a", "b", "c"], 60), &table)),
        vec![2, 2, 1]
    );
}

#[test]
fn a_later_start_rescues_a_conversion_an_earlier_one_cannot_finish() {
    let table = table(&[
        ("p", "a", 0),
        ("p", "a", 50),
        ("p", "b", 70),
        ("p", "c", 80),
    ]);
    let report = compute(&query(&["a", "b", "c"], 60), &table);
    assert_eq!(counts(&report), vec![1, 1, 1]);
    assert_eq!(report.steps[1].median_seconds_from_previous, Some(1_200.0));
    assert_eq!(report.steps[2].median_seconds_from_previous, Some(600.0));
}

#[test]
fn a_user_converting_twice_is_counted_once_with_the_first_conversion() {
    let table = table(&[
        ("p", "a", 0),
        ("p", "b", 1),
        ("p", "c", 2),
        ("p", "a", 100),
        ("p", "b", 110),
        ("p", "c", 120),
    ]);
    let report = compute(&query(&["a", "b", "c"], 60), &table);
    assert_eq!(counts(&report), vec![1, 1, 1]);
    assert_eq!(report.steps[2].median_seconds_from_previous, Some(60.0));
}

#[test]
fn steps_at_the_same_instant_are_not_in_order() {
    let table = table(&[("p", "a", 0), ("p", "b", 0)]);
    assert_eq!(
        counts(&compute(&query(&["a", "b"], 60), &table)),
        vec![1, 0]
    );
}

#[test]
fn a_repeated_event_can_be_two_steps() {
    let table = table(&[("p", "page", 0), ("p", "page", 1), ("q", "page", 0)]);
    assert_eq!(
        counts(&compute(&query(&["page", "page"], 60), &table)),
        vec![2, 1]
    );
}

#[test]
fn an_exclusion_breaks_the_conversion_from_that_point() {
    let events = table(&[
        // Clears the cart between cart and purchase: stops at cart.
        ("p1", "view", 0),
        ("p1", "cart", 1),
        ("p1", "clear", 2),
        ("p1", "purchase", 3),
        // Clears, then adds again: converts afresh.
        ("p2", "view", 0),
        ("p2", "cart", 1),
        ("p2", "clear", 2),
        ("p2", "cart", 4),
        ("p2", "purchase", 5),
        // Clears before reaching cart: outside the excluded span.
        ("p3", "view", 0),
        ("p3", "clear", 1),
        ("p3", "cart", 2),
        ("p3", "purchase", 3),
    ]);
    let params: HashMap<String, String> = [
        ("steps", "view,cart,purchase"),
        ("exclude", "clear:2-3"),
        ("window", "1h"),
        ("from", "2026-05-01"),
        ("to", "2026-06-01"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let query = FunnelQuery::from_params(&params).unwrap();
    assert_eq!(
        query.exclusions,
        vec![Exclusion {
            event: "clear".into(),
            after: 2,
            before: 3
        }]
    );
    assert_eq!(counts(&compute(&query, &events)), vec![3, 3, 2]);
}

#[test]
fn breakdown_uses_the_first_step_one_event() {
    let mut table = EventTable::default();
    table.push("p1", "a", at(0), Some("home"), None);
    table.push("p1", "b", at(1), None, None);
    table.push("p2", "a", at(0), Some("search"), None);
    table.push("p3", "a", at(0), Some("home"), None);
    table.push("p3", "a", at(5), Some("search"), None);
    table.push("p3", "b", at(6), None, None);
    table.push("p4", "a", at(0), None, None);
    let mut query = query(&["a", "b"], 60);
    query.breakdown = Some("surface".into());
    let report = compute(&query, &table);
    let breakdown = report.breakdown.unwrap();
    let groups: Vec<(Option<&str>, Vec<u64>)> = breakdown
        .groups
        .iter()
        .map(|g| {
            (
                g.value.as_deref(),
                g.steps.iter().map(|s| s.count).collect(),
            )
        })
        .collect();
    assert_eq!(breakdown.property, "surface");
    assert_eq!(
        groups,
        vec![
            (Some("home"), vec![2, 2]),
            (None, vec![1, 0]),
            (Some("search"), vec![1, 0]),
        ]
    );
}

#[test]
fn per_session_counts_sessions() {
    let mut table = EventTable::default();
    table.push_in_session("p", "s1", "a", at(0));
    table.push_in_session("p", "s1", "b", at(1));
    table.push_in_session("p", "s2", "a", at(40));
    let mut query = query(&["a", "b"], 60);
    query.unit = FunnelUnit::Session;
    assert_eq!(counts(&compute(&query, &table)), vec![2, 1]);
}

#[test]
fn events_outside_the_range_are_ignored() {
    let table = table(&[("p", "a", -2 * 24 * 60), ("p", "b", 1), ("q", "a", 0)]);
    assert_eq!(
        counts(&compute(&query(&["a", "b"], 3 * 24 * 60), &table)),
        vec![1, 0]
    );
}

#[test]
fn bad_parameters_are_named() {
    let parse = |pairs: &[(&str, &str)]| {
        let params: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        FunnelQuery::from_params(&params)
            .map(|_| ())
            .map_err(|error| error.param)
    };
    assert_eq!(parse(&[("name", "checkout")]), Ok(()));
    assert_eq!(parse(&[("name", "nope")]), Err("name".into()));
    assert_eq!(parse(&[]), Err("steps".into()));
    assert_eq!(
        parse(&[("steps", "a,b"), ("window", "-1h")]),
        Err("window".into())
    );
    assert_eq!(
        parse(&[("steps", "a,b"), ("order", "sideways")]),
        Err("order".into())
    );
    assert_eq!(
        parse(&[("steps", "a,b"), ("exclude", "x:2-1")]),
        Err("exclude".into())
    );
    assert_eq!(
        parse(&[("steps", "a,b"), ("from", "monday")]),
        Err("from".into())
    );
    assert_eq!(
        parse(&[("steps", "a,b"), ("stepz", "a")]),
        Err("stepz".into())
    );
}

#[test]
fn configured_named_funnels() {
    let config: Vec<FunnelConfig> = serde_json::from_value(serde_json::json!([
        {"name": "signup", "steps": ["page_viewed", "signed_up"], "window": "2h"}
    ]))
    .unwrap();
    let catalog = FunnelCatalog::with_config(&config).unwrap();
    let params: HashMap<String, String> = [("name".to_string(), "signup".to_string())].into();
    let query = FunnelQuery::from_params_with(&params, &catalog).unwrap();
    assert_eq!(query.steps, vec!["page_viewed", "signed_up"]);
    assert_eq!(query.window, 2 * 60 * MINUTE);
    assert_eq!(query.name.as_deref(), Some("signup"));
    assert!(catalog.get("checkout").is_some(), "built-in funnels stay");
    let bad = vec![FunnelConfig {
        name: "x".into(),
        steps: vec!["a".into()],
        window: Some("soon".into()),
    }];
    assert_eq!(
        FunnelCatalog::with_config(&bad).unwrap_err().param,
        "window"
    );
}
