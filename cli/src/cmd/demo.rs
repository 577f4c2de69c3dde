//! `spoor demo`: synthetic shop traffic into a running relay, through the Rust SDK.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use spoor_demo::{DemoConfig, plan, send};
use spoor_relay::keys::stored_keys;

/// Arguments of `spoor demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// The relay's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    endpoint: String,
    /// Write key (default: `SPOOR_WRITE_KEY`, else the key `spoor up` generated in --data-dir).
    #[arg(long, env = "SPOOR_WRITE_KEY")]
    write_key: Option<String>,
    /// Data directory of the relay, to find generated keys.
    #[arg(long, default_value = "./spoor-data", env = "SPOOR_DATA_DIR")]
    data_dir: PathBuf,
    /// Simulated people.
    #[arg(long, default_value_t = 500)]
    users: usize,
    /// Days of history, ending now.
    #[arg(long, default_value_t = 21)]
    days: u32,
    /// Random seed (the same seed gives the same traffic).
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// Runs `spoor demo`.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let write_key = match args.write_key {
        Some(key) => key,
        None => stored_keys(&args.data_dir)
            .context("reading the generated keys")?
            .map(|k| k.write_key)
            .with_context(|| {
                format!(
                    "no write key: pass --write-key, set SPOOR_WRITE_KEY, or point --data-dir at the directory `spoor up` uses (no keys in {})",
                    args.data_dir.display()
                )
            })?,
    };
    let end_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let config = DemoConfig {
        users: args.users,
        days: args.days,
        seed: args.seed,
        end_ms,
    };
    let plan = plan(&config);
    println!(
        "demo: {} people over {} days: {} events through the SDK ({} of them late), {} duplicates, {} invalid",
        config.users,
        config.days,
        plan.calls.len() + plan.late.len(),
        plan.late.len(),
        plan.duplicates.len(),
        plan.invalid.len()
    );
    let bar = ProgressBar::new((plan.calls.len() + plan.late.len()) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} events {per_sec} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let summary = runtime
        .block_on(send(&plan, &args.endpoint, &write_key, |done, _| {
            bar.set_position(done as u64)
        }))
        .with_context(|| format!("sending to {}", args.endpoint))?;
    bar.finish();
    println!(
        "sent: {} delivered, {} undelivered, {} duplicates, {} late, {} invalid (see `spoor log cat --dead-letter`)",
        summary.delivered, summary.undelivered, summary.duplicates, summary.late, summary.invalid
    );
    Ok(())
}
