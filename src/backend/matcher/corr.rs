//! Sigma correlation rules (specification v2): the referenced rules'
//! filters are compiled like plain rules; each event they match joins the
//! sliding window (`timespan`) of its group (`group-by`, resolved through
//! `aliases` per referenced rule), and the correlation alerts when its
//! condition holds over the window:
//!
//! - `event_count`: the number of events;
//! - `value_count`: the number of distinct values of the condition's `field`;
//! - `temporal`: the number of distinct referenced rules (all of them
//!   without a condition);
//! - `temporal_ordered`: the referenced rules matched in the order written
//!   (the longest ordered run, compared with the condition when one is given);
//! - `value_sum`, `value_avg`, `value_median`, `value_percentile`: the
//!   aggregate of the numeric `field`.
//!
//! A referenced rule may itself be a correlation (chaining): its alerts
//! count as events of the outer one, grouped by the inner group's values.
//!
//! Once a group alerts its window is emptied, as pySigma's query backends
//! do in effect (one hit per window, not one per further event). An event
//! without a timestamp takes the latest time seen. Events missing a
//! group-by field do not take part (a SIEM's `by` clause drops them too).
//! State is bounded: a window keeps at most `timespan` of events and all
//! windows together at most [`STATE_CAP`] events; beyond that the oldest
//! group is dropped and its events counted as evicted.

use super::fields::{EventView, FieldId};
use super::pred::{self, refuse, Ctx, Node, Refusal};
use super::route::SysmonId;
use super::scalar::{fmt_num, leaf_dyn};
use super::state::{key_of, STATE_CAP};
use super::{full_filter, output_only, Alert};
use crate::ir::{CmpOp, Correlation, CorrelationKind, FieldRef, FieldScheme, Rule, StageKind};
use serde_json::{json, Map, Value as J};
use std::collections::{HashMap, VecDeque};

/// One referenced rule: its filter and where its events keep the group-by
/// fields and the condition field.
struct Sub {
    source: Source,
    /// The referenced rule's Sigma logsource category (routed like a plain rule).
    category: Option<String>,
    keys: Vec<FieldId>,
    /// The names of `keys` (as a chained correlation's group names them).
    key_names: Vec<String>,
    field: Option<FieldId>,
}

/// What makes an event count for a referenced rule.
enum Source {
    /// A plain rule's filter.
    Filter(Node),
    /// A chained correlation: the events on which it alerts.
    Chained(Box<Corr>),
}

/// Chained correlations nest at most this deep.
const MAX_CHAIN: usize = 8;

struct Entry {
    ts: i64,
    index: u64,
    rule: usize,
    value: Option<Val>,
    raw: Vec<u8>,
}

#[derive(Clone)]
enum Val {
    Str(String),
    Num(f64),
}

struct Window {
    entries: VecDeque<Entry>,
    /// Index of the event that opened the window (oldest first eviction).
    opened: u64,
}

pub struct Corr {
    kind: CorrelationKind,
    sysmon: SysmonId,
    subs: Vec<Sub>,
    names: Vec<String>,
    field_name: Option<String>,
    timespan: i64,
    condition: Vec<(CmpOp, f64)>,
    groups: HashMap<Vec<String>, Window>,
    count: usize,
    last_ts: i64,
    /// At most this many events in all windows ([`STATE_CAP`]).
    pub cap: usize,
    pub evicted: u64,
}

/// The field a group-by name (or the condition field) stands for in the
/// events of one referenced rule.
fn resolve(c: &Correlation, name: &FieldRef, rule: &Rule, reference: &str) -> FieldRef {
    let mapped = c
        .aliases
        .iter()
        .find(|a| a.alias == name.name)
        .and_then(|a| {
            a.mapping.iter().find_map(|(r, f)| {
                let hit = r == reference
                    || *r == rule.meta.id
                    || rule.meta.handle.as_deref() == Some(r.as_str());
                hit.then(|| f.clone())
            })
        });
    match mapped {
        Some(f) => f,
        None if name.scheme == FieldScheme::Computed => {
            FieldRef::new(name.name.clone(), FieldScheme::Sigma, name.span)
        }
        None => name.clone(),
    }
}

fn numeric(k: CorrelationKind) -> bool {
    matches!(
        k,
        CorrelationKind::ValueSum
            | CorrelationKind::ValueAvg
            | CorrelationKind::ValueMedian
            | CorrelationKind::ValuePercentile(_)
    )
}

impl Corr {
    pub fn compile(
        c: &Correlation,
        span: crate::span::Span,
        cx: &mut Ctx,
    ) -> Result<Corr, Refusal> {
        Self::compile_at(c, span, cx, 0)
    }

    fn compile_at(
        c: &Correlation,
        span: crate::span::Span,
        cx: &mut Ctx,
        depth: usize,
    ) -> Result<Corr, Refusal> {
        if depth > MAX_CHAIN {
            return refuse(
                span,
                format!("correlations chained more than {MAX_CHAIN} deep"),
            );
        }
        let needs_field = numeric(c.kind) || c.kind == CorrelationKind::ValueCount;
        if needs_field && c.fields.is_empty() {
            return refuse(
                span,
                format!("the {} correlation names no `field`", c.kind.as_str()),
            );
        }
        if c.rules.is_empty() {
            return refuse(span, "the correlation names no rules");
        }
        let mut subs = Vec::new();
        for r in &c.rules {
            let Some(rule) = &r.rule else {
                return refuse(
                    r.span,
                    format!(
                        "the correlated rule `{}` is not among the loaded rules",
                        r.reference
                    ),
                );
            };
            let Some(q) = &rule.query else {
                return refuse(
                    r.span,
                    format!("the correlated rule `{}` has no query", r.reference),
                );
            };
            let stages: Vec<_> = q.stages.iter().filter(|s| !output_only(&s.kind)).collect();
            let source = match stages.as_slice() {
                [] => {
                    let mut scx = Ctx {
                        fields: &mut *cx.fields,
                        language: q.language,
                    };
                    Source::Filter(pred::compile(&full_filter(q), &mut scx)?)
                }
                [s] => match &s.kind {
                    StageKind::Correlation(inner) => {
                        Source::Chained(Box::new(Self::compile_at(inner, s.span, cx, depth + 1)?))
                    }
                    _ => {
                        return refuse(
                            r.span,
                            "correlations of stateful rules are not supported by the matcher",
                        )
                    }
                },
                _ => {
                    return refuse(
                        r.span,
                        "correlations of stateful rules are not supported by the matcher",
                    )
                }
            };
            let key_refs: Vec<FieldRef> = c
                .group_by
                .iter()
                .map(|g| resolve(c, g, rule, &r.reference))
                .collect();
            let keys = key_refs.iter().map(|f| cx.fields.intern(f)).collect();
            let key_names = key_refs.into_iter().map(|f| f.name).collect();
            let field = c
                .fields
                .first()
                .filter(|_| needs_field)
                .map(|f| cx.fields.intern(&resolve(c, f, rule, &r.reference)));
            subs.push(Sub {
                source,
                category: q.source.logsource.as_ref().and_then(|l| l.category.clone()),
                keys,
                key_names,
                field,
            });
        }
        Ok(Corr {
            kind: c.kind,
            sysmon: SysmonId::new(cx.fields),
            subs,
            names: c.group_by.iter().map(|g| g.name.clone()).collect(),
            field_name: c.fields.first().map(|f| f.name.clone()),
            timespan: c.timespan.millis as i64,
            condition: c.condition.iter().map(|(o, n)| (*o, n.value)).collect(),
            groups: HashMap::new(),
            count: 0,
            last_ts: 0,
            cap: STATE_CAP,
            evicted: 0,
        })
    }

    pub fn push(&mut self, ev: &EventView, raw: &[u8], index: u64, ts: Option<i64>) -> Vec<Alert> {
        let t = ts.unwrap_or(self.last_ts);
        self.last_ts = self.last_ts.max(t);
        let mut out = Vec::new();
        for j in 0..self.subs.len() {
            let sub = &mut self.subs[j];
            if !self.sysmon.admits(sub.category.as_deref(), ev) {
                continue;
            }
            // A chained correlation's alert counts as its triggering event,
            // grouped by the chained group's values where it has them.
            let group = match &mut sub.source {
                Source::Filter(f) => {
                    if !pred::eval(f, ev) {
                        continue;
                    }
                    None
                }
                Source::Chained(inner) => {
                    let alerts = inner.push(ev, raw, index, ts);
                    self.evicted += std::mem::take(&mut inner.evicted);
                    match alerts.into_iter().next() {
                        Some(a) => a.extra.get("group").cloned(),
                        None => continue,
                    }
                }
            };
            let key = match &group {
                Some(J::Object(g)) => sub
                    .keys
                    .iter()
                    .zip(&sub.key_names)
                    .map(|(id, n)| match g.get(n) {
                        Some(J::String(v)) => Some(v.clone()),
                        _ => ev.first(*id).and_then(|l| leaf_dyn(l).as_str()),
                    })
                    .collect(),
                _ => key_of(ev, &sub.keys),
            };
            let Some(key) = key else {
                continue;
            };
            let value = match sub.field {
                None => None,
                Some(id) => {
                    let d = ev.first(id).map(leaf_dyn);
                    let v = if numeric(self.kind) {
                        d.and_then(|d| d.as_num()).map(Val::Num)
                    } else {
                        d.and_then(|d| d.as_str()).map(Val::Str)
                    };
                    // Without the field the event adds nothing to the aggregate.
                    if v.is_none() {
                        continue;
                    }
                    v
                }
            };
            if let Some(a) = self.add(key, j, t, index, value, raw) {
                out.push(a);
            }
        }
        out
    }

    fn add(
        &mut self,
        key: Vec<String>,
        rule: usize,
        t: i64,
        index: u64,
        value: Option<Val>,
        raw: &[u8],
    ) -> Option<Alert> {
        if !self.groups.contains_key(&key) && self.count >= self.cap {
            self.make_room();
        }
        let mut w = self.groups.remove(&key).unwrap_or_else(|| Window {
            entries: VecDeque::new(),
            opened: index,
        });
        // Slide: drop what fell out of the timespan before this event.
        let before = w.entries.len();
        w.entries.retain(|e| t - e.ts <= self.timespan);
        self.count -= before - w.entries.len();
        w.entries.push_back(Entry {
            ts: t,
            index,
            rule,
            value,
            raw: raw.to_vec(),
        });
        self.count += 1;
        let (ok, metric) = self.holds(&w.entries);
        if !ok {
            self.groups.insert(key, w);
            return None;
        }
        // The group alerted: its window starts over.
        self.count -= w.entries.len();
        let mut extra = Map::new();
        let group: Map<String, J> = self
            .names
            .iter()
            .zip(&key)
            .map(|(n, v)| (n.clone(), J::String(v.clone())))
            .collect();
        extra.insert("group".into(), J::Object(group));
        extra.insert(self.kind.as_str().into(), metric);
        if let Some(f) = &self.field_name {
            extra.insert("field".into(), J::String(f.clone()));
        }
        extra.insert(
            "event_indexes".into(),
            J::Array(w.entries.iter().map(|e| json!(e.index)).collect()),
        );
        Some(Alert {
            rule: 0,
            event_index: index,
            timestamp: Some(t),
            events: w.entries.into_iter().map(|e| e.raw).collect(),
            extra,
        })
    }

    /// Drop windows emptied by time, then the oldest group, to stay under the cap.
    fn make_room(&mut self) {
        let (last, span) = (self.last_ts, self.timespan);
        let mut dropped = 0;
        for w in self.groups.values_mut() {
            let before = w.entries.len();
            w.entries.retain(|e| last - e.ts <= span);
            dropped += before - w.entries.len();
        }
        self.count -= dropped;
        self.groups.retain(|_, w| !w.entries.is_empty());
        while self.count >= self.cap {
            let Some(oldest) = self
                .groups
                .iter()
                .min_by_key(|(_, w)| w.opened)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(w) = self.groups.remove(&oldest) {
                self.count -= w.entries.len();
                self.evicted += w.entries.len() as u64;
            }
        }
    }

    /// Whether the condition holds over a window, and the measured value.
    fn holds(&self, entries: &VecDeque<Entry>) -> (bool, J) {
        let n = self.subs.len();
        let m = match self.kind {
            CorrelationKind::EventCount => entries.len() as f64,
            CorrelationKind::ValueCount => {
                let mut seen: Vec<&str> = entries
                    .iter()
                    .filter_map(|e| match &e.value {
                        Some(Val::Str(s)) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect();
                seen.sort_unstable();
                seen.dedup();
                seen.len() as f64
            }
            CorrelationKind::Temporal => {
                let mut hit = vec![false; n];
                for e in entries {
                    hit[e.rule] = true;
                }
                hit.iter().filter(|h| **h).count() as f64
            }
            CorrelationKind::TemporalOrdered => {
                let mut sorted: Vec<&Entry> = entries.iter().collect();
                sorted.sort_by_key(|e| (e.ts, e.index));
                let mut next = 0;
                for e in sorted {
                    if next < n && e.rule == next {
                        next += 1;
                    }
                }
                next as f64
            }
            k => {
                let mut v: Vec<f64> = entries
                    .iter()
                    .filter_map(|e| match e.value {
                        Some(Val::Num(x)) => Some(x),
                        _ => None,
                    })
                    .collect();
                if v.is_empty() {
                    return (false, J::Null);
                }
                let sum: f64 = v.iter().sum();
                match k {
                    CorrelationKind::ValueSum => sum,
                    CorrelationKind::ValueAvg => sum / v.len() as f64,
                    CorrelationKind::ValuePercentile(p) => percentile(&mut v, f64::from(p)),
                    _ => percentile(&mut v, 50.0),
                }
            }
        };
        let ok = if self.condition.is_empty() {
            // temporal without a condition: every referenced rule
            m >= n as f64
        } else {
            self.condition.iter().all(|(op, x)| cmp(*op, m, *x))
        };
        let shown = if m.fract() == 0.0 && m.abs() < 9e15 {
            json!(m as i64)
        } else {
            fmt_num(m)
                .parse::<f64>()
                .map(|x| json!(x))
                .unwrap_or(J::Null)
        };
        (ok, shown)
    }
}

fn cmp(op: CmpOp, a: f64, b: f64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

/// The `p`th percentile by linear interpolation between closest ranks.
fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let rank = (p.clamp(0.0, 100.0) / 100.0) * (v.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (rank - lo as f64)
}

#[cfg(test)]
#[path = "corr_tests.rs"]
mod tests;
