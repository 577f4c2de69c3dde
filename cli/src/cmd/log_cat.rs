//! `spoor log cat`: the log as NDJSON, one record per line, as stored.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use spoor_log::LogReader;
use spoor_relay::{dead_letter_dir, log_dir};

/// `spoor log ...`
#[derive(Subcommand)]
pub enum LogCommand {
    /// Print records as NDJSON (one event per line, fields as stored).
    Cat(CatArgs),
}

/// Arguments of `spoor log cat`.
#[derive(Args)]
pub struct CatArgs {
    /// Data directory of the relay.
    #[arg(long, default_value = "./spoor-data", env = "SPOOR_DATA_DIR")]
    data_dir: PathBuf,
    /// Read the dead-letter log (refused events with their reason).
    #[arg(long)]
    dead_letter: bool,
    /// First record offset to print.
    #[arg(long, default_value_t = 0)]
    from: u64,
}

/// Runs `spoor log ...`.
pub fn run(command: LogCommand) -> anyhow::Result<()> {
    let LogCommand::Cat(args) = command;
    let dir = if args.dead_letter {
        dead_letter_dir(&args.data_dir)
    } else {
        log_dir(&args.data_dir)
    };
    if !dir.exists() {
        anyhow::bail!("no log at {} (is --data-dir right?)", dir.display());
    }
    let mut reader =
        LogReader::open(&dir, args.from).with_context(|| format!("opening {}", dir.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = (|| -> anyhow::Result<()> {
        while let Some((_, payload)) = reader.next_record().context("reading the log")? {
            // A record erased at its user's request is a hole, not an event.
            if spoor_log::erase::is_erased(&payload) {
                continue;
            }
            out.write_all(&payload)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        Ok(())
    })();
    match written {
        // A reader that stopped early (`| head`) is not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}
