//! Unit tests: IR shapes, spans and diagnostics of the EQL front-end.

use super::compile;
use crate::diag::{codes, Code, Diagnostic};
use crate::ir::*;
use crate::lang::{Compiled, Input};
use crate::span::{FileId, Origin, Span};

/// Queries start at file offset 100, so a span bug cannot hide behind 0.
const BASE: usize = 100;

fn run(text: &str) -> Result<Compiled, Vec<Diagnostic>> {
    let origin = Origin::verbatim(FileId(0), BASE);
    compile(&Input {
        text,
        origin: &origin,
    })
}

fn ok(text: &str) -> Compiled {
    run(text).unwrap_or_else(|e| panic!("{text:?} failed: {e:?}"))
}

fn filter(text: &str) -> Expr {
    ok(text).query.filter.expect("a filter")
}

fn err(text: &str) -> Diagnostic {
    match run(text) {
        Ok(c) => panic!("{text:?} compiled: {:?}", c.query),
        Err(mut d) => d.remove(0),
    }
}

/// The error's code and its text range (offsets into the query).
fn err_at(text: &str) -> (Code, usize, usize) {
    let d = err(text);
    let s = d.span.expect("a span");
    (d.code, s.start as usize - BASE, s.end as usize - BASE)
}

fn span(start: usize, end: usize) -> Span {
    Span::new(FileId(0), BASE + start, BASE + end)
}

fn as_match(e: &Expr) -> &Match {
    match &e.kind {
        ExprKind::Match(m) => m,
        other => panic!("not a match: {other:?}"),
    }
}

fn lit(s: &str) -> Part {
    Part::Lit(s.into())
}

#[test]
fn plain_query_lowers_to_source_and_match_with_spans() {
    let q = "process where process.name == \"cmd.exe\"";
    let c = ok(q);
    assert_eq!(c.query.language, Language::Eql);
    assert_eq!(c.query.source.categories, vec!["process"]);
    assert_eq!(c.query.source.span, span(0, 7));
    assert!(c.query.stages.is_empty());
    let f = c.query.filter.unwrap();
    let m = as_match(&f);
    assert_eq!(m.field.name, "process.name");
    assert_eq!(m.field.scheme, FieldScheme::Ecs);
    assert_eq!(m.field.span, span(14, 26));
    assert_eq!(m.values, vec![Value::Str(Pattern::literal("cmd.exe"))]);
    assert_eq!(m.case, Case::Sensitive);
    assert_eq!(m.kind, MatchKind::Whole);
    assert_eq!(m.array, ArrayMode::Any);
    assert_eq!(m.span, span(14, q.len()));
    assert_eq!(c.query.span, span(0, q.len()));
}

#[test]
fn any_category_is_empty_and_where_true_is_const() {
    let c = ok("any where true");
    assert!(c.query.source.categories.is_empty());
    assert_eq!(c.query.filter.unwrap().kind, ExprKind::Const(true));
    let c = ok("\"my-category\" where true");
    assert_eq!(c.query.source.categories, vec!["my-category"]);
}

#[test]
fn colon_is_insensitive_wildcards_and_backslash_is_literal() {
    let f = filter(r#"file where file.path : ("C:\\Windows\\*.exe", "a?c")"#);
    let m = as_match(&f);
    assert_eq!(m.case, Case::Insensitive);
    assert_eq!(
        m.values,
        vec![
            Value::Str(Pattern(vec![
                lit("C:\\Windows\\"),
                Part::AnyRun,
                lit(".exe")
            ])),
            Value::Str(Pattern(vec![lit("a"), Part::AnyChar, lit("c")])),
        ]
    );
}

#[test]
fn like_regex_and_their_insensitive_forms() {
    let m = filter(r#"any where a like "x*""#);
    assert_eq!(as_match(&m).case, Case::Sensitive);
    assert_eq!(
        as_match(&m).values,
        vec![Value::Str(Pattern(vec![lit("x"), Part::AnyRun]))]
    );
    let m = filter(r#"any where a like~ ("x*", "y")"#);
    assert_eq!(as_match(&m).case, Case::Insensitive);
    assert_eq!(as_match(&m).values.len(), 2);
    for (q, case) in [
        (r#"any where a regex "a.*[0-9]""#, Case::Sensitive),
        (r#"any where a regex~ "a.*""#, Case::Insensitive),
    ] {
        let e = filter(q);
        let m = as_match(&e);
        assert_eq!(m.case, case);
        let Value::Regex(r) = &m.values[0] else {
            panic!("not a regex")
        };
        assert_eq!(r.flavor, RegexFlavor::Lucene);
        assert!(r.anchored);
    }
}

#[test]
fn in_lists_and_negations() {
    let e = filter(r#"any where a in ("x", "Y")"#);
    assert_eq!(as_match(&e).case, Case::Sensitive);
    assert_eq!(as_match(&e).quantifier, Quantifier::Any);
    assert_eq!(as_match(&e).values.len(), 2);
    let e = filter(r#"any where a in~ ("x")"#);
    assert_eq!(as_match(&e).case, Case::Insensitive);
    let e = filter(r#"any where a not in ("x", "y")"#);
    let ExprKind::Not(inner) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(as_match(inner).values.len(), 2);
    let e = filter(r#"any where a != "x""#);
    assert!(matches!(&e.kind, ExprKind::Not(inner) if matches!(inner.kind, ExprKind::Match(_))));
}

#[test]
fn null_comparisons_are_existence_tests() {
    let e = filter("any where ?user.id != null");
    let ExprKind::Exists(f) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(f.name, "user.id");
    assert!(f.optional);
    assert_eq!(f.span, span(10, 18));
    let e = filter("any where user.id == null");
    assert!(matches!(&e.kind, ExprKind::Not(inner) if matches!(inner.kind, ExprKind::Exists(_))));
}

#[test]
fn numbers_booleans_and_ordering() {
    let e = filter("any where a == -1.5");
    let Value::Num(n) = &as_match(&e).values[0] else {
        panic!("{e:?}")
    };
    assert_eq!((n.value, n.text.as_str()), (-1.5, "-1.5"));
    let e = filter("any where a.trusted == false");
    assert_eq!(as_match(&e).values, vec![Value::Bool(false)]);
    let e = filter("any where 5 < a");
    let ExprKind::Compare(c) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(c.op, CmpOp::Gt);
    assert!(matches!(&c.left, Scalar::Field(f) if f.name == "a"));
    let e = filter("any where a + 2 * b > 3");
    let ExprKind::Compare(c) = &e.kind else {
        panic!("{e:?}")
    };
    let Scalar::Arith { op, right, .. } = &c.left else {
        panic!("{c:?}")
    };
    assert_eq!(*op, ArithOp::Add);
    assert!(matches!(
        **right,
        Scalar::Arith {
            op: ArithOp::Mul,
            ..
        }
    ));
}

#[test]
fn field_to_field_is_a_compare_with_a_warning() {
    let c = ok("any where a == b");
    assert!(matches!(c.query.filter.unwrap().kind, ExprKind::Compare(_)));
    assert_eq!(c.warnings[0].code, codes::LOWERING_CAVEAT);
}

#[test]
fn precedence_not_and_or() {
    let e = filter(r#"any where not a == "x" and b == "y" or c == "z""#);
    let ExprKind::Or(items) = &e.kind else {
        panic!("{e:?}")
    };
    let ExprKind::And(ands) = &items[0].kind else {
        panic!("{e:?}")
    };
    assert!(matches!(ands[0].kind, ExprKind::Not(_)));
    assert_eq!(as_match(&items[1]).field.name, "c");
}

#[test]
fn function_predicates_become_typed_matches() {
    let e = filter(r#"any where startsWith~(process.name, "Cmd")"#);
    let m = as_match(&e);
    assert_eq!(m.case, Case::Insensitive);
    assert_eq!(
        m.values,
        vec![Value::Str(Pattern(vec![lit("Cmd"), Part::AnyRun]))]
    );
    let e = filter(r#"any where ENDSWITH(a, "*x")"#);
    let m = as_match(&e);
    assert_eq!(m.case, Case::Sensitive);
    assert_eq!(
        m.values,
        vec![Value::Str(Pattern(vec![Part::AnyRun, lit("*x")]))]
    );
    let e = filter(r#"any where stringContains(a, "x")"#);
    assert_eq!(as_match(&e).values.len(), 1);
    let e = filter(r#"any where cidrmatch(destination.ip, "10.0.0.0/8", "::1/128")"#);
    assert_eq!(
        as_match(&e).values,
        vec![
            Value::Cidr("10.0.0.0/8".into()),
            Value::Cidr("::1/128".into())
        ]
    );
}

#[test]
fn other_functions_stay_calls() {
    let e = filter(r#"any where length(a) > 2 and between~(b, "x", "y") == "z""#);
    let ExprKind::And(items) = &e.kind else {
        panic!("{e:?}")
    };
    let ExprKind::Compare(c) = &items[0].kind else {
        panic!("{e:?}")
    };
    assert!(matches!(&c.left, Scalar::Call { name, .. } if name == "length"));
    let ExprKind::Compare(c) = &items[1].kind else {
        panic!("{e:?}")
    };
    assert!(
        matches!(&c.left, Scalar::Call { name, insensitive: true, args, .. } if name == "between" && args.len() == 3)
    );
    let e = filter(r#"any where stringContains(a, b.c)"#);
    assert!(
        matches!(&e.kind, ExprKind::Scalar(Scalar::Call { name, .. }) if name == "stringcontains")
    );
}

#[test]
fn strings_escapes_and_raw_forms() {
    let e = filter(r#"any where a == "x\"\\\t\u{41}\u{0001F600}""#);
    assert_eq!(
        as_match(&e).values,
        vec![Value::Str(Pattern::literal("x\"\\\tA😀"))]
    );
    let e = filter(r#"any where a == """C:\raw\path "q"""""#);
    assert_eq!(
        as_match(&e).values,
        vec![Value::Str(Pattern::literal("C:\\raw\\path \"q\""))]
    );
    let c = ok(r#"any where a : ?"C:\x""#);
    assert_eq!(
        as_match(c.query.filter.as_ref().unwrap()).values,
        vec![Value::Str(Pattern::literal("C:\\x"))]
    );
    assert_eq!(c.warnings.len(), 1);
}

#[test]
fn quoted_and_optional_fields_and_comments() {
    let e = filter("any where /* c /* nested */ */ `my field`.x == 1 // tail\n");
    assert_eq!(as_match(&e).field.name, "my field.x");
    assert_eq!(as_match(&e).field.span, span(31, 43));
}

#[test]
fn sequence_lowers_to_a_stage() {
    let q = "sequence by host.id with maxspan=5m\n [process where a == \"x\"] by p.id with runs=2\n ![file where true]\n [network where true] by n.id\nuntil [process where true]";
    let c = ok(q);
    assert!(c.query.filter.is_none());
    let StageKind::Sequence(s) = &c.query.stages[0].kind else {
        panic!("{:?}", c.query.stages)
    };
    assert_eq!(s.by[0].name, "host.id");
    assert_eq!(s.maxspan.as_ref().map(|d| d.millis), Some(300_000));
    assert_eq!(s.steps.len(), 3);
    assert_eq!(s.steps[0].categories, vec!["process"]);
    assert_eq!(s.steps[0].runs, 2);
    assert_eq!(s.steps[0].by[0].name, "p.id");
    assert!(s.steps[1].missing);
    assert!(s.until.is_some());
    let start = q.find("[process").unwrap();
    assert_eq!(s.steps[0].span, span(start, q.find("\n ![").unwrap()));
}

#[test]
fn sample_and_pipes() {
    let c = ok("sample by host.id [process where true] [file where true] | head 5");
    assert!(matches!(&c.query.stages[0].kind, StageKind::Sample(s) if s.steps.len() == 2));
    assert_eq!(
        c.query.stages[1].kind,
        StageKind::Limit {
            count: 5,
            from_end: false
        }
    );
    let c = ok("any where true | tail 3 | unique a | filter b == 1");
    assert!(matches!(
        c.query.stages[0].kind,
        StageKind::Limit { from_end: true, .. }
    ));
    assert!(matches!(c.query.stages[1].kind, StageKind::Dedup { .. }));
    assert!(matches!(c.query.stages[2].kind, StageKind::Where(_)));
    assert_eq!(c.warnings.len(), 2);
    assert_eq!(
        err_at("any where true | frobnicate").0,
        codes::UNSUPPORTED_CONSTRUCT
    );
}

#[test]
fn unknown_function_and_arity_errors_point_at_the_call() {
    let q = r#"any where stringContainz(a, "b")"#;
    let d = err(q);
    assert_eq!(d.code, codes::UNKNOWN_FUNCTION);
    assert!(d.message.contains("stringContainz"));
    assert_eq!(d.span, Some(span(10, 24)));
    assert!(d.notes[0].contains("stringContains"));
    assert_eq!(
        err_at(r#"any where length(a, "b")"#),
        (codes::FUNCTION_ARITY, 10, 24)
    );
    assert_eq!(err_at(r#"any where cidrMatch(a)"#).0, codes::FUNCTION_ARITY);
    assert_eq!(err_at(r#"any where length~(a)"#).0, codes::UNKNOWN_FUNCTION);
}

#[test]
fn unclosed_things_point_at_the_opening() {
    assert_eq!(err_at(r#"any where a == "abc"#), (codes::UNCLOSED, 15, 16));
    assert_eq!(
        err_at("any where a == \"ab\nc\""),
        (codes::UNCLOSED, 15, 16)
    );
    assert_eq!(err_at(r#"any where (a == "b""#), (codes::UNCLOSED, 10, 11));
    assert_eq!(err_at(r#"any where a in ("b""#), (codes::UNCLOSED, 15, 16));
    assert_eq!(
        err_at(r#"sequence [any where true"#),
        (codes::UNCLOSED, 9, 10)
    );
    assert_eq!(err_at(r#"any where a == """x"#), (codes::UNCLOSED, 15, 18));
    assert_eq!(err_at("any where `a == 1"), (codes::UNCLOSED, 10, 11));
    assert_eq!(err_at("any where true /* x"), (codes::UNCLOSED, 15, 17));
}

#[test]
fn unexpected_tokens_say_what_was_expected() {
    let d = err(r#"any where (a == "b" "c")"#);
    assert_eq!(d.code, codes::UNEXPECTED_TOKEN);
    assert_eq!(d.message, "expected `)`, found a string");
    assert_eq!(d.span, Some(span(20, 23)));
    let d = err("process a == 1");
    assert_eq!(d.message, "expected `where`, found `a`");
    let d = err("any where a = 1");
    assert_eq!(d.code, codes::UNEXPECTED_TOKEN);
    assert!(d.notes[0].contains("=="));
    let d = err("any where a == 1 AND b == 2");
    assert_eq!(d.code, codes::TRAILING_INPUT);
    assert_eq!(d.span, Some(span(17, 20)));
    let d = err("any where a ==");
    assert_eq!(
        d.message,
        "expected a value, field or condition, found end of query"
    );
    assert_eq!(err_at("any where a == 'x'"), (codes::SYNTAX, 15, 18));
    assert_eq!(
        err_at(r#"any where a == "\q""#),
        (codes::BAD_ESCAPE, 16, 18)
    );
    assert_eq!(err_at("").0, codes::EMPTY_QUERY);
    assert_eq!(
        err_at("any where a[0] == 1").0,
        codes::UNSUPPORTED_CONSTRUCT
    );
    assert_eq!(err_at("any where a == 1 #").0, codes::UNEXPECTED_TOKEN);
}

#[test]
fn sequence_errors() {
    let d = err("sequence [any where true]");
    assert_eq!(d.code, codes::UNEXPECTED_TOKEN);
    let d = err("sequence [any where true] ![any where true]");
    assert_eq!(d.code, codes::SYNTAX);
    assert_eq!(
        err_at("sequence with maxspan=1x [any where true] [any where true]").0,
        codes::BAD_NUMBER
    );
    assert_eq!(
        err_at("sequence [any where true] with runs=0 [any where true]").0,
        codes::BAD_NUMBER
    );
    assert_eq!(
        err_at("sequence with maxspan=1m by a [any where true] [any where true]").0,
        codes::UNEXPECTED_TOKEN
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for (open, close) in [
        ("(", ")"),
        ("not ", ""),
        ("-", ""),
        ("length(", ")"),
        ("a in (", ")"),
        ("not (-length(", "))"),
    ] {
        let q = format!(
            "any where {}a == 1{}",
            open.repeat(10_000),
            close.repeat(10_000)
        );
        assert_eq!(err(&q).code, codes::TOO_DEEP, "{open}");
    }
    let q = format!("any where {}", "length(".repeat(10_000));
    assert_eq!(err(&q).code, codes::TOO_DEEP);
    let q = format!("any where a == 1{}", " + 1".repeat(10_000));
    assert_eq!(err(&q).code, codes::TOO_DEEP);
    // The deepest accepted nesting runs on a test thread's 2 MiB stack.
    let n = crate::lang::MAX_DEPTH / 2 - 1;
    for (open, close) in [("(", ")"), ("length(", ")"), ("a in (", ")")] {
        let q = format!("any where {}a{}", open.repeat(n), close.repeat(n));
        assert!(run(&q).is_ok(), "{open} x {n}");
    }
    let q = format!(
        "any where {}a == 1{}",
        "(not a == 1 or ".repeat(n),
        ")".repeat(n)
    );
    assert!(run(&q).is_ok());
}

#[test]
fn spans_map_through_the_origin() {
    // The query sits in a TOML string where `\"` took two bytes of the file.
    let text = r#"any where a == "x" and b == 1"#;
    let origin = Origin::from_segments(FileId(0), vec![(0, 10), (15, 26), (16, 28)]);
    let c = compile(&Input {
        text,
        origin: &origin,
    })
    .unwrap();
    let ExprKind::And(items) = &c.query.filter.unwrap().kind else {
        panic!()
    };
    assert_eq!(as_match(&items[0]).field.span, Span::new(FileId(0), 20, 21));
    assert_eq!(as_match(&items[1]).field.span, Span::new(FileId(0), 35, 36));
}

/// `not f(a, b)` does not match where a or b is missing: the function runs
/// as a script, is null there, and so is its negation (found by the
/// differential test against the eql package). A function of one field and
/// constants is a query, whose negation matches a missing field.
#[test]
fn negated_function_needs_its_field_arguments() {
    let e = filter(r#"any where not endsWith(user.target.domain, user.target.group.domain)"#);
    let ExprKind::And(items) = &e.kind else {
        panic!("{e:?}")
    };
    assert!(matches!(&items[0].kind, ExprKind::Exists(f) if f.name == "user.target.domain"));
    assert!(matches!(&items[1].kind, ExprKind::Exists(f) if f.name == "user.target.group.domain"));
    assert!(matches!(&items[2].kind, ExprKind::Not(_)));
    // a negated comparison or one-field function keeps must_not semantics
    assert!(matches!(
        filter(r#"any where not process.name == "a""#).kind,
        ExprKind::Not(_)
    ));
    assert!(matches!(
        filter(r#"any where not stringContains(process.name, "a")"#).kind,
        ExprKind::Not(_)
    ));
}
