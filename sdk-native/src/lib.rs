//! The Spoor SDK for Rust backend services: spoor-core on a tokio task with a reqwest transport.
//!
//! [`Spoor`] records calls on the calling thread in well under a microsecond
//! or two: it takes the time and hands the call to a background task over a
//! channel. The task runs the sans-IO [`spoor_core::Client`]: consent,
//! sessions, the queue (in memory or SQLite), batching, and retry with
//! backoff; it posts batches with reqwest over rustls. [`blocking::Spoor`] is
//! the same client for code without an async runtime.
//!
//! ```no_run
//! use std::time::Duration;
//! use spoor::{Options, Spoor, Track};
//!
//! # async fn run() -> Result<(), spoor::Error> {
//! let options = Options::new("http://127.0.0.1:8080", "write-key").queue_path("spoor-queue.db");
//! let spoor = Spoor::start(options)?;
//! spoor.track(Track::new("order_completed").property("orderId", "o-1").property("total", 42.5))?;
//! spoor.flush(Duration::from_secs(5)).await?;
//! spoor.shutdown(Duration::from_secs(5)).await?;
//! # Ok(()) }
//! ```
//!
//! With the SQLite queue, events the relay has not acknowledged survive a
//! restart and are sent again with their original `eventId`s.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod blocking;
mod clock;
mod error;
mod handle;
mod options;
mod transport;
mod worker;

pub use error::Error;
pub use handle::{Spoor, Stats};
pub use options::{Options, QueueStore};
pub use spoor_core::{
    Alias, Config, ConsentMode, EventOptions, Group, Identify, Library, Message, Page, Properties,
    Screen, Track,
};
