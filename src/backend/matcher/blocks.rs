//! JSON text classified 64 bytes at a time, for the splitter's line check
//! (`linescan.rs`) and the event parser's token stream (`json.rs`).
//!
//! A block gives one bit mask per kind of byte that matters to JSON's
//! structure: quotes, backslashes, brackets, `:` and `,`, control bytes.
//! [`Strings`] then finds, carrying state from block to block, the bytes a
//! backslash escapes and the bytes inside strings, so that a walk visits
//! only the flagged bytes instead of every byte. On x86-64 the masks come
//! from AVX2 (with a carry-less multiply for the string parity) when the
//! CPU has it, checked at run time, else from SSE2 (part of the x86-64
//! baseline); elsewhere from a byte loop, which the tests hold both vector
//! versions to.

/// Bit `i` set: byte `i` of a 64-byte block is of that kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Masks {
    pub quote: u64,
    pub backslash: u64,
    /// `{` or `[`.
    pub open: u64,
    /// `}` or `]`.
    pub close: u64,
    /// `:` or `,`.
    pub sep: u64,
    /// Below 0x20.
    pub control: u64,
}

/// The masks of a block.
#[inline]
pub(crate) fn classify(block: &[u8; 64]) -> Masks {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is in the x86-64 baseline.
        unsafe { sse2::classify(block) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        classify_bytes(block)
    }
}

/// The byte loop (other targets, and the reference in tests).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(crate) fn classify_bytes(block: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (i, &c) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match c {
            b'"' => m.quote |= bit,
            b'\\' => m.backslash |= bit,
            b'{' | b'[' => m.open |= bit,
            b'}' | b']' => m.close |= bit,
            b':' | b',' => m.sep |= bit,
            0..=0x1f => m.control |= bit,
            _ => {}
        }
    }
    m
}

/// The body of a vector [`classify`], `$width` bytes per compare with that
/// width's intrinsics: one body for SSE2 and AVX2.
#[cfg(target_arch = "x86_64")]
macro_rules! vector_masks {
    ($block:expr, $width:literal, $vec:ty, $bits:ty,
     $load:ident, $cmpeq:ident, $or:ident, $set1:ident, $subs:ident, $zero:ident, $movemask:ident) => {{
        let mut m = Masks::default();
        for k in 0..64 / $width {
            // SAFETY: the unaligned load reads bytes `$width * k` to
            // `$width * (k + 1)` of the 64-byte array.
            let x = unsafe { $load($block.as_ptr().add($width * k).cast::<$vec>()) };
            let bits = |y: $vec| u64::from($movemask(y) as $bits) << ($width * k);
            let eq = |c: u8| $cmpeq(x, $set1(c as i8));
            // `{`/`[` and `}`/`]` differ only in bit 5.
            let low = $or(x, $set1(0x20));
            m.quote |= bits(eq(b'"'));
            m.backslash |= bits(eq(b'\\'));
            m.open |= bits($cmpeq(low, $set1(b'{' as i8)));
            m.close |= bits($cmpeq(low, $set1(b'}' as i8)));
            m.sep |= bits($or(eq(b':'), eq(b',')));
            // Below 0x20: zero after an unsigned saturating `- 0x1f`.
            let sub = $subs(x, $set1(0x1f));
            m.control |= bits($cmpeq(sub, $zero()));
        }
        m
    }};
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use super::Masks;
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128, _mm_subs_epu8,
    };

    /// SSE2 is in the x86-64 baseline: no run-time check.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn classify(block: &[u8; 64]) -> Masks {
        vector_masks!(
            block,
            16,
            __m128i,
            u16,
            _mm_loadu_si128,
            _mm_cmpeq_epi8,
            _mm_or_si128,
            _mm_set1_epi8,
            _mm_subs_epu8,
            _mm_setzero_si128,
            _mm_movemask_epi8
        )
    }
}

/// Bit `i` set: the parity of the set bits up to and including `i`.
#[inline]
fn prefix_xor(mut x: u64) -> u64 {
    for s in [1, 2, 4, 8, 16, 32] {
        x ^= x << s;
    }
    x
}

/// Where strings and escapes are, carried from block to block.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Strings {
    /// The next block's first byte is escaped.
    escape_carry: bool,
    /// The next block starts inside a string.
    string_carry: bool,
}

/// A block's escapes and strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Bytes escaped by a backslash (itself not escaped).
    pub escaped: u64,
    /// Bytes inside a string: from an opening quote (included) up to its
    /// closing quote (excluded).
    pub inside: u64,
}

impl Strings {
    /// The layout of the next block, from its masks.
    #[inline]
    pub fn next(&mut self, m: &Masks) -> Layout {
        self.next_with(m, prefix_xor)
    }

    /// [`Strings::next`] with a given prefix-parity function.
    #[inline(always)]
    fn next_with(&mut self, m: &Masks, prefix_xor: impl Fn(u64) -> u64) -> Layout {
        let (escaped, carry) = escapes(m.backslash, self.escape_carry);
        self.escape_carry = carry;
        let mut inside = prefix_xor(m.quote & !escaped);
        if self.string_carry {
            inside = !inside;
        }
        self.string_carry = inside >> 63 == 1;
        Layout { escaped, inside }
    }
}

/// The bytes a backslash escapes in a block with backslashes `bs`, when
/// the block's first byte is escaped (`carry`) or not, and whether the next
/// block's first byte is. Without a branch per backslash (a Windows path
/// has one every few bytes, and which way each goes is not predictable):
/// in a run of backslashes, those at the run start's parity escape the
/// byte after them, so the escaped bytes are the run's (and the byte after
/// it) of the other parity. Adding a run's start bit to the mask clears the
/// run and sets the byte after it, which tells runs that start on even
/// bytes from runs that start on odd ones.
#[inline(always)]
fn escapes(bs: u64, carry: bool) -> (u64, bool) {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    const ODD: u64 = !EVEN;
    let first = u64::from(carry);
    // An escaped first byte starts no run, even when it is a backslash.
    let b = bs & !first;
    let starts = b & !(b << 1);
    let even = b.wrapping_add(starts & EVEN);
    let odd = b.wrapping_add(starts & ODD);
    // Each kind of run with the byte after it.
    let even_runs = (b & !even) | (even & !b);
    let odd_runs = (b & !odd) | (odd & !b);
    let escaped = first | (even_runs & ODD) | (odd_runs & EVEN);
    // A run through the last byte that started on an odd byte escapes
    // the next block's first (an even position, as 64 is).
    (escaped, (b & !odd) >> 63 == 1)
}

/// The 64-byte block of `b` at `base`; the tail is padded with blanks
/// (never flagged) in `pad`.
#[inline]
pub(crate) fn block_at<'p>(b: &'p [u8], base: usize, pad: &'p mut [u8; 64]) -> &'p [u8; 64] {
    let rest = &b[base..];
    match rest.first_chunk::<64>() {
        Some(block) => block,
        None => {
            pad[..rest.len()].copy_from_slice(rest);
            pad[rest.len()..].fill(b' ');
            pad
        }
    }
}

/// The bytes of a JSON text a parser must look at, in order: quotes that
/// open or close strings; inside strings, the backslashes that start an
/// escape and control bytes (invalid there); outside strings, brackets, `:`
/// and `,`. Everything else is string content, or (between tokens outside
/// strings) blanks and scalars, which the parser checks itself. Classified
/// a block at a time, as the parser asks: no index is built, so a huge
/// record costs no memory here.
pub(crate) struct Tokens<'b> {
    b: &'b [u8],
    /// The token bits of the `n` blocks `fill` classified last.
    bits: [u64; FILL],
    n: usize,
    /// The block being read (`bits[i]`), its tokens not yet read, and
    /// the position of its first byte.
    i: usize,
    cur: u64,
    at: usize,
    /// Start of the next block to classify.
    next: usize,
    strings: Strings,
    /// The token bits of every block of `b`, when the reader's line check
    /// already classified them (then `fill` copies instead of classifying).
    pre: &'b [u64],
}

/// Blocks classified per call (bits kept on the stack: a huge record costs
/// no more memory than a small one).
const FILL: usize = 16;

impl<'b> Tokens<'b> {
    #[cfg(test)]
    pub fn new(b: &'b [u8]) -> Tokens<'b> {
        Self::scanned(b, None)
    }

    /// [`Tokens::new`] over the token bits of `b`'s blocks when they are
    /// known (one word per block, as [`token_word`] makes them).
    pub fn scanned(b: &'b [u8], pre: Option<&'b [u64]>) -> Tokens<'b> {
        let pre = pre.unwrap_or_default();
        debug_assert!(pre.is_empty() || pre.len() == b.len().div_ceil(64));
        Tokens {
            pre,
            b,
            bits: [0; FILL],
            n: 0,
            i: 0,
            cur: 0,
            at: 0,
            next: 0,
            strings: Strings::default(),
        }
    }

    /// The position of the next token (inlined: the parser calls it a few
    /// times per member).
    #[inline(always)]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<usize> {
        while self.cur == 0 {
            self.advance()?;
        }
        let p = self.cur.trailing_zeros() as usize;
        self.cur &= self.cur - 1;
        Some(self.at + p)
    }

    /// The tokens not yet read as a block's bits and the position of its
    /// first byte, for a loop that keeps them in registers: first those of
    /// the current block, then one block per call; `None` at the end.
    #[inline(always)]
    pub fn word(&mut self) -> Option<(u64, usize)> {
        if self.cur == 0 {
            self.advance()?;
        }
        Some((std::mem::take(&mut self.cur), self.at))
    }

    /// Move to the next block (classifying more when none is left).
    #[inline(always)]
    fn advance(&mut self) -> Option<()> {
        if self.i + 1 < self.n {
            self.i += 1;
            self.at += 64;
        } else {
            self.fill()?;
        }
        self.cur = self.bits[self.i];
        Some(())
    }

    /// Classify the next blocks; `None` at the end of the text.
    #[inline(never)]
    fn fill(&mut self) -> Option<()> {
        if self.next >= self.b.len() {
            return None;
        }
        let n = (self.b.len() - self.next).div_ceil(64).min(FILL);
        let (b, at, out) = (self.b, self.next, &mut self.bits[..n]);
        if !self.pre.is_empty() {
            out.copy_from_slice(&self.pre[at / 64..at / 64 + n]);
        } else if has_avx2() {
            // SAFETY: the CPU has the features (`has_avx2`).
            #[cfg(target_arch = "x86_64")]
            unsafe {
                avx2::token_bits(b, at, &mut self.strings, out)
            };
        } else {
            token_bits(b, at, &mut self.strings, out, scan_portable);
        }
        self.at = self.next;
        self.next += 64 * n;
        self.n = n;
        self.i = 0;
        Some(())
    }
}

/// The token bits of the blocks of `b` from `at` into `out` (one per
/// block), with a given block scan.
#[inline(always)]
fn token_bits(
    b: &[u8],
    at: usize,
    strings: &mut Strings,
    out: &mut [u64],
    mut scan: impl FnMut(&[u8; 64], &mut Strings) -> (Masks, Layout),
) {
    let mut pad = [b' '; 64];
    for (k, bits) in out.iter_mut().enumerate() {
        let (m, l) = scan(block_at(b, at + 64 * k, &mut pad), strings);
        *bits = token_word(&m, &l);
    }
}

/// A block's token bits, from its masks and layout: the quotes that open
/// or close strings; inside strings, escaping backslashes and control
/// bytes; outside, brackets, `:` and `,`.
#[inline(always)]
pub(crate) fn token_word(m: &Masks, l: &Layout) -> u64 {
    let quotes = m.quote & !l.escaped;
    let inner = (m.backslash & !l.escaped | m.control) & l.inside;
    let outer = (m.open | m.close | m.sep) & !l.inside;
    quotes | inner | outer
}

/// Whether this CPU has AVX2 and PCLMULQDQ (the vector paths' features).
#[inline]
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The masks and layout of a block with the baseline instructions.
#[inline(always)]
pub(crate) fn scan_portable(block: &[u8; 64], strings: &mut Strings) -> (Masks, Layout) {
    let m = classify(block);
    (m, strings.next(&m))
}

/// Block scans with AVX2 (32 bytes per compare) and a carry-less multiply
/// for the string parity: a third of the work of SSE2 and shifts, on the
/// CPUs that have them (checked at run time, [`has_avx2`]). The entry
/// points carry the features, so the scan inlines into their loops.
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    use super::{Layout, Masks, Strings};
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8, _mm256_setzero_si256, _mm256_subs_epu8, _mm_clmulepi64_si128,
        _mm_cvtsi128_si64, _mm_set1_epi8, _mm_set_epi64x,
    };

    /// A block's masks and layout (inlined into the functions below, which
    /// have the same features).
    #[inline]
    #[target_feature(enable = "avx2,pclmulqdq")]
    pub(crate) fn scan(block: &[u8; 64], strings: &mut Strings) -> (Masks, Layout) {
        let m = vector_masks!(
            block,
            32,
            __m256i,
            u32,
            _mm256_loadu_si256,
            _mm256_cmpeq_epi8,
            _mm256_or_si256,
            _mm256_set1_epi8,
            _mm256_subs_epu8,
            _mm256_setzero_si256,
            _mm256_movemask_epi8
        );
        // The parity prefix is a carry-less product with all ones.
        let clmul = |x: u64| {
            let p = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0);
            _mm_cvtsi128_si64(p) as u64
        };
        (m, strings.next_with(&m, clmul))
    }

    /// [`super::token_bits`] with the AVX2 scan.
    #[target_feature(enable = "avx2,pclmulqdq")]
    pub(super) fn token_bits(b: &[u8], at: usize, strings: &mut Strings, out: &mut [u64]) {
        super::token_bits(b, at, strings, out, |block, st| scan(block, st));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_and_byte_masks_agree() {
        let mut next = crate::backend::matcher::xorshift(0x1234_5678_9abc_def1);
        const BYTES: &[u8] = b"{}[]:,\"\\ a\t\n\x00\x01\x1f\x20\x7f\x80\xff;zZ";
        for _ in 0..20_000 {
            let mut block = [0u8; 64];
            for c in &mut block {
                *c = BYTES[(next() % BYTES.len() as u64) as usize];
            }
            assert_eq!(classify(&block), classify_bytes(&block), "{block:?}");
        }
        for c in 0..=255u8 {
            let block = [c; 64];
            assert_eq!(classify(&block), classify_bytes(&block), "{c}");
        }
    }

    /// The escapes of a block, one backslash at a time (the reference).
    fn escapes_one_by_one(mut bs: u64, carry: bool) -> (u64, bool) {
        let mut escaped = u64::from(carry);
        let mut next = false;
        while bs != 0 {
            let bit = bs & bs.wrapping_neg();
            bs &= bs - 1;
            if escaped & bit == 0 {
                if bit == 1 << 63 {
                    next = true;
                } else {
                    escaped |= bit << 1;
                }
            }
        }
        (escaped, next)
    }

    /// The branchless escapes equal the one-by-one walk: on random masks
    /// of every density, on runs of every length at every position, and
    /// block after block with the carry.
    #[test]
    fn escapes_equal_the_one_by_one_walk() {
        let mut next = crate::backend::matcher::xorshift(0x0005_eed0_fe5c_a9e5);
        let check = |bs: u64, carry: bool| {
            assert_eq!(
                escapes(bs, carry),
                escapes_one_by_one(bs, carry),
                "{bs:064b} {carry}"
            );
        };
        for _ in 0..200_000 {
            let (a, b, c) = (next(), next(), next());
            for bs in [a, a & b, a & b & c, a | b, !0, 0] {
                check(bs, c & 1 == 1);
                check(bs, c & 1 == 0);
            }
        }
        for len in 1..=64u32 {
            for at in 0..64u32 {
                let run = if len == 64 {
                    !0
                } else {
                    ((1u64 << len) - 1) << at
                };
                check(run, false);
                check(run, true);
                check(run | run << (len + 1).min(63), true);
            }
        }
        let mut carry = (false, false);
        for _ in 0..100_000 {
            let bs = next() & next();
            let (e, c) = escapes(bs, carry.0);
            let (e1, c1) = escapes_one_by_one(bs, carry.1);
            assert_eq!((e, c), (e1, c1));
            carry = (c, c1);
        }
    }

    #[test]
    fn escapes_and_strings_carry_across_blocks() {
        // `"ab\"c"` with its backslash the last byte of the first block:
        // the quote opening the second block is escaped, the string goes
        // on to the last quote.
        let mut text = vec![b' '; 60];
        text.extend_from_slice(br#""ab\"c" "#);
        let mut st = Strings::default();
        let mut pad = [0u8; 64];
        let l0 = st.next(&classify(block_at(&text, 0, &mut pad)));
        assert_eq!(l0.inside >> 60, 0b1111);
        assert_eq!(l0.escaped, 0);
        assert!(st.string_carry);
        let l1 = st.next(&classify(block_at(&text, 64, &mut pad)));
        assert_eq!(l1.escaped & 0b111, 0b001);
        // Inside up to the closing quote at 66 (excluded).
        assert_eq!(l1.inside & 0b111, 0b011);
        assert!(!st.string_carry);
        // `\\\\` then a quote: the quote closes the string.
        let mut st = Strings::default();
        let l = st.next(&classify(block_at(br#""\\\\" x"#, 0, &mut pad)));
        assert_eq!(l.escaped & 0b11_1111, 0b01_0100);
        assert_eq!(l.inside & 0b11_1111, 0b01_1111);
    }

    /// The AVX2 masks and layouts equal the portable ones, block after
    /// block (state carried), on text built from the bytes that matter.
    #[test]
    fn avx2_and_portable_scans_agree() {
        if !has_avx2() {
            eprintln!("no AVX2 here: nothing to compare");
            return;
        }
        let mut next = crate::backend::matcher::xorshift(0x0bad_5eed_1234_5678);
        const BYTES: &[u8] = b"{}[]:,\"\\\\\\ ax\t\x01\x1f\x20";
        for _ in 0..5_000 {
            let len = (next() % 400) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| BYTES[(next() % BYTES.len() as u64) as usize])
                .collect();
            let (mut a, mut b) = (Strings::default(), Strings::default());
            let mut pad = [b' '; 64];
            let mut base = 0;
            while base < text.len() {
                let block = *block_at(&text, base, &mut pad);
                let m = classify_bytes(&block);
                let portable = (m, a.next(&m));
                #[cfg(target_arch = "x86_64")]
                {
                    // SAFETY: the CPU has the features (checked above).
                    let fast = unsafe { avx2::scan(&block, &mut b) };
                    assert_eq!(fast, portable, "{:?}", String::from_utf8_lossy(&text));
                }
                #[cfg(not(target_arch = "x86_64"))]
                let _ = (&mut b, portable);
                base += 64;
            }
        }
    }
}
