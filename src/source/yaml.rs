//! YAML with positions: a small tree over `saphyr-parser`'s spanned events.
//! Each scalar carries an [`Origin`] mapping its decoded text back to the file,
//! so a query inside `search: |` or a Sigma value reports exact lines/columns.

use crate::diag::{codes, Diagnostic};
use crate::span::{FileId, Origin, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

mod fast;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Debug, Clone, PartialEq)]
pub struct YamlScalar {
    pub value: String,
    pub style: Style,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub enum YamlKind {
    Scalar(YamlScalar),
    Seq(Vec<YamlNode>),
    Map(Vec<(YamlNode, YamlNode)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct YamlNode {
    pub kind: YamlKind,
    pub span: Span,
}

impl YamlNode {
    /// The value of `key` in a mapping (the first, if repeated).
    pub fn get(&self, key: &str) -> Option<&YamlNode> {
        self.entry(key).map(|(_, v)| v)
    }
    /// The key node and value of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&YamlNode, &YamlNode)> {
        match &self.kind {
            YamlKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }
    /// The span of `key` itself in a mapping.
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.entry(key).map(|(k, _)| k.span)
    }
    pub fn as_scalar(&self) -> Option<&YamlScalar> {
        match &self.kind {
            YamlKind::Scalar(s) => Some(s),
            _ => None,
        }
    }
    /// The text of a scalar that is not null (`~`, `null`, empty plain).
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar()
            .filter(|_| !self.is_null())
            .map(|s| s.value.as_str())
    }
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, YamlKind::Scalar(s) if s.style == Style::Plain && matches!(s.value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }
    pub fn as_i64(&self) -> Option<i64> {
        let s = self.as_scalar().filter(|s| s.style == Style::Plain)?;
        s.value.parse().ok()
    }
    pub fn as_f64(&self) -> Option<f64> {
        let s = self.as_scalar().filter(|s| s.style == Style::Plain)?;
        s.value.parse().ok()
    }
    pub fn as_bool(&self) -> Option<bool> {
        let s = self.as_scalar().filter(|s| s.style == Style::Plain)?;
        match s.value.as_str() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }
    pub fn as_seq(&self) -> Option<&[YamlNode]> {
        match &self.kind {
            YamlKind::Seq(items) => Some(items),
            _ => None,
        }
    }
    pub fn as_map(&self) -> Option<&[(YamlNode, YamlNode)]> {
        match &self.kind {
            YamlKind::Map(entries) => Some(entries),
            _ => None,
        }
    }
    /// A scalar as a one-element list, a sequence of scalars as a list.
    pub fn as_str_list(&self) -> Vec<&str> {
        match &self.kind {
            YamlKind::Seq(items) => items.iter().filter_map(YamlNode::as_str).collect(),
            _ => self.as_str().into_iter().collect(),
        }
    }
    /// A short name of the node's kind, for "expected a list, found a mapping".
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            YamlKind::Scalar(_) if self.is_null() => "null",
            YamlKind::Scalar(_) => "a scalar",
            YamlKind::Seq(_) => "a list",
            YamlKind::Map(_) => "a mapping",
        }
    }
}

/// The deepest YAML nesting accepted (deeper is E0205, not a stack overflow).
const MAX_YAML_DEPTH: usize = 256;

/// Parse every document of a YAML text.
///
/// PyYAML (which Splunk's and Sigma's tooling use) accepts a multi-line quoted
/// scalar whose continuation lines are not indented; the YAML spec and
/// saphyr do not. Such lines are indented by one space in a working copy and
/// every position is mapped back to the original text.
pub fn parse(file: FileId, text: &str) -> Result<Vec<YamlNode>, Diagnostic> {
    if let Some(docs) = fast::parse(file, text) {
        return Ok(docs);
    }
    let mut inserted: Vec<usize> = Vec::new(); // original offsets where a space was added
    let mut work = std::borrow::Cow::Borrowed(text);
    loop {
        match parse_exact(file, &work) {
            Err(d)
                if d.message.contains("invalid indentation in quoted scalar")
                    && inserted.len() < 10_000 =>
            {
                let quote = d.span.map(|s| s.start as usize).unwrap_or(0);
                let fixes = indent_fixes(&work, quote);
                if fixes.is_empty() {
                    return Err(remap_diag(d, &inserted));
                }
                let mut w = work.into_owned();
                for &(at, n) in fixes.iter().rev() {
                    let orig = to_original(&inserted, at);
                    w.insert_str(at, &" ".repeat(n));
                    inserted.extend(std::iter::repeat_n(orig, n));
                }
                inserted.sort_unstable();
                work = std::borrow::Cow::Owned(w);
            }
            Err(d) => return Err(remap_diag(d, &inserted)),
            Ok(mut docs) => {
                if !inserted.is_empty() {
                    docs.iter_mut().for_each(|d| remap_node(d, &inserted));
                }
                return Ok(docs);
            }
        }
    }
}

/// The continuation lines of the quoted scalar opening at `quote` that are not
/// indented past the line holding the quote: `(line start, spaces to add)`.
fn indent_fixes(text: &str, quote: usize) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let Some(&q) = bytes.get(quote) else {
        return Vec::new();
    };
    if q != b'\'' && q != b'"' {
        return Vec::new();
    }
    let line_start = text[..quote].rfind('\n').map(|n| n + 1).unwrap_or(0);
    let need = text[line_start..].len() - text[line_start..].trim_start_matches(' ').len() + 1;
    let mut fixes = Vec::new();
    let mut i = quote + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if q == b'"' => i += 1,
            b'\'' if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
            c if c == q => break,
            b'\n' => {
                let rest = &text[i + 1..];
                let indent = rest.len() - rest.trim_start_matches(' ').len();
                let blank = rest[indent..].starts_with(['\n', '\r']);
                if !blank && indent < need {
                    fixes.push((i + 1, need - indent));
                }
            }
            _ => {}
        }
        i += 1;
    }
    fixes
}

/// Offset in the original text of an offset in the working copy.
fn to_original(inserted: &[usize], work_offset: usize) -> usize {
    let mut o = work_offset;
    for (k, i) in inserted.iter().enumerate() {
        // the k-th insertion sits at working offset i + k
        if i + k < work_offset {
            o -= 1;
        }
    }
    o
}

fn remap_span(s: &mut Span, inserted: &[usize]) {
    s.start = to_original(inserted, s.start as usize) as u32;
    s.end = to_original(inserted, s.end as usize) as u32;
}

fn remap_diag(mut d: Diagnostic, inserted: &[usize]) -> Diagnostic {
    if let Some(s) = d.span.as_mut() {
        remap_span(s, inserted);
    }
    d
}

fn remap_node(n: &mut YamlNode, inserted: &[usize]) {
    remap_span(&mut n.span, inserted);
    match &mut n.kind {
        YamlKind::Scalar(s) => s.origin.remap(|o| to_original(inserted, o)),
        YamlKind::Seq(items) => items.iter_mut().for_each(|i| remap_node(i, inserted)),
        YamlKind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            remap_node(k, inserted);
            remap_node(v, inserted);
        }),
    }
}

fn parse_exact(file: FileId, text: &str) -> Result<Vec<YamlNode>, Diagnostic> {
    let offsets = CharOffsets::new(text);
    let mut b = Builder {
        file,
        text,
        offsets: &offsets,
        stack: Vec::new(),
        docs: Vec::new(),
        anchors: HashMap::new(),
    };
    for ev in Parser::new_from_str(text) {
        let (ev, sp) = ev.map_err(|e| {
            let at = offsets.byte(e.marker().index());
            let code = if e.info().contains("recursion limit") {
                codes::TOO_DEEP
            } else {
                codes::YAML_SYNTAX
            };
            Diagnostic::error(code, format!("invalid YAML: {}", e.info()))
                .at(Span::new(file, at, (at + 1).min(text.len().max(at))))
                .label(e.info().to_string())
        })?;
        let (start, end) = (offsets.byte(sp.start.index()), offsets.byte(sp.end.index()));
        b.event(ev, start, end)?;
    }
    Ok(b.docs)
}

struct CharOffsets(Option<Vec<u32>>);

impl CharOffsets {
    fn new(text: &str) -> CharOffsets {
        if text.is_ascii() {
            CharOffsets(None)
        } else {
            let mut v: Vec<u32> = text.char_indices().map(|(b, _)| b as u32).collect();
            v.push(text.len() as u32);
            CharOffsets(Some(v))
        }
    }
    fn byte(&self, char_index: usize) -> usize {
        match &self.0 {
            None => char_index,
            Some(v) => v
                .get(char_index)
                .copied()
                .unwrap_or(*v.last().unwrap_or(&0)) as usize,
        }
    }
}

enum Open {
    Seq(Vec<YamlNode>, usize, Option<usize>),
    Map(
        Vec<(YamlNode, YamlNode)>,
        Option<YamlNode>,
        usize,
        Option<usize>,
    ),
}

struct Builder<'a> {
    file: FileId,
    text: &'a str,
    offsets: &'a CharOffsets,
    stack: Vec<Open>,
    docs: Vec<YamlNode>,
    anchors: HashMap<usize, YamlNode>,
}

impl Builder<'_> {
    fn event(&mut self, ev: Event<'_>, start: usize, end: usize) -> Result<(), Diagnostic> {
        let _ = self.offsets;
        match ev {
            Event::Scalar(value, style, anchor, _tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let end = end.max(start).min(self.text.len());
                let origin = scalar_origin(self.file, &self.text[start..end], start, &value, style);
                let node = YamlNode {
                    kind: YamlKind::Scalar(YamlScalar {
                        value: value.into_owned(),
                        style,
                        origin,
                    }),
                    span: Span::new(self.file, start, end),
                };
                self.push(node, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                self.open(Open::Seq(Vec::new(), start, anchor_id(anchor)), start)?
            }
            Event::MappingStart(anchor, _) => {
                self.open(Open::Map(Vec::new(), None, start, anchor_id(anchor)), start)?
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq(items, s, a)) => (
                        YamlNode {
                            kind: YamlKind::Seq(items),
                            span: self.span(s, end),
                        },
                        a,
                    ),
                    Some(Open::Map(entries, _, s, a)) => (
                        YamlNode {
                            kind: YamlKind::Map(entries),
                            span: self.span(s, end),
                        },
                        a,
                    ),
                    None => return Ok(()),
                };
                self.push(node.0, node.1.unwrap_or(0));
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or_else(|| {
                    Diagnostic::error(codes::YAML_SYNTAX, "alias to an unknown anchor")
                        .at(self.span(start, end))
                })?;
                self.push(node, 0);
            }
            _ => {}
        }
        Ok(())
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end.max(start))
    }

    fn open(&mut self, o: Open, at: usize) -> Result<(), Diagnostic> {
        if self.stack.len() >= MAX_YAML_DEPTH {
            return Err(Diagnostic::error(
                codes::TOO_DEEP,
                format!("YAML nests more than {MAX_YAML_DEPTH} levels deep"),
            )
            .at(self.span(at, at + 1)));
        }
        self.stack.push(o);
        Ok(())
    }

    fn push(&mut self, node: YamlNode, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Open::Seq(items, ..)) => items.push(node),
            Some(Open::Map(entries, pending, ..)) => match pending.take() {
                None => *pending = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

fn anchor_id(a: usize) -> Option<usize> {
    (a != 0).then_some(a)
}

/// Whether `raw` starts with a block-scalar header line (`|`, `>-`, `|+2`,
/// optionally a comment) rather than with content that begins with `|`
/// (an SPL search such as `| tstats ...`).
fn is_block_header(raw: &str) -> bool {
    let line = raw.lines().next().unwrap_or("");
    let line = line.split(" #").next().unwrap_or(line).trim_end();
    let mut chars = line.chars();
    matches!(chars.next(), Some('|' | '>'))
        && chars.all(|c| matches!(c, '+' | '-') || c.is_ascii_digit())
}

/// Align the decoded scalar `value` with its raw token `raw` (at file offset
/// `base`) and build the map from decoded offsets to file offsets.
fn scalar_origin(file: FileId, raw: &str, base: usize, value: &str, style: Style) -> Origin {
    // Skip the block header line (`|-`, `>+2`) or the opening quote.
    let p = match style {
        Style::Literal | Style::Folded if is_block_header(raw) => {
            raw.find('\n').map(|n| n + 1).unwrap_or(raw.len())
        }
        Style::SingleQuoted | Style::DoubleQuoted => 1.min(raw.len()),
        Style::Plain | Style::Literal | Style::Folded => 0,
    };
    // Most scalars are written as they read (no escape, quote or folded
    // line in them): one segment.
    let verbatim = match style {
        Style::DoubleQuoted => !value.contains('\\'),
        Style::SingleQuoted => !value.contains('\''),
        Style::Plain | Style::Literal | Style::Folded => true,
    };
    if verbatim && raw.get(p..).is_some_and(|t| t.starts_with(value)) {
        return Origin::verbatim(file, base + p);
    }
    align(file, raw, base, p, value, style)
}

/// [`scalar_origin`] character by character from `p` (the first content
/// byte of `raw`).
fn align(file: FileId, raw: &str, base: usize, mut p: usize, value: &str, style: Style) -> Origin {
    let r = raw.as_bytes();
    let mut segments: Vec<(u32, u32)> = Vec::new();
    let mut last_delta: Option<i64> = None;
    let mut mark = |i: usize, p: usize, segments: &mut Vec<(u32, u32)>| {
        let delta = p as i64 - i as i64;
        if last_delta != Some(delta) {
            segments.push((i as u32, (base + p) as u32));
            last_delta = Some(delta);
        }
    };
    for (i, c) in value.char_indices() {
        let mut clen = c.len_utf8();
        loop {
            if p >= r.len() {
                // Could not align (unexpected decoding): keep the rest at the token's end.
                if segments.is_empty() {
                    segments.push((0, base as u32));
                }
                return Origin::from_segments(file, segments);
            }
            let b = r[p];
            if style == Style::DoubleQuoted && b == b'\\' {
                let next = r.get(p + 1).copied().unwrap_or(b' ');
                if next == b'\n' || next == b'\r' {
                    p += 2; // escaped line break: produces nothing
                    continue;
                }
                let len = match next {
                    b'x' => 4,
                    b'u' => 6,
                    b'U' => 10,
                    _ => 2,
                };
                mark(i, p, &mut segments);
                p += len;
                clen = 0;
                break;
            }
            if style == Style::SingleQuoted && c == '\'' && raw[p..].starts_with("''") {
                mark(i, p, &mut segments);
                p += 2;
                clen = 0;
                break;
            }
            // An ASCII character is one byte: no string compare.
            let same = if c.is_ascii() {
                b == c as u8
            } else {
                raw[p..].starts_with(c)
            };
            if same {
                mark(i, p, &mut segments);
                break;
            }
            if (c == ' ' || c == '\n') && (b == b'\n' || b == b'\r') {
                mark(i, p, &mut segments);
                p += 1;
                clen = 0;
                break;
            }
            p += 1;
            while p < r.len() && !raw.is_char_boundary(p) {
                p += 1;
            }
        }
        p += clen;
    }
    if segments.is_empty() {
        segments.push((0, (base + p.min(r.len())) as u32));
    }
    Origin::from_segments(file, segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-segment shortcut gives what the alignment gives.
    #[test]
    fn verbatim_scalars_align_as_the_slow_path_does() {
        let cases = [
            ("plain value", "plain value", Style::Plain, 0),
            ("'single'", "single", Style::SingleQuoted, 1),
            ("\"dq \\\\x\"", "dq \\x", Style::DoubleQuoted, 1),
            ("\"C:\\\\W\"", "C:\\W", Style::DoubleQuoted, 1),
            ("\"ab\"", "ab", Style::DoubleQuoted, 1),
            ("'it''s'", "it's", Style::SingleQuoted, 1),
            ("|\n  x\n", "x\n", Style::Literal, 2),
            ("", "", Style::Plain, 0),
        ];
        for (raw, value, style, p) in cases {
            assert_eq!(
                scalar_origin(FileId(0), raw, 100, value, style),
                align(FileId(0), raw, 100, p, value, style),
                "{raw:?}"
            );
        }
    }

    fn doc(text: &str) -> YamlNode {
        parse(FileId(0), text).unwrap().remove(0)
    }

    #[test]
    fn literal_block_maps_each_line() {
        let text = "name: x\nsearch: |\n  index=a\n  | stats count\nnext: 1\n";
        let d = doc(text);
        let s = d.get("search").unwrap().as_scalar().unwrap();
        assert_eq!(s.value, "index=a\n| stats count\n");
        assert_eq!(&text[s.origin.map(0)..s.origin.map(0) + 7], "index=a");
        let at = s.value.find("stats").unwrap();
        assert_eq!(&text[s.origin.map(at)..s.origin.map(at) + 5], "stats");
        assert_eq!(d.get("next").unwrap().as_i64(), Some(1));
    }

    #[test]
    fn literal_block_whose_content_starts_with_a_pipe() {
        let text = "search: |\n    | tstats count\n    | where x\n";
        let d = doc(text);
        let s = d.get("search").unwrap().as_scalar().unwrap();
        assert_eq!(&text[s.origin.map(0)..s.origin.map(0) + 8], "| tstats");
        let at = s.value.find("where").unwrap();
        assert_eq!(&text[s.origin.map(at)..s.origin.map(at) + 5], "where");
    }

    #[test]
    fn quoted_scalars_map_past_escapes() {
        let text = "a: \"x\\\"y z\"\nb: 'it''s q'\n";
        let d = doc(text);
        let a = d.get("a").unwrap().as_scalar().unwrap();
        assert_eq!(a.value, "x\"y z");
        assert_eq!(&text[a.origin.map(4)..a.origin.map(4) + 1], "z");
        let b = d.get("b").unwrap().as_scalar().unwrap();
        assert_eq!(b.value, "it's q");
        assert_eq!(&text[b.origin.map(5)..b.origin.map(5) + 1], "q");
    }

    #[test]
    fn folded_plain_multiline() {
        let text = "k: one\n  two\n";
        let d = doc(text);
        let s = d.get("k").unwrap().as_scalar().unwrap();
        assert_eq!(s.value, "one two");
        assert_eq!(&text[s.origin.map(4)..s.origin.map(4) + 3], "two");
    }

    #[test]
    fn multi_docs_anchors_and_errors() {
        let docs = parse(FileId(0), "a: &x [1, 2]\nb: *x\n---\nc: 3\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].get("b").unwrap().as_str_list(), vec!["1", "2"]);
        let e = parse(FileId(0), "a: [1, 2\n").unwrap_err();
        assert_eq!(e.code, codes::YAML_SYNTAX);
        let deep = format!("a: {}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(parse(FileId(0), &deep).unwrap_err().code, codes::TOO_DEEP);
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let text = "é: ü\nk: v\n";
        let d = doc(text);
        let v = d.get("k").unwrap();
        assert_eq!(&text[v.span.start as usize..v.span.end as usize], "v");
    }
}

#[cfg(test)]
mod lenient_tests {
    use super::*;

    #[test]
    fn unindented_quoted_continuation_is_accepted_with_true_positions() {
        let text = "a: 'one\n| two\n| two'\nb: x\n";
        let docs = parse(FileId(0), text).unwrap();
        let a = docs[0].get("a").unwrap().as_scalar().unwrap();
        assert_eq!(a.value, "one | two | two");
        let at = a.value.find("two").unwrap();
        assert_eq!(&text[a.origin.map(at)..a.origin.map(at) + 3], "two");
        let b = docs[0].get("b").unwrap();
        assert_eq!(&text[b.span.start as usize..b.span.end as usize], "x");
    }
}
