//! Strings with escapes: decoded into the worker's arena (or on the heap),
//! or only validated. Most escapes in real events stand for the character
//! after them (`\\` in every Windows path, `\"` in command lines): a string
//! with only those is the runs between its escapes, moved together in one
//! copy of the string (see [`compact`]); any other escape takes the
//! general decoder.

use super::{err, ParseError, Tokens};
use bumpalo::Bump;
use std::borrow::Cow;

/// A decoded string being built: on the heap, or in an arena.
enum Owned<'a> {
    Heap(String),
    Arena(bumpalo::collections::String<'a>),
}

impl<'a> Owned<'a> {
    fn new(cap: usize, arena: Option<&'a Bump>) -> Owned<'a> {
        match arena {
            Some(a) => Owned::Arena(bumpalo::collections::String::with_capacity_in(cap, a)),
            None => Owned::Heap(String::with_capacity(cap)),
        }
    }
    fn push_str(&mut self, t: &str) {
        match self {
            Owned::Heap(s) => s.push_str(t),
            Owned::Arena(s) => s.push_str(t),
        }
    }
    fn push(&mut self, c: char) {
        match self {
            Owned::Heap(s) => s.push(c),
            Owned::Arena(s) => s.push(c),
        }
    }
    fn done(self) -> Cow<'a, str> {
        match self {
            Owned::Heap(s) => Cow::Owned(s),
            Owned::Arena(s) => Cow::Borrowed(s.into_bump_str()),
        }
    }
}

/// Escapes of a string the fast path keeps track of; a string with more
/// takes the general decoder from there.
const SIMPLE: usize = 32;

/// [`super::string_at`] past its first token `first`, not a closing quote:
/// the tokens inside are escapes and control bytes. While they are simple
/// escapes (`\\`, `\"`, `\/`) their positions are noted; at the closing
/// quote the value is the runs between them ([`compact`]). At any other
/// token the general decoder takes over with the runs so far.
#[inline(never)]
pub(super) fn escaped_string<'a>(
    t: &mut Tokens,
    s: &'a str,
    open: usize,
    first: Option<usize>,
    decode: bool,
    arena: Option<&'a Bump>,
) -> Result<(Cow<'a, str>, usize), ParseError> {
    let b = s.as_bytes();
    // Positions as `u32` (half the room to clear per string) where they fit.
    let room = if s.len() <= u32::MAX as usize {
        SIMPLE
    } else {
        0
    };
    let mut simple = [0u32; SIMPLE];
    let mut n = 0;
    let mut token = first;
    while let Some(p) = token {
        match b[p] {
            b'"' => {
                if !decode {
                    // Validated: the caller does not read the value.
                    return Ok((Cow::Borrowed(""), p));
                }
                if let Some(a) = arena {
                    return Ok((Cow::Borrowed(compact(a, s, open, p, &simple[..n])), p));
                }
                break;
            }
            b'\\' if n < room && matches!(b.get(p + 1), Some(b'"' | b'\\' | b'/')) => {
                simple[n] = p as u32;
                n += 1;
                token = t.next();
            }
            _ => break,
        }
    }
    // The runs before `token`, for the general decoder.
    let mut owned: Option<Owned<'a>> = None;
    let mut seg = open + 1;
    for &p in &simple[..n] {
        simple_escape(&mut owned, &mut seg, s, p as usize, decode, arena);
    }
    general(t, s, open, token, decode, arena, owned, seg)
}

/// A simple escape at `p` for the general decoder: the run before it goes
/// into `owned` (when decoding), and the escaped character as written
/// starts the next run (one copy per escape in Windows paths, not two).
#[inline]
fn simple_escape<'a>(
    owned: &mut Option<Owned<'a>>,
    seg: &mut usize,
    s: &str,
    p: usize,
    decode: bool,
    arena: Option<&'a Bump>,
) {
    if decode {
        let o = owned.get_or_insert_with(|| Owned::new(p - *seg + 32, arena));
        o.push_str(&s[*seg..p]);
    }
    *seg = p + 1;
}

/// The value of a string of only simple escapes, whose opening and closing
/// quotes are at `open` and `close`, and its simple escapes at `escapes`:
/// the string as written copied into `arena` (the run before the first
/// escape is then in place), then each run after an escape copied from the
/// record to its place.
fn compact<'a>(arena: &'a Bump, s: &str, open: usize, close: usize, escapes: &[u32]) -> &'a str {
    let start = open + 1;
    let b = s.as_bytes();
    // With up to 16 bytes after the string: room for a run's 16-byte copy.
    let buf = arena.alloc_slice_copy(&b[start..b.len().min(close + 16)]);
    let end = close - start;
    let mut to = escapes.first().map_or(end, |&p| p as usize - start);
    for (i, &p) in escapes.iter().enumerate() {
        let from = p as usize + 1;
        let run_end = escapes.get(i + 1).map_or(close, |&q| q as usize);
        let n = run_end - from;
        // Most runs (a path's parts) are short: one 16-byte move, whose
        // bytes past the run the next run or the end leaves out.
        match (buf.get_mut(to..to + 16), b.get(from..from + 16)) {
            (Some(d), Some(r)) if n <= 16 => d.copy_from_slice(r),
            _ => buf[to..to + n].copy_from_slice(&b[from..run_end]),
        }
        to += n;
    }
    let v: &[u8] = &buf[..to];
    debug_assert!(std::str::from_utf8(v).is_ok());
    // SAFETY: `v` is runs of `s` (valid UTF-8) that start and end at ASCII
    // bytes: each begins at the string's start or after a backslash and
    // ends at a backslash or the closing quote. Runs cut at ASCII bytes
    // split no character, so their concatenation is valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(v) }
}

/// The general decoder, from token `token` of the string opened at `open`,
/// with `owned` holding the value up to `seg` (decoded before it).
#[allow(clippy::too_many_arguments)]
fn general<'a>(
    t: &mut Tokens,
    s: &'a str,
    open: usize,
    mut token: Option<usize>,
    decode: bool,
    arena: Option<&'a Bump>,
    mut owned: Option<Owned<'a>>,
    mut seg: usize,
) -> Result<(Cow<'a, str>, usize), ParseError> {
    let b = s.as_bytes();
    loop {
        let Some(p) = token else {
            return err(open, "unterminated string");
        };
        match b[p] {
            b'"' => {
                return Ok(match owned {
                    None => (Cow::Borrowed(&s[seg..p]), p),
                    Some(mut o) => {
                        o.push_str(&s[seg..p]);
                        (o.done(), p)
                    }
                });
            }
            b'\\' => {}
            _ => return err(p, "control character in a string"),
        }
        // The token after this escape (the low half's, after a high
        // surrogate's: skipped below).
        token = t.next();
        let Some(&e) = b.get(p + 1) else {
            return err(open, "unterminated string");
        };
        let mut next = p + 2;
        let c = match e {
            b'"' | b'\\' | b'/' => {
                simple_escape(&mut owned, &mut seg, s, p, decode, arena);
                continue;
            }
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(b, p + 2)?;
                next = p + 6;
                let c = if (0xD800..0xDC00).contains(&hi)
                    && b.get(next) == Some(&b'\\')
                    && b.get(next + 1) == Some(&b'u')
                {
                    let lo = hex4(b, next + 2)?;
                    if (0xDC00..0xE000).contains(&lo) {
                        // `token` is the low half's backslash.
                        token = t.next();
                        next += 6;
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                    } else {
                        None
                    }
                } else {
                    char::from_u32(hi)
                };
                c.unwrap_or('\u{FFFD}')
            }
            _ => return err(p, "invalid escape in a string"),
        };
        if decode {
            let o = owned.get_or_insert_with(|| Owned::new(p - seg + 32, arena));
            o.push_str(&s[seg..p]);
            o.push(c);
        }
        seg = next;
    }
}

/// The four hex digits of a `\u` escape at `i` (digits only:
/// `u32::from_str_radix` would take a sign too).
pub(super) fn hex4(b: &[u8], i: usize) -> Result<u32, ParseError> {
    let Some(h) = b.get(i..i + 4) else {
        return err(i, "truncated \\u escape");
    };
    h.iter()
        .try_fold(0, |n, &c| match (c as char).to_digit(16) {
            Some(d) => Ok(n << 4 | d),
            None => err(i, "invalid \\u escape"),
        })
}
