//! The EQL lexer: text → tokens with text offsets. Whitespace, `//` line
//! comments and (nested) `/* */` comments are skipped, as in Elasticsearch's
//! `EqlBase.g4`. String escapes are decoded here.

use super::super::common::{error_at, offset};
use crate::diag::{codes, Diagnostic};
use crate::span::Origin;
use nom::branch::alt;
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::{char, digit0, digit1, one_of, satisfy};
use nom::combinator::{opt, recognize};
use nom::sequence::{pair, tuple};
use nom::IResult;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An identifier, keyword or dotted field path (`process.name`, `and`,
    /// `in~`, `startsWith~`).
    Word(String),
    /// A back-quoted identifier (`` `my field` ``), quotes removed.
    Quoted(String),
    /// A string literal, escapes decoded.
    Str(String),
    /// An integer literal as written.
    Int(String),
    /// A decimal literal as written.
    Dec(String),
    /// Punctuation and operators (`==`, `![`, `(`).
    Op(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// Text offsets `[start, end)`.
    pub start: usize,
    pub end: usize,
}

/// Operators, longest first so `==` wins over `=`.
const OPS: &[&str] = &[
    "==", "!=", "<=", ">=", "![", "<", ">", ":", "=", "+", "-", "*", "/", "%", ".", ",", "[", "]",
    "(", ")", "|", "?",
];

/// Keywords of Elasticsearch EQL (lower case only, as the grammar spells them).
pub const KEYWORDS: &[&str] = &[
    "and", "any", "by", "false", "in", "in~", "join", "like", "like~", "maxspan", "not", "null",
    "of", "or", "regex", "regex~", "sample", "sequence", "true", "until", "where", "with",
];

/// Tokenize `text`; warnings (e.g. `?"..."` strings) are pushed to `warnings`.
pub fn lex(
    text: &str,
    origin: &Origin,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Vec<Token>, Diagnostic> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = skip_trivia(text, rest, origin)?;
        if rest.is_empty() {
            return Ok(out);
        }
        let start = offset(text, rest);
        let (next, tok) = token(text, rest, origin, warnings)?;
        out.push(Token {
            tok,
            start,
            end: offset(text, next),
        });
        rest = next;
    }
}

/// Skip whitespace and comments.
fn skip_trivia<'a>(full: &str, mut rest: &'a str, origin: &Origin) -> Result<&'a str, Diagnostic> {
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        if let Some(after) = trimmed.strip_prefix("//") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if trimmed.starts_with("/*") {
            rest = block_comment(full, trimmed, origin)?;
        } else {
            return Ok(trimmed);
        }
    }
}

/// A `/* ... */` comment, which may nest (`BRACKETED_COMMENT` is recursive).
fn block_comment<'a>(full: &str, rest: &'a str, origin: &Origin) -> Result<&'a str, Diagnostic> {
    let open = offset(full, rest);
    let mut depth = 0usize;
    let mut i = 0;
    let b = rest.as_bytes();
    while i + 1 < b.len() {
        if b[i] == b'/' && b[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Ok(&rest[i..]);
            }
        } else {
            i += 1;
        }
    }
    Err(
        error_at(origin, open, open + 2, codes::UNCLOSED, "unclosed comment")
            .label("this comment is never closed with `*/`"),
    )
}

fn ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '@'
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `IDENTIFIER ('.' IDENTIFIER)* '~'?`: a dotted path is one token, so path
/// segments may be spelled like keywords (`event.sequence`).
fn word(input: &str) -> IResult<&str, &str> {
    let segment = |i| recognize(pair(satisfy(ident_start), take_while(ident_char)))(i);
    recognize(tuple((
        segment,
        nom::multi::many0(pair(char('.'), segment)),
        opt(char('~')),
    )))(input)
}

/// `DIGIT+ ('.' DIGIT*)? EXPONENT?` or `'.' DIGIT+ EXPONENT?`.
fn number(input: &str) -> IResult<&str, (&str, bool)> {
    let exponent = |i| recognize(tuple((one_of("eE"), opt(one_of("+-")), digit1)))(i);
    let (rest, text) = alt((
        recognize(tuple((digit1, opt(pair(char('.'), digit0)), opt(exponent)))),
        recognize(tuple((char('.'), digit1, opt(exponent)))),
    ))(input)?;
    let decimal = text.contains(['.', 'e', 'E']);
    Ok((rest, (text, decimal)))
}

fn token<'a>(
    full: &str,
    rest: &'a str,
    origin: &Origin,
    warnings: &mut Vec<Diagnostic>,
) -> Result<(&'a str, Tok), Diagnostic> {
    let start = offset(full, rest);
    if rest.starts_with("\"\"\"") {
        return triple_quoted(full, rest, origin);
    }
    if rest.starts_with('"') {
        return double_quoted(full, rest, origin);
    }
    if rest.starts_with("?\"") {
        let (next, value) = raw_question_string(full, rest, origin)?;
        warnings.push(
            error_at(
                origin,
                start,
                offset(full, next),
                codes::LOWERING_CAVEAT,
                "`?\"...\"` raw strings are classic EQL; Elasticsearch rejects them",
            )
            .label("read as a raw string")
            .note("write raw strings as \"\"\"...\"\"\" for Elasticsearch"),
        );
        return Ok((next, Tok::Str(value)));
    }
    if rest.starts_with('\'') || rest.starts_with("?'") {
        let body = rest.trim_start_matches('?');
        let len = body[1..].find(['\'', '\n']).map_or(body.len(), |i| {
            i + 1 + usize::from(body[1 + i..].starts_with('\''))
        });
        let end = offset(full, &body[len..]);
        return Err(error_at(
            origin,
            start,
            end,
            codes::SYNTAX,
            "single-quoted strings are not supported in EQL",
        )
        .label("a single-quoted string")
        .note("Elasticsearch EQL strings use double quotes: \"...\", or \"\"\"...\"\"\" for raw strings"));
    }
    if rest.starts_with('`') {
        return back_quoted(full, rest, origin);
    }
    if let Ok((next, w)) = word(rest) {
        return Ok((next, Tok::Word(w.to_string())));
    }
    if let Ok((next, (text, decimal))) = number(rest) {
        let tok = if decimal {
            Tok::Dec(text.to_string())
        } else {
            Tok::Int(text.to_string())
        };
        return Ok((next, tok));
    }
    if let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) {
        return Ok((&rest[op.len()..], Tok::Op(op)));
    }
    let c = rest.chars().next().unwrap_or(' ');
    Err(error_at(
        origin,
        start,
        start + c.len_utf8(),
        codes::UNEXPECTED_TOKEN,
        format!("unexpected character `{c}`"),
    )
    .label("not part of EQL syntax"))
}

fn unclosed(origin: &Origin, at: usize, len: usize, what: &str) -> Diagnostic {
    error_at(
        origin,
        at,
        at + len,
        codes::UNCLOSED,
        format!("unclosed {what}"),
    )
    .label(format!("this {what} is never closed"))
}

/// `"""raw"""`: no escapes; up to two extra `"` before the end belong to the
/// value (`'"""' .*? '"""' '"'? '"'?` in the grammar).
fn triple_quoted<'a>(
    full: &str,
    rest: &'a str,
    origin: &Origin,
) -> Result<(&'a str, Tok), Diagnostic> {
    let body = &rest[3..];
    let Some(close) = body.find("\"\"\"") else {
        return Err(unclosed(origin, offset(full, rest), 3, "raw string"));
    };
    let extra = body[close + 3..]
        .chars()
        .take(2)
        .take_while(|c| *c == '"')
        .count();
    let value = &body[..close + extra];
    Ok((&body[close + 3 + extra..], Tok::Str(value.to_string())))
}

/// `?"raw"` (classic EQL): no escapes except that `\"` does not end it.
fn raw_question_string<'a>(
    full: &str,
    rest: &'a str,
    origin: &Origin,
) -> Result<(&'a str, String), Diagnostic> {
    let body = &rest[2..];
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if body[i + 1..].starts_with('"') => {
                chars.next();
            }
            '"' => return Ok((&body[i + 1..], body[..i].to_string())),
            '\n' | '\r' => break,
            _ => {}
        }
    }
    Err(unclosed(origin, offset(full, rest), 2, "string"))
}

/// `"..."` with the escapes Elasticsearch documents: `\n \r \t \\ \"`, also
/// `\b \f \'` (the grammar's `[btnfr"'\\]`) and `\u{XXXXXXXX}` (2-8 hex digits).
/// A line break ends the string without closing it.
fn double_quoted<'a>(
    full: &str,
    rest: &'a str,
    origin: &Origin,
) -> Result<(&'a str, Tok), Diagnostic> {
    let open = offset(full, rest);
    let body = &rest[1..];
    let mut value = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((&body[i + 1..], Tok::Str(value))),
            '\n' | '\r' => break,
            '\\' => {
                let at = open + 1 + i;
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'n' => value.push('\n'),
                    'r' => value.push('\r'),
                    't' => value.push('\t'),
                    'b' => value.push('\u{8}'),
                    'f' => value.push('\u{c}'),
                    '\\' | '"' | '\'' => value.push(e),
                    'u' => {
                        let (len, ch) = unicode_escape(&body[i + 2..])
                            .ok_or_else(|| bad_unicode(origin, full, at))?;
                        value.push(ch);
                        for _ in 0..len {
                            chars.next();
                        }
                    }
                    _ => {
                        return Err(error_at(
                            origin,
                            at,
                            at + 1 + e.len_utf8(),
                            codes::BAD_ESCAPE,
                            format!("invalid escape sequence `\\{e}`"),
                        )
                        .label("not an EQL escape")
                        .note("EQL strings accept \\n \\r \\t \\\\ \\\" \\u{XXXX}; write a literal backslash as \\\\ or use a \"\"\"raw\"\"\" string"))
                    }
                }
            }
            _ => value.push(c),
        }
    }
    Err(unclosed(origin, open, 1, "string"))
}

/// After `\u`: `{` 2-8 hex digits `}` → (bytes consumed after `u`, char).
fn unicode_escape(s: &str) -> Option<(usize, char)> {
    let (_, hex) = nom::sequence::delimited(
        char::<&str, nom::error::Error<&str>>('{'),
        take_while1(|c: char| c.is_ascii_hexdigit()),
        char('}'),
    )(s)
    .ok()?;
    if !(2..=8).contains(&hex.len()) {
        return None;
    }
    let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
    Some((hex.len() + 2, ch))
}

fn bad_unicode(origin: &Origin, full: &str, at: usize) -> Diagnostic {
    let end = full[at..]
        .find('}')
        .map_or(at + 2, |i| at + i + 1)
        .min(full.len());
    error_at(origin, at, end, codes::BAD_ESCAPE, "invalid unicode escape")
        .label("expected `\\u{` and 2 to 8 hex digits of a valid code point, then `}`")
}

/// `` `name` `` with ``` `` ``` for a literal back-quote.
fn back_quoted<'a>(
    full: &str,
    rest: &'a str,
    origin: &Origin,
) -> Result<(&'a str, Tok), Diagnostic> {
    let body = &rest[1..];
    let mut value = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '`' {
            if matches!(chars.peek(), Some((_, '`'))) {
                chars.next();
                value.push('`');
                continue;
            }
            return Ok((&body[i + 1..], Tok::Quoted(value)));
        }
        value.push(c);
    }
    Err(unclosed(
        origin,
        offset(full, rest),
        1,
        "back-quoted field name",
    ))
}
