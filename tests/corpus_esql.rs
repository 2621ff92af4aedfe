//! Every ES|QL rule of the Elastic corpus must compile (at least 98%).
//! Corpus root from env `SIEMC_CORPORA`; skipped when unset.

use siemc::lang::{esql, Input};
use siemc::span::{FileId, Origin};
use std::collections::BTreeMap;
use std::path::Path;

mod common;

#[test]
fn elastic_esql_rules_compile() {
    let Ok(root) = std::env::var("SIEMC_CORPORA") else {
        println!("SIEMC_CORPORA unset: skipping");
        return;
    };
    let files = common::files(&Path::new(&root).join("elastic"), &["toml"]);
    let (mut total, mut ok, mut warned) = (0usize, 0usize, 0usize);
    let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut warning_kinds: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let Ok(doc) = text.parse::<toml::Table>() else {
            continue;
        };
        let Some(rule) = doc.get("rule").and_then(|r| r.as_table()) else {
            continue;
        };
        if rule.get("language").and_then(|l| l.as_str()) != Some("esql") {
            continue;
        }
        let Some(query) = rule.get("query").and_then(|q| q.as_str()) else {
            continue;
        };
        total += 1;
        let origin = Origin::verbatim(FileId(0), 0);
        match esql::compile(&Input {
            text: query,
            origin: &origin,
        }) {
            Ok(c) => {
                ok += 1;
                if !c.warnings.is_empty() {
                    warned += 1;
                }
                for w in &c.warnings {
                    *warning_kinds
                        .entry(format!("{} {}", w.code, w.message))
                        .or_default() += 1;
                }
                for cv in &c.caveats {
                    *warning_kinds
                        .entry(format!("caveat: {}", cv.message))
                        .or_default() += 1;
                }
            }
            Err(ds) => {
                let d = &ds[0];
                let at = d.span.map(|s| s.start as usize).unwrap_or(0);
                let near: String = query[at.min(query.len())..].chars().take(40).collect();
                reasons
                    .entry(format!("{} {}", d.code, d.message))
                    .or_default()
                    .push(format!("{}: {near:?}", f.display()));
            }
        }
    }
    for (w, n) in &warning_kinds {
        println!("  warning {n:4}  {w}");
    }
    let mut top: Vec<_> = reasons.iter().collect();
    top.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    println!("esql rules: {total}, compiled: {ok}, with warnings: {warned}");
    for (reason, files) in top.iter().take(15) {
        println!("{:4}  {reason}", files.len());
        for f in files.iter().take(3) {
            println!("        {f}");
        }
    }
    assert!(total > 0, "no esql rules found under {root}/elastic");
    let rate = ok as f64 / total as f64;
    assert!(rate >= 0.98, "only {ok}/{total} esql rules compile");
}
