//! The Sigma condition parser (nom over `&str`): `or` < `and` < `not` <
//! `x of` < parentheses, then an optional Sigma 1.x aggregation after `|`.

use super::ast::{Aggregation, Cond, CondKind, Condition, OfQuantifier, OfTarget};
use crate::diag::{codes, Diagnostic};
use crate::ir::CmpOp;
use crate::lang::common::{describe_next, error_at, offset, too_deep, Depth};
use crate::span::Origin;
use nom::bytes::complete::take_while1;
use nom::character::complete::multispace0;
use nom::IResult;

type PResult<'a, T> = Result<(&'a str, T), Diagnostic>;

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '*' | '$')
}

fn ws(s: &str) -> &str {
    let r: IResult<&str, &str> = multispace0(s);
    r.map(|(rest, _)| rest).unwrap_or(s)
}

/// The next word (identifier, keyword or pattern) after whitespace.
fn word(s: &str) -> Option<(&str, &str)> {
    let r: IResult<&str, &str> = take_while1(is_word_char)(ws(s));
    r.ok()
}

/// Whether the next word is the keyword `kw`; returns the input after it.
fn keyword<'a>(s: &'a str, kw: &str) -> Option<&'a str> {
    match word(s) {
        Some((rest, w)) if w == kw => Some(rest),
        _ => None,
    }
}

const KEYWORDS: &[&str] = &["and", "or", "not", "of", "them"];

struct Parser<'a> {
    full: &'a str,
    origin: &'a Origin,
    depth: Depth,
}

/// Parse a condition text that starts in its file as `origin` says.
pub fn parse_condition(text: &str, origin: &Origin) -> Result<Condition, Diagnostic> {
    let p = Parser {
        full: text,
        origin,
        depth: Depth::default(),
    };
    if text.trim().is_empty() {
        return Err(p
            .err(0, text.len(), codes::EMPTY_QUERY, "the condition is empty")
            .label("a condition names the searches to match"));
    }
    let (rest, expr) = p.or(text)?;
    let rest = ws(rest);
    let aggregation = if let Some(after) = rest.strip_prefix('|') {
        Some(p.aggregation(after)?)
    } else if rest.is_empty() {
        None
    } else {
        let at = p.at(rest);
        let (msg, label) = if rest.starts_with(')') {
            ("unbalanced `)`", "this `)` closes no `(`".to_string())
        } else {
            (
                "unexpected input after the condition",
                format!(
                    "expected `and`, `or` or the end, found {}",
                    describe_next(rest)
                ),
            )
        };
        let len = word(rest).map(|(_, w)| w.len()).unwrap_or(1);
        return Err(p.err(at, at + len, codes::TRAILING_INPUT, msg).label(label));
    };
    Ok(Condition { expr, aggregation })
}

impl<'a> Parser<'a> {
    fn at(&self, rest: &str) -> usize {
        offset(self.full, rest)
    }

    fn err(&self, start: usize, end: usize, code: crate::diag::Code, msg: &str) -> Diagnostic {
        error_at(self.origin, start, end, code, msg)
    }

    fn binary(
        &self,
        s: &'a str,
        kw: &str,
        next: fn(&Self, &'a str) -> PResult<'a, Cond>,
        build: fn(Vec<Cond>) -> CondKind,
    ) -> PResult<'a, Cond> {
        let (mut rest, first) = next(self, s)?;
        let start = first.start;
        let mut items = vec![first];
        while let Some(after) = keyword(rest, kw) {
            let (r, item) = next(self, after)?;
            items.push(item);
            rest = r;
        }
        if items.len() == 1 {
            return Ok((rest, items.remove(0)));
        }
        let end = items.last().map(|c| c.end).unwrap_or(start);
        Ok((
            rest,
            Cond {
                kind: build(items),
                start,
                end,
            },
        ))
    }

    fn or(&self, s: &'a str) -> PResult<'a, Cond> {
        self.binary(s, "or", Self::and, CondKind::Or)
    }

    fn and(&self, s: &'a str) -> PResult<'a, Cond> {
        self.binary(s, "and", Self::not, CondKind::And)
    }

    fn not(&self, s: &'a str) -> PResult<'a, Cond> {
        if let Some(after) = keyword(s, "not") {
            let start = self.at(ws(s));
            let Some(_guard) = self.depth.enter() else {
                return Err(too_deep(self.origin, start));
            };
            let (rest, inner) = self.not(after)?;
            let end = inner.end;
            return Ok((
                rest,
                Cond {
                    kind: CondKind::Not(Box::new(inner)),
                    start,
                    end,
                },
            ));
        }
        self.primary(s)
    }

    fn primary(&self, s: &'a str) -> PResult<'a, Cond> {
        let s = ws(s);
        let start = self.at(s);
        if let Some(inner) = s.strip_prefix('(') {
            let Some(_guard) = self.depth.enter() else {
                return Err(too_deep(self.origin, start));
            };
            let (rest, mut cond) = self.or(inner)?;
            let rest = ws(rest);
            let Some(after) = rest.strip_prefix(')') else {
                let at = self.at(rest);
                return Err(self
                    .err(
                        start,
                        start + 1,
                        codes::UNCLOSED,
                        "unclosed `(` in the condition",
                    )
                    .label(format!(
                        "this `(` is never closed: expected `)`, found {}",
                        describe_next(rest)
                    ))
                    .with_secondary(self.origin.span(at, at + 1), "expected `)` here"));
            };
            // Parentheses only group: the node spans them for precise messages.
            cond.start = start;
            cond.end = self.at(after);
            return Ok((after, cond));
        }
        let Some((rest, w)) = word(s) else {
            let len = s.chars().next().map(char::len_utf8).unwrap_or(0);
            return Err(self
                .err(
                    start,
                    start + len,
                    codes::UNEXPECTED_TOKEN,
                    "expected a search identifier",
                )
                .label(format!(
                    "expected a search identifier, `not` or `(`, found {}",
                    describe_next(s)
                )));
        };
        let quantifier = match w {
            "1" | "any" => Some(OfQuantifier::Any),
            "all" => Some(OfQuantifier::All),
            _ => None,
        };
        if let (Some(quantifier), Some(after_of)) = (quantifier, keyword(rest, "of")) {
            let Some((rest, target)) = word(after_of) else {
                let at = self.at(ws(after_of));
                return Err(self
                    .err(
                        at,
                        at + 1,
                        codes::UNEXPECTED_TOKEN,
                        "expected `them` or a pattern after `of`",
                    )
                    .label(format!(
                        "expected `them` or an identifier pattern, found {}",
                        describe_next(after_of)
                    )));
            };
            let target = if target == "them" {
                OfTarget::Them
            } else {
                OfTarget::Pattern(target.to_string())
            };
            let end = self.at(rest);
            return Ok((
                rest,
                Cond {
                    kind: CondKind::Of { quantifier, target },
                    start,
                    end,
                },
            ));
        }
        if KEYWORDS.contains(&w) {
            return Err(self
                .err(
                    start,
                    start + w.len(),
                    codes::UNEXPECTED_TOKEN,
                    &format!("unexpected `{w}`"),
                )
                .label("expected a search identifier, `not` or `(`"));
        }
        Ok((
            rest,
            Cond {
                kind: CondKind::Ident(w.to_string()),
                start,
                end: start + w.len(),
            },
        ))
    }

    /// `count(field) by group > 10` after the `|`.
    fn aggregation(&self, s: &'a str) -> Result<Aggregation, Diagnostic> {
        let s = ws(s);
        let start = self.at(s);
        let bad = |rest: &str, what: &str| {
            let at = self.at(ws(rest));
            self.err(at, at + 1, codes::SYNTAX, "invalid aggregation expression")
                .label(format!("expected {what}, found {}", describe_next(rest)))
        };
        let Some((rest, func)) = word(s) else {
            return Err(bad(s, "an aggregation function"));
        };
        if func == "near" {
            return Err(self
                .err(
                    start,
                    start + 4,
                    codes::UNSUPPORTED_CONSTRUCT,
                    "`near` is obsolete Sigma 1.x syntax",
                )
                .label("no meaning in the IR")
                .note("write a `temporal` correlation rule instead"));
        }
        if !matches!(func, "count" | "min" | "max" | "avg" | "sum") {
            return Err(bad(s, "`count`, `min`, `max`, `avg` or `sum`"));
        }
        let rest = ws(rest);
        let Some(rest) = rest.strip_prefix('(') else {
            return Err(bad(rest, "`(`"));
        };
        let (rest, field) = match word(rest) {
            Some((r, f)) => {
                let at = self.at(ws(rest));
                (r, Some((f.to_string(), at, at + f.len())))
            }
            None => (rest, None),
        };
        let rest = ws(rest);
        let Some(rest) = rest.strip_prefix(')') else {
            return Err(bad(rest, "`)`"));
        };
        let (rest, by) = match keyword(rest, "by") {
            Some(after) => match word(after) {
                Some((r, g)) => {
                    let at = self.at(ws(after));
                    (r, Some((g.to_string(), at, at + g.len())))
                }
                None => return Err(bad(after, "a field name")),
            },
            None => (rest, None),
        };
        let rest = ws(rest);
        let ops = [
            (">=", CmpOp::Ge),
            ("<=", CmpOp::Le),
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            (">", CmpOp::Gt),
            ("<", CmpOp::Lt),
            ("=", CmpOp::Eq),
        ];
        let Some((sym, op)) = ops.iter().find(|(sym, _)| rest.starts_with(sym)) else {
            return Err(bad(rest, "a comparison (`>`, `>=`, `<`, `<=`, `==`)"));
        };
        let rest = ws(&rest[sym.len()..]);
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(bad(rest, "a number"));
        }
        let value = rest[..num_len].to_string();
        let after = ws(&rest[num_len..]);
        if !after.is_empty() {
            let at = self.at(after);
            return Err(self
                .err(
                    at,
                    at + 1,
                    codes::TRAILING_INPUT,
                    "unexpected input after the aggregation",
                )
                .label(format!("expected the end, found {}", describe_next(after))));
        }
        Ok(Aggregation {
            func: func.to_string(),
            field,
            by,
            op: *op,
            value,
            start,
            end: self.at(&rest[num_len..]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::FileId;

    fn parse(s: &str) -> Result<Condition, Diagnostic> {
        parse_condition(s, &Origin::verbatim(FileId(0), 0))
    }

    /// A compact rendering: `(a & b)`, `(a | b)`, `!a`, `any(p)`, `all(them)`.
    fn show(c: &Cond) -> String {
        let join = |items: &[Cond], op: &str| {
            let v: Vec<String> = items.iter().map(show).collect();
            format!("({})", v.join(op))
        };
        match &c.kind {
            CondKind::Or(i) => join(i, " | "),
            CondKind::And(i) => join(i, " & "),
            CondKind::Not(i) => format!("!{}", show(i)),
            CondKind::Ident(n) => n.clone(),
            CondKind::Of { quantifier, target } => {
                let t = match target {
                    OfTarget::Them => "them".to_string(),
                    OfTarget::Pattern(p) => p.clone(),
                };
                let q = if *quantifier == OfQuantifier::All {
                    "all"
                } else {
                    "any"
                };
                format!("{q}({t})")
            }
        }
    }

    fn ok(s: &str) -> String {
        show(&parse(s).expect("parses").expr)
    }

    #[test]
    fn precedence_or_and_not_of() {
        assert_eq!(ok("a or b and c"), "(a | (b & c))");
        assert_eq!(ok("a and b or c"), "((a & b) | c)");
        assert_eq!(ok("not a and b"), "(!a & b)");
        assert_eq!(ok("not a or not b"), "(!a | !b)");
        assert_eq!(ok("not 1 of filter_*"), "!any(filter_*)");
        assert_eq!(
            ok("all of sel_* and not 1 of them"),
            "(all(sel_*) & !any(them))"
        );
        assert_eq!(ok("any of x*"), "any(x*)");
        assert_eq!(ok("a and (b or c)"), "(a & (b | c))");
        assert_eq!(ok("(((a)))"), "a");
        assert_eq!(ok("not not a"), "!!a");
        assert_eq!(ok("a and\n  (\n    b or c\n  )"), "(a & (b | c))");
    }

    #[test]
    fn identifiers_may_look_like_keywords_prefixes() {
        assert_eq!(ok("android and order"), "(android & order)");
        assert_eq!(ok("_hidden or all_x"), "(_hidden | all_x)");
        assert_eq!(ok("sel-1 and sel.2"), "(sel-1 & sel.2)");
    }

    #[test]
    fn spans_cover_the_text() {
        let c = parse("a and (b or c)").unwrap().expr;
        assert_eq!((c.start, c.end), (0, 14));
        let CondKind::And(items) = &c.kind else {
            panic!()
        };
        assert_eq!((items[1].start, items[1].end), (6, 14));
    }

    #[test]
    fn errors_have_codes_and_places() {
        let e = parse("a and (b or c").unwrap_err();
        assert_eq!(e.code, codes::UNCLOSED);
        assert_eq!(e.span.map(|s| (s.start, s.end)), Some((6, 7)));
        let e = parse("a and b)").unwrap_err();
        assert_eq!(e.code, codes::TRAILING_INPUT);
        assert_eq!(e.span.map(|s| s.start), Some(7));
        let e = parse("a and").unwrap_err();
        assert_eq!(e.code, codes::UNEXPECTED_TOKEN);
        let e = parse("a or or b").unwrap_err();
        assert_eq!(e.code, codes::UNEXPECTED_TOKEN);
        assert_eq!(e.span.map(|s| s.start), Some(5));
        let e = parse("1 of").unwrap_err();
        assert_eq!(e.code, codes::UNEXPECTED_TOKEN);
        assert_eq!(parse("  ").unwrap_err().code, codes::EMPTY_QUERY);
        assert_eq!(
            parse("a | near b").unwrap_err().code,
            codes::UNSUPPORTED_CONSTRUCT
        );
    }

    #[test]
    fn deep_nesting_is_e0205() {
        let deep = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
        let e = parse(&deep).unwrap_err();
        assert_eq!(e.code, codes::TOO_DEEP);
        let nots = format!("{}a", "not ".repeat(10_000));
        assert_eq!(parse(&nots).unwrap_err().code, codes::TOO_DEEP);
    }

    #[test]
    fn aggregation_of_sigma_1() {
        let a = parse("sel | count(dst) by src > 10")
            .unwrap()
            .aggregation
            .unwrap();
        assert_eq!(a.func, "count");
        assert_eq!(a.field.map(|f| f.0), Some("dst".to_string()));
        assert_eq!(a.by.map(|f| f.0), Some("src".to_string()));
        assert_eq!((a.op, a.value.as_str()), (CmpOp::Gt, "10"));
        let a = parse("sel | count() > 5").unwrap().aggregation.unwrap();
        assert!(a.field.is_none() && a.by.is_none());
    }
}
