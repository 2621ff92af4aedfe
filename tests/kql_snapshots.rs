//! Snapshots of the Kusto back-end (under snapshots/, reviewed by hand):
//! the project's rules (strict and lenient, every schema family), and a
//! table of tricky cases written as small EQL, SPL and Sigma rules —
//! case-sensitive vs insensitive, leading / trailing / mid wildcards and
//! `?`, quotes and backslashes, missing fields, arrays, CIDR, regex flags,
//! `!=` vs NOT, functions, refusals.

use siemc::backend::{convert, Options, Target};
use siemc::diag::render_text;
use siemc::driver::load_paths;
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn convert_all(paths: &[PathBuf], opts: &Options) -> String {
    let run = load_paths(paths);
    let mut out = String::new();
    for l in &run.rules {
        let path = run.sm.get(l.file).path.clone();
        let name = Path::new(&path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let _ = writeln!(out, "=== {name}");
        let Some(rule) = &l.rule else {
            for d in &l.diags {
                out.push_str(&render_text(d, &run.sm));
            }
            continue;
        };
        let o = convert(Target::Kql, rule, opts);
        let _ = writeln!(out, "status: {}", o.status.as_str());
        for d in &o.diagnostics {
            let pos = d.span.map(|s| run.sm.resolve(s));
            let _ = writeln!(
                out,
                "{} {} @{}",
                d.code,
                d.message,
                pos.map(|p| format!("{}:{}", p.line, p.column))
                    .unwrap_or_default()
            );
        }
        out.push_str(o.text.trim_end());
        out.push_str("\n\n");
    }
    out
}

fn snap(name: &str, text: String) {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(name.to_string(), text);
    });
}

#[test]
fn project_rules_to_kql() {
    let paths = [
        PathBuf::from("rules/elastic"),
        PathBuf::from("rules/splunk"),
    ];
    for schema in ["xdr", "sentinel", "asim"] {
        let strict = Options {
            schema: Some(schema.into()),
            ..Options::default()
        };
        snap(
            &format!("kql__rules_{schema}_strict"),
            convert_all(&paths, &strict),
        );
        let lenient = Options {
            lenient: true,
            ..strict
        };
        snap(
            &format!("kql__rules_{schema}_lenient"),
            convert_all(&paths, &lenient),
        );
    }
    let yaml = Options {
        lenient: true,
        flavor: Some("sentinel-yaml".into()),
        ..Options::default()
    };
    snap(
        "kql__rules_sentinel_yaml",
        convert_all(
            &[PathBuf::from(
                "rules/elastic/collection_mailbox_export_via_powershell.toml",
            )],
            &yaml,
        ),
    );
}

const EQL_CASES: &[(&str, &str)] = &[
    ("eq_cased", r#"process where process.name == "cmd.exe""#),
    ("colon_nocase", r#"process where process.name : "CMD.exe""#),
    (
        "in_cased",
        r#"process where process.name in ("a.exe", "b.exe")"#,
    ),
    (
        "in_nocase",
        r#"process where process.name in~ ("a.exe", "b.exe")"#,
    ),
    ("trailing_star", r#"process where process.name : "cmd*""#),
    ("leading_star", r#"process where process.name : "*.exe""#),
    (
        "both_stars",
        r#"process where process.command_line : "*powershell*""#,
    ),
    ("mid_star", r#"process where process.name : "c*d.exe""#),
    ("question_mark", r#"process where process.name : "cm?.exe""#),
    (
        "like_cased_mid",
        r#"process where process.name like "c*d.exe""#,
    ),
    (
        "quotes_backslashes",
        r#"process where process.command_line : "*\"C:\\Temp\\x.ps1\"*""#,
    ),
    (
        "backslash_exact",
        r#"process where process.executable == "C:\\Windows\\System32\\cmd.exe""#,
    ),
    (
        "regex_lucene",
        r#"process where process.executable regex~ """C:\\Windows\\[a-z]+\.exe""""#,
    ),
    ("not_eq", r#"process where not process.name == "x.exe""#),
    ("ne", r#"process where process.name != "x.exe""#),
    (
        "missing_null",
        r#"process where process.parent.name == null"#,
    ),
    (
        "not_missing",
        r#"process where process.parent.name != null"#,
    ),
    (
        "numeric",
        r#"process where process.pid > 4 and process.parent.pid <= 100"#,
    ),
    ("array_literal", r#"process where process.args == "-enc""#),
    ("array_pattern", r#"process where process.args : "-e*c""#),
    (
        "cidr",
        r#"network where cidrmatch(destination.ip, "10.0.0.0/8", "192.168.0.0/16")"#,
    ),
    (
        "function_startswith",
        r#"process where startsWith~(process.name, "cmd")"#,
    ),
    (
        "unmapped_field",
        r#"process where process.Ext.relative_file_creation_time < 500"#,
    ),
    (
        "sequence",
        r#"sequence by host.id with maxspan=1m [process where process.name == "a.exe"] [file where file.name : "*.pst"]"#,
    ),
    (
        "sequence_until",
        r#"sequence by host.id [process where true] [process where true] until [process where event.type == "end"]"#,
    ),
];

fn eql_toml(name: &str, query: &str) -> String {
    format!(
        "[metadata]\ncreation_date = \"2026/01/01\"\nmaturity = \"production\"\nupdated_date = \"2026/01/01\"\n\n[rule]\nauthor = [\"siemc\"]\ndescription = \"case {name}\"\nfrom = \"now-9m\"\nindex = [\"logs-endpoint.events.*\"]\nlanguage = \"eql\"\nlicense = \"Apache-2.0\"\nname = \"{name}\"\nrisk_score = 21\nrule_id = \"00000000-0000-0000-0000-000000000000\"\nseverity = \"low\"\ntype = \"eql\"\nquery = '''\n{query}\n'''\n"
    )
}

const SPL_CASES: &[(&str, &str)] = &[
    ("search_nocase", "Operation=Add-MailboxPermission"),
    ("search_wildcard", "Operation=Add-*Permission"),
    ("search_ne", "Operation!=Add-MailboxPermission"),
    ("search_not", "NOT Operation=Add-MailboxPermission"),
    ("where_cased", "| where Operation=\"Add-MailboxPermission\""),
    ("where_like", "| where like(Operation, \"Add-%Permission\")"),
    (
        "where_match",
        "| where match(Operation, \"^Add-(Mailbox|Recipient)Permission$\")",
    ),
    (
        "where_lookahead",
        "| where match(Operation, \"^Add-(?!Mailbox)\")",
    ),
    (
        "stats_threshold",
        "| stats count min(_time) as firstTime by UserId ClientIP | where count > 5",
    ),
    (
        "eval_if",
        "| eval risky=if(Operation=\"Set-Mailbox\", 1, 0) | stats sum(risky) as n by UserId",
    ),
    ("dedup_sort_head", "| dedup UserId | sort - _time | head 5"),
    (
        "rex",
        "| rex field=UserId \"^(?<account>[^@]+)@(?<domain>.+)$\" | table account domain",
    ),
    ("transaction", "| transaction UserId maxspan=5m"),
];

fn spl_yaml(name: &str, search: &str) -> String {
    let search = search.replace('\'', "''");
    format!(
        "name: {name}\nid: 00000000-0000-0000-0000-000000000001\nversion: 1\ndate: '2026-01-01'\nauthor: siemc\nstatus: experimental\ntype: TTP\ndescription: case {name}\ndata_source: []\nsearch: 'sourcetype=\"o365:management:activity\" {search}'\nhow_to_implement: n/a\nknown_false_positives: n/a\nreferences: []\ntags:\n  analytic_story: []\n  asset_type: Office 365\n  confidence: 50\n  impact: 50\n  message: m\n  mitre_attack_id: [T1114.002]\n  observable: []\n  product: [Splunk Enterprise]\n  required_fields: []\n  risk_score: 25\n  security_domain: threat\n"
    )
}

const SIGMA_CASES: &[(&str, &str)] = &[
    ("plain_nocase", "    Image|endswith: '\\cmd.exe'"),
    ("cased", "    CommandLine|cased: 'IEX'"),
    (
        "contains_all",
        "    CommandLine|contains|all: ['-nop', '-w hidden']",
    ),
    ("mid_wildcard", "    CommandLine: '*\\\\Temp\\\\*.ps1*'"),
    ("question", "    OriginalFileName: 'cmd?.exe'"),
    (
        "quotes",
        "    CommandLine|contains: '\"C:\\Program Files\\x\"'",
    ),
    ("regex_i", "    CommandLine|re|i: '\\s-e(nc)?\\s'"),
    ("regex_lookbehind", "    CommandLine|re: '(?<!a)b'"),
    ("null_field", "    ParentImage: null"),
    ("empty", "    ParentCommandLine: ''"),
    ("exists", "    ParentImage|exists: true"),
    ("cidr", "    SourceIp|cidr: ['10.0.0.0/8', 'fe80::/10']"),
    ("unmapped", "    Hashes|contains: 'IMPHASH='"),
];

fn sigma_yaml(name: &str, sel: &str) -> String {
    let category = if name == "cidr" {
        "network_connection"
    } else {
        "process_creation"
    };
    format!(
        "title: {name}\nid: 00000000-0000-0000-0000-000000000002\nstatus: test\ndescription: case {name}\nauthor: siemc\ndate: 2026-01-01\nlogsource:\n  category: {category}\n  product: windows\ndetection:\n  selection:\n{sel}\n  condition: selection\nlevel: low\n"
    )
}

fn cases(prefix: &str, ext: &str, items: &[(&str, &str)], build: fn(&str, &str) -> String) {
    let dir = std::env::temp_dir().join(format!("siemc-kql-{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (name, q)) in items.iter().enumerate() {
        std::fs::write(dir.join(format!("{i:02}_{name}.{ext}")), build(name, q)).unwrap();
    }
    let opts = Options {
        lenient: true,
        ..Options::default()
    };
    let text = convert_all(std::slice::from_ref(&dir), &opts);
    let _ = std::fs::remove_dir_all(&dir);
    snap(&format!("kql__cases_{prefix}"), text);
}

#[test]
fn tricky_cases_eql() {
    cases("eql", "toml", EQL_CASES, eql_toml);
}

#[test]
fn tricky_cases_spl() {
    cases("spl", "yml", SPL_CASES, spl_yaml);
}

#[test]
fn tricky_cases_sigma() {
    cases("sigma", "yml", SIGMA_CASES, sigma_yaml);
}
