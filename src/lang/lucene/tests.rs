//! IR shapes, spans and diagnostics of the Lucene front-end.

use super::compile;
use crate::diag::{codes, Code};
use crate::ir::*;
use crate::lang::kuery::tests::{compile_err, compile_ok};
use crate::lang::Compiled;
use crate::span::{FileId, Span};

const AT: usize = 50;

fn ok(q: &str) -> Compiled {
    compile_ok(compile, q, AT)
}

fn filter(q: &str) -> Expr {
    ok(q).query.filter.expect("a filter")
}

fn err(q: &str) -> (Code, usize, usize) {
    compile_err(compile, q, AT)
}

fn sp(a: usize, b: usize) -> Span {
    Span::new(FileId(0), a + AT, b + AT)
}

fn lit(s: &str) -> Value {
    Value::Str(Pattern::literal(s))
}

fn m(e: &Expr) -> &Match {
    match &e.kind {
        ExprKind::Match(m) => m,
        k => panic!("not a match: {k:?}"),
    }
}

fn items(e: &Expr) -> &[Expr] {
    match &e.kind {
        ExprKind::And(i) | ExprKind::Or(i) => i,
        k => panic!("not and/or: {k:?}"),
    }
}

#[test]
fn term_is_keyword_whole_case_sensitive_with_caveat() {
    let c = ok("process.name:chmod");
    let e = c.query.filter.as_ref().unwrap();
    let mm = m(e);
    assert_eq!(mm.field.name, "process.name");
    assert_eq!(mm.values, vec![lit("chmod")]);
    assert_eq!((mm.case, mm.kind), (Case::Sensitive, MatchKind::Whole));
    assert_eq!(mm.span, sp(0, 18));
    assert_eq!(mm.field.span, sp(0, 12));
    assert_eq!(c.caveats[0].code, "lucene-analysis");
}

#[test]
fn wildcards_escapes_phrases_regex() {
    assert_eq!(
        m(&filter(r"f:a\*b*c?")).values,
        vec![Value::Str(Pattern(vec![
            Part::Lit("a*b".into()),
            Part::AnyRun,
            Part::Lit("c".into()),
            Part::AnyChar
        ]))]
    );
    assert_eq!(
        m(&filter(r#"f:"a *b \"c\"""#)).values,
        vec![lit(r#"a *b "c""#)]
    );
    assert_eq!(m(&filter(r"f:C\:\\x\ y")).values, vec![lit(r"C:\x y")]);
    let e = filter("f:/2[0-9]{3}/");
    let v = &m(&e).values[0];
    assert!(matches!(v, Value::Regex(r)
        if r.pattern == "2[0-9]{3}" && r.flavor == RegexFlavor::Lucene && r.anchored));
    // `+` and `-` inside a term are part of it.
    assert_eq!(m(&filter("f:g+s")).values, vec![lit("g+s")]);
}

#[test]
fn default_operator_or_and_lucene_boolean_rules() {
    // Juxtaposed clauses are alternatives (default_operator OR); alternatives
    // on one field are one Match.
    let e = filter("a:1 b:2");
    assert_eq!(items(&e).len(), 2);
    assert!(matches!(e.kind, ExprKind::Or(_)));
    assert_eq!(m(&filter("a:x a:y")).values, vec![lit("x"), lit("y")]);
    // `a OR b AND c` is `b AND c` in Lucene, with a warning on `a`.
    let c = ok("x:a OR x:b AND x:c");
    let e = c.query.filter.as_ref().unwrap();
    assert!(matches!(e.kind, ExprKind::And(_)));
    let vals: Vec<_> = items(e).iter().map(|i| m(i).values[0].clone()).collect();
    assert_eq!(vals, vec![lit("b"), lit("c")]);
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(c.warnings[0].span, Some(sp(0, 3)));
    // `+` / `-` / `!` / `NOT` / `&&` / `||`.
    let e = filter("+a:1 -b:2 c:3");
    assert!(matches!(&items(&e)[1].kind, ExprKind::Not(_)));
    assert_eq!(items(&e).len(), 2);
    let e = filter("a:1 && !b:2 || c:3");
    assert!(matches!(&e.kind, ExprKind::And(_)));
    let e = filter("NOT a:1");
    assert!(matches!(&e.kind, ExprKind::Not(_)));
    let e = filter("a:1 AND NOT b:2");
    assert!(matches!(&items(&e)[1].kind, ExprKind::Not(_)));
}

#[test]
fn field_groups_exists_and_ranges() {
    let e = filter("event.type:(start OR \"process started\")");
    assert_eq!(m(&e).field.name, "event.type");
    assert_eq!(m(&e).values, vec![lit("start"), lit("process started")]);
    let e = filter("event.type:(a AND b)");
    assert_eq!(items(&e).len(), 2);
    assert!(
        matches!(&filter("_exists_:user.name").kind, ExprKind::Exists(f) if f.name == "user.name")
    );
    assert!(matches!(&filter("user.name:*").kind, ExprKind::Exists(_)));
    assert_eq!(filter("*:*").kind, ExprKind::Const(true));
    let e = filter("port:[1024 TO 2048}");
    let ops: Vec<_> = items(&e)
        .iter()
        .map(|i| match &i.kind {
            ExprKind::Compare(c) => c.op,
            k => panic!("{k:?}"),
        })
        .collect();
    assert_eq!(ops, vec![CmpOp::Ge, CmpOp::Lt]);
    assert!(matches!(&filter("d:{2020-01-01 TO *]").kind,
        ExprKind::Compare(c) if c.op == CmpOp::Gt));
    assert!(matches!(&filter("age:>=10").kind,
        ExprKind::Compare(c) if c.op == CmpOp::Ge
            && matches!(&c.right, Scalar::Lit(Value::Num(n), _) if n.value == 10.0)));
    let f = filter(r"process.\*:x");
    assert!(m(&f).field.name_pattern.is_some());
}

#[test]
fn bare_terms_are_keyword_searches_and_lowercase_operators_warn() {
    let c = ok("start or stop");
    let e = c.query.filter.as_ref().unwrap();
    assert_eq!(items(e).len(), 3);
    assert!(matches!(&items(e)[0].kind, ExprKind::Keyword(k) if k.case == Case::Insensitive));
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(c.warnings[0].span, Some(sp(6, 8)));
}

#[test]
fn errors_have_codes_and_positions() {
    assert_eq!(err("a:(b OR c"), (codes::UNCLOSED, 2, 3));
    assert_eq!(err("a:\"bc"), (codes::UNCLOSED, 2, 3));
    assert_eq!(err("a:/bc"), (codes::UNCLOSED, 2, 3));
    assert_eq!(err("a:[1 TO 2"), (codes::UNCLOSED, 2, 3));
    assert_eq!(err("a:[1 2]"), (codes::UNEXPECTED_TOKEN, 5, 6));
    assert_eq!(err("a:b)"), (codes::TRAILING_INPUT, 3, 4));
    assert_eq!(err("AND a:b"), (codes::UNEXPECTED_TOKEN, 0, 3));
    assert_eq!(err("a:b AND"), (codes::UNEXPECTED_TOKEN, 7, 7));
    assert_eq!(err("a:()"), (codes::UNEXPECTED_TOKEN, 3, 4));
    assert_eq!(err(" "), (codes::EMPTY_QUERY, 0, 1));
    assert_eq!(err("a:b~2"), (codes::UNSUPPORTED_CONSTRUCT, 3, 4));
}

#[test]
fn deep_nesting_is_e0205() {
    for q in [
        format!("{}a:b{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("a:{}b", "(".repeat(10_000)),
    ] {
        assert_eq!(err(&q).0, codes::TOO_DEEP);
    }
    let q = format!("{}a:b{}", "(".repeat(150), ")".repeat(150));
    assert!(matches!(filter(&q).kind, ExprKind::Match(_)));
}
