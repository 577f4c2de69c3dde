//! The fuzz targets' seed corpora (`fuzz/seeds/TARGET/`), for the tests that run each harness
//! on them on stable Rust: `relay/`, `pipeline/` and `sdk-wasm/tests/fuzz_regressions.rs`
//! include this file as a module.

use std::path::Path;

/// Every file of `fuzz/seeds/{target}`, by name, in name order; panics when there are fewer
/// than `at_least` (the corpus went missing). `manifest_dir` is the calling crate's folder.
pub fn seeds(manifest_dir: &str, target: &str, at_least: usize) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(manifest_dir).join("../fuzz/seeds").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= at_least,
        "the {target} seed corpus is missing"
    );
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}
