//! Aggregates over rows (`stats`, `tstats`, `eventstats`, ES|QL `stats`):
//! groups by the values of the by-fields (one group per value of a
//! multivalue field, as Splunk does), optionally by a `span` of `_time`.
//! Nulls are skipped by every function (`count` of rows aside). `stdev` and
//! `var` are the sample statistics (n - 1), null below two values.

use super::fields::{EventView, FieldTable};
use super::pipeline::{dyn_json, key_values, num_json, sorted_groups, text, Row};
use super::pred::{refuse, Ctx, Refusal};
use super::scalar::{self, CScalar, Dyn};
use super::state::STATE_CAP;
use super::time::leaf_millis;
use crate::ir::{AggFunc, AggMode, Aggregate, Language, Scalar};
use serde_json::Value as J;
use std::collections::{BTreeSet, HashMap};

/// `values()` / `dc()` keep at most this many distinct values per group.
const VALUES_CAP: usize = 10_000;
/// `list()` keeps the first 100 values, as Splunk does.
const LIST_CAP: usize = 100;

/// Called with each group key of a row, the row's view and its time.
type KeyFn<'f> = dyn FnMut(Vec<String>, &EventView, Option<f64>) + 'f;

/// Groups of a collapsing aggregate.
pub type Groups = HashMap<Vec<String>, Vec<Acc>>;

pub struct AggSpec {
    pub collapse: bool,
    table: FieldTable,
    by: Vec<(String, CScalar)>,
    span: Option<f64>,
    aggs: Vec<(AggFunc, Option<CScalar>, String)>,
}

#[derive(Default, Clone)]
pub struct Acc {
    count: u64,
    n: u64,
    mean: f64,
    m2: f64,
    sum: f64,
    min_n: Option<f64>,
    max_n: Option<f64>,
    min_s: Option<String>,
    max_s: Option<String>,
    distinct: BTreeSet<String>,
    list: Vec<J>,
    first: Option<J>,
    last: Option<J>,
    earliest: Option<(f64, J)>,
    latest: Option<(f64, J)>,
}

impl Acc {
    fn add(&mut self, d: &Dyn, t: Option<f64>, evicted: &mut u64) {
        self.count += 1;
        if let Dyn::Num(x) = d {
            self.add_num(*x);
        } else if let Some(x) = d.as_num() {
            self.add_num(x);
        } else if let Some(s) = d.as_str() {
            if self.min_s.as_ref().is_none_or(|m| s < *m) {
                self.min_s = Some(s.clone());
            }
            if self.max_s.as_ref().is_none_or(|m| s > *m) {
                self.max_s = Some(s);
            }
        }
        if let Some(s) = d.as_str() {
            if self.distinct.len() < VALUES_CAP {
                self.distinct.insert(s);
            } else if !self.distinct.contains(&s) {
                *evicted += 1;
            }
        }
        let j = dyn_json(d);
        if self.list.len() < LIST_CAP {
            self.list.push(j.clone());
        }
        if self.first.is_none() {
            self.first = Some(j.clone());
        }
        if let Some(t) = t {
            if self.earliest.as_ref().is_none_or(|(e, _)| t < *e) {
                self.earliest = Some((t, j.clone()));
            }
            if self.latest.as_ref().is_none_or(|(l, _)| t >= *l) {
                self.latest = Some((t, j.clone()));
            }
        }
        self.last = Some(j);
    }

    fn add_num(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        // Welford's online mean and sum of squared deviations.
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        self.min_n = Some(self.min_n.map_or(x, |m| m.min(x)));
        self.max_n = Some(self.max_n.map_or(x, |m| m.max(x)));
    }

    fn value(&self, func: &AggFunc) -> J {
        let num = |o: Option<f64>| o.map_or(J::Null, num_json);
        let has = self.n > 0;
        match func {
            AggFunc::Count => J::from(self.count),
            AggFunc::DistinctCount => J::from(self.distinct.len()),
            AggFunc::Sum => num(has.then_some(self.sum)),
            AggFunc::Avg => num(has.then_some(self.mean)),
            AggFunc::Var => num((self.n > 1).then(|| self.m2 / (self.n - 1) as f64)),
            AggFunc::Stdev => num((self.n > 1).then(|| (self.m2 / (self.n - 1) as f64).sqrt())),
            AggFunc::Min => match self.min_n {
                Some(m) => num_json(m),
                None => self.min_s.clone().map_or(J::Null, J::String),
            },
            AggFunc::Max => match self.max_n {
                Some(m) => num_json(m),
                None => self.max_s.clone().map_or(J::Null, J::String),
            },
            AggFunc::Range => num(self.max_n.zip(self.min_n).map(|(a, b)| a - b)),
            AggFunc::Values => {
                let mut v: Vec<J> = self.distinct.iter().cloned().map(J::String).collect();
                v.sort_by_key(text);
                J::Array(v)
            }
            AggFunc::List => J::Array(self.list.clone()),
            AggFunc::First => self.first.clone().unwrap_or(J::Null),
            AggFunc::Last => self.last.clone().unwrap_or(J::Null),
            AggFunc::Earliest => self.earliest.clone().map_or(J::Null, |x| x.1),
            AggFunc::Latest => self.latest.clone().map_or(J::Null, |x| x.1),
            _ => J::Null,
        }
    }
}

const SUPPORTED: &str =
    "count, dc, sum, avg, stdev, var, min, max, range, values, list, first, last, earliest, latest";

impl AggSpec {
    pub fn compile(
        a: &Aggregate,
        lang: Language,
        rewrite: &dyn Fn(&Scalar) -> Scalar,
    ) -> Result<AggSpec, Refusal> {
        let mut table = FieldTable::new();
        let mut cx = Ctx {
            fields: &mut table,
            language: lang,
        };
        let mut aggs = Vec::new();
        for g in &a.aggs {
            if matches!(
                g.func,
                AggFunc::Median | AggFunc::Percentile(_) | AggFunc::Mode | AggFunc::Other(_)
            ) {
                return refuse(
                    g.span,
                    format!(
                        "the aggregate {:?} is not supported by the matcher (supported: {SUPPORTED})",
                        g.func
                    ),
                );
            }
            let arg = match &g.arg {
                Some(s) => Some(scalar::compile(&rewrite(s), &mut cx)?),
                None => None,
            };
            aggs.push((g.func.clone(), arg, g.alias.clone()));
        }
        let span = a.span.as_ref().map(|d| d.millis as f64 / 1000.0);
        let mut by = Vec::new();
        for f in &a.by {
            by.push((f.name.clone(), CScalar::Field(cx.fields.intern(f))));
        }
        Ok(AggSpec {
            collapse: a.mode == AggMode::Collapse,
            table,
            by,
            span,
            aggs,
        })
    }

    fn row_secs(&self, view: &EventView) -> Option<f64> {
        view.first(self.table.time)
            .and_then(leaf_millis)
            .map(|ms| ms as f64 / 1000.0)
    }

    /// The group keys of a row (several for multivalue by-fields; none when
    /// a by-field is missing), and its time.
    fn keys(&self, row: &Row, now: Option<i64>, f: &mut KeyFn) {
        let mut m = row.clone();
        if let Some(n) = now {
            m.insert("\u{1}now".into(), num_json(n as f64 / 1000.0));
        }
        let text = J::Object(m).to_string();
        let Ok(view) = EventView::parse(&self.table, &text) else {
            return;
        };
        let t = self.row_secs(&view);
        let mut keys: Vec<Vec<String>> = vec![Vec::new()];
        let mut has_time = false;
        for (name, s) in &self.by {
            let vals: Vec<J> = if name == "_time" && self.span.is_some() {
                has_time = true;
                match (t, self.span) {
                    (Some(t), Some(sp)) => vec![num_json((t / sp).floor() * sp)],
                    _ => Vec::new(),
                }
            } else {
                match scalar::eval(s, &view) {
                    Dyn::Null => Vec::new(),
                    Dyn::List(l) => l
                        .iter()
                        .filter(|d| **d != Dyn::Null)
                        .map(dyn_json)
                        .collect(),
                    d => vec![dyn_json(&d)],
                }
            };
            if vals.is_empty() {
                return;
            }
            let mut next = Vec::new();
            for k in &keys {
                for v in &vals {
                    if next.len() >= 64 {
                        break;
                    }
                    let mut k = k.clone();
                    k.push(v.to_string());
                    next.push(k);
                }
            }
            keys = next;
        }
        if let (Some(sp), false) = (self.span, has_time) {
            let Some(t) = t else { return };
            for k in keys.iter_mut() {
                k.push(num_json((t / sp).floor() * sp).to_string());
            }
        }
        for k in keys {
            f(k, &view, t);
        }
    }

    fn add_row(&self, accs: &mut [Acc], view: &EventView, t: Option<f64>, evicted: &mut u64) {
        for ((_, arg, _), acc) in self.aggs.iter().zip(accs.iter_mut()) {
            match arg {
                None => acc.count += 1,
                Some(s) => match scalar::eval(s, view) {
                    Dyn::Null => {}
                    Dyn::List(items) => {
                        for d in items.iter().filter(|d| **d != Dyn::Null) {
                            acc.add(d, t, evicted);
                        }
                    }
                    d => acc.add(&d, t, evicted),
                },
            }
        }
    }

    pub fn accumulate(&self, row: &Row, now: Option<i64>, groups: &mut Groups, evicted: &mut u64) {
        self.keys(row, now, &mut |k, view, t| {
            if groups.len() >= STATE_CAP && !groups.contains_key(&k) {
                *evicted += 1;
                return;
            }
            let accs = groups
                .entry(k)
                .or_insert_with(|| vec![Acc::default(); self.aggs.len()]);
            self.add_row(accs, view, t, evicted);
        });
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.by.iter().map(|(n, _)| n.clone()).collect();
        if self.span.is_some() && !names.iter().any(|n| n == "_time") {
            names.push("_time".into());
        }
        names
    }

    /// One row per group: the by-fields, then the aggregates.
    pub fn rows(&self, groups: Groups) -> Vec<Row> {
        let names = self.names();
        let mut out = Vec::new();
        for (k, accs) in sorted_groups(groups) {
            let mut r = Row::new();
            for (n, v) in names.iter().zip(key_values(&k)) {
                r.insert(n.clone(), v);
            }
            for ((func, _, alias), acc) in self.aggs.iter().zip(&accs) {
                let v = acc.value(func);
                if !v.is_null() {
                    r.insert(alias.clone(), v);
                }
            }
            out.push(r);
        }
        out
    }

    /// `eventstats`: every row kept, each given its group's aggregates.
    pub fn annotate(&self, rows: Vec<Row>, now: Option<i64>, evicted: &mut u64) -> Vec<Row> {
        let mut groups = Groups::new();
        let mut row_key: Vec<Option<Vec<String>>> = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut first = None;
            self.keys(r, now, &mut |k, view, t| {
                if first.is_none() {
                    first = Some(k.clone());
                }
                let accs = groups
                    .entry(k)
                    .or_insert_with(|| vec![Acc::default(); self.aggs.len()]);
                self.add_row(accs, view, t, evicted);
            });
            row_key.push(first);
        }
        let mut out = Vec::with_capacity(rows.len());
        for (mut r, k) in rows.into_iter().zip(row_key) {
            if let Some(accs) = k.as_ref().and_then(|k| groups.get(k)) {
                for ((func, _, alias), acc) in self.aggs.iter().zip(accs) {
                    let v = acc.value(func);
                    if v.is_null() {
                        r.shift_remove(alias);
                    } else {
                        r.insert(alias.clone(), v);
                    }
                }
            }
            out.push(r);
        }
        out
    }
}
