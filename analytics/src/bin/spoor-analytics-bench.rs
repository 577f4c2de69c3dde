//! The analytics benchmark: funnel (4 steps), retention (30 days) and attribution
//! (linear) over ~10 million events, beside the same questions in DuckDB SQL on the
//! same Parquet files, each query in its own process so its peak memory is its own.
//!
//! ```text
//! cargo run --release -p spoor-analytics --bin spoor-analytics-bench -- --data /tmp/spoor-bench [--persons 550000] [--runs 2]
//! ```
//!
//! The first run writes the synthetic shop's events into `DATA/log` and runs the
//! real pipeline over them (timed too); later runs reuse `DATA`. Prints a Markdown
//! table for BENCHMARKS.md.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};
use spoor_analytics::attribution::Model;
use spoor_analytics::synth::{self, SynthConfig};
use spoor_analytics::time::DAY;
use spoor_analytics::{AttributionQuery, DataDir, FunnelQuery, Period, RetentionQuery, TimeRange};

const DAYS: i64 = 30;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("query") => child(args.get(2..).unwrap_or_default()),
        _ => run(&args),
    };
    if let Err(e) = result {
        eprintln!("spoor-analytics-bench: {e}");
        std::process::exit(1);
    }
}

/// Both engines on every query; prints the Markdown tables.
fn run(args: &[String]) -> Result<(), String> {
    let option = |name: &str| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let data =
        PathBuf::from(option("--data").unwrap_or_else(|| "/tmp/spoor-analytics-bench".into()));
    let persons: usize = option("--persons")
        .and_then(|n| n.parse().ok())
        .unwrap_or(550_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let python = option("--python")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    let config = SynthConfig {
        duplicate_rate: 0.01,
        late_rate: 0.005,
        ..SynthConfig::small(11, persons, DAYS)
    };
    if !data.join("raw").exists() {
        prepare(&data, config.clone())?;
    }
    let full = TimeRange {
        from: config.start,
        to: config.start + DAYS * DAY,
    };
    // Each engine runs each query `--runs` times (default 2), alternating, so both
    // see the same page cache; the table shows the fastest run of each.
    let runs: usize = option("--runs").and_then(|n| n.parse().ok()).unwrap_or(2);
    let best = |a: Option<Value>, b: Value| match a {
        Some(a) if a["seconds"].as_f64() <= b["seconds"].as_f64() => a,
        _ => b,
    };
    let mut rows = Vec::new();
    for query in ["funnel", "retention", "attribution"] {
        let (mut ours, mut theirs) = (None, None);
        for _ in 0..runs.max(1) {
            ours = Some(best(ours, run_child(&data, query, full)?));
            theirs = Some(best(
                theirs,
                run_duckdb(&python, &root, &data, query, full)?,
            ));
        }
        rows.push((query, ours.unwrap_or_default(), theirs.unwrap_or_default()));
    }
    println!(
        "\n| query (30 days, {} events) | spoor time | spoor peak RSS | DuckDB time | DuckDB peak RSS | answer |",
        events(&data)
    );
    println!("|---|---:|---:|---:|---:|---|");
    for (query, ours, theirs) in &rows {
        println!(
            "| {query} | {:.2} s | {} MiB | {:.2} s | {} MiB | {} |",
            ours["seconds"].as_f64().unwrap_or(f64::NAN),
            ours["peak_kb"].as_u64().unwrap_or(0) / 1024,
            theirs["seconds"].as_f64().unwrap_or(f64::NAN),
            theirs["peak_kb"].as_u64().unwrap_or(0) / 1024,
            ours["answer"],
        );
    }
    println!("\nMemory against the queried range (spoor):\n");
    println!("| query | days | events read | time | peak RSS |");
    println!("|---|---:|---:|---:|---:|");
    for query in ["funnel", "attribution"] {
        for days in [7, 15, 30] {
            let range = TimeRange {
                from: full.to - days * DAY,
                to: full.to,
            };
            let ours = run_child(&data, query, range)?;
            println!(
                "| {query} | {days} | {} | {:.2} s | {} MiB |",
                ours["rows"],
                ours["seconds"].as_f64().unwrap_or(f64::NAN),
                ours["peak_kb"].as_u64().unwrap_or(0) / 1024
            );
        }
    }
    Ok(())
}

fn events(data: &Path) -> String {
    std::fs::read_to_string(data.join("events.txt"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn prepare(data: &Path, config: SynthConfig) -> Result<(), String> {
    let started = Instant::now();
    let records = synth::write_log(data, config).map_err(|e| format!("writing the log: {e}"))?;
    eprintln!(
        "{records} records written to {} in {:.1?}",
        data.join("log").display(),
        started.elapsed()
    );
    let started = Instant::now();
    let mut runner = spoor_pipeline::Runner::open(data, spoor_pipeline::PipelineConfig::default())
        .map_err(|e| format!("opening the pipeline: {e}"))?;
    runner
        .run_to_end(|progress| eprint!("\rpipeline: {progress:?}"))
        .map_err(|e| format!("running the pipeline: {e}"))?;
    let metrics = runner.metrics().clone();
    eprintln!("\npipeline done in {:.1?}: {metrics:?}", started.elapsed());
    let events = data.join("events.txt");
    std::fs::write(&events, metrics.events.to_string())
        .map_err(|e| format!("{}: {e}", events.display()))
}

fn run_child(data: &Path, query: &str, range: TimeRange) -> Result<Value, String> {
    let exe = std::env::current_exe().map_err(|e| format!("finding this program: {e}"))?;
    let output = Command::new(exe)
        .args(["query", query])
        .arg(data)
        .args([range.from.to_string(), range.to.to_string()])
        .output()
        .map_err(|e| format!("starting the {query} query: {e}"))?;
    let value = child_output(&format!("spoor {query}"), &output)?;
    eprintln!("spoor {query}: {value}");
    Ok(value)
}

/// The JSON a query process printed, or what went wrong with it.
fn child_output(what: &str, output: &std::process::Output) -> Result<Value, String> {
    if !output.status.success() {
        return Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("{what} printed no JSON: {e}"))
}

fn run_duckdb(
    python: &Path,
    root: &Path,
    data: &Path,
    query: &str,
    range: TimeRange,
) -> Result<Value, String> {
    let output = Command::new(python)
        .arg(root.join("analytics/tests/duckdb/bench.py"))
        .arg(data)
        .arg(query)
        .args([range.from.to_string(), range.to.to_string()])
        .output()
        .map_err(|e| format!("starting DuckDB (run .ci/setup-pipeline.sh): {e}"))?;
    let value = child_output(&format!("duckdb {query}"), &output)?;
    eprintln!("duckdb {query}: {value}");
    Ok(value)
}

/// `query NAME DATA FROM TO`: runs one query, prints time, peak RSS and a short answer.
fn child(args: &[String]) -> Result<(), String> {
    let [query, data, from, to] = args else {
        return Err("usage: spoor-analytics-bench query NAME DATA FROM TO".into());
    };
    let data = DataDir::new(data);
    let time = |text: &str| text.parse().map_err(|e| format!("bad time {text:?}: {e}"));
    let range = TimeRange {
        from: time(from)?,
        to: time(to)?,
    };
    let started = Instant::now();
    let (answer, rows) = match query.as_str() {
        "funnel" => {
            let mut q = FunnelQuery::new(
                &[
                    "view_product",
                    "add_to_cart",
                    "checkout_started",
                    "purchase_completed",
                ],
                DAY,
                range,
            );
            q.name = Some("checkout".into());
            let report = spoor_analytics::funnel(&data, &q).map_err(|e| e.to_string())?;
            let counts: Vec<u64> = report.steps.iter().map(|s| s.count).collect();
            (
                json!({ "counts": counts }),
                rows_read(&data, Some(&q.steps), range),
            )
        }
        "retention" => {
            let report =
                spoor_analytics::retention(&data, &RetentionQuery::new(Period::Day, range))
                    .map_err(|e| e.to_string())?;
            (
                json!({ "cohorts": report.cohorts.len() }),
                rows_read(&data, None, range),
            )
        }
        "attribution" => {
            let mut q = AttributionQuery::new(range);
            q.models = vec![Model::Linear];
            let report = spoor_analytics::attribution(&data, &q).map_err(|e| e.to_string())?;
            let lookback = TimeRange {
                from: range.from - q.lookback,
                to: range.to,
            };
            (
                json!({ "conversions": report.conversions, "channels": report.models[0].channels.len() }),
                rows_read(&data, None, lookback),
            )
        }
        other => return Err(format!("unknown query {other}")),
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({ "seconds": seconds, "peak_kb": peak_kb(), "answer": answer, "rows": rows })
    );
    Ok(())
}

/// Rows in the files a query reads (from the footers; not timed).
fn rows_read(data: &DataDir, events: Option<&[String]>, range: TimeRange) -> u64 {
    let files = data.raw_files(events, range).unwrap_or_default();
    files
        .iter()
        .filter_map(|file| {
            let handle = std::fs::File::open(&file.path).ok()?;
            let reader =
                parquet::file::serialized_reader::SerializedFileReader::new(handle).ok()?;
            use parquet::file::reader::FileReader;
            Some(reader.metadata().file_metadata().num_rows() as u64)
        })
        .sum()
}

/// Peak resident set of this process (VmHWM), in KiB.
fn peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
        })
        .unwrap_or(0)
}
