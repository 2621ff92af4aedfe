//! Conditions and scalar expressions. Case: `==`/`in`/`_cs` only where the
//! source compared case-sensitively, `=~`/`in~`/`contains`/... where not.
//! Wildcards: prefix/suffix/infix → startswith/endswith/contains; anything
//! else → `matches regex` with an anchored, escaped RE2 pattern. `has` only
//! for term matches. A missing string column reads as `""` in Kusto, so a
//! negated match is true for a missing field, as the IR's `Not` demands; for
//! non-string columns the null case is written out.

use super::ctx::{Col, Ctx};
use super::text::{lit, pattern_regex, regex, regex_per_line, string};
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

/// Join operands; long chains are grouped in parenthesized runs of 16 so
/// the parser's nesting depth stays small (KS245 on very long OR lists).
pub fn chain(parts: Vec<String>, sep: &str) -> String {
    const RUN: usize = 16;
    if parts.len() <= RUN {
        return parts.join(sep);
    }
    let grouped: Vec<String> = parts
        .chunks(RUN)
        .map(|c| format!("({})", c.join(sep)))
        .collect();
    chain(grouped, sep)
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
    chain(parts, sep)
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

/// A whole-value match on a field Elastic analyzes (`text`) as the term
/// match it is there (analyzers lowercase terms).
fn analyzed_as_terms(cx: &mut Ctx, m: &Match) -> Option<Match> {
    let text = m.kind == MatchKind::Whole
        && m.field.scheme == FieldScheme::Ecs
        && cx.m.map.analyzed.contains(&m.field.name)
        && m.values.iter().all(|v| matches!(v, Value::Str(_)));
    if !text {
        return None;
    }
    cx.caveat(
        "analyzed-text",
        format!(
            "`{}` is an analyzed text field in Elastic: its values are matched as terms (Kusto `has`, or a regex bounded by non-alphanumerics), case-insensitively, without the separators at their ends; the field's own analyzer may split terms differently",
            m.field.name
        ),
        Some(m.span),
    );
    // The analyzer drops separators around a value (`.pst` is the term
    // `pst`); Elastic's PowerShell analyzer keeps `-` inside terms.
    let values = m
        .values
        .iter()
        .map(|v| match v {
            Value::Str(p) => match p.as_literal() {
                Some(l) => {
                    let t = l.trim_matches(|c: char| !(c.is_alphanumeric() || c == '-'));
                    Value::Str(Pattern::literal(if t.is_empty() { l } else { t }))
                }
                None => v.clone(),
            },
            _ => v.clone(),
        })
        .collect();
    Some(Match {
        kind: MatchKind::Term,
        case: Case::Insensitive,
        values,
        ..m.clone()
    })
}

/// `field` against each value, ORed (`Any`) or ANDed (`All`).
fn matches(cx: &mut Ctx, m: &Match) -> String {
    let term;
    let m = match analyzed_as_terms(cx, m) {
        Some(t) => {
            term = t;
            &term
        }
        None => m,
    };
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
    format!("({})", chain(parts, sep))
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
            Err(why) => refuse_regex(cx, m, r, &why),
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

/// Refuse a regex RE2 cannot express.
fn refuse_regex(cx: &mut Ctx, m: &Match, r: &Regex, why: &str) -> String {
    cx.refuse(
        m.span,
        format!("the regex `{}` uses {why}", r.pattern),
        "not expressible in RE2",
    );
    "false".into()
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

/// A dynamic (array) column: any element matches. Literals use
/// `set_has_element`; patterns match one line of the elements joined by line
/// breaks (exact for elements without line breaks).
fn dynamic_match(cx: &mut Ctx, m: &Match, c: &Col, v: &Value) -> String {
    let ci = m.case == Case::Insensitive;
    match v {
        Value::Str(p) if !ci && p.as_literal().is_some() => {
            format!(
                "set_has_element({}, {})",
                c.text,
                lit(p.as_literal().unwrap_or(""))
            )
        }
        Value::Num(n) => format!("set_has_element({}, {})", c.text, n.text),
        Value::Str(p) if !p.has_placeholders() => {
            let mut re = String::from(if ci { "(?im)^" } else { "(?m)^" });
            for part in &p.0 {
                match part {
                    Part::Lit(s) => super::text::re_escape(s, &mut re),
                    Part::AnyRun => re.push_str("[^\\n]*"),
                    Part::AnyChar | Part::Placeholder(_) => re.push_str("[^\\n]"),
                }
            }
            re.push('$');
            format!(
                "strcat_array({}, \"\\n\") matches regex {}",
                c.text,
                string(&re)
            )
        }
        Value::Regex(r) => match regex_per_line(r, ci) {
            Ok(re) => {
                cx.caveat(
                    "array-regex",
                    format!(
                        "the regex on the array `{}` is matched against each line of its elements joined by line breaks (a negated character class may reach across elements; `.` does not match a line break)",
                        m.field.name
                    ),
                    Some(m.span),
                );
                format!(
                    "strcat_array({}, \"\\n\") matches regex {}",
                    c.text,
                    string(&re)
                )
            }
            Err(why) => refuse_regex(cx, m, r, &why),
        },
        _ => {
            cx.refuse(
                m.span,
                format!(
                    "this kind of match on the array field `{}` has no exact Kusto form here",
                    m.field.name
                ),
                "match over an array",
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

/// A scalar with what is known of its type (`string`, `real`, `datetime`...).
fn typed(cx: &mut Ctx, s: &Scalar) -> (String, String) {
    match s {
        Scalar::Field(f) => {
            let c = cx.field(f);
            let ty = if c.is_numeric() {
                "real".to_string()
            } else {
                c.ty.clone()
            };
            (c.text, ty)
        }
        Scalar::Lit(Value::Num(n), _) => (n.text.clone(), "real".into()),
        Scalar::Lit(Value::Str(_), _) => (scalar(cx, s), "string".into()),
        Scalar::Arith { op, .. } if *op != ArithOp::Concat => (scalar(cx, s), "real".into()),
        Scalar::Call { name, .. } if matches!(name.as_str(), "relative_time" | "now" | "time") => {
            (scalar(cx, s), "datetime".into())
        }
        _ => (scalar(cx, s), "unknown".into()),
    }
}

fn compare(cx: &mut Ctx, c: &Compare) -> String {
    let (mut l, lt) = typed(cx, &c.left);
    let (mut r, rt) = typed(cx, &c.right);
    let num_lit = |s: &Scalar| match s {
        Scalar::Lit(Value::Str(p), _) => p
            .as_literal()
            .filter(|t| t.trim().parse::<f64>().is_ok())
            .map(str::to_string),
        _ => None,
    };
    let ordering = !matches!(c.op, CmpOp::Eq | CmpOp::Ne);
    // Numbers against strings: compare as numbers, as the sources do.
    if lt == "real" && rt == "string" {
        match num_lit(&c.right) {
            Some(n) => r = n,
            None if ordering => r = format!("todouble({r})"),
            None => l = format!("tostring({l})"),
        }
    } else if rt == "real" && lt == "string" {
        match num_lit(&c.left) {
            Some(n) => l = n,
            None if ordering => l = format!("todouble({l})"),
            None => r = format!("tostring({r})"),
        }
    } else if lt == "string" && rt == "string" && ordering {
        // Kusto has no < on strings: numbers compare as numbers, text by strcmp.
        if num_lit(&c.left).is_some() || num_lit(&c.right).is_some() {
            l = format!("todouble({l})");
            r = format!("todouble({r})");
        } else {
            return format!("strcmp({l}, {r}) {} 0", c.op.symbol());
        }
    } else if lt == "datetime" && rt == "string" {
        r = epoch_string(cx, &c.right, r, c.span);
    } else if rt == "datetime" && lt == "string" {
        l = epoch_string(cx, &c.left, l, c.span);
    }
    let stringy = lt == "string" && rt == "string";
    let op = match (c.op, c.case) {
        (CmpOp::Eq, Case::Insensitive) if stringy => "=~",
        (CmpOp::Ne, Case::Insensitive) if stringy => "!~",
        (op, _) => op.symbol(),
    };
    format!("{l} {op} {r}")
}

/// The string side of a comparison with a time. SPL times are epoch
/// seconds and a string holding a number compares as that number (lookup
/// outputs such as `firstTimeSeen` are such strings): read it as epoch
/// seconds. Other strings, and other languages, are refused.
fn epoch_string(cx: &mut Ctx, s: &Scalar, text: String, span: crate::span::Span) -> String {
    if super::funcs_more::language() != crate::ir::Language::Spl {
        cx.refuse(span, "a time compared with a string", "time vs string");
        return text;
    }
    match s {
        Scalar::Lit(Value::Str(p), _) => match p.as_literal().map(str::trim) {
            Some(n) if n.parse::<f64>().is_ok() => format!("unixtime_seconds_todatetime({n})"),
            _ => {
                cx.refuse(
                    span,
                    "a time compared with a string that is not a number (SPL compares them as text)",
                    "time vs string",
                );
                text
            }
        },
        _ => {
            cx.caveat(
                "epoch-string",
                "a string compared with a time is read as epoch seconds, as SPL compares a numeric string with a time; other text compares as null",
                Some(span),
            );
            format!("unixtime_seconds_todatetime(todouble({text}))")
        }
    }
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
