//! The literal index decides most Sigma rules without evaluating them
//! (`src/backend/matcher/exact.rs`). Over every rule of the dev corpus, the
//! decisions must be the verdicts of plain evaluation: the same alerts, event
//! by event, on the Sigma regression events and on generated Sysmon and ECS
//! events, each also with its string values upper-cased and with a non-ASCII
//! character appended (which sends the event to plain evaluation).

mod common;

use serde_json::Value;
use siemc::backend::matcher::json::Splitter;
use siemc::backend::matcher::{Engine, Worker};
use siemc::driver::load_paths;
use std::process::Command;

/// Every string value of an event rewritten by `f`.
fn map_strings(v: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| map_strings(x, f)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), map_strings(x, f)))
                .collect(),
        ),
        x => x.clone(),
    }
}

#[test]
fn index_decisions_match_plain_evaluation_over_the_corpus() {
    let Some(root) = common::corpora("the index decision test") else {
        return;
    };
    let run = load_paths(&[root.join("sigma")]);
    let rules: Vec<_> = run
        .rules
        .iter()
        .filter(|l| !l.has_errors())
        .filter_map(|l| l.rule.clone())
        .filter(|r| r.meta.rule_type.as_deref() != Some("filter"))
        .collect();
    let (decided, _) = Engine::compile_with(&rules, true);
    let (plain, _) = Engine::compile_with(&rules, false);
    assert!(
        decided.decided_rules() > rules.len() / 2,
        "{} of {} rules decided",
        decided.decided_rules(),
        rules.len()
    );

    // Events: the regression folders' and the benchmark generator's.
    let mut records: Vec<Vec<u8>> = Vec::new();
    for f in common::files(&root.join("sigma-regression"), &["json"]) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        let mut sp = Splitter::new(bytes.as_slice());
        while let Some(r) = sp.next_record() {
            if let Ok(r) = r.result {
                records.push(r);
            }
        }
    }
    // Fewer in a debug build, where evaluating ~2,800 rules is slow.
    let n = if cfg!(debug_assertions) {
        "150"
    } else {
        "1000"
    };
    for shape in ["sysmon", "sysmon-pc", "ecs"] {
        let out = Command::new("python3")
            .args(["benches/gen_events.py", shape, n, "7"])
            .output();
        match out {
            Ok(o) if o.status.success() => records.extend(
                o.stdout
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(<[u8]>::to_vec),
            ),
            _ => println!("python3 benches/gen_events.py failed: generated events skipped"),
        }
    }
    let mut events = Vec::new();
    for r in &records {
        let Ok(v) = serde_json::from_slice::<Value>(r) else {
            continue;
        };
        events.push(v.to_string());
        events.push(map_strings(&v, &|s| s.to_uppercase()).to_string());
        events.push(map_strings(&v, &|s| format!("{s}é")).to_string());
    }

    let (mut wd, mut wp) = (Worker::default(), Worker::default());
    let (mut alerts, mut differ) = (0, Vec::new());
    for (i, ev) in events.iter().enumerate() {
        let verdicts = |e: &Engine, w: &mut Worker| -> Vec<usize> {
            e.eval_shared(w, ev.as_bytes(), i as u64)
                .map(|a| a.iter().map(|x| x.rule).collect())
                .unwrap_or_default()
        };
        let (d, p) = (verdicts(&decided, &mut wd), verdicts(&plain, &mut wp));
        alerts += p.len();
        if d != p {
            differ.push(format!("event {i}: decided {d:?}, evaluated {p:?}: {ev}"));
        }
    }
    println!(
        "index decisions: {} rules ({} decided), {} events, {alerts} alerts, {} disagreements",
        rules.len(),
        decided.decided_rules(),
        events.len(),
        differ.len()
    );
    assert!(alerts > 100, "too few alerts to compare: {alerts}");
    assert!(
        differ.is_empty(),
        "{}",
        differ[..differ.len().min(5)].join("\n")
    );
}
