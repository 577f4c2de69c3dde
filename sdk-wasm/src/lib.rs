//! The Spoor browser SDK: `spoor-core` compiled to WASM behind wasm-bindgen.
//!
//! This crate is the decision-making half of the npm package `@spoor/browser`
//! (`sdk-wasm/npm`). Everything that decides what happens to an event lives
//! in `spoor-core` and runs here: the event model and ids, sessions, the
//! consent gate, the bounded queue, batching, retry backoff. The JavaScript
//! half only moves bytes and keeps time: it reads the clock, persists the
//! write batches this crate hands it (IndexedDB or localStorage), sends the
//! batch bodies (`fetch` with `keepalive`, `navigator.sendBeacon`) and reports
//! how each send went. So the browser host is `quinn`-style thin around a
//! sans-IO core, and no policy is written twice.
//!
//! The surface is deliberately narrow and string-based (JSON text for
//! properties and options, plain numbers for times) so the WASM stays small
//! and each call crosses the JS/WASM boundary once.
//!
//! ```text
//! JS: calls ──► Tracker::record(kind, …, props JSON, options JSON, now)
//!     timer/online ──► Tracker::poll(now) ──► body ──► fetch / sendBeacon
//!     response ──► Tracker::on_response(status, retryAfter, now)
//!     Tracker::poll_timeout() ──► setTimeout
//!     StoreSink (JS) ◄── every committed WriteBatch, mirrored to IndexedDB
//! ```

mod call;
mod config;
mod store;
mod tracker;

pub use call::{CallError, CallKind, build_message};
pub use config::{ConfigError, parse_config};
pub use store::{JsStore, Loaded, StoreSink, WriteSink};
pub use tracker::Tracker;

/// Talc instead of Rust's default dlmalloc: smaller in the module (measured in
/// BENCHMARKS.md, "Browser SDK"). Single-threaded WASM only.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
