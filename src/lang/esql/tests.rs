//! Unit tests of the ES|QL front-end: IR shapes, semantics, spans, errors.

use super::compile;
use crate::diag::{codes, Diagnostic, Severity};
use crate::ir::*;
use crate::lang::{Compiled, Input};
use crate::span::{FileId, Origin, Span};

fn ok(q: &str) -> Compiled {
    let origin = Origin::verbatim(FileId(0), 0);
    match compile(&Input {
        text: q,
        origin: &origin,
    }) {
        Ok(c) => c,
        Err(d) => panic!("{q}: {d:#?}"),
    }
}

fn err(q: &str) -> Diagnostic {
    let origin = Origin::verbatim(FileId(0), 0);
    match compile(&Input {
        text: q,
        origin: &origin,
    }) {
        Ok(c) => panic!("{q} compiled: {:#?}", c.query),
        Err(mut d) => d.remove(0),
    }
}

/// The text a diagnostic points at.
fn at<'a>(q: &'a str, d: &Diagnostic) -> &'a str {
    let s = d.span.expect("a span");
    &q[s.start as usize..s.end as usize]
}

fn text(q: &str, s: Span) -> &str {
    &q[s.start as usize..s.end as usize]
}

fn filter(q: &str) -> String {
    show(ok(q).query.filter.as_ref().expect("a filter"))
}

fn value(v: &Value) -> String {
    match v {
        Value::Str(p) => match p.as_literal() {
            Some(l) => format!("{l:?}"),
            None => format!("{:?}", p.to_wildcard_string()),
        },
        Value::Regex(r) => format!(
            "/{}/{:?}{}",
            r.pattern,
            r.flavor,
            if r.anchored { "^$" } else { "" }
        ),
        Value::Num(n) => n.text.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Cidr(c) => c.clone(),
        Value::FieldRef(f) => f.clone(),
    }
}

fn scalar(s: &Scalar) -> String {
    match s {
        Scalar::Field(f) => f.name.clone(),
        Scalar::Lit(v, _) => value(v),
        Scalar::Call { name, args, .. } => {
            format!(
                "{name}({})",
                args.iter().map(scalar).collect::<Vec<_>>().join(", ")
            )
        }
        Scalar::Arith {
            op, left, right, ..
        } => format!("({} {op:?} {})", scalar(left), scalar(right)),
        Scalar::Neg(x, _) => format!("-{}", scalar(x)),
        Scalar::Cond(e) => format!("{{{}}}", show(e)),
        Scalar::List(items, _) => format!(
            "[{}]",
            items.iter().map(scalar).collect::<Vec<_>>().join(", ")
        ),
        Scalar::Duration(d, _) => format!("{}ms", d.millis),
    }
}

/// A compact rendering of a condition.
fn show(e: &Expr) -> String {
    let list = |items: &[Expr]| items.iter().map(show).collect::<Vec<_>>().join(", ");
    match &e.kind {
        ExprKind::And(items) => format!("and({})", list(items)),
        ExprKind::Or(items) => format!("or({})", list(items)),
        ExprKind::Not(x) => format!("not({})", show(x)),
        ExprKind::Match(m) => {
            let vals = m.values.iter().map(value).collect::<Vec<_>>().join("|");
            let op = match (m.case, m.kind) {
                (_, MatchKind::Term) => ":",
                (Case::Sensitive, _) => "==",
                (Case::Insensitive, _) => "=~",
            };
            let arr = if m.array == ArrayMode::Any {
                " any"
            } else {
                ""
            };
            format!("{} {op} {vals}{arr}", m.field.name)
        }
        ExprKind::Compare(c) => {
            let ci = if c.case == Case::Insensitive { "~" } else { "" };
            format!(
                "cmp({} {}{ci} {})",
                scalar(&c.left),
                c.op.symbol(),
                scalar(&c.right)
            )
        }
        ExprKind::Exists(f) => format!("exists({})", f.name),
        ExprKind::Scalar(s) => scalar(s),
        ExprKind::Keyword(_) => "keyword".into(),
        ExprKind::Subsearch(_) => "subsearch".into(),
        ExprKind::Const(b) => b.to_string(),
    }
}

fn stages(q: &str) -> Vec<StageKind> {
    ok(q).query.stages.into_iter().map(|s| s.kind).collect()
}

// ---- source and query shape

#[test]
fn from_gives_indexes_and_no_filter() {
    let q = "FROM logs-endpoint.events.*, \"odd=name\", remote:logs-* METADATA _id, _version";
    let c = ok(q);
    assert_eq!(c.query.language, Language::Esql);
    assert_eq!(
        c.query.source.indexes,
        vec!["logs-endpoint.events.*", "odd=name", "remote:logs-*"]
    );
    assert!(c.query.filter.is_none());
    assert!(c.query.stages.is_empty());
    assert_eq!(text(q, c.query.source.span), q);
    assert!(c.warnings.is_empty());
}

#[test]
fn leading_wheres_are_the_filter_later_ones_stages() {
    let q = "from a | where x == \"1\" | WHERE y > 2 | eval z = 1 | where z == 1";
    let c = ok(q);
    assert_eq!(
        show(c.query.filter.as_ref().unwrap()),
        r#"and(x == "1", cmp(y > 2))"#
    );
    assert_eq!(c.query.stages.len(), 2);
    assert!(matches!(c.query.stages[1].kind, StageKind::Where(_)));
    assert_eq!(text(q, c.query.stages[1].span), "where z == 1");
}

#[test]
fn keywords_are_case_insensitive_and_comments_skipped() {
    let q =
        "FrOm a /* block\n comment */ | WhErE b == \"x\" AnD NOT c IS NULL // trailing\n| LiMiT 5";
    let c = ok(q);
    assert_eq!(
        show(c.query.filter.as_ref().unwrap()),
        r#"and(b == "x", exists(c))"#
    );
    assert_eq!(
        c.query.stages[0].kind,
        StageKind::Limit {
            count: 5,
            from_end: false
        }
    );
}

// ---- conditions

#[test]
fn string_equality_is_a_case_sensitive_scalar_match() {
    let q = "from a | where process.name == \"cmd.exe\"";
    let f = ok(q).query.filter.unwrap();
    let ExprKind::Match(m) = &f.kind else {
        panic!("{f:?}")
    };
    assert_eq!(m.case, Case::Sensitive);
    assert_eq!(m.kind, MatchKind::Whole);
    assert_eq!(m.array, ArrayMode::ScalarOnly);
    assert_eq!(m.values, vec![Value::Str(Pattern::literal("cmd.exe"))]);
    assert_eq!(text(q, m.field.span), "process.name");
    assert_eq!(text(q, m.span), "process.name == \"cmd.exe\"");
    // literal on the left
    assert_eq!(filter("from a | where \"x\" == f"), r#"f == "x""#);
}

#[test]
fn negations_require_a_value_three_valued_logic() {
    assert_eq!(
        filter("from a | where f != \"x\""),
        r#"and(exists(f), not(f == "x"))"#
    );
    assert_eq!(
        filter("from a | where not f == \"x\""),
        r#"and(exists(f), not(f == "x"))"#
    );
    assert_eq!(
        filter("from a | where not (f == \"x\" or g > 1)"),
        r#"and(exists(f), not(f == "x"), cmp(g <= 1))"#
    );
    assert_eq!(
        filter("from a | where not (f == \"x\" and g > 1)"),
        r#"or(and(exists(f), not(f == "x")), cmp(g <= 1))"#
    );
    assert_eq!(filter("from a | where not not f == \"x\""), r#"f == "x""#);
    // a boolean column is false, not missing
    assert_eq!(filter("from a | where not flag"), "cmp(flag == false)");
}

#[test]
fn in_lists_like_and_rlike() {
    assert_eq!(
        filter("from a | where f in (\"a\", \"b\")"),
        r#"f == "a"|"b""#
    );
    assert_eq!(
        filter("from a | where f not in (\"a\", \"b\")"),
        r#"and(exists(f), not(f == "a"|"b"))"#
    );
    assert_eq!(
        filter("from a | where n in (1, 2)"),
        "or(cmp(n == 1), cmp(n == 2))"
    );
    assert_eq!(
        filter(r#"from a | where f like "*\\\\*x?""#),
        r#"f == "*\\\\*x?""#
    );
    let f = ok(r#"from a | where f like """a\*b*""""#)
        .query
        .filter
        .unwrap();
    let ExprKind::Match(m) = &f.kind else {
        panic!()
    };
    assert_eq!(
        m.values,
        vec![Value::Str(Pattern(vec![
            Part::Lit("a*b".into()),
            Part::AnyRun
        ]))]
    );
    assert_eq!(
        filter("from a | where f like (\"a*\", \"b?\")"),
        r#"f == "a*"|"b?""#
    );
    assert_eq!(
        filter(r#"from a | where f rlike """.*\d+""""#),
        r#"f == /.*\d+/Lucene^$"#
    );
    assert_eq!(
        filter("from a | where f not like \"a*\""),
        r#"and(exists(f), not(f == "a*"))"#
    );
}

#[test]
fn to_lower_of_a_field_is_an_insensitive_match() {
    assert_eq!(
        filter("from a | where to_lower(f) == \"abc\""),
        r#"f =~ "abc""#
    );
    assert_eq!(
        filter("from a | where TO_UPPER(f) like \"AB*\""),
        r#"f =~ "AB*""#
    );
    assert_eq!(
        filter("from a | where to_lower(f) in (\"a\", \"b\")"),
        r#"f =~ "a"|"b""#
    );
    // an upper-case literal never equals a lower-cased value: kept as written
    assert_eq!(
        filter("from a | where to_lower(f) == \"ABC\""),
        r#"cmp(to_lower(f) == "ABC")"#
    );
    assert_eq!(
        filter("from a | where substring(f, 1, 2) like \"a*\""),
        r#"like(substring(f, 1, 2), "a*")"#
    );
}

#[test]
fn comparisons_nulls_and_full_text() {
    assert_eq!(
        filter("from a | where n >= 5 and m < -1.5"),
        "and(cmp(n >= 5), cmp(m < -1.5))"
    );
    assert_eq!(filter("from a | where not n > 5"), "cmp(n <= 5)");
    assert_eq!(filter("from a | where f is null"), "not(exists(f))");
    assert_eq!(filter("from a | where f IS NOT NULL"), "exists(f)");
    assert_eq!(filter("from a | where not f is not null"), "not(exists(f))");
    assert_eq!(filter("from a | where f =~ \"AbC\""), r#"f =~ "AbC""#);
    assert_eq!(filter("from a | where a == b"), "cmp(a == b)");
    let c = ok("from a | where message : \"error\"");
    assert_eq!(
        show(c.query.filter.as_ref().unwrap()),
        r#"message : "error" any"#
    );
    assert_eq!(c.caveats.len(), 1);
    assert_eq!(
        filter("from a | where match(message, \"x\")"),
        r#"message : "x" any"#
    );
    assert_eq!(
        filter("from a | where match(f, \"x\", {\"fuzziness\": 1})"),
        r#"match(f, "x", map("fuzziness", 1))"#
    );
}

// ---- values

#[test]
fn literals_strings_spans_and_casts() {
    let st = stages(
        "from a | eval a = \"t\\\"ab\\\\\", b = \"\"\"c:\\x\"\"\"\"\", c = now() - 7 days, d = x::integer, e = 1 hour + 5m, f = -(2 * 3) % 4",
    );
    let StageKind::Eval(assigns) = &st[0] else {
        panic!()
    };
    let got: Vec<String> = assigns
        .iter()
        .map(|a| format!("{}={}", a.name, scalar(&a.value)))
        .collect();
    assert_eq!(
        got,
        vec![
            r#"a="t\"ab\\""#,
            r#"b="c:\\x\"\"""#,
            "c=(now() Sub 604800000ms)",
            "d=to_integer(x)",
            "e=(3600000ms Add 300000ms)",
            "f=(-(2 Mul 3) Mod 4)",
        ]
    );
}

#[test]
fn eval_names_computed_columns() {
    let q = "from a | eval x = to_lower(f), y = x, concat(a, b) | where y == \"1\"";
    let st = stages(q);
    let StageKind::Eval(assigns) = &st[0] else {
        panic!()
    };
    assert_eq!(assigns[2].name, "concat(a, b)");
    let Scalar::Field(y) = &assigns[1].value else {
        panic!()
    };
    assert_eq!(y.scheme, FieldScheme::Computed);
    let StageKind::Where(w) = &st[1] else {
        panic!()
    };
    let ExprKind::Match(m) = &w.kind else {
        panic!()
    };
    assert_eq!(m.field.scheme, FieldScheme::Computed);
    // a condition as a value
    let st = stages("from a | eval b = f in (\"x\") or g is null");
    let StageKind::Eval(assigns) = &st[0] else {
        panic!()
    };
    assert_eq!(
        scalar(&assigns[0].value),
        r#"{or(f == "x", not(exists(g)))}"#
    );
}

// ---- stats

#[test]
fn stats_aggregates_groups_and_filters() {
    let q = "from a | stats count(*), n = COUNT_DISTINCT(host.id), p = percentile(x, 95), v = values(u) where u != \"root\" by host.name, w = date_trunc(1 hour, @timestamp)";
    let st = stages(q);
    assert_eq!(st.len(), 2);
    let StageKind::Eval(pre) = &st[0] else {
        panic!("{st:?}")
    };
    assert_eq!(pre[0].name, "w");
    let StageKind::Aggregate(a) = &st[1] else {
        panic!()
    };
    assert_eq!(a.mode, AggMode::Collapse);
    let funcs: Vec<(AggFunc, String)> = a
        .aggs
        .iter()
        .map(|g| (g.func.clone(), g.alias.clone()))
        .collect();
    assert_eq!(
        funcs,
        vec![
            (AggFunc::Count, "count(*)".into()),
            (AggFunc::DistinctCount, "n".into()),
            (AggFunc::Percentile(95.0), "p".into()),
            (AggFunc::Values, "v".into()),
        ]
    );
    assert!(a.aggs[0].arg.is_none());
    assert_eq!(
        scalar(a.aggs[3].arg.as_ref().unwrap()),
        r#"case({and(exists(u), not(u == "root"))}, u, null)"#
    );
    let by: Vec<(&str, FieldScheme)> = a.by.iter().map(|f| (f.name.as_str(), f.scheme)).collect();
    assert_eq!(
        by,
        vec![
            ("host.name", FieldScheme::Ecs),
            ("w", FieldScheme::Computed)
        ]
    );
}

#[test]
fn stats_expressions_over_aggregates_and_inline_stats() {
    let st = stages("from a | stats r = count(*) / max(x) by h");
    let kinds: Vec<&str> = st
        .iter()
        .map(|s| match s {
            StageKind::Aggregate(_) => "aggregate",
            StageKind::Eval(_) => "eval",
            StageKind::Project { drop: true, .. } => "drop",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, vec!["aggregate", "eval", "drop"]);
    let StageKind::Eval(post) = &st[1] else {
        panic!()
    };
    assert_eq!(scalar(&post[0].value), "($agg0 Div $agg1)");
    let st = stages("from a | INLINE STATS c = count(*) WHERE x IS NOT NULL");
    let StageKind::Aggregate(a) = &st[0] else {
        panic!()
    };
    assert_eq!(a.mode, AggMode::Annotate);
    assert_eq!(
        scalar(a.aggs[0].arg.as_ref().unwrap()),
        "case({exists(x)}, 1, null)"
    );
}

// ---- other commands

#[test]
fn projection_rename_sort_limit_expand() {
    let st = stages(
        "from a | keep a.*, `b c`, d | drop e* | rename a AS b, c = d | sort x desc, y nulls first | limit 10 | mv_expand m",
    );
    assert_eq!(
        st[0],
        StageKind::Project {
            fields: vec!["a.*".into(), "b c".into(), "d".into()],
            drop: false
        }
    );
    assert_eq!(
        st[1],
        StageKind::Project {
            fields: vec!["e*".into()],
            drop: true
        }
    );
    assert_eq!(
        st[2],
        StageKind::Rename(vec![("a".into(), "b".into()), ("d".into(), "c".into())])
    );
    let StageKind::Sort(keys) = &st[3] else {
        panic!()
    };
    assert_eq!((keys[0].descending, keys[1].descending), (true, false));
    assert_eq!(
        st[4],
        StageKind::Limit {
            count: 10,
            from_end: false
        }
    );
    assert!(matches!(&st[5], StageKind::MvExpand { field } if field.name == "m"));
}

#[test]
fn dissect_and_grok_name_their_outputs() {
    let q = r#"from a | dissect msg "%{a} %{?x} %{+a} %{b}" append_separator = "," | grok b """%{IP:ip} %{WORD:w:keyword}""" | where ip == "1""#;
    let st = stages(q);
    let StageKind::Extract(d) = &st[0] else {
        panic!()
    };
    assert_eq!(
        (d.method.as_str(), d.outputs.clone()),
        ("dissect", vec!["a".to_string(), "b".into()])
    );
    assert_eq!(d.field.as_ref().unwrap().name, "msg");
    let StageKind::Extract(g) = &st[1] else {
        panic!()
    };
    assert_eq!(g.outputs, vec!["ip", "w"]);
    assert_eq!(g.field.as_ref().unwrap().scheme, FieldScheme::Computed);
    assert_eq!(g.pattern, "%{IP:ip} %{WORD:w:keyword}");
}

#[test]
fn enrich_and_lookup_join_are_lookups() {
    let st = stages(
        "from a | enrich hosts on host.name with os = host.os, v | lookup join threat on ip",
    );
    let StageKind::Lookup(l) = &st[0] else {
        panic!()
    };
    assert_eq!(l.table, "hosts");
    assert_eq!(
        l.outputs,
        vec![("host.os".into(), "os".into()), ("v".into(), "v".into())]
    );
    let StageKind::Lookup(j) = &st[1] else {
        panic!()
    };
    assert_eq!(j.match_fields, vec![("ip".into(), "ip".into())]);
}

#[test]
fn undocumented_meaning_is_an_opaque_stage_with_a_warning() {
    let q = "from a | change_point v on t as type, p | fork (where a == 1 | limit 2) (where b == 2) | limit 1";
    let c = ok(q);
    let names: Vec<&str> = c
        .query
        .stages
        .iter()
        .filter_map(|s| match &s.kind {
            StageKind::Opaque(o) => Some(o.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, vec!["change_point", "fork"]);
    assert_eq!(c.warnings.len(), 2);
    assert_eq!(c.warnings[0].code, codes::UNSUPPORTED_COMMAND);
    assert_eq!(c.warnings[0].severity, Severity::Warning);
    assert_eq!(at(q, &c.warnings[1]), "fork");
    let StageKind::Opaque(o) = &c.query.stages[1].kind else {
        panic!()
    };
    assert_eq!(o.text, "fork (where a == 1 | limit 2) (where b == 2)");
    assert_eq!(c.query.stages.len(), 3);
}

#[test]
fn spans_map_through_the_origin() {
    let q = "from a | where f == \"x\"";
    let origin = Origin::verbatim(FileId(3), 100);
    let c = compile(&Input {
        text: q,
        origin: &origin,
    })
    .unwrap();
    let f = c.query.filter.unwrap();
    assert_eq!(f.span, Span::new(FileId(3), 115, 123));
    assert_eq!(c.query.span, Span::new(FileId(3), 100, 123));
}

// ---- errors

#[test]
fn unknown_command_points_at_its_name() {
    let q = "from a | wher x == 1";
    let d = err(q);
    assert_eq!(d.code, codes::UNEXPECTED_TOKEN);
    assert_eq!(at(q, &d), "wher");
    assert!(d.notes[0].contains("`WHERE`"), "{:?}", d.notes);
    let d = err("where x == 1");
    assert_eq!(d.code, codes::UNEXPECTED_TOKEN);
    assert!(d.message.contains("source command"));
}

#[test]
fn unclosed_strings_and_parentheses() {
    let q = "from a | where f == \"abc | limit 1";
    let d = err(q);
    assert_eq!((d.code, d.span.unwrap().start), (codes::UNCLOSED, 20));
    let q = "from a | where (f == 1 and (g == 2)";
    let d = err(q);
    assert_eq!((d.code, d.span.unwrap().start), (codes::UNCLOSED, 15));
    let q = "from a | where f in (1, 2";
    assert_eq!(err(q).code, codes::UNCLOSED);
    let q = "from a | where f == 1)";
    let d = err(q);
    assert_eq!((d.code, at(q, &d)), (codes::UNEXPECTED_TOKEN, ")"));
    let q = "from a /* never closed";
    assert_eq!(err(q).code, codes::UNCLOSED);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let q = format!(
        "from a | where {}x{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert_eq!(err(&q).code, codes::TOO_DEEP);
    let q = format!("from a | where {}x == 1", "not ".repeat(10_000));
    assert_eq!(err(&q).code, codes::TOO_DEEP);
    let q = format!("from a | eval x = {}1", "-".repeat(10_000));
    assert_eq!(err(&q).code, codes::TOO_DEEP);
    let q = format!("from a | eval x = {}1{}", "f(".repeat(150), ")".repeat(150));
    ok(&q);
}

#[test]
fn empty_queries() {
    assert_eq!(err("").code, codes::EMPTY_QUERY);
    assert_eq!(err("  // only a comment\n ").code, codes::EMPTY_QUERY);
}

#[test]
fn syntax_errors_are_precise() {
    let q = "from a | where f = \"x\"";
    let d = err(q);
    assert_eq!((d.code, at(q, &d)), (codes::UNEXPECTED_TOKEN, "="));
    let q = "from a | where f == \"a\\qb\"";
    let d = err(q);
    assert_eq!((d.code, at(q, &d)), (codes::BAD_ESCAPE, "\\q"));
    let q = "from a | where f == 1 g";
    let d = err(q);
    assert_eq!((d.code, at(q, &d)), (codes::UNEXPECTED_TOKEN, "g"));
    let q = "from a | where f is nul";
    let d = err(q);
    assert_eq!((d.code, at(q, &d)), (codes::UNEXPECTED_TOKEN, "nul"));
    let q = "from a | limit x";
    assert_eq!(at(q, &err(q)), "x");
    let q = "from a | where";
    let d = err(q);
    assert_eq!(d.code, codes::UNEXPECTED_TOKEN);
    assert!(d.message.contains("end of query"), "{}", d.message);
    let q = "from a | stats";
    assert_eq!(err(q).code, codes::UNEXPECTED_TOKEN);
}

#[test]
fn long_chains_do_not_overflow() {
    let q = format!("from a | where {}b == 2", "a == 1 or ".repeat(20_000));
    let c = ok(&q);
    let ExprKind::Or(items) = &c.query.filter.unwrap().kind else {
        panic!()
    };
    assert_eq!(items.len(), 20_001);
    let q = format!("from a | where {}b == 2", "not a == 1 and ".repeat(20_000));
    ok(&q);
    let q = format!("from a | eval x = {}1", "1 + ".repeat(20_000));
    assert_eq!(err(&q).code, codes::TOO_DEEP);
    let q = format!("from a | eval x = 1{}", "::long".repeat(20_000));
    assert_eq!(err(&q).code, codes::TOO_DEEP);
    let q = format!("from a{}", " | limit 1".repeat(20_000));
    assert_eq!(ok(&q).query.stages.len(), 20_000);
}
