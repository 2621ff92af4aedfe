//! EQL sequences with missing events and samples: queries compiled from
//! text and run over hand-written event streams (each expectation below was
//! worked out by hand from the semantics in `seq.rs` / `sample.rs`).

use super::tests::rule;
use super::Engine;
use crate::ir::{Expr, ExprKind, Language};
use crate::lang::{eql, Input};
use crate::span::{FileId, Origin};
use serde_json::{json, Value as J};

const T0: i64 = 1_700_000_000;

/// An event: `id`, time in seconds after T0 (`None`: no timestamp), category, fields.
fn ev(id: i64, t: Option<i64>, cat: &str, fields: J) -> String {
    let mut m = fields.as_object().cloned().unwrap_or_default();
    m.insert("id".into(), json!(id));
    m.insert("event".into(), json!({ "category": cat }));
    if let Some(t) = t {
        m.insert("@timestamp".into(), json!(T0 + t));
    }
    J::Object(m).to_string()
}

fn engine(query: &str) -> Engine {
    let origin = Origin::verbatim(FileId(0), 0);
    let c = eql::compile(&Input {
        text: query,
        origin: &origin,
    })
    .unwrap_or_else(|d| panic!("{query}: {d:?}"));
    let mut r = rule(
        "q",
        Language::Eql,
        Expr::new(ExprKind::Const(true), c.query.span),
        vec![],
    );
    r.query = Some(c.query);
    let (e, refused) = Engine::compile(&[r]);
    assert!(refused.is_empty(), "{query}: {refused:?}");
    e
}

fn ids(raw: &[u8]) -> i64 {
    let v: J = serde_json::from_slice(raw).unwrap();
    v["id"].as_i64().unwrap()
}

/// Alerts as (index of the event that raised it, `None` at the end of the
/// input; the ids of its events).
fn run(query: &str, events: &[String]) -> Vec<(Option<u64>, Vec<i64>)> {
    let mut e = engine(query);
    let mut out = Vec::new();
    for (i, x) in events.iter().enumerate() {
        for a in e.eval(x.as_bytes(), i as u64).unwrap() {
            out.push((Some(i as u64), a.events.iter().map(|r| ids(r)).collect()));
        }
    }
    for a in e.finish() {
        out.push((None, a.events.iter().map(|r| ids(r)).collect()));
    }
    out
}

fn seqs(query: &str, events: &[String]) -> Vec<Vec<i64>> {
    run(query, events).into_iter().map(|(_, s)| s).collect()
}

fn tag(id: i64, t: i64, host: &str, tag: &str) -> String {
    ev(id, Some(t), "process", json!({ "host": host, "tag": tag }))
}

const MID: &str = r#"sequence by host with maxspan=1m
  [process where tag == "a"] ![process where tag == "m"] [process where tag == "b"]"#;

#[test]
fn missing_between_steps() {
    // h1: a, m, b → dropped; h2: a, b → kept; m of another host does not count.
    let evs = [
        tag(1, 0, "h1", "a"),
        tag(2, 1, "h2", "a"),
        tag(3, 2, "h1", "m"),
        tag(4, 3, "h1", "b"),
        tag(5, 4, "h2", "b"),
    ];
    assert_eq!(seqs(MID, &evs), vec![vec![2, 5]]);
    // A newer `a` after the missing event restarts the state: a, m, a, b → [a2, b].
    let evs = [
        tag(1, 0, "h1", "a"),
        tag(2, 1, "h1", "m"),
        tag(3, 2, "h1", "a"),
        tag(4, 3, "h1", "b"),
    ];
    assert_eq!(seqs(MID, &evs), vec![vec![3, 4]]);
    // The range is strictly between: an `m` with the timestamp of either neighbour does not count.
    let evs = [
        tag(1, 5, "h1", "a"),
        tag(2, 5, "h1", "m"),
        tag(3, 9, "h1", "m"),
        tag(4, 9, "h1", "b"),
    ];
    assert_eq!(seqs(MID, &evs), vec![vec![1, 4]]);
    // Without timestamps input order stands in: a, m, b is dropped.
    let nt = |id, t: &str| ev(id, None, "process", json!({ "host": "h", "tag": t }));
    assert!(seqs(MID, &[nt(1, "a"), nt(2, "m"), nt(3, "b")]).is_empty());
    assert_eq!(
        seqs(MID, &[nt(1, "a"), nt(2, "b"), nt(3, "m")]),
        vec![vec![1, 2]]
    );
}

#[test]
fn one_event_ends_one_sequence_and_starts_another() {
    let q = r#"sequence with maxspan=1m [any where tag == "n"] ![any where tag == "m"] [any where tag == "n"]"#;
    let evs = [
        tag(1, 1, "h", "n"),
        tag(2, 2, "h", "n"),
        tag(3, 3, "h", "m"),
        tag(4, 4, "h", "n"),
    ];
    // [1, 2] is kept; [2, 4] has `m` between; 4 starts one that never ends.
    assert_eq!(seqs(q, &evs), vec![vec![1, 2]]);
    let q = r#"sequence with maxspan=1m [any where tag == "n"] with runs=2"#;
    assert_eq!(seqs(q, &evs), vec![vec![1, 2], vec![2, 4]]);
}

#[test]
fn leading_missing_is_measured_from_the_last_positive_event() {
    let q = r#"sequence by host with maxspan=10s
  ![process where tag == "m"] [process where tag == "a"] [process where tag == "b"]"#;
    let evs = [
        tag(1, 0, "h1", "m"),
        tag(2, 5, "h1", "a"),
        tag(3, 12, "h1", "b"), // E - L = 12 > 10: kept
        tag(4, 20, "h2", "m"),
        tag(5, 22, "h2", "a"),
        tag(6, 29, "h2", "b"), // E - L = 9: dropped
        tag(7, 40, "h3", "m"),
        tag(8, 40, "h3", "a"), // m at the same time as a is not before it
        tag(9, 41, "h3", "b"),
        tag(10, 50, "h4", "a"), // no m at all for h4
        tag(11, 51, "h4", "b"),
    ];
    assert_eq!(seqs(q, &evs), vec![vec![2, 3], vec![8, 9], vec![10, 11]]);
}

#[test]
fn trailing_missing_waits_for_its_window() {
    let q = r#"sequence by host with maxspan=10s
  [process where tag == "a"] [process where tag == "b"] ![process where tag == "m"]"#;
    let evs = [
        tag(1, 0, "h1", "a"),
        tag(2, 4, "h1", "b"),
        tag(3, 10, "h1", "m"), // F - S = 10, not more than maxspan: dropped
        tag(4, 20, "h2", "a"),
        tag(5, 21, "h2", "b"),
        tag(6, 30, "h2", "x"), // deadline 30: not yet passed
        tag(7, 31, "h9", "m"), // another host: releases [4, 5] (31 > 30)
        tag(8, 40, "h3", "a"),
        tag(9, 41, "h3", "b"),
        tag(10, 41, "h3", "m"), // same time as the last positive: not after it
    ];
    assert_eq!(
        run(q, &evs),
        vec![(Some(6), vec![4, 5]), (None, vec![8, 9])],
        "kept at the end of the input"
    );
}

#[test]
fn leading_and_trailing_need_a_gap_longer_than_maxspan() {
    let q = r#"sequence by host with maxspan=10s
  ![process where tag == "m"] [process where tag == "a"] ![process where tag == "m"]"#;
    let evs = [
        tag(1, 0, "h1", "m"),
        tag(2, 5, "h1", "a"),
        tag(3, 11, "h1", "m"), // F - L = 11 > 10: kept
        tag(4, 20, "h2", "m"),
        tag(5, 25, "h2", "a"),
        tag(6, 30, "h2", "m"), // F - L = 10: dropped
        tag(7, 40, "h3", "a"), // no leading m for h3: kept at once, trailing m or not
        tag(8, 41, "h3", "m"),
    ];
    assert_eq!(run(q, &evs), vec![(Some(2), vec![2]), (Some(6), vec![7])]);
}

#[test]
fn missing_steps_with_keys_runs_and_until() {
    // Per-step keys: the missing step joins on its own field, positionally.
    let q = r#"sequence with maxspan=1m
  [process where tag == "a"] by user
  ![file where true] by owner with runs=2
  [process where tag == "b"] by user
until [process where tag == "stop"] by user"#;
    let p = |id, t, user: &str, tg: &str| {
        ev(id, Some(t), "process", json!({ "user": user, "tag": tg }))
    };
    let f = |id, t, owner: &str| ev(id, Some(t), "file", json!({ "owner": owner }));
    let evs = [
        p(1, 0, "u1", "a"),
        f(2, 1, "u2"), // other owner: no effect
        p(3, 2, "u1", "b"),
        p(4, 3, "u2", "a"),
        f(5, 4, "u2"), // u2's file between: dropped
        p(6, 5, "u2", "b"),
        p(7, 6, "u3", "a"),
        p(8, 7, "u3", "stop"),
        p(9, 8, "u3", "b"),
        f(10, 9, "nobody"),
        p(11, 10, "u4", "a"),
        ev(12, Some(11), "file", json!({})), // no key: cannot match the missing step
        p(13, 12, "u4", "b"),
    ];
    assert_eq!(seqs(q, &evs), vec![vec![1, 3], vec![11, 13]]);
}

#[test]
fn optional_join_keys_join_null_with_null() {
    let q = r#"sequence by ?user with maxspan=1m [any where tag == "a"] [any where tag == "b"]"#;
    let evs = [
        ev(1, Some(0), "x", json!({ "tag": "a" })),
        ev(2, Some(1), "x", json!({ "tag": "b", "user": null })),
    ];
    assert_eq!(seqs(q, &evs), vec![vec![1, 2]]);
    let q = r#"sequence by user with maxspan=1m [any where tag == "a"] [any where tag == "b"]"#;
    assert!(seqs(q, &evs).is_empty());
}

#[test]
fn adversarial_streams_keep_state_bounded() {
    // 20,000 hosts each complete a sequence that waits for its trailing
    // window; one late event releases them all, in order.
    let q = r#"sequence by host with maxspan=5s [any where tag == "a"] ![any where tag == "m"]"#;
    let mut e = engine(q);
    let mut n = 0;
    for i in 0..20_000u64 {
        let x = tag(i as i64, 0, &format!("h{i}"), "a");
        n += e.eval(x.as_bytes(), i).unwrap().len();
    }
    assert_eq!(n, 0);
    let late = tag(-1, 6, "none", "zz");
    let out = e.eval(late.as_bytes(), 20_000).unwrap();
    assert_eq!(out.len(), 20_000);
    assert_eq!(ids(&out[0].events[0]), 0);
    assert!(e.finish().is_empty());
    // Garbage, missing and odd timestamps, arrays and nulls: no panic.
    let mut e = engine(MID);
    let odd = [
        r#"{"event":{"category":"process"},"tag":"a","host":["h","i"],"@timestamp":"soon"}"#,
        r#"{"event":{"category":"process"},"tag":"m","host":"h","@timestamp":-5}"#,
        r#"{"event":{"category":"process"},"tag":"b","host":"h","@timestamp":null}"#,
        r#"{"event":{"category":"process"},"tag":["a","b","m"],"host":"h","@timestamp":1e300}"#,
        r#"{"event":{"category":"process"},"tag":"b","host":{"x":1}}"#,
    ];
    for (i, x) in odd.iter().enumerate() {
        e.eval(x.as_bytes(), i as u64).unwrap();
    }
    e.finish();
}

const SAMPLE: &str = r#"sample by host
  [process where tag == "a"]
  [process where tag == "b"]
  [process where true]"#;

#[test]
fn sample_needs_distinct_unordered_events_per_key() {
    let evs = [
        tag(1, 9, "h1", "b"), // order plays no part
        tag(2, 1, "h1", "a"),
        tag(3, 0, "h2", "a"),
        tag(4, 0, "h2", "b"), // h2 has a and b but no third distinct event yet
        tag(5, 5, "h1", "z"), // h1: a=2, b=1, true=5 → sample
        tag(6, 5, "h1", "z"), // one sample per key
        tag(7, 5, "h2", "b"), // h2: a=3, b=4, true=7
        tag(8, 5, "h3", "a"),
    ];
    assert_eq!(
        run(SAMPLE, &evs),
        vec![(Some(4), vec![2, 1, 5]), (Some(6), vec![3, 4, 7])]
    );
}

#[test]
fn sample_backtracks_over_events_matching_several_filters() {
    // Elastic's own example: [d1,d2,d3] [d4,d5] [d4,d5,d3] → d1, d4, d5.
    let q = r#"sample by k
  [any where x in (1, 2, 3)]
  [any where y == 1]
  [any where z == 1]"#;
    let d = |id, f: J| ev(id, None, "any", f);
    let evs = [
        d(1, json!({ "k": "K", "x": 1 })),
        d(2, json!({ "k": "K", "x": 2 })),
        d(4, json!({ "k": "K", "y": 1, "z": 1 })),
        d(5, json!({ "k": "K", "y": 1, "z": 1 })),
    ];
    assert_eq!(seqs(q, &evs), vec![vec![1, 4, 5]]);
    // One event matching every filter is not a sample by itself; keys per filter.
    let q = r#"sample [any where true] by a [any where true] by b"#;
    let evs = [
        d(1, json!({ "a": "v", "b": "v" })),
        d(2, json!({ "a": "w" })),
        d(3, json!({ "b": "w" })),
    ];
    assert_eq!(seqs(q, &evs), vec![vec![2, 3]]);
}
