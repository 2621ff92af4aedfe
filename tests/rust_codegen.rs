//! `convert --to rust`: the generated module compiles (as a cargo project
//! depending only on serde_json and regex, offline) and agrees with the
//! in-process matcher event by event, on the project's rules plus, with
//! `SIEMC_CORPORA`, the Sigma rules that have regression events and a
//! sample of SigmaHQ process_creation rules, over the regression events and
//! events generated from the rules' own values.

use serde_json::{json, Map, Value};
use siemc::backend::matcher::json::Splitter;
use siemc::backend::matcher::{full_filter, Engine};
use siemc::driver::load_paths;
use siemc::ir::{Expr, ExprKind, FieldScheme, Rule};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

const PROCESS_CREATION_SAMPLE: usize = 200;

/// (field, scheme, value) for every string/number match of a filter.
fn values(e: &Expr, out: &mut Vec<(String, FieldScheme, Vec<Value>)>) {
    match &e.kind {
        ExprKind::And(items) | ExprKind::Or(items) => items.iter().for_each(|i| values(i, out)),
        ExprKind::Not(i) => values(i, out),
        ExprKind::Match(m) => {
            let vals: Vec<Value> = m
                .values
                .iter()
                .filter_map(|v| match v {
                    siemc::ir::Value::Str(p) => Some(json!(common::sample(&p.0))),
                    siemc::ir::Value::Num(n) => Some(json!(n.value)),
                    _ => None,
                })
                .collect();
            if !vals.is_empty() {
                out.push((m.field.name.clone(), m.field.scheme, vals));
            }
        }
        _ => {}
    }
}

/// Events generated from a rule's values: the first values flat, the last
/// values upper-cased in the evtx (Sigma) or nested (ECS) shape, and every
/// value of each field as an array.
fn generated(rule: &Rule) -> Vec<Value> {
    let Some(q) = &rule.query else {
        return Vec::new();
    };
    let mut vals = Vec::new();
    values(&full_filter(q), &mut vals);
    if vals.is_empty() {
        return Vec::new();
    }
    let mut flat = Map::new();
    let mut shaped = Map::new();
    let mut arrays = Map::new();
    for (field, scheme, vs) in &vals {
        flat.entry(field.clone()).or_insert(vs[0].clone());
        let last = match vs.last() {
            Some(Value::String(s)) => json!(s.to_uppercase()),
            Some(v) => v.clone(),
            None => Value::Null,
        };
        if *scheme == FieldScheme::Sigma {
            common::insert_path(&mut shaped, &format!("Event.EventData.{field}"), last);
        } else {
            common::insert_path(&mut shaped, field, last);
        }
        arrays
            .entry(field.clone())
            .or_insert(Value::Array(vs.clone()));
    }
    for c in &q.source.categories {
        flat.entry("event.category".to_string()).or_insert(json!(c));
    }
    vec![
        Value::Object(flat),
        Value::Object(shaped),
        Value::Object(arrays),
    ]
}

fn lock_version(lock: &str, name: &str) -> String {
    let needle = format!("name = \"{name}\"\nversion = \"");
    let at = lock.find(&needle).expect("crate in Cargo.lock") + needle.len();
    lock[at..].split('"').next().unwrap_or_default().to_string()
}

#[test]
fn generated_module_agrees_with_the_matcher() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![root.join("rules")];
    let mut event_files = Vec::new();
    match std::env::var("SIEMC_CORPORA") {
        Ok(c) => {
            let c = PathBuf::from(c);
            let sigma = common::files(&c.join("sigma"), &["yml"]);
            let mut pc: Vec<PathBuf> = sigma
                .iter()
                .filter(|p| p.to_string_lossy().contains("/process_creation/"))
                .take(PROCESS_CREATION_SAMPLE)
                .cloned()
                .collect();
            for p in &sigma {
                let text = std::fs::read_to_string(p).unwrap_or_default();
                if text.contains("regression_tests_path:") && !pc.contains(p) {
                    pc.push(p.clone());
                }
            }
            paths.extend(pc);
            event_files = common::files(&c.join("sigma-regression"), &["json"]);
        }
        Err(_) => println!(
            "SIEMC_CORPORA unset: skipping the corpus part (project rules and generated events only)"
        ),
    }
    let run = load_paths(&paths);
    let all: Vec<Rule> = run.rules.iter().filter_map(|l| l.rule.clone()).collect();
    let refs: Vec<&Rule> = all.iter().collect();
    let (module, refused) = siemc::backend::rust::module(&refs);
    let refused_ix: BTreeSet<usize> = refused.iter().map(|(i, _)| *i).collect();
    let rules: Vec<Rule> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| !refused_ix.contains(i))
        .map(|(_, r)| r.clone())
        .collect();
    println!(
        "rules: {} loaded, {} in the module, {} refused",
        all.len(),
        rules.len(),
        refused.len()
    );
    let mut reasons = std::collections::BTreeMap::new();
    for (_, d) in &refused {
        let key: String = d.message.chars().take(60).collect();
        *reasons.entry(key).or_insert(0) += 1;
    }
    for (r, n) in &reasons {
        println!("  refused {n:4}: {r}");
    }

    // Events: regression events and generated ones, one JSON line each.
    let mut events: Vec<Value> = Vec::new();
    for f in &event_files {
        let bytes = std::fs::read(f).expect("events file");
        let mut sp = Splitter::new(bytes.as_slice());
        while let Some(r) = sp.next_record() {
            if let Some(v) = r.result.ok().and_then(|b| serde_json::from_slice(&b).ok()) {
                events.push(v);
            }
        }
    }
    let regression = events.len();
    for r in &rules {
        events.extend(generated(r));
    }
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    println!(
        "events: {regression} regression, {} generated",
        events.len() - regression
    );

    // The in-process matcher over the same rules and bytes.
    let (mut engine, eng_refused) = Engine::compile(&rules);
    assert!(eng_refused.is_empty(), "{:?}", eng_refused.first());
    let expected: Vec<Vec<String>> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut ids: Vec<String> = engine
                .eval(l.as_bytes(), i as u64)
                .expect("valid event")
                .iter()
                .map(|a| engine.rule_info(a.rule).id.clone())
                .collect();
            ids.sort();
            ids
        })
        .collect();

    // The generated module in a cargo project of its own.
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let proj = tmp.join("rust_codegen_project");
    std::fs::create_dir_all(proj.join("src")).expect("project dir");
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).expect("Cargo.lock");
    let manifest = format!(
        "[package]\nname = \"siemc_generated\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nserde_json = {{ version = \"={}\", features = [\"preserve_order\"] }}\nregex = \"={}\"\n\n\
         [workspace]\n",
        lock_version(&lock, "serde_json"),
        lock_version(&lock, "regex")
    );
    std::fs::write(proj.join("Cargo.toml"), manifest).expect("write manifest");
    std::fs::write(proj.join("Cargo.lock"), &lock).expect("write lock");
    std::fs::write(proj.join("src/rules.rs"), &module).expect("write module");
    std::fs::write(
        proj.join("src/main.rs"),
        r#"mod rules;
use std::io::BufRead;
fn main() {
    let stdin = std::io::stdin();
    for (i, line) in stdin.lock().lines().enumerate() {
        let line = line.expect("line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        let mut ids: Vec<&str> = rules::matching(&v).iter().map(|r| r.id).collect();
        ids.sort();
        if i % 7 == 0 {
            let mut one: Vec<&str> = rules::RULES.iter().filter(|r| (r.matches)(&v)).map(|r| r.id).collect();
            one.sort();
            assert_eq!(ids, one, "matching() and the per-rule functions disagree");
        }
        println!("{}", serde_json::to_string(&ids).expect("ids"));
    }
}
"#,
    )
    .expect("write main");
    let target = tmp.join("rust_codegen_target");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--offline", "--quiet", "--manifest-path"])
        .arg(proj.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "the generated module does not compile: {}",
        proj.display()
    );
    let input = tmp.join("rust_codegen_events.ndjson");
    std::fs::write(&input, lines.join("\n") + "\n").expect("write events");
    let out = Command::new(target.join("debug/siemc_generated"))
        .stdin(std::fs::File::open(&input).expect("events"))
        .output()
        .expect("generated program runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<Vec<String>> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("ids line"))
        .collect();
    assert_eq!(got.len(), expected.len());
    let mut disagree = 0;
    let mut matched = 0;
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        matched += e.len();
        if g != e {
            disagree += 1;
            if disagree <= 20 {
                println!(
                    "DISAGREE event {i}: generated {g:?}, matcher {e:?}\n  {}",
                    lines[i]
                );
            }
        }
    }
    println!(
        "{} events, {} alerts from the matcher, {} events where the generated module disagrees",
        got.len(),
        matched,
        disagree
    );
    assert!(matched > 0);
    assert_eq!(disagree, 0);
}
