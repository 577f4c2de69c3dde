//! `spoor replay`: rebuild everything downstream of the log, with a progress bar.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use spoor_relay::config::RelayConfig;

/// Arguments of `spoor replay`.
#[derive(Args)]
pub struct ReplayArgs {
    /// Data directory.
    #[arg(long, default_value = "./spoor-data", env = "SPOOR_DATA_DIR")]
    data_dir: PathBuf,
    /// Log offset to rebuild from (0 = everything). Lowered to the start of an output file
    /// that spans it.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Most records per committed range.
    #[arg(long)]
    batch: Option<usize>,
    /// Configuration file whose `[pipeline]` table is used (default ./spoor.toml when present).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Runs `spoor replay`. Stop a running `spoor pipeline` or `spoor up` on the same data first.
pub fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let log = args.data_dir.join("log");
    if !log.exists() {
        anyhow::bail!("no log at {} (is --data-dir right?)", log.display());
    }
    let total: u64 = std::fs::read_dir(&log)
        .with_context(|| format!("listing {}", log.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        )
        .context("progress bar template")?,
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut config = RelayConfig::load(args.config.as_deref())
        .context("loading the configuration")?
        .pipeline;
    if let Some(b) = args.batch {
        config.max_batch_records = b;
    }
    let start = spoor_pipeline::replay::prepare(&args.data_dir, args.from)
        .context("preparing the replay")?;
    bar.println(format!(
        "rewriting outputs from offset {start} (state is rebuilt from offset 0)"
    ));
    let mut runner =
        spoor_pipeline::Runner::open(&args.data_dir, config).context("opening the pipeline")?;
    runner
        .run_to_end(|p| {
            bar.set_position(p.bytes_read);
            bar.set_message(format!("offset {}", p.offset));
        })
        .context("replaying")?;
    bar.finish_with_message(format!("offset {}", runner.offset()));
    let m = runner.metrics();
    println!(
        "replayed to offset {}: {} events, {} duplicates, {} late, {} sessions closed",
        runner.offset(),
        m.events,
        m.duplicates,
        m.late_events,
        m.sessions_closed
    );
    Ok(())
}
