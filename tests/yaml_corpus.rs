//! Every YAML file of the corpora parses, and every scalar's origin maps its
//! decoded characters back onto the same characters in the file.

use siemc::source::yaml::{self, YamlKind, YamlNode};
use siemc::span::FileId;
use std::path::Path;

mod common;

fn check(node: &YamlNode, text: &str, bad: &mut usize, checked: &mut usize) {
    match &node.kind {
        YamlKind::Scalar(s) => {
            for (i, c) in s.value.char_indices() {
                if c.is_whitespace() || c == '\\' || c == '"' || c == '\'' {
                    continue;
                }
                *checked += 1;
                let at = s.origin.map(i);
                // an escape (`\u0410`) stands for the character it decodes to
                if !text
                    .get(at..)
                    .is_some_and(|t| t.starts_with(c) || t.starts_with('\\'))
                {
                    *bad += 1;
                    if *bad < 6 {
                        println!(
                            "  mis-mapped at {at}: {:?} in {:?}",
                            c,
                            &s.value[..s.value.len().min(60)]
                        );
                    }
                    return;
                }
            }
        }
        YamlKind::Seq(items) => items.iter().for_each(|n| check(n, text, bad, checked)),
        YamlKind::Map(entries) => entries.iter().for_each(|(k, v)| {
            check(k, text, bad, checked);
            check(v, text, bad, checked)
        }),
    }
}

#[test]
fn corpus_yaml_parses_with_exact_origins() {
    let Ok(root) = std::env::var("SIEMC_CORPORA") else {
        println!("SIEMC_CORPORA unset: skipping the YAML corpus test");
        return;
    };
    let files = common::files(Path::new(&root), &["yml", "yaml"]);
    let (mut failed, mut bad, mut checked) = (Vec::new(), 0, 0);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        match yaml::parse(FileId(0), &text) {
            Ok(docs) => docs
                .iter()
                .for_each(|d| check(d, &text, &mut bad, &mut checked)),
            Err(e) => failed.push(format!("{}: {}", f.display(), e.message)),
        }
    }
    println!(
        "{} YAML files, {} failed to parse, {checked} characters checked, {bad} scalars mis-mapped",
        files.len(),
        failed.len()
    );
    for f in failed.iter().take(10) {
        println!("  {f}");
    }
    assert!(files.len() > 1000);
    assert!(failed.is_empty());
    assert_eq!(bad, 0);
}
