//! Spoor's relay: the HTTP collector in front of the durable event log.
//!
//! A request goes through auth (write key in a header or the body, compared in
//! constant time, rate-limited per key), size limits (decompressed size
//! counts), envelope parsing, per-event checks and JSON Schema validation
//! against the registry in `schemas/`, enrichment (receive time, clock-skew
//! correction, IP policy, parsed user agent) and then group commit into the
//! log. The answer is sent only after the records are fsynced. Refused events
//! go to the dead-letter log with their reason.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use spoor_relay::{Relay, config::RelayConfig, keys::ensure_keys};
//! let mut config = RelayConfig::load(None)?;
//! ensure_keys(&mut config)?;
//! let relay = Relay::open(config)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! relay.serve(relay.router(), listener, std::future::pending()).await?;
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod admin;
mod background;
pub mod body;
pub mod config;
pub mod enrich;
pub mod envelope;
pub mod erasure;
pub mod error;
pub mod incoming;
pub mod ingest;
mod ingest_route;
pub mod keys;
mod metrics;
pub mod raw_json;
mod read_api;
pub mod record;
pub mod schema_registry;
mod server;
pub mod wire;

pub use background::BackgroundRelay;
pub use server::{
    Relay, RelayState, StartError, dead_letter_dir, log_dir, wait_after_accept_error,
};
