//! `spoor demo`: synthetic but realistic shop traffic through the real Rust SDK.
//!
//! [`model::plan`] builds, from a seed, the visits of many people over some
//! days: campaigns (UTM source/medium/name, referrers), searches, product
//! impressions and clicks, the checkout funnel with drop-offs, an A/B test on
//! the checkout button (`experiment_viewed`, with a real difference in
//! conversion), sign-ups that identify anonymous visitors, a few devices that
//! were offline (late events), retried batches (duplicates) and invalid
//! events. [`run::send`] plays it into a running relay with [`spoor::Spoor`],
//! event times set to when each event happened.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod model;
pub mod run;

pub use model::{DemoConfig, Plan, plan};
pub use run::{DemoError, Summary, send};
