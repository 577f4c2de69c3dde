//! Sans-IO tracking core: event model, consent, queue policy, batching, retry and sessions.
//!
//! `spoor-core` is the logic every Spoor SDK shares (browser, mobile, Rust
//! backends). Like `quinn-proto`, it is fully deterministic: it opens no
//! sockets, reads no clock, spawns nothing. The host passes `now` into every
//! call, sends the batches the core hands out, reports how each send went and
//! wakes the core when it asks to. Randomness comes from a seed the host
//! passes at start.
//!
//! ```
//! use spoor_core::{Client, Config, MemoryStorage, SendOutcome, Timestamp, Track};
//!
//! let mut config = Config::default();
//! config.consent_mode = spoor_core::ConsentMode::GrantedUntilDecided;
//! let now = Timestamp::from_millis(1_777_802_400_000);
//! let mut client = Client::new(config, MemoryStorage::new(), [7; 32], now).unwrap();
//!
//! client.track(Track::new("product_clicked").property("productId", "p123"), now).unwrap();
//! client.flush(now);
//!
//! // The host loop: send what is due, report the outcome, sleep until poll_timeout().
//! while let Some(transmit) = client.poll_transmit(now).unwrap() {
//!     // POST transmit.body to {endpoint}/api/events/batch with the write key...
//!     assert!(transmit.body.starts_with(r#"{"batch":[{"sentAt":"#));
//!     client.on_response(transmit.batch_id, SendOutcome::status(200), now);
//! }
//! client.commit().unwrap();
//! assert_eq!(client.stats().delivered, 1);
//! assert_eq!(client.poll_timeout(), None);
//! ```
//!
//! See `docs/sdk.md` for how a host drives the client.

// `no_std` + `alloc` without the default `std` feature (the browser SDK's build).
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

extern crate alloc;

mod batch;
mod client;
mod config;
mod consent;
mod error;
mod event;
mod identity;
mod ids;
mod json;
pub mod json_lex;
#[cfg(any(test, feature = "test-strategies"))]
pub mod json_strategies;
mod message;
mod queue;
mod retry;
mod rng;
mod session;
mod stats;
pub mod storage;
mod time;

pub use batch::{BatchId, Transmit};
pub use client::{Client, FlushMark, Recorded};
pub use config::{Config, ConsentMode, Library};
pub use consent::ConsentState;
pub use error::Error;
pub use event::EventType;
pub use json::{JsonError, Properties};
pub use message::{Alias, EventOptions, Group, Identify, Message, Page, Screen, Track};
pub use retry::{SendOutcome, max_backoff, parse_retry_after};
pub use stats::Stats;
#[cfg(feature = "sqlite")]
pub use storage::SqliteStorage;
pub use storage::{MemoryStorage, Meta, QueuedEvent, Snapshot, Storage, StorageError, WriteBatch};
pub use time::Timestamp;
