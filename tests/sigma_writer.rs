//! Snapshots (under snapshots/) of the Sigma siemc writes: the four seed
//! rules and a table of tricky value cases. Review every new snapshot by
//! reading it before accepting.

use siemc::backend::{self, Options, Output, Target};
use siemc::driver::load_paths;
use siemc::ir::*;
use siemc::span::Span;
use std::path::PathBuf;

fn show(o: &Output) -> String {
    let mut s = format!("status: {}\n", o.status.as_str());
    for c in &o.caveats {
        s.push_str(&format!("caveat {}: {}\n", c.code, c.message));
    }
    for d in &o.diagnostics {
        s.push_str(&format!("{} {}\n", d.code, d.message));
    }
    s.push_str("----\n");
    s.push_str(&o.text);
    s
}

fn both(rule: &Rule) -> String {
    let strict = backend::convert(Target::Sigma, rule, &Options::default());
    let lenient = backend::convert(
        Target::Sigma,
        rule,
        &Options {
            lenient: true,
            ..Options::default()
        },
    );
    format!(
        "== strict\n{}\n== lenient\n{}",
        show(&strict),
        show(&lenient)
    )
}

fn snap(name: &str, text: String) {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(name.to_string(), text);
    });
}

/// The project's own files for the four seed detections (same logic as the
/// upstream originals, our wording: no upstream text is stored in snapshots).
#[test]
fn seed_detections() {
    let run = load_paths(&[
        PathBuf::from("rules/elastic/collection_mailbox_export_via_powershell.toml"),
        PathBuf::from("rules/splunk"),
    ]);
    assert_eq!(run.rules.len(), 4, "the four seed detections");
    for l in &run.rules {
        let rule = l.rule.as_ref().unwrap_or_else(|| panic!("{:?}", l.diags));
        let stem = PathBuf::from(&run.sm.get(l.file).path)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        snap(&format!("sigma__{}_{stem}", l.format.as_str()), both(rule));
    }
}

// ---- a table of tricky value cases, on hand-built IR ----

fn sp() -> Span {
    Span::default()
}

fn field(name: &str) -> FieldRef {
    FieldRef::new(name, FieldScheme::Sigma, sp())
}

fn m(name: &str, values: Vec<Value>, case: Case, q: Quantifier) -> Expr {
    Expr::new(
        ExprKind::Match(Match {
            field: field(name),
            values,
            quantifier: q,
            case,
            kind: MatchKind::Whole,
            array: ArrayMode::Any,
            span: sp(),
        }),
        sp(),
    )
}

/// `*` and `?` are wildcards; backslashes are literal (Windows paths).
fn st(s: &str) -> Value {
    Value::Str(Pattern::parse_wildcards(s, false))
}

fn lit(s: &str) -> Value {
    Value::Str(Pattern::literal(s))
}

fn rule_with(filter: Expr) -> Rule {
    Rule {
        meta: Meta {
            id: "case".into(),
            name: "Value Case".into(),
            format: SourceFormat::ElasticToml,
            ..Meta::default()
        },
        query: Some(Query {
            language: Language::Eql,
            source: Source {
                logsource: Some(LogSource {
                    category: Some("process_creation".into()),
                    product: Some("windows".into()),
                    ..LogSource::default()
                }),
                ..Source::default()
            },
            filter: Some(filter),
            stages: Vec::new(),
            span: sp(),
        }),
        caveats: Vec::new(),
        span: sp(),
    }
}

/// Only the detection (and status/caveats) of a converted rule.
fn detection_of(filter: Expr) -> String {
    let o = backend::convert(
        Target::Sigma,
        &rule_with(filter),
        &Options {
            lenient: true,
            ..Options::default()
        },
    );
    let det = o
        .text
        .split("detection:\n")
        .nth(1)
        .map(|d| d.split("\nlevel").next().unwrap_or(d).to_string())
        .unwrap_or_default();
    let mut s = format!("[{}]", o.status.as_str());
    for c in &o.caveats {
        s.push_str(&format!(" caveat {}", c.code));
    }
    for d in o.diagnostics.iter().filter(|d| d.is_error()) {
        s.push_str(&format!(" {}: {}", d.code, d.message));
    }
    format!("{s}\n{det}")
}

fn regex(p: &str, flavor: RegexFlavor, anchored: bool) -> Value {
    Value::Regex(Regex {
        pattern: p.into(),
        flavor,
        anchored,
        multiline: false,
        dot_all: false,
    })
}

fn num(t: &str) -> Value {
    Value::Num(Number::new(t).unwrap())
}

fn cmp(f: &str, op: CmpOp, v: Value) -> Expr {
    Expr::new(
        ExprKind::Compare(Compare {
            left: Scalar::Field(field(f)),
            op,
            right: Scalar::Lit(v, sp()),
            case: Case::Sensitive,
            span: sp(),
        }),
        sp(),
    )
}

#[test]
fn tricky_values() {
    use Case::*;
    use Quantifier::*;
    let ci = Insensitive;
    let cases: Vec<(&str, Expr)> = vec![
        (
            "plain literal, case-insensitive",
            m("Image", vec![lit(r"C:\Windows\System32\cmd.exe")], ci, Any),
        ),
        (
            "case-sensitive literal → |cased",
            m("CommandLine", vec![lit("Invoke-Mimikatz")], Sensitive, Any),
        ),
        (
            "*x* / x* / *x → contains / startswith / endswith (split by shape)",
            m(
                "CommandLine",
                vec![st("*-enc *"), st("powershell*"), st(r"*\evil.exe")],
                ci,
                Any,
            ),
        ),
        (
            "inner wildcards stay wildcards",
            m("Image", vec![st(r"C:\Users\*\AppData\*.exe")], ci, Any),
        ),
        (
            "literal * ? \\ are escaped only where Sigma reads an escape",
            m("CommandLine", vec![lit(r"a*b?c\d\\e\")], ci, Any),
        ),
        (
            "backslash before a wildcard is doubled (and a trailing one is literal)",
            m("Image", vec![st(r"C:\Temp\*"), st(r"C:\a\*\b")], ci, Any),
        ),
        (
            "|all for Quantifier::All",
            m(
                "CommandLine",
                vec![st("*-nop*"), st("*-w hidden*")],
                ci,
                All,
            ),
        ),
        ("empty string", m("ParentImage", vec![lit("")], ci, Any)),
        (
            "numbers",
            m("EventID", vec![num("4688"), num("1")], ci, Any),
        ),
        (
            "CIDR → |cidr",
            m(
                "DestinationIp",
                vec![
                    Value::Cidr("10.0.0.0/8".into()),
                    Value::Cidr("fe80::/10".into()),
                ],
                ci,
                Any,
            ),
        ),
        (
            "Lucene regex (anchored, insensitive) → ^(?:...)$ with |i|s",
            m(
                "CommandLine",
                vec![regex(r"pow.*\.exe", RegexFlavor::Lucene, true)],
                ci,
                Any,
            ),
        ),
        (
            "Lucene \\d is a literal d",
            m(
                "CommandLine",
                vec![regex(r"a\d+", RegexFlavor::Lucene, true)],
                Sensitive,
                Any,
            ),
        ),
        (
            "PCRE regex stays unanchored",
            m(
                "CommandLine",
                vec![regex(r"\d{3,}", RegexFlavor::Pcre, false)],
                Sensitive,
                Any,
            ),
        ),
        (
            "Lucene operator @ is refused",
            m(
                "CommandLine",
                vec![regex(r"a@", RegexFlavor::Lucene, true)],
                Sensitive,
                Any,
            ),
        ),
        (
            "Exists → |exists: true",
            Expr::new(ExprKind::Exists(field("User")), sp()),
        ),
        (
            "Not(Exists) → null",
            Expr::not(Expr::new(ExprKind::Exists(field("User")), sp()), sp()),
        ),
        ("Null value", m("User", vec![Value::Null], ci, Any)),
        (
            "Compare numbers → |gt / |lte",
            Expr::and(
                vec![
                    cmp("DestinationPort", CmpOp::Gt, num("1024")),
                    cmp("SourcePort", CmpOp::Le, num("80")),
                ],
                sp(),
            ),
        ),
        (
            "Compare != number → exists and not (a missing field does not match)",
            cmp("DestinationPort", CmpOp::Ne, num("443")),
        ),
        (
            "fieldref",
            m("User", vec![Value::FieldRef("TargetUser".into())], ci, Any),
        ),
        (
            "placeholder → |expand",
            m(
                "Computer",
                vec![Value::Str(Pattern(vec![Part::Placeholder(
                    "DomainControllers".into(),
                )]))],
                ci,
                Any,
            ),
        ),
        (
            "OR of values on one field → one list",
            Expr::or(
                vec![
                    m("Image", vec![st(r"*\a.exe")], ci, Any),
                    m("Image", vec![st(r"*\b.exe")], ci, Any),
                ],
                sp(),
            ),
        ),
        (
            "OR of maps → list of maps",
            Expr::or(
                vec![
                    Expr::and(
                        vec![
                            m("Image", vec![st(r"*\a.exe")], ci, Any),
                            m("User", vec![lit("x")], ci, Any),
                        ],
                        sp(),
                    ),
                    m("CommandLine", vec![st("*y*")], ci, Any),
                ],
                sp(),
            ),
        ),
        (
            "AND with NOT and a nested OR",
            Expr::and(
                vec![
                    m("Image", vec![st(r"*\rundll32.exe")], ci, Any),
                    Expr::not(
                        Expr::or(
                            vec![
                                m("CommandLine", vec![st("*shell32*")], ci, Any),
                                m("ParentImage", vec![st(r"*\explorer.exe")], ci, Any),
                            ],
                            sp(),
                        ),
                        sp(),
                    ),
                ],
                sp(),
            ),
        ),
        (
            "keywords",
            Expr::new(
                ExprKind::Keyword(Keyword {
                    values: vec![lit("mimikatz"), st("*sekurlsa*")],
                    quantifier: Any,
                    case: ci,
                    kind: MatchKind::Whole,
                }),
                sp(),
            ),
        ),
        (
            "term match → caveat",
            Expr::new(
                ExprKind::Match(Match {
                    field: field("CommandLine"),
                    values: vec![lit("whoami")],
                    quantifier: Any,
                    case: ci,
                    kind: MatchKind::Term,
                    array: ArrayMode::Any,
                    span: sp(),
                }),
                sp(),
            ),
        ),
        (
            "case-insensitive duplicates collapse",
            m("Image", vec![lit("A.exe"), lit("a.exe")], ci, Any),
        ),
    ];
    let mut out = String::new();
    for (name, e) in cases {
        out.push_str(&format!("### {name}\n{}\n", detection_of(e)));
    }
    snap("sigma__tricky_values", out);
}
