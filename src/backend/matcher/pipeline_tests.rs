//! Pipeline tests: SPL searches compiled and run over small event sets.

use super::tests::rule;
use super::Engine;
use crate::ir::Language;
use crate::lang::{spl, Input};
use crate::span::{FileId, Origin};
use serde_json::Value as J;

/// Run an SPL search over events; the result rows.
fn run(search: &str, events: &[&str], now: &str) -> Vec<J> {
    run_lang(Language::Spl, search, events, now)
}

fn run_lang(lang: Language, search: &str, events: &[&str], now: &str) -> Vec<J> {
    let origin = Origin::verbatim(FileId(0), 0);
    let input = Input {
        text: search,
        origin: &origin,
    };
    let c = match lang {
        Language::Spl => spl::compile(&input),
        _ => crate::lang::compile(lang, &input),
    }
    .unwrap_or_else(|d| panic!("{search}: {d:?}"));
    let q = c.query;
    let mut r = rule(
        "p",
        lang,
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

/// Events with `v` = each of `vals` (one event each, host `h`).
fn vals(vals: &[&str]) -> Vec<String> {
    vals.iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                r#"{{"_time":"2026-05-20T10:00:{:02}Z","host":"h","v":{v}}}"#,
                i % 60
            )
        })
        .collect()
}

fn one_row(search: &str, events: &[String]) -> J {
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let r = run(search, &refs, "2026-05-20T12:00:00Z");
    assert_eq!(r.len(), 1, "{search}: {r:?}");
    r[0].clone()
}

#[test]
fn percentiles_use_splunk_nearest_rank() {
    // Sorted: 1 2 3 4 (even count): rank floor(p/100 * 4), at most 3.
    let ev = vals(&["4", "1", "3", "2", "\"x\"", "null"]);
    let r = one_row(
        "index=x | stats median(v) as med perc25(v) as p25 p75(v) as p75 exactperc99(v) as e99 upperperc0(v) as u0 perc100(v) as top",
        &ev,
    );
    assert_eq!(r["med"], 3, "the higher of the two middle values");
    assert_eq!(r["p25"], 2);
    assert_eq!(r["p75"], 4);
    assert_eq!(r["e99"], 4);
    assert_eq!(r["u0"], 1);
    assert_eq!(r["top"], 4);
    // Odd count and repeated values: 5 5 7 9 9 9 20.
    let ev = vals(&["9", "5", "20", "9", "7", "5", "9"]);
    let r = one_row(
        "index=x | stats median(v) as m p10(v) as lo p90(v) as hi",
        &ev,
    );
    assert_eq!(
        (r["m"].clone(), r["lo"].clone(), r["hi"].clone()),
        (9.into(), 5.into(), 20.into())
    );
    // No numeric value: no field.
    let r = one_row("index=x | stats median(v) as m count", &vals(&["\"a\""]));
    assert_eq!(r.get("m"), None);
}

#[test]
fn mode_population_statistics_and_sums_of_squares() {
    let ev = vals(&["\"b\"", "\"a\"", "\"a\"", "\"b\"", "\"c\""]);
    let r = one_row("index=x | stats mode(v) as m", &ev);
    assert_eq!(r["m"], "b", "a tie goes to the value seen first");
    let ev = vals(&["2", "4", "4", "4", "5", "5", "7", "9"]);
    let r = one_row(
        "index=x | stats varp(v) as vp stdevp(v) as sp var(v) as vs sumsq(v) as sq range(v) as rg mode(v) as m",
        &ev,
    );
    assert_eq!(r["vp"], 4);
    assert_eq!(r["sp"], 2);
    assert!((r["vs"].as_f64().unwrap() - 32.0 / 7.0).abs() < 1e-9);
    assert_eq!(r["sq"], 232);
    assert_eq!(r["rg"], 7);
    assert_eq!(r["m"], 4);
    // One value: the population statistics are 0, the sample ones null.
    let r = one_row("index=x | stats varp(v) as vp var(v) as vs", &vals(&["3"]));
    assert_eq!(r["vp"], 0);
    assert_eq!(r.get("vs"), None);
}

#[test]
fn percentiles_in_eventstats_and_tstats_and_many_values() {
    let ev = vals(&["1", "2", "3", "10"]);
    let refs: Vec<&str> = ev.iter().map(String::as_str).collect();
    let r = run(
        "index=x | eventstats median(v) as m by host | where v > m",
        &refs,
        "2026-05-20T12:00:00Z",
    );
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["v"], 10);
    // 5,000 distinct values (beyond Splunk's exact range for perc): exact here.
    let many: Vec<String> = (0..5000).map(|i| (4999 - i).to_string()).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let r = one_row(
        "index=x | stats perc95(v) as p exactperc95(v) as e",
        &vals(&refs),
    );
    assert_eq!(r["p"], 4750);
    assert_eq!(r["e"], 4750);
}

#[test]
fn esql_percentiles_interpolate() {
    let ev = vals(&["4", "1", "3", "2"]);
    let refs: Vec<&str> = ev.iter().map(String::as_str).collect();
    let q = "FROM logs-* | STATS m = MEDIAN(v), p = PERCENTILE(v, 25)";
    let r = run_lang(Language::Esql, q, &refs, "2026-05-20T12:00:00Z");
    assert_eq!(r[0]["m"], 2.5);
    assert_eq!(r[0]["p"], 1.75);
}

#[test]
fn streamstats_is_refused_by_name() {
    let origin = Origin::verbatim(FileId(0), 0);
    let c = spl::compile(&Input {
        text: "index=x | streamstats window=5 current=f count by host",
        origin: &origin,
    })
    .unwrap();
    let mut r = rule(
        "s",
        Language::Spl,
        crate::ir::Expr::new(crate::ir::ExprKind::Const(true), c.query.span),
        vec![],
    );
    r.query = Some(c.query);
    let (_, refused) = Engine::compile(&[r]);
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0].message.contains("streamstats"),
        "{}",
        refused[0].message
    );
}
