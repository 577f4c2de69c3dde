//! The Spoor mobile SDK: spoor-core behind a UniFFI surface for Kotlin and Swift.
