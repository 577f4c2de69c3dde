//! Arbitrary bytes as a stored record through the pipeline's reader, held to serde_json.
//! See `docs/fuzzing.md` and `src/record.rs` for the checks.

#![no_main]

#[path = "../src/record.rs"]
mod record;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    record::record_one(data);
});
