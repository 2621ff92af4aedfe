//! Pipeline tests: SPL searches compiled and run over small event sets.

use super::tests::rule;
use super::Engine;
use crate::ir::Language;
use crate::lang::{spl, Input};
use crate::span::{FileId, Origin};
use serde_json::Value as J;

/// Run an SPL search over events; the result rows.
fn run(search: &str, events: &[&str], now: &str) -> Vec<J> {
    let origin = Origin::verbatim(FileId(0), 0);
    let c = spl::compile(&Input {
        text: search,
        origin: &origin,
    })
    .unwrap_or_else(|d| panic!("{search}: {d:?}"));
    let q = c.query;
    let mut r = rule(
        "p",
        Language::Spl,
        crate::ir::Expr::new(crate::ir::ExprKind::Const(true), q.span),
        vec![],
    );
    r.query = Some(q);
    let (mut e, refused) = Engine::compile(&[r]);
    assert!(refused.is_empty(), "{search}: {:?}", refused);
    e.now = super::time::parse_millis(now);
    let mut out = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        out.extend(e.eval(ev.as_bytes(), i as u64).unwrap());
    }
    out.extend(e.finish());
    out.into_iter().map(|a| a.extra["result"].clone()).collect()
}

const EV: &[&str] = &[
    r#"{"_time":"2026-05-18T10:00:00Z","host":"a","n":2,"X":{"k":"1"}}"#,
    r#"{"_time":"2026-05-19T10:00:00Z","host":"a","n":4,"X":{"k":"2"}}"#,
    r#"{"_time":"2026-05-20T10:00:00Z","host":"b","n":9,"X":{"k":"3"}}"#,
    r#"{"_time":"2026-05-20T11:00:00Z","host":"b"}"#,
];

#[test]
fn stats_skip_nulls_and_stdev_is_the_sample_one() {
    let r = run(
        "index=x | stats count count(n) as c sum(n) as s avg(n) as a stdev(n) as sd values(host) as hs dc(host) as d",
        EV,
        "2026-05-20T12:00:00Z",
    );
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["count"], 4);
    assert_eq!(r[0]["c"], 3);
    assert_eq!(r[0]["s"], 15);
    assert_eq!(r[0]["a"], 5);
    // sample stdev of 2, 4, 9: sqrt(((3)^2 + 1 + 4^2) / 2) = sqrt(13)
    assert!((r[0]["sd"].as_f64().unwrap() - 13f64.sqrt()).abs() < 1e-9);
    assert_eq!(r[0]["hs"], serde_json::json!(["a", "b"]));
    assert_eq!(r[0]["d"], 2);
}

#[test]
fn eventstats_with_and_without_by_keeps_every_row() {
    let r = run(
        "index=x | eventstats sum(n) as total | eventstats max(n) as m by host | table host n total m",
        EV,
        "2026-05-20T12:00:00Z",
    );
    assert_eq!(r.len(), 4);
    assert!(r.iter().all(|x| x["total"] == 15));
    assert_eq!(r[0]["m"], 4);
    assert_eq!(r[2]["m"], 9);
    assert_eq!(r[3].get("n"), None);
    assert_eq!(r[3]["m"], 9);
}

#[test]
fn rename_wildcards_eval_where_now_and_relative_time() {
    let r = run(
        r#"index=x | rename X.* AS * | eval today=if(_time >= relative_time(now(), "@d"), 1, 0), half=round(n / 4, 1) | where today=1 AND isnotnull(k) | table host k half"#,
        EV,
        "2026-05-20T12:00:00Z",
    );
    assert_eq!(
        r,
        vec![serde_json::json!({"host": "b", "k": "3", "half": 2.3})]
    );
}

#[test]
fn span_buckets_and_row_stages() {
    let r = run(
        "index=x | stats count by _time span=1d | sort - _time | head 2",
        EV,
        "2026-05-20T12:00:00Z",
    );
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["count"], 2);
    assert_eq!(r[0]["_time"], 1779235200);
    let r = run(
        "index=x | dedup host | fillnull value=0 n | tail 1",
        EV,
        "2026-05-20T12:00:00Z",
    );
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["host"], "b");
    let r = run(
        "index=x | fillnull value=none | where n=\"none\"",
        EV,
        "2026-05-20T12:00:00Z",
    );
    assert_eq!(r.len(), 1);
}
