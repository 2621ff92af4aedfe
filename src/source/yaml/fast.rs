//! A fast path for the block YAML rules are written in: mappings and
//! sequences by indentation, one-line plain and quoted scalars, `|` / `|-`
//! literal blocks, comments. It builds the tree `saphyr-parser` would
//! (same values, styles, spans and origins) in a quarter of the
//! instructions, and answers `None` for anything else (flow collections,
//! anchors, tags, folded or multi-line scalars, several documents, tabs,
//! CR, a byte order mark, empty values, ...): those files, and every file
//! with an error, go to the full parser. Tests hold it to `saphyr-parser` on every YAML file of the
//! corpora and on thousands of mutated ones.

use super::{scalar_origin, Style, YamlKind, YamlNode, YamlScalar};
use crate::span::{FileId, Span};

/// Nesting past which the full parser takes over (it reports the limit).
const MAX_DEPTH: usize = 64;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Blank,
    Comment,
    Content,
}

#[derive(Clone, Copy)]
struct Line {
    start: usize,
    /// Before the `\n`.
    end: usize,
    /// Leading spaces.
    indent: usize,
    kind: Kind,
}

/// Where a plain scalar stops ([`P::stop`]).
enum Stop {
    Colon(usize),
    Comment(usize),
    End,
}

struct P<'a> {
    file: FileId,
    text: &'a str,
    b: &'a [u8],
    lines: Vec<Line>,
    depth: usize,
}

/// The documents of `text`, or `None` when the full parser must read it.
pub(super) fn parse(file: FileId, text: &str) -> Option<Vec<YamlNode>> {
    let b = text.as_bytes();
    // saphyr rejects a byte order mark inside a document; tabs and CRs
    // have rules of their own.
    if memchr::memchr2(b'\t', b'\r', b).is_some()
        || memchr::memmem::find(b, "\u{feff}".as_bytes()).is_some()
    {
        return None;
    }
    let mut p = P {
        file,
        text,
        b,
        lines: lines(b)?,
        depth: 0,
    };
    let first = p.next_sig(0);
    let l = *p.lines.get(first)?;
    if l.indent != 0 || p.is_dash(first) {
        return None;
    }
    let (root, next) = p.map(first, l.start, 0)?;
    (next >= p.lines.len()).then(|| vec![root])
}

/// Split into lines; `None` on a document marker or directive.
fn lines(b: &[u8]) -> Option<Vec<Line>> {
    let mut out = Vec::with_capacity(b.len() / 24);
    let mut start = 0;
    while start < b.len() {
        let end = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |n| start + n);
        let line = &b[start..end];
        let indent = line.iter().take_while(|&&c| c == b' ').count();
        let kind = match line.get(indent) {
            None => Kind::Blank,
            Some(b'#') => Kind::Comment,
            Some(_) => Kind::Content,
        };
        if indent == 0
            && (line.starts_with(b"---") || line.starts_with(b"...") || line.starts_with(b"%"))
        {
            return None;
        }
        out.push(Line {
            start,
            end,
            indent,
            kind,
        });
        start = end + 1;
    }
    Some(out)
}

/// Whether a plain scalar may start with `c` (no indicator).
fn plain_first(c: u8) -> bool {
    !matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b' '
    )
}

impl P<'_> {
    /// The first content line at or after `i` (`lines.len()` if none).
    fn next_sig(&self, mut i: usize) -> usize {
        while i < self.lines.len() && self.lines[i].kind != Kind::Content {
            i += 1;
        }
        i
    }

    /// Where the token on line `i` starts (the end of the text past the last line).
    fn tok_pos(&self, i: usize) -> usize {
        self.lines
            .get(i)
            .map_or(self.text.len(), |l| l.start + l.indent)
    }

    fn is_dash(&self, i: usize) -> bool {
        let l = self.lines[i];
        let c = l.start + l.indent;
        self.b[c] == b'-' && (c + 1 == l.end || self.b[c + 1] == b' ')
    }

    fn scalar(&self, start: usize, end: usize, value: String, style: Style) -> YamlNode {
        let origin = scalar_origin(self.file, &self.text[start..end], start, &value, style);
        YamlNode {
            kind: YamlKind::Scalar(YamlScalar {
                value,
                style,
                origin,
            }),
            span: Span::new(self.file, start, end),
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Where a plain scalar starting at `at` on a line ending at `end`
    /// stops: at the first `:` followed by a space or the line end, at a
    /// comment, or at the line end.
    fn stop(&self, at: usize, end: usize) -> Stop {
        let s = &self.b[at..end];
        for i in 0..s.len() {
            match s[i] {
                b':' if i + 1 == s.len() || s[i + 1] == b' ' => return Stop::Colon(at + i),
                b'#' if i > 0 && s[i - 1] == b' ' => return Stop::Comment(at + i),
                _ => {}
            }
        }
        Stop::End
    }

    /// The offset of the `:` ending a plain key that starts at `at`, if
    /// the line from `at` is `key: ...` (`None`: not a key, or one the
    /// full parser should read).
    fn key_colon(&self, at: usize, end: usize) -> Option<usize> {
        match self.stop(at, end) {
            Stop::Colon(c) if c > at && self.b[c - 1] != b' ' => Some(c),
            _ => None,
        }
    }

    /// A block mapping whose first key starts at `at` on line `li`, its
    /// keys in column `col`; with the next content line after it.
    fn map(&mut self, mut li: usize, at: usize, col: usize) -> Option<(YamlNode, usize)> {
        self.enter()?;
        let first = at;
        let mut at = at;
        let mut entries = Vec::new();
        loop {
            let (k, v, next) = self.entry(li, at, col)?;
            entries.push((k, v));
            li = next;
            let Some(l) = self.lines.get(li) else { break };
            if l.indent < col {
                break;
            }
            if l.indent > col || self.is_dash(li) {
                return None;
            }
            at = l.start + l.indent;
        }
        self.depth -= 1;
        let node = YamlNode {
            kind: YamlKind::Map(entries),
            span: Span::new(self.file, first, self.tok_pos(li)),
        };
        Some((node, li))
    }

    /// One `key: value` of a mapping in column `col`.
    fn entry(&mut self, li: usize, at: usize, col: usize) -> Option<(YamlNode, YamlNode, usize)> {
        let end = self.lines[li].end;
        if !plain_first(self.b[at]) {
            return None;
        }
        let colon = self.key_colon(at, end)?;
        if self.b[at..colon].contains(&b':') {
            return None;
        }
        let key = self.scalar(at, colon, self.text[at..colon].to_string(), Style::Plain);
        let mut v = colon + 1;
        while v < end && self.b[v] == b' ' {
            v += 1;
        }
        if v == end || self.b[v] == b'#' {
            // The value is on the next lines: a nested block, or a
            // sequence in the key's own column.
            let n = self.next_sig(li + 1);
            let l = *self.lines.get(n)?;
            let (value, next) = if l.indent > col {
                if self.is_dash(n) {
                    self.seq(n, l.indent, false)?
                } else {
                    self.map(n, l.start + l.indent, l.indent)?
                }
            } else if l.indent == col && self.is_dash(n) {
                self.seq(n, col, true)?
            } else {
                return None;
            };
            return Some((key, value, next));
        }
        let (value, next) = match self.b[v] {
            b'|' => self.literal(li, v, col)?,
            b'\'' | b'"' => (self.quoted(v, end)?, self.next_sig(li + 1)),
            c if plain_first(c) => (self.plain(v, end)?, self.next_sig(li + 1)),
            _ => return None,
        };
        Some((key, value, next))
    }

    /// A block sequence whose dashes are in column `col`, from line `li`.
    /// `indentless`: in its key's column, where saphyr starts its span at
    /// the first item rather than at the first dash.
    fn seq(&mut self, mut li: usize, col: usize, indentless: bool) -> Option<(YamlNode, usize)> {
        self.enter()?;
        let mut first = self.lines[li].start + col;
        let mut items = Vec::new();
        loop {
            let l = self.lines[li];
            let mut v = l.start + col + 1;
            while v < l.end && self.b[v] == b' ' {
                v += 1;
            }
            if v == l.end || v == l.start + col + 1 {
                return None;
            }
            if indentless && items.is_empty() {
                first = v;
            }
            let (item, next) = match self.b[v] {
                b'\'' | b'"' => (self.quoted(v, l.end)?, self.next_sig(li + 1)),
                c if !plain_first(c) => return None,
                _ if self.key_colon(v, l.end).is_some() => self.map(li, v, v - l.start)?,
                _ => (self.plain(v, l.end)?, self.next_sig(li + 1)),
            };
            items.push(item);
            li = next;
            let Some(l) = self.lines.get(li) else { break };
            if l.indent < col || (l.indent == col && !self.is_dash(li)) {
                break;
            }
            if l.indent > col {
                return None;
            }
        }
        self.depth -= 1;
        let node = YamlNode {
            kind: YamlKind::Seq(items),
            span: Span::new(self.file, first, self.tok_pos(li)),
        };
        Some((node, li))
    }

    /// A one-line plain scalar from `v` (its first character) to the line
    /// end or a comment.
    fn plain(&self, v: usize, end: usize) -> Option<YamlNode> {
        let mut e = match self.stop(v, end) {
            // `a: b: c` is an error; `a:` ends a key
            Stop::Colon(_) => return None,
            Stop::Comment(c) => c,
            Stop::End => end,
        };
        while e > v && self.b[e - 1] == b' ' {
            e -= 1;
        }
        Some(self.scalar(v, e, self.text[v..e].to_string(), Style::Plain))
    }

    /// A quoted scalar closed on its own line, then at most a comment.
    fn quoted(&self, v: usize, end: usize) -> Option<YamlNode> {
        let b = self.b;
        let q = b[v];
        let mut value = String::new();
        let mut i = v + 1;
        let mut run = i; // start of the text not yet copied
        let close = loop {
            if i >= end {
                return None;
            }
            match b[i] {
                b'\'' if q == b'\'' => {
                    value.push_str(&self.text[run..i]);
                    if b.get(i + 1) == Some(&b'\'') && i + 1 < end {
                        value.push('\'');
                        i += 2;
                        run = i;
                        continue;
                    }
                    break i;
                }
                b'"' if q == b'"' => {
                    value.push_str(&self.text[run..i]);
                    break i;
                }
                b'\\' if q == b'"' => {
                    value.push_str(&self.text[run..i]);
                    let (c, len) = escape(&b[i + 1..end])?;
                    value.push(c);
                    i += 1 + len;
                    run = i;
                }
                _ => i += 1,
            }
        };
        let mut r = close + 1;
        while r < end && b[r] == b' ' {
            r += 1;
        }
        if r < end && !(b[r] == b'#' && r > close + 1) {
            return None;
        }
        let style = if q == b'\'' {
            Style::SingleQuoted
        } else {
            Style::DoubleQuoted
        };
        // saphyr ends a quoted scalar's span at the end of its line
        // (trailing spaces and comment included).
        Some(self.scalar(v, end, value, style))
    }

    /// A `|` or `|-` literal block whose header is at `v` on line `li`,
    /// the value of a key in column `col`.
    fn literal(&self, li: usize, v: usize, col: usize) -> Option<(YamlNode, usize)> {
        let header = &self.b[v..self.lines[li].end];
        let strip = match header {
            b"|" => false,
            b"|-" => true,
            _ => return None,
        };
        let first = *self.lines.get(li + 1)?;
        if first.kind == Kind::Blank || first.indent <= col {
            return None;
        }
        let bi = first.indent;
        let mut parts: Vec<&str> = Vec::new();
        let mut content = 0; // parts up to the last content line
        let mut i = li + 1;
        while let Some(l) = self.lines.get(i) {
            if l.start == l.end {
                parts.push("");
            } else if l.kind == Kind::Blank {
                return None; // spaces only: the full parser decides
            } else if l.indent >= bi {
                parts.push(&self.text[l.start + bi..l.end]);
                content = parts.len();
            } else {
                break;
            }
            i += 1;
        }
        let mut value = parts[..content].join("\n");
        if !strip {
            value.push('\n');
        }
        let start = first.start + bi;
        let end = self.tok_pos(i);
        Some((
            self.scalar(start, end, value, Style::Literal),
            self.next_sig(i),
        ))
    }
}

/// A double-quoted escape after the `\`: the character and the escape's
/// length; `None` for escapes the full parser should judge.
fn escape(s: &[u8]) -> Option<(char, usize)> {
    let hex = |n: usize| -> Option<(char, usize)> {
        let h = std::str::from_utf8(s.get(1..1 + n)?).ok()?;
        if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some((char::from_u32(u32::from_str_radix(h, 16).ok()?)?, 1 + n))
    };
    let c = match *s.first()? {
        b'0' => '\0',
        b'a' => '\x07',
        b'b' => '\x08',
        b't' => '\t',
        b'n' => '\n',
        b'v' => '\x0b',
        b'f' => '\x0c',
        b'r' => '\r',
        b'e' => '\x1b',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'x' => return hex(2),
        b'u' => return hex(4),
        b'U' => return hex(8),
        _ => return None,
    };
    Some((c, 1))
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
