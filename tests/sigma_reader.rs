//! The Sigma reader: modifiers, escapes, conditions, keywords, correlations,
//! filters and positioned errors, through the file loader.

use siemc::diag::{codes, Code, Diagnostic};
use siemc::ir::*;
use siemc::source::{sigma, Loaded};
use siemc::span::SourceMap;

fn load(text: &str) -> (SourceMap, Vec<Loaded>) {
    let mut sm = SourceMap::new();
    let id = sm.add("t.yml", text);
    let l = sigma::load(&sm, id);
    (sm, l)
}

/// A rule of one search `sel` (given as YAML lines indented by 8) and `condition: sel`.
fn rule_with(sel: &str) -> String {
    format!("title: t\nlogsource:\n    product: windows\ndetection:\n    sel:\n{sel}\n    condition: sel\n")
}

fn filter_of(text: &str) -> Expr {
    let (sm, l) = load(text);
    assert_eq!(l.len(), 1);
    assert!(!l[0].has_errors(), "{}", render(&sm, &l[0].diags));
    l[0].rule.clone().unwrap().query.unwrap().filter.unwrap()
}

fn render(sm: &SourceMap, ds: &[Diagnostic]) -> String {
    ds.iter().map(|d| siemc::diag::render_text(d, sm)).collect()
}

fn sel(lines: &str) -> Expr {
    filter_of(&rule_with(lines))
}

fn the_match(e: &Expr) -> &Match {
    match &e.kind {
        ExprKind::Match(m) => m,
        k => panic!("expected a match, found {k:?}"),
    }
}

fn strs(m: &Match) -> Vec<String> {
    m.values
        .iter()
        .map(|v| match v {
            Value::Str(p) => p.to_wildcard_string(),
            v => format!("{v:?}"),
        })
        .collect()
}

/// The first error's code and 1-based line:column.
fn error_at(text: &str) -> (Code, usize, usize) {
    let (sm, l) = load(text);
    let d = l
        .iter()
        .flat_map(|l| l.diags.iter())
        .find(|d| d.is_error())
        .expect("an error");
    let p = sm.resolve(d.span.expect("a span"));
    (d.code, p.line, p.column)
}

#[test]
fn plain_value_is_whole_case_insensitive_any_element() {
    let e = sel("        Image: 'C:\\Windows\\cmd.exe'");
    let m = the_match(&e);
    assert_eq!(m.field.name, "Image");
    assert_eq!(m.field.scheme, FieldScheme::Sigma);
    assert_eq!(
        (m.case, m.kind, m.array, m.quantifier),
        (
            Case::Insensitive,
            MatchKind::Whole,
            ArrayMode::Any,
            Quantifier::Any
        )
    );
    assert_eq!(
        m.values,
        vec![Value::Str(Pattern::literal("C:\\Windows\\cmd.exe"))]
    );
}

#[test]
fn escapes_and_wildcards() {
    let m = sel("        F: 'a\\*b*c?d\\?e\\\\*'");
    assert_eq!(
        the_match(&m).values,
        vec![Value::Str(Pattern(vec![
            Part::Lit("a*b".into()),
            Part::AnyRun,
            Part::Lit("c".into()),
            Part::AnyChar,
            Part::Lit("d?e\\".into()),
            Part::AnyRun
        ]))]
    );
}

#[test]
fn contains_startswith_endswith() {
    let e = sel("        A|contains: x\n        B|startswith: y\n        C|endswith: z");
    let ExprKind::And(items) = &e.kind else {
        panic!()
    };
    assert_eq!(strs(the_match(&items[0])), vec!["*x*"]);
    assert_eq!(strs(the_match(&items[1])), vec!["y*"]);
    assert_eq!(strs(the_match(&items[2])), vec!["*z"]);
}

#[test]
fn value_list_is_or_and_all_is_and() {
    let m = sel("        A|contains:\n            - x\n            - y");
    assert_eq!(the_match(&m).quantifier, Quantifier::Any);
    let m = sel("        A|contains|all:\n            - x\n            - y");
    assert_eq!(the_match(&m).quantifier, Quantifier::All);
    assert_eq!(strs(the_match(&m)), vec!["*x*", "*y*"]);
}

#[test]
fn cased_neq_exists() {
    assert_eq!(the_match(&sel("        A|cased: X")).case, Case::Sensitive);
    let e = sel("        A|neq: x");
    let ExprKind::Not(inner) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(strs(the_match(inner)), vec!["x"]);
    assert!(matches!(sel("        A|exists: true").kind, ExprKind::Exists(ref f) if f.name == "A"));
    let e = sel("        A|exists: false");
    assert!(matches!(&e.kind, ExprKind::Not(i) if matches!(i.kind, ExprKind::Exists(_))));
}

#[test]
fn null_and_empty() {
    let e = sel("        A: null");
    assert!(matches!(&e.kind, ExprKind::Not(i) if matches!(i.kind, ExprKind::Exists(_))));
    let e = sel("        A: ''");
    assert_eq!(the_match(&e).values, vec![Value::Str(Pattern(vec![]))]);
    let e = sel("        A:\n            - x\n            - null");
    let ExprKind::Or(items) = &e.kind else {
        panic!()
    };
    assert_eq!(strs(the_match(&items[0])), vec!["x"]);
    assert!(matches!(items[1].kind, ExprKind::Not(_)));
}

#[test]
fn numbers_and_booleans_keep_their_type() {
    let m = sel("        EventID: 4688\n        Quoted: '4688'\n        Flag: true");
    let ExprKind::And(items) = &m.kind else {
        panic!()
    };
    assert!(matches!(&the_match(&items[0]).values[0], Value::Num(n) if n.value == 4688.0));
    assert_eq!(strs(the_match(&items[1])), vec!["4688"]);
    assert_eq!(the_match(&items[2]).values, vec![Value::Bool(true)]);
}

#[test]
fn windash_expands_dashes() {
    let m = sel("        CommandLine|windash|contains: ' -enc '");
    assert_eq!(
        strs(the_match(&m)),
        vec![
            "* -enc *",
            "* /enc *",
            "* \u{2013}enc *",
            "* \u{2014}enc *",
            "* \u{2015}enc *"
        ]
    );
}

#[test]
fn regex_with_flags() {
    let m = sel("        A|re: '^a.b$'");
    let mm = the_match(&m);
    assert_eq!(mm.case, Case::Sensitive);
    let Value::Regex(r) = &mm.values[0] else {
        panic!()
    };
    assert_eq!(
        (r.pattern.as_str(), r.flavor, r.anchored),
        ("^a.b$", RegexFlavor::Pcre, false)
    );
    assert!(!r.multiline && !r.dot_all);
    let m = sel("        A|re|i|m|s: 'x\\d'");
    let mm = the_match(&m);
    assert_eq!(mm.case, Case::Insensitive);
    let Value::Regex(r) = &mm.values[0] else {
        panic!()
    };
    assert_eq!(r.pattern, "x\\d"); // as written: no Sigma escape processing
    assert!(r.multiline && r.dot_all);
}

#[test]
fn base64_and_offsets() {
    assert_eq!(
        strs(the_match(&sel("        A|base64: 'foobar'"))),
        vec!["Zm9vYmFy"]
    );
    assert_eq!(
        strs(the_match(&sel(
            "        A|base64offset|contains: '/bin/sh'"
        ))),
        vec!["*L2Jpbi9za*", "*9iaW4vc2*", "*vYmluL3No*"]
    );
}

#[test]
fn utf16_family_then_base64() {
    let enc = |m: &str| strs(the_match(&sel(&format!("        A|{m}|base64: 'cmd'"))));
    assert_eq!(enc("wide"), vec!["YwBtAGQA"]);
    assert_eq!(enc("utf16le"), vec!["YwBtAGQA"]);
    assert_eq!(enc("utf16be"), vec!["AGMAbQBk"]);
    assert_eq!(enc("utf16"), vec!["//5jAG0AZAA="]);
}

#[test]
fn cidr_fieldref_expand() {
    assert_eq!(
        the_match(&sel("        Ip|cidr: 10.0.0.0/8")).values,
        vec![Value::Cidr("10.0.0.0/8".into())]
    );
    assert_eq!(
        the_match(&sel("        A|fieldref: B")).values,
        vec![Value::FieldRef("B".into())]
    );
    let e = sel("        A|fieldref|startswith: B");
    assert!(matches!(&e.kind, ExprKind::Scalar(Scalar::Call { name, .. }) if name == "startswith"));
    assert_eq!(
        the_match(&sel("        User|expand: '%Admins%_*'")).values,
        vec![Value::Str(Pattern(vec![
            Part::Placeholder("Admins".into()),
            Part::Lit("_".into()),
            Part::AnyRun
        ]))]
    );
    // Without `expand`, percent signs are literal.
    assert_eq!(
        strs(the_match(&sel("        User: '%Admins%'"))),
        vec!["%Admins%"]
    );
}

#[test]
fn comparisons_and_time_parts() {
    for (m, op) in [
        ("lt", CmpOp::Lt),
        ("lte", CmpOp::Le),
        ("gt", CmpOp::Gt),
        ("gte", CmpOp::Ge),
    ] {
        let e = sel(&format!("        N|{m}: 5"));
        let ExprKind::Compare(c) = &e.kind else {
            panic!("{e:?}")
        };
        assert_eq!(c.op, op);
        assert!(matches!(&c.left, Scalar::Field(f) if f.name == "N"));
        assert!(matches!(&c.right, Scalar::Lit(Value::Num(n), _) if n.value == 5.0));
    }
    for unit in ["minute", "hour", "day", "week", "month", "year"] {
        let e = sel(&format!("        T|{unit}: 3"));
        let ExprKind::Compare(c) = &e.kind else {
            panic!("{e:?}")
        };
        assert_eq!(c.op, CmpOp::Eq);
        assert!(
            matches!(&c.left, Scalar::Call { name, args, .. } if name == unit && matches!(&args[0], Scalar::Field(f) if f.name == "T"))
        );
    }
}

#[test]
fn keywords_and_all_keywords() {
    let e = sel("        - 'evil'\n        - 'bad*'");
    let ExprKind::Keyword(k) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!((k.quantifier, k.case), (Quantifier::Any, Case::Insensitive));
    assert_eq!(k.values.len(), 2);
    let e = sel("        '|all':\n            - a\n            - b");
    let ExprKind::Keyword(k) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(k.quantifier, Quantifier::All);
}

#[test]
fn list_of_maps_is_or() {
    let e = sel("        - A: x\n          B: y\n        - C: z");
    let ExprKind::Or(items) = &e.kind else {
        panic!("{e:?}")
    };
    assert!(matches!(items[0].kind, ExprKind::And(_)));
    assert!(matches!(items[1].kind, ExprKind::Match(_)));
}

fn detection(searches: &str, condition: &str) -> String {
    format!("title: t\nlogsource:\n    product: windows\ndetection:\n{searches}    condition: {condition}\n")
}

const SEARCHES: &str = "    selection_a:\n        A: 1\n    selection_b:\n        B: 2\n    _hidden:\n        H: 3\n    filter:\n        F: 4\n";

fn fields_of(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    siemc::ir::visit::expr_fields(e, &mut |f| out.push(f.name.clone()));
    out
}

#[test]
fn x_of_patterns_and_them() {
    let e = filter_of(&detection(SEARCHES, "1 of selection_*"));
    assert!(matches!(e.kind, ExprKind::Or(_)));
    assert_eq!(fields_of(&e), vec!["A", "B"]);
    let e = filter_of(&detection(SEARCHES, "all of them"));
    assert!(matches!(e.kind, ExprKind::And(_)));
    assert_eq!(
        fields_of(&e),
        vec!["A", "B", "F"],
        "`them` leaves out `_hidden`"
    );
    let e = filter_of(&detection(SEARCHES, "_hidden and not filter"));
    assert_eq!(fields_of(&e), vec!["H", "F"]);
}

#[test]
fn condition_list_is_or() {
    let e = filter_of(&detection(
        SEARCHES,
        "\n        - selection_a\n        - filter",
    ));
    assert!(matches!(e.kind, ExprKind::Or(ref i) if i.len() == 2));
}

#[test]
fn positioned_errors() {
    // unknown identifier: line 11 (the condition), column of `nope`
    let t = detection(SEARCHES, "selection_a and nope");
    assert_eq!(error_at(&t), (codes::UNKNOWN_IDENTIFIER, 13, 32));
    let t = detection(SEARCHES, "1 of sel_*");
    assert_eq!(error_at(&t), (codes::UNKNOWN_IDENTIFIER, 13, 16));
    let t = detection(SEARCHES, "(selection_a or filter");
    assert_eq!(error_at(&t), (codes::UNCLOSED, 13, 16));
    let t = detection(SEARCHES, "selection_a)");
    assert_eq!(error_at(&t), (codes::TRAILING_INPUT, 13, 27));
    let t = rule_with("        Image|endwith: x");
    assert_eq!(error_at(&t), (codes::UNKNOWN_MODIFIER, 6, 15));
    let t = rule_with("        Image|base64: 'a*'");
    assert_eq!(error_at(&t), (codes::MODIFIER_MISUSE, 6, 23));
    let deep = format!("{}selection_a{}", "(".repeat(10_000), ")".repeat(10_000));
    let (code, line, _) = error_at(&detection(SEARCHES, &deep));
    assert_eq!((code, line), (codes::TOO_DEEP, 13));
    // a block condition: positions map through the block scalar
    let t = detection(SEARCHES, "|\n        selection_a and\n            bogus");
    assert_eq!(error_at(&t), (codes::UNKNOWN_IDENTIFIER, 15, 13));
}

#[test]
fn metadata_is_read() {
    let t = "title: T\nid: 123\nname: handle\nstatus: test\ndescription: D\nreferences:\n    - https://x\nauthor: A, B\ndate: 2024-01-02\nmodified: 2024-02-03\ntags:\n    - attack.execution\n    - attack.t1059.001\n    - car.2016-04-005\nlevel: high\nfalsepositives:\n    - admins\nfields:\n    - CommandLine\nrelated:\n    - id: 456\n      type: derived\nlicense: DRL\nlogsource:\n    category: process_creation\n    product: windows\n    service: sysmon\ndetection:\n    sel:\n        A: 1\n    condition: sel\n";
    let (_, l) = load(t);
    let m = &l[0].meta;
    assert_eq!(
        (m.name.as_str(), m.id.as_str(), m.handle.as_deref()),
        ("T", "123", Some("handle"))
    );
    assert_eq!(m.authors, vec!["A", "B"]);
    assert_eq!(m.severity, Some(Severity::High));
    assert_eq!(
        m.attack.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        vec!["TA0002", "T1059.001"]
    );
    assert_eq!(m.tags.len(), 3);
    assert_eq!(
        (m.created.as_deref(), m.modified.as_deref()),
        (Some("2024-01-02"), Some("2024-02-03"))
    );
    assert_eq!(m.false_positives, vec!["admins"]);
    assert_eq!(m.fields, vec!["CommandLine"]);
    assert_eq!(
        m.related,
        vec![Related {
            id: "456".into(),
            kind: "derived".into()
        }]
    );
    assert_eq!(m.license.as_deref(), Some("DRL"));
    let ls = l[0]
        .rule
        .as_ref()
        .unwrap()
        .query
        .as_ref()
        .unwrap()
        .source
        .logsource
        .clone()
        .unwrap();
    assert_eq!(ls.service.as_deref(), Some("sysmon"));
}

const BASE: &str = "title: Failed logon\nname: failed_logon\nid: aaaa\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID: 4625\n    condition: selection\n";

fn correlation_of(l: &Loaded) -> Correlation {
    match &l.rule.as_ref().unwrap().query.as_ref().unwrap().stages[0].kind {
        StageKind::Correlation(c) => c.clone(),
        k => panic!("{k:?}"),
    }
}

#[test]
fn correlations_of_every_type() {
    for (ty, extra) in [
        ("event_count", "    condition:\n        gte: 10\n"),
        (
            "value_count",
            "    condition:\n        field: User\n        gt: 3\n        lte: 9\n",
        ),
        ("temporal", ""),
        ("temporal_ordered", ""),
        (
            "value_sum",
            "    condition:\n        field: Bytes\n        gt: 1000\n",
        ),
        (
            "value_avg",
            "    condition:\n        field: Bytes\n        gt: 1000\n",
        ),
        (
            "value_percentile",
            "    condition:\n        field: Bytes\n        percentile: 95\n        gt: 1000\n",
        ),
    ] {
        let t = format!("{BASE}---\ntitle: C\nid: cccc\ncorrelation:\n    type: {ty}\n    rules:\n        - failed_logon\n    group-by:\n        - TargetUserName\n    timespan: 5m\n{extra}");
        let (sm, l) = load(&t);
        assert_eq!(l.len(), 2);
        assert!(!l[1].has_errors(), "{ty}: {}", render(&sm, &l[1].diags));
        let c = correlation_of(&l[1]);
        assert_eq!(c.kind.as_str(), ty);
        assert_eq!(c.timespan.millis, 300_000);
        assert_eq!(c.group_by[0].name, "TargetUserName");
        assert_eq!(c.rules[0].reference, "failed_logon");
        let base = c.rules[0].rule.as_ref().expect("resolved in the file");
        assert_eq!(base.meta.id, "aaaa");
        if ty == "value_count" {
            assert_eq!(c.fields[0].name, "User");
            assert_eq!(
                c.condition
                    .iter()
                    .map(|(op, n)| (*op, n.value))
                    .collect::<Vec<_>>(),
                vec![(CmpOp::Gt, 3.0), (CmpOp::Le, 9.0)]
            );
        }
        if ty == "value_percentile" {
            assert_eq!(c.kind, CorrelationKind::ValuePercentile(95));
        }
    }
}

#[test]
fn correlation_by_id_aliases_generate_and_errors() {
    let t = format!("{BASE}---\ntitle: C\ncorrelation:\n    type: temporal\n    rules:\n        - aaaa\n        - other_rule\n    group-by:\n        - ip\n    timespan: 1h\n    generate: true\n    aliases:\n        ip:\n            failed_logon: IpAddress\n            other_rule: SourceIp\n");
    let (_, mut l) = load(&t);
    let c = correlation_of(&l[1]);
    assert!(c.generate);
    assert!(c.rules[0].rule.is_some() && c.rules[1].rule.is_none());
    assert_eq!(
        c.group_by[0].scheme,
        FieldScheme::Computed,
        "an alias is not a Sigma field"
    );
    assert_eq!(c.aliases[0].mapping[1].1.name, "SourceIp");
    sigma::resolve(&mut l);
    assert!(l[1].diags.iter().any(|d| d.code == codes::UNRESOLVED_RULE));

    let bad = "title: C\ncorrelation:\n    type: event_count\n    rules: x\n    timespan: 5q\n    condition:\n        gte: 1\n";
    assert_eq!(error_at(bad), (codes::BAD_NUMBER, 5, 15));
    let bad = "title: C\ncorrelation:\n    type: value_count\n    rules: x\n    timespan: 5m\n    condition:\n        gte: 1\n";
    assert_eq!(error_at(bad).0, codes::MISSING_KEY);
}

#[test]
fn correlation_across_files() {
    let mut sm = SourceMap::new();
    let a = sm.add("a.yml", BASE);
    let b = sm.add("b.yml", "title: C\ncorrelation:\n    type: event_count\n    rules: failed_logon\n    timespan: 1d\n    condition:\n        gt: 5\n");
    let mut l = sigma::load(&sm, a);
    l.extend(sigma::load(&sm, b));
    assert!(correlation_of(&l[1]).rules[0].rule.is_none());
    sigma::resolve(&mut l);
    assert!(correlation_of(&l[1]).rules[0].rule.is_some());
    assert!(l[1].diags.is_empty());
}

#[test]
fn filters_are_and_not_into_their_rules() {
    let t = format!("{BASE}---\ntitle: F\nlogsource:\n    product: windows\nfilter:\n    rules:\n        - aaaa\n    selection:\n        TargetUserName|startswith: adm_\n    condition: selection\n");
    let (sm, l) = load(&t);
    assert!(
        l.iter().all(|l| !l.has_errors()),
        "{}",
        render(&sm, &l[1].diags)
    );
    assert_eq!(l[1].meta.applies_to, vec!["aaaa"]);
    let e = l[0]
        .rule
        .as_ref()
        .unwrap()
        .query
        .as_ref()
        .unwrap()
        .filter
        .clone()
        .unwrap();
    let ExprKind::And(items) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(fields_of(&items[0]), vec!["EventID"]);
    assert!(matches!(&items[1].kind, ExprKind::Not(i) if fields_of(i) == vec!["TargetUserName"]));
    // A filter for another logsource is not applied.
    let t = format!("{BASE}---\ntitle: F\nlogsource:\n    product: linux\nfilter:\n    rules: failed_logon\n    selection:\n        U: x\n    condition: selection\n");
    let (_, l) = load(&t);
    let e = l[0]
        .rule
        .as_ref()
        .unwrap()
        .query
        .as_ref()
        .unwrap()
        .filter
        .clone()
        .unwrap();
    assert_eq!(fields_of(&e), vec!["EventID"]);
    assert!(l[1].diags.iter().any(|d| d.code == codes::LOWERING_CAVEAT));
}

#[test]
fn sigma_1_collections_merge_global() {
    let t = "action: global\ntitle: G\ndetection:\n    sel1:\n        A: 1\n    condition: sel1 or sel2\n---\nlogsource:\n    product: windows\ndetection:\n    sel2:\n        B: 2\n---\nlogsource:\n    product: linux\ndetection:\n    sel2:\n        C: 3\n";
    let (sm, l) = load(t);
    assert_eq!(l.len(), 2);
    for x in &l {
        assert!(!x.has_errors(), "{}", render(&sm, &x.diags));
        assert_eq!(x.meta.name, "G");
    }
    let f = l[1]
        .rule
        .as_ref()
        .unwrap()
        .query
        .as_ref()
        .unwrap()
        .filter
        .clone()
        .unwrap();
    assert_eq!(fields_of(&f), vec!["A", "C"]);
}

#[test]
fn recognised_by_content() {
    assert!(sigma::looks_like(
        "title: x\ndetection:\n    sel:\n        A: 1\n    condition: sel\n"
    ));
    assert!(sigma::looks_like(
        "title: x\ncorrelation:\n    type: temporal\n"
    ));
    assert!(sigma::looks_like(
        "title: x\nlogsource:\n    product: w\nfilter:\n    rules: [a]\n"
    ));
    assert!(!sigma::looks_like("name: x\nsearch: '| tstats count'\n"));
    assert!(!sigma::looks_like("[rule]\nquery = 'x'\n"));
}

#[test]
fn spans_point_at_the_source() {
    let t = rule_with("        Image|endswith: '\\cmd.exe'");
    let (sm, l) = load(&t);
    let e = l[0]
        .rule
        .as_ref()
        .unwrap()
        .query
        .as_ref()
        .unwrap()
        .filter
        .clone()
        .unwrap();
    let m = the_match(&e);
    let f = sm.get(m.field.span.file);
    assert_eq!(
        &f.text[m.field.span.start as usize..m.field.span.end as usize],
        "Image"
    );
    assert_eq!(sm.resolve(m.span).line, 6);
}
