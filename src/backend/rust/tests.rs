use super::*;
use crate::driver::load_paths;

fn rules_of(text: &str, ext: &str) -> Vec<Rule> {
    let dir = std::env::temp_dir().join(format!("siemc-rust-unit-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let p = dir.join(format!("r{}.{ext}", text.len()));
    std::fs::write(&p, text).unwrap();
    let run = load_paths(&[p]);
    run.rules.into_iter().filter_map(|l| l.rule).collect()
}

const SIGMA: &str = "title: Whoami\nid: 11111111-2222-3333-4444-555555555555\nlevel: high\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n    CommandLine|re: '(?i)/all$'\n  condition: sel\n";

#[test]
fn a_stateless_rule_becomes_a_function_and_a_table_row() {
    let rules = rules_of(SIGMA, "yml");
    let o = convert(&rules[0], &Options::default());
    assert_eq!(o.status, Status::Exact, "{:?}", o.diagnostics);
    assert!(o
        .text
        .contains("pub fn rule_11111111_2222_3333_4444_555555555555(event: &Value) -> bool"));
    assert!(o.text.contains("S::Suffix(\"\\\\whoami.exe\", true)"));
    assert!(o.text.contains("severity: Some(\"high\")"));
    // The Sigma field routes come from the matcher's alias table.
    assert!(o.text.contains("(\"Event.EventData.Image\", &["));
    assert!(o.text.contains("(\"winlog.event_data.Image\", &["));
}

#[test]
fn a_stateful_rule_is_refused_by_name() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("rules/elastic/collection_mailbox_export_then_pst_write.toml");
    let run = load_paths(&[p]);
    let rule = run.rules[0].rule.as_ref().expect("the seed rule loads");
    let o = convert(rule, &Options::default());
    assert_eq!(o.status, Status::Unsupported);
    assert_eq!(o.diagnostics[0].code, codes::REFUSED);
    assert!(o.diagnostics[0]
        .message
        .contains("`sequence` stage keeps state"));
}

#[test]
fn names_are_unique() {
    let mut g = Gen::default();
    assert_eq!(g.fn_name("A-b", ""), "rule_a_b");
    assert_eq!(g.fn_name("a b", ""), "rule_a_b_2");
    assert_eq!(g.fn_name("", "X"), "rule_x");
}
