//! The EQL rules of the Elastic corpus (shared by `corpus_eql` and `eql_oracle`).

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

/// `(path, query)` of every EQL rule under `root/elastic`, sorted by path.
pub fn eql_rules(root: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    toml_files(&root.join("elastic"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let doc: toml::Table = text.parse().ok()?;
            let rule = doc.get("rule")?.as_table()?;
            if rule.get("language")?.as_str()? != "eql" {
                return None;
            }
            let query = rule.get("query")?.as_str()?.to_string();
            Some((p, query))
        })
        .collect()
}
