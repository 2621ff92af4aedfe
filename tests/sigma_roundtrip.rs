//! Round trip over the SigmaHQ dev corpus: Sigma → IR → Sigma → IR must give
//! an equal IR (spans and source positions aside) for every rule.

use siemc::backend::{self, Options, Status, Target};
use siemc::driver::load_paths;
use std::collections::BTreeMap;
use std::path::PathBuf;

mod common;

/// Canonical form under identities the writer relies on, all exact:
/// AND and OR are commutative and associative (operands sorted, nested ones
/// flattened), an OR of any-of matches on one field with the same semantics
/// is one match over the union of their values, and a match's any-of values
/// are a set (compared lower-cased where the match is case-insensitive);
/// `not not x` is `x`.
fn canonical(v: &mut serde_json::Value) {
    use serde_json::Value as J;
    match v {
        J::Object(m) => {
            m.values_mut().for_each(canonical);
            if let Some(J::Object(mt)) = m.get_mut("match") {
                if mt.get("case") == Some(&J::from("insensitive")) {
                    if let Some(vals) = mt.get_mut("values") {
                        lower_literals(vals);
                    }
                }
                if mt.get("quantifier") == Some(&J::from("any")) {
                    if let Some(J::Array(vals)) = mt.get_mut("values") {
                        vals.sort_by_cached_key(|x| x.to_string());
                        vals.dedup();
                    }
                }
            }
            for op in ["and", "or"] {
                let Some(J::Array(items)) = m.get_mut(op) else {
                    continue;
                };
                let mut flat = Vec::new();
                for it in items.drain(..) {
                    match it.get("kind").and_then(|k| k.get(op)) {
                        Some(J::Array(inner)) => flat.extend(inner.iter().cloned()),
                        _ => flat.push(it),
                    }
                }
                if op == "or" {
                    flat = merge_matches(flat);
                }
                flat.sort_by_cached_key(|x| x.to_string());
                *items = flat;
            }
            let double_not = m
                .get("kind")
                .and_then(|k| k.get("not"))
                .and_then(|n| n.get("kind"))
                .and_then(|k| k.get("not"))
                .cloned();
            if let Some(x) = double_not {
                *v = x;
                return;
            }
            // an AND or OR of one operand is that operand
            let single = m
                .get("kind")
                .and_then(|k| k.get("and").or_else(|| k.get("or")))
                .and_then(J::as_array)
                .filter(|a| a.len() == 1)
                .map(|a| a[0].clone());
            if let Some(x) = single {
                *v = x;
            }
        }
        J::Array(a) => a.iter_mut().for_each(canonical),
        _ => {}
    }
}

fn lower_literals(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::String(s)) = m.get_mut("lit") {
                *s = s.to_lowercase();
            }
            m.values_mut().for_each(lower_literals);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(lower_literals),
        _ => {}
    }
}

/// Merge the any-of matches of an OR that differ only in their values.
fn merge_matches(items: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = Vec::new();
    for it in items {
        let key = |x: &serde_json::Value| {
            let m = x.get("kind")?.get("match")?;
            (m.get("quantifier")? == "any").then(|| {
                let mut k = m.clone();
                k.as_object_mut()?.remove("values");
                Some(k)
            })?
        };
        let k = key(&it);
        match k.and_then(|k| out.iter_mut().find(|o| key(o).as_ref() == Some(&k))) {
            Some(prev) => {
                let extra = it["kind"]["match"]["values"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if let Some(vals) = prev["kind"]["match"]["values"].as_array_mut() {
                    vals.extend(extra);
                    vals.sort_by_cached_key(|x| x.to_string());
                    vals.dedup();
                }
            }
            None => out.push(it),
        }
    }
    out
}

/// What must survive the round trip: the query and the meaning-bearing metadata.
fn essence(r: &siemc::ir::Rule) -> serde_json::Value {
    let m = &r.meta;
    let mut v = common::span_free(&serde_json::json!({
        "query": r.query, "id": m.id, "name": m.name, "severity": m.severity, "status": m.status,
        "attack": m.attack, "references": m.references, "false_positives": m.false_positives,
    }));
    canonical(&mut v);
    v
}

fn first_difference(a: &serde_json::Value, b: &serde_json::Value, path: &str) -> String {
    use serde_json::Value::*;
    match (a, b) {
        (Object(x), Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                if x.get(k) != y.get(k) {
                    return first_difference(
                        x.get(k).unwrap_or(&Null),
                        y.get(k).unwrap_or(&Null),
                        &format!("{path}.{k}"),
                    );
                }
            }
            path.to_string()
        }
        (Array(x), Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                if p != q {
                    return first_difference(p, q, &format!("{path}[{i}]"));
                }
            }
            path.to_string()
        }
        _ => format!("{path}: {} != {}", short(a), short(b)),
    }
}

fn short(v: &serde_json::Value) -> String {
    v.to_string().chars().take(100).collect()
}

#[test]
fn sigma_corpus_round_trips() {
    let Ok(root) = std::env::var("SIEMC_CORPORA") else {
        println!("SIEMC_CORPORA unset: skipping the Sigma round trip");
        return;
    };
    let sigma = PathBuf::from(root).join("sigma");
    let roots: Vec<PathBuf> = std::fs::read_dir(&sigma)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("rules"))
        })
        .collect();
    let run = load_paths(&roots);
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sigma_roundtrip");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let opts = Options {
        lenient: true,
        ..Options::default()
    };
    let mut written = Vec::new();
    let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, l) in run.rules.iter().enumerate() {
        let Some(rule) = &l.rule else { continue };
        let out = backend::convert(Target::Sigma, rule, &opts);
        *statuses.entry(out.status.as_str()).or_default() += 1;
        if out.status == Status::Exact || out.status == Status::Approximate {
            let p = tmp.join(format!("{i:05}.yml"));
            std::fs::write(&p, &out.text).unwrap();
            written.push((i, p));
        }
    }
    let mut differ: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut equal = 0;
    for (i, p) in &written {
        let original = &run.rules[*i];
        let back = load_paths(std::slice::from_ref(p));
        // the written file holds the rule (and, for correlations, its base rules) last
        let again = back
            .rules
            .iter()
            .rev()
            .find_map(|l| l.rule.as_ref().filter(|r| r.meta.id == original.meta.id));
        let verdict = match again {
            None => Some(format!(
                "not read back: {:?}",
                back.rules
                    .iter()
                    .flat_map(|l| &l.diags)
                    .map(|d| &d.message)
                    .next()
            )),
            Some(r) => {
                let (a, b) = (essence(original.rule.as_ref().unwrap()), essence(r));
                (a != b).then(|| first_difference(&a, &b, ""))
            }
        };
        match verdict {
            None => equal += 1,
            Some(why) => {
                let key = why
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .replace(|c: char| c.is_ascii_digit(), "#");
                differ
                    .entry(key)
                    .or_default()
                    .push(format!("{}: {why}", run.sm.get(original.file).path));
            }
        }
    }
    let total = run.rules.iter().filter(|l| l.rule.is_some()).count();
    println!("Sigma round trip: {total} rules, conversions {statuses:?}, {equal} equal after a round trip");
    let mut top: Vec<_> = differ.iter().collect();
    top.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    for (k, v) in top.iter().take(15) {
        println!("  {:>4}  {k}\n        e.g. {}", v.len(), v[0]);
    }
    assert_eq!(equal, total, "every rule must round-trip to an equal IR");
}
