//! End-to-end tests across Spoor's crates (in `tests/tests/`): an event's whole
//! path from the Rust SDK through the relay's HTTP API and durable log, the
//! pipeline running behind the relay's durable offset, to the answers of the
//! read API. Per-crate tests live with their crates; this crate holds only
//! what needs all of them at once, and has no library code of its own.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]
