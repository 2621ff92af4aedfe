//! Broken rule files: each file under tests/cases/*-broken/ names the
//! diagnostics it must produce in `# expect: CODE LINE:COL` header lines;
//! exactly those must come out (code and position), and nothing may panic.
//! Inputs that are awkward to keep as files (10,000 parentheses, invalid
//! UTF-8) are generated here.

use siemc::driver::load_paths;
use std::path::{Path, PathBuf};

fn diagnostics_of(path: &Path) -> Vec<String> {
    let run = load_paths(&[path.to_path_buf()]);
    let mut got: Vec<String> = run
        .rules
        .iter()
        .flat_map(|l| l.diags.iter())
        .map(|d| match d.span {
            Some(s) => {
                let p = run.sm.resolve(s);
                format!("{} {}:{}", d.code, p.line, p.column)
            }
            None => d.code.to_string(),
        })
        .collect();
    got.extend(run.file_errors.iter().map(|(_, d)| d.code.to_string()));
    got.sort();
    got
}

fn expectations(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim_start_matches(['#', ' ']).strip_prefix("expect: "))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

#[test]
fn broken_rule_files_report_exact_codes_and_positions() {
    let mut failures = Vec::new();
    let mut n = 0;
    for dir in std::fs::read_dir("tests/cases").unwrap().flatten() {
        if !dir.file_name().to_string_lossy().ends_with("-broken") {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let want = expectations(&text);
            assert!(!want.is_empty(), "{} has no `# expect:` line", f.display());
            let got = diagnostics_of(&f);
            n += 1;
            if got != want {
                failures.push(format!("{}: expected {want:?}, got {got:?}", f.display()));
            }
        }
    }
    assert!(n >= 10);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn rule_with_query(language: &str, query: &str) -> String {
    format!(
        "[rule]\nname = \"generated\"\nrisk_score = 1\nrule_id = \"x\"\nseverity = \"low\"\ntype = \"{}\"\nlanguage = \"{language}\"\nquery = '''\n{query}\n'''\n",
        if language == "kuery" || language == "lucene" { "query" } else { language }
    )
}

#[test]
fn ten_thousand_nested_parentheses_are_a_diagnostic() {
    let dir = std::env::temp_dir().join(format!("siemc-deep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let deep = |inner: &str| format!("{}{inner}{}", "(".repeat(10_000), ")".repeat(10_000));
    for (lang, q) in [
        (
            "eql",
            format!("process where {}", deep("process.name == \"a\"")),
        ),
        ("kuery", deep("a: b")),
        ("lucene", deep("a:b")),
        ("esql", format!("from x | where {}", deep("a == 1"))),
    ] {
        let p = dir.join(format!("deep_{lang}.toml"));
        std::fs::write(&p, rule_with_query(lang, &q)).unwrap();
        let got = diagnostics_of(&p);
        assert!(
            got.iter().any(|d| d.starts_with("E0205 9:")),
            "{lang}: {got:?}"
        );
    }
}

#[test]
fn invalid_utf8_is_reported_at_the_bad_byte() {
    let dir = std::env::temp_dir().join(format!("siemc-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.toml");
    let mut bytes = b"[rule]\nname = \"caf".to_vec();
    bytes.extend([0xC3, 0x28]);
    bytes.extend(b"\"\n");
    std::fs::write(&p, bytes).unwrap();
    assert_eq!(diagnostics_of(&p), vec!["E0102 2:12"]);
}

#[test]
fn good_rules_next_to_bad_ones_still_load() {
    let run = load_paths(&[
        PathBuf::from("tests/cases/elastic-broken"),
        PathBuf::from("rules/elastic"),
    ]);
    let ok = run.rules.iter().filter(|l| l.rule.is_some()).count();
    assert!(
        ok >= 6,
        "the project's own rules must still load beside broken files"
    );
}
