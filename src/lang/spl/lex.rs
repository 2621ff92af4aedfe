//! The parser state and the lexical layer shared by every SPL sub-parser:
//! whitespace and ```comments```, quoted strings, bare words, keywords.

use super::ast::Word;
use crate::diag::{codes, Code, Diagnostic};
use crate::lang::common::{self, describe_next, Depth};
use crate::span::{Origin, Span};
use nom::bytes::complete::{tag, take_until, take_while, take_while1};
use nom::IResult;

/// A parse result: the rest of the input and a value, or a coded diagnostic.
pub type R<'a, T> = Result<(&'a str, T), Diagnostic>;

/// Parser state: the full text (for offsets), its origin, a nesting guard.
pub struct P<'a> {
    pub full: &'a str,
    pub origin: &'a Origin,
    pub depth: Depth,
}

impl<'a> P<'a> {
    pub fn new(full: &'a str, origin: &'a Origin) -> P<'a> {
        P {
            full,
            origin,
            depth: Depth::default(),
        }
    }
    pub fn off(&self, rest: &str) -> usize {
        common::offset(self.full, rest)
    }
    /// File span of the text between `from` and `to` (both suffixes of the input).
    pub fn span(&self, from: &str, to: &str) -> Span {
        self.origin.span(self.off(from), self.off(to))
    }
    /// The source text between two suffixes.
    pub fn text(&self, from: &str, to: &str) -> &'a str {
        &self.full[self.off(from)..self.off(to)]
    }
    /// An error at the next token of `rest`.
    pub fn err(&self, rest: &str, code: Code, msg: impl Into<String>) -> Diagnostic {
        let t = rest.trim_start();
        let start = self.off(t);
        let len = next_token_len(t);
        common::error_at(self.origin, start, start + len, code, msg)
    }
    /// "expected X, found Y" at the next token.
    pub fn expected(&self, rest: &str, what: &str) -> Diagnostic {
        let found = describe_next(rest);
        let code = if rest.trim_start().is_empty() {
            codes::SYNTAX
        } else {
            codes::UNEXPECTED_TOKEN
        };
        self.err(rest, code, format!("expected {what}, found {found}"))
            .label(format!("expected {what}"))
    }
    pub fn too_deep(&self, rest: &str) -> Diagnostic {
        common::too_deep(self.origin, self.off(rest))
    }
    /// An "unclosed" error pointing at the opening delimiter `open_at`.
    pub fn unclosed(&self, open_at: &str, what: &str, close: &str) -> Diagnostic {
        let start = self.off(open_at);
        let len = open_at.chars().next().map(char::len_utf8).unwrap_or(0);
        common::error_at(
            self.origin,
            start,
            start + len,
            codes::UNCLOSED,
            format!("unclosed {what}: expected `{close}`, found end of query"),
        )
        .label(format!("this is never closed with `{close}`"))
    }
    pub fn word(&self, from: &str, to: &str, text: String, quoted: bool) -> Word {
        Word {
            text,
            quoted,
            span: self.span(from, to),
        }
    }
}

fn next_token_len(t: &str) -> usize {
    match t.chars().next() {
        None => 0,
        Some(c) if c.is_alphanumeric() || c == '_' => t
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(t.len()),
        Some(c) => c.len_utf8(),
    }
}

fn comment(i: &str) -> IResult<&str, &str> {
    let (i, _) = tag("```")(i)?;
    let (i, body) = take_until("```")(i)?;
    let (i, _) = tag("```")(i)?;
    Ok((i, body))
}

/// Skip whitespace and ```comments``` (an unclosed comment runs to the end).
pub fn ws(mut i: &str) -> &str {
    loop {
        let r: IResult<&str, &str> = take_while(char::is_whitespace)(i);
        if let Ok((rest, _)) = r {
            i = rest;
        }
        if i.starts_with("```") {
            i = match comment(i) {
                Ok((rest, _)) => rest,
                Err(_) => &i[i.len()..],
            };
            continue;
        }
        return i;
    }
}

/// Whether `i` is at the end of a command: end of input, `|` or `]`.
pub fn at_command_end(i: &str) -> bool {
    let t = ws(i);
    t.is_empty() || t.starts_with('|') || t.starts_with(']')
}

/// A case-insensitive keyword followed by a word boundary.
pub fn keyword<'a>(i: &'a str, kw: &str) -> Option<&'a str> {
    let t = ws(i);
    let head = t.get(..kw.len())?;
    if !head.eq_ignore_ascii_case(kw) {
        return None;
    }
    let rest = &t[kw.len()..];
    match rest.chars().next() {
        Some(c) if c.is_alphanumeric() || c == '_' || c == '.' => None,
        _ => Some(rest),
    }
}

/// An upper-case keyword (the search language's `AND`, `OR`, `NOT`).
pub fn keyword_upper<'a>(i: &'a str, kw: &str) -> Option<&'a str> {
    let t = ws(i);
    let rest = t.strip_prefix(kw)?;
    match rest.chars().next() {
        None => Some(rest),
        Some(c) if c.is_whitespace() || matches!(c, '(' | '[' | '"') => Some(rest),
        _ => None,
    }
}

/// A name: letters, digits, `_` (command names, function names).
pub fn ident(i: &str) -> Option<(&str, &str)> {
    let r: IResult<&str, &str> = take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_')(i);
    r.ok()
}

impl<'a> P<'a> {
    /// A double-quoted string at `i` (which starts with `"`): `\"` and `\\`
    /// are decoded, other backslashes kept as written.
    pub fn quoted(&self, i: &'a str) -> R<'a, Word> {
        self.quoted_with(i, '"')
    }

    pub fn quoted_with(&self, i: &'a str, q: char) -> R<'a, Word> {
        let body = &i[q.len_utf8()..];
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((k, c)) = chars.next() {
            if c == q {
                let rest = &body[k + q.len_utf8()..];
                return Ok((rest, self.word(i, rest, out, true)));
            }
            if c == '\\' {
                match chars.clone().next() {
                    Some((_, n)) if n == q || n == '\\' => {
                        out.push(n);
                        chars.next();
                    }
                    _ => out.push('\\'),
                }
                continue;
            }
            out.push(c);
        }
        Err(self.unclosed(i, "string", &q.to_string()))
    }

    /// A bare word: characters up to whitespace or one for which `stop` holds.
    pub fn bare(&self, i: &'a str, stop: impl Fn(char) -> bool) -> Option<(&'a str, Word)> {
        let end = i
            .char_indices()
            .find(|(_, c)| c.is_whitespace() || stop(*c))
            .map(|(k, _)| k)
            .unwrap_or(i.len());
        if end == 0 {
            return None;
        }
        let rest = &i[end..];
        Some((rest, self.word(i, rest, i[..end].to_string(), false)))
    }

    /// A quoted string or a bare word (stopping where `stop` holds).
    pub fn value(&self, i: &'a str, stop: impl Fn(char) -> bool) -> R<'a, Word> {
        let t = ws(i);
        if t.starts_with('"') {
            return self.quoted(t);
        }
        self.bare(t, stop)
            .ok_or_else(|| self.expected(t, "a value"))
    }

    /// Skip a balanced `[...]` or `(...)` group verbatim (quotes respected).
    pub fn skip_group(&self, i: &'a str) -> R<'a, &'a str> {
        let mut stack: Vec<(char, &'a str)> = Vec::new();
        let mut k = 0;
        let bytes = i.as_bytes();
        while k < i.len() {
            let c = bytes[k] as char;
            match c {
                '"' => {
                    let (rest, _) = self.quoted(&i[k..])?;
                    k = i.len() - rest.len();
                    continue;
                }
                '[' | '(' => {
                    if stack.len() >= crate::lang::MAX_DEPTH {
                        return Err(self.too_deep(&i[k..]));
                    }
                    stack.push((if c == '[' { ']' } else { ')' }, &i[k..]));
                }
                ']' | ')' if stack.last().map(|s| s.0) == Some(c) => {
                    stack.pop();
                    if stack.is_empty() {
                        return Ok((&i[k + 1..], &i[..k + 1]));
                    }
                }
                _ => {}
            }
            k += 1;
        }
        match stack.last() {
            Some((close, open)) => Err(self.unclosed(open, "group", &close.to_string())),
            None => Ok((&i[i.len()..], i)),
        }
    }
}
