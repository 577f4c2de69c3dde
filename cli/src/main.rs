//! `spoor`: one binary for the relay, the pipeline and the tools around them.
//!
//! The binary only parses arguments and calls library code; see `cmd/` for one
//! file per command.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod cmd;

use clap::Parser;

/// mimalloc instead of glibc's malloc: the relay allocates on its request threads and frees on
/// the log writer thread, which glibc answers with arena consolidation (BENCHMARKS.md, "Relay").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = cmd::Cli::parse();
    if let Err(error) = cmd::run(cli) {
        eprintln!("spoor: {error:#}");
        std::process::exit(1);
    }
}
