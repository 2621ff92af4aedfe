//! Stateful rules: EQL sequences (join keys, maxspan, until, runs), Elastic
//! threshold (with cardinality) and new_terms, and row pipelines
//! (`stats`/`eventstats`/`eval`/`where`/..., see `pipeline.rs`). State is
//! bounded: sequences expire after `maxspan` and are capped in number;
//! groups are capped too; what is dropped is counted.

use super::corr::Corr;
use super::fields::{EventView, FieldId};
use super::pipeline::Pipeline;
use super::pred::{self, refuse, Ctx, Node, Refusal};
use super::sample::Samples;
use super::scalar::leaf_dyn;
use super::seq::{RawStep, Seq, Step};
use super::{category_expr, full_filter, Alert};
use crate::ir::{Expr, FieldRef, Query, Rule, SeqStep, StageKind};
use serde_json::{json, Map, Value as J};
use std::collections::{BTreeMap, HashMap, HashSet};

/// At most this many partial sequences / groups per rule.
pub const STATE_CAP: usize = 200_000;

pub struct Stateful {
    kind: SKind,
    evicted: u64,
}

enum SKind {
    Sequence(Box<Seq>),
    Sample(Box<Samples>),
    Threshold(Threshold),
    NewTerms(NewTerms),
    Pipeline(Box<Pipeline>),
    Correlation(Box<Corr>),
}

struct Threshold {
    filter: Node,
    fields: Vec<FieldId>,
    names: Vec<String>,
    value: u64,
    cardinality: Vec<(FieldId, String, u64)>,
    groups: HashMap<Vec<String>, Group>,
}

/// Count, distinct values per cardinality field, first timestamp.
type Group = (u64, Vec<HashSet<String>>, Option<i64>);

struct NewTerms {
    filter: Node,
    fields: Vec<FieldId>,
    names: Vec<String>,
    history: i64,
    /// Per term combination: first time seen and that event.
    first: HashMap<Vec<String>, (Option<i64>, u64, Vec<u8>)>,
    window: i64,
}

pub(super) fn key_of(ev: &EventView, ids: &[FieldId]) -> Option<Vec<String>> {
    ids.iter()
        .map(|id| ev.first(*id).and_then(|l| leaf_dyn(l).as_str()))
        .collect()
}

fn step_node(
    filter: Option<&Expr>,
    cats: &[String],
    span: crate::span::Span,
    cx: &mut Ctx,
) -> Result<Node, Refusal> {
    let mut items = Vec::new();
    if let Some(c) = category_expr(cats, span) {
        items.push(c);
    }
    if let Some(f) = filter {
        items.push(f.clone());
    }
    if items.is_empty() {
        return Ok(Node::Const(true));
    }
    pred::compile(&Expr::and(items, span), cx)
}

/// A sequence or sample step: its filter and join keys (shared, then its own).
fn seq_step(shared: &[FieldRef], st: &SeqStep, cx: &mut Ctx) -> Result<Step, Refusal> {
    Ok(Step {
        filter: step_node(st.filter.as_ref(), &st.categories, st.span, cx)?,
        keys: shared
            .iter()
            .chain(&st.by)
            .map(|f| (cx.fields.intern(f), f.optional))
            .collect(),
    })
}

fn duration_setting(rule: &Rule, key: &str) -> Option<i64> {
    let v = rule.meta.settings.get(key)?;
    let t = v.trim().trim_start_matches("now-");
    crate::ir::Duration::parse(t).map(|d| d.millis as i64)
}

impl Stateful {
    pub fn compile(rule: &Rule, q: &Query, cx: &mut Ctx) -> Result<Stateful, Refusal> {
        let stages: Vec<_> = q.stages.iter().collect();
        let kind = match stages.first().map(|s| &s.kind) {
            Some(StageKind::Sequence(s)) if stages.len() == 1 => {
                let mut raw = Vec::new();
                for st in &s.steps {
                    let step = seq_step(&s.by, st, cx)?;
                    for _ in 1..st.runs.max(1) {
                        raw.push(RawStep {
                            step: Step {
                                filter: step.filter.clone(),
                                keys: step.keys.clone(),
                            },
                            missing: st.missing,
                        });
                    }
                    raw.push(RawStep {
                        step,
                        missing: st.missing,
                    });
                }
                let until = match &s.until {
                    Some(u) => Some(seq_step(&s.by, u, cx)?),
                    None => None,
                };
                let maxspan = s.maxspan.as_ref().map(|d| d.millis as i64);
                SKind::Sequence(Box::new(Seq::new(maxspan, raw, until)))
            }
            Some(StageKind::Sample(s)) if stages.len() == 1 => {
                let mut steps = Vec::new();
                for st in &s.steps {
                    steps.push(seq_step(&s.by, st, cx)?);
                }
                SKind::Sample(Box::new(Samples::new(steps)))
            }
            Some(StageKind::Threshold(t)) if stages.len() == 1 => SKind::Threshold(Threshold {
                filter: pred::compile(&full_filter(q), cx)?,
                fields: t.fields.iter().map(|f| cx.fields.intern(f)).collect(),
                names: t.fields.iter().map(|f| f.name.clone()).collect(),
                value: t.value,
                cardinality: t
                    .cardinality
                    .iter()
                    .map(|(f, n)| (cx.fields.intern(f), f.name.clone(), *n))
                    .collect(),
                groups: HashMap::new(),
            }),
            Some(StageKind::NewTerms(n)) if stages.len() == 1 => SKind::NewTerms(NewTerms {
                filter: pred::compile(&full_filter(q), cx)?,
                fields: n.fields.iter().map(|f| cx.fields.intern(f)).collect(),
                names: n.fields.iter().map(|f| f.name.clone()).collect(),
                history: n.history_window.millis as i64,
                first: HashMap::new(),
                window: duration_setting(rule, "from").unwrap_or(9 * 60_000),
            }),
            Some(StageKind::Correlation(c)) if stages.len() == 1 => {
                SKind::Correlation(Box::new(Corr::compile(c, stages[0].span, cx)?))
            }
            Some(
                StageKind::Sequence(_)
                | StageKind::Threshold(_)
                | StageKind::NewTerms(_)
                | StageKind::Correlation(_),
            ) => {
                return refuse(stages[0].span, unsupported(&stages[0].kind));
            }
            _ => SKind::Pipeline(Box::new(Pipeline::compile(q, cx)?)),
        };
        Ok(Stateful { kind, evicted: 0 })
    }

    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Lower a correlation's state cap (tests).
    #[cfg(test)]
    pub fn set_cap(&mut self, cap: usize) {
        if let SKind::Correlation(c) = &mut self.kind {
            c.cap = cap;
        }
    }

    pub fn push(
        &mut self,
        ev: &EventView,
        raw: &[u8],
        index: u64,
        ts: Option<i64>,
        now: Option<i64>,
    ) -> Vec<Alert> {
        match &mut self.kind {
            SKind::Sequence(s) => s.push(ev, raw, index, ts, &mut self.evicted),
            SKind::Sample(s) => s.push(ev, raw, index, ts, &mut self.evicted),
            SKind::Threshold(t) => {
                if pred::eval(&t.filter, ev) {
                    if let Some(k) = key_of(ev, &t.fields) {
                        if t.groups.len() >= STATE_CAP && !t.groups.contains_key(&k) {
                            self.evicted += 1;
                            return Vec::new();
                        }
                        let g = t
                            .groups
                            .entry(k)
                            .or_insert_with(|| (0, vec![HashSet::new(); t.cardinality.len()], ts));
                        g.0 += 1;
                        for (i, (id, _, _)) in t.cardinality.iter().enumerate() {
                            for (l, _) in ev.values(*id) {
                                if let Some(s) = leaf_dyn(l).as_str() {
                                    g.1[i].insert(s);
                                }
                            }
                        }
                    }
                }
                Vec::new()
            }
            SKind::NewTerms(n) => {
                if pred::eval(&n.filter, ev) {
                    if let Some(k) = key_of(ev, &n.fields) {
                        let len = n.first.len();
                        match n.first.get_mut(&k) {
                            Some(f) => {
                                if ts.is_some_and(|t| f.0.is_none_or(|o| t < o)) {
                                    *f = (ts, index, raw.to_vec());
                                }
                            }
                            None if len < STATE_CAP => {
                                n.first.insert(k, (ts, index, raw.to_vec()));
                            }
                            None => self.evicted += 1,
                        }
                    }
                }
                Vec::new()
            }
            SKind::Pipeline(p) => {
                let alerts = p.push(ev, raw, index, ts, now);
                self.evicted += std::mem::take(&mut p.evicted);
                alerts
            }
            SKind::Correlation(c) => {
                let alerts = c.push(ev, raw, index, ts);
                self.evicted += std::mem::take(&mut c.evicted);
                alerts
            }
        }
    }

    pub fn finish(&mut self, now: Option<i64>) -> Vec<Alert> {
        match &mut self.kind {
            SKind::Sequence(s) => s.finish(),
            SKind::Sample(_) | SKind::Correlation(_) => Vec::new(),
            SKind::Threshold(t) => {
                let mut out = Vec::new();
                let groups: BTreeMap<_, _> = t.groups.drain().collect();
                for (k, (count, sets, ts)) in groups {
                    if count < t.value {
                        continue;
                    }
                    let mut extra = group_map(&t.names, &k);
                    extra.insert("count".into(), json!(count));
                    let mut ok = true;
                    for ((_, name, min), set) in t.cardinality.iter().zip(&sets) {
                        extra.insert(format!("cardinality({name})"), json!(set.len()));
                        ok &= set.len() as u64 >= *min;
                    }
                    if ok {
                        out.push(agg_alert(ts, extra));
                    }
                }
                out
            }
            SKind::NewTerms(n) => {
                let Some(now) = now else { return Vec::new() };
                let start = now - n.window;
                let mut out = Vec::new();
                let mut firsts: Vec<_> = n.first.drain().collect();
                firsts.sort_by_key(|(_, (_, i, _))| *i);
                for (k, (ts, index, raw)) in firsts {
                    // New: first seen inside the rule window (nothing in the history window before it).
                    if ts.is_some_and(|t| t >= start && t <= now) {
                        let mut extra = group_map(&n.names, &k);
                        extra.insert("history_window_ms".into(), json!(n.history));
                        out.push(Alert {
                            rule: 0,
                            event_index: index,
                            timestamp: ts,
                            events: vec![raw],
                            extra,
                        });
                    }
                }
                out
            }
            SKind::Pipeline(p) => {
                let alerts = p.finish(now);
                self.evicted += std::mem::take(&mut p.evicted);
                alerts
            }
        }
    }
}

fn group_map(names: &[String], key: &[String]) -> Map<String, J> {
    let mut group = Map::new();
    for (n, v) in names.iter().zip(key) {
        group.insert(n.clone(), J::String(v.clone()));
    }
    let mut m = Map::new();
    m.insert("group".into(), J::Object(group));
    m
}

fn agg_alert(ts: Option<i64>, extra: Map<String, J>) -> Alert {
    Alert {
        rule: 0,
        event_index: 0,
        timestamp: ts,
        events: Vec::new(),
        extra,
    }
}

/// Why a stage cannot run, by name.
pub(super) fn unsupported(k: &StageKind) -> String {
    let what = match k {
        StageKind::Opaque(o) => format!("the command `{}` ({})", o.name, o.reason),
        StageKind::Correlation(_) => "a Sigma correlation with other stages".to_string(),
        k => format!("the stage {}", stage_name(k)),
    };
    format!("{what} is not supported by the matcher")
}

fn stage_name(k: &StageKind) -> &'static str {
    match k {
        StageKind::Aggregate(a) if a.mode == crate::ir::AggMode::Running => {
            "streamstats (running aggregates: its window, current, reset_on_change and \
             time_window options do not reach the IR yet)"
        }
        StageKind::Aggregate(_) => "aggregate",
        StageKind::Eval(_) => "eval",
        StageKind::Where(_) => "where (without an aggregation)",
        StageKind::Limit { .. } => "head/tail",
        StageKind::Dedup { .. } => "dedup",
        StageKind::MvExpand { .. } => "mvexpand",
        StageKind::FillNull { .. } => "fillnull",
        StageKind::Extract(_) => "rex/extract",
        StageKind::Bin { .. } => "bin",
        StageKind::Lookup(_) => "lookup",
        StageKind::Sample(_) => "sample",
        StageKind::Join(_) => "join",
        StageKind::Sequence(_) => "sequence (with other stages)",
        _ => "pipeline stage",
    }
}
