//! Spoor's pipeline: tails the relay's log, dedupes, stitches identities,
//! sessionizes, writes Hive-partitioned Parquet and real-time aggregates.
//!
//! Stages ([`stage::Stage`]) run over each range of log records in order:
//! [`dedupe`] → [`identity`] → [`watermark`] → [`sessionize`] → [`realtime`],
//! and the [`sink::raw`] sink writes every deduplicated event. A range's
//! outputs are named by the range (`part-<first>-<last>`) and written before
//! the position commits ([`checkpoint`]), so a crash or a [`replay`]
//! overwrites instead of double-counting. The file layout is in
//! `docs/pipeline.md`.
//!
//! ```no_run
//! use spoor_pipeline::{Pipeline, PipelineConfig};
//! let pipeline = Pipeline::start("./spoor-data".as_ref(), PipelineConfig::default()).unwrap();
//! // ... the relay appends to ./spoor-data/log ...
//! pipeline.stop().unwrap();
//! let minutes = spoor_pipeline::realtime::read("./spoor-data".as_ref()).unwrap();
//! # let _ = minutes;
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod checkpoint;
pub mod columns;
pub mod compact;
pub mod config;
pub mod dedupe;
pub mod erasure;
pub mod error;
pub mod event;
pub mod fingerprint;
pub mod identity;
pub mod late_sessions;
pub mod layout;
pub mod metrics;
pub mod range_file;
pub mod realtime;
pub mod record_json;
pub mod registry;
pub mod replay;
pub mod runner;
pub mod sessionize;
pub mod sink;
pub mod stage;
pub mod synth;
pub mod timefmt;
pub mod watermark;
pub mod writer;

mod handle;

pub use config::PipelineConfig;
pub use error::PipelineError;
pub use handle::Pipeline;
pub use runner::{Followed, Progress, Runner};
