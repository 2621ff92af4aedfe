//! Every `language = "eql"` rule of the Elastic corpus must compile without
//! an error. Reads the corpus root from `SIEMC_CORPORA`.

use siemc::lang::{eql, Input};
use siemc::span::{FileId, Origin};
use std::collections::BTreeMap;
use std::path::Path;

#[path = "eql_oracle/rules.rs"]
mod rules;
use rules::eql_rules;

#[test]
fn corpus_eql_compiles() {
    let Ok(root) = std::env::var("SIEMC_CORPORA") else {
        println!("SIEMC_CORPORA unset: skipping");
        return;
    };
    let rules = eql_rules(Path::new(&root));
    assert!(!rules.is_empty(), "no EQL rules under {root}/elastic");
    let origin = Origin::verbatim(FileId(0), 0);
    let mut failures = Vec::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut warnings = 0;
    for (path, query) in &rules {
        match eql::compile(&Input {
            text: query,
            origin: &origin,
        }) {
            Ok(c) => warnings += c.warnings.len(),
            Err(diags) => {
                let d = &diags[0];
                *reasons
                    .entry(format!("{} {}", d.code, d.message))
                    .or_default() += 1;
                let at = d.span.map_or(0, |s| s.start as usize);
                let context: String = query[at.min(query.len())..].chars().take(60).collect();
                failures.push(format!(
                    "{}: {} {} at {at}: {context:?}",
                    path.display(),
                    d.code,
                    d.message
                ));
            }
        }
    }
    let ok = rules.len() - failures.len();
    println!(
        "eql corpus: {ok}/{} compiled ({:.1}%), {warnings} warnings",
        rules.len(),
        100.0 * ok as f64 / rules.len() as f64
    );
    let mut top: Vec<_> = reasons.into_iter().collect();
    top.sort_by_key(|t| std::cmp::Reverse(t.1));
    for (reason, n) in top.iter().take(15) {
        println!("  {n:4}  {reason}");
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(failures.is_empty(), "{} EQL rules failed", failures.len());
}
