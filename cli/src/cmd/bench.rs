//! `spoor bench relay`: the relay beside nginx under the same load generator;
//! `spoor bench stages`: the ingestion path's CPU per event, stage by stage.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use spoor_bench::hyper_floor::HyperFloor;
use spoor_bench::nginx::Nginx;
use spoor_bench::relay::{RelayBenchOptions, Workload, batch_body};
use spoor_bench::{relay, report, stages};
use spoor_relay::config::RelayConfig;

/// `spoor bench ...`
#[derive(Subcommand)]
pub enum BenchCommand {
    /// Load a real relay (fsync on) and nginx answering 204 with single events
    /// and batches; print requests/s, events/s and p50/p99 latency as Markdown.
    Relay(RelayArgs),
    /// Time each stage of the ingestion path on one core, without HTTP or
    /// disk (the table `bench relay` prints too). Deterministic
    /// enough to compare builds by instructions under
    /// `valgrind --tool=callgrind` when the machine's speed drifts.
    Stages(StagesArgs),
    /// Serve hyper answering every request without doing any work (what
    /// `bench relay --hyper-floor` loads) until Ctrl-C, for another load
    /// generator such as wrk.
    HyperFloor(HyperFloorArgs),
}

/// Arguments of `spoor bench hyper-floor`.
#[derive(Args)]
pub struct HyperFloorArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:18082")]
    listen: std::net::SocketAddr,
    /// Runtime threads (default: one per CPU, as the relay's HTTP threads).
    #[arg(long)]
    workers: Option<usize>,
}

/// Arguments of `spoor bench stages`.
#[derive(Args)]
pub struct StagesArgs {
    /// Passes over the sample batch.
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// Events in the sample batch.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
}

/// Arguments of `spoor bench relay`.
#[derive(Args)]
pub struct RelayArgs {
    /// Keep-alive connections, one request in flight each; a comma-separated
    /// list runs every workload at each.
    #[arg(
        long,
        value_delimiter = ',',
        default_values_t = [64, 256],
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    connections: Vec<usize>,
    /// Measured seconds per row, split over its rounds.
    #[arg(long, default_value_t = 12)]
    duration: u64,
    /// Rounds per workload, nginx and the relay taking turns.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Warm-up seconds before each row.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Events per batch request.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// Threads of the generator's runtime, and nginx workers.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// The relay's HTTP threads (default: the relay's own default, one per CPU).
    #[arg(long)]
    relay_workers: Option<usize>,
    /// The nginx binary (default: found on PATH or in /usr/sbin).
    #[arg(long)]
    nginx: Option<PathBuf>,
    /// Run without the nginx baseline.
    #[arg(long)]
    no_nginx: bool,
    /// Turn fsync off, to see what durability costs (not a valid result).
    #[arg(long)]
    no_fsync: bool,
    /// Where the relay's temporary data directory is made (default: the OS temp dir).
    #[arg(long)]
    data_parent: Option<PathBuf>,
    /// Run only single events, only batches, or both at once on one relay
    /// (`mixed`: an eighth of the connections send batches; default: single, then batch).
    #[arg(long, value_parser = ["single", "batch", "mixed"])]
    only: Option<String>,
    /// Also load hyper answering every request without doing any work (on as
    /// many threads as the relay): what the HTTP stack alone reaches beside nginx.
    #[arg(long)]
    hyper_floor: bool,
}

/// Runs a `spoor bench` command.
pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Relay(args) => run_relay(args),
        BenchCommand::Stages(args) => {
            println!("{}", stage_table(args.batch_size, args.iterations)?);
            Ok(())
        }
        BenchCommand::HyperFloor(args) => serve_hyper_floor(args),
    }
}

fn serve_hyper_floor(args: HyperFloorArgs) -> anyhow::Result<()> {
    let workers = args
        .workers
        .unwrap_or_else(|| RelayConfig::default().workers());
    let floor = HyperFloor::bind(args.listen, workers)
        .with_context(|| format!("listening on {}", args.listen))?;
    eprintln!(
        "hyper with no work listening on {} ({workers} threads); Ctrl-C stops it",
        floor.addr()
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(tokio::signal::ctrl_c())
        .context("waiting for Ctrl-C")?;
    Ok(())
}

/// The stage table for a sample batch of `batch_size` events, as Markdown.
fn stage_table(batch_size: usize, iterations: usize) -> anyhow::Result<String> {
    let sample = batch_body("stages", batch_size, "2026-05-03T10:00:00.000Z");
    let times = stages::measure(&sample, iterations)
        .map_err(anyhow::Error::msg)
        .context("timing the ingestion stages")?;
    Ok(report::stages_markdown(&times))
}

fn run_relay(args: RelayArgs) -> anyhow::Result<()> {
    let nginx = if args.no_nginx {
        None
    } else {
        Some(args.nginx.or_else(Nginx::locate).context(
            "nginx is not installed: run bench/setup.sh, pass --nginx PATH, or --no-nginx",
        )?)
    };
    let options = RelayBenchOptions {
        connections: args.connections,
        warmup: Duration::from_secs(args.warmup),
        duration: Duration::from_secs(args.duration),
        rounds: args.rounds,
        batch_size: args.batch_size,
        fsync: !args.no_fsync,
        nginx,
        data_parent: args.data_parent,
        threads: args.threads,
        relay_workers: args.relay_workers,
        only: args.only.as_deref().map(|w| match w {
            "single" => Workload::Single,
            "mixed" => Workload::Mixed,
            _ => Workload::Batch,
        }),
        hyper_floor: args.hyper_floor,
    };
    let stages = stage_table(args.batch_size, 200)?;
    let result = relay::run(&options).context("running the relay benchmark")?;
    println!("{}", report::markdown(&result));
    println!("{stages}");
    let failed: u64 = result
        .scenarios
        .iter()
        .map(|s| s.result.failed_requests)
        .sum();
    anyhow::ensure!(
        failed == 0,
        "{failed} requests failed; the figures above are not valid"
    );
    anyhow::ensure!(
        result.durable_records == result.acknowledged_events,
        "the relay acknowledged {} events but {} are durable",
        result.acknowledged_events,
        result.durable_records
    );
    Ok(())
}
