//! The Spoor SDK for Rust backend services: spoor-core on a tokio task with a reqwest transport.
