//! The NDJSON fast path's check that a line is one whole JSON object.
//!
//! The splitter asks, for every line that starts with `{`, whether the line
//! is exactly one object (then it is the record) or needs the state
//! machine. Walking the line byte by byte, or eight bytes at a time with a
//! restart at every quote and backslash, costs more than the rest of the
//! reader. On x86-64 the walk takes 64 bytes at a time as bit masks
//! (`blocks.rs`) and visits only the flagged bytes, in order, with the same
//! state machine as the scalar walk (which other targets use, and which the
//! tests hold it to).

/// The length of the JSON object that starts `b` when it is the only thing
/// on its line (up to the next `\n`, trailing blanks allowed), as the
/// splitter's state machine would cut it (brackets of both kinds counted,
/// strings skipped); `None` when the line is not complete in `b`, holds more
/// or less than one object, or needs the state machine.
///
/// The block walk classifies every byte of the object as the worker's
/// parser would (`blocks::Tokens`): when it cut the object, `tokens` gets
/// its token bits, one word per 64 bytes, so that the parser need not
/// classify the same bytes again. Otherwise (`None`, or the scalar walk)
/// `tokens` is left as it was.
pub(crate) fn line_object(b: &[u8], tokens: &mut Vec<u64>) -> Option<usize> {
    let line = &b[..memchr::memchr(b'\n', b)?];
    #[cfg(target_arch = "x86_64")]
    {
        if super::blocks::has_avx2() {
            // SAFETY: the CPU has the features (checked just above).
            unsafe { vector::line_object_avx2(line, tokens) }
        } else {
            vector::line_object(line, tokens)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = tokens;
        scalar(line)
    }
}

/// Whether only blanks follow `end` on the line: the object's end then.
fn ends_line(line: &[u8], end: usize) -> Option<usize> {
    line[end..]
        .iter()
        .all(|c| matches!(c, b' ' | b'\t' | b'\r'))
        .then_some(end)
}

/// The byte-at-a-time walk over one line (no `\n` in it).
fn scalar(line: &[u8]) -> Option<usize> {
    use super::json::find_stop;
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = line.get(i) {
        match c {
            b'"' => {
                i += 1;
                loop {
                    // A raw control character (invalid in a string) is the
                    // state machine's to report.
                    i += find_stop(line.get(i..)?)?;
                    match line[i] {
                        b'"' => break,
                        b'\\' => i += 2,
                        _ => return None,
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return ends_line(line, i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(target_arch = "x86_64")]
mod vector {
    use super::super::blocks::{avx2, block_at, scan_portable, token_word, Layout, Masks, Strings};
    use super::ends_line;

    pub(super) fn line_object(line: &[u8], tokens: &mut Vec<u64>) -> Option<usize> {
        keep_tokens(tokens, |t| walk(line, scan_portable, t))
    }

    /// [`line_object`] with the AVX2 block scan inlined.
    #[target_feature(enable = "avx2,pclmulqdq")]
    pub(super) fn line_object_avx2(line: &[u8], tokens: &mut Vec<u64>) -> Option<usize> {
        keep_tokens(tokens, |t| walk(line, |block, st| avx2::scan(block, st), t))
    }

    /// `tokens` as `walk` left it when it found an object, else as it was.
    #[inline(always)]
    fn keep_tokens(
        tokens: &mut Vec<u64>,
        walk: impl FnOnce(&mut Vec<u64>) -> Option<usize>,
    ) -> Option<usize> {
        let before = tokens.len();
        let n = walk(tokens);
        if n.is_none() {
            tokens.truncate(before);
        }
        n
    }

    /// The object's length; its blocks' token bits pushed on `tokens` as
    /// they are classified (the caller drops them on `None`; the scalar
    /// walk, which classifies nothing, leaves none).
    #[inline(always)]
    fn walk(
        line: &[u8],
        mut scan: impl FnMut(&[u8; 64], &mut Strings) -> (Masks, Layout),
        tokens: &mut Vec<u64>,
    ) -> Option<usize> {
        let mut depth = 0usize;
        let mut strings = Strings::default();
        let mut pad = [b' '; 64];
        let mut base = 0;
        // One word per block, written in place (a push per block costs
        // more than the block's scan); cut to the blocks walked at the end.
        let first = tokens.len();
        tokens.resize(first + line.len().div_ceil(64), 0);
        let words = &mut tokens[first..];
        while base < line.len() {
            let (m, l) = scan(block_at(line, base, &mut pad), &mut strings);
            // The masks as plain words: without `black_box` LLVM takes the
            // token word's masks apart again bit by bit, which costs more
            // than the block's scan.
            let m = std::hint::black_box(m);
            if m.control & l.inside & !l.escaped != 0 {
                // A raw control character in a string: the state machine's.
                return None;
            }
            if m.backslash & !l.inside != 0 {
                // A backslash outside strings (never in valid JSON): the
                // scalar walk's rules, whatever they make of it.
                tokens.truncate(first);
                return super::scalar(line);
            }
            words[base / 64] = token_word(&m, &l);
            let mut brackets = (m.open | m.close) & !l.inside;
            while brackets != 0 {
                let p = brackets.trailing_zeros();
                brackets &= brackets - 1;
                if m.open >> p & 1 == 1 {
                    depth += 1;
                } else {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        tokens.truncate(first + base / 64 + 1);
                        return ends_line(line, base + p as usize + 1);
                    }
                }
            }
            base += 64;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::blocks::Tokens;
    use super::*;

    /// The vectorised walk agrees with the scalar one on lines built from
    /// the bytes that matter, at every length across block boundaries.
    #[test]
    fn both_walks_agree() {
        const BYTES: &[u8] = b"{}[]\"\\ a\t\x01\x1f\x7f\xc3,:";
        let mut next = crate::backend::matcher::xorshift(0x2545_f491_4f6c_dd1d_u64);
        let (mut complete, mut with_tokens) = (0, 0);
        for n in 0..60_000 {
            // Some long enough for the parser to refill its token bits
            // (16 blocks at a time).
            let len = (next() % if n % 50 == 0 { 1500 } else { 200 }) as usize;
            let mut line = vec![b'{'];
            // Mostly plain string content, so that many lines are objects.
            for _ in 0..len {
                let r = next();
                line.push(if r % 4 == 0 {
                    BYTES[(r >> 8) as usize % BYTES.len()]
                } else {
                    b'x'
                });
            }
            if n % 2 == 0 {
                // An object whose string holds escaped quotes, backslashes
                // and other bytes, and brackets, nested: complete, or cut short
                // at a random byte (one line in four).
                line.clear();
                line.extend_from_slice(b"{\"k\":[{\"s\":\"");
                for _ in 0..len {
                    let r = next();
                    match r % 6 {
                        0 => line.extend_from_slice(b"\\\\"),
                        1 => line.extend_from_slice(b"\\\""),
                        2 => line.push(b"{}[]"[(r >> 8) as usize % 4]),
                        3 if r % 5 == 0 => {
                            line.push(b'\\');
                            line.push(BYTES[(r >> 8) as usize % BYTES.len()]);
                        }
                        _ => line.push(b'x'),
                    }
                }
                line.extend_from_slice(b"\"}]}");
                if n % 4 == 2 {
                    line.truncate(1 + (next() as usize) % line.len());
                }
            }
            if n % 3 == 0 {
                line.extend_from_slice(b" \t\r");
            }
            let want = scalar(&line);
            complete += usize::from(want.is_some());
            let mut with_nl = line.clone();
            with_nl.extend_from_slice(b"\nrest");
            // Words already there stay; the object's are pushed after them.
            let mut tokens = vec![7];
            let got = line_object(&with_nl, &mut tokens);
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&line));
            assert_eq!(tokens[0], 7);
            #[cfg(target_arch = "x86_64")]
            {
                let mut portable = vec![7];
                assert_eq!(vector::line_object(&line, &mut portable), want);
                assert_eq!(portable, tokens, "both block scans, the same tokens");
            }
            match got {
                Some(k) if tokens.len() > 1 => {
                    // The parser's tokens, whether it classifies the object
                    // itself or reads what the line check made.
                    let object = &line[..k];
                    assert_eq!(tokens.len() - 1, k.div_ceil(64));
                    let mut own = Tokens::new(object);
                    let mut pre = Tokens::scanned(object, Some(&tokens[1..]));
                    loop {
                        let t = own.next();
                        assert_eq!(pre.next(), t, "{:?}", String::from_utf8_lossy(object));
                        if t.is_none() {
                            break;
                        }
                    }
                    with_tokens += 1;
                }
                _ => assert_eq!(tokens, [7], "no tokens without a vector-cut object"),
            }
            assert_eq!(
                line_object(&line, &mut tokens),
                None,
                "no newline: not complete"
            );
        }
        assert!(complete > 1000, "too few complete lines tested: {complete}");
        #[cfg(target_arch = "x86_64")]
        assert!(
            with_tokens > 1000,
            "too few lines with tokens: {with_tokens}"
        );
    }

    #[test]
    fn objects_strings_and_escapes() {
        let t = |s: &str| line_object(format!("{s}\n").as_bytes(), &mut Vec::new());
        for whole in [r#"{"a":"}{"} "#, r#"{"a":"x\"}"}"#, r#"{"a":"x\\"}"#] {
            assert_eq!(t(whole), Some(whole.trim_end().len()), "{whole}");
        }
        assert_eq!(t(r#"{"a":1} {"b":2}"#), None);
        assert_eq!(t("{\"a\":\"tab\there\"}"), None);
        // An escaped control byte is skipped as the scalar walk skips it.
        assert_eq!(t("{\"a\":\"\\\x01\"}"), Some(10));
        let long = format!(r#"{{"p":"{}\\"}}"#, "C:\\\\x".repeat(40));
        assert_eq!(t(&long), Some(long.len()));
    }
}
