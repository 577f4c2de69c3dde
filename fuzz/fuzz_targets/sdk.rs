//! Arbitrary page input through the browser SDK's readers, held to serde_json.
//! See `docs/fuzzing.md` and `src/sdk.rs` for the input layout and the checks.

#![no_main]

#[path = "../src/sdk.rs"]
mod sdk;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sdk::sdk_one(data);
});
