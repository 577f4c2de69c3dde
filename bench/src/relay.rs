//! `spoor bench relay`: a real relay (in-process, fsync on, data in a temporary
//! directory) and nginx answering 204, loaded by the same generator in one run.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper::body::Bytes;
use serde_json::{Value, json};
use spoor_relay::Relay;
use spoor_relay::config::{RateLimit, RelayConfig, SourceConfig};
use spoor_relay::enrich::format_time;
use time::OffsetDateTime;

use crate::cpu::{self, Counted};
use crate::hyper_floor::HyperFloor;
use crate::load::{self, LoadError, LoadResult, LoadSpec};
use crate::nginx::{Nginx, NginxError};

const WRITE_KEY: &str = "bench-write-key";
const USER_AGENT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

/// How to run the benchmark.
#[derive(Debug, Clone)]
pub struct RelayBenchOptions {
    /// Concurrencies: every workload runs at each of these numbers of
    /// keep-alive connections, one request in flight each.
    pub connections: Vec<usize>,
    /// Warm-up before each measured window.
    pub warmup: Duration,
    /// Each row's measured time, split evenly over its rounds.
    pub duration: Duration,
    /// Rounds per workload: nginx and the relay take turns (nginx, relay,
    /// nginx, relay, ...), so a machine that is faster or slower for a while
    /// weighs on both alike. Each round has its own warm-up.
    pub rounds: usize,
    /// Events per batch request.
    pub batch_size: usize,
    /// fsync before answering (the relay's default; off only to see its cost).
    pub fsync: bool,
    /// The nginx binary for the baseline; `None` skips it.
    pub nginx: Option<PathBuf>,
    /// Where the relay's temporary data directory is made (default: the OS temp dir).
    pub data_parent: Option<PathBuf>,
    /// Threads of the generator's runtime, and nginx workers.
    pub threads: usize,
    /// The relay's HTTP threads; `None`: its default ([`RelayConfig::workers`]).
    pub relay_workers: Option<usize>,
    /// Run only this workload (both when `None`), e.g. to profile one of them.
    pub only: Option<Workload>,
    /// Also load [`HyperFloor`] (hyper answering without doing any work, on
    /// as many threads as the relay), taking its turn between nginx and the relay.
    pub hyper_floor: bool,
}

/// The name of nginx's rows.
pub const NGINX: &str = "nginx 204";
/// The name of [`HyperFloor`]'s rows.
pub const HYPER_FLOOR: &str = "hyper, no work";
/// The name of the relay's rows.
pub const RELAY: &str = "relay";

/// A workload the benchmark runs: single events and batches by default, the
/// mixed one when asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// One event per request on `POST /api/events`.
    Single,
    /// `batch_size` events per request on `POST /api/events/batch`.
    Batch,
    /// Both at once: an eighth of the connections (at least one) send batches,
    /// the others single events; shows what batches cost the single events' latency.
    Mixed,
}

/// One measured target and workload.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// [`RELAY`], [`NGINX`] or [`HYPER_FLOOR`].
    pub target: &'static str,
    /// What each request carries.
    pub workload: String,
    /// The workload this row belongs to.
    pub kind: Workload,
    /// The workload's connections (all its parts together).
    pub connections: usize,
    /// What was measured, all rounds together.
    pub result: LoadResult,
    /// Requests/s of each round, in order.
    pub round_rates: Vec<f64>,
    /// CPU time over its rounds, warm-ups included; `None` for a workload of
    /// two parts or where `/proc` does not tell.
    pub cpu: Option<CpuUse>,
}

/// CPU time used while a row's rounds ran, warm-ups included.
#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    /// The target's threads: nginx's master and workers, the relay's HTTP
    /// threads and log writer, or hyper's threads.
    pub server: Duration,
    /// The load generator's threads.
    pub generator: Duration,
    /// Requests answered 2xx meanwhile.
    pub requests: u64,
    /// The machine's clock ticks idle or waiting for I/O meanwhile, all cores.
    pub unused_ticks: u64,
    /// The machine's clock ticks meanwhile, all cores.
    pub ticks: u64,
}

impl CpuUse {
    /// Starts counting the CPU time of `server`, of the generator and of the
    /// machine; the closure returned, given the requests answered meanwhile,
    /// tells what was used since.
    fn start(server: &Counted) -> Option<impl FnOnce(u64) -> Option<CpuUse>> {
        let (server_before, generator_before) = (cpu::used(server)?, cpu::used(&GENERATOR)?);
        let (unused_before, ticks_before) = cpu::machine()?;
        Some(move |requests| {
            let (unused, ticks) = cpu::machine()?;
            Some(CpuUse {
                server: cpu::used(server)?.saturating_sub(server_before),
                generator: cpu::used(&GENERATOR)?.saturating_sub(generator_before),
                requests,
                unused_ticks: unused.saturating_sub(unused_before),
                ticks: ticks.saturating_sub(ticks_before),
            })
        })
    }

    fn add(&mut self, other: CpuUse) {
        self.server += other.server;
        self.generator += other.generator;
        self.requests += other.requests;
        self.unused_ticks += other.unused_ticks;
        self.ticks += other.ticks;
    }
}

/// The generator's threads.
const GENERATOR: Counted = Counted::Threads(&["bench-load"]);

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct RelayBenchReport {
    /// The options used.
    pub options: RelayBenchOptions,
    /// In the order run.
    pub scenarios: Vec<Scenario>,
    /// Events the relay answered 2xx for, warm-up included.
    pub acknowledged_events: u64,
    /// Records durable in the relay's log at the end.
    pub durable_records: u64,
    /// HTTP threads the relay served with.
    pub relay_workers: usize,
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The relay could not start.
    #[error("starting the relay: {0}")]
    Relay(#[from] spoor_relay::StartError),
    /// nginx could not start.
    #[error(transparent)]
    Nginx(#[from] NginxError),
    /// The load run failed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Runtime, sockets or files.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs the whole benchmark: nginx and the relay, single events and batches.
pub fn run(options: &RelayBenchOptions) -> Result<RelayBenchReport, BenchError> {
    let data = match &options.data_parent {
        Some(dir) => tempfile::Builder::new()
            .prefix("spoor-bench-relay")
            .tempdir_in(dir)?,
        None => tempfile::Builder::new()
            .prefix("spoor-bench-relay")
            .tempdir()?,
    };
    let relay = Relay::open(relay_config(data.path().to_path_buf(), options))?;
    let durable = relay.durable_offset();
    let relay_workers = relay.state().config.workers();
    let server = RelayServer::start(relay)?;
    let floor = options
        .hyper_floor
        .then(|| HyperFloor::start(relay_workers))
        .transpose()?;
    let nginx = options
        .nginx
        .as_deref()
        .map(|binary| Nginx::start(binary, options.threads))
        .transpose()?;

    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads)
        .thread_name("bench-load")
        .enable_all()
        .build()?;
    let now = format_time(OffsetDateTime::now_utc());
    let singles = Arc::new(
        (0..1024)
            .map(|i| Bytes::from(event(&format!("single-{i:06}"), &now).to_string()))
            .collect::<Vec<_>>(),
    );
    let batches = Arc::new(
        (0..64)
            .map(|b| batch_body(&format!("batch-{b:03}"), options.batch_size, &now))
            .collect::<Vec<_>>(),
    );
    let single_part = |connections| Part {
        label: "single event".to_string(),
        path: "/api/events",
        bodies: Arc::clone(&singles),
        events_per_request: 1,
        connections,
    };
    let batch_part = |connections| Part {
        label: format!("batch of {} events", options.batch_size),
        path: "/api/events/batch",
        bodies: Arc::clone(&batches),
        events_per_request: options.batch_size,
        connections,
    };
    let parts = |kind, connections: usize| match kind {
        Workload::Mixed => {
            let batch_connections = (connections / 8).max(1);
            let mut singles = single_part(connections.saturating_sub(batch_connections).max(1));
            singles.label.push_str(", beside batches");
            let mut batches = batch_part(batch_connections);
            batches.label.push_str(", beside single events");
            vec![singles, batches]
        }
        Workload::Single => vec![single_part(connections)],
        Workload::Batch => vec![batch_part(connections)],
    };
    let kinds = match options.only {
        Some(only) => vec![only],
        None => vec![Workload::Single, Workload::Batch],
    };
    let workloads: Vec<(Workload, usize, Vec<Part>)> = options
        .connections
        .iter()
        .flat_map(|&connections| {
            kinds
                .iter()
                .map(move |&kind| (kind, connections, parts(kind, connections)))
        })
        .collect();
    let mut targets = Vec::new();
    if let Some(nginx) = &nginx {
        targets.push((NGINX, nginx.addr(), Counted::Process(nginx.pid())));
    }
    if let Some(floor) = &floor {
        targets.push((
            HYPER_FLOOR,
            floor.addr(),
            Counted::Threads(&["hyper-floor"]),
        ));
    }
    targets.push((
        RELAY,
        server.addr,
        Counted::Threads(&["spoor-http", "spoor-log-writer"]),
    ));

    let round_duration = options.duration / u32::try_from(options.rounds.max(1)).unwrap_or(1);
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut acknowledged_events = 0;
    for (kind, connections, parts) in workloads {
        // The targets take turns, round after round; each row sums its rounds.
        let first = scenarios.len();
        for round in 0..options.rounds.max(1) {
            for (t, (target, addr, counted)) in targets.iter().enumerate() {
                let (target, addr) = (*target, *addr);
                let specs: Vec<LoadSpec> = parts
                    .iter()
                    .map(|part| LoadSpec {
                        addr,
                        path: part.path.to_string(),
                        authorization: Some(format!("Bearer {WRITE_KEY}")),
                        bodies: Arc::clone(&part.bodies),
                        events_per_request: part.events_per_request,
                        connections: part.connections,
                        warmup: options.warmup,
                        duration: round_duration,
                    })
                    .collect();
                let cpu_use = CpuUse::start(counted);
                // The parts of a workload load the target at the same time.
                let results = client.block_on(async {
                    let runs: Vec<_> = specs
                        .into_iter()
                        .map(|spec| tokio::spawn(async move { load::run(&spec).await }))
                        .collect();
                    let mut results = Vec::with_capacity(runs.len());
                    for run in runs {
                        results.push(run.await??);
                    }
                    Ok::<_, LoadError>(results)
                })?;
                let cpu = match &results[..] {
                    [one] => cpu_use.and_then(|finish| finish(one.ok_requests_total)),
                    _ => None,
                };
                for (p, (part, result)) in parts.iter().zip(results).enumerate() {
                    if target == RELAY {
                        acknowledged_events +=
                            result.ok_requests_total * result.events_per_request as u64;
                    }
                    if round == 0 {
                        scenarios.push(Scenario {
                            target,
                            workload: part.label.clone(),
                            kind,
                            connections,
                            round_rates: vec![result.requests_per_second()],
                            result,
                            cpu,
                        });
                    } else {
                        let scenario = &mut scenarios[first + t * parts.len() + p];
                        scenario.round_rates.push(result.requests_per_second());
                        scenario.result.merge(result);
                        scenario.cpu = scenario.cpu.zip(cpu).map(|(mut sum, round)| {
                            sum.add(round);
                            sum
                        });
                    }
                }
            }
        }
    }
    drop(client);
    drop(nginx);
    drop(floor);
    server.stop();
    Ok(RelayBenchReport {
        options: options.clone(),
        scenarios,
        acknowledged_events,
        durable_records: durable.load(Ordering::Acquire),
        relay_workers,
    })
}

/// One stream of requests of a workload.
struct Part {
    /// The row's name in the report.
    label: String,
    path: &'static str,
    bodies: Arc<Vec<Bytes>>,
    events_per_request: usize,
    connections: usize,
}

/// A `{"batch": [...]}` body of `size` events with ids `{tag}-00000`, ...
pub fn batch_body(tag: &str, size: usize, now: &str) -> Bytes {
    let events: Vec<Value> = (0..size)
        .map(|i| event(&format!("{tag}-{i:05}"), now))
        .collect();
    Bytes::from(json!({ "batch": events, "sentAt": now }).to_string())
}

/// One event as a browser SDK sends it: the seed's `product_clicked` with a
/// user agent, client times and an IP to truncate.
fn event(id: &str, now: &str) -> Value {
    json!({
        "eventId": id,
        "type": "track",
        "eventName": "product_clicked",
        "userId": "u456",
        "anonymousId": "anon_789",
        "timestamp": now,
        "sentAt": now,
        "properties": {"productId": "p123", "category": "shoes", "surface": "home"},
        "context": {
            "device": "mobile",
            "appVersion": "1.2.3",
            "ip": "1.2.3.4",
            "userAgent": USER_AGENT,
            "locale": "en-US",
            "page": {"path": "/products/p123", "url": "https://shop.example/products/p123"}
        }
    })
}

fn relay_config(data_dir: PathBuf, options: &RelayBenchOptions) -> RelayConfig {
    RelayConfig {
        data_dir,
        sources: vec![SourceConfig::new("bench", WRITE_KEY)],
        // The default per-key bucket (100k events/s) would cap the batch run:
        // the benchmark measures the relay, not its rate limit.
        rate_limit: RateLimit {
            events_per_second: 1_000_000_000,
            burst: 1_000_000_000,
        },
        fsync: options.fsync,
        workers: options.relay_workers,
        ..RelayConfig::default()
    }
}

/// The relay serving on 127.0.0.1:0 on its own runtime and thread.
struct RelayServer {
    addr: std::net::SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl RelayServer {
    fn start(relay: Relay) -> std::io::Result<Self> {
        let runtime = relay.runtime()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        // Named like the runtime's threads, so the report counts its CPU time too.
        let thread = std::thread::Builder::new()
            .name("spoor-http-serve".into())
            .spawn(move || {
                runtime.block_on(relay.serve(relay.router(), listener, async {
                    let _ = stop.await;
                }))
            })?;
        Ok(RelayServer {
            addr,
            shutdown,
            thread,
        })
    }

    fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short_options(only: Option<Workload>) -> RelayBenchOptions {
        RelayBenchOptions {
            connections: vec![4],
            warmup: Duration::from_millis(100),
            duration: Duration::from_millis(400),
            rounds: 2,
            batch_size: 10,
            fsync: true,
            nginx: None,
            data_parent: None,
            threads: 2,
            relay_workers: None,
            only,
            hyper_floor: false,
        }
    }

    /// Both parts of the mixed workload load the relay together and get a row each.
    #[test]
    fn mixed_run_has_a_row_per_part_and_only_durable_events() {
        let report = run(&short_options(Some(Workload::Mixed))).unwrap();
        let rows: Vec<(&str, usize)> = report
            .scenarios
            .iter()
            .map(|s| (s.workload.as_str(), s.result.events_per_request))
            .collect();
        assert_eq!(
            rows,
            [
                ("single event, beside batches", 1),
                ("batch of 10 events, beside single events", 10)
            ]
        );
        for s in &report.scenarios {
            assert_eq!(s.kind, Workload::Mixed);
            assert!(s.cpu.is_none(), "two parts share the CPU time of a round");
            assert_eq!(s.round_rates.len(), 2);
            assert_eq!(s.result.failed_requests, 0, "{:?}", s.result.first_failure);
            assert!(s.result.ok_requests > 0);
        }
        assert_eq!(report.durable_records, report.acknowledged_events);
    }

    /// A short run against a real relay at two concurrencies: a row per
    /// workload and concurrency, every acknowledged event durable, nothing failed.
    #[test]
    fn short_run_acknowledges_only_durable_events() {
        let options = RelayBenchOptions {
            connections: vec![2, 4],
            ..short_options(None)
        };
        let report = run(&options).unwrap();
        let rows: Vec<(Workload, usize)> = report
            .scenarios
            .iter()
            .map(|s| (s.kind, s.connections))
            .collect();
        assert_eq!(
            rows,
            [
                (Workload::Single, 2),
                (Workload::Batch, 2),
                (Workload::Single, 4),
                (Workload::Batch, 4)
            ]
        );
        for s in &report.scenarios {
            assert_eq!(s.round_rates.len(), 2);
            assert_eq!(s.result.failed_requests, 0, "{:?}", s.result.first_failure);
            assert!(s.result.ok_requests > 0);
            assert!(s.result.latency(0.5) <= s.result.latency(0.99));
            // The relay's threads and the generator's are found and counted.
            if cfg!(target_os = "linux") {
                let cpu = s.cpu.unwrap();
                assert!(cpu.server > Duration::ZERO && cpu.generator > Duration::ZERO);
                assert!(cpu.requests >= s.result.ok_requests);
                assert!(cpu.unused_ticks <= cpu.ticks);
            }
        }
        assert!(report.acknowledged_events > 0);
        assert_eq!(report.durable_records, report.acknowledged_events);
    }
}
