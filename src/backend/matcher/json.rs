//! Reading events: the streaming splitter (in `split.rs`, re-exported here)
//! cuts NDJSON, a JSON array, or JSON objects written one after another
//! (evtx dumps, pretty-printed) into records without recursion; the flat
//! parser here turns one record into `(dotted path, leaf)` pairs. Nested objects and dotted keys give the same
//! path (`{"a":{"b":1}}` and `{"a.b":1}` are both `a.b`); array elements share
//! their array's path, so "any element matches" falls out of the lookup.

use bumpalo::Bump;
use std::borrow::Cow;
use std::cell::Cell;

use super::blocks::Tokens;

pub use super::split::{Placed, Record, Splitter, MAX_RECORD};

/// Deeper nesting is a bad record (the parser is iterative; this bounds work).
pub const MAX_DEPTH: usize = 512;

/// A leaf value of an event, borrowing from the record where it can.
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf<'a> {
    Str(Cow<'a, str>),
    /// A number as written.
    Num(&'a str),
    Bool(bool),
    Null,
    /// An object (not its members): present, for `exists`.
    Object,
}

impl Leaf<'_> {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Leaf::Num(t) => t.parse().ok(),
            _ => None,
        }
    }
    /// The text of a scalar as a string comparison sees it.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Leaf::Str(s) => Some(Cow::Borrowed(s.as_ref())),
            Leaf::Num(t) => Some(Cow::Borrowed(t)),
            Leaf::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Leaf::Null | Leaf::Object => None,
        }
    }
}

/// A parse error: byte offset in the record and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

fn err<T>(offset: usize, message: &str) -> Result<T, ParseError> {
    Err(ParseError {
        offset,
        message: message.to_string(),
    })
}

/// The kind of value the walk is at: a string (its opening quote), an
/// object or array (its opening bracket; whether an object), or a scalar.
#[derive(Clone, Copy)]
enum Value {
    Str(usize),
    Open(usize, bool),
    Scalar,
}

struct Frame {
    object: bool,
    path_len: usize,
}

/// Parse one record (a JSON object) and call `f(path, leaf, in_array)` for
/// every leaf. Iterative: nesting costs heap, not stack.
pub fn parse_flat<'a>(
    s: &'a str,
    f: &mut dyn FnMut(&str, Leaf<'a>, bool),
) -> Result<(), ParseError> {
    parse_routed(s, |_| Some(()), |p, (), l, a| f(p, l, a))
}

/// [`parse_flat`] for the leaves a caller wants: `want(path)` routes a
/// path (`None`: not wanted, the value is validated but neither decoded nor
/// reported), `f(path, route, leaf, in_array)` receives the wanted leaves.
pub fn parse_routed<'a, W>(
    s: &'a str,
    want: impl FnMut(&str) -> Option<W>,
    f: impl FnMut(&str, W, Leaf<'a>, bool),
) -> Result<(), ParseError> {
    parse_routed_in(s, None, None, &Cell::new(false), want, f)
}

/// [`parse_routed`] with strings that have escapes decoded into `arena`
/// (one reusable allocation per thread instead of one per string). Once
/// `enough` is set (by `f`), nothing more is wanted: the rest of the record
/// is only validated, without building paths or asking `want`. `tokens`:
/// the record's token bits when the reader's line check made them.
pub fn parse_routed_in<'a, W>(
    s: &'a str,
    tokens: Option<&'a [u64]>,
    arena: Option<&'a Bump>,
    enough: &Cell<bool>,
    want: impl FnMut(&str) -> Option<W>,
    f: impl FnMut(&str, W, Leaf<'a>, bool),
) -> Result<(), ParseError> {
    // The path and the stack keep their capacity from record to record.
    let (mut path, mut stack) = BUFS.try_with(Cell::take).unwrap_or_default();
    path.clear();
    stack.clear();
    let r = parse_with(
        s, tokens, arena, enough, want, f, &mut path, &mut stack, true,
    );
    let _ = BUFS.try_with(|b| b.set((path, stack)));
    r
}

/// The walk's verdict on a record whose rest [`rest::rest_is_valid`] did
/// not accept: the record walked again, only validated.
#[inline(never)]
fn recheck(
    s: &str,
    tokens: Option<&[u64]>,
    path: &mut String,
    stack: &mut Vec<Frame>,
) -> Result<(), ParseError> {
    fn none(_: &str) -> Option<()> {
        None
    }
    fn skip(_: &str, (): (), _: Leaf, _: bool) {}
    #[cfg(test)]
    RECHECKS.with(|n| n.set(n.get() + 1));
    path.clear();
    stack.clear();
    parse_with(
        s,
        tokens,
        None,
        &Cell::new(true),
        none,
        skip,
        path,
        stack,
        false,
    )
}

#[cfg(test)]
thread_local! {
    /// Records walked again by [`recheck`] on this thread.
    static RECHECKS: Cell<u32> = const { Cell::new(0) };
}

#[path = "json_rest.rs"]
mod rest;
#[path = "json_str.rs"]
mod strs;
use strs::{escaped_string, hex4};

thread_local! {
    static BUFS: Cell<(String, Vec<Frame>)> = Cell::default();
}

#[allow(clippy::too_many_arguments)]
fn parse_with<'a, W>(
    s: &'a str,
    tokens: Option<&'a [u64]>,
    arena: Option<&'a Bump>,
    enough: &Cell<bool>,
    mut want: impl FnMut(&str) -> Option<W>,
    mut f: impl FnMut(&str, W, Leaf<'a>, bool),
    path: &mut String,
    stack: &mut Vec<Frame>,
    fast_rest: bool,
) -> Result<(), ParseError> {
    let b = s.as_bytes();
    let first = ws(b, 0);
    if b.get(first) != Some(&b'{') {
        return err(first, "an event must be a JSON object");
    }
    // What the caller wants of the value at `path`: nothing once it has
    // enough.
    let mut want = |path: &str| if enough.get() { None } else { want(path) };
    // The walk visits tokens (quotes, escapes, brackets, `:` and `,`); the
    // bytes between two tokens outside strings are checked here: blanks, or
    // one scalar and blanks.
    let mut t = Tokens::scanned(b, tokens);
    t.next(); // the `{` (only blanks before it)
    stack.push(Frame {
        object: true,
        path_len: 0,
    });
    // The byte after the last one read, and whether it closes an opening
    // bracket (a member or the closing bracket follows) or a `,` (a member).
    let mut at = first + 1;
    let mut opened = true;
    'member: loop {
        let top = stack
            .last()
            .map_or((true, 0), |fr| (fr.object, fr.path_len));
        let mut q = t.next();
        if opened {
            let close = if top.0 { b'}' } else { b']' };
            if let Some(c) = q.filter(|&c| b[c] == close && blank(b, at, c)) {
                stack.pop();
                at = c + 1;
                if let Err(e) = after_value(&mut t, b, path, stack, &mut at) {
                    return e;
                }
                if stack.is_empty() {
                    return Ok(());
                }
                opened = false;
                continue 'member;
            }
        }
        // A top-level key without escapes is the path as it is in the
        // record: `path` gets it only when its value is an object or array.
        let mut key: Option<&'a str> = None;
        if top.0 {
            // A key and its `:`.
            let Some(open) = q.filter(|&o| b[o] == b'"' && blank(b, at, o)) else {
                return err(ws(b, at), "expected a string key");
            };
            let validate_only = enough.get();
            let (k, close) = string_at(&mut t, s, open, !validate_only, None)?;
            if !validate_only {
                // Nothing to cut when `path` already ends at this level
                // (after a member whose value was not a container).
                if path.len() > top.1 {
                    path.truncate(top.1);
                }
                match k {
                    Cow::Borrowed(k) if top.1 == 0 => key = Some(k),
                    k => {
                        if top.1 > 0 {
                            path.push('.');
                        }
                        path.push_str(&k);
                    }
                }
            }
            let Some(colon) = t.next().filter(|&c| b[c] == b':' && blank(b, close + 1, c)) else {
                return err(ws(b, close + 1), "expected `:` after a key");
            };
            at = colon + 1;
            q = t.next();
        }
        // A value at `at`; `q` is the next token. `want` and `f` are
        // called from one place each (the closures are then inlined here).
        let in_array = !top.0;
        let value = match q {
            Some(o) if b[o] == b'"' && blank(b, at, o) => Value::Str(o),
            Some(o) if matches!(b[o], b'{' | b'[') && blank(b, at, o) => {
                if stack.len() >= MAX_DEPTH {
                    return err(o, "nesting deeper than 512 levels");
                }
                if let Some(k) = key.take() {
                    path.push_str(k);
                }
                Value::Open(o, b[o] == b'{')
            }
            _ => Value::Scalar,
        };
        let name = key.unwrap_or(path);
        let w = match value {
            Value::Open(_, false) => None,
            _ => want(name),
        };
        let leaf = match value {
            Value::Str(o) => {
                let (v, close) = string_at(&mut t, s, o, w.is_some(), arena)?;
                at = close + 1;
                Leaf::Str(v)
            }
            Value::Open(..) => Leaf::Object,
            Value::Scalar => {
                // Before the token `q` (a `,` or closing bracket when the
                // record is valid).
                let (leaf, end) = scalar(s, ws(b, at))?;
                at = end;
                leaf
            }
        };
        if let Some(w) = w {
            f(name, w, leaf, in_array);
        }
        match value {
            Value::Open(o, object) => {
                stack.push(Frame {
                    object,
                    path_len: path.len(),
                });
                at = o + 1;
                opened = true;
                continue 'member;
            }
            Value::Scalar => {
                if fast_rest && enough.get() {
                    return rest_of(s, tokens, &mut t, path, stack, at, q);
                }
                if let Err(e) = separator(&mut t, b, path, stack, &mut at, q) {
                    return e;
                }
                if stack.is_empty() {
                    return Ok(());
                }
                opened = false;
                continue 'member;
            }
            Value::Str(_) => {}
        }
        if fast_rest && enough.get() {
            let q = t.next();
            return rest_of(s, tokens, &mut t, path, stack, at, q);
        }
        if let Err(e) = after_value(&mut t, b, path, stack, &mut at) {
            return e;
        }
        if stack.is_empty() {
            return Ok(());
        }
        opened = false;
    }
}

/// The verdict on a record whose caller has every leaf it wants, after a
/// value ending before `at` (`q`: the token after it): the rest checked
/// by [`rest::rest_is_valid`], or the record walked again when that does
/// not accept it.
fn rest_of(
    s: &str,
    tokens: Option<&[u64]>,
    t: &mut Tokens,
    path: &mut String,
    stack: &mut Vec<Frame>,
    at: usize,
    q: Option<usize>,
) -> Result<(), ParseError> {
    if rest::rest_is_valid(t, s, stack, at, q) {
        Ok(())
    } else {
        recheck(s, tokens, path, stack)
    }
}

/// After a value ending before `at`: the next token, then [`separator`].
#[inline]
fn after_value(
    t: &mut Tokens,
    b: &[u8],
    path: &mut String,
    stack: &mut Vec<Frame>,
    at: &mut usize,
) -> Result<(), Result<(), ParseError>> {
    if stack.is_empty() {
        return trailing(b, *at);
    }
    let q = t.next();
    separator(t, b, path, stack, at, q)
}

/// After a value ending before `at`, with `q` the next token: the `,`
/// before the next member (then `Ok`, `at` after it), or closing brackets
/// up to one followed by a `,` (idem), or the end of the record (`Ok` with
/// `stack` empty). `Err` holds what the walk returns.
#[inline(always)]
fn separator(
    t: &mut Tokens,
    b: &[u8],
    path: &mut String,
    stack: &mut Vec<Frame>,
    at: &mut usize,
    mut q: Option<usize>,
) -> Result<(), Result<(), ParseError>> {
    loop {
        let Some(top) = stack.last() else {
            return trailing(b, *at);
        };
        let expected = if top.object {
            "expected `,` or `}`"
        } else {
            "expected `,` or `]`"
        };
        let Some(c) = q.filter(|&c| blank(b, *at, c)) else {
            let i = ws(b, *at);
            return Err(if i < b.len() {
                err(i, expected)
            } else {
                err(i, "unexpected end of record")
            });
        };
        match (b[c], top.object) {
            (b',', _) => {
                if !top.object {
                    path.truncate(top.path_len);
                }
                *at = c + 1;
                return Ok(());
            }
            (b'}', true) | (b']', false) => {
                path.truncate(top.path_len);
                stack.pop();
                *at = c + 1;
                if stack.is_empty() {
                    return trailing(b, *at);
                }
                q = t.next();
            }
            _ => return Err(err(c, expected)),
        }
    }
}

/// The end of the record after its object: blanks only.
fn trailing(b: &[u8], at: usize) -> Result<(), Result<(), ParseError>> {
    let i = ws(b, at);
    if i < b.len() {
        return Err(err(i, "trailing characters after the record"));
    }
    Ok(())
}

/// Only blanks in `b[from..to]` (none, in compact JSON).
#[inline]
fn blank(b: &[u8], from: usize, to: usize) -> bool {
    from == to
        || b[from..to]
            .iter()
            .all(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while let Some(c) = b.get(i) {
        if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            break;
        }
        i += 1;
    }
    i
}

/// The scalar at `v` (`true`, `false`, `null` or a number) and the
/// position after it.
#[inline(always)]
fn scalar(s: &str, v: usize) -> Result<(Leaf<'_>, usize), ParseError> {
    let b = s.as_bytes();
    Ok(match b.get(v) {
        None => return err(v, "unexpected end of record"),
        Some(b't') if b[v..].starts_with(b"true") => (Leaf::Bool(true), v + 4),
        Some(b'f') if b[v..].starts_with(b"false") => (Leaf::Bool(false), v + 5),
        Some(b'n') if b[v..].starts_with(b"null") => (Leaf::Null, v + 4),
        Some(c) if *c == b'-' || c.is_ascii_digit() => {
            let end = number(b, v)?;
            (Leaf::Num(&s[v..end]), end)
        }
        Some(_) => return err(v, "expected a JSON value"),
    })
}

fn number(b: &[u8], start: usize) -> Result<usize, ParseError> {
    let mut i = start;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return err(i, "invalid number"),
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return err(i, "invalid number");
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return err(i, "invalid number");
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    Ok(i)
}

/// The string whose opening quote, at `open`, is the token `t` gave last:
/// its value (decoded when `decode`, into `arena` when one is given; else
/// only validated) and the position of its closing quote. Most strings
/// have no escape: the next token closes them.
#[inline(always)]
fn string_at<'a>(
    t: &mut Tokens,
    s: &'a str,
    open: usize,
    decode: bool,
    arena: Option<&'a Bump>,
) -> Result<(Cow<'a, str>, usize), ParseError> {
    match t.next() {
        Some(p) if s.as_bytes()[p] == b'"' => Ok((Cow::Borrowed(&s[open + 1..p]), p)),
        p => escaped_string(t, s, open, p, decode, arena),
    }
}

/// The first byte of `b` that ends a run of plain string content: a quote,
/// a backslash or a control character. Eight bytes per step (SWAR): in each
/// mask the lowest flagged byte is exact (a false flag needs a borrow from
/// a lower byte, itself flagged), and the lowest of the three is the answer.
pub(crate) fn find_stop(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let m = zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| STOP[c as usize])
        .map(|p| at + p)
}

/// The bytes that end a run of plain string content.
const STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
