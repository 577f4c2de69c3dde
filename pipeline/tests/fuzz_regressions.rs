//! The record reader's fuzz harness (`fuzz/src/record.rs`, the same code cargo-fuzz runs) on
//! the seed corpus and on inputs written to reach its corners, so it runs on stable Rust in
//! every test run. See docs/fuzzing.md.

#[path = "../../fuzz/src/record.rs"]
mod harness;
#[path = "../../fuzz/src/seeds.rs"]
mod seeds;

#[test]
fn seed_corpus_keeps_every_promise() {
    for (name, input) in seeds::seeds(env!("CARGO_MANIFEST_DIR"), "record", 15) {
        eprintln!("seed {name}");
        harness::record_one(&input);
    }
}

#[test]
fn every_cut_and_changed_byte_of_a_seed_keeps_every_promise() {
    let (_, seed) = seeds::seeds(env!("CARGO_MANIFEST_DIR"), "record", 15)
        .into_iter()
        .find(|(name, _)| name == "20-escapes-and-whitespace.json")
        .expect("the seed with escapes and whitespace");
    for cut in 0..seed.len() {
        harness::record_one(&seed[..cut]);
        for byte in [b'"', b'\\', b'{', b'}', b',', b'n', 0xff] {
            let mut changed = seed.clone();
            changed[cut] = byte;
            harness::record_one(&changed);
        }
    }
}
