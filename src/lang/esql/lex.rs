//! Lexical pieces of ES|QL over `&str` suffixes of the query: whitespace and
//! comments, words, strings, numbers, identifiers and name patterns, and a
//! first pass that finds the top-level pipes and every unclosed string,
//! comment or bracket.

use super::super::common::{error_at, offset, too_deep};
use super::super::MAX_DEPTH;
use super::parse::fail;
use crate::diag::{codes, Diagnostic};
use crate::span::Origin;
use nom::bytes::complete::{tag, take_until, take_while, take_while1};
use nom::character::complete::{digit1, one_of};
use nom::combinator::{opt, recognize};
use nom::sequence::{pair, tuple};
use nom::IResult;

/// Skips whitespace, `// line` and `/* block */` comments.
pub fn skip(mut s: &str) -> &str {
    loop {
        let t = s.trim_start();
        if let Some(r) = t.strip_prefix("//") {
            s = r.find('\n').map(|i| &r[i..]).unwrap_or("");
        } else if let Some(r) = t.strip_prefix("/*") {
            s = r.find("*/").map(|i| &r[i + 2..]).unwrap_or("");
        } else {
            return t;
        }
    }
}

fn is_body(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// An unquoted word: a letter, `_` or `@` followed by letters, digits and `_`.
pub fn word(s: &str) -> IResult<&str, &str> {
    recognize(pair(
        take_while1(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '@'),
        take_while(is_body),
    ))(s)
}

/// The next word, lower-cased, without consuming it.
pub fn peek_word(s: &str) -> Option<String> {
    word(skip(s)).ok().map(|(_, w)| w.to_ascii_lowercase())
}

/// Consumes the keyword `kw` (case-insensitive, whole word) after whitespace.
pub fn keyword<'a>(s: &'a str, kw: &str) -> Option<&'a str> {
    let (rest, w) = word(skip(s)).ok()?;
    w.eq_ignore_ascii_case(kw).then_some(rest)
}

/// Consumes the punctuation `p` after whitespace.
pub fn punct<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    skip(s).strip_prefix(p)
}

/// A number: `12`, `1.5`, `.5`, `1e3`, `2.5E-3`.
pub fn number(s: &str) -> IResult<&str, &str> {
    let exp = tuple((one_of("eE"), opt(one_of("+-")), digit1));
    let int_first = recognize(tuple((
        digit1,
        opt(pair(tag("."), take_while(|c: char| c.is_ascii_digit()))),
        opt(exp),
    )));
    let exp2 = tuple((one_of("eE"), opt(one_of("+-")), digit1));
    let dot_first = recognize(tuple((tag("."), digit1, opt(exp2))));
    nom::branch::alt((int_first, dot_first))(s)
}

/// A backquoted identifier; two backquotes stand for one.
pub fn quoted_ident(s: &str) -> Option<(&str, String)> {
    let mut rest = s.strip_prefix('`')?;
    let mut out = String::new();
    loop {
        let (r, part) = take_until::<_, _, ()>("`")(rest).ok()?;
        out.push_str(part);
        if let Some(r2) = r.strip_prefix("``") {
            out.push('`');
            rest = r2;
        } else {
            return Some((&r[1..], out));
        }
    }
}

/// A name pattern as KEEP, DROP, RENAME, MV_EXPAND and ENRICH take it:
/// letters, digits, `_`, `@`, `.`, `*` wildcards and backquoted parts.
pub fn name_pattern(s: &str) -> Option<(&str, String)> {
    let mut rest = s;
    let mut out = String::new();
    loop {
        if let Some((r, q)) = quoted_ident(rest) {
            out.push_str(&q);
            rest = r;
            continue;
        }
        let (r, part) =
            take_while::<_, _, ()>(|c: char| is_body(c) || matches!(c, '@' | '.' | '*' | '-'))(
                rest,
            )
            .ok()?;
        if part.is_empty() {
            break;
        }
        out.push_str(part);
        rest = r;
    }
    (!out.is_empty()).then_some((rest, out))
}

/// An unquoted index pattern of FROM: anything up to whitespace, `,`, `|`,
/// `"`, brackets or a comment (`logs-*`, `remote:logs-*`, `<logs-{now/d}>`).
pub fn index_pattern(s: &str) -> Option<(&str, &str)> {
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() || matches!(c, ',' | '|' | '"' | '[' | ']' | '(' | ')') {
            break;
        }
        if c == '/' && matches!(s[i + 1..].chars().next(), Some('/' | '*')) {
            break;
        }
        end = i + c.len_utf8();
    }
    (end > 0).then(|| (&s[end..], &s[..end]))
}

/// A string literal: `"..."` with `\t \n \r \" \\` escapes, or `"""..."""`
/// taken verbatim (up to two extra closing quotes belong to the value).
/// Returns the rest and the value; errors are E0204 / E0203 diagnostics.
pub fn string<'a>(
    full: &str,
    origin: &Origin,
    s: &'a str,
) -> Option<Result<(&'a str, String), Diagnostic>> {
    if let Some(body) = s.strip_prefix("\"\"\"") {
        let Some(i) = body.find("\"\"\"") else {
            let at = offset(full, s);
            return Some(Err(unclosed_string(origin, at)));
        };
        let extra = body[i + 3..]
            .chars()
            .take(2)
            .take_while(|c| *c == '"')
            .count();
        let value = body[..i + extra].to_string();
        return Some(Ok((&body[i + 3 + extra..], value)));
    }
    let body = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some(Ok((&body[i + 1..], out))),
            '\\' => match chars.next() {
                Some((_, 't')) => out.push('\t'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((j, other)) => {
                    let at = offset(full, body) + i;
                    let end = offset(full, body) + j + other.len_utf8();
                    return Some(Err(error_at(
                        origin,
                        at,
                        end,
                        codes::BAD_ESCAPE,
                        format!("`\\{other}` is not an escape sequence of ES|QL strings"),
                    )
                    .label("invalid escape")
                    .note(r#"strings take \t \n \r \" and \\; use """...""" for text with backslashes"#)));
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Some(Err(unclosed_string(origin, offset(full, s))))
}

fn unclosed_string(origin: &Origin, at: usize) -> Diagnostic {
    error_at(origin, at, at + 1, codes::UNCLOSED, "unclosed string")
        .label("this string is never closed")
}

/// The first pass: byte offsets of the top-level `|` separators. Reports an
/// unclosed string, comment or bracket (E0203), a stray closing bracket
/// (E0202) and nesting deeper than [`MAX_DEPTH`] (E0205).
pub fn top_level_pipes(full: &str, origin: &Origin) -> Result<Vec<usize>, Box<Diagnostic>> {
    let mut pipes = Vec::new();
    let mut stack: Vec<(char, usize)> = Vec::new();
    let mut s = full;
    while let Some(c) = s.chars().next() {
        let at = offset(full, s);
        if s.starts_with("//") || s.starts_with("/*") {
            if s.starts_with("/*") && !s[2..].contains("*/") {
                return fail(
                    error_at(origin, at, at + 2, codes::UNCLOSED, "unclosed comment")
                        .label("this comment is never closed"),
                );
            }
            s = skip(s);
            continue;
        }
        match c {
            '"' => {
                match string(full, origin, s) {
                    Some(Ok((rest, _))) => s = rest,
                    // escape errors are reported by the parser, at their place
                    Some(Err(d)) if d.code == codes::BAD_ESCAPE => {
                        s = skip_bad_string(s);
                    }
                    Some(Err(d)) => return Err(Box::new(d)),
                    None => s = &s[1..],
                }
                continue;
            }
            '`' => match quoted_ident(s) {
                Some((rest, _)) => {
                    s = rest;
                    continue;
                }
                None => {
                    return fail(
                        error_at(origin, at, at + 1, codes::UNCLOSED, "unclosed quoted name")
                            .label("this backquote is never closed"),
                    )
                }
            },
            '(' | '[' | '{' => {
                stack.push((c, at));
                if stack.len() > MAX_DEPTH {
                    return fail(too_deep(origin, at));
                }
            }
            ')' | ']' | '}' => {
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                match stack.pop() {
                    Some((open, _)) if open == want => {}
                    Some((open, o)) => {
                        let close = closing(open);
                        return fail(
                            error_at(
                                origin,
                                at,
                                at + 1,
                                codes::UNEXPECTED_TOKEN,
                                format!("expected `{close}`, found `{c}`"),
                            )
                            .label(format!("expected `{close}` here"))
                            .with_secondary(origin.span(o, o + 1), format!("`{open}` opened here")),
                        );
                    }
                    None => {
                        return fail(
                            error_at(
                                origin,
                                at,
                                at + 1,
                                codes::UNEXPECTED_TOKEN,
                                format!("unexpected `{c}`"),
                            )
                            .label("nothing to close here"),
                        )
                    }
                }
            }
            '|' if stack.is_empty() => pipes.push(at),
            _ => {}
        }
        s = &s[c.len_utf8()..];
    }
    if let Some((open, at)) = stack.pop() {
        return fail(
            error_at(
                origin,
                at,
                at + 1,
                codes::UNCLOSED,
                format!("unclosed `{open}`"),
            )
            .label(format!(
                "this `{open}` is never closed; expected `{}`",
                closing(open)
            )),
        );
    }
    Ok(pipes)
}

fn closing(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

/// Skips a `"..."` string that holds an invalid escape, to its closing quote.
fn skip_bad_string(s: &str) -> &str {
    let body = &s[1..];
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return &body[i + 1..],
            '\\' => {
                chars.next();
            }
            _ => {}
        }
    }
    ""
}

/// The deepest bracket nesting, counting brackets inside strings too (an
/// over-estimate is harmless: it only decides where the parser runs).
pub fn rough_nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}
