//! A sampling gate in front of a field's automaton, for fields whose
//! fragments are all long (hash IOCs: `sha256=…`, `imphash=…`).
//!
//! Such a field's values are usually unique (a hash per binary, per event in
//! the worst case), so the memo cannot help and the automaton walks every
//! byte of every value, over hundreds of fragments whose states miss the
//! caches. But an occurrence of a fragment of at least `W + Q - 1` bytes
//! contains, whole, the value's `W`-byte window that starts at the first
//! multiple of `Q` at or after the occurrence's start (that window starts
//! at most `Q - 1` bytes in). So if none of the value's windows at 0, Q,
//! 2Q, ... is a `W`-gram of some fragment, no fragment occurs, and the
//! value needs no walk: `len / Q` probes of a small Bloom filter instead of
//! `len` automaton steps. The filter has no false negatives; a false
//! positive only costs the walk. The window is two blocks long so that a
//! prefix every value and many fragments share (`sha256=` and one hex
//! digit fill a block) does not open the gate.

/// Step between windows (bytes).
const Q: usize = 8;
/// Window length (bytes): two little-endian `u64`s.
const W: usize = 2 * Q;

/// The shortest fragment the gate can stand in front of.
pub const MIN_FRAGMENT: usize = W + Q - 1;

/// A Bloom filter of every `W`-gram of a field's fragments (two probes).
pub struct Gate {
    bits: Vec<u64>,
    /// log2 of the filter's bit count.
    shift: u32,
}

/// A hash of the window at the start of `b`.
fn gram(b: &[u8]) -> u64 {
    let word = |at: usize| {
        let mut w = [0u8; Q];
        w.copy_from_slice(&b[at..at + Q]);
        u64::from_le_bytes(w)
    };
    word(0).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(31) ^ word(Q)
}

impl Gate {
    /// The gate for these (folded) fragments; `None` when one is shorter
    /// than [`MIN_FRAGMENT`] (an occurrence may then hold no whole block).
    pub fn new<'a>(fragments: impl Iterator<Item = &'a [u8]> + Clone) -> Option<Gate> {
        let mut grams = 0usize;
        for f in fragments.clone() {
            if f.len() < MIN_FRAGMENT {
                return None;
            }
            grams += f.len() - W + 1;
        }
        // About 32 bits per gram: ~0.4% false positives per probe.
        let log = (grams.max(1) * 32)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(12, 24);
        let mut g = Gate {
            bits: vec![0; 1 << (log - 6)],
            shift: log,
        };
        for f in fragments {
            for w in f.windows(W) {
                for i in g.probes(gram(w)) {
                    g.bits[i >> 6] |= 1 << (i & 63);
                }
            }
        }
        Some(g)
    }

    fn probes(&self, gram: u64) -> [usize; 2] {
        let a = gram.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let b = (gram ^ (gram >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        [
            (a >> (64 - self.shift)) as usize,
            (b >> (64 - self.shift)) as usize,
        ]
    }

    /// False when no fragment can occur in `hay` (folded like the fragments).
    pub fn may_match(&self, hay: &[u8]) -> bool {
        (0..hay.len().saturating_sub(W - 1)).step_by(Q).any(|at| {
            self.probes(gram(&hay[at..]))
                .iter()
                .all(|&i| self.bits[i >> 6] & (1 << (i & 63)) != 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Never says no where a fragment occurs, at any offset, including at
    /// the very end of the value; and says no to most values without one.
    #[test]
    fn never_misses_an_occurrence() {
        let mut next = crate::backend::matcher::xorshift(0x2545_f491_4f6c_dd1d);
        let mut hex = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| b"0123456789abcdef"[next() as usize % 16])
                .collect()
        };
        let mut rejected = 0;
        for round in 0..300 {
            // Half of them share the prefix of every value below.
            let frags: Vec<Vec<u8>> = (0..1 + round % 50)
                .map(|i| {
                    let mut f = if i % 2 == 0 {
                        b"sha256=".to_vec()
                    } else {
                        Vec::new()
                    };
                    f.extend(hex(MIN_FRAGMENT - f.len() + (i / 2 * 7) % 50));
                    f
                })
                .collect();
            let gate = Gate::new(frags.iter().map(Vec::as_slice)).unwrap();
            for k in 0..frags.len().min(8) {
                let f = &frags[(round + k) % frags.len()];
                for before in 0..2 * Q {
                    for after in [0, 1, Q - 1, Q, 3 * Q] {
                        let mut hay = b"sha256=".to_vec();
                        hay.extend(hex(before));
                        hay.extend_from_slice(f);
                        hay.extend(hex(after));
                        assert!(gate.may_match(&hay), "{:?} in {:?}", f, hay);
                    }
                }
            }
            let mut other = b"sha256=".to_vec();
            other.extend(hex(64));
            if !frags.iter().any(|f| other.windows(f.len()).any(|w| w == f)) {
                rejected += usize::from(!gate.may_match(&other));
            }
        }
        assert!(
            rejected > 290,
            "the gate let through {} of 300",
            300 - rejected
        );
    }

    #[test]
    fn short_fragments_get_no_gate() {
        let frags: [&[u8]; 2] = [b"imphash=0123456789abcdef", b"md5=0123456789abcdef12"];
        assert!(Gate::new(frags.iter().copied()).is_none());
        assert!(Gate::new(frags[..1].iter().copied()).is_some());
    }
}
