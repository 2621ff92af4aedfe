//! Every kuery and Lucene rule of the Elastic corpus compiles without error.
//! The corpus root comes from `SIEMC_CORPORA` (skipped when unset).

use siemc::lang::{kuery, lucene, Compiled, Input};
use siemc::span::{FileId, Origin};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

type Compile = fn(&Input) -> Result<Compiled, Vec<siemc::diag::Diagnostic>>;

#[test]
fn elastic_kuery_and_lucene_rules_compile() {
    let Ok(root) = std::env::var("SIEMC_CORPORA") else {
        println!("SIEMC_CORPORA unset: skipping");
        return;
    };
    let mut files = Vec::new();
    toml_files(&Path::new(&root).join("elastic"), &mut files);
    files.sort();
    let mut total: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut caveats: BTreeMap<String, usize> = BTreeMap::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(doc) = text.parse::<toml::Table>() else {
            continue;
        };
        let Some(rule) = doc.get("rule").and_then(|r| r.as_table()) else {
            continue;
        };
        let lang = rule.get("language").and_then(|l| l.as_str()).unwrap_or("");
        let (name, compile): (&str, Compile) = match lang {
            "kuery" => ("kuery", kuery::compile),
            "lucene" => ("lucene", lucene::compile),
            _ => continue,
        };
        let Some(query) = rule.get("query").and_then(|q| q.as_str()) else {
            continue;
        };
        let origin = Origin::verbatim(FileId(0), 0);
        let entry = total.entry(name).or_default();
        entry.0 += 1;
        match compile(&Input {
            text: query,
            origin: &origin,
        }) {
            Ok(c) => {
                entry.1 += 1;
                for cv in c.caveats {
                    *caveats.entry(cv.code).or_default() += 1;
                }
            }
            Err(errs) => {
                let e = &errs[0];
                *reasons
                    .entry(format!("{} {}", e.code, e.message))
                    .or_default() += 1;
                let at = e.span.map(|s| s.start as usize).unwrap_or(0);
                let near: String = query.get(at..).unwrap_or("").chars().take(40).collect();
                failures.push(format!(
                    "{}: {} {} at {at}: {near:?}",
                    path.display(),
                    e.code,
                    e.message
                ));
            }
        }
    }
    for (lang, (n, ok)) in &total {
        println!("{lang}: {ok}/{n} compiled");
    }
    println!("caveats: {caveats:?}");
    let mut top: Vec<_> = reasons.into_iter().collect();
    top.sort_by_key(|r| std::cmp::Reverse(r.1));
    for (reason, n) in top.iter().take(15) {
        println!("{n:5}  {reason}");
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(
        total.get("kuery").is_some_and(|t| t.0 > 0),
        "no kuery rules found"
    );
    assert!(failures.is_empty(), "{} rules failed", failures.len());
}
