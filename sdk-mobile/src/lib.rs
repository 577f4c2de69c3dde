//! The Spoor mobile SDK: spoor-core behind a UniFFI surface for Kotlin and Swift.
//!
//! Android and iOS apps call [`SpoorClient`] through generated bindings
//! (`bindings/kotlin`, `bindings/swift`); they never see Rust. The client is
//! the native host of the `spoor` crate (the sans-IO core on a background
//! task, a reqwest transport, the SQLite queue) on a one-thread tokio runtime
//! the library owns, so every recording call returns without touching the
//! disk or the network.
//!
//! The FFI surface is synchronous on purpose: no `async` exports, so the
//! Kotlin side needs no coroutines library. Properties are [`JsonValue`]s, a
//! UniFFI enum (a sealed class in Kotlin, an enum in Swift); errors are
//! [`SpoorError`] (`SpoorException` in Kotlin) with a message that names the
//! bad argument.
//!
//! ```no_run
//! use std::collections::HashMap;
//! use spoor_mobile::{JsonValue, SpoorClient, SpoorConfig};
//!
//! # fn main() -> Result<(), spoor_mobile::SpoorError> {
//! let spoor = SpoorClient::configure(SpoorConfig {
//!     write_key: "android-write-key".into(),
//!     endpoint: "https://events.example.com".into(),
//!     data_dir: "/data/user/0/com.example/files/spoor".into(),
//!     flush_at: None,
//!     flush_interval_ms: None,
//!     max_queue_events: None,
//!     max_queue_bytes: None,
//!     request_timeout_ms: None,
//!     session_timeout_ms: None,
//!     require_consent: true,
//!     track_lifecycle_events: false,
//!     context: HashMap::new(),
//! })?;
//! spoor.set_consent(vec!["analytics".into()])?;
//! let properties = HashMap::from([("productId".to_string(), JsonValue::from("p1"))]);
//! spoor.track("product_clicked".into(), properties, None)?;
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod claim;
mod client;
mod config;
mod error;
mod json;
mod stats;

pub use client::{EventOptions, SpoorClient};
pub use config::{QUEUE_FILE, SpoorConfig};
pub use error::SpoorError;
pub use json::{JsonValue, MAX_DEPTH};
pub use stats::SpoorStats;

uniffi::setup_scaffolding!();
