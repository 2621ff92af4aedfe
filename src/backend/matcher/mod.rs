//! The native matcher: rules are compiled once into an [`Engine`] (typed
//! predicates over field slots, a raw-bytes prefilter, state machines for
//! sequences, thresholds, new terms and aggregations); [`Engine::eval`] takes
//! one JSON record and returns the alerts it completes, [`Engine::finish`]
//! the alerts of aggregations (and of sequences ending in a missing event)
//! at the end of the input.

mod adapt;
mod aggs;
mod blocks;
mod compile;
mod corr;
pub mod exact;
pub mod fields;
mod gate;
pub mod json;
mod linescan;
mod memo;
mod pipeline;
pub mod pred;
pub mod prefilter;
mod req;
mod reqlit;
pub mod route;
mod sample;
pub mod scalar;
mod seq;
mod split;
mod state;
pub mod strmatch;
pub mod time;

use crate::ir::{
    ArrayMode, Case, Expr, ExprKind, FieldRef, FieldScheme, Match, MatchKind, Pattern, Quantifier,
    Query, Rule, StageKind, Value,
};
use crate::span::Span;
use fields::{EventView, FieldTable};
use pred::{Ctx, Node, Refusal};
use prefilter::{Scratch, DECIDED};
use rayon::iter::{IntoParallelIterator, ParallelIterator};
use route::{Router, SysmonId};
use state::Stateful;
use std::collections::HashSet;

/// A rule the matcher cannot run, and why.
#[derive(Debug, Clone)]
pub struct Refused {
    pub rule_id: String,
    pub rule_name: String,
    pub message: String,
    pub span: Span,
}

/// One alert.
#[derive(Debug, Clone)]
pub struct Alert {
    /// Index of the rule in the engine.
    pub rule: usize,
    pub event_index: u64,
    pub timestamp: Option<i64>,
    /// The matching events' raw JSON (one for a stateless rule, the
    /// sequence's events in order, none for an aggregation).
    pub events: Vec<Vec<u8>>,
    /// Group key and aggregate values of a stateful rule.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Metadata of a compiled rule.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub id: String,
    pub name: String,
    pub severity: Option<String>,
}

enum Kind {
    Stateless(Node),
    Stateful(Box<Stateful>),
}

struct Compiled {
    info: RuleInfo,
    kind: Kind,
}

/// A deterministic pseudo-random sequence (xorshift64) for randomized tests.
#[cfg(test)]
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// Per-thread scratch space for evaluating events.
#[derive(Default)]
pub struct Worker {
    scratch: Scratch,
    cand: Vec<u32>,
    /// Decoded strings of the current event (reset per event).
    arena: bumpalo::Bump,
}

/// The compiled rule set.
pub struct Engine {
    fields: FieldTable,
    rules: Vec<Compiled>,
    router: Router,
    /// Scratch space of [`Engine::eval`] (a mutex only so that the engine
    /// can be shared by worker threads; `eval` takes `&mut self` and never
    /// locks).
    worker: std::sync::Mutex<Worker>,
    /// `--now` in milliseconds (for relative times); default: latest event time.
    pub now: Option<i64>,
    max_time: Option<i64>,
    /// Some rule keeps state: every event's time is read (for `max_time`).
    stateful: bool,
    only_correlated: Vec<RuleInfo>,
}

/// The category condition of an EQL `process where` (ECS `event.category`).
pub fn category_expr(cats: &[String], span: Span) -> Option<Expr> {
    if cats.is_empty() {
        return None;
    }
    Some(Expr::new(
        ExprKind::Match(Match {
            field: FieldRef::new("event.category", FieldScheme::Ecs, span),
            values: cats
                .iter()
                .map(|c| Value::Str(Pattern::literal(c.clone())))
                .collect(),
            quantifier: Quantifier::Any,
            case: Case::Sensitive,
            kind: MatchKind::Whole,
            array: ArrayMode::Any,
            span,
        }),
        span,
    ))
}

/// The filter of a query with its source conditions folded in.
pub fn full_filter(q: &Query) -> Expr {
    let mut items = Vec::new();
    if let Some(c) = category_expr(&q.source.categories, q.source.span) {
        items.push(c);
    }
    if let Some(f) = &q.filter {
        items.push(f.clone());
    }
    match items.len() {
        0 => Expr::new(ExprKind::Const(true), q.span),
        _ => Expr::and(items, q.span),
    }
}

/// Stages that change no verdict of a stateless rule (output shaping).
pub(crate) fn output_only(k: &StageKind) -> bool {
    matches!(
        k,
        StageKind::Project { .. } | StageKind::Sort(_) | StageKind::Rename(_)
    )
}

/// The rules a correlation query references (by span), into `silent`
/// (`generate: false`) or `loud` (`generate: true`).
fn correlated(q: &Query, silent: &mut HashSet<Span>, loud: &mut HashSet<Span>) {
    for s in &q.stages {
        if let StageKind::Correlation(c) = &s.kind {
            let set = if c.generate { &mut *loud } else { &mut *silent };
            set.extend(
                c.rules
                    .iter()
                    .filter_map(|r| r.rule.as_ref())
                    .map(|r| r.span),
            );
        }
    }
}

fn stateless_alert(rule: usize, index: u64, ts: Option<i64>, raw: &[u8]) -> Alert {
    Alert {
        rule,
        event_index: index,
        timestamp: ts,
        events: vec![raw.to_vec()],
        extra: serde_json::Map::new(),
    }
}

fn info(rule: &Rule) -> RuleInfo {
    RuleInfo {
        id: rule.meta.id.clone(),
        name: rule.meta.name.clone(),
        severity: rule.meta.severity.map(|s| s.as_str().to_string()),
    }
}

impl Engine {
    /// Compile every rule; rules that cannot be run are refused by name.
    pub fn compile(rules: &[Rule]) -> (Engine, Vec<Refused>) {
        Engine::compile_with(rules, true)
    }

    /// [`Engine::compile`]; `decide: false` evaluates every candidate rule
    /// instead of letting the literal index decide the rules it can (the
    /// reference the index's decisions are tested against).
    pub fn compile_with(rules: &[Rule], decide: bool) -> (Engine, Vec<Refused>) {
        let mut fields = FieldTable::new();
        let mut out = Vec::new();
        let mut refused = Vec::new();
        let mut reqs = Vec::new();
        // Rules are told apart by where they are written (ids may be missing).
        let (mut silent, mut loud, mut spans) = (HashSet::new(), HashSet::new(), Vec::new());
        // The fields the stateless filters name are numbered first, then
        // the Sysmon ones, so that the literal index (from each rule's
        // entry) and the predicates (with their regexes) can be built at the
        // same time on every core: the index's largest automaton takes a
        // core for as long as all the rest. That is done when every rule is
        // stateless and has its entry; should a rule then be refused or
        // compiled in order, the index is built again from the rules kept.
        let filters = compile::numbered_filters(rules, &mut fields);
        let sysmon = SysmonId::new(&mut fields);
        let mut entries = compile::entries_on_every_core(rules, &filters, &fields, decide);
        let ahead = !rules.is_empty() && entries.iter().all(Option::is_some);
        let early_entries = if ahead {
            std::mem::take(&mut entries)
        } else {
            Vec::new()
        };
        let table = &fields;
        let (early_router, (regexes, early)) = rayon::join(
            move || {
                ahead.then(|| {
                    Router::with_sysmon(early_entries.into_iter().flatten().collect(), sysmon)
                })
            },
            || {
                let regexes = strmatch::prebuild_regexes(
                    rules
                        .iter()
                        .filter_map(|r| r.query.as_ref()?.filter.as_ref()),
                );
                let early = compile::predicates_on_every_core(rules, &filters, table, &regexes);
                (regexes, early)
            },
        );
        let mut rebuild = false;
        let mut kept_index = Vec::new();
        for (i, (rule, early)) in rules.iter().zip(early).enumerate() {
            let refuse = |r: Refusal| Refused {
                rule_id: rule.meta.id.clone(),
                rule_name: rule.meta.name.clone(),
                message: r.message,
                span: r.span,
            };
            let Some(q) = &rule.query else {
                refused.push(refuse(Refusal {
                    message: "the rule has no query (e.g. a machine-learning rule)".into(),
                    span: rule.span,
                }));
                continue;
            };
            let result = match (early, &filters[i]) {
                (Some(done), Some(filter)) => done.finish(&mut fields).map(|kind| {
                    let entry = match entries.get_mut(i).and_then(Option::take) {
                        Some(e) => e,
                        // In the index built ahead.
                        None if ahead => (prefilter::Req::True, None, None),
                        None => compile::index_entry(filter, q, &mut fields, decide),
                    };
                    (kind, entry)
                }),
                _ => {
                    rebuild |= ahead;
                    let mut cx = Ctx {
                        fields: &mut fields,
                        language: q.language,
                    };
                    // `filters` has the full filter of every stateless rule.
                    strmatch::with_prebuilt(&regexes, || match &filters[i] {
                        Some(filter) => compile::stateless(filter, q, &mut cx, decide),
                        None => Stateful::compile(rule, q, &mut cx).map(|s| {
                            (
                                Kind::Stateful(Box::new(s)),
                                (prefilter::Req::True, None, None),
                            )
                        }),
                    })
                }
            };
            match result {
                Ok((kind, req)) => {
                    reqs.push(req);
                    kept_index.push(i);
                    correlated(q, &mut silent, &mut loud);
                    spans.push(rule.span);
                    out.push(Compiled {
                        info: info(rule),
                        kind,
                    })
                }
                Err(r) => {
                    rebuild |= ahead;
                    refused.push(refuse(r))
                }
            }
        }
        // Rules a running correlation uses without `generate: true` alert
        // only through it (Sigma's default); they leave the rule set.
        let mut only_correlated = Vec::new();
        let keep: Vec<bool> = spans
            .iter()
            .map(|s| !silent.contains(s) || loud.contains(s))
            .collect();
        let (mut kept, mut kept_reqs, mut kept_rules) = (Vec::new(), Vec::new(), Vec::new());
        for (((c, r), k), i) in out.into_iter().zip(reqs).zip(keep).zip(kept_index) {
            if k {
                kept.push(c);
                kept_reqs.push(r);
                kept_rules.push(i);
            } else {
                rebuild |= ahead;
                only_correlated.push(c.info);
            }
        }
        let (out, mut reqs) = (kept, kept_reqs);
        let router = match early_router {
            Some(r) if !rebuild => r,
            _ => {
                if ahead {
                    // Every rule is stateless: their entries, again.
                    for (req, &i) in reqs.iter_mut().zip(&kept_rules) {
                        if let (Some(q), Some(filter)) = (&rules[i].query, &filters[i]) {
                            *req = compile::index_entry(filter, q, &mut fields, decide);
                        }
                    }
                }
                Router::with_sysmon(reqs, sysmon)
            }
        };
        let stateful = out.iter().any(|r| matches!(r.kind, Kind::Stateful(_)));
        // The filters are copies (with their sources folded in): freed on
        // every core, as they were made.
        filters.into_par_iter().for_each(drop);
        (
            Engine {
                fields,
                rules: out,
                stateful,
                router,
                worker: Default::default(),
                now: None,
                max_time: None,
                only_correlated,
            },
            refused,
        )
    }

    /// Rules that run only inside a correlation (referenced without
    /// `generate: true`): they raise no alerts of their own.
    pub fn only_correlated(&self) -> &[RuleInfo] {
        &self.only_correlated
    }

    pub fn rules(&self) -> impl Iterator<Item = &RuleInfo> {
        self.rules.iter().map(|r| &r.info)
    }

    pub fn rule_info(&self, i: usize) -> &RuleInfo {
        &self.rules[i].info
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rules the literal index decides on its own (see `exact.rs`).
    pub fn decided_rules(&self) -> usize {
        self.router.decided_rules()
    }

    /// Rules the literal index can rule out without evaluating them.
    pub fn prefiltered_rules(&self) -> usize {
        self.router.filtered_rules()
    }

    /// Evaluate one record; `Err` when it is not a valid JSON object event.
    pub fn eval(&mut self, raw: &[u8], index: u64) -> Result<Vec<Alert>, String> {
        self.eval_scanned(raw, None, index)
    }

    /// [`Engine::eval`] of a record whose token bits the reader's line
    /// check made (`json::Splitter::tokens`; `None` when it did not).
    pub fn eval_scanned(
        &mut self,
        raw: &[u8],
        tokens: Option<&[u64]>,
        index: u64,
    ) -> Result<Vec<Alert>, String> {
        let mut w = std::mem::take(self.worker.get_mut().unwrap_or_else(|e| e.into_inner()));
        w.arena.reset();
        let result = self
            .view(&w.arena, &mut w.scratch, &mut w.cand, raw, tokens)
            .map(|ev| self.eval_candidates(&ev, raw, index, &w.cand));
        *self.worker.get_mut().unwrap_or_else(|e| e.into_inner()) = w;
        result
    }

    /// Whether every rule is stateless: events can then be evaluated in any
    /// order, on several threads at once ([`Engine::eval_shared`]).
    pub fn is_stateless(&self) -> bool {
        self.rules
            .iter()
            .all(|r| matches!(r.kind, Kind::Stateless(_)))
    }

    /// [`Engine::eval`] for a stateless rule set, with the caller's scratch
    /// space: the engine itself is shared (one [`Worker`] per thread).
    /// Stateful rules are skipped (see [`Engine::is_stateless`]).
    pub fn eval_shared(
        &self,
        w: &mut Worker,
        raw: &[u8],
        index: u64,
    ) -> Result<Vec<Alert>, String> {
        self.eval_shared_scanned(w, raw, None, index)
    }

    /// [`Engine::eval_shared`] with the record's token bits, as
    /// [`Engine::eval_scanned`].
    pub fn eval_shared_scanned(
        &self,
        w: &mut Worker,
        raw: &[u8],
        tokens: Option<&[u64]>,
        index: u64,
    ) -> Result<Vec<Alert>, String> {
        w.arena.reset();
        let ev = self.view(&w.arena, &mut w.scratch, &mut w.cand, raw, tokens)?;
        let mut alerts = Vec::new();
        let mut ts = None;
        for &c in &w.cand {
            let i = c & !DECIDED;
            if let Kind::Stateless(n) = &self.rules[i as usize].kind {
                if c & DECIDED != 0 || pred::eval(n, &ev) {
                    // The event's time, read once, when it first alerts.
                    let t = *ts.get_or_insert_with(|| {
                        ev.first(self.fields.time).and_then(time::leaf_millis)
                    });
                    alerts.push(stateless_alert(i as usize, index, t, raw));
                }
            }
        }
        Ok(alerts)
    }

    /// Parse a record (escaped strings decoded into `arena`) and put its
    /// candidate rules in `cand`.
    fn view<'a>(
        &self,
        arena: &'a bumpalo::Bump,
        scratch: &mut Scratch,
        cand: &mut Vec<u32>,
        raw: &'a [u8],
        tokens: Option<&'a [u64]>,
    ) -> Result<EventView<'a>, String> {
        // simdutf8: the same answer as `std::str::from_utf8`, vectorised (a
        // few percent of a run); its error type tells where, on failure.
        let text = simdutf8::compat::from_utf8(raw)
            .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
        // When every rule has a Sysmon category, an event of another
        // category is known from its first fields: the rest is only
        // validated (not decoded) and it has no candidates.
        // The ID read then is passed on, not read again.
        let mut settled = !self.router.all_categorised();
        let mut sysmon_id = None;
        let ev = EventView::parse_gated(&self.fields, text, Some(arena), tokens, |v| {
            if settled {
                return false;
            }
            match self.router.rules_out(v) {
                Some((id, out)) => {
                    settled = true;
                    sysmon_id = Some(id);
                    out
                }
                None => false,
            }
        })
        .map_err(|e| format!("{} at byte {}", e.message, e.offset))?;
        if ev.closed {
            cand.clear();
        } else {
            self.router.candidates_of(&ev, sysmon_id, scratch, cand);
        }
        Ok(ev)
    }

    fn eval_candidates(
        &mut self,
        ev: &EventView,
        raw: &[u8],
        index: u64,
        cand: &[u32],
    ) -> Vec<Alert> {
        // The event's time: read for every event when some rule keeps state
        // (the latest time is `now` by default), else once, when it first
        // alerts (as `eval_shared` does).
        let time = self.fields.time;
        let read = || ev.first(time).and_then(time::leaf_millis);
        let mut ts = None;
        if self.stateful {
            let t = read();
            if let Some(t) = t {
                self.max_time = Some(self.max_time.map_or(t, |m| m.max(t)));
            }
            ts = Some(t);
        }
        let mut alerts = Vec::new();
        for &c in cand {
            let i = (c & !DECIDED) as usize;
            match &mut self.rules[i].kind {
                Kind::Stateless(n) => {
                    if c & DECIDED != 0 || pred::eval(n, ev) {
                        let t = *ts.get_or_insert_with(read);
                        alerts.push(stateless_alert(i, index, t, raw));
                    }
                }
                Kind::Stateful(s) => {
                    let now = self.now.or(self.max_time);
                    let t = *ts.get_or_insert_with(read);
                    for mut a in s.push(ev, raw, index, t, now) {
                        a.rule = i;
                        alerts.push(a);
                    }
                }
            }
        }
        alerts
    }

    /// Alerts of aggregations, thresholds and new terms over the whole input.
    pub fn finish(&mut self) -> Vec<Alert> {
        let now = self.now.or(self.max_time);
        let mut alerts = Vec::new();
        for (i, r) in self.rules.iter_mut().enumerate() {
            if let Kind::Stateful(s) = &mut r.kind {
                for mut a in s.finish(now) {
                    a.rule = i;
                    alerts.push(a);
                }
            }
        }
        alerts
    }

    /// State dropped to keep memory bounded (sequences evicted, groups capped).
    pub fn evicted(&self) -> u64 {
        self.rules
            .iter()
            .map(|r| match &r.kind {
                Kind::Stateful(s) => s.evicted(),
                Kind::Stateless(_) => 0,
            })
            .sum()
    }
}

#[cfg(test)]
mod pipeline_tests;
#[cfg(test)]
mod seq_tests;
#[cfg(test)]
mod tests;
