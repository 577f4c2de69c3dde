//! The schema registry's files, embedded at build time.
//!
//! `schemas/events/<name>.v<version>.json` holds one JSON Schema per event
//! name and version (see `schemas/README.md` for Spoor's `x-` keywords). The
//! relay compiles them into validators; the pipeline derives typed Parquet
//! columns from their properties. Both read them from here, so there is one
//! list of schemas in the binary.
//!
//! ```
//! assert!(spoor_schemas::EMBEDDED_SCHEMAS.iter().any(|(file, _)| *file == "purchase_completed.v1.json"));
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

include!(concat!(env!("OUT_DIR"), "/schemas.rs"));
