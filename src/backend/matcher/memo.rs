//! A memo of what a field's automaton finds in a value.
//!
//! Real logs repeat field values: the same images, parents, users, service
//! command lines, integrity levels, thousands of times. Scanning a value
//! with a field's automaton (thousands of command-line fragments) costs far
//! more than hashing and comparing it, so each worker keeps, per field of
//! each index, a direct-mapped table from recent values to the literals
//! found in them and where (the positional marks of `exact.rs`).
//!
//! Direct-mapped and fixed-size: a lookup hashes the value and compares it
//! with one slot, so the work per value is bounded whatever the input (no
//! chains for crafted collisions to lengthen), memory is bounded, and a
//! miss replaces the slot (steady state allocates nothing). A slot holds
//! the value's hash, so that most misses read nothing else, and one buffer
//! with the hits then the value, so that a hit reads one place in memory,
//! not three (the memos of a rule set's fields outgrow the caches). A field whose
//! values do not repeat (hashes, GUIDs) stops being memoised after a window
//! of misses and is probed again later, so unique values cost one window
//! of hashing, not a hash per value forever.

/// Slots per field (a power of two).
const SLOTS: usize = 4096;
/// Longer values are scanned, not memoised (rarely repeated, costly to key).
const MAX_KEY: usize = 512;
/// Lookups per window of the hit-rate check.
const WINDOW: u32 = 1024;
/// Values scanned without the memo after a window with too few hits.
const PAUSE: u32 = 16 * 1024;

/// One literal found in a value: its id (high 56 bits) and its mark
/// offsets (low 8 bits; bit `k` set: mark `k` of `exact.rs`).
pub type Hit = u64;

/// A [`Hit`] of literal `id` with marks `bits`.
pub fn hit(id: u32, bits: u8) -> Hit {
    u64::from(id) << 8 | u64::from(bits)
}

/// The literal id and marks of a [`Hit`].
pub fn parts(h: Hit) -> (u32, u8) {
    ((h >> 8) as u32, h as u8)
}

#[derive(Default)]
struct Slot {
    /// The value's hash (0: empty).
    tag: u64,
    /// Bytes of `data` that are hits (the rest is the value).
    hits: u32,
    /// The hits (eight bytes each, little-endian), then the value.
    data: Vec<u8>,
}

/// The memo of one field's automaton.
#[derive(Default)]
pub struct FieldMemo {
    slots: Vec<Slot>,
    lookups: u32,
    found: u32,
    /// Values still to scan without the memo.
    paused: u32,
}

/// Hits as a memo keeps them.
#[derive(Debug, Clone, Copy)]
pub struct Hits<'m>(&'m [u8]);

impl<'m> Hits<'m> {
    pub fn iter(self) -> impl Iterator<Item = Hit> + 'm {
        self.0
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
    }
}

/// What the memo knows of a value.
pub enum Lookup<'m> {
    /// The literals found in it when it was last scanned (it is ASCII).
    Hit(Hits<'m>),
    /// Not known (it is ASCII): scan it, then [`FieldMemo::store`] what was
    /// found here.
    Miss(usize, u64),
    /// Not memoised (too long, or the field's values do not repeat); not
    /// known to be ASCII or not.
    Skip,
    /// Not ASCII: never memoised (such values are folded another way).
    Wide,
}

/// A value's hash, and whether it is ASCII, in one pass: the hashed words
/// are OR-ed together, so that the caller need not check the bytes again.
/// Two lanes of 8 bytes, independent (the multiplies overlap), and the
/// last 1 to 16 bytes read as two words that may overlap, not byte by
/// byte. Never 0 (the empty slot's tag).
#[inline]
fn hash_ascii(v: &[u8]) -> (u64, bool) {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |b: &[u8]| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    // The length starts a lane: values equal but for trailing zero bytes
    // differ.
    let (mut a, mut b, mut any) = (v.len() as u64, 0u64, 0u64);
    let mut rest = v;
    while rest.len() > 16 {
        let (x, y) = (word(&rest[..8]), word(&rest[8..16]));
        any |= x | y;
        a = mix(a, x);
        b = mix(b, y);
        rest = &rest[16..];
    }
    // The last 1 to 16 bytes (none for the empty value): the first and
    // last eight of them when there are eight, else the value's last eight
    // (bytes hashed already come again), else the value zero-padded.
    let (x, y) = if rest.len() >= 8 {
        (word(rest), word(&rest[rest.len() - 8..]))
    } else if v.len() >= 8 {
        (word(&v[v.len() - 8..]), 0)
    } else {
        let mut pad = [0u8; 8];
        pad[..rest.len()].copy_from_slice(rest);
        (u64::from_le_bytes(pad), 0)
    };
    any |= x | y;
    let h = mix(mix(a, x), b ^ y);
    (h | 1, any & HIGH == 0)
}

impl FieldMemo {
    pub fn lookup(&mut self, value: &[u8]) -> Lookup<'_> {
        if value.len() > MAX_KEY {
            return Lookup::Skip;
        }
        if self.paused > 0 {
            self.paused -= 1;
            return Lookup::Skip;
        }
        let (tag, ascii) = hash_ascii(value);
        if !ascii {
            return Lookup::Wide;
        }
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, Slot::default);
        }
        let at = (tag >> 52) as usize & (SLOTS - 1);
        self.lookups += 1;
        let slot = &self.slots[at];
        let hit = slot.tag == tag && slot.data[slot.hits as usize..] == *value;
        if hit {
            self.found += 1;
        }
        if self.lookups == WINDOW {
            // Fewer than one value in eight seen before: not worth it.
            if self.found < WINDOW / 8 {
                self.paused = PAUSE;
            }
            self.lookups = 0;
            self.found = 0;
        }
        if hit {
            let slot = &self.slots[at];
            Lookup::Hit(Hits(&slot.data[..slot.hits as usize]))
        } else {
            Lookup::Miss(at, tag)
        }
    }

    /// Record the literals found in `value` (after a [`Lookup::Miss`]).
    pub fn store(&mut self, (at, tag): (usize, u64), value: &[u8], hits: &[Hit]) {
        let slot = &mut self.slots[at];
        slot.tag = tag;
        slot.hits = (hits.len() * 8) as u32;
        slot.data.clear();
        for h in hits {
            slot.data.extend_from_slice(&h.to_le_bytes());
        }
        slot.data.extend_from_slice(value);
    }
}

/// Every field memo of one worker: per index (by its serial number), per
/// field automaton.
#[derive(Default)]
pub struct Memos {
    by_index: Vec<(u64, Vec<FieldMemo>)>,
}

impl Memos {
    /// The memos of an index's `fields` automata.
    pub fn of(&mut self, index: u64, fields: usize) -> &mut [FieldMemo] {
        let at = match self.by_index.iter().position(|(i, _)| *i == index) {
            Some(at) => at,
            None => {
                let mut v = Vec::new();
                v.resize_with(fields, FieldMemo::default);
                self.by_index.push((index, v));
                self.by_index.len() - 1
            }
        };
        &mut self.by_index[at].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_values_and_replaces_on_collision() {
        let mut m = FieldMemo::default();
        let Lookup::Miss(at, tag) = m.lookup(b"C:\\Windows\\cmd.exe") else {
            panic!("a new value is a miss")
        };
        m.store((at, tag), b"C:\\Windows\\cmd.exe", &[hit(7, 0b101)]);
        match m.lookup(b"C:\\Windows\\cmd.exe") {
            Lookup::Hit(h) => assert_eq!(h.iter().map(parts).collect::<Vec<_>>(), [(7, 0b101)]),
            _ => panic!("a stored value is a hit"),
        }
        // Another value in the same slot evicts it, never reads its hits.
        let (other, tag) = (0..)
            .map(|i| format!("v{i}"))
            .find_map(|v| match m.lookup(v.as_bytes()) {
                Lookup::Miss(a, tag) if a == at => Some((v, tag)),
                _ => None,
            })
            .unwrap();
        m.store((at, tag), other.as_bytes(), &[]);
        assert!(matches!(
            m.lookup(b"C:\\Windows\\cmd.exe"),
            Lookup::Miss(..)
        ));
        assert!(matches!(m.lookup(other.as_bytes()), Lookup::Hit(h) if h.iter().count() == 0));
        // The empty value is never taken for an empty slot's key.
        assert!(matches!(FieldMemo::default().lookup(b""), Lookup::Miss(..)));
        // Values differing past the first eight bytes, or only in length,
        // are different values.
        let mut m = FieldMemo::default();
        for v in [
            &b"abcdefgh-1"[..],
            b"abcdefgh-2",
            b"abcdefgh-2\0",
            b"abcdefgh-2\0\0",
        ] {
            let Lookup::Miss(at, tag) = m.lookup(v) else {
                panic!("{v:?} is new")
            };
            m.store((at, tag), v, &[hit(v.len() as u32, 1)]);
            match m.lookup(v) {
                Lookup::Hit(h) => {
                    assert_eq!(h.iter().collect::<Vec<_>>(), [hit(v.len() as u32, 1)])
                }
                _ => panic!("{v:?} was stored"),
            }
        }
    }

    /// The one-pass ASCII check agrees with the standard one at every
    /// length and position of a non-ASCII byte; values that differ in one
    /// byte, or only in length, hash differently.
    #[test]
    fn hash_tells_ascii_and_values_apart() {
        let mut seen = std::collections::HashSet::new();
        for len in 0..80usize {
            let v: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let (h, ascii) = hash_ascii(&v);
            assert!(ascii && h & 1 == 1, "{len}");
            assert!(seen.insert(h), "{len}: the same hash as a shorter value");
            for at in 0..len {
                for c in [0x80u8, 0xff, b'A'] {
                    let mut w = v.clone();
                    w[at] = c;
                    let (hw, ascii) = hash_ascii(&w);
                    assert_eq!(ascii, w.is_ascii(), "{len} {at} {c}");
                    assert_ne!(hw, h, "{len} {at} {c}: one byte changed");
                }
            }
        }
        for v in [&b"ab"[..], b"abcdefgh", b"abcdefghijklmnopq"] {
            let mut z = v.to_vec();
            z.push(0);
            assert_ne!(hash_ascii(v).0, hash_ascii(&z).0, "{v:?} and a zero byte");
        }
        let mut m = FieldMemo::default();
        assert!(matches!(m.lookup("café".as_bytes()), Lookup::Wide));
        assert_eq!(m.lookups, 0, "values not ASCII are not counted");
    }

    #[test]
    fn unique_values_pause_the_memo() {
        let mut m = FieldMemo::default();
        for i in 0..WINDOW {
            let v = format!("{i:064}");
            if let Lookup::Miss(at, tag) = m.lookup(v.as_bytes()) {
                m.store((at, tag), v.as_bytes(), &[]);
            }
        }
        assert!(matches!(m.lookup(b"x"), Lookup::Skip));
        assert_eq!(m.paused, PAUSE - 1);
        assert!(matches!(m.lookup(&[b'a'; MAX_KEY + 1]), Lookup::Skip));
    }
}
