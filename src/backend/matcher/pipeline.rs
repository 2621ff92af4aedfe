//! Row pipelines: what runs after a query's filter when its stages go beyond
//! output shaping (SPL `stats`/`tstats`/`eventstats`/`eval`/`where`/...,
//! ES|QL `stats`/`eval`/`where`, Sigma 1.x `count() by x > n`).
//!
//! Every event that passes the filter becomes a row (its leaves under flat,
//! dotted names; an SPL row also gets `_time` in epoch seconds, as Splunk
//! keeps it). Row-local stages (eval, where, rename, spath, fillnull with
//! fields, bin, fields/table) run on each row as it arrives. The first
//! collapsing aggregate (`stats`, `tstats`) also runs as events arrive, so
//! only its groups are kept; every later stage runs over the rows at the end
//! of the input. Without a collapsing aggregate, rows are kept until the end
//! when a later stage needs them all (`eventstats`, `sort`, `dedup`, `tail`),
//! else each surviving row is an alert at once. Groups and kept rows are
//! capped at [`STATE_CAP`]; what is dropped is counted.
//!
//! `now()` / `time()` read `--now` (default: the latest event time).

use super::aggs::{AggSpec, Groups};
use super::fields::{EventView, FieldTable};
use super::json::{parse_flat, Leaf};
use super::pred::{self, refuse, Ctx, Node, Refusal};
use super::scalar::{self, CScalar, Dyn};
use super::state::STATE_CAP;
use super::{full_filter, Alert};
use crate::ir::{
    AggMode, Expr, ExprKind, FieldRef, FieldScheme, Language, Query, Scalar, StageKind,
};
use serde_json::{Map, Value as J};
use std::cmp::Ordering;
use std::collections::HashMap;

pub type Row = Map<String, J>;

/// The hidden row field that holds `now` (epoch seconds) while a row is evaluated.
const NOW: &str = "\u{1}now";

/// A compiled expression context: its own field table over rows.
struct RowTable(FieldTable);

impl RowTable {
    fn view<'t>(&self, text: &'t str) -> Option<EventView<'t>> {
        EventView::parse(&self.0, text).ok()
    }
}

enum Op {
    Eval(RowTable, Vec<(String, CScalar)>),
    Where(RowTable, Node),
    Rename(Vec<(String, String)>),
    Project {
        fields: Vec<String>,
        drop: bool,
    },
    Spath {
        input: String,
        path: String,
    },
    FillNull {
        value: String,
        fields: Vec<String>,
    },
    Bin {
        field: String,
        span: f64,
        alias: String,
    },
    MvExpand(String),
    Sort(RowTable, Vec<(CScalar, bool)>),
    Limit {
        count: usize,
        from_end: bool,
    },
    Dedup {
        fields: Vec<String>,
        count: usize,
    },
    Agg(AggSpec),
}

impl Op {
    /// Whether the stage needs every row before it can emit any.
    fn blocking(&self) -> bool {
        match self {
            Op::Sort(..) | Op::Limit { .. } | Op::Dedup { .. } | Op::Agg(_) => true,
            Op::FillNull { fields, .. } => fields.is_empty(),
            _ => false,
        }
    }
}

pub struct Pipeline {
    filter: Node,
    spl: bool,
    /// Row-local stages before the first blocking one.
    stream: Vec<Op>,
    /// The first blocking stage, when it is a collapsing aggregate.
    groups: Option<(AggSpec, Groups)>,
    /// The remaining stages, run at the end.
    rest: Vec<Op>,
    rows: Vec<Row>,
    pub evicted: u64,
}

fn row_time(row: &Row) -> Option<f64> {
    row.get("_time").and_then(J::as_f64)
}

/// Epoch seconds as a JSON number (an integer when whole).
pub fn num_json(n: f64) -> J {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        J::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(J::Null, J::Number)
    }
}

pub fn dyn_json(d: &Dyn) -> J {
    match d {
        Dyn::Null => J::Null,
        Dyn::Bool(b) => J::Bool(*b),
        Dyn::Num(n) => num_json(*n),
        Dyn::Str(s) => J::String(s.clone()),
        Dyn::List(l) => J::Array(l.iter().map(dyn_json).collect()),
    }
}

/// Splunk's order of values: numbers numerically before strings, strings
/// lexicographically.
pub fn cmp_json(a: &J, b: &J) -> Ordering {
    let num = |j: &J| match j {
        J::Number(n) => n.as_f64(),
        J::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        _ => text(a).cmp(&text(b)),
    }
}

/// A JSON value as text (strings unquoted).
pub fn text(j: &J) -> String {
    match j {
        J::String(s) => s.clone(),
        J::Null => String::new(),
        other => other.to_string(),
    }
}

fn leaf_json(l: &Leaf) -> J {
    match l {
        Leaf::Str(s) => J::String(s.to_string()),
        Leaf::Num(t) => t
            .parse::<serde_json::Number>()
            .map(J::Number)
            .unwrap_or_else(|_| J::String(t.to_string())),
        Leaf::Bool(b) => J::Bool(*b),
        Leaf::Null | Leaf::Object => J::Null,
    }
}

/// Add a value under a flat name; a second value makes a multivalue.
fn add_value(row: &mut Row, key: &str, v: J, in_array: bool) {
    match row.get_mut(key) {
        Some(J::Array(a)) => a.push(v),
        Some(old) => {
            let prev = old.take();
            *old = J::Array(vec![prev, v]);
        }
        None if in_array => {
            row.insert(key.to_string(), J::Array(vec![v]));
        }
        None => {
            row.insert(key.to_string(), v);
        }
    }
}

/// The leaves of a JSON record as a flat row.
pub fn flatten(text: &str) -> Option<Row> {
    let mut row = Row::new();
    parse_flat(text, &mut |path, leaf, in_array| {
        if !matches!(leaf, Leaf::Object | Leaf::Null) {
            add_value(&mut row, path, leaf_json(&leaf), in_array);
        }
    })
    .ok()?;
    Some(row)
}

fn row_text(row: &Row, now: Option<i64>) -> String {
    let mut m = row.clone();
    if let Some(n) = now {
        m.insert(NOW.into(), num_json(n as f64 / 1000.0));
    }
    J::Object(m).to_string()
}

/// Replace `now()` / `time()` by the hidden `now` field.
fn rewrite_scalar(s: &Scalar) -> Scalar {
    match s {
        Scalar::Call {
            name, args, span, ..
        } if args.is_empty() && matches!(name.to_ascii_lowercase().as_str(), "now" | "time") => {
            Scalar::Field(FieldRef::new(NOW, FieldScheme::Raw, *span))
        }
        Scalar::Call {
            name,
            args,
            insensitive,
            span,
        } => Scalar::Call {
            name: name.clone(),
            args: args.iter().map(rewrite_scalar).collect(),
            insensitive: *insensitive,
            span: *span,
        },
        Scalar::Arith {
            op,
            left,
            right,
            span,
        } => Scalar::Arith {
            op: *op,
            left: Box::new(rewrite_scalar(left)),
            right: Box::new(rewrite_scalar(right)),
            span: *span,
        },
        Scalar::Neg(x, sp) => Scalar::Neg(Box::new(rewrite_scalar(x)), *sp),
        Scalar::Cond(e) => Scalar::Cond(Box::new(rewrite_expr(e))),
        Scalar::List(items, sp) => Scalar::List(items.iter().map(rewrite_scalar).collect(), *sp),
        other => other.clone(),
    }
}

fn rewrite_expr(e: &Expr) -> Expr {
    let kind = match &e.kind {
        ExprKind::And(items) => ExprKind::And(items.iter().map(rewrite_expr).collect()),
        ExprKind::Or(items) => ExprKind::Or(items.iter().map(rewrite_expr).collect()),
        ExprKind::Not(x) => ExprKind::Not(Box::new(rewrite_expr(x))),
        ExprKind::Compare(c) => {
            let mut c = c.clone();
            c.left = rewrite_scalar(&c.left);
            c.right = rewrite_scalar(&c.right);
            ExprKind::Compare(c)
        }
        ExprKind::Scalar(s) => ExprKind::Scalar(rewrite_scalar(s)),
        k => k.clone(),
    };
    Expr::new(kind, e.span)
}

fn ctx(t: &mut FieldTable, language: Language) -> Ctx<'_> {
    Ctx {
        fields: t,
        language,
    }
}

fn compile_op(k: &StageKind, span: crate::span::Span, lang: Language) -> Result<Op, Refusal> {
    Ok(match k {
        StageKind::Eval(assigns) => {
            let mut t = FieldTable::new();
            let mut out = Vec::new();
            for a in assigns {
                out.push((
                    a.name.clone(),
                    scalar::compile(&rewrite_scalar(&a.value), &mut ctx(&mut t, lang))?,
                ));
            }
            Op::Eval(RowTable(t), out)
        }
        StageKind::Where(e) => {
            let mut t = FieldTable::new();
            let n = pred::compile(&rewrite_expr(e), &mut ctx(&mut t, lang))?;
            Op::Where(RowTable(t), n)
        }
        StageKind::Rename(pairs) => Op::Rename(pairs.clone()),
        StageKind::Project { fields, drop } => Op::Project {
            fields: fields.clone(),
            drop: *drop,
        },
        StageKind::Extract(x) if x.method == "spath" => Op::Spath {
            input: x
                .field
                .as_ref()
                .map_or_else(|| "_raw".to_string(), |f| f.name.clone()),
            path: x.pattern.clone(),
        },
        StageKind::FillNull { value, fields } => Op::FillNull {
            value: value.clone(),
            fields: fields.iter().map(|f| f.name.clone()).collect(),
        },
        StageKind::Bin { field, span, alias } => Op::Bin {
            field: field.name.clone(),
            span: span.millis as f64 / 1000.0,
            alias: alias.clone().unwrap_or_else(|| field.name.clone()),
        },
        StageKind::MvExpand { field } => Op::MvExpand(field.name.clone()),
        StageKind::Sort(keys) => {
            let mut t = FieldTable::new();
            let mut out = Vec::new();
            for k in keys {
                out.push((
                    scalar::compile(&rewrite_scalar(&k.key), &mut ctx(&mut t, lang))?,
                    k.descending,
                ));
            }
            Op::Sort(RowTable(t), out)
        }
        StageKind::Limit { count, from_end } => Op::Limit {
            count: *count as usize,
            from_end: *from_end,
        },
        StageKind::Dedup { fields, count } => Op::Dedup {
            fields: fields.iter().map(|f| f.name.clone()).collect(),
            count: (*count).max(1) as usize,
        },
        StageKind::Aggregate(a) if a.mode != AggMode::Running => {
            Op::Agg(AggSpec::compile(a, lang, &rewrite_scalar)?)
        }
        k => return refuse(span, super::state::unsupported(k)),
    })
}

impl Pipeline {
    pub fn compile(q: &Query, cx: &mut Ctx) -> Result<Pipeline, Refusal> {
        let mut ops = Vec::new();
        for st in &q.stages {
            ops.push(compile_op(&st.kind, st.span, q.language)?);
        }
        let split = ops.iter().position(Op::blocking).unwrap_or(ops.len());
        let mut rest = ops.split_off(split);
        let groups = match rest.first() {
            Some(Op::Agg(a)) if a.collapse => match rest.remove(0) {
                Op::Agg(a) => Some((a, HashMap::new())),
                _ => None,
            },
            _ => None,
        };
        Ok(Pipeline {
            filter: pred::compile(&full_filter(q), cx)?,
            spl: q.language == Language::Spl,
            stream: ops,
            groups,
            rest,
            rows: Vec::new(),
            evicted: 0,
        })
    }

    fn buffers(&self) -> bool {
        self.groups.is_some() || !self.rest.is_empty()
    }

    pub fn push(
        &mut self,
        ev: &EventView,
        raw: &[u8],
        index: u64,
        ts: Option<i64>,
        now: Option<i64>,
    ) -> Vec<Alert> {
        if !pred::eval(&self.filter, ev) {
            return Vec::new();
        }
        let Some(mut row) = std::str::from_utf8(raw).ok().and_then(flatten) else {
            return Vec::new();
        };
        if self.spl {
            match ts {
                Some(t) => row.insert("_time".into(), num_json(t as f64 / 1000.0)),
                None => row.remove("_time"),
            };
        }
        let mut rows = vec![row];
        for op in &self.stream {
            rows = run_op(op, rows, now, &mut self.evicted);
        }
        if let Some((spec, groups)) = &mut self.groups {
            for r in &rows {
                spec.accumulate(r, now, groups, &mut self.evicted);
            }
            return Vec::new();
        }
        if self.buffers() {
            for r in rows {
                if self.rows.len() >= STATE_CAP {
                    self.evicted += 1;
                } else {
                    self.rows.push(r);
                }
            }
            return Vec::new();
        }
        rows.into_iter()
            .map(|r| {
                let mut extra = Map::new();
                extra.insert("result".into(), J::Object(r));
                Alert {
                    rule: 0,
                    event_index: index,
                    timestamp: ts,
                    events: vec![raw.to_vec()],
                    extra,
                }
            })
            .collect()
    }

    pub fn finish(&mut self, now: Option<i64>) -> Vec<Alert> {
        if !self.buffers() {
            return Vec::new();
        }
        let mut rows = std::mem::take(&mut self.rows);
        if let Some((spec, groups)) = &mut self.groups {
            rows = spec.rows(std::mem::take(groups));
        }
        for op in &self.rest {
            rows = run_op(op, rows, now, &mut self.evicted);
        }
        rows.into_iter()
            .map(|r| {
                let timestamp = row_time(&r).map(|t| (t * 1000.0) as i64);
                let mut extra = Map::new();
                extra.insert("result".into(), J::Object(r));
                Alert {
                    rule: 0,
                    event_index: 0,
                    timestamp,
                    events: Vec::new(),
                    extra,
                }
            })
            .collect()
    }
}

/// `a*b` against `name`: the texts the stars stood for.
fn wild_captures(pat: &str, name: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = pat.split('*').collect();
    if parts.len() == 1 {
        return (pat == name).then(Vec::new);
    }
    let first = parts[0];
    let last = parts[parts.len() - 1];
    let mut rest = name.strip_prefix(first)?;
    let mut caps = Vec::new();
    for (i, p) in parts[1..].iter().enumerate() {
        if i + 2 == parts.len() {
            let cap = rest.strip_suffix(last)?;
            caps.push(cap.to_string());
            return Some(caps);
        }
        let at = rest.find(p)?;
        caps.push(rest[..at].to_string());
        rest = &rest[at + p.len()..];
    }
    None
}

fn wild_fill(pat: &str, caps: &[String]) -> String {
    let mut out = String::new();
    for (i, p) in pat.split('*').enumerate() {
        if i > 0 {
            out.push_str(caps.get(i - 1).map_or("", String::as_str));
        }
        out.push_str(p);
    }
    out
}

fn rename(row: Row, pairs: &[(String, String)]) -> Row {
    let mut row = row;
    for (from, to) in pairs {
        let mut moved = Vec::new();
        for (k, v) in &row {
            if let Some(c) = wild_captures(from, k) {
                moved.push((k.clone(), wild_fill(to, &c), v.clone()));
            }
        }
        for (old, _, _) in &moved {
            row.shift_remove(old);
        }
        for (_, new, v) in moved {
            row.insert(new, v);
        }
    }
    row
}

fn matches_any(pats: &[String], name: &str) -> bool {
    pats.iter().any(|p| wild_captures(p, name).is_some())
}

fn spath(row: &mut Row, input: &str, path: &str) {
    let doc: Option<J> = match row.get(input) {
        Some(J::String(s)) => serde_json::from_str(s).ok(),
        _ => None,
    };
    let mut found = Row::new();
    match doc {
        Some(d) => {
            if let Some(flat) = flatten(&d.to_string()) {
                found = flat;
            } else if !d.is_object() {
                found.insert(input.to_string(), d);
            }
        }
        // Input already extracted as an object (`Parameters.User`): its members.
        None => {
            let pre = format!("{input}.");
            for (k, v) in row.iter() {
                if let Some(rest) = k.strip_prefix(&pre) {
                    found.insert(rest.to_string(), v.clone());
                }
            }
        }
    }
    for (k, v) in found {
        if path.is_empty() {
            row.insert(k, v);
        } else if k == path {
            row.insert(path.to_string(), v);
        }
    }
}

fn eval_on(t: &RowTable, row: &Row, now: Option<i64>, f: &mut dyn FnMut(&EventView)) {
    let text = row_text(row, now);
    let view = t.view(&text);
    if let Some(v) = &view {
        f(v);
    }
}

fn run_op(op: &Op, rows: Vec<Row>, now: Option<i64>, evicted: &mut u64) -> Vec<Row> {
    match op {
        Op::Eval(t, assigns) => rows
            .into_iter()
            .map(|mut r| {
                // Each assignment sees the ones before it.
                for (name, s) in assigns {
                    let mut v = J::Null;
                    eval_on(t, &r, now, &mut |ev| v = dyn_json(&scalar::eval(s, ev)));
                    if v.is_null() {
                        r.shift_remove(name);
                    } else {
                        r.insert(name.clone(), v);
                    }
                }
                r
            })
            .collect(),
        Op::Where(t, n) => rows
            .into_iter()
            .filter(|r| {
                let mut keep = false;
                eval_on(t, r, now, &mut |ev| keep = pred::eval(n, ev));
                keep
            })
            .collect(),
        Op::Rename(pairs) => rows.into_iter().map(|r| rename(r, pairs)).collect(),
        Op::Project { fields, drop } => rows
            .into_iter()
            .map(|r| {
                if *drop {
                    r.into_iter()
                        .filter(|(k, _)| !matches_any(fields, k))
                        .collect()
                } else {
                    // `table a, b`: in the order named.
                    let mut out = Row::new();
                    for f in fields {
                        for (k, v) in &r {
                            if wild_captures(f, k).is_some() && !out.contains_key(k) {
                                out.insert(k.clone(), v.clone());
                            }
                        }
                    }
                    out
                }
            })
            .collect(),
        Op::Spath { input, path } => rows
            .into_iter()
            .map(|mut r| {
                spath(&mut r, input, path);
                r
            })
            .collect(),
        Op::FillNull { value, fields } => {
            let names: Vec<String> = if fields.is_empty() {
                let mut all: Vec<String> = Vec::new();
                for r in &rows {
                    for k in r.keys() {
                        if !all.contains(k) {
                            all.push(k.clone());
                        }
                    }
                }
                all
            } else {
                fields.clone()
            };
            rows.into_iter()
                .map(|mut r| {
                    for n in &names {
                        if r.get(n).is_none_or(J::is_null) {
                            r.insert(n.clone(), J::String(value.clone()));
                        }
                    }
                    r
                })
                .collect()
        }
        Op::Bin { field, span, alias } => rows
            .into_iter()
            .map(|mut r| {
                let v = r.get(field).and_then(|j| match j {
                    J::Number(n) => n.as_f64(),
                    J::String(s) => s.trim().parse().ok(),
                    _ => None,
                });
                if let (Some(v), true) = (v, *span > 0.0) {
                    r.insert(alias.clone(), num_json((v / span).floor() * span));
                }
                r
            })
            .collect(),
        Op::MvExpand(field) => {
            let mut out = Vec::new();
            for r in rows {
                match r.get(field) {
                    Some(J::Array(items)) => {
                        for it in items.clone() {
                            if out.len() >= STATE_CAP {
                                *evicted += 1;
                                break;
                            }
                            let mut x = r.clone();
                            x.insert(field.clone(), it);
                            out.push(x);
                        }
                    }
                    _ => out.push(r),
                }
            }
            out
        }
        Op::Sort(t, keys) => {
            let mut keyed: Vec<(Vec<J>, Row)> = rows
                .into_iter()
                .map(|r| {
                    let mut k = Vec::new();
                    eval_on(t, &r, now, &mut |ev| {
                        k = keys
                            .iter()
                            .map(|(s, _)| dyn_json(&scalar::eval(s, ev)))
                            .collect()
                    });
                    (k, r)
                })
                .collect();
            keyed.sort_by(|(a, _), (b, _)| {
                for (i, (_, desc)) in keys.iter().enumerate() {
                    let (x, y) = (a.get(i).unwrap_or(&J::Null), b.get(i).unwrap_or(&J::Null));
                    // Rows without the key sort last either way.
                    let o = match (x.is_null(), y.is_null()) {
                        (true, true) => Ordering::Equal,
                        (true, false) => Ordering::Greater,
                        (false, true) => Ordering::Less,
                        _ if *desc => cmp_json(y, x),
                        _ => cmp_json(x, y),
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
            keyed.into_iter().map(|(_, r)| r).collect()
        }
        Op::Limit { count, from_end } => {
            let mut rows = rows;
            if *from_end {
                // `tail`: the last rows, last first.
                let start = rows.len().saturating_sub(*count);
                let mut t = rows.split_off(start);
                t.reverse();
                t
            } else {
                rows.truncate(*count);
                rows
            }
        }
        Op::Dedup { fields, count } => {
            let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
            rows.into_iter()
                .filter(|r| {
                    let key: Option<Vec<String>> =
                        fields.iter().map(|f| r.get(f).map(J::to_string)).collect();
                    // Rows missing a field are dropped (`keepempty=false`).
                    let Some(key) = key else { return false };
                    let n = seen.entry(key).or_insert(0);
                    *n += 1;
                    *n <= *count
                })
                .collect()
        }
        Op::Agg(spec) => {
            if spec.collapse {
                let mut groups = HashMap::new();
                for r in &rows {
                    spec.accumulate(r, now, &mut groups, evicted);
                }
                spec.rows(groups)
            } else {
                spec.annotate(rows, now, evicted)
            }
        }
    }
}

/// A group key's values back as JSON (they are stored as JSON text).
pub fn key_values(key: &[String]) -> Vec<J> {
    key.iter()
        .map(|k| serde_json::from_str(k).unwrap_or(J::Null))
        .collect()
}

/// Sorted group keys (Splunk returns groups in by-field order).
pub fn sorted_groups<V>(groups: HashMap<Vec<String>, V>) -> Vec<(Vec<String>, V)> {
    let mut v: Vec<_> = groups.into_iter().collect();
    v.sort_by(|(a, _), (b, _)| {
        let (x, y) = (key_values(a), key_values(b));
        x.iter()
            .zip(&y)
            .map(|(p, q)| cmp_json(p, q))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
    v
}
