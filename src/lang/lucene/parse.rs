//! The Lucene query_string parser, after Lucene's classic `QueryParser.jj`
//! (which Elasticsearch's query_string extends); see `grammar/lucene.ebnf`.

use super::ast::{Body, Clause, Conj, Group, Modifier, Name, Term};
use crate::diag::{codes, Diagnostic};
use crate::ir::Part;
use crate::lang::common::{self, error_at, too_deep, Depth};
use crate::lang::kuery::parse::{empty_query, unclosed, unexpected};
use crate::span::{Origin, Span};
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::IResult;
use std::cell::RefCell;

type R<'a, T> = Result<(&'a str, T), Box<Diagnostic>>;

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{3000}')
}

fn spaces(i: &str) -> &str {
    i.trim_start_matches(is_space)
}

/// Characters that cannot start a term unescaped (`*` and `?` start wildcard terms).
const NOT_START: &str = "+-!():^[]\"{}~\\/";

/// Whether `c` continues a term (`-` and `+` may stand inside one: `g+s`, `a-b`).
fn term_char(c: char, first: bool) -> bool {
    !is_space(c) && (!NOT_START.contains(c) || (!first && (c == '-' || c == '+')))
}

/// Length of the term `i` starts with (escapes included), 0 if none.
fn term_len(i: &str) -> usize {
    let mut len = 0;
    let mut chars = i.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => len += 1 + n.len_utf8(),
                None => break,
            }
        } else if term_char(c, len == 0) {
            len += c.len_utf8();
        } else {
            break;
        }
    }
    len
}

/// Decode a term's escapes: `\x` is `x` (and `\uXXXX` a character); unescaped
/// `*` / `?` become wildcard parts when `wild`.
fn decode(raw: &str, wild: bool) -> (Vec<Part>, String) {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut text = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let hex: String = chars.clone().skip(1).take(4).collect();
                let uni = (chars.peek() == Some(&'u') && hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32))
                    .flatten();
                let ch = match uni {
                    Some(u) => {
                        chars.nth(4);
                        Some(u)
                    }
                    None => chars.next(),
                };
                if let Some(ch) = ch {
                    lit.push(ch);
                    text.push(ch);
                }
            }
            '*' | '?' if wild => {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
                parts.push(if c == '*' {
                    Part::AnyRun
                } else {
                    Part::AnyChar
                });
                text.push(c);
            }
            _ => {
                lit.push(c);
                text.push(c);
            }
        }
    }
    parts.push(Part::Lit(lit));
    parts.retain(|p| !matches!(p, Part::Lit(s) if s.is_empty()));
    (parts, text)
}

/// A number after `^` or `~` (boost, slop, fuzziness).
fn number(i: &str) -> IResult<&str, &str> {
    take_while(|c: char| c.is_ascii_digit() || c == '.')(i)
}

pub struct Parser<'a> {
    full: &'a str,
    origin: &'a Origin,
    depth: Depth,
    /// Lower-case `and` / `or` / `not` read as terms (for a warning).
    pub word_operators: RefCell<Vec<Span>>,
    /// Phrase slops ignored (`"a b"~2`).
    pub slops: RefCell<Vec<Span>>,
}

impl<'a> Parser<'a> {
    pub fn new(full: &'a str, origin: &'a Origin) -> Parser<'a> {
        Parser {
            full,
            origin,
            depth: Depth::default(),
            word_operators: RefCell::default(),
            slops: RefCell::default(),
        }
    }

    fn pos(&self, rest: &str) -> usize {
        common::offset(self.full, rest)
    }

    fn span(&self, start: usize, end: usize) -> Span {
        self.origin.span(start, end)
    }

    fn unexpected(&self, rest: &str, expected: &str) -> Box<Diagnostic> {
        unexpected(self.origin, self.full, spaces(rest), expected)
    }

    /// The whole query.
    pub fn parse(&self) -> Result<Group, Box<Diagnostic>> {
        if spaces(self.full).is_empty() {
            return Err(empty_query(self.origin, self.full));
        }
        let (rest, group) = self.group(self.full)?;
        let rest = spaces(rest);
        if rest.is_empty() {
            return Ok(group);
        }
        let at = self.pos(rest);
        Err(Box::new(
            error_at(
                self.origin,
                at,
                at + 1,
                codes::TRAILING_INPUT,
                "`)` without a matching `(`",
            )
            .label("nothing to close here"),
        ))
    }

    /// An operator word (`AND`, `&&`, `OR`, `||`, `NOT`) standing alone.
    fn operator(i: &str) -> Option<(&str, &str)> {
        let len = term_len(i);
        let word = &i[..len];
        matches!(word, "AND" | "&&" | "OR" | "||" | "NOT").then(|| (&i[len..], word))
    }

    /// Clauses up to the end or a `)`.
    fn group(&self, i: &'a str) -> R<'a, Group> {
        let mut clauses: Vec<Clause> = Vec::new();
        let mut r = spaces(i);
        let start = self.pos(r);
        while !r.is_empty() && !r.starts_with(')') {
            let mut conj = None;
            if let Some((rest, op @ ("AND" | "&&" | "OR" | "||"))) = Self::operator(r) {
                if clauses.is_empty() {
                    return Err(self.unexpected(r, "a term before the operator"));
                }
                conj = Some(if op == "AND" || op == "&&" {
                    Conj::And
                } else {
                    Conj::Or
                });
                r = spaces(rest);
            }
            let clause_start = self.pos(r);
            let mut modifier = None;
            if let Some(rest) = r.strip_prefix('+') {
                modifier = Some(Modifier::Required);
                r = spaces(rest);
            } else if let Some(rest) = r.strip_prefix('-').or_else(|| r.strip_prefix('!')) {
                modifier = Some(Modifier::Prohibited);
                r = spaces(rest);
            } else if let Some((rest, "NOT")) = Self::operator(r) {
                modifier = Some(Modifier::Prohibited);
                r = spaces(rest);
            }
            let (rest, (field, body)) = self.clause(r)?;
            let end = self.pos(rest);
            clauses.push(Clause {
                conj,
                modifier,
                field,
                body,
                span: self.span(clause_start, end),
            });
            r = spaces(rest);
        }
        if clauses.is_empty() {
            return Err(self.unexpected(r, "a term"));
        }
        let end = self.pos(r);
        Ok((
            r,
            Group {
                clauses,
                span: self.span(start, end),
            },
        ))
    }

    /// `[field :] body [^boost]`.
    fn clause(&self, i: &'a str) -> R<'a, (Option<Name>, Body)> {
        let mut r = i;
        let mut field = None;
        let len = term_len(i);
        if len > 0 && Self::operator(i).is_none() {
            if let Some(after) = spaces(&i[len..]).strip_prefix(':') {
                let start = self.pos(i);
                // In a field name `*` is a wildcard, escaped or not (Elasticsearch
                // resolves `city.\*` to every matching field).
                let (parts, _) = decode(&i[..len].replace("\\*", "*"), true);
                field = Some(Name {
                    parts: parts
                        .into_iter()
                        .map(|p| match p {
                            Part::AnyChar => Part::Lit("?".into()),
                            p => p,
                        })
                        .collect(),
                    span: self.span(start, start + len),
                });
                r = spaces(after);
            }
        }
        let (rest, body) = self.body(r)?;
        // `^boost` only changes scores.
        let rest = match tag::<_, _, nom::error::Error<&str>>("^")(rest) {
            Ok((after, _)) => number(after).map(|(a, _)| a).unwrap_or(after),
            Err(_) => rest,
        };
        Ok((rest, (field, body)))
    }

    fn body(&self, i: &'a str) -> R<'a, Body> {
        let start = self.pos(i);
        match i.chars().next() {
            Some('(') => {
                let _guard = self
                    .depth
                    .enter()
                    .ok_or_else(|| Box::new(too_deep(self.origin, start)))?;
                let (r, group) = self.group(&i[1..])?;
                match r.strip_prefix(')') {
                    Some(r) => Ok((r, Body::Group(group))),
                    None => Err(unclosed(
                        self.origin,
                        self.full,
                        (start, '(', ')'),
                        r,
                        "`)`",
                    )),
                }
            }
            Some('"') => self.phrase(i),
            Some('/') => self.regex(i),
            Some('[') | Some('{') => self.range(i),
            _ => {
                let len = term_len(i);
                if len == 0 {
                    return Err(self.unexpected(i, "a term"));
                }
                let (parts, text) = decode(&i[..len], true);
                let span = self.span(start, start + len);
                if ["and", "or", "not"].contains(&text.to_ascii_lowercase().as_str()) {
                    self.word_operators.borrow_mut().push(span);
                }
                let r = &i[len..];
                if r.starts_with('~') {
                    let at = self.pos(r);
                    return Err(Box::new(
                        error_at(
                            self.origin,
                            at,
                            at + 1,
                            codes::UNSUPPORTED_CONSTRUCT,
                            "fuzzy terms (`term~`) have no meaning in the IR",
                        )
                        .label("fuzzy search"),
                    ));
                }
                Ok((r, Body::Term(Term::Word { parts, text, span })))
            }
        }
    }

    /// The text between `open` and the next unescaped `close`, as written.
    fn delimited(&self, i: &'a str, close: char, what: &str) -> R<'a, &'a str> {
        let start = self.pos(i);
        let inner = &i[1..];
        let mut chars = inner.char_indices();
        while let Some((k, c)) = chars.next() {
            if c == '\\' {
                chars.next();
            } else if c == close {
                return Ok((&inner[k + 1..], &inner[..k]));
            }
        }
        Err(Box::new(
            error_at(
                self.origin,
                start,
                start + 1,
                codes::UNCLOSED,
                format!("unclosed {what}"),
            )
            .label(format!("this `{}` is never closed", &i[..1])),
        ))
    }

    fn phrase(&self, i: &'a str) -> R<'a, Body> {
        let start = self.pos(i);
        let (r, raw) = self.delimited(i, '"', "phrase")?;
        let span = self.span(start, self.pos(r));
        let text = decode(raw, false).1;
        let r = match tag::<_, _, nom::error::Error<&str>>("~")(r) {
            Ok((after, _)) => {
                self.slops.borrow_mut().push(span);
                number(after).map(|(a, _)| a).unwrap_or(after)
            }
            Err(_) => r,
        };
        Ok((r, Body::Term(Term::Phrase { text, span })))
    }

    fn regex(&self, i: &'a str) -> R<'a, Body> {
        let start = self.pos(i);
        let (r, pattern) = self.delimited(i, '/', "regular expression")?;
        let span = self.span(start, self.pos(r));
        let pattern = pattern.to_string();
        Ok((r, Body::Term(Term::Regex { pattern, span })))
    }

    /// A range bound: a quoted string or a run without whitespace, `]` and `}`.
    fn bound(&self, i: &'a str, opener: (usize, char, char)) -> R<'a, Option<String>> {
        if i.starts_with('"') {
            let (r, raw) = self.delimited(i, '"', "string")?;
            return Ok((r, Some(decode(raw, false).1)));
        }
        let goop: IResult<&str, &str> =
            take_while1(|c: char| !is_space(c) && c != ']' && c != '}')(i);
        match goop {
            Ok((r, "*")) => Ok((r, None)),
            Ok((r, g)) => Ok((r, Some(decode(g, false).1))),
            Err(_) => Err(unclosed(self.origin, self.full, opener, i, "a range bound")),
        }
    }

    /// `[lo TO hi]`, `{lo TO hi}`, `[lo TO hi}`, `{lo TO hi]`.
    fn range(&self, i: &'a str) -> R<'a, Body> {
        let start = self.pos(i);
        let lo_inclusive = i.starts_with('[');
        let opener = (start, if lo_inclusive { '[' } else { '{' }, ']');
        let (r, lo) = self.bound(spaces(&i[1..]), opener)?;
        let r = spaces(r);
        let r = match tag::<_, _, nom::error::Error<&str>>("TO")(r) {
            Ok((after, _)) if after.starts_with(is_space) => spaces(after),
            _ if r.is_empty() => return Err(unclosed(self.origin, self.full, opener, r, "")),
            _ => return Err(self.unexpected(r, "`TO`")),
        };
        let (r, hi) = self.bound(r, opener)?;
        let r = spaces(r);
        let hi_inclusive = match r.chars().next() {
            Some(']') => true,
            Some('}') => false,
            _ => {
                return Err(unclosed(self.origin, self.full, opener, r, "`]` or `}`"));
            }
        };
        let r = &r[1..];
        let span = self.span(start, self.pos(r));
        Ok((
            r,
            Body::Term(Term::Range {
                lo,
                hi,
                lo_inclusive,
                hi_inclusive,
                span,
            }),
        ))
    }
}
