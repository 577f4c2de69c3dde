//! `spoor pipeline`: run the pipeline alone over a data directory.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use spoor_pipeline::{Pipeline, PipelineConfig, Runner};
use spoor_relay::config::RelayConfig;

/// Arguments of `spoor pipeline`.
#[derive(Args)]
pub struct PipelineArgs {
    /// Data directory (the relay's `log/` is read; `raw/`, `tables/`, `state/` are written).
    #[arg(long, default_value = "./spoor-data", env = "SPOOR_DATA_DIR")]
    data_dir: PathBuf,
    /// Process what the log holds now, then exit (default: follow it until Ctrl-C or SIGTERM).
    #[arg(long)]
    once: bool,
    /// Most records per committed range.
    #[arg(long)]
    batch: Option<usize>,
    /// Milliseconds between looks at the log when it has nothing new.
    #[arg(long)]
    poll_ms: Option<u64>,
    /// Most milliseconds between commits while catching up (0: commit every range).
    #[arg(long)]
    commit_ms: Option<u64>,
    /// Configuration file whose `[pipeline]` table is used (default ./spoor.toml when present).
    #[arg(long)]
    config: Option<PathBuf>,
}

impl PipelineArgs {
    fn config(&self) -> anyhow::Result<PipelineConfig> {
        let mut config = RelayConfig::load(self.config.as_deref())
            .context("loading the configuration")?
            .pipeline;
        if let Some(b) = self.batch {
            config.max_batch_records = b;
        }
        if let Some(p) = self.poll_ms {
            config.poll_interval_ms = p;
        }
        if let Some(c) = self.commit_ms {
            config.commit_interval_ms = c;
        }
        Ok(config)
    }
}

/// Runs `spoor pipeline`.
pub fn run(args: PipelineArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    if args.once {
        let mut runner = Runner::open(&args.data_dir, config).with_context(|| {
            format!("opening the pipeline state in {}", args.data_dir.display())
        })?;
        runner.run_to_end(|_| {}).context("processing the log")?;
        summary(&args, runner.offset());
        return Ok(());
    }
    let from = spoor_pipeline::checkpoint::committed_offset(&args.data_dir).unwrap_or(0);
    let pipeline = Pipeline::start(&args.data_dir, config)
        .with_context(|| format!("starting the pipeline in {}", args.data_dir.display()))?;
    println!(
        "spoor pipeline following {} from offset {from}",
        args.data_dir.join("log").display()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the signal handler")?;
    runtime.block_on(stop_signal());
    println!("stopping after the current range");
    pipeline.stop().context("stopping the pipeline")?;
    let offset = spoor_pipeline::checkpoint::committed_offset(&args.data_dir).unwrap_or(0);
    summary(&args, offset);
    Ok(())
}

fn summary(args: &PipelineArgs, offset: u64) {
    match spoor_pipeline::metrics::read(&args.data_dir) {
        Ok(m) => println!(
            "committed offset {offset}: {} events, {} duplicates ({:.2}%), {} late, {} unreadable records",
            m.events,
            m.duplicates,
            100.0 * m.duplicate_rate(),
            m.late_events,
            m.unreadable
        ),
        Err(e) => println!("committed offset {offset} (metrics unreadable: {e})"),
    }
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
