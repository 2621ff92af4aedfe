//! Aggregating stages: `stats` / `eventstats` (by-keys, aggregates),
//! Elastic thresholds and new terms.

use super::{flush_needs, key_name, named, scalar_type, Pipe};
use crate::backend::kql::ctx::Ctx;
use crate::backend::kql::expr::scalar;
use crate::backend::kql::text::{ident, timespan};
use crate::ir::*;

fn agg(cx: &mut Ctx, a: &Agg, span: crate::span::Span) -> Option<(String, String, String)> {
    let arg = a.arg.as_ref().map(|x| (scalar(cx, x), x));
    let is_time = |x: &Scalar, cx: &mut Ctx| match x {
        Scalar::Field(f) => cx.field(f).ty == "datetime",
        _ => false,
    };
    let (text, ty) = match (&a.func, arg) {
        (AggFunc::Count, None) => ("count()".to_string(), "long"),
        // `count(eval(cond))` counts the rows where the condition holds.
        (AggFunc::Count, Some((x, Scalar::Cond(_)))) => (format!("countif({x})"), "long"),
        (AggFunc::Count, Some((x, _))) => (format!("countif(isnotempty({x}))"), "long"),
        (AggFunc::DistinctCount, Some((x, _))) => {
            (format!("count_distinct(tostring({x}))"), "long")
        }
        (AggFunc::Sum, Some((x, _))) => (format!("sum({x})"), "real"),
        (AggFunc::Avg, Some((x, _))) => (format!("avg({x})"), "real"),
        (AggFunc::Stdev, Some((x, _))) => (format!("stdev({x})"), "real"),
        (AggFunc::Var, Some((x, _))) => (format!("variance({x})"), "real"),
        (AggFunc::Min, Some((x, s))) => {
            let t = if is_time(s, cx) { "datetime" } else { "real" };
            (format!("min({x})"), t)
        }
        (AggFunc::Max, Some((x, s))) => {
            let t = if is_time(s, cx) { "datetime" } else { "real" };
            (format!("max({x})"), t)
        }
        (AggFunc::Range, Some((x, _))) => (format!("max({x}) - min({x})"), "real"),
        (AggFunc::Values, Some((x, _))) => (format!("array_sort_asc(make_set({x}))"), "dynamic"),
        (AggFunc::List, Some((x, _))) => (format!("make_list({x})"), "dynamic"),
        (AggFunc::Earliest, Some((x, s))) if is_time(s, cx) => (format!("min({x})"), "datetime"),
        (AggFunc::Latest, Some((x, s))) if is_time(s, cx) => (format!("max({x})"), "datetime"),
        // The value of the chronologically latest / earliest event that has
        // one (a tuple aggregate, see `aggregate`).
        (AggFunc::Latest | AggFunc::Earliest, Some((x, s))) if !matches!(s, Scalar::Cond(_)) => {
            let f = if a.func == AggFunc::Latest {
                "arg_max"
            } else {
                "arg_min"
            };
            let t = ident(&cx.time);
            if cx.available.as_ref().is_some_and(|av| !av.contains(&t)) {
                cx.refuse(
                    a.span,
                    format!(
                        "`{}` after an aggregation that dropped the event time",
                        a.alias
                    ),
                    "latest / earliest",
                );
                return None;
            }
            let ty = scalar_type(cx, s);
            let present = if ty == "string" {
                format!("isnotempty({x})")
            } else {
                format!("isnotnull({x})")
            };
            return Some((
                a.alias.clone(),
                format!("{f}(iff({present}, {t}, datetime(null)), {x})"),
                ty,
            ));
        }
        (AggFunc::Median, Some((x, _))) | (AggFunc::Percentile(_), Some((x, _))) => {
            let p = match a.func {
                AggFunc::Percentile(p) => p,
                _ => 50.0,
            };
            cx.caveat(
                "percentile-estimate",
                "Kusto percentiles are estimates (T-Digest), not exact ranks",
                Some(span),
            );
            (format!("percentile({x}, {p})"), "real")
        }
        (f, _) => {
            cx.refuse(
                a.span,
                format!("the aggregate `{f:?}` has no exact Kusto form here"),
                "aggregate",
            );
            return None;
        }
    };
    Some((a.alias.clone(), text, ty.to_string()))
}

/// Group keys, and the source names of expression keys (with types) that
/// later stages read by name once the aggregation has run.
fn by_keys(
    cx: &mut Ctx,
    by: &[FieldRef],
    span: Option<&Duration>,
    aliases: &[&str],
) -> (Vec<String>, Vec<(String, String)>) {
    let mut keys = Vec::new();
    let mut renamed = Vec::new();
    let mut binned = false;
    for f in by {
        let mut c = cx.field(f);
        if c.is_dynamic() {
            c.text = format!("tostring({})", c.text);
            c.ty = "string".into();
        }
        if let (Some(d), "datetime") = (span, c.ty.as_str()) {
            keys.push(format!("{0} = bin({0}, {1})", c.text, timespan(d)));
            binned = true;
            continue;
        }
        // A data-model key is named without its dataset prefix, as SPL
        // names it after `drop_dm_object_name` (the prefixed name still
        // reads it: field resolution strips the prefix).
        let mut spl = cx.strip_cim(f);
        if aliases.contains(&spl.as_str()) {
            // `values(M.x) as x by M.x`: the key keeps its full name.
            spl = f.name.clone();
        }
        let (name, k) = named(&spl, &c);
        if name != c.text {
            // An expression key: later stages read it by its source name.
            renamed.push((spl, c.ty.clone()));
        }
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    if let (Some(d), false) = (span, binned) {
        let t = ident(&cx.time);
        keys.push(format!("{t} = bin({t}, {})", timespan(d)));
    }
    (keys, renamed)
}

pub(super) fn aggregate(cx: &mut Ctx, pipe: &mut Pipe, a: &Aggregate, span: crate::span::Span) {
    let mut rendered: Vec<(String, String, String)> = Vec::new();
    let all: Vec<_> = a.aggs.iter().filter_map(|g| agg(cx, g, span)).collect();
    for r in all {
        // A name given twice: the rightmost wins (ES|QL STATS); Kusto
        // refuses duplicate columns.
        if let Some(i) = rendered.iter().position(|x| x.0 == r.0) {
            if rendered[i].1 != r.1 {
                cx.caveat(
                    "duplicate-alias",
                    format!(
                        "the aggregate name `{}` is given twice: the last one is kept",
                        r.0
                    ),
                    Some(span),
                );
            }
            rendered.remove(i);
        }
        rendered.push(r);
    }
    let aliases: Vec<&str> = a.aggs.iter().map(|g| g.alias.as_str()).collect();
    let (mut keys, renamed) = by_keys(cx, &a.by, a.span.as_ref(), &aliases);
    // `arg_max(t, x)` returns two columns: name both, drop the time.
    let mut tuples = Vec::new();
    let aggs: Vec<String> = rendered
        .iter()
        .map(|(n, t, _)| {
            if t.starts_with("arg_max(") || t.starts_with("arg_min(") {
                let tn = format!("__at{}", tuples.len());
                let out = format!("({tn}, {}) = {t}", ident(n));
                tuples.push(tn);
                out
            } else {
                format!("{} = {t}", ident(n))
            }
        })
        .collect();
    for (n, ty) in renamed
        .into_iter()
        .chain(rendered.into_iter().map(|(n, _, t)| (n, t)))
    {
        cx.computed.insert(n, ty);
    }
    if a.mode == AggMode::Annotate {
        // The lookup joins on column names: compute expression keys first.
        let exprs: Vec<String> = keys.iter().filter(|k| k.contains(" = ")).cloned().collect();
        if !exprs.is_empty() {
            flush_needs(cx, pipe);
            pipe.op(format!("extend {}", exprs.join(", ")));
            keys = keys.iter().map(|k| key_name(k)).collect();
        }
    }
    let by = if keys.is_empty() {
        String::new()
    } else {
        format!(" by {}", keys.join(", "))
    };
    flush_needs(cx, pipe);
    match a.mode {
        AggMode::Collapse => {
            pipe.op(format!("summarize {}{by}", aggs.join(", ")));
            if !tuples.is_empty() {
                pipe.op(format!("project-away {}", tuples.join(", ")));
            }
            pipe.events = false;
            let mut avail: std::collections::BTreeSet<String> =
                keys.iter().map(|k| key_name(k)).collect();
            avail.extend(a.aggs.iter().map(|g| ident(&g.alias)));
            // Fields computed before the aggregation are gone unless kept.
            cx.computed.retain(|n, _| avail.contains(&ident(n)));
            cx.available = Some(avail);
        }
        AggMode::Annotate => {
            // eventstats: every row kept, the group's aggregates added.
            let rows = pipe.bind();
            if keys.is_empty() {
                pipe.op("extend __all = 1");
                pipe.op(format!(
                    "lookup kind=leftouter ({rows} | summarize {} | extend __all = 1) on __all",
                    aggs.join(", ")
                ));
                pipe.op("project-away __all");
            } else {
                let on: Vec<String> = keys.iter().map(|k| key_name(k)).collect();
                pipe.op(format!(
                    "lookup kind=leftouter ({rows} | summarize {}{by}) on {}",
                    aggs.join(", "),
                    on.join(", ")
                ));
            }
            if !tuples.is_empty() {
                pipe.op(format!("project-away {}", tuples.join(", ")));
            }
        }
        AggMode::Running => cx.refuse(
            span,
            "running aggregates (streamstats) need row order; not supported",
            "streamstats",
        ),
    }
}

pub(super) fn threshold(cx: &mut Ctx, pipe: &mut Pipe, t: &Threshold) {
    let mut aggs = vec!["__count = count()".to_string()];
    let mut conds = vec![format!("__count >= {}", t.value)];
    for (i, (f, n)) in t.cardinality.iter().enumerate() {
        let c = cx.field(f);
        aggs.push(format!(
            "__distinct{i} = count_distinct(tostring({}))",
            c.text
        ));
        conds.push(format!("__distinct{i} >= {n}"));
    }
    let (keys, renamed) = by_keys(cx, &t.fields, None, &[]);
    cx.computed.extend(renamed);
    flush_needs(cx, pipe);
    let by = if keys.is_empty() {
        String::new()
    } else {
        format!(" by {}", keys.join(", "))
    };
    pipe.op(format!("summarize {}{by}", aggs.join(", ")));
    pipe.op(format!("where {}", conds.join(" and ")));
    pipe.events = false;
}

pub(super) fn new_terms(cx: &mut Ctx, pipe: &mut Pipe, n: &NewTerms, span: crate::span::Span) {
    let window = cx.window.clone();
    let non_empty: Vec<String> = n
        .fields
        .iter()
        .map(|f| format!("isnotempty({})", cx.field(f).text))
        .collect();
    let (keys, renamed) = by_keys(cx, &n.fields, None, &[]);
    cx.computed.extend(renamed);
    let t = ident(&cx.time);
    let win = window
        .as_ref()
        .map(timespan)
        .unwrap_or_else(|| "5m".to_string());
    cx.caveat(
        "new-terms-window",
        format!(
            "new terms: first seen within the rule window ({win}) and not in the {} before; Elastic evaluates each run against its own history",
            timespan(&n.history_window)
        ),
        Some(span),
    );
    flush_needs(cx, pipe);
    pipe.op(format!(
        "where {t} > ago({} + {win}) and {}",
        timespan(&n.history_window),
        non_empty.join(" and ")
    ));
    pipe.op(format!(
        "summarize __first_seen = min({t}) by {}",
        keys.join(", ")
    ));
    pipe.op(format!("where __first_seen > ago({win})"));
    pipe.events = false;
}
