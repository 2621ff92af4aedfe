//! Sigma correlations run by the engine, from Sigma YAML and hand-written events.

use super::super::{Alert, Engine};
use crate::span::SourceMap;
use serde_json::json;

const BASES: &str = r#"
title: Failed login
id: 00000000-0000-0000-0000-000000000001
name: failed_login
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4625}
    condition: selection
---
title: Successful login
id: 00000000-0000-0000-0000-000000000002
name: successful_login
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4624}
    condition: selection
---
title: Transfer
id: 00000000-0000-0000-0000-000000000003
name: transfer
logsource: {category: firewall}
detection:
    selection: {action: allowed}
    condition: selection
"#;

/// Compile the base rules with one correlation (ids: the bases, then `corr`).
fn engine(correlation: &str) -> Engine {
    engine_of(BASES, correlation)
}

fn engine_of(bases: &str, correlation: &str) -> Engine {
    let mut sm = SourceMap::new();
    let text = format!("{bases}---\ntitle: Correlation\nid: corr\n{correlation}");
    let file = sm.add("test.yml", text);
    let loaded = crate::source::sigma::load(&sm, file);
    let rules: Vec<_> = loaded
        .iter()
        .map(|l| {
            assert!(!l.has_errors(), "{:?}", l.diags);
            l.rule.clone().expect("a rule")
        })
        .collect();
    let (e, refused) = Engine::compile(&rules);
    assert!(refused.is_empty(), "{refused:?}");
    e
}

/// Events at `minute`s after 10:00 with the given fields; the alerts by rule id.
fn run(e: &mut Engine, events: &[(u32, serde_json::Value)]) -> Vec<(String, u64, Alert)> {
    let mut out = Vec::new();
    for (i, (minute, ev)) in events.iter().enumerate() {
        let mut ev = ev.clone();
        let ts = format!("2026-05-20T{:02}:{:02}:00Z", 10 + minute / 60, minute % 60);
        ev["timestamp"] = json!(ts);
        for a in e.eval(ev.to_string().as_bytes(), i as u64).expect("event") {
            out.push((e.rule_info(a.rule).id.clone(), a.event_index, a));
        }
    }
    out
}

/// The correlation's alerts by event index.
fn fired(alerts: &[(String, u64, Alert)]) -> Vec<(&str, u64)> {
    alerts
        .iter()
        .filter(|(r, _, _)| r == "corr")
        .map(|(r, i, _)| (r.as_str(), *i))
        .collect()
}

fn corr_alerts(alerts: &[(String, u64, Alert)]) -> Vec<&Alert> {
    alerts
        .iter()
        .filter(|(r, _, _)| r == "corr")
        .map(|(_, _, a)| a)
        .collect()
}

fn login(id: u32, user: &str) -> serde_json::Value {
    json!({"EventID": id, "User": user, "Computer": "host1"})
}

#[test]
fn event_count_per_group_with_expiry_and_reset() {
    let mut e = engine(
        "correlation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [User]\n  timespan: 10m\n  condition: {gte: 3}\n",
    );
    // The base rule runs only inside the correlation; the others stand alone.
    assert_eq!(e.len(), 3);
    let ids: Vec<_> = e.only_correlated().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["00000000-0000-0000-0000-000000000001"]);
    let evs = [
        (0, login(4625, "alice")),
        (1, login(4625, "bob")),
        (2, login(4625, "alice")),
        (3, login(4624, "alice")),  // another rule: not counted
        (20, login(4625, "alice")), // 0 and 2 fell out of the window
        (21, login(4625, "alice")),
        (22, login(4625, "bob")),
        (23, login(4625, "alice")),     // 20, 21, 23: three
        (24, login(4625, "alice")),     // the window started over
        (25, json!({"EventID": 4625})), // no group-by field: not counted
    ];
    let out = run(&mut e, &evs);
    assert_eq!(fired(&out), [("corr", 7)]);
    let ids: Vec<_> = out.iter().map(|(r, i, _)| (r.as_str(), *i)).collect();
    assert_eq!(
        ids,
        [("00000000-0000-0000-0000-000000000002", 3), ("corr", 7)]
    );
    let a = corr_alerts(&out)[0];
    assert_eq!(a.extra["group"], json!({"User": "alice"}));
    assert_eq!(a.extra["event_count"], json!(3));
    assert_eq!(a.extra["event_indexes"], json!([4, 5, 7]));
    assert_eq!(a.events.len(), 3);
}

#[test]
fn value_count_counts_distinct_values() {
    let mut e = engine(
        "correlation:\n  type: value_count\n  rules: [failed_login]\n  group-by: [Computer]\n  timespan: 1h\n  condition: {field: User, gte: 3}\n",
    );
    let evs = [
        (0, login(4625, "alice")),
        (1, login(4625, "alice")),
        (2, login(4625, "bob")),
        (
            3,
            json!({"EventID": 4625, "User": "carol", "Computer": "host2"}),
        ),
        (4, json!({"EventID": 4625, "Computer": "host1"})), // no User: no value
        (5, login(4625, "carol")),
    ];
    let out = run(&mut e, &evs);
    assert_eq!(fired(&out), [("corr", 5)]);
    assert_eq!(corr_alerts(&out)[0].extra["value_count"], json!(3));
    assert_eq!(
        corr_alerts(&out)[0].extra["group"],
        json!({"Computer": "host1"})
    );
}

#[test]
fn temporal_with_aliases() {
    // The failed login's target is the successful login's source.
    let mut e = engine(
        "correlation:\n  type: temporal\n  rules: [failed_login, successful_login]\n  group-by: [ip]\n  timespan: 5m\n  aliases:\n    ip:\n      failed_login: dst\n      successful_login: src\n",
    );
    let evs = [
        (
            0,
            json!({"EventID": 4625, "dst": "10.0.0.1", "src": "10.0.0.9"}),
        ),
        (
            1,
            json!({"EventID": 4624, "dst": "10.0.0.1", "src": "10.0.0.2"}),
        ), // src differs
        (2, json!({"EventID": 4625, "dst": "10.0.0.1"})), // same rule again
        (3, json!({"EventID": 4624, "src": "10.0.0.1"})), // both rules: alert
        (10, json!({"EventID": 4624, "src": "10.0.0.5"})),
        (16, json!({"EventID": 4625, "dst": "10.0.0.5"})), // 6 minutes later: expired
    ];
    let out = run(&mut e, &evs);
    assert_eq!(fired(&out), [("corr", 3)]);
    assert_eq!(
        corr_alerts(&out)[0].extra["group"],
        json!({"ip": "10.0.0.1"})
    );
    assert_eq!(corr_alerts(&out)[0].extra["temporal"], json!(2));
}

#[test]
fn temporal_ordered_needs_the_written_order() {
    let mut e = engine(
        "correlation:\n  type: temporal_ordered\n  rules: [failed_login, successful_login]\n  group-by: [User]\n  timespan: 5m\n",
    );
    let evs = [
        (0, login(4624, "alice")), // success first: no order yet
        (1, login(4625, "alice")),
        (2, login(4624, "alice")), // failed then success: alert
        (3, login(4625, "bob")),
        (9, login(4624, "bob")), // too late
        (10, login(4624, "carol")),
        (11, login(4624, "carol")), // never a failure first
    ];
    let out = run(&mut e, &evs);
    assert_eq!(fired(&out), [("corr", 2)]);
    assert_eq!(
        corr_alerts(&out)[0].extra["event_indexes"],
        json!([0, 1, 2])
    );
}

#[test]
fn value_sum_and_generate() {
    let mut e = engine(
        "correlation:\n  type: value_sum\n  rules: [transfer]\n  group-by: [host]\n  timespan: 1h\n  generate: true\n  condition: {field: bytes, gt: 100}\n",
    );
    // `generate: true`: the base rule alerts on its own too.
    assert_eq!(e.len(), 4);
    assert!(e.only_correlated().is_empty());
    let evs = [
        (0, json!({"action": "allowed", "host": "a", "bytes": 60})),
        (1, json!({"action": "allowed", "host": "a", "bytes": "n/a"})), // not a number
        (2, json!({"action": "allowed", "host": "b", "bytes": 90})),
        (3, json!({"action": "allowed", "host": "a", "bytes": 40})), // 100: not > 100
        (4, json!({"action": "denied", "host": "a", "bytes": 1000})),
        (70, json!({"action": "allowed", "host": "b", "bytes": 20})), // 90 expired
        (
            71,
            json!({"action": "allowed", "host": "a", "bytes": "150"}),
        ), // a string number counts
    ];
    let out = run(&mut e, &evs);
    assert_eq!(fired(&out), [("corr", 6)]);
    let base = out.iter().filter(|(r, _, _)| r != "corr").count();
    assert_eq!(base, 6);
    let a = corr_alerts(&out)[0];
    // 60 and 40 are more than an hour older than event 6.
    assert_eq!(a.extra["value_sum"], json!(150));
}

#[test]
fn value_avg_median_percentile() {
    for (kind, cond, want) in [
        ("value_avg", "{field: n, gte: 20}", 20.0),
        ("value_median", "{field: n, gte: 20}", 20.0),
        (
            "value_percentile",
            "{field: n, percentile: 90, gte: 27.9}",
            28.0,
        ),
    ] {
        let mut e = engine(&format!(
            "correlation:\n  type: {kind}\n  rules: [transfer]\n  group-by: [host]\n  timespan: 1h\n  condition: {cond}\n"
        ));
        let evs = [
            (0, json!({"action": "allowed", "host": "a", "n": 10})),
            (1, json!({"action": "allowed", "host": "a", "n": 20})),
            (2, json!({"action": "allowed", "host": "a", "n": 30})),
        ];
        let out = run(&mut e, &evs);
        assert_eq!(fired(&out), [("corr", 2)], "{kind}");
        let got = corr_alerts(&out)[0].extra[kind].as_f64().expect("a number");
        assert!((got - want).abs() < 1e-9, "{kind}: {got}");
    }
}

#[test]
fn unresolved_reference_is_refused() {
    let mut sm = SourceMap::new();
    let file = sm.add(
        "test.yml",
        "title: C\nid: c\ncorrelation:\n  type: event_count\n  rules: [nowhere]\n  group-by: [User]\n  timespan: 1h\n  condition: {gte: 2}\n",
    );
    let rules: Vec<_> = crate::source::sigma::load(&sm, file)
        .into_iter()
        .filter_map(|l| l.rule)
        .collect();
    let (e, refused) = Engine::compile(&rules);
    assert!(e.is_empty());
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0].message.contains("`nowhere`"),
        "{}",
        refused[0].message
    );
}

#[test]
fn state_is_capped_and_evictions_counted() {
    let mut e = engine(
        "correlation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [User]\n  timespan: 1d\n  condition: {gte: 2}\n",
    );
    for r in e.rules.iter_mut() {
        if let super::super::Kind::Stateful(s) = &mut r.kind {
            s.set_cap(4);
        }
    }
    let evs: Vec<_> = (0..6)
        .map(|i| (i, login(4625, &format!("user{i}"))))
        .chain([(7, login(4625, "user0")), (8, login(4625, "user5"))])
        .collect();
    let out = run(&mut e, &evs);
    // user0's window was dropped to make room (with user1's and user2's):
    // only user5 completes.
    assert_eq!(fired(&out), [("corr", 7)]);
    assert_eq!(e.evicted(), 3);
}

#[test]
fn referenced_rules_are_routed_by_logsource() {
    // A process_creation rule never sees a Sysmon event of another category.
    let bases = "title: Whoami\nname: whoami\nlogsource: {category: process_creation, product: windows}\ndetection:\n    selection: {Image|endswith: whoami.exe}\n    condition: selection\n";
    let mut e = engine_of(
        bases,
        "correlation:\n  type: event_count\n  rules: [whoami]\n  group-by: [Computer]\n  timespan: 1h\n  condition: {gte: 2}\n",
    );
    let ch = super::super::route::SYSMON_CHANNEL;
    let ev =
        |id: u32| json!({"Channel": ch, "EventID": id, "Image": "C:\\whoami.exe", "Computer": "h"});
    let out = run(&mut e, &[(0, ev(1)), (1, ev(3)), (2, ev(1))]);
    assert_eq!(fired(&out), [("corr", 2)]);
    assert_eq!(corr_alerts(&out)[0].extra["event_indexes"], json!([0, 2]));
}

#[test]
fn chained_correlation() {
    // The specification's example: many failed logins, then a success.
    let mut e = engine(
        "correlation:\n  type: temporal_ordered\n  rules: [many_failed, successful_login]\n  group-by: [User]\n  timespan: 10m\n---\ntitle: Many failed\nid: inner\nname: many_failed\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [User]\n  timespan: 10m\n  condition: {gte: 3}\n",
    );
    // The inner correlation and both logins run only inside `corr`.
    let mut only: Vec<_> = e.only_correlated().iter().map(|r| r.id.as_str()).collect();
    only.sort();
    assert_eq!(
        only,
        [
            "00000000-0000-0000-0000-000000000001",
            "00000000-0000-0000-0000-000000000002",
            "inner"
        ]
    );
    let evs = [
        (0, login(4625, "alice")),
        (1, login(4625, "alice")),
        (2, login(4625, "alice")), // many_failed for alice
        (3, login(4624, "alice")), // then a success: alert
        (4, login(4624, "bob")),
        (5, login(4625, "bob")),
        (6, login(4625, "bob")),
        (7, login(4625, "bob")), // many_failed for bob, after his success
    ];
    let out = run(&mut e, &evs);
    let ids: Vec<_> = out.iter().map(|(r, i, _)| (r.as_str(), *i)).collect();
    assert_eq!(ids, [("corr", 3)]);
    assert_eq!(
        corr_alerts(&out)[0].extra["group"],
        json!({"User": "alice"})
    );
}
