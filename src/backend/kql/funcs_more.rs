//! Functions whose Kusto form depends on their arguments or on the source
//! language: SPL `in`, `mvfind`, `mvappend`, `like` with a computed
//! pattern, `substr` with two arguments, `trim(x, chars)`; EQL and ES|QL
//! `substring` (0-based start/end vs 1-based start/length).

use super::ctx::Ctx;
use super::expr::scalar;
use super::stages::scalar_type;
use super::text::{lit, re_escape, regex, string};
use crate::ir::{ArithOp, Language, Regex, RegexFlavor, Scalar, Value};
use crate::span::Span;
use std::cell::Cell;

thread_local! {
    static LANGUAGE: Cell<Language> = const { Cell::new(Language::Spl) };
}

/// The source language of the query being converted (function names are
/// shared across languages; a few mean different things).
pub fn set_language(l: Language) {
    LANGUAGE.with(|c| c.set(l));
}

pub fn language() -> Language {
    LANGUAGE.with(Cell::get)
}

/// An unanchored PCRE pattern (SPL `match`, `rex`, `mvfind`).
pub fn pcre(p: &str) -> Regex {
    Regex {
        pattern: p.to_string(),
        flavor: RegexFlavor::Pcre,
        anchored: false,
        multiline: false,
        dot_all: false,
    }
}

fn str_arg(s: &Scalar) -> Option<&str> {
    match s {
        Scalar::Lit(Value::Str(p), _) => p.as_literal(),
        _ => None,
    }
}

fn int_arg(s: &Scalar) -> Option<i64> {
    match s {
        Scalar::Lit(Value::Num(n), _) => n.text.parse().ok(),
        Scalar::Neg(x, _) => int_arg(x).map(|v| -v),
        _ => None,
    }
}

fn is_dynamic(cx: &mut Ctx, s: &Scalar) -> bool {
    scalar_type(cx, s) == "dynamic"
}

/// A string operand.
fn text(cx: &mut Ctx, s: &Scalar) -> String {
    let x = scalar(cx, s);
    if scalar_type(cx, s) == "string" {
        x
    } else {
        format!("tostring({x})")
    }
}

/// `Some(kql)` when `name` is handled here.
pub fn call(cx: &mut Ctx, name: &str, args: &[Scalar], span: Span) -> Option<String> {
    let lang = language();
    Some(match (name, args) {
        // SPL `min(x)` / `max(x)` of one value: the value (of a multivalue
        // field: its smallest / largest).
        ("min" | "max", [x]) if lang == Language::Spl => {
            if is_dynamic(cx, x) {
                cx.refuse(span, format!("`{name}` of a multivalue field"), name);
                return Some("\"\"".into());
            }
            scalar(cx, x)
        }
        ("in", [x, vals @ ..]) if !vals.is_empty() && lang == Language::Spl => in_list(cx, x, vals),
        ("mvfind", [x, re]) if lang == Language::Spl => {
            let Some(p) = str_arg(re) else {
                cx.refuse(span, "`mvfind` with a computed regex", "mvfind");
                return Some("long(null)".into());
            };
            if is_dynamic(cx, x) {
                cx.refuse(
                    span,
                    "`mvfind` over a multivalue field (Kusto has no per-element regex in a scalar expression)",
                    "mvfind",
                );
                return Some("long(null)".into());
            }
            // One value: index 0 when it matches, null otherwise.
            match regex(&pcre(p), false) {
                Ok(re) => format!(
                    "iff({} matches regex {}, 0, long(null))",
                    text(cx, x),
                    string(&re)
                ),
                Err(why) => {
                    cx.refuse(span, format!("the regex `{p}` uses {why}"), "regex");
                    "long(null)".into()
                }
            }
        }
        ("mvappend", _) if !args.is_empty() && lang == Language::Spl => {
            let parts: Vec<String> = args
                .iter()
                .map(|a| {
                    let x = scalar(cx, a);
                    if is_dynamic(cx, a) {
                        format!("coalesce({x}, dynamic([]))")
                    } else {
                        // mvappend skips null values.
                        format!("iff(isempty({x}), dynamic([]), pack_array({x}))")
                    }
                })
                .collect();
            if parts.len() == 1 {
                parts.into_iter().next().unwrap_or_default()
            } else {
                format!("array_concat({})", parts.join(", "))
            }
        }
        ("like", [s, pat]) if str_arg(pat).is_none() => computed_like(cx, s, pat, span)?,
        ("substr", [s, start]) if lang == Language::Spl => {
            let s = text(cx, s);
            match int_arg(start) {
                Some(n) if n > 0 => format!("substring({s}, {})", n - 1),
                Some(n) if n < 0 => format!("substring({s}, max_of(strlen({s}) - {}, 0))", -n),
                _ => {
                    let st = scalar(cx, start);
                    format!(
                        "substring({s}, iff(({st}) < 0, max_of(strlen({s}) + ({st}), 0), ({st}) - 1))"
                    )
                }
            }
        }
        ("substr", [s, start, len])
            if lang == Language::Spl && int_arg(start).is_some_and(|n| n < 0) =>
        {
            let s = text(cx, s);
            let n = -int_arg(start).unwrap_or(0);
            let len = scalar(cx, len);
            format!("substring({s}, max_of(strlen({s}) - {n}, 0), {len})")
        }
        ("trim" | "ltrim" | "rtrim", [s, chars]) if lang == Language::Spl => {
            let Some(chars) = str_arg(chars) else {
                cx.refuse(span, format!("`{name}` with computed characters"), name);
                return Some("\"\"".into());
            };
            let mut class = String::from("[");
            for c in chars.chars() {
                if matches!(c, ']' | '[' | '^' | '-' | '\\') {
                    class.push('\\');
                    class.push(c);
                } else {
                    re_escape(&c.to_string(), &mut class);
                }
            }
            class.push_str("]+");
            let f = match name {
                "trim" => "trim",
                "ltrim" => "trim_start",
                _ => "trim_end",
            };
            format!("{f}({}, {})", string(&class), text(cx, s))
        }
        ("substring", [s, rest @ ..]) if matches!(rest.len(), 1 | 2) => {
            substring(cx, lang, s, rest, span)?
        }
        _ => return None,
    })
}

/// SPL `x IN (a, b)` / `in(x, a, b)` with non-literal values: Kusto's `in`
/// (case-sensitive, as eval compares; a multivalue value is expanded).
fn in_list(cx: &mut Ctx, x: &Scalar, vals: &[Scalar]) -> String {
    let numeric = matches!(scalar_type(cx, x).as_str(), "real" | "long")
        && vals
            .iter()
            .all(|v| matches!(v, Scalar::Lit(Value::Num(_), _)));
    if numeric {
        let xs = scalar(cx, x);
        let items: Vec<String> = vals.iter().map(|v| scalar(cx, v)).collect();
        return format!("({xs} in ({}))", items.join(", "));
    }
    let xs = text(cx, x);
    let items: Vec<String> = vals
        .iter()
        .map(|v| match v {
            Scalar::Lit(Value::Num(n), _) => lit(&n.text),
            _ if is_dynamic(cx, v) => scalar(cx, v),
            _ => text(cx, v),
        })
        .collect();
    format!("({xs} in ({}))", items.join(", "))
}

/// The operands of a chain of `.` concatenations.
fn concat_parts(s: &Scalar, out: &mut Vec<Scalar>) {
    match s {
        Scalar::Arith {
            op: ArithOp::Concat,
            left,
            right,
            ..
        } => {
            concat_parts(left, out);
            concat_parts(right, out);
        }
        _ => out.push(s.clone()),
    }
}

/// `like(x, "%" . f . "%")` and the prefix / suffix forms.
fn computed_like(cx: &mut Ctx, s: &Scalar, pat: &Scalar, span: Span) -> Option<String> {
    let mut parts = Vec::new();
    concat_parts(pat, &mut parts);
    let pct = |p: &Scalar| str_arg(p) == Some("%");
    let (op, inner) = match parts.as_slice() {
        [a, m, b] if pct(a) && pct(b) => ("contains_cs", m),
        [m, b] if pct(b) => ("startswith_cs", m),
        [a, m] if pct(a) => ("endswith_cs", m),
        _ => return None,
    };
    cx.caveat(
        "like-computed-pattern",
        "`like` with a computed pattern: `%` and `_` inside the computed part are taken literally",
        Some(span),
    );
    let x = text(cx, s);
    let m = text(cx, inner);
    Some(format!("({x} {op} {m})"))
}

/// EQL `substring(s, start[, end])`: 0-based, end exclusive, negative
/// positions count from the end (Python slices). ES|QL `SUBSTRING(s, start[,
/// length])`: 1-based, a negative start counts from the end.
fn substring(
    cx: &mut Ctx,
    lang: Language,
    s: &Scalar,
    rest: &[Scalar],
    span: Span,
) -> Option<String> {
    let st = text(cx, s);
    let pos = |cx: &mut Ctx, p: &Scalar| -> String {
        match int_arg(p) {
            Some(n) if n >= 0 => n.to_string(),
            Some(n) => format!("max_of(strlen({st}) - {}, 0)", -n),
            None => {
                let x = scalar(cx, p);
                format!("iff(({x}) < 0, max_of(strlen({st}) + ({x}), 0), {x})")
            }
        }
    };
    match lang {
        Language::Eql => {
            let a = pos(cx, &rest[0]);
            Some(match rest.get(1) {
                None => format!("substring({st}, {a})"),
                Some(end) => {
                    let b = pos(cx, end);
                    format!("substring({st}, {a}, max_of(({b}) - ({a}), 0))")
                }
            })
        }
        Language::Esql => {
            let a = match int_arg(&rest[0]) {
                Some(n) if n > 0 => (n - 1).to_string(),
                Some(n) if n < 0 => format!("max_of(strlen({st}) - {}, 0)", -n),
                _ => {
                    cx.refuse(
                        span,
                        "ES|QL `SUBSTRING` with a computed or zero start",
                        "substring",
                    );
                    return Some("\"\"".into());
                }
            };
            Some(match rest.get(1) {
                None => format!("substring({st}, {a})"),
                Some(len) => format!("substring({st}, {a}, {})", scalar(cx, len)),
            })
        }
        _ => None,
    }
}
