//! Every KQL query siemc emits, checked by Microsoft's own parser and
//! analyzer (npm `@kusto/language-service-next`, run by tests/kusto/check.js
//! with the target tables and ASIM parsers declared from the schema data).
//! Gated on env SIEMC_KUSTO_NODE (the tests/kusto folder with node_modules;
//! `tests/kusto/setup.sh` installs it). Converts the project's rules/ and,
//! with SIEMC_CORPORA, the dev corpora, leniently and for every schema
//! family, and asserts 0 syntax errors and 0 unknown table / column /
//! function or type diagnostics over everything emitted.

use siemc::backend::{convert, Options, Status, Target};
use siemc::driver::load_paths;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn emitted(paths: &[PathBuf], schemas: &[&str]) -> Vec<(String, String)> {
    let run = load_paths(paths);
    let mut out = Vec::new();
    for l in &run.rules {
        let Some(rule) = &l.rule else { continue };
        for schema in schemas {
            let o = convert(
                Target::Kql,
                rule,
                &Options {
                    lenient: true,
                    schema: Some(schema.to_string()),
                    ..Options::default()
                },
            );
            if matches!(o.status, Status::Exact | Status::Approximate) {
                let id = format!("{} [{schema}]", run.sm.get(l.file).path);
                out.push((id, o.text));
            }
        }
    }
    out
}

#[test]
fn microsoft_parser_accepts_every_emitted_query() {
    let Ok(node_dir) = std::env::var("SIEMC_KUSTO_NODE") else {
        println!("SIEMC_KUSTO_NODE unset: skipping the Kusto analyzer check (run tests/kusto/setup.sh, then SIEMC_KUSTO_NODE=tests/kusto)");
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut queries = emitted(&[root.join("rules")], &["xdr", "sentinel", "asim"]);
    if let Ok(c) = std::env::var("SIEMC_CORPORA") {
        let c = PathBuf::from(c);
        queries.extend(emitted(
            &[
                c.join("elastic"),
                c.join("splunk").join("detections"),
                c.join("sigma").join("rules"),
            ],
            &["xdr", "asim"],
        ));
    }
    let schema = root.join("src/mapping/data/kusto-schema.json");
    let mut child = Command::new("node")
        .arg("check.js")
        .arg(&schema)
        .current_dir(&node_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs tests/kusto/check.js");
    let mut stdin = child.stdin.take().expect("stdin");
    let lines: Vec<String> = queries
        .iter()
        .enumerate()
        .map(|(i, (_, q))| serde_json::json!({"id": i, "query": q}).to_string())
        .collect();
    let writer = std::thread::spawn(move || {
        for l in lines {
            let _ = writeln!(stdin, "{l}");
        }
    });
    let reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    let mut checked = 0;
    for line in reader.lines() {
        let Ok(line) = line else { break };
        let v: serde_json::Value = serde_json::from_str(&line).expect("json from check.js");
        checked += 1;
        let i = v["id"].as_u64().unwrap_or(0) as usize;
        for d in v["diagnostics"].as_array().into_iter().flatten() {
            if d["severity"] != "Error" {
                continue;
            }
            let code = d["code"].as_str().unwrap_or("?").to_string();
            let key = format!("{code} {}", d["message"].as_str().unwrap_or(""));
            *by_code.entry(key.clone()).or_default() += 1;
            let (id, q) = &queries[i];
            let start = d["start"].as_u64().unwrap_or(0) as usize;
            let at: String = q
                .get(start.saturating_sub(40)..)
                .unwrap_or("")
                .chars()
                .take(120)
                .collect();
            examples
                .entry(key)
                .or_insert((id.clone(), at, String::new()));
        }
    }
    let _ = writer.join();
    let _ = child.wait();
    println!(
        "Kusto analyzer: {checked} queries checked, {} distinct errors",
        by_code.len()
    );
    let mut top: Vec<_> = by_code.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1));
    for (k, n) in top.iter().take(40) {
        let (id, at, _) = &examples[*k];
        println!("  {n:>5}  {k}\n         {id}\n         …{at}");
    }
    assert_eq!(checked, queries.len(), "the checker answered every query");
    assert!(by_code.is_empty(), "the Kusto analyzer reported errors");
}
