//! The commands, one module each.

mod bench;
mod data_range;
mod delete_user;
mod demo;
mod export;
mod log_cat;
mod pipeline;
mod query;
mod replay;
mod up;

use clap::{Parser, Subcommand};

/// Spoor: event tracking with a durable relay and an analytics pipeline.
#[derive(Parser)]
#[command(name = "spoor", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the relay and the pipeline in one process on embedded defaults.
    Up(up::UpArgs),
    /// Run the relay alone.
    Relay(up::UpArgs),
    /// Run the pipeline alone: tail the log into raw Parquet, sessions and aggregates.
    Pipeline(pipeline::PipelineArgs),
    /// Rebuild everything downstream of the log from an offset.
    Replay(replay::ReplayArgs),
    /// Benchmarks: `spoor bench relay` (the relay beside nginx, same load generator).
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
    /// Send synthetic shop traffic to a running relay through the Rust SDK.
    Demo(demo::DemoArgs),
    /// Read the event log or the dead-letter log.
    Log {
        #[command(subcommand)]
        command: log_cat::LogCommand,
    },
    /// Funnels, retention, attribution and experiments from the pipeline's tables.
    Query {
        #[command(subcommand)]
        command: query::QueryCommand,
    },
    /// Raw events of a time range to NDJSON, CSV or Parquet.
    Export(export::ExportArgs),
    /// Erase a user everywhere (asks the running relay); their later events are refused.
    DeleteUser(delete_user::DeleteUserArgs),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Up(args) => up::run(args, true),
        Command::Relay(args) => up::run(args, false),
        Command::Pipeline(args) => pipeline::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Bench { command } => bench::run(command),
        Command::Demo(args) => demo::run(args),
        Command::Log { command } => log_cat::run(command),
        Command::Query { command } => query::run(command),
        Command::Export(args) => export::run(args),
        Command::DeleteUser(args) => delete_user::run(args),
    }
}
