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
pub(crate) fn line_object(b: &[u8]) -> Option<usize> {
    let line = &b[..memchr::memchr(b'\n', b)?];
    #[cfg(target_arch = "x86_64")]
    {
        if super::blocks::has_avx2() {
            // SAFETY: the CPU has the features (checked just above).
            unsafe { vector::line_object_avx2(line) }
        } else {
            vector::line_object(line)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
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
    use super::super::blocks::{avx2, block_at, scan_portable, Layout, Masks, Strings};
    use super::ends_line;

    pub(super) fn line_object(line: &[u8]) -> Option<usize> {
        walk(line, scan_portable)
    }

    /// [`line_object`] with the AVX2 block scan inlined.
    #[target_feature(enable = "avx2,pclmulqdq")]
    pub(super) fn line_object_avx2(line: &[u8]) -> Option<usize> {
        walk(line, |block, st| avx2::scan(block, st))
    }

    #[inline(always)]
    fn walk(
        line: &[u8],
        mut scan: impl FnMut(&[u8; 64], &mut Strings) -> (Masks, Layout),
    ) -> Option<usize> {
        let mut depth = 0usize;
        let mut strings = Strings::default();
        let mut pad = [b' '; 64];
        let mut base = 0;
        while base < line.len() {
            let (m, l) = scan(block_at(line, base, &mut pad), &mut strings);
            if m.control & l.inside & !l.escaped != 0 {
                // A raw control character in a string: the state machine's.
                return None;
            }
            if m.backslash & !l.inside != 0 {
                // A backslash outside strings (never in valid JSON): the
                // scalar walk's rules, whatever they make of it.
                return super::scalar(line);
            }
            let mut brackets = (m.open | m.close) & !l.inside;
            while brackets != 0 {
                let p = brackets.trailing_zeros();
                brackets &= brackets - 1;
                if m.open >> p & 1 == 1 {
                    depth += 1;
                } else {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
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
    use super::*;

    /// The vectorised walk agrees with the scalar one on lines built from
    /// the bytes that matter, at every length across block boundaries.
    #[test]
    fn both_walks_agree() {
        const BYTES: &[u8] = b"{}[]\"\\ a\t\x01\x1f\x7f\xc3,:";
        let mut next = crate::backend::matcher::xorshift(0x2545_f491_4f6c_dd1d_u64);
        let mut complete = 0;
        for n in 0..60_000 {
            let len = (next() % 200) as usize;
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
            let want = scalar(&line);
            complete += usize::from(want.is_some());
            let mut with_nl = line.clone();
            with_nl.extend_from_slice(b"\nrest");
            assert_eq!(
                line_object(&with_nl),
                want,
                "{:?}",
                String::from_utf8_lossy(&line)
            );
            assert_eq!(line_object(&line), None, "no newline: not complete");
        }
        assert!(complete > 1000, "too few complete lines tested: {complete}");
    }

    #[test]
    fn objects_strings_and_escapes() {
        let t = |s: &str| line_object(format!("{s}\n").as_bytes());
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
