//! The rest of a record once the caller has every leaf it wants (an event
//! no rule reads further, after its event ID): only its validity is left
//! to know. The walk would still visit each token through the code that
//! builds paths and decodes strings; this loop is one state machine over
//! the same tokens. It answers `true` only for a rest the walk accepts, and
//! `false` for one the walk refuses or that it leaves to the walk (`\u`
//! escapes of surrogates): the caller then walks the record again, for
//! the verdict and the error the walk would give.

use super::{blank, hex4, scalar, ws, Frame, MAX_DEPTH};
use crate::backend::matcher::blocks::Tokens;

/// The token stream with the current block's bits in a local (a register
/// in the loop, where [`Tokens::next`] would read and write memory).
struct Cursor<'t, 'b> {
    t: &'t mut Tokens<'b>,
    cur: u64,
    base: usize,
}

impl Cursor<'_, '_> {
    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.cur == 0 {
            (self.cur, self.base) = self.t.word()?;
        }
        let p = self.cur.trailing_zeros() as usize;
        self.cur &= self.cur - 1;
        Some(self.base + p)
    }
}

/// What the rest of a record may hold at the next token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    /// A `,` or the innermost container's closing bracket.
    Sep,
    /// A key (after a `,` in an object).
    Key,
    /// A key or `}` (after `{`).
    KeyOrClose,
    /// The `:` after a key.
    Colon,
    /// A value (after `:`, or a `,` in an array).
    Value,
    /// A value or `]` (after `[`).
    ValueOrClose,
}

/// Whether the rest of record `s` is valid: after a value that ends before
/// `at`, inside the containers of `stack` (not empty), with `q` the token
/// after that value.
pub(super) fn rest_is_valid(
    t: &mut Tokens,
    s: &str,
    stack: &mut Vec<Frame>,
    mut at: usize,
    q: Option<usize>,
) -> bool {
    let b = s.as_bytes();
    let mut t = Cursor { t, cur: 0, base: 0 };
    let mut next = Next::Sep;
    let mut token = q;
    loop {
        let Some(p) = token else {
            return false;
        };
        let Some(&c) = b.get(p) else {
            return false;
        };
        let gap = blank(b, at, p);
        match next {
            Next::Sep => {
                let Some(top) = stack.last() else {
                    return false;
                };
                match c {
                    b',' if gap => {
                        next = if top.object { Next::Key } else { Next::Value };
                    }
                    b'}' | b']' if gap && (c == b'}') == top.object => {
                        stack.pop();
                        if stack.is_empty() {
                            return ws(b, p + 1) == b.len();
                        }
                    }
                    _ => return false,
                }
                at = p + 1;
            }
            Next::Key | Next::KeyOrClose if gap => match c {
                b'"' => {
                    // Compact members, `"key":"value",`, one step each;
                    // at the first token that differs, the state the
                    // steps above would be in, with that token.
                    (next, at, token) = match members(&mut t, b) {
                        Some(state) => state,
                        None => return false,
                    };
                    continue;
                }
                b'}' if next == Next::KeyOrClose => {
                    next = Next::Sep;
                    continue;
                }
                _ => return false,
            },
            Next::Colon if gap && c == b':' => {
                at = p + 1;
                next = Next::Value;
            }
            Next::Value | Next::ValueOrClose if gap => match c {
                b'"' => {
                    let Some(end) = string_end(&mut t, b) else {
                        return false;
                    };
                    at = end + 1;
                    next = Next::Sep;
                }
                b'{' | b'[' => {
                    if stack.len() >= MAX_DEPTH {
                        return false;
                    }
                    let object = c == b'{';
                    stack.push(Frame {
                        object,
                        path_len: 0,
                    });
                    at = p + 1;
                    next = if object {
                        Next::KeyOrClose
                    } else {
                        Next::ValueOrClose
                    };
                }
                b']' if next == Next::ValueOrClose => {
                    next = Next::Sep;
                    continue;
                }
                _ => return false,
            },
            Next::Value | Next::ValueOrClose => {
                // A scalar before this token, which then follows it.
                let Ok((_, end)) = scalar(s, ws(b, at)) else {
                    return false;
                };
                at = end;
                next = Next::Sep;
                continue;
            }
            Next::Key | Next::KeyOrClose | Next::Colon => return false,
        }
        token = t.next();
    }
}

/// Compact members of an object, `"key":"value",` one after another, from
/// the opening quote of a key (the last token): where they stop, the state
/// [`rest_is_valid`] would be in after the same tokens (what comes next,
/// the end of the last byte read, the token not yet judged); `None` for a
/// string [`string_end`] refuses.
#[inline(always)]
fn members(t: &mut Cursor, b: &[u8]) -> Option<(Next, usize, Option<usize>)> {
    let is = |p: Option<usize>, at: usize, c: u8| p == Some(at) && b.get(at) == Some(&c);
    loop {
        let end = string_end(t, b)?;
        let colon = t.next();
        if !is(colon, end + 1, b':') {
            return Some((Next::Colon, end + 1, colon));
        }
        let value = t.next();
        if !is(value, end + 2, b'"') {
            return Some((Next::Value, end + 2, value));
        }
        let end = string_end(t, b)?;
        let sep = t.next();
        if !is(sep, end + 1, b',') {
            return Some((Next::Sep, end + 1, sep));
        }
        let key = t.next();
        if !is(key, end + 2, b'"') {
            return Some((Next::Key, end + 2, key));
        }
    }
}

/// The closing quote of the string whose opening quote was the last token:
/// `None` for a control byte, an invalid escape, a `\u` escape of a
/// surrogate (left to the walk), or the end of the record.
#[inline(always)]
fn string_end(t: &mut Cursor, b: &[u8]) -> Option<usize> {
    loop {
        let p = t.next()?;
        match *b.get(p)? {
            b'"' => return Some(p),
            b'\\' => match b.get(p + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                b'u' => {
                    let c = hex4(b, p + 2).ok()?;
                    if (0xD800..0xE000).contains(&c) {
                        return None;
                    }
                }
                _ => return None,
            },
            _ => return None,
        }
    }
}
