//! Conditions and scalar expressions. Case: `==`/`in`/`_cs` only where the
//! source compared case-sensitively, `=~`/`in~`/`contains`/... where not.
//! Wildcards: prefix/suffix/infix → startswith/endswith/contains; anything
//! else → `matches regex` with an anchored, escaped RE2 pattern. `has` only
//! for term matches. A missing string column reads as `""` in Kusto, so a
//! negated match is true for a missing field, as the IR's `Not` demands; for
//! non-string columns the null case is written out.

use super::ctx::{Col, Ctx};
use super::text::{lit, pattern_regex, regex, string};
use crate::ir::*;

/// A condition.
pub fn expr(cx: &mut Ctx, e: &Expr) -> String {
    match &e.kind {
        ExprKind::And(items) => join(cx, items, " and ", true),
        ExprKind::Or(items) => join(cx, items, " or ", false),
        ExprKind::Not(inner) => not(cx, inner),
        ExprKind::Match(m) => matches(cx, m),
        ExprKind::Compare(c) => compare(cx, c),
        ExprKind::Exists(f) => {
            let c = cx.field(f);
            if c.is_string() {
                format!("isnotempty({})", c.text)
            } else {
                format!("isnotnull({})", c.text)
            }
        }
        ExprKind::Keyword(k) => keyword(cx, k, e.span),
        ExprKind::Scalar(s) => scalar(cx, s),
        ExprKind::Const(b) => b.to_string(),
        ExprKind::Subsearch(_) => {
            cx.refuse(
                e.span,
                "a subsearch used as a condition has no Kusto equivalent here",
                "subsearch",
            );
            "false".into()
        }
    }
}

fn join(cx: &mut Ctx, items: &[Expr], sep: &str, and: bool) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|x| {
            let s = expr(cx, x);
            let wrap = and && matches!(x.kind, ExprKind::Or(_));
            if wrap {
                format!("({s})")
            } else {
                s
            }
        })
        .collect();
    parts.join(sep)
}

fn not(cx: &mut Ctx, inner: &Expr) -> String {
    let body = expr(cx, inner);
    // A non-string column is null when missing: `not(x == 1)` would be null,
    // but the IR's Not is true for a missing field.
    if let ExprKind::Match(m) = &inner.kind {
        let c = cx.field(&m.field);
        if !c.is_string() && !c.is_dynamic() {
            return format!("(isnull({}) or not({body}))", c.text);
        }
    }
    format!("not({body})")
}

/// `field` against each value, ORed (`Any`) or ANDed (`All`).
fn matches(cx: &mut Ctx, m: &Match) -> String {
    let c = cx.field(&m.field);
    let ci = m.case == Case::Insensitive;
    // Many plain literals compare as one `in` / `in~`.
    let lits: Option<Vec<&str>> = m
        .values
        .iter()
        .map(|v| match v {
            Value::Str(p) => p.as_literal().filter(|s| !s.is_empty()),
            _ => None,
        })
        .collect();
    if let (Some(lits), Quantifier::Any, MatchKind::Whole) = (&lits, m.quantifier, m.kind) {
        if lits.len() > 1 && !c.is_dynamic() {
            let list: Vec<String> = lits.iter().map(|s| lit(s)).collect();
            let op = if ci { "in~" } else { "in" };
            return format!("{} {op} ({})", string_side(&c), list.join(", "));
        }
    }
    let parts: Vec<String> = m.values.iter().map(|v| one(cx, m, &c, v)).collect();
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    let sep = match m.quantifier {
        Quantifier::Any => " or ",
        Quantifier::All => " and ",
    };
    format!("({})", parts.join(sep))
}

/// The column as a string operand.
fn string_side(c: &Col) -> String {
    if c.is_string() {
        c.text.clone()
    } else {
        format!("tostring({})", c.text)
    }
}

fn one(cx: &mut Ctx, m: &Match, c: &Col, v: &Value) -> String {
    let ci = m.case == Case::Insensitive;
    if c.is_dynamic() {
        return dynamic_match(cx, m, c, v);
    }
    match v {
        Value::Str(p) => str_match(cx, m, c, p),
        Value::Regex(r) => match regex(r, ci) {
            Ok(re) => format!("{} matches regex {}", string_side(c), string(&re)),
            Err(why) => {
                cx.refuse(
                    m.span,
                    format!("the regex `{}` uses {why}", r.pattern),
                    "not expressible in RE2",
                );
                "false".into()
            }
        },
        Value::Num(n) if c.is_numeric() => format!("{} == {}", c.text, n.text),
        Value::Num(n) => {
            let op = if ci { "=~" } else { "==" };
            format!("{} {op} {}", string_side(c), lit(&n.text))
        }
        Value::Bool(b) if c.ty == "bool" => format!("{} == {b}", c.text),
        Value::Bool(b) => format!("{} =~ \"{b}\"", string_side(c)),
        Value::Null if c.is_string() => format!("isempty({})", c.text),
        Value::Null => format!("isnull({})", c.text),
        Value::Cidr(block) => cidr(c, block),
        Value::FieldRef(other) => {
            let o = cx.field(&FieldRef::new(other.clone(), m.field.scheme, m.span));
            let op = if ci { "=~" } else { "==" };
            format!("{} {op} {}", string_side(c), string_side(&o))
        }
    }
}

fn cidr(c: &Col, block: &str) -> String {
    let f = if block.contains(':') {
        "ipv6_is_in_range"
    } else {
        "ipv4_is_in_range"
    };
    format!("{f}({}, {})", string_side(c), lit(block))
}

fn str_match(cx: &mut Ctx, m: &Match, c: &Col, p: &Pattern) -> String {
    let ci = m.case == Case::Insensitive;
    let s = string_side(c);
    let cs = if ci { "" } else { "_cs" };
    if p.has_placeholders() {
        cx.refuse(
            m.span,
            format!(
                "the placeholder in `{}` needs a value list (Sigma |expand)",
                p.to_wildcard_string()
            ),
            "unexpanded placeholder",
        );
        return "false".into();
    }
    let parts = p.0.as_slice();
    if m.kind == MatchKind::Term {
        return term_match(cx, m, &s, p);
    }
    match parts {
        [] => {
            cx.caveat(
                "empty-string",
                format!(
                    "`{}` equal to the empty string: Kusto cannot tell an empty value from a missing one",
                    m.field.name
                ),
                Some(m.span),
            );
            format!("isempty({s})")
        }
        [Part::Lit(l)] => {
            let op = if ci { "=~" } else { "==" };
            format!("{s} {op} {}", lit(l))
        }
        [Part::AnyRun] => format!("isnotempty({s})"),
        [Part::Lit(l), Part::AnyRun] => format!("{s} startswith{cs} {}", lit(l)),
        [Part::AnyRun, Part::Lit(l)] => format!("{s} endswith{cs} {}", lit(l)),
        [Part::AnyRun, Part::Lit(l), Part::AnyRun] => format!("{s} contains{cs} {}", lit(l)),
        _ => format!("{s} matches regex {}", string(&pattern_regex(p, ci))),
    }
}

/// Term semantics (analyzed text, Splunk terms): Kusto `has` matches whole
/// terms (maximal alphanumeric runs), `hasprefix`/`hassuffix` their ends.
fn term_match(cx: &mut Ctx, m: &Match, s: &str, p: &Pattern) -> String {
    let ci = m.case == Case::Insensitive;
    let cs = if ci { "" } else { "_cs" };
    let is_term = |t: &str| !t.is_empty() && t.chars().all(char::is_alphanumeric);
    match p.0.as_slice() {
        [Part::Lit(l)] if is_term(l) => format!("{s} has{cs} {}", lit(l)),
        [Part::Lit(l), Part::AnyRun] if is_term(l) => format!("{s} hasprefix{cs} {}", lit(l)),
        [Part::AnyRun, Part::Lit(l)] if is_term(l) => format!("{s} hassuffix{cs} {}", lit(l)),
        [Part::AnyRun, Part::Lit(l), Part::AnyRun] if is_term(l) => {
            format!("{s} contains{cs} {}", lit(l))
        }
        _ => {
            // A phrase or a pattern over terms: bounded by non-alphanumerics.
            let mut re = String::from(if ci { "(?is)" } else { "(?s)" });
            re.push_str("(?:^|[^\\p{L}\\p{N}])");
            let inner = pattern_regex(p, false);
            let inner = inner
                .trim_start_matches("(?s)^")
                .trim_end_matches('$')
                .replace(".*", "[\\p{L}\\p{N}]*")
                .replace("(?s)", "");
            re.push_str(&inner);
            re.push_str("(?:[^\\p{L}\\p{N}]|$)");
            cx.caveat(
                "term-phrase",
                format!(
                    "the term match `{}` on `{}` is written as a regex bounded by non-alphanumerics",
                    p.to_wildcard_string(),
                    m.field.name
                ),
                Some(m.span),
            );
            format!("{s} matches regex {}", string(&re))
        }
    }
}

/// A dynamic (array) column: any element matches.
fn dynamic_match(cx: &mut Ctx, m: &Match, c: &Col, v: &Value) -> String {
    let lit_value = match v {
        Value::Str(p) => p.as_literal(),
        _ => None,
    };
    match (lit_value, m.case, m.array) {
        (Some(l), Case::Sensitive, _) => format!("set_has_element({}, {})", c.text, lit(l)),
        (Some(l), Case::Insensitive, _) => {
            format!(
                "array_index_of(split(tolower(strcat_array({}, \"\\n\")), \"\\n\"), {}) >= 0",
                c.text,
                lit(&l.to_lowercase())
            )
        }
        _ => {
            cx.refuse(
                m.span,
                format!(
                    "a pattern match on the array field `{}` needs mv-apply; not supported yet",
                    m.field.name
                ),
                "pattern over an array",
            );
            "false".into()
        }
    }
}

fn keyword(cx: &mut Ctx, k: &Keyword, span: crate::span::Span) -> String {
    let ci = k.case == Case::Insensitive;
    let cs = if ci { "" } else { "_cs" };
    let mut parts = Vec::new();
    for v in &k.values {
        let Value::Str(p) = v else {
            cx.refuse(span, "a non-string free-text search", "keyword");
            continue;
        };
        let part = match (p.0.as_slice(), k.kind) {
            ([Part::Lit(l)], MatchKind::Term) => format!("* has{cs} {}", lit(l)),
            ([Part::Lit(l)], MatchKind::Whole)
            | ([Part::AnyRun, Part::Lit(l), Part::AnyRun], _) => {
                format!("* contains{cs} {}", lit(l))
            }
            _ => {
                cx.refuse(
                    span,
                    format!(
                        "the free-text pattern `{}` (Kusto searches every column only with has/contains)",
                        p.to_wildcard_string()
                    ),
                    "keyword pattern",
                );
                continue;
            }
        };
        parts.push(part);
    }
    cx.caveat(
        "free-text",
        "a free-text search becomes a search of every column of the table",
        Some(span),
    );
    let sep = match k.quantifier {
        Quantifier::Any => " or ",
        Quantifier::All => " and ",
    };
    if parts.len() == 1 {
        parts.pop().unwrap_or_default()
    } else {
        format!("({})", parts.join(sep))
    }
}

fn compare(cx: &mut Ctx, c: &Compare) -> String {
    let l = scalar(cx, &c.left);
    let r = scalar(cx, &c.right);
    let stringy = |s: &Scalar| matches!(s, Scalar::Lit(Value::Str(_), _));
    let op = match (c.op, c.case) {
        (CmpOp::Eq, Case::Insensitive) if stringy(&c.left) || stringy(&c.right) => "=~",
        (CmpOp::Ne, Case::Insensitive) if stringy(&c.left) || stringy(&c.right) => "!~",
        (op, _) => op.symbol(),
    };
    format!("{l} {op} {r}")
}

/// A value expression.
pub fn scalar(cx: &mut Ctx, s: &Scalar) -> String {
    match s {
        Scalar::Field(f) => cx.field(f).text,
        Scalar::Lit(v, span) => value(cx, v, *span),
        Scalar::Call {
            name,
            args,
            insensitive,
            span,
        } => super::funcs::call(cx, name, args, *insensitive, *span),
        Scalar::Arith {
            op, left, right, ..
        } => {
            let l = scalar(cx, left);
            let r = scalar(cx, right);
            match op {
                ArithOp::Add => format!("({l} + {r})"),
                ArithOp::Sub => format!("({l} - {r})"),
                ArithOp::Mul => format!("({l} * {r})"),
                // SPL and EQL divide as reals; Kusto's long / long truncates.
                ArithOp::Div => format!("(todouble({l}) / {r})"),
                ArithOp::Mod => format!("({l} % {r})"),
                ArithOp::Concat => format!("strcat({l}, {r})"),
            }
        }
        Scalar::Neg(x, _) => format!("-({})", scalar(cx, x)),
        Scalar::Cond(e) => format!("({})", expr(cx, e)),
        Scalar::List(items, _) => {
            let v: Vec<String> = items.iter().map(|i| scalar(cx, i)).collect();
            format!("dynamic([{}])", v.join(", "))
        }
        Scalar::Duration(d, _) => super::text::timespan(d),
    }
}

fn value(cx: &mut Ctx, v: &Value, span: crate::span::Span) -> String {
    match v {
        Value::Str(p) => match p.as_literal() {
            Some(s) => lit(s),
            None => {
                cx.refuse(
                    span,
                    format!("the pattern `{}` used as a value", p.to_wildcard_string()),
                    "pattern as a value",
                );
                "\"\"".into()
            }
        },
        Value::Num(n) => n.text.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "real(null)".into(),
        Value::Regex(r) => match regex(r, false) {
            Ok(re) => string(&re),
            Err(why) => {
                cx.refuse(
                    span,
                    format!("the regex `{}` uses {why}", r.pattern),
                    "regex",
                );
                "\"\"".into()
            }
        },
        Value::Cidr(c) => lit(c),
        Value::FieldRef(f) => {
            cx.field(&FieldRef::new(f.clone(), FieldScheme::Raw, span))
                .text
        }
    }
}
