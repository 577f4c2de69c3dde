//! Hand-computed attribution cases for the five models and the lookback window.

use super::*;
use crate::time::parse_time;

fn day(n: f64) -> Micros {
    parse_time("2026-05-01T00:00:00Z").unwrap() + (n * DAY as f64) as Micros
}

fn channel(source: &str, medium: &str, campaign: &str) -> String {
    format!("{source}{CHANNEL_SEPARATOR}{medium}{CHANNEL_SEPARATOR}{campaign}")
}

fn range() -> TimeRange {
    TimeRange {
        from: day(0.0),
        to: day(60.0),
    }
}

fn credit(report: &AttributionReport, model: Model) -> Vec<(String, f64, f64)> {
    let mut rows: Vec<(String, f64, f64)> = report
        .models
        .iter()
        .find(|m| m.model == model)
        .unwrap()
        .channels
        .iter()
        .map(|c| (c.source.clone(), c.conversions, c.revenue))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn close(actual: &[(String, f64, f64)], expected: &[(&str, f64, f64)]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?}");
    for ((name, conversions, revenue), (want, want_conversions, want_revenue)) in
        actual.iter().zip(expected)
    {
        assert_eq!(name, want);
        assert!(
            (conversions - want_conversions).abs() < 1e-12,
            "{name}: {conversions}"
        );
        assert!((revenue - want_revenue).abs() < 1e-9, "{name}: {revenue}");
    }
}

#[test]
fn five_models_over_two_touches() {
    let google = channel("google", "cpc", "spring");
    let facebook = channel("facebook", "social", "launch");
    let mut table = EventTable::default();
    table.push("p1", "page_viewed", day(0.0), Some(&google), None);
    table.push("p1", "page_viewed", day(5.0), Some(&facebook), None);
    table.push("p1", "page_viewed", day(6.0), Some(&facebook), None); // same channel again: one touch
    table.push("p1", "purchase_completed", day(10.0), None, Some(100.0));
    let report = compute(&AttributionQuery::new(range()), &table);
    assert_eq!(report.conversions, 1);
    assert_eq!(report.revenue, 100.0);
    close(
        &credit(&report, Model::FirstTouch),
        &[("google", 1.0, 100.0)],
    );
    close(
        &credit(&report, Model::LastTouch),
        &[("facebook", 1.0, 100.0)],
    );
    close(
        &credit(&report, Model::Linear),
        &[("facebook", 0.5, 50.0), ("google", 0.5, 50.0)],
    );
    close(
        &credit(&report, Model::PositionBased),
        &[("facebook", 0.5, 50.0), ("google", 0.5, 50.0)],
    );
    // Ages 10 and 5 days, half-life 7: weights 2^(-10/7) and 2^(-5/7), normalized.
    let (old, new) = (0.378_691_669_298_226_06, 0.621_308_330_701_773_9);
    close(
        &credit(&report, Model::TimeDecay),
        &[("facebook", new, 100.0 * new), ("google", old, 100.0 * old)],
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["models"][0]["model"], "first_touch");
    assert_eq!(json["models"][0]["channels"][0]["medium"], "cpc");
    assert_eq!(json["models"][0]["channels"][0]["campaign"], "spring");
}

#[test]
fn position_based_gives_the_middle_twenty_percent() {
    let mut table = EventTable::default();
    for (i, source) in ["a", "b", "c", "d"].iter().enumerate() {
        table.push(
            "p",
            "page_viewed",
            day(i as f64),
            Some(&channel(source, "m", "")),
            None,
        );
    }
    table.push("p", "purchase_completed", day(5.0), None, Some(10.0));
    let mut query = AttributionQuery::new(range());
    query.models = vec![Model::PositionBased, Model::Linear];
    let report = compute(&query, &table);
    close(
        &credit(&report, Model::PositionBased),
        &[
            ("a", 0.4, 4.0),
            ("b", 0.1, 1.0),
            ("c", 0.1, 1.0),
            ("d", 0.4, 4.0),
        ],
    );
    close(
        &credit(&report, Model::Linear),
        &[
            ("a", 0.25, 2.5),
            ("b", 0.25, 2.5),
            ("c", 0.25, 2.5),
            ("d", 0.25, 2.5),
        ],
    );
}

#[test]
fn lookback_and_converting_twice() {
    let mut table = EventTable::default();
    let newsletter = channel("newsletter", "email", "may");
    let partner = channel("partner.example", "referral", "");
    table.push("p2", "page_viewed", day(0.0), Some(&newsletter), None);
    // 40 days later: the newsletter touch is outside the 30-day lookback.
    table.push("p2", "purchase_completed", day(40.0), None, Some(30.0));
    table.push("p2", "page_viewed", day(41.0), Some(&partner), None);
    // Converts again: credited again.
    table.push("p2", "purchase_completed", day(42.0), None, Some(20.0));
    // Touch at the same instant as the conversion counts.
    table.push("p3", "purchase_completed", day(3.0), None, None);
    table.push("p3", "page_viewed", day(3.0), Some(&newsletter), None);
    // A conversion before the range is not counted, but touches before it are used.
    table.push("p4", "page_viewed", day(-1.0), Some(&partner), None);
    table.push("p4", "purchase_completed", day(-0.5), None, Some(1000.0));
    table.push("p4", "purchase_completed", day(1.0), None, Some(5.0));
    let mut query = AttributionQuery::new(range());
    query.models = vec![Model::LastTouch];
    let report = compute(&query, &table);
    assert_eq!(report.conversions, 4);
    assert_eq!(report.revenue, 55.0);
    assert_eq!(
        report.unattributed,
        Unattributed {
            conversions: 1,
            revenue: 30.0
        }
    );
    close(
        &credit(&report, Model::LastTouch),
        &[("newsletter", 1.0, 0.0), ("partner.example", 2.0, 25.0)],
    );
}

#[test]
fn bad_parameters_are_named() {
    let parse = |key: &str, value: &str| {
        let params: HashMap<String, String> = [(key.to_string(), value.to_string())].into();
        AttributionQuery::from_params(&params)
            .map(|_| ())
            .map_err(|error| error.param)
    };
    assert_eq!(parse("model", "linear"), Ok(()));
    assert_eq!(parse("model", "w_shaped"), Err("model".into()));
    assert_eq!(parse("lookback", "forever"), Err("lookback".into()));
    assert_eq!(parse("half_life", "0d"), Err("half_life".into()));
}
