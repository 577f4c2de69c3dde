//! The browser SDK's fuzz harness (`fuzz/src/sdk.rs`, the same code cargo-fuzz runs) on the
//! seed corpus and on inputs written to reach its corners, so it runs on stable Rust in
//! every test run. See docs/fuzzing.md.

#[path = "../../fuzz/src/sdk.rs"]
mod harness;

use std::path::Path;

#[test]
fn seed_corpus_keeps_every_promise() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/sdk");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 15, "the seed corpus is missing");
    for path in seeds {
        eprintln!("seed {}", path.display());
        harness::sdk_one(&std::fs::read(&path).unwrap());
    }
}

#[test]
fn numbers_at_the_edges_read_like_serde_json() {
    for text in [
        "0",
        "-0",
        "0.9",
        "1e0",
        "1E+2",
        "9007199254740993",
        "18446744073709551615",
        "18446744073709551616",
        "1.7976931348623157e308",
        "4.9e-324",
        "123456789.987654321e-3",
        "0e99999999999999999999",
        "1e-99999999999999999999",
        "-1e-400",
    ] {
        let mut input = vec![2];
        input.extend_from_slice(text.as_bytes());
        harness::sdk_one(&input);
    }
}

/// What stopped the fuzzer on 30 Nov (docs/fuzzing.md): a number out of an f64's range, which
/// the core took and the relay refused; and two inputs the harness itself misjudged.
#[test]
fn inputs_that_once_stopped_the_fuzzer() {
    for (selector, text) in [
        (0, "1844067714.20e751616000"),
        (0, r#"{"n":1e400}"#),
        (2, "\n\n\n102"),
        (
            2,
            "18440677443.99999999996440675651184467440737095516656511467440737095516160100",
        ),
    ] {
        let mut input = vec![selector];
        input.extend_from_slice(text.as_bytes());
        harness::sdk_one(&input);
    }
    assert_eq!(
        spoor_core::Properties::from_json(r#"{"n":1e400}"#),
        Err(spoor_core::JsonError::NumberOutOfRange)
    );
}
