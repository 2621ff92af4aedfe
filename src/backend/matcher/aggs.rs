//! Aggregates over rows (`stats`, `tstats`, `eventstats`, ES|QL `stats`):
//! groups by the values of the by-fields (one group per value of a
//! multivalue field, as Splunk does), optionally by a `span` of `_time`.
//! Nulls are skipped by every function (`count` of rows aside). `stdev` and
//! `var` are the sample statistics (n - 1), null below two values; `stdevp`
//! and `varp` the population ones (n).
//!
//! Percentiles (`median`, `perc<X>`/`p<X>`, `exactperc<X>`, `upperperc<X>`)
//! are exact over the numeric values. For SPL they use Splunk's default
//! `perc_method = nearest-rank` (limits.conf): the value of 0-based rank
//! `floor(X/100 * n)` (at most `n - 1`) among the sorted values, so `median`
//! of an even count is the higher of the two middle values. Splunk computes
//! `perc`/`p`/`upperperc` with an approximating digest once a field has more
//! than 1000 distinct values (within 1% of rank; `upperperc` gives the upper
//! bound): there the matcher's exact value may differ from Splunk's estimate.
//! For ES|QL (`MEDIAN`, `PERCENTILE`, approximate in Elasticsearch) the
//! matcher interpolates linearly between the two nearest ranks, the exact
//! value the estimate approaches. `mode` is the most frequent value (as
//! text; ties go to the value seen first). These keep a count per distinct
//! value, at most [`DISTINCT_CAP`] per group and function (further distinct
//! values are dropped and counted).

use super::fields::{EventView, FieldTable};
use super::pipeline::{dyn_json, key_values, num_json, sorted_groups, text, Row};
use super::pred::{refuse, Ctx, Refusal};
use super::scalar::{self, CScalar, Dyn};
use super::state::STATE_CAP;
use super::time::leaf_millis;
use crate::ir::{AggFunc, AggMode, Aggregate, Language, Scalar};
use serde_json::Value as J;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// `values()` / `dc()` keep at most this many distinct values per group.
const VALUES_CAP: usize = 10_000;
/// `list()` keeps the first 100 values, as Splunk does.
const LIST_CAP: usize = 100;
/// Percentiles and `mode` count at most this many distinct values per group.
pub const DISTINCT_CAP: usize = 100_000;

/// An aggregate as the matcher computes it.
#[derive(Clone, Debug)]
enum Func {
    Ir(AggFunc),
    /// A percentile: `nearest` rank (Splunk) or linear interpolation.
    Perc {
        p: f64,
        nearest: bool,
    },
    Mode,
    VarP,
    StdevP,
    SumSq,
    EarliestTime,
    LatestTime,
}

impl Func {
    fn of(f: &AggFunc, lang: Language) -> Option<Func> {
        let nearest = lang == Language::Spl;
        Some(match f {
            AggFunc::Median => Func::Perc { p: 50.0, nearest },
            AggFunc::Percentile(p) => Func::Perc { p: *p, nearest },
            AggFunc::Mode => Func::Mode,
            AggFunc::Other(name) => match name.as_str() {
                "varp" => Func::VarP,
                "stdevp" => Func::StdevP,
                "sumsq" => Func::SumSq,
                "earliest_time" => Func::EarliestTime,
                "latest_time" => Func::LatestTime,
                n => {
                    let x = n
                        .strip_prefix("exactperc")
                        .or_else(|| n.strip_prefix("upperperc"))?;
                    if x.is_empty() || !x.chars().all(|c| c.is_ascii_digit() || c == '.') {
                        return None;
                    }
                    Func::Perc {
                        p: x.parse().ok()?,
                        nearest,
                    }
                }
            },
            other => Func::Ir(other.clone()),
        })
    }

    /// What the accumulator must keep beyond its running sums.
    fn keeps(&self) -> Keep {
        match self {
            Func::Perc { .. } => Keep::Nums,
            Func::Mode => Keep::Texts,
            _ => Keep::Nothing,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Default)]
enum Keep {
    #[default]
    Nothing,
    Nums,
    Texts,
}

/// A total order key for an f64 (negative numbers first).
fn num_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | 1 << 63
    }
}

fn key_num(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Called with each group key of a row, the row's view and its time.
type KeyFn<'f> = dyn FnMut(Vec<String>, &EventView, Option<f64>) + 'f;

/// Groups of a collapsing aggregate.
pub type Groups = HashMap<Vec<String>, Vec<Acc>>;

pub struct AggSpec {
    pub collapse: bool,
    table: FieldTable,
    by: Vec<(String, CScalar)>,
    span: Option<f64>,
    aggs: Vec<(Func, Option<CScalar>, String)>,
}

#[derive(Default, Clone)]
pub struct Acc {
    keep: Keep,
    /// Count per distinct number (percentiles).
    nums: BTreeMap<u64, u64>,
    /// Count, first position and value per distinct text (`mode`).
    texts: HashMap<String, (u64, u64, J)>,
    sumsq: f64,
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
        let x = match d {
            Dyn::Num(x) => Some(*x),
            d => d.as_num(),
        };
        if let Some(x) = x {
            self.add_num(x);
            if self.keep == Keep::Nums {
                let len = self.nums.len();
                match self.nums.get_mut(&num_key(x)) {
                    Some(c) => *c += 1,
                    None if len < DISTINCT_CAP => {
                        self.nums.insert(num_key(x), 1);
                    }
                    None => *evicted += 1,
                }
            }
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
        if self.keep == Keep::Texts {
            let (len, seq) = (self.texts.len(), self.count);
            match self.texts.get_mut(&text(&j)) {
                Some(e) => e.0 += 1,
                None if len < DISTINCT_CAP => {
                    self.texts.insert(text(&j), (1, seq, j.clone()));
                }
                None => *evicted += 1,
            }
        }
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
        self.sumsq += x * x;
        // Welford's online mean and sum of squared deviations.
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        self.min_n = Some(self.min_n.map_or(x, |m| m.min(x)));
        self.max_n = Some(self.max_n.map_or(x, |m| m.max(x)));
    }

    fn value(&self, func: &Func) -> J {
        let num = |o: Option<f64>| o.map_or(J::Null, num_json);
        let has = self.n > 0;
        let func = match func {
            Func::Ir(f) => f,
            Func::Perc { p, nearest } => return num(self.percentile(*p, *nearest)),
            Func::Mode => {
                let best = self
                    .texts
                    .values()
                    .min_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                return best.map_or(J::Null, |b| b.2.clone());
            }
            Func::VarP => return num(has.then(|| self.m2 / self.n as f64)),
            Func::StdevP => return num(has.then(|| (self.m2 / self.n as f64).sqrt())),
            Func::SumSq => return num(has.then_some(self.sumsq)),
            Func::EarliestTime => return num(self.earliest.as_ref().map(|x| x.0)),
            Func::LatestTime => return num(self.latest.as_ref().map(|x| x.0)),
        };
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

    /// The value of 0-based rank `r` among the counted numbers.
    fn ranked(&self, r: u64) -> Option<f64> {
        let mut seen = 0;
        for (k, c) in &self.nums {
            seen += c;
            if seen > r {
                return Some(key_num(*k));
            }
        }
        None
    }

    fn percentile(&self, p: f64, nearest: bool) -> Option<f64> {
        let n: u64 = self.nums.values().sum();
        if n == 0 {
            return None;
        }
        let p = p.clamp(0.0, 100.0) / 100.0;
        if nearest {
            return self.ranked(((p * n as f64).floor() as u64).min(n - 1));
        }
        let rank = p * (n - 1) as f64;
        let (lo, hi) = (
            self.ranked(rank.floor() as u64)?,
            self.ranked(rank.ceil() as u64)?,
        );
        Some(lo + (hi - lo) * rank.fract())
    }
}

const SUPPORTED: &str = "count, dc, sum, sumsq, avg, stdev, stdevp, var, varp, min, max, range, \
     median, mode, perc/p/exactperc/upperperc<X>, values, list, first, last, earliest, latest, \
     earliest_time, latest_time";

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
            let Some(func) = Func::of(&g.func, lang) else {
                return refuse(
                    g.span,
                    format!(
                        "the aggregate {:?} is not supported by the matcher (supported: {SUPPORTED})",
                        g.func
                    ),
                );
            };
            let arg = match &g.arg {
                Some(s) => Some(scalar::compile(&rewrite(s), &mut cx)?),
                None => None,
            };
            aggs.push((func, arg, g.alias.clone()));
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
            let accs = groups.entry(k).or_insert_with(|| self.fresh());
            self.add_row(accs, view, t, evicted);
        });
    }

    /// Empty accumulators, one per aggregate.
    fn fresh(&self) -> Vec<Acc> {
        self.aggs
            .iter()
            .map(|(f, _, _)| Acc {
                keep: f.keeps(),
                ..Acc::default()
            })
            .collect()
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
                let accs = groups.entry(k).or_insert_with(|| self.fresh());
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
