//! Load generators and benchmarks for Spoor (`spoor bench`).
//!
//! [`relay::run`] starts a real relay in-process (fsync on, data in a
//! temporary directory) and nginx answering 204 from a temporary config, and
//! loads both with the same closed-loop HTTP/1.1 generator ([`load`]): single
//! events and batches, each at fixed numbers of keep-alive connections, reporting
//! requests/s, events/s and p50/p99 latency; [`hyper_floor`] shows beside them
//! what hyper alone answers when it does no work. [`stages`] times each stage of the
//! ingestion path per event on one core, to show where the time goes.
//!
//! ```no_run
//! use std::time::Duration;
//! use spoor_bench::relay::{RelayBenchOptions, run};
//! let report = run(&RelayBenchOptions {
//!     connections: vec![64, 256],
//!     warmup: Duration::from_secs(2),
//!     duration: Duration::from_secs(10),
//!     rounds: 3,
//!     batch_size: 100,
//!     fsync: true,
//!     nginx: spoor_bench::nginx::Nginx::locate(),
//!     data_parent: None,
//!     threads: 2,
//!     relay_workers: None,
//!     only: None,
//!     hyper_floor: false,
//! })?;
//! println!("{}", spoor_bench::report::markdown(&report));
//! # Ok::<(), spoor_bench::relay::BenchError>(())
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod cpu;
pub mod hyper_floor;
pub mod load;
pub mod nginx;
pub mod relay;
pub mod report;
pub mod stages;
