//! A small seeded random number generator (xoshiro256++).
//!
//! The core needs randomness for event ids, the anonymous id, session ids and
//! retry jitter, but must stay deterministic for tests and must not read the
//! OS (wasm32 has no `getrandom` without JavaScript glue). So the host hands
//! in a 32-byte seed from its own secure source, and the core expands it with
//! xoshiro256++ (Blackman and Vigna), seeded through SplitMix64 as its authors
//! recommend. A host that restarts must pass a fresh seed.

/// Deterministic random numbers from a host-given seed.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator from 32 seed bytes (use a fresh, secure seed in production).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let mut s = [0u64; 4];
        for (i, word) in s.iter_mut().enumerate() {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&seed[i * 8..i * 8 + 8]);
            // SplitMix64 over each word, so weak seeds (all zero) still give a good state.
            *word = splitmix64(
                u64::from_le_bytes(bytes) ^ 0x9E37_79B9_7F4A_7C15_u64.wrapping_mul(i as u64 + 1),
            );
        }
        Rng { s }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[0]
            .wrapping_add(self.s[3])
            .rotate_left(23)
            .wrapping_add(self.s[0]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Fills `dest` with random bytes.
    pub fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    /// A uniform value in `0..=max` (Lemire's method, no modulo bias).
    pub fn up_to(&mut self, max: u64) -> u64 {
        if max == u64::MAX {
            return self.next_u64();
        }
        let range = max + 1;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(range);
            let low = product as u64;
            if low >= range.wrapping_neg() % range {
                return (product >> 64) as u64;
            }
        }
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_different_seed_different_sequence() {
        let mut a = Rng::from_seed([7; 32]);
        let mut b = Rng::from_seed([7; 32]);
        let mut c = Rng::from_seed([8; 32]);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn zero_seed_is_not_degenerate() {
        let mut rng = Rng::from_seed([0; 32]);
        let xs: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert!(xs.iter().all(|&x| x != 0));
    }

    #[test]
    fn up_to_stays_in_bounds_and_covers_the_range() {
        let mut rng = Rng::from_seed([1; 32]);
        let mut seen = [false; 5];
        for _ in 0..1_000 {
            let v = rng.up_to(4);
            assert!(v <= 4);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(rng.up_to(0), 0);
    }
}
