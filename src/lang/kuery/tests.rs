//! IR shapes, spans and diagnostics of the kuery front-end.

use super::compile;
use crate::diag::{codes, Code};
use crate::ir::*;
use crate::lang::{Compiled, Input};
use crate::span::{FileId, Origin, Span};

/// The query stands at file offset 100, so spans prove the origin mapping.
const AT: usize = 100;

fn ok(q: &str) -> Compiled {
    let origin = Origin::verbatim(FileId(0), AT);
    match compile(&Input {
        text: q,
        origin: &origin,
    }) {
        Ok(c) => c,
        Err(e) => panic!("{q:?} failed: {e:?}"),
    }
}

fn filter(q: &str) -> Expr {
    ok(q).query.filter.expect("a filter")
}

/// The code and the text range (query offsets) of the first error.
fn err(q: &str) -> (Code, usize, usize) {
    let origin = Origin::verbatim(FileId(0), AT);
    let e = compile(&Input {
        text: q,
        origin: &origin,
    })
    .err()
    .unwrap_or_else(|| panic!("{q:?} compiled"));
    let s = e[0].span.expect("a span");
    (e[0].code, s.start as usize - AT, s.end as usize - AT)
}

fn sp(a: usize, b: usize) -> Span {
    Span::new(FileId(0), a + AT, b + AT)
}

fn lit(s: &str) -> Value {
    Value::Str(Pattern::literal(s))
}

fn as_match(e: &Expr) -> &Match {
    match &e.kind {
        ExprKind::Match(m) => m,
        k => panic!("not a match: {k:?}"),
    }
}

#[test]
fn field_value_is_exact_case_sensitive_with_spans() {
    let e = filter("process.name : cmd.exe");
    let m = as_match(&e);
    assert_eq!(m.field.name, "process.name");
    assert_eq!(m.field.span, sp(0, 12));
    assert_eq!(m.values, vec![lit("cmd.exe")]);
    assert_eq!(
        (m.case, m.kind, m.array),
        (Case::Sensitive, MatchKind::Whole, ArrayMode::Any)
    );
    assert_eq!(m.span, sp(0, 22));
    assert_eq!(e.span, sp(0, 22));
}

#[test]
fn unquoted_wildcards_are_pattern_parts_quoted_star_is_literal() {
    let m = as_match(&filter(r#"a: *\\temp\*x* "#)).clone();
    assert_eq!(
        m.values,
        vec![Value::Str(Pattern(vec![
            Part::AnyRun,
            Part::Lit(r"\temp*x".into()),
            Part::AnyRun
        ]))]
    );
    assert_eq!(m.span, sp(0, 14));
    let m = as_match(&filter(r#"a: "*x\"y\\""#)).clone();
    assert_eq!(m.values, vec![lit(r#"*x"y\"#)]);
    // A lone backslash inside quotes is kept (Kibana's `[^"]`).
    let m = as_match(&filter(r#"a: "C:\Windows""#)).clone();
    assert_eq!(m.values, vec![lit(r"C:\Windows")]);
    // `?` is no wildcard in kuery.
    let m = as_match(&filter("a: b?c")).clone();
    assert_eq!(m.values, vec![lit("b?c")]);
}

#[test]
fn star_value_is_exists_and_not_keeps_missing_fields() {
    let e = filter("not host.name: *");
    let ExprKind::Not(inner) = &e.kind else {
        panic!("{e:?}")
    };
    assert!(matches!(&inner.kind, ExprKind::Exists(f) if f.name == "host.name"));
    assert_eq!(e.span, sp(0, 16));
    assert_eq!(filter("*:*").kind, ExprKind::Const(true));
}

#[test]
fn value_lists_merge_into_one_match_and_keep_boolean_structure() {
    let e = filter("event.type: (start or \"process_started\")");
    let m = as_match(&e);
    assert_eq!(m.values, vec![lit("start"), lit("process_started")]);
    assert_eq!(m.quantifier, Quantifier::Any);
    assert_eq!(e.span, sp(0, 40));
    let e = filter("a: (x or y and not z)");
    let ExprKind::Or(items) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(as_match(&items[0]).values, vec![lit("x")]);
    let ExprKind::And(and) = &items[1].kind else {
        panic!("{e:?}")
    };
    assert!(matches!(&and[1].kind, ExprKind::Not(_)));
}

#[test]
fn precedence_not_over_and_over_or_keywords_any_case() {
    let e = filter("a:1 OR b:2 And NOT c:3");
    let ExprKind::Or(items) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(items.len(), 2);
    let ExprKind::And(and) = &items[1].kind else {
        panic!("{e:?}")
    };
    assert!(matches!(&and[1].kind, ExprKind::Not(_)));
    let e = filter("(a:1 or b:2) and c:3");
    let ExprKind::And(items) = &e.kind else {
        panic!("{e:?}")
    };
    assert!(matches!(&items[0].kind, ExprKind::Or(_)));
}

#[test]
fn numbers_booleans_cidrs_are_typed() {
    let m = as_match(&filter("event.code: 4624")).clone();
    assert!(matches!(&m.values[0], Value::Num(n) if n.text == "4624" && n.value == 4624.0));
    let m = as_match(&filter("event.code: \"4624\"")).clone();
    assert_eq!(m.values, vec![lit("4624")]);
    let m = as_match(&filter("x: true")).clone();
    assert_eq!(m.values, vec![Value::Bool(true)]);
    let m = as_match(&filter("source.ip: (10.0.0.0/8 or \"FC00::/7\")")).clone();
    assert_eq!(
        m.values,
        vec![
            Value::Cidr("10.0.0.0/8".into()),
            Value::Cidr("FC00::/7".into())
        ]
    );
}

#[test]
fn ranges_are_compares() {
    let e = filter("network.bytes >= 256 and @timestamp < now-1d");
    let ExprKind::And(items) = &e.kind else {
        panic!("{e:?}")
    };
    let ExprKind::Compare(c) = &items[0].kind else {
        panic!("{e:?}")
    };
    assert_eq!(c.op, CmpOp::Ge);
    assert!(matches!(&c.left, Scalar::Field(f) if f.name == "network.bytes"));
    assert!(
        matches!(&c.right, Scalar::Lit(Value::Num(n), s) if n.value == 256.0 && *s == sp(17, 20))
    );
    assert_eq!(c.span, sp(0, 20));
    let ExprKind::Compare(c) = &items[1].kind else {
        panic!("{e:?}")
    };
    assert_eq!(c.op, CmpOp::Lt);
    assert!(matches!(&c.right, Scalar::Lit(v, _) if *v == lit("now-1d")));
}

#[test]
fn free_text_is_a_keyword_search_with_a_caveat() {
    let c = ok("\"function global\" and powershell");
    let ExprKind::And(items) = &c.query.filter.as_ref().unwrap().kind else {
        panic!()
    };
    let ExprKind::Keyword(k) = &items[0].kind else {
        panic!("{items:?}")
    };
    assert_eq!(k.values, vec![lit("function global")]);
    assert_eq!((k.case, k.kind), (Case::Insensitive, MatchKind::Term));
    assert_eq!(items[0].span, sp(0, 17));
    assert_eq!(c.caveats.len(), 1);
    assert_eq!(c.caveats[0].code, "kuery-free-text");
}

#[test]
fn unquoted_values_hold_spaces_and_stop_at_keywords() {
    let e = filter("a: hello world  and b: c");
    let ExprKind::And(items) = &e.kind else {
        panic!("{e:?}")
    };
    let m = as_match(&items[0]);
    assert_eq!(m.values, vec![lit("hello world")]);
    assert_eq!(m.span, sp(0, 14));
    // Escaped keywords and specials stay text.
    let m = as_match(&filter(r"a: x \and y \(z\)")).clone();
    assert_eq!(m.values, vec![lit("x and y (z)")]);
}

#[test]
fn field_name_wildcards_are_typed_name_patterns() {
    let e = filter("file.hash.*: *");
    let ExprKind::Exists(f) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(
        f.name_pattern,
        Some(Pattern(vec![Part::Lit("file.hash.".into()), Part::AnyRun]))
    );
    let m = as_match(&filter("a.*.type: User")).clone();
    assert!(m.field.name_pattern.is_some());
    // A quoted field name is literal.
    let m = as_match(&filter("\"a.*\": x")).clone();
    assert_eq!(
        (m.field.name.as_str(), m.field.name_pattern.is_none()),
        ("a.*", true)
    );
}

#[test]
fn nested_queries_prefix_fields_with_a_caveat() {
    let c = ok("a.b: { c: x and d: (y or z) }");
    let ExprKind::And(items) = &c.query.filter.as_ref().unwrap().kind else {
        panic!()
    };
    assert_eq!(as_match(&items[0]).field.name, "a.b.c");
    assert_eq!(as_match(&items[1]).field.name, "a.b.d");
    assert_eq!(c.caveats[0].code, "kuery-nested");
    assert_eq!(c.caveats[0].span, Some(sp(0, 29)));
}

#[test]
fn errors_have_codes_and_exact_positions() {
    assert_eq!(err("a: (b or c"), (codes::UNCLOSED, 3, 4));
    assert_eq!(err("(a: b and c: d"), (codes::UNCLOSED, 0, 1));
    assert_eq!(err("a: \"abc"), (codes::UNCLOSED, 3, 4));
    assert_eq!(err("x: { y: z "), (codes::UNCLOSED, 3, 4));
    assert_eq!(err("a: (b c: d)"), (codes::UNEXPECTED_TOKEN, 7, 8));
    assert_eq!(err("a:"), (codes::UNEXPECTED_TOKEN, 2, 2));
    assert_eq!(err("a: b and (c: d))"), (codes::TRAILING_INPUT, 15, 16));
    assert_eq!(err("a: b c: d"), (codes::TRAILING_INPUT, 6, 7));
    assert_eq!(err("   "), (codes::EMPTY_QUERY, 0, 3));
    assert_eq!(err(""), (codes::EMPTY_QUERY, 0, 0));
    assert_eq!(err(r"a: b\x"), (codes::BAD_ESCAPE, 4, 6));
    assert_eq!(err("a >= "), (codes::UNEXPECTED_TOKEN, 5, 5));
    // `not` needs a space after it, and `not not` is no query (as in Kibana).
    assert_eq!(err("not not a: b").0, codes::UNEXPECTED_TOKEN);
}

#[test]
fn deep_nesting_is_e0205_not_a_stack_overflow() {
    for q in [
        format!("{}a: b{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("a: {}b{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("{}a: b", "x: { ".repeat(10_000)),
        "(".repeat(10_000),
    ] {
        assert_eq!(err(&q).0, codes::TOO_DEEP);
    }
    // Within the limit it parses.
    let q = format!("{}a: b{}", "(".repeat(150), ")".repeat(150));
    assert!(matches!(filter(&q).kind, ExprKind::Match(_)));
}
