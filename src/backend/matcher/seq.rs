//! EQL sequences as Elasticsearch runs them: ordered positive steps with join
//! keys, `maxspan`, `until`, `runs`, and missing-event steps `![...]`.
//!
//! Positive steps form a state machine per join key: one pending partial per
//! step, a newer partial overwrites an older one (Elastic's "How sequence
//! queries handle matches"). An event is offered to every step, latest step
//! first, so one event can end one sequence and start or extend others (an
//! event never extends a partial it created itself).
//!
//! Missing steps are checked the way Elasticsearch checks them once the
//! positive events are found (`TumblingWindow.checkMissingEvents`):
//! - between two positive steps: no matching event (same join keys) whose
//!   timestamp is strictly between theirs;
//! - leading (before the first positive step): take the latest matching
//!   event strictly before the first positive event (`L`);
//! - trailing (after the last positive step): the earliest matching event
//!   strictly after the last positive event (`F`).
//!
//! With `S`/`E` the first/last positive timestamps, a sequence is kept when
//! there is no leading and no trailing hit, or: leading only: `E - L >
//! maxspan`; trailing only: `F - S > maxspan`; both: no `L`, or no `F`, or `F -
//! L > maxspan`. A trailing check waits until an event later than its
//! deadline (`S + maxspan`, or `L + maxspan` with leading steps) arrives, or
//! the input ends (no later event: kept).
//!
//! Events are taken in input order, which must be time order. Without
//! timestamps, input order stands in for "strictly between", maxspan checks
//! pass, and leading/trailing events without a timestamp are ignored (they
//! cannot be placed relative to maxspan). State is bounded: partials and
//! waiting sequences are capped at [`STATE_CAP`] (oldest dropped, counted),
//! leading hits keep two timestamps per key and expire after maxspan.

use super::fields::{EventView, FieldId};
use super::pred::{self, Node};
use super::scalar::leaf_dyn;
use super::state::STATE_CAP;
use super::Alert;
use serde_json::Map;
use std::collections::{BTreeMap, HashMap};

/// The key value of a missing optional join key (`?field`): null joins null.
const NULL_KEY: &str = "\u{0}null";

/// A step's filter and join keys (`(field, optional)`).
pub struct Step {
    pub filter: Node,
    pub keys: Vec<(FieldId, bool)>,
}

impl Step {
    /// The join key of an event that matches the step.
    pub fn key(&self, ev: &EventView) -> Option<Vec<String>> {
        if !pred::eval(&self.filter, ev) {
            return None;
        }
        join_key(ev, &self.keys)
    }
}

/// Join key values; `None` when a required key is missing or null.
pub fn join_key(ev: &EventView, keys: &[(FieldId, bool)]) -> Option<Vec<String>> {
    keys.iter()
        .map(
            |(id, optional)| match ev.first(*id).and_then(|l| leaf_dyn(l).as_str()) {
                Some(s) => Some(s),
                None if *optional => Some(NULL_KEY.to_string()),
                None => None,
            },
        )
        .collect()
}

/// Where an event is: its time and its place in the input.
#[derive(Clone, Copy, Debug)]
struct Pos {
    ts: Option<i64>,
    idx: u64,
}

/// `a` strictly before `b`: by time when both have one, else by input order.
fn before(a: Pos, b: Pos) -> bool {
    match (a.ts, b.ts) {
        (Some(x), Some(y)) => x < y,
        _ => a.idx < b.idx,
    }
}

struct Partial {
    start: Pos,
    last: Pos,
    events: Vec<Vec<u8>>,
    /// The latest leading missing event strictly before `start`.
    lead: Option<i64>,
    /// The first missing event of the following gap after `last`.
    taint: Option<Pos>,
}

/// Timestamps of the two latest leading missing events of a key (distinct).
#[derive(Default, Clone, Copy)]
struct LeadHits {
    latest: Option<i64>,
    previous: Option<i64>,
}

impl LeadHits {
    fn record(&mut self, t: i64) {
        match self.latest {
            Some(l) if l == t => {}
            Some(l) if t < l => {
                // Out of order input: keep the two latest.
                if self.previous.is_none_or(|p| t > p) {
                    self.previous = Some(t);
                }
            }
            _ => {
                self.previous = self.latest;
                self.latest = Some(t);
            }
        }
    }

    /// The latest hit strictly before `t`.
    fn before(&self, t: i64) -> Option<i64> {
        [self.latest, self.previous]
            .into_iter()
            .flatten()
            .find(|&h| h < t)
    }
}

/// A sequence whose positive events are found, waiting for its trailing window.
struct Waiting {
    key: Vec<String>,
    end: Pos,
    events: Vec<Vec<u8>>,
}

pub struct Seq {
    maxspan: Option<i64>,
    /// Positive steps (`runs` expanded).
    steps: Vec<Step>,
    /// `gaps[j]`: missing steps between positive steps `j` and `j + 1`.
    gaps: Vec<Vec<Step>>,
    leading: Vec<Step>,
    trailing: Vec<Step>,
    until: Option<Step>,
    /// Per join key: the latest partial sequence at each positive step.
    pending: HashMap<Vec<String>, Vec<Option<Partial>>>,
    count: usize,
    lead_hits: HashMap<Vec<String>, LeadHits>,
    /// Keyed by (deadline, id): released once an event is later than the deadline.
    waiting: BTreeMap<(i64, u64), Waiting>,
    waiting_by_key: HashMap<Vec<String>, Vec<(i64, u64)>>,
    next_id: u64,
}

/// One step of the IR sequence, compiled, with whether it is a missing step.
pub struct RawStep {
    pub step: Step,
    pub missing: bool,
}

impl Seq {
    pub fn new(maxspan: Option<i64>, raw: Vec<RawStep>, until: Option<Step>) -> Seq {
        let (mut steps, mut gaps, mut leading) = (Vec::new(), Vec::new(), Vec::new());
        let mut missing = Vec::new();
        for r in raw {
            if r.missing {
                missing.push(r.step);
                continue;
            }
            if steps.is_empty() {
                leading = std::mem::take(&mut missing);
            } else {
                gaps.push(std::mem::take(&mut missing));
            }
            steps.push(r.step);
        }
        Seq {
            maxspan,
            steps,
            gaps,
            leading,
            trailing: missing,
            until,
            pending: HashMap::new(),
            count: 0,
            lead_hits: HashMap::new(),
            waiting: BTreeMap::new(),
            waiting_by_key: HashMap::new(),
            next_id: 0,
        }
    }

    fn exceeds(&self, from: i64, to: i64) -> bool {
        self.maxspan.is_some_and(|m| to.saturating_sub(from) > m)
    }

    pub fn push(
        &mut self,
        ev: &EventView,
        raw: &[u8],
        index: u64,
        ts: Option<i64>,
        evicted: &mut u64,
    ) -> Vec<Alert> {
        let here = Pos { ts, idx: index };
        let mut out = match ts {
            Some(t) => self.release(|d| d < t),
            None => Vec::new(),
        };
        if let Some(k) = self.until.as_ref().and_then(|u| u.key(ev)) {
            if let Some(p) = self.pending.remove(&k) {
                self.count -= p.iter().flatten().count();
            }
        }
        self.missing_hits(ev, here);
        let (n, maxspan) = (self.steps.len(), self.maxspan);
        // Latest step first, so an event never extends a partial it created.
        for j in (0..n).rev() {
            let Some(k) = self.steps[j].key(ev) else {
                continue;
            };
            if j == 0 {
                let lead = match (ts, self.lead_hits.get(&k)) {
                    (Some(t), Some(h)) => h.before(t),
                    _ => None,
                };
                let p = Partial {
                    start: here,
                    last: here,
                    events: vec![raw.to_vec()],
                    lead,
                    taint: None,
                };
                if n == 1 {
                    self.complete(k, p, &mut out);
                    continue;
                }
                let slots = self
                    .pending
                    .entry(k)
                    .or_insert_with(|| (0..n).map(|_| None).collect());
                if slots[0].replace(p).is_none() {
                    self.count += 1;
                }
                continue;
            }
            let Some(slots) = self.pending.get_mut(&k) else {
                continue;
            };
            let Some(mut p) = slots[j - 1].take() else {
                continue;
            };
            self.count -= 1;
            let late = matches!((maxspan, p.start.ts, ts), (Some(m), Some(s), Some(t)) if t.saturating_sub(s) > m);
            if late || p.taint.is_some_and(|m| before(m, here)) {
                continue;
            }
            p.events.push(raw.to_vec());
            p.last = here;
            p.taint = None;
            if j + 1 == n {
                self.complete(k, p, &mut out);
            } else if slots[j].replace(p).is_none() {
                self.count += 1;
            }
        }
        if self.count > STATE_CAP {
            self.sweep(ts, evicted);
        }
        self.cap_side_state(ts, evicted);
        out
    }

    /// Record what the missing steps see in this event.
    fn missing_hits(&mut self, ev: &EventView, here: Pos) {
        for (j, gap) in self.gaps.iter().enumerate() {
            for st in gap {
                let Some(k) = st.key(ev) else { continue };
                if let Some(p) = self.pending.get_mut(&k).and_then(|s| s[j].as_mut()) {
                    if p.taint.is_none() && before(p.last, here) {
                        p.taint = Some(here);
                    }
                }
            }
        }
        let Some(t) = here.ts else { return };
        for st in &self.leading {
            if let Some(k) = st.key(ev) {
                self.lead_hits.entry(k).or_default().record(t);
            }
        }
        for st in &self.trailing {
            let Some(k) = st.key(ev) else { continue };
            let Some(ids) = self.waiting_by_key.get_mut(&k) else {
                continue;
            };
            ids.retain(|id| {
                let hit = self
                    .waiting
                    .get(id)
                    .is_some_and(|w| before(w.end, here) && t <= id.0);
                if hit {
                    self.waiting.remove(id);
                }
                !hit
            });
            if ids.is_empty() {
                self.waiting_by_key.remove(&k);
            }
        }
    }

    /// The positive events of a sequence are found: keep, drop or wait.
    fn complete(&mut self, key: Vec<String>, p: Partial, out: &mut Vec<Alert>) {
        let has_lead = !self.leading.is_empty();
        let (s, e) = (p.start.ts, p.last.ts);
        let keep_now = if self.trailing.is_empty() {
            // Leading only: no leading event within maxspan before the end.
            match (p.lead, e) {
                (Some(l), Some(e)) => self.exceeds(l, e),
                _ => true,
            }
        } else {
            let anchor = if has_lead { p.lead } else { s };
            match anchor {
                // No leading event at all (or no time to measure from).
                None => true,
                Some(a) => {
                    let deadline = self.maxspan.map_or(i64::MAX, |m| a.saturating_add(m));
                    if e.is_some_and(|e| deadline <= e) {
                        true
                    } else {
                        let id = (deadline, self.next_id);
                        self.next_id += 1;
                        self.waiting_by_key.entry(key.clone()).or_default().push(id);
                        self.waiting.insert(
                            id,
                            Waiting {
                                key,
                                end: p.last,
                                events: p.events,
                            },
                        );
                        return;
                    }
                }
            }
        };
        if keep_now {
            out.push(seq_alert(p.events, p.last));
        }
    }

    /// Alerts of waiting sequences whose deadline passes `done`.
    fn release(&mut self, done: impl Fn(i64) -> bool) -> Vec<Alert> {
        let mut out = Vec::new();
        while let Some(entry) = self.waiting.first_entry() {
            if !done(entry.key().0) {
                break;
            }
            let (id, w) = entry.remove_entry();
            self.forget(&w.key, id);
            out.push(seq_alert(w.events, w.end));
        }
        out
    }

    fn forget(&mut self, key: &[String], id: (i64, u64)) {
        if let Some(ids) = self.waiting_by_key.get_mut(key) {
            ids.retain(|x| *x != id);
            if ids.is_empty() {
                self.waiting_by_key.remove(key);
            }
        }
    }

    /// At the end of the input no trailing event can come: the waiting are kept.
    pub fn finish(&mut self) -> Vec<Alert> {
        let mut all: Vec<_> = std::mem::take(&mut self.waiting).into_iter().collect();
        self.waiting_by_key.clear();
        all.sort_by_key(|((_, id), _)| *id);
        all.into_iter()
            .map(|(_, w)| seq_alert(w.events, w.end))
            .collect()
    }

    /// Keep the leading hits and waiting sequences within the cap.
    fn cap_side_state(&mut self, ts: Option<i64>, evicted: &mut u64) {
        if self.lead_hits.len() > STATE_CAP {
            if let (Some(t), Some(m)) = (ts, self.maxspan) {
                self.lead_hits
                    .retain(|_, h| h.latest.is_some_and(|l| t.saturating_sub(l) <= m));
            }
            if self.lead_hits.len() > STATE_CAP {
                *evicted += self.lead_hits.len() as u64;
                self.lead_hits.clear();
            }
        }
        while self.waiting.len() > STATE_CAP {
            if let Some((id, w)) = self.waiting.pop_first() {
                self.forget(&w.key, id);
                *evicted += 1;
            }
        }
    }

    /// Drop expired partials; if still over the cap, drop the oldest keys.
    fn sweep(&mut self, ts: Option<i64>, evicted: &mut u64) {
        let mut dropped = 0;
        let maxspan = self.maxspan;
        for slots in self.pending.values_mut() {
            for s in slots.iter_mut() {
                let old = s.as_ref().is_some_and(|p| {
                    matches!((maxspan, p.start.ts, ts), (Some(m), Some(st), Some(t)) if t.saturating_sub(st) > m)
                });
                if old {
                    *s = None;
                    dropped += 1;
                }
            }
        }
        self.pending.retain(|_, s| s.iter().any(Option::is_some));
        self.count -= dropped;
        if self.count > STATE_CAP {
            let mut keys: Vec<(u64, Vec<String>)> = self
                .pending
                .iter()
                .map(|(k, s)| {
                    let first = s.iter().flatten().map(|p| p.start.idx).min();
                    (first.unwrap_or(0), k.clone())
                })
                .collect();
            keys.sort();
            for (_, k) in keys.into_iter().take(self.count - STATE_CAP / 2) {
                if let Some(s) = self.pending.remove(&k) {
                    let c = s.iter().flatten().count();
                    self.count -= c;
                    *evicted += c as u64;
                }
            }
        }
    }
}

fn seq_alert(events: Vec<Vec<u8>>, end: Pos) -> Alert {
    Alert {
        rule: 0,
        event_index: end.idx,
        timestamp: end.ts,
        events,
        extra: Map::new(),
    }
}
