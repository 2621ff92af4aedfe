//! The project's rules (rules/elastic, rules/splunk, rules/sigma) run by the
//! native matcher over their events files, with the alerts asserted exactly;
//! and, for each rule siemc can convert to Sigma, the Sigma version read back
//! and run over the same events (or a Sigma-shaped copy, `<stem>.sigma.events.ndjson`,
//! where the source's field names are not the Sigma taxonomy's).
//!
//! `<stem>.expect.json`:
//! ```json
//! {"now": "RFC 3339",
//!  "rules": {"<rule id>": {"event_indexes": [..]} | {"results": [{subset}, ..]} | {"refused": true}
//!            | {"only_correlated": true}},
//!  "sigma": {"<rule id>": {"mode": "strict" | "lenient", "events": "file", "event_indexes": [..]}}}
//! ```
//! `event_indexes`: the alerts that carry events, by index (in order), and
//! `count` all alerts when some carry none (thresholds); `extra`: per alert,
//! a subset of its group key and aggregate values;
//! `only_correlated`: a rule a correlation uses without `generate: true`
//! (it runs, but raises no alerts of its own);
//! `results`: the rows of a pipeline, each given as a subset of its fields;
//! a Sigma entry's `event_indexes`: the events its detection(s) alert on
//! (a correlation alerts in place of the base rules it uses without
//! `generate: true`; for an aggregation dropped by a lenient conversion the
//! alerts are the events that pass the source's filter).

use serde_json::Value as J;
use siemc::backend::matcher::{Alert, Engine};
use siemc::backend::{convert, Options, Target};
use siemc::driver::load_paths;
use siemc::ir::Rule;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn load(paths: &[PathBuf]) -> Vec<Rule> {
    let mut run = load_paths(paths);
    siemc::source::sigma::resolve(&mut run.rules);
    assert!(run.file_errors.is_empty(), "{:?}", run.file_errors);
    run.rules
        .iter()
        .map(|l| {
            assert!(!l.has_errors(), "{:?}", l.diags);
            l.rule.clone().expect("a rule")
        })
        .collect()
}

struct Outcome {
    alerts: BTreeMap<String, Vec<Alert>>,
    refused: Vec<String>,
    only_correlated: Vec<String>,
}

fn run(rules: &[Rule], events: &Path, now: &str) -> Outcome {
    let (mut e, refused) = Engine::compile(rules);
    e.now = siemc::backend::matcher::time::parse_millis(now);
    let text = std::fs::read_to_string(events).expect("events file");
    let mut all = Vec::new();
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        all.extend(e.eval(line.as_bytes(), i as u64).expect("valid event"));
    }
    all.extend(e.finish());
    let mut alerts: BTreeMap<String, Vec<Alert>> = BTreeMap::new();
    for a in all {
        alerts
            .entry(e.rule_info(a.rule).id.clone())
            .or_default()
            .push(a);
    }
    Outcome {
        alerts,
        refused: refused.into_iter().map(|r| r.rule_id).collect(),
        only_correlated: e.only_correlated().iter().map(|r| r.id.clone()).collect(),
    }
}

fn indexes(alerts: &[Alert]) -> Vec<u64> {
    alerts
        .iter()
        .filter(|a| !a.events.is_empty())
        .map(|a| a.event_index)
        .collect()
}

fn check_rule(what: &str, id: &str, exp: &J, out: &Outcome) {
    let got = out.alerts.get(id).map(Vec::as_slice).unwrap_or(&[]);
    if exp["refused"] == J::Bool(true) {
        assert!(
            out.refused.iter().any(|r| r == id),
            "{what} {id}: expected a refusal"
        );
        return;
    }
    assert!(!out.refused.iter().any(|r| r == id), "{what} {id}: refused");
    let only = out.only_correlated.iter().any(|r| r == id);
    assert_eq!(
        exp["only_correlated"] == J::Bool(true),
        only,
        "{what} {id}: runs only inside a correlation"
    );
    if only {
        assert!(got.is_empty(), "{what} {id}: alerts of its own");
        return;
    }
    if let Some(want) = exp.get("event_indexes") {
        let want: Vec<u64> = serde_json::from_value(want.clone()).expect("indexes");
        assert_eq!(indexes(got), want, "{what} {id}: alerts by event index");
        let count = exp
            .get("count")
            .and_then(J::as_u64)
            .map_or(want.len(), |c| c as usize);
        assert_eq!(got.len(), count, "{what} {id}: alert count");
    }
    if let Some(J::Array(want)) = exp.get("extra") {
        assert_eq!(got.len(), want.len(), "{what} {id}: alerts");
        for (a, w) in got.iter().zip(want) {
            for (k, v) in w.as_object().expect("an extra subset") {
                assert_eq!(a.extra.get(k), Some(v), "{what} {id}: {k}");
            }
        }
    }
    if let Some(J::Array(want)) = exp.get("results") {
        assert_eq!(got.len(), want.len(), "{what} {id}: result rows");
        for (a, w) in got.iter().zip(want) {
            let row = &a.extra["result"];
            for (k, v) in w.as_object().expect("a row subset") {
                assert_eq!(&row[k], v, "{what} {id}: field {k} of {row}");
            }
        }
    }
}

/// Convert to Sigma (strictly, then leniently), read it back, run it.
fn check_sigma(dir: &Path, rule: &Rule, exp: &J, default_events: &Path, now: &str) {
    let id = &rule.meta.id;
    let strict = convert(Target::Sigma, rule, &Options::default());
    let mode = exp["mode"].as_str().expect("mode");
    let out = if strict.text.is_empty() {
        assert_eq!(mode, "lenient", "{id}: strict Sigma conversion refused");
        let lenient = convert(
            Target::Sigma,
            rule,
            &Options {
                lenient: true,
                ..Options::default()
            },
        );
        assert!(
            !lenient.text.is_empty(),
            "{id}: no lenient Sigma conversion"
        );
        println!(
            "{id}: lenient Sigma conversion, caveats: {}",
            lenient
                .caveats
                .iter()
                .map(|c| c.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        lenient
    } else {
        assert_eq!(mode, "strict", "{id}: converts strictly");
        strict
    };
    let tmp = std::env::temp_dir().join(format!("siemc-matcher-rules-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let path = tmp.join(format!("{id}.yml"));
    std::fs::write(&path, &out.text).expect("write");
    let rules = load(std::slice::from_ref(&path));
    let events = exp
        .get("events")
        .and_then(J::as_str)
        .map_or_else(|| default_events.to_path_buf(), |f| dir.join(f));
    let o = run(&rules, &events, now);
    let _ = std::fs::remove_file(&path);
    let mut got: Vec<u64> = o.alerts.values().flat_map(|a| indexes(a)).collect();
    got.sort();
    let want: Vec<u64> = serde_json::from_value(exp["event_indexes"].clone()).expect("indexes");
    assert_eq!(
        got,
        want,
        "{id}: Sigma version's alerts on {}",
        events.display()
    );
}

fn check_dir(dir: &Path) -> usize {
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("rules dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for expect in entries {
        let name = expect.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(stem) = name.strip_suffix(".expect.json") else {
            continue;
        };
        let rule_file = ["toml", "yml"]
            .iter()
            .map(|e| dir.join(format!("{stem}.{e}")))
            .find(|p| p.is_file())
            .expect("the rule next to its expectation");
        let events = dir.join(format!("{stem}.events.ndjson"));
        let exp: J = serde_json::from_str(&std::fs::read_to_string(&expect).expect("read"))
            .expect("expectation JSON");
        let now = exp["now"].as_str().expect("now");
        let rules = load(std::slice::from_ref(&rule_file));
        let out = run(&rules, &events, now);
        let what = rule_file.display().to_string();
        for (id, e) in exp["rules"].as_object().expect("rules") {
            check_rule(&what, id, e, &out);
        }
        for (id, got) in &out.alerts {
            assert!(
                exp["rules"].get(id).is_some(),
                "{what}: {id} alerted {} times, no expectation",
                got.len()
            );
        }
        if let Some(s) = exp.get("sigma").and_then(J::as_object) {
            for (id, e) in s {
                let r = rules.iter().find(|r| &r.meta.id == id).expect("rule id");
                check_sigma(dir, r, e, &events, now);
            }
        }
        checked += 1;
    }
    checked
}

#[test]
fn project_rules_give_their_expected_alerts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut n = 0;
    for d in ["elastic", "splunk", "sigma"] {
        n += check_dir(&root.join(d));
    }
    println!("{n} rule files checked");
    assert!(n >= 13, "only {n} rule files have expectations");
}

#[test]
fn seed_originals_give_the_same_alerts() {
    // `../shared/seed` from the main checkout (`../../shared/seed` from a worktree).
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(seed) = ["../shared/seed", "../../shared/seed"]
        .iter()
        .map(|p| manifest.join(p))
        .find(|p| p.is_dir())
    else {
        println!("../shared/seed missing: skipping");
        return;
    };
    // The seed detections use their own macro folder; the events and
    // expectations are the project's (same logic, same field names).
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let pairs = [
        (
            "elastic/collection_email_powershell_exchange_mailbox.toml",
            "elastic/collection_mailbox_export_via_powershell",
        ),
        (
            "splunk/2024-10/o365_suspicious_rights_delegation.yml",
            "splunk/o365_mailbox_rights_delegation",
        ),
        (
            "splunk/2024-10/email_servers_sending_high_volume_traffic_to_hosts.yml",
            "splunk/email_server_outbound_volume_spike",
        ),
        (
            "splunk/2024-10/hosts_receiving_high_volume_of_network_traffic_from_email_server.yml",
            "splunk/email_server_inbound_volume_spike",
        ),
    ];
    for (seed_rule, ours) in pairs {
        let path = seed.join(seed_rule);
        let rules = load(std::slice::from_ref(&path));
        let exp: J = serde_json::from_str(
            &std::fs::read_to_string(project.join(format!("{ours}.expect.json"))).expect("read"),
        )
        .expect("expectation");
        let now = exp["now"].as_str().expect("now");
        let events = project.join(format!("{ours}.events.ndjson"));
        let out = run(&rules, &events, now);
        let (_, e) = exp["rules"]
            .as_object()
            .and_then(|m| m.iter().next())
            .expect("one rule");
        let id = &rules[0].meta.id;
        check_rule(&path.display().to_string(), id, e, &out);
        println!("{seed_rule}: same alerts as {ours}");
    }
}
