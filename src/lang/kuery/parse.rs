//! The kuery parser: a recursive-descent rendering of Kibana's PEG grammar
//! (`packages/kbn-es-query/src/kuery/grammar/grammar.peggy`), see
//! `grammar/kuery.ebnf`. nom supplies the token parsers; the recursion is
//! guarded by [`Depth`].

use super::ast::{Literal, Node, RangeOp, Values};
use crate::diag::{codes, Diagnostic};
use crate::ir::Part;
use crate::lang::common::{self, describe_next, error_at, too_deep, Depth};
use crate::span::{Origin, Span};
use nom::bytes::complete::{tag, tag_no_case, take_while1, take_while_m_n};
use nom::sequence::{preceded, tuple};
use nom::IResult;

type NomResult<'a, O> = IResult<&'a str, O, nom::error::Error<&'a str>>;
/// A parse step: the rest of the input and a value, or a diagnostic.
type R<'a, T> = Result<(&'a str, T), Box<Diagnostic>>;

/// Kibana's `Space`.
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{a0}')
}

fn spaces(i: &str) -> &str {
    i.trim_start_matches(is_space)
}

/// Kibana's `SpecialCharacter`: ends an unquoted literal unless escaped.
const SPECIAL: &str = "\\():<>\"*{}";

fn rest_of<'a, O>(r: NomResult<'a, O>) -> Option<&'a str> {
    r.ok().map(|(rest, _)| rest)
}

/// `Space+ 'or'i Space+`.
fn or_op(i: &str) -> Option<&str> {
    rest_of(tuple((
        take_while1(is_space),
        tag_no_case("or"),
        take_while1(is_space),
    ))(i))
}

/// `Space+ 'and'i Space+`.
fn and_op(i: &str) -> Option<&str> {
    rest_of(tuple((
        take_while1(is_space),
        tag_no_case("and"),
        take_while1(is_space),
    ))(i))
}

/// `'not'i Space+`.
fn not_op(i: &str) -> Option<&str> {
    rest_of(tuple((tag_no_case("not"), take_while1(is_space)))(i))
}

/// Kibana's `Keyword`: an unquoted literal stops in front of one.
fn keyword_at(i: &str) -> bool {
    or_op(i).is_some() || and_op(i).is_some() || not_op(i).is_some()
}

fn range_op(i: &str) -> Option<(&str, RangeOp)> {
    [
        ("<=", RangeOp::Le),
        (">=", RangeOp::Ge),
        ("<", RangeOp::Lt),
        (">", RangeOp::Gt),
    ]
    .into_iter()
    .find_map(|(t, op)| rest_of(tag(t)(i)).map(|r| (r, op)))
}

/// `\uXXXX` after the backslash: the rest and the character.
fn unicode_escape(i: &str) -> Option<(&str, char)> {
    let parsed: NomResult<&str> = preceded(
        tag("u"),
        take_while_m_n(4, 4, |c: char| c.is_ascii_hexdigit()),
    )(i);
    let (r, hex) = parsed.ok()?;
    let c = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)?;
    Some((r, c))
}

pub struct Parser<'a> {
    full: &'a str,
    origin: &'a Origin,
    depth: Depth,
}

/// Parse a whole kuery query.
pub fn parse(text: &str, origin: &Origin) -> Result<Node, Box<Diagnostic>> {
    Parser {
        full: text,
        origin,
        depth: Depth::default(),
    }
    .query()
}

impl<'a> Parser<'a> {
    fn pos(&self, rest: &str) -> usize {
        common::offset(self.full, rest)
    }

    fn span(&self, start: usize, end: usize) -> Span {
        self.origin.span(start, end)
    }

    /// Length of the token `rest` starts with (a word, or one character).
    fn token_len(rest: &str) -> usize {
        let word = rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        if word > 0 {
            word
        } else {
            rest.chars().next().map(char::len_utf8).unwrap_or(0)
        }
    }

    /// E0202 at the next token: "expected X, found Y".
    fn unexpected(&self, rest: &str, expected: &str) -> Box<Diagnostic> {
        let t = spaces(rest);
        let at = self.pos(t);
        Box::new(
            error_at(
                self.origin,
                at,
                at + Self::token_len(t),
                codes::UNEXPECTED_TOKEN,
                format!("expected {expected}, found {}", describe_next(t)),
            )
            .label(format!("expected {expected}")),
        )
    }

    /// A missing closing `close`: E0203 at the opener when the query ends,
    /// E0202 at whatever stands in the way otherwise.
    fn unclosed(&self, open: usize, open_ch: char, close: char, rest: &str) -> Box<Diagnostic> {
        if spaces(rest).is_empty() {
            Box::new(
                error_at(
                    self.origin,
                    open,
                    open + 1,
                    codes::UNCLOSED,
                    format!("unclosed `{open_ch}`"),
                )
                .label(format!("this `{open_ch}` is never closed"))
                .note(format!("expected `{close}` before the end of the query")),
            )
        } else {
            self.unexpected(rest, &format!("`{close}`, `and` or `or`"))
        }
    }

    fn query(&self) -> Result<Node, Box<Diagnostic>> {
        let i = spaces(self.full);
        if i.is_empty() {
            return Err(Box::new(
                error_at(
                    self.origin,
                    0,
                    self.full.len(),
                    codes::EMPTY_QUERY,
                    "the query is empty",
                )
                .label("a rule needs a condition here"),
            ));
        }
        let (rest, node) = self.or_query(i)?;
        let rest = spaces(rest);
        if rest.is_empty() {
            return Ok(node);
        }
        let at = self.pos(rest);
        let (msg, label) = if rest.starts_with(')') || rest.starts_with('}') {
            (
                format!("`{}` without a matching opener", &rest[..1]),
                "nothing to close here".to_string(),
            )
        } else {
            (
                format!("unexpected {} after a complete query", describe_next(rest)),
                "expected `and`, `or` or the end of the query".to_string(),
            )
        };
        Err(Box::new(
            error_at(
                self.origin,
                at,
                at + Self::token_len(rest),
                codes::TRAILING_INPUT,
                msg,
            )
            .label(label),
        ))
    }

    /// `item (op item)*`.
    fn chain<T>(
        &self,
        i: &'a str,
        op: fn(&str) -> Option<&str>,
        item: fn(&Self, &'a str) -> R<'a, T>,
    ) -> R<'a, Vec<T>> {
        let (mut rest, first) = item(self, i)?;
        let mut items = vec![first];
        while let Some(r) = op(rest) {
            let (r, next) = item(self, r)?;
            items.push(next);
            rest = r;
        }
        Ok((rest, items))
    }

    fn or_query(&self, i: &'a str) -> R<'a, Node> {
        let (rest, mut items) = self.chain(i, or_op, Self::and_query)?;
        if items.len() == 1 {
            return Ok((rest, items.remove(0)));
        }
        let span = items[0].span().to(items[items.len() - 1].span());
        Ok((rest, Node::Or(items, span)))
    }

    fn and_query(&self, i: &'a str) -> R<'a, Node> {
        let (rest, mut items) = self.chain(i, and_op, Self::not_query)?;
        if items.len() == 1 {
            return Ok((rest, items.remove(0)));
        }
        let span = items[0].span().to(items[items.len() - 1].span());
        Ok((rest, Node::And(items, span)))
    }

    fn not_query(&self, i: &'a str) -> R<'a, Node> {
        match not_op(i) {
            Some(r) => {
                let start = self.pos(i);
                let (rest, q) = self.sub_query(r)?;
                let span = self.span(start, start + 3).to(q.span());
                Ok((rest, Node::Not(Box::new(q), span)))
            }
            None => self.sub_query(i),
        }
    }

    /// `( query )`, guarded against deep nesting.
    fn parens<T>(
        &self,
        i: &'a str,
        open_ch: char,
        close: char,
        inner: fn(&Self, &'a str) -> R<'a, T>,
    ) -> R<'a, T> {
        let open = self.pos(i);
        let _guard = self
            .depth
            .enter()
            .ok_or_else(|| Box::new(too_deep(self.origin, open)))?;
        let r = spaces(&i[open_ch.len_utf8()..]);
        let (r, value) = inner(self, r)?;
        let r = spaces(r);
        match r.strip_prefix(close) {
            Some(r) => Ok((r, value)),
            None => Err(self.unclosed(open, open_ch, close, r)),
        }
    }

    fn sub_query(&self, i: &'a str) -> R<'a, Node> {
        if i.starts_with('(') {
            return self.parens(i, '(', ')', Self::or_query);
        }
        self.expression(i)
    }

    /// `NestedQuery`, `FieldRangeExpression`, `FieldValueExpression`, `ValueExpression`.
    fn expression(&self, i: &'a str) -> R<'a, Node> {
        let Some((r, field)) = self.literal(i)? else {
            return Err(self.unexpected(i, "a field, a value or `(`"));
        };
        let r2 = spaces(r);
        if let Some((r3, op)) = range_op(r2) {
            let r3 = spaces(r3);
            let Some((rest, value)) = self.literal(r3)? else {
                return Err(self.unexpected(r3, "a value to compare with"));
            };
            let span = field.span.to(value.span);
            return Ok((
                rest,
                Node::Range {
                    field,
                    op,
                    value,
                    span,
                },
            ));
        }
        if let Some(r3) = r2.strip_prefix(':') {
            let r3 = spaces(r3);
            if r3.starts_with('{') {
                let close_at = |rest: &str| self.pos(rest);
                let (rest, query) = self.parens(r3, '{', '}', Self::or_query)?;
                let span = field.span.to(self.span(close_at(rest) - 1, close_at(rest)));
                return Ok((
                    rest,
                    Node::Nested {
                        path: field,
                        query: Box::new(query),
                        span,
                    },
                ));
            }
            let (rest, values) = self.list_of_values(r3)?;
            let end = self.pos(rest);
            let span = if r3.starts_with('(') {
                field.span.to(self.span(end - 1, end))
            } else {
                field.span.to(values.span())
            };
            return Ok((
                rest,
                Node::Field {
                    field,
                    values,
                    span,
                },
            ));
        }
        Ok((r, Node::Free(field)))
    }

    fn list_of_values(&self, i: &'a str) -> R<'a, Values> {
        if i.starts_with('(') {
            return self.parens(i, '(', ')', Self::or_values);
        }
        match self.literal(i)? {
            Some((rest, lit)) => Ok((rest, Values::One(lit))),
            None => Err(self.unexpected(i, "a value")),
        }
    }

    fn or_values(&self, i: &'a str) -> R<'a, Values> {
        let (rest, mut items) = self.chain(i, or_op, Self::and_values)?;
        if items.len() == 1 {
            return Ok((rest, items.remove(0)));
        }
        let span = items[0].span().to(items[items.len() - 1].span());
        Ok((rest, Values::Or(items, span)))
    }

    fn and_values(&self, i: &'a str) -> R<'a, Values> {
        let (rest, mut items) = self.chain(i, and_op, Self::not_values)?;
        if items.len() == 1 {
            return Ok((rest, items.remove(0)));
        }
        let span = items[0].span().to(items[items.len() - 1].span());
        Ok((rest, Values::And(items, span)))
    }

    fn not_values(&self, i: &'a str) -> R<'a, Values> {
        match not_op(i) {
            Some(r) => {
                let start = self.pos(i);
                let (rest, v) = self.list_of_values(r)?;
                let span = self.span(start, start + 3).to(v.span());
                Ok((rest, Values::Not(Box::new(v), span)))
            }
            None => self.list_of_values(i),
        }
    }

    /// `QuotedString / UnquotedLiteral`; `None` when no character can start one.
    fn literal(&self, i: &'a str) -> Result<Option<(&'a str, Literal)>, Box<Diagnostic>> {
        if i.starts_with('"') {
            return self.quoted(i).map(Some);
        }
        self.unquoted(i)
    }

    fn quoted(&self, i: &'a str) -> R<'a, Literal> {
        let start = self.pos(i);
        let mut r = &i[1..];
        let mut s = String::new();
        loop {
            let Some(c) = r.chars().next() else {
                return Err(Box::new(
                    error_at(
                        self.origin,
                        start,
                        start + 1,
                        codes::UNCLOSED,
                        "unclosed string",
                    )
                    .label("this `\"` is never closed")
                    .note("a `\"` inside a string is written `\\\"`"),
                ));
            };
            if c == '"' {
                r = &r[1..];
                break;
            }
            if c == '\\' {
                let after = &r[1..];
                let simple = match after.chars().next() {
                    Some('t') => Some('\t'),
                    Some('r') => Some('\r'),
                    Some('n') => Some('\n'),
                    Some('\\') => Some('\\'),
                    Some('"') => Some('"'),
                    _ => None,
                };
                if let Some(e) = simple {
                    s.push(e);
                    r = &after[1..];
                    continue;
                }
                if let Some((rest, ch)) = unicode_escape(after) {
                    s.push(ch);
                    r = rest;
                    continue;
                }
                // Any other backslash is a literal backslash (Kibana's `[^"]`).
            }
            s.push(c);
            r = &r[c.len_utf8()..];
        }
        let end = self.pos(r);
        Ok((
            r,
            Literal {
                parts: vec![Part::Lit(s)],
                quoted: true,
                span: self.span(start, end),
            },
        ))
    }

    /// An escape in an unquoted literal: the rest and the decoded text.
    fn unquoted_escape(&self, r: &'a str) -> R<'a, String> {
        let after = &r[1..];
        let decoded = match after.chars().next() {
            Some('t') => Some("\t".to_string()),
            Some('r') => Some("\r".to_string()),
            Some('n') => Some("\n".to_string()),
            Some(c) if SPECIAL.contains(c) => Some(c.to_string()),
            _ => None,
        };
        if let Some(d) = decoded {
            return Ok((&after[1..], d));
        }
        if let Some((rest, ch)) = unicode_escape(after) {
            return Ok((rest, ch.to_string()));
        }
        for kw in ["or", "and", "not"] {
            if let Ok((rest, word)) = tag_no_case::<_, _, nom::error::Error<&str>>(kw)(after) {
                return Ok((rest, word.to_string()));
            }
        }
        let at = self.pos(r);
        let len = 1 + after.chars().next().map(char::len_utf8).unwrap_or(0);
        Err(Box::new(
            error_at(
                self.origin,
                at,
                at + len,
                codes::BAD_ESCAPE,
                format!("invalid escape `{}` in an unquoted value", &r[..len]),
            )
            .label("not an escape kuery knows")
            .note(
                "unquoted, `\\` escapes only `\\ ( ) : < > \" * { }`, `\\t`, `\\r`, `\\n`, \
                 `\\uXXXX` and the words `or`, `and`, `not`; quote the value to keep a backslash",
            ),
        ))
    }

    fn unquoted(&self, i: &'a str) -> Result<Option<(&'a str, Literal)>, Box<Diagnostic>> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut r = i;
        while let Some(c) = r.chars().next() {
            if c == '\\' {
                let (rest, text) = self.unquoted_escape(r)?;
                lit.push_str(&text);
                r = rest;
            } else if c == '*' {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
                parts.push(Part::AnyRun);
                r = &r[1..];
            } else if SPECIAL.contains(c) || keyword_at(r) {
                break;
            } else {
                lit.push(c);
                r = &r[c.len_utf8()..];
            }
        }
        if r.len() == i.len() {
            return Ok(None);
        }
        parts.push(Part::Lit(lit));
        // Kibana trims the literal's text (`sequence.trim()`).
        if let Some(Part::Lit(first)) = parts.first_mut() {
            *first = first.trim_start().to_string();
        }
        if let Some(Part::Lit(last)) = parts.last_mut() {
            *last = last.trim_end().to_string();
        }
        parts.retain(|p| !matches!(p, Part::Lit(s) if s.is_empty()));
        let start = self.pos(i);
        let consumed = &i[..i.len() - r.len()];
        let end = start + consumed.trim_end_matches(is_space).len();
        Ok(Some((
            r,
            Literal {
                parts,
                quoted: false,
                span: self.span(start, end),
            },
        )))
    }
}
