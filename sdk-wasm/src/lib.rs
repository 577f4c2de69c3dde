//! The Spoor browser SDK: spoor-core compiled to WASM behind wasm-bindgen.
