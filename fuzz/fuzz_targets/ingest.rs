//! Arbitrary bytes through the relay's parse → validate → enrich path.
//! See `docs/fuzzing.md` and `src/lib.rs` for the input layout and the checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    spoor_fuzz::ingest_one(data);
});
