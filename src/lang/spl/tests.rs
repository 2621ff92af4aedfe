//! Unit tests: IR shapes for representative searches (case, patterns,
//! negation, precedence, data-model fields, spans) and macro expansion.

use super::macros::{expand, MacroDef, MacroTable};
use super::*;
use crate::ir::*;
use crate::span::{FileId, Origin};

fn lower(q: &str) -> Compiled {
    let origin = Origin::verbatim(FileId(0), 100);
    match compile(&Input {
        text: q,
        origin: &origin,
    }) {
        Ok(c) => c,
        Err(e) => panic!("{q}: {e:?}"),
    }
}

fn filter(q: &str) -> Expr {
    lower(q).query.filter.expect("a filter")
}

fn err(q: &str) -> Diagnostic {
    let origin = Origin::verbatim(FileId(0), 0);
    compile(&Input {
        text: q,
        origin: &origin,
    })
    .expect_err(q)
    .remove(0)
}

#[test]
fn search_values_are_case_insensitive_patterns() {
    let ExprKind::Match(m) = filter("process_name=*cmd.exe").kind else {
        panic!()
    };
    assert_eq!(m.case, Case::Insensitive);
    assert_eq!(m.field.scheme, FieldScheme::Raw);
    assert_eq!(
        m.values,
        vec![Value::Str(Pattern(vec![
            Part::AnyRun,
            Part::Lit("cmd.exe".into())
        ]))]
    );
    // spans map through the origin (text offset 0 is file offset 100)
    assert_eq!((m.span.start, m.span.end), (100, 121));
    assert_eq!((m.field.span.start, m.field.span.end), (100, 112));
}

#[test]
fn not_equal_needs_the_field_but_not_does_not() {
    let ExprKind::And(items) = filter("a!=x").kind else {
        panic!()
    };
    assert!(matches!(&items[0].kind, ExprKind::Exists(f) if f.name == "a"));
    assert!(matches!(&items[1].kind, ExprKind::Not(m) if matches!(m.kind, ExprKind::Match(_))));
    let ExprKind::Not(inner) = filter("NOT a=x").kind else {
        panic!()
    };
    assert!(matches!(inner.kind, ExprKind::Match(_)));
}

#[test]
fn or_binds_tighter_than_and_in_search() {
    // a=1 b=2 OR c=3  ==  a=1 AND (b=2 OR c=3)
    let ExprKind::And(items) = filter("a=1 b=2 OR c=3").kind else {
        panic!()
    };
    assert_eq!(items.len(), 2);
    assert!(matches!(items[1].kind, ExprKind::Or(_)));
}

#[test]
fn and_binds_tighter_than_or_in_where() {
    let q = lower("x | where a=\"1\" AND b=\"2\" OR c=\"3\"").query;
    let StageKind::Where(e) = &q.stages[0].kind else {
        panic!()
    };
    let ExprKind::Or(items) = &e.kind else {
        panic!("{e:?}")
    };
    assert!(matches!(items[0].kind, ExprKind::And(_)));
    let ExprKind::And(inner) = &items[0].kind else {
        panic!()
    };
    let ExprKind::Match(m) = &inner[0].kind else {
        panic!()
    };
    assert_eq!(m.case, Case::Sensitive);
}

#[test]
fn bare_terms_and_selectors() {
    let q = lower("index=main sourcetype=\"WinEventLog:Security\" earliest=-24h mimikatz").query;
    assert_eq!(q.source.indexes, vec!["main"]);
    assert_eq!(q.source.sourcetypes, vec!["WinEventLog:Security"]);
    assert_eq!(
        q.source.time_range.unwrap().earliest.as_deref(),
        Some("-24h")
    );
    let ExprKind::Keyword(k) = q.filter.unwrap().kind else {
        panic!()
    };
    assert_eq!(k.kind, MatchKind::Term);
    assert_eq!(k.case, Case::Insensitive);
    // a selector under OR of one field becomes a list; under NOT it stays a filter
    let q = lower("(sourcetype=a OR sourcetype=b) NOT index=x").query;
    assert_eq!(q.source.sourcetypes, vec!["a", "b"]);
    assert!(q.source.indexes.is_empty());
}

#[test]
fn in_lists_and_exists() {
    let ExprKind::Match(m) = filter("EventCode IN (4624, \"4625\")").kind else {
        panic!()
    };
    assert_eq!(m.values.len(), 2);
    assert!(matches!(filter("user=*").kind, ExprKind::Exists(_)));
}

#[test]
fn like_and_match_in_where() {
    let q = lower("x | where like(cmd, \"%-enc_\") AND match(proc, \"(?i)powershell\")").query;
    let StageKind::Where(e) = &q.stages[0].kind else {
        panic!()
    };
    let ExprKind::And(items) = &e.kind else {
        panic!()
    };
    let ExprKind::Match(l) = &items[0].kind else {
        panic!()
    };
    assert_eq!(
        l.values,
        vec![Value::Str(Pattern(vec![
            Part::AnyRun,
            Part::Lit("-enc".into()),
            Part::AnyChar
        ]))]
    );
    assert_eq!(l.case, Case::Sensitive);
    let ExprKind::Match(r) = &items[1].kind else {
        panic!()
    };
    assert!(
        matches!(&r.values[0], Value::Regex(x) if x.flavor == RegexFlavor::Pcre && !x.anchored)
    );
}

#[test]
fn tstats_keeps_data_model_identity() {
    let q = lower(
        "| tstats summariesonly=true count min(_time) as firstTime from datamodel=Endpoint.Processes \
         where Processes.process_name=cmd.exe by Processes.dest _time span=1h \
         | rename Processes.* AS * | where dest!=\"x\"",
    )
    .query;
    let dm = q.source.datamodel.as_ref().unwrap();
    assert_eq!(
        (dm.model.as_str(), dm.dataset.as_deref()),
        ("Endpoint", Some("Processes"))
    );
    assert_eq!(dm.options, vec![("summariesonly".into(), "true".into())]);
    let ExprKind::Match(m) = &q.filter.as_ref().unwrap().kind else {
        panic!()
    };
    assert_eq!(m.field.name, "Processes.process_name");
    assert_eq!(m.field.scheme, FieldScheme::Cim);
    let StageKind::Aggregate(a) = &q.stages[0].kind else {
        panic!()
    };
    assert_eq!(a.span.as_ref().unwrap().millis, 3_600_000);
    assert_eq!(a.aggs[1].alias, "firstTime");
    assert_eq!(a.by[0].scheme, FieldScheme::Cim);
}

#[test]
fn eval_stats_and_other_commands() {
    let q = lower(
        "x | eval a=lower(b) . \"-\" . c | stats dc(a) as n values(b) by c \
         | eventstats perc95(n) as p | join type=left c [search y | fields c, d] \
         | rex field=a \"(?<user>\\w+)@\" | frobnicate",
    );
    let kinds: Vec<&str> = q
        .query
        .stages
        .iter()
        .map(|s| match &s.kind {
            StageKind::Eval(_) => "eval",
            StageKind::Aggregate(_) => "agg",
            StageKind::Join(_) => "join",
            StageKind::Extract(_) => "extract",
            StageKind::Opaque(_) => "opaque",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["eval", "agg", "agg", "join", "extract", "opaque"]);
    let StageKind::Extract(x) = &q.query.stages[4].kind else {
        panic!()
    };
    assert_eq!(x.outputs, vec!["user"]);
    assert_eq!(q.warnings.len(), 1);
    assert_eq!(q.warnings[0].code, codes::UNSUPPORTED_COMMAND);
}

#[test]
fn errors_have_codes_and_positions() {
    let d = err("a=1 | stats count by");
    assert_eq!(d.code, codes::SYNTAX);
    let d = err("a=\"x");
    assert_eq!((d.code, d.span.unwrap().start), (codes::UNCLOSED, 2));
    let d = err(&format!("{}a", "(".repeat(10_000)));
    assert_eq!(d.code, codes::TOO_DEEP);
}

#[test]
fn macros_expand_with_arguments_nesting_and_builtins() {
    let mut t = MacroTable::new();
    t.insert(MacroDef {
        name: "outer".into(),
        args: vec!["f".into()],
        definition: "`inner` $f$=1".into(),
    });
    t.insert(MacroDef {
        name: "inner".into(),
        args: vec![],
        definition: "index=main".into(),
    });
    let text =
        "`outer(user)` | `drop_dm_object_name(\"P\")` | `x_filter` | eval q=\"`not_a_macro`\"";
    let origin = Origin::verbatim(FileId(0), 10);
    let e = expand(text, &origin, &t).unwrap();
    assert_eq!(
        e.text,
        "index=main user=1 | rename P.* AS * | search * | eval q=\"`not_a_macro`\""
    );
    // text after the first call maps back to the file verbatim
    let at = e.text.find("| rename").unwrap();
    assert_eq!(e.origin.map(at), 10 + text.find("| `drop").unwrap());
    // expansion bytes stay inside the call
    let s = e.origin.span(0, e.sites[0].expansion.len());
    assert_eq!(
        (s.start as usize, s.end as usize),
        (10, 10 + "`outer(user)`".len())
    );
    assert_eq!(e.sites[0].name, "outer");
    let bad = expand("`outer(a, b)`", &origin, &t).unwrap_err();
    assert_eq!(bad.code, codes::MACRO_ARITY);
    let bad = expand("x | `nope`", &origin, &t).unwrap_err();
    assert_eq!(
        (bad.code, bad.span.unwrap().start),
        (codes::UNKNOWN_MACRO, 14)
    );
}

/// Found by the fuzzer: a value scan read byte 0xA0 (inside `ڠ`) as a
/// no-break space and cut the text inside a character.
#[test]
fn multibyte_values_are_not_cut_inside_a_character() {
    let origin = Origin::verbatim(FileId(0), 0);
    for q in ["TargetUserName=*ڠCert x", "a=\\ڠb c", "a=ڠ"] {
        let _ = compile(&Input {
            text: q,
            origin: &origin,
        });
    }
    let m = filter("TargetUserName=*ڠCert");
    assert!(matches!(m.kind, ExprKind::Match(_)), "{m:?}");
}

#[test]
fn decimal_percentiles_are_aggregates() {
    let q = lower("x | stats perc99.95(n) as hi, p50(n), exactperc2.5(n) by c");
    let StageKind::Aggregate(a) = &q.query.stages[0].kind else {
        panic!("{:?}", q.query.stages)
    };
    let funcs: Vec<&AggFunc> = a.aggs.iter().map(|g| &g.func).collect();
    assert_eq!(
        funcs,
        [
            &AggFunc::Percentile(99.95),
            &AggFunc::Percentile(50.0),
            // exactperc/upperperc keep their name (the matcher and the
            // back-ends tell the methods apart by it).
            &AggFunc::Other("exactperc2.5".into())
        ]
    );
    assert_eq!(a.aggs[0].alias, "hi");
    // Not a percentile: the dot still ends the name.
    assert_eq!(err("x | stats count.5(n)").code, codes::UNEXPECTED_TOKEN);
}
