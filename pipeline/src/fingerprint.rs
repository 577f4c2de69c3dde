//! Stable 64-bit fingerprints (XXH3) and a hasher for maps keyed by them.

use std::hash::{BuildHasherDefault, Hasher};

/// The fingerprint of `parts` joined by a 0 byte; stable across runs and versions.
pub fn fingerprint(parts: &[&str]) -> u64 {
    let len: usize = parts.iter().map(|p| p.len() + 1).sum();
    let mut stack = [0u8; 256];
    let mut heap = Vec::new();
    let buf: &mut [u8] = if len <= stack.len() {
        &mut stack[..len]
    } else {
        heap.resize(len, 0);
        &mut heap
    };
    let mut at = 0;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            buf[at] = 0;
            at += 1;
        }
        buf[at..at + part.len()].copy_from_slice(part.as_bytes());
        at += part.len();
    }
    twox_hash::XxHash3_64::oneshot_with_seed(0, &buf[..at])
}

/// Passes a fingerprint through as its own hash (it is already one).
#[derive(Default, Clone, Copy)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Build hasher for `HashMap<u64, _>` keyed by fingerprints.
pub type FingerprintBuild = BuildHasherDefault<PassThrough>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separator_matters() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["web", "e1"]), fingerprint(&["web", "e1"]));
    }
}
