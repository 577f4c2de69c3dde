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
//!
//! In the browser the crate is `no_std` (with `alloc`), and so is the
//! `spoor-core` it builds: the standard library's panic handler formats every
//! panic message, which kept `core::fmt` and the panic strings in the WASM.
//! Here a panic traps (it cannot happen on valid input; a trap surfaces in JS
//! as a `RuntimeError`, which the npm package catches and reports like any error).

#![cfg_attr(target_family = "wasm", no_std)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

extern crate alloc;

mod call;
mod config;
mod store;
mod tracker;

pub use call::{CallError, CallKind, build_message, non_negative};
pub use config::{ConfigError, parse_config};
pub use store::{JsStore, Loaded, StoreSink, WriteSink};
pub use tracker::Tracker;

/// Talc instead of Rust's default dlmalloc: smaller in the module (measured in
/// BENCHMARKS.md, "Browser SDK"). Single-threaded WASM only.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// What a panic does in the browser: trap, without formatting its message
/// (`panic = "abort"` in `build.sh`'s profile; the std handler it replaces
/// would have formatted the message, then aborted the same way).
#[cfg(all(target_family = "wasm", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
