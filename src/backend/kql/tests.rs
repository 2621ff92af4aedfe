//! Hand-built IR through the Kusto back-end: exact operators per case and
//! pattern shape, missing-field semantics, arrays, refusals with codes and
//! spans.

use super::convert;
use crate::backend::{Options, Status};
use crate::diag::codes;
use crate::ir::*;
use crate::span::{FileId, Span};

fn sp(a: usize) -> Span {
    Span::new(FileId(0), a, a + 1)
}

fn field(name: &str) -> FieldRef {
    FieldRef::new(name, FieldScheme::Ecs, sp(1))
}

fn m(name: &str, values: Vec<Value>, case: Case, kind: MatchKind) -> Expr {
    Expr::new(
        ExprKind::Match(Match {
            field: field(name),
            values,
            quantifier: Quantifier::Any,
            case,
            kind,
            array: ArrayMode::Any,
            span: sp(2),
        }),
        sp(2),
    )
}

fn s(p: &str) -> Value {
    Value::Str(Pattern::parse_wildcards(p, true))
}

fn rule(filter: Expr) -> Rule {
    Rule {
        meta: Meta {
            id: "r1".into(),
            name: "test".into(),
            ..Meta::default()
        },
        query: Some(Query {
            language: Language::Eql,
            source: Source {
                categories: vec!["process".into()],
                ..Source::default()
            },
            filter: Some(filter),
            stages: vec![],
            span: sp(0),
        }),
        caveats: vec![],
        span: sp(0),
    }
}

/// The `where` line of the converted query.
fn kql(e: Expr) -> String {
    let o = convert(&rule(e), &Options::default());
    assert!(
        matches!(o.status, Status::Exact | Status::Approximate),
        "{:?}",
        o.diagnostics
    );
    o.text
        .lines()
        .find_map(|l| l.strip_prefix("| where "))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn case_decides_the_operator() {
    use Case::*;
    use MatchKind::*;
    let c = |v, case| kql(m("process.name", vec![s(v)], case, Whole));
    assert_eq!(c("cmd.exe", Sensitive), r#"FileName == "cmd.exe""#);
    assert_eq!(c("cmd.exe", Insensitive), r#"FileName =~ "cmd.exe""#);
    assert_eq!(c("cmd*", Sensitive), r#"FileName startswith_cs "cmd""#);
    assert_eq!(c("cmd*", Insensitive), r#"FileName startswith "cmd""#);
    assert_eq!(c("*.exe", Insensitive), r#"FileName endswith ".exe""#);
    assert_eq!(c("*md*", Insensitive), r#"FileName contains "md""#);
    // `a*b` is not `startswith a and endswith b`: an anchored regex.
    assert_eq!(
        c("c*d.exe", Insensitive),
        r#"FileName matches regex @"(?is)^c.*d\.exe$""#
    );
    assert_eq!(
        c("cm?.exe", Sensitive),
        r#"FileName matches regex @"(?s)^cm.\.exe$""#
    );
    assert_eq!(c("*", Insensitive), "isnotempty(FileName)");
    let many = kql(m("process.name", vec![s("a"), s("b")], Insensitive, Whole));
    assert_eq!(many, r#"FileName in~ ("a", "b")"#);
    // `has` only for term matches.
    let t = kql(m(
        "process.command_line",
        vec![s("mimikatz")],
        Insensitive,
        Term,
    ));
    assert_eq!(t, r#"ProcessCommandLine has "mimikatz""#);
}

#[test]
fn quotes_and_backslashes_survive() {
    let e = m(
        "process.command_line",
        vec![Value::Str(Pattern::literal(r#"C:\a "b" 'c'"#))],
        Case::Sensitive,
        MatchKind::Whole,
    );
    assert_eq!(kql(e), r#"ProcessCommandLine == @"C:\a ""b"" 'c'""#);
}

#[test]
fn negation_keeps_missing_fields_matching() {
    // String columns read "" when missing: not(...) is already true for them.
    let e = Expr::not(
        m(
            "process.name",
            vec![s("x")],
            Case::Sensitive,
            MatchKind::Whole,
        ),
        sp(3),
    );
    assert_eq!(kql(e), r#"not(FileName == "x")"#);
    // Numeric columns are null when missing: written out.
    let n = Expr::not(
        m(
            "process.pid",
            vec![Value::Num(Number::new("4").unwrap())],
            Case::Sensitive,
            MatchKind::Whole,
        ),
        sp(3),
    );
    assert_eq!(kql(n), "(isnull(ProcessId) or not(ProcessId == 4))");
    let ex = Expr::new(ExprKind::Exists(field("process.parent.name")), sp(4));
    assert_eq!(kql(ex), "isnotempty(InitiatingProcessFileName)");
}

#[test]
fn cidr_and_regex() {
    let e = m(
        "process.name",
        vec![Value::Cidr("10.0.0.0/8".into())],
        Case::Sensitive,
        MatchKind::Whole,
    );
    assert_eq!(kql(e), r#"ipv4_is_in_range(FileName, "10.0.0.0/8")"#);
    let re = Value::Regex(Regex {
        pattern: r"a\d+".into(),
        flavor: RegexFlavor::Pcre,
        anchored: false,
        multiline: false,
        dot_all: false,
    });
    let e = m(
        "process.command_line",
        vec![re],
        Case::Insensitive,
        MatchKind::Whole,
    );
    assert_eq!(kql(e), r#"ProcessCommandLine matches regex @"(?i)a\d+""#);
}

#[test]
fn lookaround_is_refused_at_the_match() {
    let re = Value::Regex(Regex {
        pattern: "a(?=b)".into(),
        flavor: RegexFlavor::Pcre,
        anchored: false,
        multiline: false,
        dot_all: false,
    });
    let o = convert(
        &rule(m(
            "process.command_line",
            vec![re],
            Case::Sensitive,
            MatchKind::Whole,
        )),
        &Options::default(),
    );
    assert_eq!(o.status, Status::Unsupported);
    assert_eq!(o.diagnostics[0].code, codes::REFUSED);
    assert_eq!(o.diagnostics[0].span, Some(sp(2)));
    assert!(o.diagnostics[0].message.contains("look-ahead"));
}

#[test]
fn unmapped_field_is_an_error_or_a_caveat() {
    let e = m(
        "process.no_such",
        vec![s("x")],
        Case::Sensitive,
        MatchKind::Whole,
    );
    let strict = convert(&rule(e.clone()), &Options::default());
    assert_eq!(strict.status, Status::Unsupported);
    assert_eq!(strict.diagnostics[0].code, codes::UNMAPPED_FIELD);
    assert_eq!(strict.diagnostics[0].span, Some(sp(1)));
    let lenient = convert(
        &rule(e),
        &Options {
            lenient: true,
            ..Options::default()
        },
    );
    assert_eq!(lenient.status, Status::Approximate);
    assert!(lenient
        .text
        .contains(r#"column_ifexists("process.no_such", "") == "x""#));
}

#[test]
fn unknown_source_is_e0402() {
    let mut r = rule(Expr::new(ExprKind::Const(true), sp(0)));
    if let Some(q) = &mut r.query {
        q.source.categories = vec!["quantum".into()];
    }
    let o = convert(&r, &Options::default());
    assert_eq!(o.diagnostics[0].code, codes::UNMAPPED_SOURCE);
}

fn lenient() -> Options {
    Options {
        lenient: true,
        ..Options::default()
    }
}

#[test]
fn arrays_match_any_element() {
    let lenient = lenient();
    let e = m(
        "process.args",
        vec![s("-enc")],
        Case::Sensitive,
        MatchKind::Whole,
    );
    let o = convert(&rule(e), &lenient);
    assert!(
        o.text
            .contains(r#"set_has_element(split(ProcessCommandLine, " "), "-enc")"#),
        "{}",
        o.text
    );
    let e = m(
        "process.args",
        vec![s("-e*c")],
        Case::Insensitive,
        MatchKind::Whole,
    );
    let o = convert(&rule(e), &lenient);
    assert!(
        o.text.contains(r#"strcat_array(split(ProcessCommandLine, " "), "\n") matches regex @"(?im)^\-e[^\n]*c$""#),
        "{}",
        o.text
    );
    // A regex on an array: each line of the joined elements, approximate.
    let re = Value::Regex(Regex {
        pattern: "-[^-]*[uz]".into(),
        flavor: RegexFlavor::Lucene,
        anchored: true,
        multiline: false,
        dot_all: false,
    });
    let e = m("process.args", vec![re], Case::Sensitive, MatchKind::Whole);
    let o = convert(&rule(e), &lenient);
    assert!(
        o.text.contains(r#"strcat_array(split(ProcessCommandLine, " "), "\n") matches regex @"(?m)^(?:-[^-]*[uz])$""#),
        "{}",
        o.text
    );
    assert!(o.caveats.iter().any(|c| c.code == "array-regex"));
}

#[test]
fn analyzed_text_fields_match_terms() {
    let lenient = lenient();
    let e = m(
        "powershell.file.script_block_text",
        vec![s(".pst"), s("Get-Mailbox")],
        Case::Sensitive,
        MatchKind::Whole,
    );
    let o = convert(&rule(e), &lenient);
    // Script blocks are read from the PowerShell log in Event, not from
    // the process table the category would pick.
    assert!(o.text.contains("\nEvent\n"), "{}", o.text);
    assert!(o.text.contains(r#"EventData) has "pst""#), "{}", o.text);
    assert!(
        o.text.contains(
            r#"matches regex @"(?is)(?:^|[^\p{L}\p{N}])Get\-Mailbox(?:[^\p{L}\p{N}]|$)""#
        ),
        "{}",
        o.text
    );
    assert!(o.caveats.iter().any(|c| c.code == "analyzed-text"));
}
