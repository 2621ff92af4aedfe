//! Differential test: siemc's matcher against the `eql` PyPI package
//! (1.0.1) on events generated from every non-sequence EQL rule of the
//! Elastic dev corpus (`tests/eql_differential/run_eql.py`).
//!
//! Events come from the rule itself: for each comparison a matching and a
//! non-matching value; one event with every comparison matching, one with
//! the case-insensitive ones upper-cased, one per comparison (the first
//! eight) with that one flipped, one with all flipped, one with none of
//! the rule's fields, and one without the arguments of boolean functions. Each event carries
//! `event_type` (the query's category) and `timestamp`, as the package
//! wants, plus `event.category` for siemc.
//!
//! The package's documented differences (SEMANTICS-NOTES.md) are counted
//! by name, not as disagreements: it compares case-insensitively everywhere
//! (checked by re-running siemc with every comparison made insensitive), and
//! never matches an array with `==` (the generated events hold no arrays).
//! `sample` and `![...]` only occur in sequences, which are not run here.
//!
//! Needs `SIEMC_CORPORA` and `SIEMC_EQL_PYTHON` (a python with `eql==1.0.1`).

use serde_json::{json, Map, Value};
use siemc::backend::matcher::Engine;
use siemc::driver::load_paths;
use siemc::ir::{
    Case, CmpOp, Expr, ExprKind, FieldRef, Language, Part, Pattern, Rule, Scalar, Value as IrValue,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

/// How many comparisons get an event of their own with only them flipped.
const FLIPS: usize = 8;
const NO_MATCH: &str = "q9z-siemc";

/// One comparison of the rule: a field, a value that satisfies it, one
/// that does not (`None`: leave the field out), and its case.
struct Leaf {
    field: String,
    yes: Option<Value>,
    no: Option<Value>,
    insensitive: bool,
    /// An argument of a boolean function.
    call_arg: bool,
}

fn field_of(s: &Scalar) -> Option<&FieldRef> {
    match s {
        Scalar::Field(f) => Some(f),
        Scalar::Call { args, .. } => args.first().and_then(field_of),
        _ => None,
    }
}

fn num_of(s: &Scalar) -> Option<f64> {
    match s {
        Scalar::Lit(IrValue::Num(n), _) => Some(n.value),
        _ => None,
    }
}

fn leaves(e: &Expr, out: &mut Vec<Leaf>) {
    match &e.kind {
        ExprKind::And(items) | ExprKind::Or(items) => items.iter().for_each(|i| leaves(i, out)),
        ExprKind::Not(i) => leaves(i, out),
        ExprKind::Match(m) => {
            let yes = m.values.iter().find_map(|v| match v {
                IrValue::Str(p) => Some(json!(common::sample(&p.0))),
                IrValue::Num(n) => Some(json!(n.value)),
                IrValue::Bool(b) => Some(json!(b)),
                IrValue::Cidr(c) => Some(json!(c.split('/').next().unwrap_or(c))),
                _ => None,
            });
            let no = match m.values.first() {
                Some(IrValue::Num(n)) => json!(n.value + 1.0),
                Some(IrValue::Bool(b)) => json!(!b),
                Some(IrValue::Cidr(_)) => json!("203.0.113.254"),
                _ => json!(NO_MATCH),
            };
            out.push(Leaf {
                field: m.field.name.clone(),
                yes,
                no: Some(no),
                insensitive: m.case == Case::Insensitive,
                call_arg: false,
            });
        }
        ExprKind::Exists(f) => out.push(Leaf {
            field: f.name.clone(),
            yes: Some(json!("x")),
            no: None,
            insensitive: false,
            call_arg: false,
        }),
        ExprKind::Compare(c) => {
            let (Some(f), Some(n)) = (field_of(&c.left), num_of(&c.right)) else {
                if let Some(f) = field_of(&c.left) {
                    out.push(Leaf {
                        field: f.name.clone(),
                        yes: None,
                        no: Some(json!(NO_MATCH)),
                        insensitive: false,
                        call_arg: false,
                    });
                }
                return;
            };
            let (yes, no) = match c.op {
                CmpOp::Eq | CmpOp::Le | CmpOp::Ge => (n, n + 1.0),
                CmpOp::Ne | CmpOp::Gt => (n + 1.0, n),
                CmpOp::Lt => (n - 1.0, n),
            };
            // A function of the field (`length(x) > 3`): a string that long.
            let val = |x: f64| match &c.left {
                Scalar::Call { .. } => json!("a".repeat(x.max(0.0) as usize)),
                _ => json!(x),
            };
            out.push(Leaf {
                field: f.name.clone(),
                yes: Some(val(yes)),
                no: Some(val(no)),
                insensitive: false,
                call_arg: false,
            });
        }
        ExprKind::Scalar(Scalar::Call { args, .. }) => {
            // A boolean function (`endsWith(a, b)`, `cidrMatch(ip, ...)`):
            // every field argument gets its first text argument (so field
            // against field compares equal), or the flipped value.
            let text = args.iter().find_map(|a| match a {
                Scalar::Lit(IrValue::Str(p), _) => Some(common::sample(&p.0)),
                _ => None,
            });
            let yes = json!(text.unwrap_or_else(|| "siemc".into()));
            let mut first = true;
            for a in args {
                if let Scalar::Field(f) = a {
                    out.push(Leaf {
                        field: f.name.clone(),
                        yes: Some(yes.clone()),
                        no: Some(json!(if first { NO_MATCH } else { "other" })),
                        insensitive: false,
                        call_arg: true,
                    });
                    first = false;
                }
            }
        }
        _ => {}
    }
}

/// Whether EQL needs back-quotes for this name (a segment that is not an
/// identifier): the package then reads it as ONE key, never as a path into
/// nested objects, so such a field is written as a dotted key (which siemc
/// reads the same as nested objects).
fn quoted(name: &str) -> bool {
    name.split('.').any(|s| {
        s.is_empty()
            || s.starts_with(|c: char| c.is_ascii_digit())
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
    })
}

fn insert_path(obj: &mut Map<String, Value>, path: &str, v: Value) {
    if quoted(path) {
        obj.entry(path.to_string()).or_insert(v);
        return;
    }
    common::insert_path(obj, path, v);
}

/// An event: the category keys, then for each leaf its chosen value (the
/// first leaf naming a field wins).
fn event(category: &str, ts: u64, values: &[(&str, Option<Value>)]) -> Value {
    let mut m = Map::new();
    m.insert("event_type".into(), json!(category));
    m.insert("timestamp".into(), json!(ts));
    if category != "any" {
        insert_path(&mut m, "event.category", json!(category));
    }
    for (f, v) in values {
        if let Some(v) = v {
            insert_path(&mut m, f, v.clone());
        }
    }
    Value::Object(m)
}

fn events_for(rule: &Rule) -> Vec<Value> {
    let Some(q) = &rule.query else {
        return Vec::new();
    };
    let category = q
        .source
        .categories
        .first()
        .map_or("any", String::as_str)
        .to_string();
    let mut ls = Vec::new();
    if let Some(f) = &q.filter {
        leaves(f, &mut ls);
    }
    let pick = |flip: Option<usize>, upper: bool| -> Vec<(&str, Option<Value>)> {
        let mut vals: Vec<(&str, Option<Value>)> = Vec::new();
        // A flipped leaf goes first so its value wins for its field.
        let order: Vec<usize> = flip
            .into_iter()
            .chain((0..ls.len()).filter(|i| Some(*i) != flip))
            .collect();
        for i in order {
            let l = &ls[i];
            if vals.iter().any(|(f, _)| *f == l.field) {
                continue;
            }
            let v = if Some(i) == flip { &l.no } else { &l.yes };
            let v = match v {
                Some(Value::String(s)) if upper && l.insensitive => Some(json!(s.to_uppercase())),
                v => v.clone(),
            };
            vals.push((l.field.as_str(), v));
        }
        vals
    };
    let mut out = vec![
        event(&category, 1, &pick(None, false)),
        event(&category, 2, &pick(None, true)),
    ];
    for i in 0..ls.len().min(FLIPS) {
        out.push(event(&category, 3 + i as u64, &pick(Some(i), false)));
    }
    let all_no: Vec<(&str, Option<Value>)> = ls
        .iter()
        .map(|l| (l.field.as_str(), l.no.clone()))
        .collect();
    out.push(event(&category, 100, &all_no));
    // None of the rule's fields: missing-field (null) logic.
    out.push(event(&category, 101, &[]));
    // Every comparison matching but the function arguments missing.
    if ls.iter().any(|l| l.call_arg) {
        let vals: Vec<(&str, Option<Value>)> = pick(None, false)
            .into_iter()
            .filter(|(f, _)| !ls.iter().any(|l| l.call_arg && l.field == *f))
            .collect();
        out.push(event(&category, 102, &vals));
    }
    out
}

/// The rule with the eql package's semantics where they are documented to
/// differ: every comparison case-insensitive (`fold`), `?` a literal
/// character in wildcard patterns (`qmark`).
fn as_the_package_reads_it(rule: &Rule, fold: bool, qmark: bool) -> Rule {
    fn walk(e: &mut Expr, fold: bool, qmark: bool) {
        match &mut e.kind {
            ExprKind::And(items) | ExprKind::Or(items) => {
                items.iter_mut().for_each(|i| walk(i, fold, qmark))
            }
            ExprKind::Not(i) => walk(i, fold, qmark),
            ExprKind::Match(m) => {
                if fold {
                    m.case = Case::Insensitive;
                }
                if qmark {
                    for v in &mut m.values {
                        if let IrValue::Str(p) = v {
                            *p = Pattern::from_parts(p.0.iter().map(|x| match x {
                                Part::AnyChar => Part::Lit("?".into()),
                                x => x.clone(),
                            }));
                        }
                    }
                }
            }
            ExprKind::Compare(c) if fold => c.case = Case::Insensitive,
            _ => {}
        }
    }
    let mut r = rule.clone();
    if let Some(f) = r.query.as_mut().and_then(|q| q.filter.as_mut()) {
        walk(f, fold, qmark);
    }
    r
}

/// The documented differences, by name, with the rule variant that has them.
const NAMED: &[(&str, bool, bool)] = &[
    (
        "the eql package compares case-insensitively everywhere",
        true,
        false,
    ),
    (
        "the eql package reads `?` in a wildcard as a literal character (Elastic EQL: any one character)",
        false,
        true,
    ),
    (
        "both: case-insensitive everywhere and `?` literal",
        true,
        true,
    ),
];

fn verdicts(rule: &Rule, lines: &[String]) -> Result<Vec<bool>, String> {
    let (mut engine, refused) = Engine::compile(std::slice::from_ref(rule));
    if let Some(r) = refused.first() {
        return Err(r.message.clone());
    }
    Ok(lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            engine
                .eval(l.as_bytes(), i as u64)
                .is_ok_and(|a| !a.is_empty())
        })
        .collect())
}

#[derive(serde::Deserialize)]
struct Answer {
    matched: Option<Vec<usize>>,
    error: Option<String>,
}

fn oracle(python: &str, items: &[Value]) -> Vec<Answer> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/eql_differential/run_eql.py");
    common::run_json(python, &script, &items)
}

#[test]
fn matcher_agrees_with_the_eql_package() {
    let (Some(root), Ok(python)) = (
        common::corpora("the eql differential"),
        std::env::var("SIEMC_EQL_PYTHON"),
    ) else {
        println!("SIEMC_CORPORA or SIEMC_EQL_PYTHON unset: skipping");
        return;
    };
    let queries: BTreeMap<PathBuf, String> = common::elastic_queries(&root, &["eql"])
        .into_iter()
        .map(|(p, _, q)| (p, q))
        .collect();
    let paths: Vec<PathBuf> = queries.keys().cloned().collect();
    let run = load_paths(&paths);
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut cases = Vec::new();
    for l in &run.rules {
        let path = PathBuf::from(&run.sm.get(l.file).path);
        let (Some(rule), Some(query)) = (&l.rule, queries.get(&path)) else {
            *skipped
                .entry("siemc cannot load the rule".into())
                .or_default() += 1;
            continue;
        };
        let Some(q) = rule.query.as_ref().filter(|q| q.language == Language::Eql) else {
            *skipped.entry("not an EQL query".into()).or_default() += 1;
            continue;
        };
        if !q.stages.is_empty() {
            *skipped
                .entry("a sequence or pipe (not run: stateless only)".into())
                .or_default() += 1;
            continue;
        }
        let events = events_for(rule);
        let lines: Vec<String> = events.iter().map(Value::to_string).collect();
        cases.push((path, query.clone(), rule.clone(), events, lines));
    }
    let items: Vec<Value> = cases
        .iter()
        .map(|(_, q, _, ev, _)| json!({"query": q, "events": ev}))
        .collect();
    let answers = oracle(&python, &items);
    assert_eq!(answers.len(), cases.len());

    let (mut agree, mut total) = (0usize, 0usize);
    let mut named: BTreeMap<&str, usize> = BTreeMap::new();
    let mut disagreements = Vec::new();
    let mut rules_run = 0;
    for ((path, query, rule, _, lines), ans) in cases.iter().zip(&answers) {
        let theirs = match (&ans.matched, &ans.error) {
            (Some(m), _) => m,
            (None, e) => {
                let e = e.clone().unwrap_or_default();
                let key = format!(
                    "the eql package cannot evaluate it: {}",
                    e.split(':').next().unwrap_or_default()
                );
                *skipped.entry(key).or_default() += 1;
                continue;
            }
        };
        let ours = match verdicts(rule, lines) {
            Ok(v) => v,
            Err(m) => {
                *skipped
                    .entry(format!("the siemc matcher refuses it: {m}"))
                    .or_default() += 1;
                continue;
            }
        };
        rules_run += 1;
        let variants: Vec<Vec<bool>> = NAMED
            .iter()
            .map(|(_, f, q)| {
                verdicts(&as_the_package_reads_it(rule, *f, *q), lines).unwrap_or_default()
            })
            .collect();
        for (i, ours) in ours.iter().enumerate() {
            total += 1;
            let t = theirs.contains(&i);
            if *ours == t {
                agree += 1;
            } else if let Some(k) = variants.iter().position(|v| v.get(i) == Some(&t)) {
                *named.entry(NAMED[k].0).or_default() += 1;
            } else {
                disagreements.push(format!(
                    "{}: event {i}: siemc {ours}, eql {t}\n  query: {}\n  event: {}",
                    path.display(),
                    query.trim().replace('\n', " "),
                    lines[i]
                ));
            }
        }
    }
    println!("eql differential: {rules_run} rules run, {total} events");
    for (why, n) in &skipped {
        println!("  skipped rules {n:4}: {why}");
    }
    for (why, n) in &named {
        println!("  documented difference {n:4} events: {why}");
    }
    for d in &disagreements {
        println!("DISAGREE {d}");
    }
    let compared = total - named.values().sum::<usize>();
    let rate = agree as f64 / compared.max(1) as f64;
    println!(
        "agreement: {agree}/{compared} events ({:.2}%), {} disagreements",
        rate * 100.0,
        disagreements.len()
    );
    assert!(rules_run > 0);
    assert!(rate >= 0.99, "agreement below 99%");
}
