//! The record reader's fuzz harness (`fuzz/src/record.rs`, the same code cargo-fuzz runs) on
//! the seed corpus and on inputs written to reach its corners, so it runs on stable Rust in
//! every test run. See docs/fuzzing.md.

#[path = "../../fuzz/src/record.rs"]
mod harness;

use std::path::Path;

#[test]
fn seed_corpus_keeps_every_promise() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/record");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 15, "the seed corpus is missing");
    for path in seeds {
        eprintln!("seed {}", path.display());
        harness::record_one(&std::fs::read(&path).unwrap());
    }
}

#[test]
fn every_cut_and_changed_byte_of_a_seed_keeps_every_promise() {
    let seed = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/seeds/record/20-escapes-and-whitespace.json"),
    )
    .unwrap();
    for cut in 0..seed.len() {
        harness::record_one(&seed[..cut]);
        for byte in [b'"', b'\\', b'{', b'}', b',', b'n', 0xff] {
            let mut changed = seed.clone();
            changed[cut] = byte;
            harness::record_one(&changed);
        }
    }
}
