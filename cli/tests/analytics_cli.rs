//! `spoor query …` and `spoor export` on a data directory made by the real
//! pipeline: the commands print what the library answers, name bad flags, and
//! export files that hold exactly the selected events.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

use spoor_analytics::synth::{self, SynthConfig};
use spoor_analytics::{DataDir, FunnelQuery};

fn spoor(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spoor"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    assert!(
        output.status.success(),
        "spoor failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

const RANGE: [&str; 4] = ["--from", "2026-05-01", "--to", "2026-05-06"];

#[test]
fn query_and_export_commands() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = synth::build_dataset(dir.path(), SynthConfig::small(5, 120, 5)).unwrap();
    assert!(metrics.events > 500, "{metrics:?}");

    // The funnel table and its JSON are the library's answer.
    let params: HashMap<String, String> = [
        ("name", "checkout"),
        ("from", "2026-05-01"),
        ("to", "2026-05-06"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let expected = spoor_analytics::funnel(
        &DataDir::new(dir.path()),
        &FunnelQuery::from_params(&params).unwrap(),
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(&text(&spoor(
        dir.path(),
        &[
            &["query", "funnel", "--name", "checkout", "--json"][..],
            &RANGE,
        ]
        .concat(),
    )))
    .unwrap();
    assert_eq!(json, serde_json::to_value(&expected).unwrap());
    let table = text(&spoor(
        dir.path(),
        &[&["query", "funnel", "--name", "checkout"][..], &RANGE].concat(),
    ));
    let purchase = format!("4. purchase_completed  {:>5}", expected.steps[3].count);
    assert!(
        table.contains("funnel checkout") && table.contains(&purchase),
        "{table}"
    );

    for (command, needle) in [
        ("retention", "day 1"),
        ("attribution", "linear"),
        ("experiment", "sample ratio"),
    ] {
        let mut args = vec!["query", command];
        if command == "experiment" {
            args.extend(["--name", "checkout_button"]);
        }
        args.extend(RANGE);
        let out = text(&spoor(dir.path(), &args));
        assert!(out.contains(needle), "{command}: {out}");
    }

    // A bad flag is named.
    let bad = spoor(
        dir.path(),
        &["query", "funnel", "--steps", "a,b", "--window", "soon"],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--window"));

    // Export: the file holds the selected events, as the library counts them.
    let out = dir.path().join("purchases.csv");
    let export = spoor(
        dir.path(),
        &[
            &[
                "export",
                "--events",
                "purchase_completed",
                "--where",
                "currency=USD",
                "--format",
                "csv",
                "-o",
            ][..],
            &[out.to_str().unwrap()],
            &RANGE,
        ]
        .concat(),
    );
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    let lines = csv.split("\r\n").filter(|line| !line.is_empty()).count();
    let purchases = spoor_analytics::export(
        &DataDir::new(dir.path()),
        &spoor_analytics::ExportQuery::from_params(
            &[
                ("events", "purchase_completed"),
                ("from", "2026-05-01"),
                ("to", "2026-05-06"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        )
        .unwrap(),
        std::io::sink(),
        |_| {},
    )
    .unwrap()
    .rows_written;
    assert!(purchases > 10);
    assert_eq!(
        lines as u64,
        purchases + 1,
        "header plus one line per purchase"
    );
    assert!(String::from_utf8_lossy(&export.stderr).contains(&format!("exported {purchases} of")));
}
