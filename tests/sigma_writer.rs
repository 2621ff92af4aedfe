//! Snapshots (under snapshots/) of the Sigma siemc writes: the four seed
//! rules and a table of tricky value cases. Review every new snapshot by
//! reading it before accepting.

use siemc::backend::{self, Options, Output, Target};
use siemc::driver::load_paths;
use siemc::ir::*;
use siemc::lang::{spl, Input};
use siemc::span::{FileId, Origin, Span};
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

#[test]
fn seed_elastic() {
    let p = PathBuf::from("/work/shared/seed/elastic");
    if !p.exists() {
        eprintln!("seed rules not present: skipping");
        return;
    }
    let run = load_paths(&[p]);
    let rule = run.rules[0].rule.as_ref().expect("the seed loads");
    snap("sigma__seed_elastic_exchange_mailbox_export", both(rule));
}

/// The seed searches' macros, expanded as their definitions in
/// seed/splunk/macros/ say (the Splunk YAML loader lives on another branch).
fn expand_macros(search: &str) -> String {
    let mut s = search.replace(
        "`o365_management_activity`",
        "sourcetype=o365:management:activity",
    );
    s = s.replace(
        "`security_content_summariesonly`",
        "summariesonly=false allow_old_summaries=true fillnull_value=null",
    );
    for f in ["firstTime", "lastTime"] {
        s = s.replace(
            &format!("`security_content_ctime({f})`"),
            &format!("convert timeformat=\"%Y-%m-%dT%H:%M:%S\" ctime({f})"),
        );
    }
    s = s.replace(
        "`drop_dm_object_name(\"All_Traffic\")`",
        "rename All_Traffic.* AS *",
    );
    // `<name>_filter` macros are `search *`.
    while let Some(i) = s.find("_filter`") {
        let start = s[..i].rfind('`').unwrap_or(i);
        s.replace_range(start..i + "_filter`".len(), "search *");
    }
    s
}

fn splunk_rule(file: &str) -> Option<Rule> {
    let path = format!("/work/shared/seed/splunk/2024-10/{file}");
    let text = std::fs::read_to_string(&path).ok()?;
    let y: serde_yaml::Value = serde_yaml::from_str(&text).ok()?;
    let s = |k: &str| y.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let search = expand_macros(&s("search"));
    let origin = Origin::verbatim(FileId(0), 0);
    let compiled = spl::compile(&Input {
        text: &search,
        origin: &origin,
    })
    .ok()?;
    let attack = y["tags"]["mitre_attack_id"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .map(|id| Attack {
            kind: if id.contains('.') {
                AttackKind::Subtechnique
            } else {
                AttackKind::Technique
            },
            id: id.to_string(),
            name: String::new(),
        })
        .collect();
    let meta = Meta {
        id: s("id"),
        name: s("name"),
        description: s("description"),
        authors: vec![s("author")],
        status: Some(s("status")),
        references: y["references"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        false_positives: vec![s("known_false_positives")],
        attack,
        created: Some(s("date")),
        format: SourceFormat::SplunkYaml,
        ..Meta::default()
    };
    Some(Rule {
        meta,
        query: Some(compiled.query),
        caveats: compiled.caveats,
        span: Span::default(),
    })
}

#[test]
fn seed_splunk() {
    for (file, name) in [
        (
            "o365_suspicious_rights_delegation.yml",
            "o365_suspicious_rights_delegation",
        ),
        (
            "email_servers_sending_high_volume_traffic_to_hosts.yml",
            "email_servers_sending_high_volume_traffic_to_hosts",
        ),
        (
            "hosts_receiving_high_volume_of_network_traffic_from_email_server.yml",
            "hosts_receiving_high_volume_of_network_traffic_from_email_server",
        ),
    ] {
        let Some(rule) = splunk_rule(file) else {
            eprintln!("{file}: seed not present or SPL did not compile: skipping");
            continue;
        };
        snap(&format!("sigma__seed_splunk_{name}"), both(&rule));
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
