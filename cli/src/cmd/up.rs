//! `spoor up` and `spoor relay`: serve until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use spoor_pipeline::Pipeline;
use spoor_relay::Relay;
use spoor_relay::config::RelayConfig;
use spoor_relay::keys::ensure_keys;

/// Prints a line to standard output, ignoring a closed or full stdout: a
/// relay whose terminal went away keeps serving and still shuts down cleanly.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Arguments of `spoor up` and `spoor relay`.
#[derive(Args)]
pub struct UpArgs {
    /// Data directory (default `./spoor-data`, or `data_dir` in spoor.toml).
    #[arg(long, env = "SPOOR_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080, or `listen` in spoor.toml).
    #[arg(long, env = "SPOOR_LISTEN")]
    listen: Option<SocketAddr>,
    /// Configuration file (default ./spoor.toml when present).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Loads the configuration, opens the relay and serves it.
pub fn run(args: UpArgs, with_pipeline: bool) -> anyhow::Result<()> {
    // The relay's errors (a full disk, a failed log write, a broken export) go to
    // stderr, one line each; its answers already tell the clients.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .with_target(false)
        .try_init();
    let mut config =
        RelayConfig::load(args.config.as_deref()).context("loading the configuration")?;
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(keys) = ensure_keys(&mut config).context("setting up keys")? {
        say!(
            "generated keys (stored in {}):",
            config.data_dir.join("keys.toml").display()
        );
        if config.sources.iter().any(|s| s.write_key == keys.write_key) {
            say!("  write key: {}", keys.write_key);
        }
        if config.read_key.as_deref() == Some(keys.read_key.as_str()) {
            say!("  read key:  {}", keys.read_key);
        }
    }
    let listen = config.listen;
    let data_dir = config.data_dir.clone();
    let relay = Relay::open(config).context("starting the relay")?;
    if relay.repaired_bytes() > 0 {
        say!(
            "recovered the log: cut {} bytes of torn tail",
            relay.repaired_bytes()
        );
    }
    // The pipeline reads only what the relay has made durable, on a thread of its own.
    let pipeline = if with_pipeline {
        let mut pipeline_config = relay.state().config.pipeline.clone();
        pipeline_config.durable_offset = Some(relay.durable_offset());
        let pipeline = Pipeline::start(&data_dir, pipeline_config)
            .with_context(|| format!("starting the pipeline in {}", data_dir.display()))?;
        Some(pipeline)
    } else {
        None
    };
    let runtime = relay.runtime().context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let local = listener.local_addr()?;
        say!(
            "spoor {} listening on http://{local} (data in {})",
            if pipeline.is_some() {
                "relay and pipeline"
            } else {
                "relay"
            },
            data_dir.display()
        );
        relay
            .serve(relay.router(), listener, shutdown_signal())
            .await
            .context("serving")?;
        say!("shutting down");
        anyhow::Ok(())
    })?;
    if let Some(pipeline) = pipeline {
        if let Some(e) = pipeline.last_error() {
            say!("the pipeline's last error: {e}");
        }
        pipeline
            .stop()
            .context("stopping the pipeline after its current range")?;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
