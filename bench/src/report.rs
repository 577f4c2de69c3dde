//! Benchmark results as Markdown, the way BENCHMARKS.md shows them.

use std::fmt::Write;
use std::time::Duration;

use crate::relay::{CpuUse, HYPER_FLOOR, NGINX, RELAY, RelayBenchReport, Scenario, Workload};
use crate::stages::StageTimes;

/// The load results: one row per target and workload, then the comparisons.
pub fn markdown(report: &RelayBenchReport) -> String {
    let o = &report.options;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "keep-alive connections: {} (each workload at each); {} rounds per workload, {} taking turns, each round {} s warm-up + {:.1} s measured; fsync {}; threads: relay HTTP {} + its log writer, nginx workers {}, generator {}",
        o.connections
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        o.rounds.max(1),
        if o.hyper_floor {
            "nginx, hyper with no work and the relay"
        } else {
            "nginx and the relay"
        },
        o.warmup.as_secs_f64(),
        o.duration.as_secs_f64() / o.rounds.max(1) as f64,
        if o.fsync { "on" } else { "OFF" },
        report.relay_workers,
        o.threads,
        o.threads,
    );
    out.push('\n');
    out.push_str(
        "| target | request | connections | requests/s | events/s | p50 | p99 | failed | requests/s by round |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for s in &report.scenarios {
        let r = &s.result;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.target,
            s.workload,
            s.connections,
            thousands(r.requests_per_second()),
            thousands(r.events_per_second()),
            millis(r.latency(0.5)),
            millis(r.latency(0.99)),
            r.failed_requests,
            s.round_rates
                .iter()
                .map(|&x| thousands(x))
                .collect::<Vec<_>>()
                .join(" / "),
        );
    }
    out.push('\n');
    out.push_str(&cpu_table(report));
    for line in report
        .scenarios
        .iter()
        .filter(|s| s.target == RELAY)
        .filter_map(|relay| target_line(report, relay))
    {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "- durability check: {} events acknowledged, {} records durable in the log",
        report.acknowledged_events, report.durable_records
    );
    for s in &report.scenarios {
        if let Some(failure) = &s.result.first_failure {
            let _ = writeln!(
                out,
                "- {} / {}: first failure: {failure}",
                s.target, s.workload
            );
        }
    }
    out
}

/// CPU time per request of each row's server and generator, from `/proc`
/// over its rounds (warm-ups included); empty where there is none.
fn cpu_table(report: &RelayBenchReport) -> String {
    let rows: Vec<(&Scenario, CpuUse)> = report
        .scenarios
        .iter()
        .filter_map(|s| Some((s, s.cpu?)))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "CPU time per request over the rounds, warm-ups included (`/proc/.../schedstat`, `/proc/stat`):\n\n\
         | target | request | connections | server µs | generator µs | both µs | cores idle or in I/O wait |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
    );
    for (s, cpu) in rows {
        let per_request = |d: Duration| d.as_secs_f64() * 1e6 / (cpu.requests.max(1) as f64);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.0}% |",
            s.target,
            s.workload,
            s.connections,
            per_request(cpu.server),
            per_request(cpu.generator),
            per_request(cpu.server + cpu.generator),
            100.0 * cpu.unused_ticks as f64 / (cpu.ticks.max(1) as f64),
        );
    }
    out.push('\n');
    out
}

/// The line that holds a relay row to its target: single events against
/// nginx's row of the same concurrency, batches against 250,000 events/s.
fn target_line(report: &RelayBenchReport, relay: &Scenario) -> Option<String> {
    match relay.kind {
        Workload::Single => {
            let row = |target: &str| {
                report.scenarios.iter().find(|s| {
                    s.target == target
                        && s.kind == Workload::Single
                        && s.connections == relay.connections
                })
            };
            let nginx = row(NGINX)?;
            let floor = row(HYPER_FLOOR)
                .map(|floor| format!("; hyper with no work answers {}", share(floor, nginx)))
                .unwrap_or_default();
            Some(format!(
                "- single events, {} connections: the relay answers {} (target: at least 50%){floor}",
                relay.connections,
                share(relay, nginx),
            ))
        }
        Workload::Batch => Some(format!(
            "- batches, {} connections: {} events/s (target: at least 250,000)",
            relay.connections,
            thousands(relay.result.events_per_second())
        )),
        Workload::Mixed => None,
    }
}

/// `row`'s requests/s as a share of `nginx`'s, overall and round by round.
fn share(row: &Scenario, nginx: &Scenario) -> String {
    let percent = |r: f64, n: f64| format!("{:.0}%", 100.0 * r / n.max(f64::MIN_POSITIVE));
    let by_round: Vec<String> = row
        .round_rates
        .iter()
        .zip(&nginx.round_rates)
        .map(|(&r, &n)| percent(r, n))
        .collect();
    format!(
        "{} of nginx's requests/s (by round: {})",
        percent(
            row.result.requests_per_second(),
            nginx.result.requests_per_second()
        ),
        by_round.join(", ")
    )
}

/// The per-stage CPU times as a table.
pub fn stages_markdown(times: &StageTimes) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "CPU time per event by stage, one core, no HTTP or disk ({} events):",
        times.events
    );
    out.push('\n');
    out.push_str("| stage | µs per event | share |\n|---|---:|---:|\n");
    let sum: f64 = times.stages.iter().map(|(_, ns)| ns).sum();
    for (stage, ns) in &times.stages {
        let _ = writeln!(
            out,
            "| {stage} | {:.2} | {:.0}% |",
            ns / 1000.0,
            100.0 * ns / sum.max(f64::MIN_POSITIVE)
        );
    }
    let _ = writeln!(out, "| sum of stages | {:.2} | |", sum / 1000.0);
    let _ = writeln!(
        out,
        "| `envelope::parse` + `Ingestor::process` (all of it) | {:.2} | |",
        times.process_ns / 1000.0
    );
    out
}

fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// `1234567.8` → `1,234,568`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::LoadResult;
    use crate::relay::RelayBenchOptions;

    fn scenario(target: &'static str, kind: Workload, connections: usize, ok: u64) -> Scenario {
        Scenario {
            target,
            workload: "single event".into(),
            kind,
            connections,
            result: LoadResult {
                ok_requests: ok,
                failed_requests: 0,
                first_failure: None,
                ok_requests_total: ok,
                window: Duration::from_secs(1),
                latencies: vec![Duration::from_millis(1)],
                events_per_request: 1,
            },
            round_rates: vec![ok as f64],
            cpu: Some(CpuUse {
                server: Duration::from_micros(ok * 10),
                generator: Duration::from_micros(ok * 15),
                requests: ok,
                unused_ticks: 25,
                ticks: 200,
            }),
        }
    }

    /// Each concurrency's relay and floor rows are compared with nginx's row at
    /// the same concurrency, not with the first nginx row.
    #[test]
    fn single_event_shares_pair_rows_by_connections() {
        let report = RelayBenchReport {
            options: RelayBenchOptions {
                connections: vec![64, 256],
                warmup: Duration::from_secs(1),
                duration: Duration::from_secs(1),
                rounds: 1,
                batch_size: 100,
                fsync: true,
                nginx: None,
                data_parent: None,
                threads: 2,
                relay_workers: None,
                only: Some(Workload::Single),
                hyper_floor: true,
            },
            scenarios: vec![
                scenario(NGINX, Workload::Single, 64, 1000),
                scenario(HYPER_FLOOR, Workload::Single, 64, 900),
                scenario(RELAY, Workload::Single, 64, 400),
                scenario(NGINX, Workload::Single, 256, 800),
                scenario(HYPER_FLOOR, Workload::Single, 256, 720),
                scenario(RELAY, Workload::Single, 256, 600),
            ],
            acknowledged_events: 1000,
            durable_records: 1000,
            relay_workers: 2,
        };
        let text = markdown(&report);
        assert!(text.contains("keep-alive connections: 64, 256"), "{text}");
        assert!(
            text.contains("| relay | single event | 256 | 10.0 | 15.0 | 25.0 | 12% |"),
            "{text}"
        );
        assert!(
            text.contains(
                "single events, 64 connections: the relay answers 40% of nginx's requests/s (by round: 40%) (target: at least 50%); hyper with no work answers 90% of nginx's"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "single events, 256 connections: the relay answers 75% of nginx's requests/s (by round: 75%) (target: at least 50%); hyper with no work answers 90% of nginx's"
            ),
            "{text}"
        );
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.8), "1,234,568");
    }
}
