//! Reading events: a streaming splitter that cuts NDJSON, a JSON array, or
//! JSON objects written one after another (evtx dumps, pretty-printed) into
//! records without recursion, and a flat parser that turns one record into
//! `(dotted path, leaf)` pairs. Nested objects and dotted keys give the same
//! path (`{"a":{"b":1}}` and `{"a.b":1}` are both `a.b`); array elements share
//! their array's path, so "any element matches" falls out of the lookup.

use bumpalo::Bump;
use memchr::{memchr2, memchr3};
use std::borrow::Cow;
use std::io::Read;

/// Records larger than this are reported and skipped (never buffered whole).
pub const MAX_RECORD: usize = 64 << 20;
/// Deeper nesting is a bad record (the parser is iterative; this bounds work).
pub const MAX_DEPTH: usize = 512;

/// One record cut from the input: its bytes, or why it is not an event.
pub struct Record {
    pub line: usize,
    pub result: Result<Vec<u8>, String>,
}

enum Mode {
    /// Between records.
    Between,
    /// Inside an object record.
    Object,
    /// A record that does not start with `{`: skipped to the end of its line.
    Junk,
}

/// The streaming splitter.
pub struct Splitter<R: Read> {
    input: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    line: usize,
    /// Inside a top-level JSON array (records are its elements).
    in_array: bool,
    seen_any: bool,
    mode: Mode,
    rec: Vec<u8>,
    rec_line: usize,
    oversize: bool,
    depth: usize,
    in_string: bool,
    escaped: bool,
    at_line_start: bool,
}

impl<R: Read> Splitter<R> {
    pub fn new(input: R) -> Splitter<R> {
        Splitter {
            input,
            buf: vec![0; 1 << 18],
            pos: 0,
            len: 0,
            eof: false,
            line: 1,
            in_array: false,
            seen_any: false,
            mode: Mode::Between,
            rec: Vec::with_capacity(4096),
            rec_line: 1,
            oversize: false,
            depth: 0,
            in_string: false,
            escaped: false,
            at_line_start: true,
        }
    }

    fn fill(&mut self) -> Result<bool, String> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        loop {
            match self.input.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.eof = true;
                    return Err(e.to_string());
                }
            }
        }
    }

    fn push_range(&mut self, a: usize, b: usize) {
        if self.oversize {
            return;
        }
        if self.rec.len() + (b - a) > MAX_RECORD {
            self.oversize = true;
            self.rec = Vec::new();
            return;
        }
        self.rec.extend_from_slice(&self.buf[a..b]);
    }

    fn start(&mut self, mode: Mode) {
        self.mode = mode;
        self.rec.clear();
        self.rec_line = self.line;
        self.oversize = false;
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
        self.seen_any = true;
    }

    /// Give back a record's buffer for reuse (saves an allocation per record).
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.rec.is_empty() && self.rec.capacity() < buf.capacity() && buf.capacity() <= 1 << 20
        {
            buf.clear();
            self.rec = buf;
        }
    }

    fn finish(&mut self, err: Option<String>) -> Record {
        self.mode = Mode::Between;
        let line = self.rec_line;
        let result = if self.oversize {
            Err(format!(
                "record larger than {} MiB: skipped",
                MAX_RECORD >> 20
            ))
        } else if let Some(e) = err {
            Err(e)
        } else {
            Ok(std::mem::take(&mut self.rec))
        };
        Record { line, result }
    }

    /// The next record, `None` at the end of the input.
    pub fn next_record(&mut self) -> Option<Record> {
        loop {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => {
                    return match self.mode {
                        Mode::Between => None,
                        Mode::Object => Some(self.finish(Some(
                            "truncated JSON: the input ends inside this record".into(),
                        ))),
                        Mode::Junk => Some(self.finish(Some("not a JSON object".into()))),
                    };
                }
                Err(e) => {
                    return Some(Record {
                        line: self.line,
                        result: Err(format!("read error: {e}")),
                    })
                }
            }
            if let Some(r) = self.step() {
                return Some(r);
            }
        }
    }

    /// Consume buffered bytes; returns a record when one completes.
    fn step(&mut self) -> Option<Record> {
        while self.pos < self.len {
            match self.mode {
                Mode::Between => {
                    let b = self.buf[self.pos];
                    self.pos += 1;
                    match b {
                        b'\n' => {
                            self.line += 1;
                            self.at_line_start = true;
                        }
                        b' ' | b'\t' | b'\r' => {}
                        b',' if self.in_array => {}
                        b']' if self.in_array => self.in_array = false,
                        b'[' if !self.in_array && !self.seen_any => {
                            self.in_array = true;
                            self.seen_any = true;
                        }
                        b'{' => {
                            let at = self.pos - 1;
                            self.start(Mode::Object);
                            // Fast path: a whole one-object line already in
                            // the buffer (NDJSON) is the record; anything
                            // else goes through the state machine below.
                            if let Some(n) = line_object(&self.buf[at..self.len]) {
                                self.push_range(at, at + n);
                                self.pos = at + n;
                                self.at_line_start = false;
                                return Some(self.finish(None));
                            }
                            self.depth = 1;
                            self.push_range(at, self.pos);
                            self.at_line_start = false;
                        }
                        _ => {
                            self.start(Mode::Junk);
                            self.at_line_start = false;
                        }
                    }
                }
                Mode::Junk => {
                    let rest = &self.buf[self.pos..self.len];
                    match memchr::memchr(b'\n', rest) {
                        Some(i) => {
                            self.pos += i;
                            return Some(self.finish(Some("not a JSON object".into())));
                        }
                        None => self.pos = self.len,
                    }
                }
                Mode::Object => {
                    if let Some(r) = self.step_object() {
                        return Some(r);
                    }
                }
            }
        }
        None
    }

    fn step_object(&mut self) -> Option<Record> {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
                let b = self.buf[self.pos];
                self.pos += 1;
                if b == b'\n' {
                    self.line += 1;
                    self.at_line_start = true;
                    return Some(self.finish(Some("unterminated string".into())));
                }
                self.push_range(self.pos - 1, self.pos);
                return None;
            }
            let at = self.pos;
            match memchr3(b'"', b'\\', b'\n', &self.buf[at..self.len]) {
                None => {
                    self.push_range(at, self.len);
                    self.pos = self.len;
                }
                Some(i) => {
                    let b = self.buf[at + i];
                    self.pos = at + i + 1;
                    if b == b'\n' {
                        self.line += 1;
                        self.at_line_start = true;
                        return Some(self.finish(Some("unterminated string".into())));
                    }
                    self.push_range(at, at + i + 1);
                    if b == b'"' {
                        self.in_string = false;
                    } else {
                        self.escaped = true;
                    }
                }
            }
            return None;
        }
        let seg = self.pos;
        while self.pos < self.len {
            let b = self.buf[self.pos];
            match b {
                b'\n' => {
                    self.line += 1;
                    self.at_line_start = true;
                    self.pos += 1;
                    continue;
                }
                b' ' | b'\t' | b'\r' => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            // A `{` at the start of a line while a record is open: the open
            // record was truncated (NDJSON, evtx dumps put records there).
            if b == b'{' && self.at_line_start && !self.in_array {
                self.push_range(seg, self.pos);
                let r = self.finish(Some("truncated JSON: a new record starts here".into()));
                self.start(Mode::Object);
                self.depth = 1;
                self.push_range(self.pos, self.pos + 1);
                self.pos += 1;
                self.at_line_start = false;
                return Some(r);
            }
            self.at_line_start = false;
            self.pos += 1;
            match b {
                b'"' => {
                    self.in_string = true;
                    self.push_range(seg, self.pos);
                    return None;
                }
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        self.push_range(seg, self.pos);
                        return Some(self.finish(None));
                    }
                }
                _ => {}
            }
        }
        self.push_range(seg, self.pos);
        None
    }
}

/// The length of the JSON object that starts `b` when it is the only thing
/// on its line (up to the next `\n`, trailing blanks allowed), as the
/// splitter's state machine would cut it (brackets of both kinds counted,
/// strings skipped); `None` when the line is not complete in `b`, holds more
/// or less than one object, or needs the state machine.
fn line_object(b: &[u8]) -> Option<usize> {
    let line = &b[..memchr::memchr(b'\n', b)?];
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = line.get(i) {
        match c {
            b'"' => {
                i += 1;
                loop {
                    i += memchr2(b'"', b'\\', line.get(i..)?)?;
                    if line[i] == b'"' {
                        break;
                    }
                    i += 2;
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    let end = i + 1;
                    return line[end..]
                        .iter()
                        .all(|c| matches!(c, b' ' | b'\t' | b'\r'))
                        .then_some(end);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

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
    parse_routed_in(s, None, want, f)
}

/// [`parse_routed`] with strings that have escapes decoded into `arena`
/// (one reusable allocation per thread instead of one per string).
pub fn parse_routed_in<'a, W>(
    s: &'a str,
    arena: Option<&'a Bump>,
    mut want: impl FnMut(&str) -> Option<W>,
    mut f: impl FnMut(&str, W, Leaf<'a>, bool),
) -> Result<(), ParseError> {
    let b = s.as_bytes();
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return err(i, "an event must be a JSON object");
    }
    let mut path = String::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Parse a value at i.
    'value: loop {
        i = ws(b, i);
        let in_array = stack.last().is_some_and(|fr| !fr.object);
        match b.get(i) {
            None => return err(i, "unexpected end of record"),
            Some(b'{') => {
                if stack.len() >= MAX_DEPTH {
                    return err(i, "nesting deeper than 512 levels");
                }
                if !stack.is_empty() {
                    if let Some(w) = want(&path) {
                        f(&path, w, Leaf::Object, in_array);
                    }
                }
                stack.push(Frame {
                    object: true,
                    path_len: path.len(),
                });
                i = ws(b, i + 1);
                if b.get(i) == Some(&b'}') {
                    i += 1;
                    stack.pop();
                } else {
                    i = key(s, i, &mut path, stack.last().map_or(0, |fr| fr.path_len))?;
                    continue 'value;
                }
            }
            Some(b'[') => {
                if stack.len() >= MAX_DEPTH {
                    return err(i, "nesting deeper than 512 levels");
                }
                stack.push(Frame {
                    object: false,
                    path_len: path.len(),
                });
                i = ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    i += 1;
                    stack.pop();
                } else {
                    continue 'value;
                }
            }
            Some(b'"') => {
                let w = want(&path);
                let (v, next) = string_in(s, i, w.is_some(), arena)?;
                if let Some(w) = w {
                    f(&path, w, Leaf::Str(v), in_array);
                }
                i = next;
            }
            Some(b't') if b[i..].starts_with(b"true") => {
                if let Some(w) = want(&path) {
                    f(&path, w, Leaf::Bool(true), in_array);
                }
                i += 4;
            }
            Some(b'f') if b[i..].starts_with(b"false") => {
                if let Some(w) = want(&path) {
                    f(&path, w, Leaf::Bool(false), in_array);
                }
                i += 5;
            }
            Some(b'n') if b[i..].starts_with(b"null") => {
                if let Some(w) = want(&path) {
                    f(&path, w, Leaf::Null, in_array);
                }
                i += 4;
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let end = number(b, i)?;
                if let Some(w) = want(&path) {
                    f(&path, w, Leaf::Num(&s[i..end]), in_array);
                }
                i = end;
            }
            Some(_) => return err(i, "expected a JSON value"),
        }
        // After a value: separators and closing brackets.
        loop {
            let Some(top) = stack.last() else {
                i = ws(b, i);
                if i < b.len() {
                    return err(i, "trailing characters after the record");
                }
                return Ok(());
            };
            i = ws(b, i);
            match (b.get(i), top.object) {
                (Some(b','), true) => {
                    let base = top.path_len;
                    i = key(s, ws(b, i + 1), &mut path, base)?;
                    continue 'value;
                }
                (Some(b','), false) => {
                    path.truncate(top.path_len);
                    i += 1;
                    continue 'value;
                }
                (Some(b'}'), true) | (Some(b']'), false) => {
                    path.truncate(top.path_len);
                    stack.pop();
                    i += 1;
                }
                (None, _) => return err(i, "unexpected end of record"),
                (Some(_), true) => return err(i, "expected `,` or `}`"),
                (Some(_), false) => return err(i, "expected `,` or `]`"),
            }
        }
    }
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

/// A member key at `i` and its `:`; sets `path` to `path[..base].key`.
fn key(s: &str, i: usize, path: &mut String, base: usize) -> Result<usize, ParseError> {
    let b = s.as_bytes();
    if b.get(i) != Some(&b'"') {
        return err(i, "expected a string key");
    }
    let (k, next) = string(s, i, true)?;
    path.truncate(base);
    if base > 0 {
        path.push('.');
    }
    path.push_str(&k);
    let j = ws(b, next);
    if b.get(j) != Some(&b':') {
        return err(j, "expected `:` after a key");
    }
    Ok(j + 1)
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

/// A JSON string at `start` (the opening quote): its decoded value (when
/// `decode`; else only validated) and the index after the closing quote.
fn string(s: &str, start: usize, decode: bool) -> Result<(Cow<'_, str>, usize), ParseError> {
    string_in(s, start, decode, None)
}

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

/// [`string`], decoding into `arena` when one is given.
fn string_in<'a>(
    s: &'a str,
    start: usize,
    decode: bool,
    arena: Option<&'a Bump>,
) -> Result<(Cow<'a, str>, usize), ParseError> {
    let b = s.as_bytes();
    let mut i = start + 1;
    let mut owned: Option<Owned<'a>> = None;
    let mut seg = i;
    loop {
        // One pass for the quote, a backslash or a control character (JSON
        // strings cannot hold raw ones): values are short, a table beats a
        // vectorised search that must be set up at every escape.
        let Some(off) = b[i..].iter().position(|&c| STOP[c as usize]) else {
            return err(start, "unterminated string");
        };
        let j = i + off;
        if b[j] < 0x20 {
            return err(j, "control character in a string");
        }
        if b[j] == b'"' {
            return Ok(match owned {
                None => (Cow::Borrowed(&s[seg..j]), j + 1),
                Some(mut o) => {
                    o.push_str(&s[seg..j]);
                    (o.done(), j + 1)
                }
            });
        }
        let e = *b.get(j + 1).ok_or(ParseError {
            offset: j,
            message: "unterminated string".into(),
        })?;
        i = j + 2;
        let c = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(b, i)?;
                i += 4;
                let c = if (0xD800..0xDC00).contains(&hi)
                    && b.get(i) == Some(&b'\\')
                    && b.get(i + 1) == Some(&b'u')
                {
                    let lo = hex4(b, i + 2)?;
                    if (0xDC00..0xE000).contains(&lo) {
                        i += 6;
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                    } else {
                        None
                    }
                } else {
                    char::from_u32(hi)
                };
                c.unwrap_or('\u{FFFD}')
            }
            _ => return err(j, "invalid escape in a string"),
        };
        if decode {
            let o = owned.get_or_insert_with(|| Owned::new(j - seg + 32, arena));
            o.push_str(&s[seg..j]);
            o.push(c);
        }
        seg = i;
    }
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

fn hex4(b: &[u8], i: usize) -> Result<u32, ParseError> {
    let h = b.get(i..i + 4).ok_or(ParseError {
        offset: i,
        message: "truncated \\u escape".into(),
    })?;
    let t = std::str::from_utf8(h).map_err(|_| ParseError {
        offset: i,
        message: "invalid \\u escape".into(),
    })?;
    u32::from_str_radix(t, 16).map_err(|_| ParseError {
        offset: i,
        message: "invalid \\u escape".into(),
    })
}

/// Whether a record holds a `\u` escape (outside an escaped backslash): a
/// literal may then be spelled differently in the raw bytes.
pub fn has_unicode_escape(b: &[u8]) -> bool {
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'\\', &b[i..]) {
        let j = i + off;
        match b.get(j + 1) {
            Some(b'u') => return true,
            Some(_) => i = j + 2,
            None => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte per read: a line is never whole in
    /// the buffer, so the splitter's state machine cuts every record.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn the_line_fast_path_cuts_as_the_state_machine_does() {
        let inputs = [
            "{\"a\":1}\n{\"b\":\"}{\"}\r\n",
            "{\"a\":1} {\"b\":2}\n{\"c\":[1,{\"d\":2}]}  \n",
            "[{\"a\":1},\n{\"b\":2}\n]\n",
            "{\"a\":\"x\\\"}\"}\n{\"t\":\n1}\n",
            "{\"a\":1]\n{\"a\":{}}}\nnot json\n{\"open\":\n{\"next\":1}\n",
            "{\"s\":\"unterminated\n{\"x\":2}\n",
        ];
        for input in inputs {
            let fast = split(input);
            let mut s = Splitter::new(Trickle(input.as_bytes()));
            let mut slow = Vec::new();
            while let Some(r) = s.next_record() {
                slow.push((
                    r.line,
                    r.result.map(|b| String::from_utf8_lossy(&b).into_owned()),
                ));
            }
            assert_eq!(fast, slow, "{input:?}");
        }
    }

    fn split(input: &str) -> Vec<(usize, Result<String, String>)> {
        let mut s = Splitter::new(input.as_bytes());
        let mut out = Vec::new();
        while let Some(r) = s.next_record() {
            out.push((
                r.line,
                r.result.map(|b| String::from_utf8_lossy(&b).into_owned()),
            ));
        }
        out
    }

    fn flat(s: &str) -> Vec<(String, Leaf<'_>)> {
        let mut out = Vec::new();
        parse_flat(s, &mut |p, l, _| out.push((p.to_string(), l))).unwrap();
        out
    }

    #[test]
    fn ndjson_array_and_concatenated() {
        let r = split("{\"a\":1}\n{\"b\":\"}\"}\n");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1], (2, Ok("{\"b\":\"}\"}".to_string())));
        let r = split("[{\"a\":1},\n {\"a\":2}]");
        assert_eq!(r.len(), 2);
        assert!(r.iter().all(|x| x.1.is_ok()));
        let r = split("{\n  \"a\": {\n    \"b\": 1\n  }\n}\n{\n  \"c\": 2\n}\n");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].0, 6);
    }

    #[test]
    fn truncated_and_junk_records_do_not_swallow_others() {
        let r = split("{\"a\":1}\n{\"a\": \"tru\n{\"a\":3}\nnot json\n{\"a\":\n{\"a\":5}");
        let oks: Vec<_> = r.iter().filter(|x| x.1.is_ok()).map(|x| x.0).collect();
        let bad: Vec<_> = r.iter().filter(|x| x.1.is_err()).map(|x| x.0).collect();
        assert_eq!(oks, vec![1, 3, 6]);
        assert_eq!(bad, vec![2, 4, 5]);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        let r = split(&deep);
        assert_eq!(r.len(), 1);
        let rec = r[0].1.clone().unwrap();
        let e = parse_flat(&rec, &mut |_, _, _| {}).unwrap_err();
        assert!(e.message.contains("deeper"), "{e:?}");
    }

    #[test]
    fn nested_and_dotted_keys_share_paths() {
        let a = flat(r#"{"process":{"name":"x","args":["a","b"]},"process.pid":4}"#);
        let paths: Vec<&str> = a.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "process",
                "process.name",
                "process.args",
                "process.args",
                "process.pid"
            ]
        );
        assert_eq!(a[4].1, Leaf::Num("4"));
    }

    #[test]
    fn escapes_decode() {
        let a = flat(r#"{"p":"C:\\Win\u0041\ud83d\ude00\"q"}"#);
        assert_eq!(a[0].1, Leaf::Str("C:\\WinA😀\"q".to_string().into()));
        assert!(parse_flat(r#"{"a":1,}"#, &mut |_, _, _| {}).is_err());
        assert!(parse_flat(r#"{"a":01}"#, &mut |_, _, _| {}).is_err());
        assert!(parse_flat(r#"{"a":"x"} x"#, &mut |_, _, _| {}).is_err());
        assert!(has_unicode_escape(br#"{"a":"\u0041"}"#));
        assert!(!has_unicode_escape(br#"{"a":"C:\\users"}"#));
    }
}
