//! Broken Splunk detections: each gives a precise coded diagnostic at the
//! exact line and column, and nothing panics.

use siemc::diag::{Diagnostic, Severity};
use siemc::source::splunk::{self, Options};
use siemc::span::SourceMap;
use std::path::PathBuf;

fn macros_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules/splunk/macros")
}

fn load_in(text: &str, dir: PathBuf) -> (SourceMap, Vec<Diagnostic>) {
    let mut sm = SourceMap::new();
    let id = sm.add("broken.yml", text);
    let l = splunk::load_with(
        &sm,
        id,
        &Options {
            macros_dir: Some(dir),
        },
    );
    (sm, l.diags)
}

/// The first diagnostic of `severity`: its code, `line:column`, and the diagnostic.
fn first(text: &str, severity: Severity) -> (String, String, Diagnostic) {
    let (sm, diags) = load_in(text, macros_dir());
    let d = diags
        .into_iter()
        .find(|d| d.severity == severity)
        .unwrap_or_else(|| panic!("no {severity:?} for {text:?}"));
    let p = sm.resolve(d.span.expect("a position"));
    (d.code.0.to_string(), format!("{}:{}", p.line, p.column), d)
}

fn doc(search: &str) -> String {
    format!("name: broken\nid: b-1\nsearch: '{search}'\n")
}

#[test]
fn unknown_macro() {
    let (code, at, d) = first(&doc("`no_such_macro` | stats count"), Severity::Error);
    assert_eq!((code.as_str(), at.as_str()), ("E0109", "3:10"));
    assert!(d.message.contains("no_such_macro"), "{}", d.message);
}

#[test]
fn wrong_macro_arity() {
    let (code, at, d) = first(
        &doc("index=a | stats count by x | `security_content_ctime(a, b)`"),
        Severity::Error,
    );
    assert_eq!((code.as_str(), at.as_str()), ("E0110", "3:39"));
    assert!(
        d.message.contains("security_content_ctime"),
        "{}",
        d.message
    );
}

#[test]
fn error_inside_an_expansion_points_at_the_call() {
    let dir = std::env::temp_dir().join(format!("siemc_spl_macros_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bad.yml"),
        "name: bad_stats\ndefinition: stats by host\n",
    )
    .unwrap();
    let (sm, diags) = load_in(&doc("index=a | `bad_stats`"), dir.clone());
    let _ = std::fs::remove_dir_all(&dir);
    let d = diags.iter().find(|d| d.is_error()).expect("an error");
    let p = sm.resolve(d.span.unwrap());
    assert_eq!((p.line, p.column, p.end_column), (3, 20, 31), "{d:?}");
    assert!(
        d.label.as_deref().unwrap_or("").contains("bad_stats"),
        "{d:?}"
    );
    assert!(d.notes.iter().any(|n| n.contains("stats by host")), "{d:?}");
}

#[test]
fn unbalanced_brackets_and_quotes() {
    let cases = [
        ("index=a [search b=c | fields b", "E0203", "3:18"),
        ("index=a (b=c OR d=e", "E0203", "3:18"),
        ("index=a b=c) | stats count", "E0202", "3:21"),
        ("index=a x=\"abc | stats count", "E0203", "3:20"),
        ("index=a | eval x=lower(y", "E0203", "3:32"),
        ("index=a | `security_content_ctime(x)", "E0203", "3:20"),
        ("index=a ]", "E0202", "3:18"),
    ];
    for (q, code, at) in cases {
        let (c, a, d) = first(&doc(q), Severity::Error);
        assert_eq!((c.as_str(), a.as_str()), (code, at), "{q}: {d:?}");
    }
}

#[test]
fn unknown_command_is_a_warning_and_kept() {
    let (sm, diags) = load_in(&doc("index=a | frobnicate x=1 | stats count"), macros_dir());
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    let d = &diags[0];
    assert_eq!(d.code.0, "W0303");
    assert!(d.message.contains("frobnicate"));
    let p = sm.resolve(d.span.unwrap());
    assert_eq!((p.line, p.column), (3, 20));
}

#[test]
fn other_syntax_errors() {
    let cases = [
        ("index=a | eval x=nosuchfn(y)", "E0207", "3:27"),
        ("index=a | eval x=if(a, b)", "E0208", "3:27"),
        ("index=a | stats", "E0201", "3:25"),
        ("index=a | stats count by x span=1q", "E0206", "3:42"),
        ("index=a |", "E0201", "3:19"),
        ("index=a | rename a b", "E0201", "3:29"),
    ];
    for (q, code, at) in cases {
        let (c, a, d) = first(&doc(q), Severity::Error);
        assert_eq!((c.as_str(), a.as_str()), (code, at), "{q}: {d:?}");
    }
}

#[test]
fn bad_yaml() {
    let (code, at, _) = first("name: x\nsearch: [unclosed\nid: 1\n", Severity::Error);
    assert_eq!(code, "E0104");
    assert!(at.starts_with('3') || at.starts_with('4'), "{at}");
}

#[test]
fn missing_search_and_unknown_key() {
    let (code, _, _) = first("name: x\nid: y\n", Severity::Error);
    assert_eq!(code, "E0105");
    let (code, at, d) = first(
        "name: x\nid: y\nsearh: z\nsearch: index=a\n",
        Severity::Warning,
    );
    assert_eq!((code.as_str(), at.as_str()), ("W0111", "3:1"), "{d:?}");
}

#[test]
fn ten_thousand_deep_subsearch() {
    let q = format!(
        "index=a {}b=c{}",
        "[search ".repeat(10_000),
        "]".repeat(10_000)
    );
    let (code, at, _) = first(&doc(&q), Severity::Error);
    assert_eq!(code, "E0205");
    assert!(at.starts_with("3:"), "{at}");
    let q = format!("index=a {}b=c{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(first(&doc(&q), Severity::Error).0, "E0205");
    let q = format!(
        "index=a | eval x={}1{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert_eq!(first(&doc(&q), Severity::Error).0, "E0205");
    let q = format!("index=a | where {}x", "NOT ".repeat(10_000));
    assert_eq!(first(&doc(&q), Severity::Error).0, "E0205");
}

#[test]
fn behavioural_analytics_is_recognised() {
    let q = "| from read_ssa_enriched_events() | eval x=1 | into write_ssa_detected_events();";
    let (code, _, _) = first(&doc(q), Severity::Warning);
    assert_eq!(code, "W0305");
}

#[test]
fn nesting_just_below_the_limit_parses() {
    let n = siemc::lang::MAX_DEPTH - 1;
    let q = format!("index=a {}b=c{}", "[search ".repeat(n), "]".repeat(n));
    let (_, diags) = load_in(&doc(&q), macros_dir());
    assert!(diags.iter().all(|d| d.code.0 != "E0205"), "{diags:?}");
}

#[test]
fn parens_just_below_the_limit_parse() {
    let n = siemc::lang::MAX_DEPTH - 2;
    for q in [
        format!("index=a {}b=c{}", "(".repeat(n), ")".repeat(n)),
        format!("index=a | eval x={}1{}", "(".repeat(n), ")".repeat(n)),
    ] {
        let (_, diags) = load_in(&doc(&q), macros_dir());
        assert!(diags.iter().all(|d| d.code.0 != "E0205"), "{diags:?}");
    }
}
