//! `spoor export`: raw events of a time range to NDJSON, CSV or Parquet, with a progress bar.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use spoor_analytics::ExportQuery;
use spoor_analytics::export::PROPERTY_PREFIX;

use super::data_range::{DataRange, flag_error};

/// Options of `spoor export`.
#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    range: DataRange,
    /// Only these events (comma-separated).
    #[arg(long)]
    events: Option<String>,
    /// Property filter `KEY=VALUE` (repeatable; all must match).
    #[arg(long = "where", value_name = "KEY=VALUE")]
    filters: Vec<String>,
    /// ndjson (default), csv or parquet.
    #[arg(long)]
    format: Option<String>,
    /// Output file (default standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs the export.
pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let mut params = args
        .range
        .params([("events", args.events), ("format", args.format)]);
    for filter in &args.filters {
        let (key, value) = filter
            .split_once('=')
            .with_context(|| format!("--where {filter}: expected KEY=VALUE"))?;
        params.insert(format!("{PROPERTY_PREFIX}{key}"), value.to_string());
    }
    let query = ExportQuery::from_params(&params).map_err(flag_error)?;
    let out: Box<dyn Write + Send> = match &args.output {
        Some(path) => {
            Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?)
        }
        None => Box::new(std::io::stdout()),
    };
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} rows read · {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    };
    let done = spoor_analytics::export(&args.range.data(), &query, out, |progress| {
        bar.set_length(progress.rows_total);
        bar.set_position(progress.rows_read);
        bar.set_message(format!(
            "{} written, file {}/{}",
            progress.rows_written, progress.files_read, progress.files_total
        ));
    })
    .context("exporting")?;
    bar.finish_and_clear();
    if !args.quiet {
        eprintln!(
            "exported {} of {} events from {} files{}",
            done.rows_written,
            done.rows_read,
            done.files_total,
            args.output
                .as_ref()
                .map(|p| format!(" to {}", p.display()))
                .unwrap_or_default()
        );
    }
    Ok(())
}
