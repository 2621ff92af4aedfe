//! Oracle test: the fields siemc's IR reads from each EQL rule of the Elastic
//! corpus must be the fields the `eql` PyPI package (1.0.1) extracts, the way
//! elastic/detection-rules computes a rule's fields (`tests/eql_oracle/fields.py`).
//!
//! Needs `SIEMC_CORPORA` and `SIEMC_EQL_PYTHON` (a python with `eql==1.0.1`);
//! skipped when either is unset.

use siemc::ir::visit::query_fields;
use siemc::lang::{eql, Input};
use siemc::span::{FileId, Origin};
use std::path::Path;

mod common;

/// Rules where the eql package is known to be wrong, with the reason.
const ALLOWED: &[(&str, &str)] = &[];

#[derive(serde::Deserialize)]
struct OracleResult {
    fields: Option<Vec<String>>,
    error: Option<String>,
}

/// Run the oracle once over all queries.
fn oracle(python: &str, queries: &[&str]) -> Vec<OracleResult> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/eql_oracle/fields.py");
    common::run_json(python, &script, &queries)
}

#[test]
fn eql_fields_match_the_eql_package() {
    let (Ok(root), Ok(python)) = (
        std::env::var("SIEMC_CORPORA"),
        std::env::var("SIEMC_EQL_PYTHON"),
    ) else {
        println!("SIEMC_CORPORA or SIEMC_EQL_PYTHON unset: skipping");
        return;
    };
    let rules: Vec<(std::path::PathBuf, String)> =
        common::elastic_queries(Path::new(&root), &["eql"])
            .into_iter()
            .map(|(p, _, q)| (p, q))
            .collect();
    assert!(!rules.is_empty(), "no EQL rules under {root}/elastic");
    let queries: Vec<&str> = rules.iter().map(|(_, q)| q.as_str()).collect();
    let expected = oracle(&python, &queries);
    assert_eq!(expected.len(), rules.len(), "one oracle answer per rule");

    let origin = Origin::verbatim(FileId(0), 0);
    let (mut agree, mut allowed, mut disagreements) = (0, 0, Vec::new());
    for ((path, query), want) in rules.iter().zip(&expected) {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let ours = match eql::compile(&Input {
            text: query,
            origin: &origin,
        }) {
            Ok(c) => {
                let mut names: Vec<String> = query_fields(&c.query)
                    .iter()
                    .map(|f| f.name.clone())
                    .collect();
                names.sort();
                names.dedup();
                Ok(names)
            }
            Err(d) => Err(format!("{} {}", d[0].code, d[0].message)),
        };
        let theirs = match (&want.fields, &want.error) {
            (Some(f), _) => Ok(f.clone()),
            (None, e) => Err(e.clone().unwrap_or_default()),
        };
        if ours == theirs {
            agree += 1;
            continue;
        }
        if let Some((_, why)) = ALLOWED.iter().find(|(n, _)| *n == name) {
            allowed += 1;
            println!("ALLOWED {name}: {why}");
            continue;
        }
        let diff = match (&ours, &theirs) {
            (Ok(a), Ok(b)) => format!(
                "only siemc: {:?}; only eql: {:?}",
                a.iter().filter(|x| !b.contains(x)).collect::<Vec<_>>(),
                b.iter().filter(|x| !a.contains(x)).collect::<Vec<_>>()
            ),
            _ => format!("siemc: {ours:?}; eql: {theirs:?}"),
        };
        disagreements.push(format!("{}: {diff}", path.display()));
    }
    println!(
        "eql oracle: {agree}/{} agree, {allowed} allowed, {} disagree",
        rules.len(),
        disagreements.len()
    );
    for d in &disagreements {
        println!("DISAGREE {d}");
    }
    assert!(
        disagreements.is_empty(),
        "{} rules disagree with the eql package",
        disagreements.len()
    );
}
