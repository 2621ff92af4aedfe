//! A query's pipeline stages as Sigma sees them: one detection, or base
//! detections joined by a correlation (event_count, value_count, value_sum,
//! value_avg, value_percentile, value_median, temporal, temporal_ordered).
//! Stages Sigma cannot express are named as problems: refused, or under
//! `--lenient` dropped with a caveat.

use crate::ir::{
    AggFunc, AggMode, CmpOp, Correlation, Duration, Expr, ExprKind, FieldRef, MatchKind, Number,
    Part, Query, Rule, Scalar, SeqStep, StageKind, Value,
};
use crate::span::Span;

/// One base detection of a correlation.
pub struct Step {
    pub filter: Option<Expr>,
    /// EQL categories of the step (the source's when empty).
    pub categories: Vec<String>,
}

/// A correlation over the base detections.
pub struct Corr {
    pub kind: String,
    pub group_by: Vec<FieldRef>,
    /// Per group-by position, the field in each step's events when the steps
    /// name it differently (EQL per-step `by`): written as aliases.
    pub per_step: Vec<Vec<FieldRef>>,
    pub timespan: Option<Duration>,
    pub condition: Vec<(CmpOp, String)>,
    pub field: Option<FieldRef>,
    pub span: Span,
}

pub enum Shape {
    Single(Option<Expr>),
    Correlated(Vec<Step>, Corr),
    /// A Sigma correlation read from Sigma: written back as it was.
    Sigma(Correlation),
}

/// A stage (or part of one) Sigma cannot express.
pub struct Problem {
    pub stage: String,
    pub message: String,
    pub span: Span,
    /// Dropping it under `--lenient` leaves a rule that still detects the
    /// events of the source (false: nothing sensible can be written).
    pub droppable: bool,
}

pub struct Plan {
    pub shape: Shape,
    pub problems: Vec<Problem>,
    /// Caveats of choices the plan made (code, message, span).
    pub caveats: Vec<(&'static str, String, Option<Span>)>,
}

/// The rule's detection window from its schedule (Elastic `from = "now-9m"`,
/// Splunk `earliest_time = -70m@m`, a search's `earliest=`).
pub fn rule_window(rule: &Rule, q: &Query) -> Option<Duration> {
    let mut cands: Vec<String> = Vec::new();
    for k in ["from", "earliest_time", "dispatch.earliest_time"] {
        if let Some(v) = rule.meta.settings.get(k) {
            cands.push(v.clone());
        }
    }
    if let Some(e) = q
        .source
        .time_range
        .as_ref()
        .and_then(|t| t.earliest.clone())
    {
        cands.push(e);
    }
    cands.iter().find_map(|c| {
        let t = c.trim().trim_start_matches("now").trim_start_matches('-');
        let t = t.split('@').next().unwrap_or(t);
        Duration::parse(t).filter(|d| d.millis > 0)
    })
}

fn agg_kind(f: &AggFunc) -> Option<String> {
    Some(match f {
        AggFunc::Count => "event_count".into(),
        AggFunc::DistinctCount => "value_count".into(),
        AggFunc::Sum => "value_sum".into(),
        AggFunc::Avg => "value_avg".into(),
        AggFunc::Median => "value_median".into(),
        AggFunc::Percentile(p) => format!("value_percentile:{p}"),
        _ => return None,
    })
}

fn func_name(f: &AggFunc) -> String {
    match f {
        AggFunc::Other(n) => n.clone(),
        AggFunc::Percentile(p) => format!("perc{p}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Undo renames (`rename X.* AS *`, `rename a AS b`) on a field name.
fn unrename(name: &str, renames: &[(String, String)]) -> String {
    let mut n = name.to_string();
    for (from, to) in renames.iter().rev() {
        if let Some((pre, post)) = to.split_once('*') {
            if n.starts_with(pre) && n.ends_with(post) && n.len() >= pre.len() + post.len() {
                let mid = &n[pre.len()..n.len() - post.len()];
                n = from.replacen('*', mid, 1);
            }
        } else if n == *to {
            n = from.clone();
        }
    }
    n
}

fn unrename_expr(e: &mut Expr, renames: &[(String, String)]) {
    let fix = |f: &mut FieldRef| f.name = unrename(&f.name, renames);
    match &mut e.kind {
        ExprKind::And(xs) | ExprKind::Or(xs) => {
            xs.iter_mut().for_each(|x| unrename_expr(x, renames))
        }
        ExprKind::Not(x) => unrename_expr(x, renames),
        ExprKind::Match(m) => fix(&mut m.field),
        ExprKind::Exists(f) => fix(f),
        ExprKind::Compare(c) => {
            for s in [&mut c.left, &mut c.right] {
                if let Scalar::Field(f) = s {
                    fix(f);
                }
            }
        }
        _ => {}
    }
}

/// Whether an expression names one of `names`.
fn uses(e: &Expr, names: &[String]) -> Option<String> {
    let mut found = None;
    let q = Query {
        language: crate::ir::Language::Sigma,
        source: Default::default(),
        filter: Some(e.clone()),
        stages: Vec::new(),
        span: e.span,
    };
    for f in crate::ir::visit::query_fields(&q) {
        if names.contains(&f.name) {
            found = Some(f.name.clone());
            break;
        }
    }
    found
}

/// A `where`/`search` that keeps every row (`search *` of a `*_filter` macro).
fn keeps_all(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Const(true) => true,
        ExprKind::Keyword(k) => k
            .values
            .iter()
            .any(|v| matches!(v, Value::Str(p) if p.0 == vec![Part::AnyRun])),
        _ => false,
    }
}

/// Stages that only shape the output rows, not which events alert.
fn presentation(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "convert"
            | "table"
            | "fields"
            | "sort"
            | "head"
            | "fieldformat"
            | "collect"
            | "outputlookup"
            | "rename"
            | "eval"
    )
}

pub fn plan(rule: &Rule, q: &Query) -> Plan {
    let mut problems = Vec::new();
    let mut caveats = Vec::new();
    let mut filter = q.filter.clone();
    let mut renames: Vec<(String, String)> = Vec::new();
    let mut computed: Vec<(String, String)> = Vec::new(); // (field, stage that made it)
    let mut shape: Option<Shape> = None;
    // A collapsing aggregate waiting for its condition.
    let mut pending: Option<(Corr, String)> = None;
    let problem = |stage: &str, message: String, span: Span, droppable: bool| Problem {
        stage: stage.to_string(),
        message,
        span,
        droppable,
    };
    for st in &q.stages {
        let sp = st.span;
        match &st.kind {
            StageKind::Where(e) if keeps_all(e) => {}
            StageKind::Where(e) if pending.is_some() => {
                let Some((corr, alias)) = pending.as_mut() else {
                    continue;
                };
                if !agg_condition(e, alias, &mut corr.condition) {
                    problems.push(problem(
                        "where",
                        "Sigma correlations compare only the aggregate with numbers".into(),
                        sp,
                        true,
                    ));
                }
            }
            StageKind::Where(e) if shape.is_none() => {
                let names: Vec<String> = computed.iter().map(|(n, _)| n.clone()).collect();
                let mut e = e.clone();
                unrename_expr(&mut e, &renames);
                if let Some((_, by)) = computed.iter().find(|(n, _)| n == "*") {
                    // An extraction without named outputs (`spath input=X`):
                    // any later field may come from it.
                    caveats.push((
                        "sigma-extracted-field",
                        format!("fields tested after `{by}` may be extracted by it; they are written as event fields"),
                        Some(sp),
                    ));
                }
                if let Some(n) = uses(&e, &names) {
                    let by = computed
                        .iter()
                        .find(|(c, _)| *c == n)
                        .map(|(_, s)| s.clone())
                        .unwrap_or_default();
                    problems.push(problem(
                        &by,
                        format!("Sigma cannot express the `{by}` stage that computes `{n}`, which a later condition tests"),
                        sp,
                        true,
                    ));
                    continue;
                }
                filter = Some(match filter.take() {
                    Some(f) => Expr::and(vec![f, e], f_span(sp)),
                    None => e,
                });
            }
            StageKind::Where(_) => problems.push(problem(
                "where",
                "a condition after a correlation".into(),
                sp,
                true,
            )),
            StageKind::Rename(pairs) => renames.extend(pairs.iter().cloned()),
            StageKind::Eval(assigns) => {
                computed.extend(assigns.iter().map(|a| (a.name.clone(), "eval".to_string())));
            }
            StageKind::Extract(x) => {
                computed.extend(x.outputs.iter().map(|o| (o.clone(), x.method.clone())));
                if x.outputs.is_empty() {
                    // spath without outputs: every extracted name is unknown.
                    computed.push(("*".into(), x.method.clone()));
                }
            }
            StageKind::Project { .. }
            | StageKind::Sort(_)
            | StageKind::FillNull { .. }
            | StageKind::MvExpand { .. } => {}
            StageKind::Bin { .. } => {}
            StageKind::Limit { .. } => problems.push(problem(
                "head",
                "Sigma alerts on every match; a row limit has no Sigma form".into(),
                sp,
                true,
            )),
            StageKind::Dedup { .. } => problems.push(problem(
                "dedup",
                "Sigma has no deduplication of matches".into(),
                sp,
                true,
            )),
            StageKind::Aggregate(a) => {
                if pending.is_some() || shape.is_some() {
                    let funcs: Vec<String> = a.aggs.iter().map(|g| func_name(&g.func)).collect();
                    problems.push(problem(
                        &agg_stage_name(a.mode),
                        format!(
                            "a second aggregation ({}) over aggregated rows",
                            funcs.join(", ")
                        ),
                        sp,
                        a.mode == AggMode::Annotate,
                    ));
                    continue;
                }
                if a.mode != AggMode::Collapse {
                    let funcs: Vec<String> = a.aggs.iter().map(|g| func_name(&g.func)).collect();
                    problems.push(problem(
                        &agg_stage_name(a.mode),
                        format!(
                            "Sigma correlations cannot add aggregates ({}) to every event",
                            funcs.join(", ")
                        ),
                        sp,
                        true,
                    ));
                    continue;
                }
                let supported: Vec<_> = a
                    .aggs
                    .iter()
                    .filter_map(|g| agg_kind(&g.func).map(|k| (k, g)))
                    .collect();
                let Some((kind, agg)) = supported.first() else {
                    let funcs: Vec<String> = a.aggs.iter().map(|g| func_name(&g.func)).collect();
                    problems.push(problem(
                        "stats",
                        format!("no Sigma correlation computes {}", funcs.join(", ")),
                        sp,
                        true,
                    ));
                    continue;
                };
                let field = match &agg.arg {
                    None => None,
                    Some(Scalar::Field(f)) => Some(f.clone()),
                    Some(_) => {
                        problems.push(problem(
                            "stats",
                            "Sigma aggregates only fields, not expressions".into(),
                            sp,
                            true,
                        ));
                        continue;
                    }
                };
                let mut timespan = a.span.clone();
                let mut group_by = Vec::new();
                for f in &a.by {
                    if f.name == "_time" {
                        continue;
                    }
                    let mut f = f.clone();
                    f.name = unrename(&f.name, &renames);
                    group_by.push(f);
                }
                if timespan.is_none() {
                    timespan = rule_window(rule, q);
                }
                pending = Some((
                    Corr {
                        kind: kind.clone(),
                        group_by,
                        per_step: Vec::new(),
                        timespan,
                        condition: Vec::new(),
                        field,
                        span: sp,
                    },
                    agg.alias.clone(),
                ));
            }
            StageKind::Threshold(t) => {
                let timespan = rule_window(rule, q);
                let group_by = t.fields.clone();
                let base = Corr {
                    kind: "event_count".into(),
                    group_by,
                    per_step: Vec::new(),
                    timespan,
                    condition: vec![(CmpOp::Ge, t.value.to_string())],
                    field: None,
                    span: sp,
                };
                let corr = match t.cardinality.as_slice() {
                    [] => base,
                    [(f, n)] => {
                        if t.value > 1 {
                            problems.push(problem(
                                "threshold",
                                format!("a Sigma correlation has one condition; the event count (≥ {}) is dropped, the distinct count of `{}` kept", t.value, f.name),
                                sp,
                                true,
                            ));
                        }
                        Corr {
                            kind: "value_count".into(),
                            condition: vec![(CmpOp::Ge, n.to_string())],
                            field: Some(f.clone()),
                            ..base
                        }
                    }
                    _ => {
                        problems.push(problem(
                            "threshold",
                            "several cardinality conditions".into(),
                            sp,
                            false,
                        ));
                        base
                    }
                };
                shape = Some(Shape::Correlated(
                    vec![Step {
                        filter: filter.take(),
                        categories: q.source.categories.clone(),
                    }],
                    corr,
                ));
            }
            StageKind::Sequence(s) => {
                let steps = s.steps.iter().chain(s.until.as_deref());
                for step in steps.clone() {
                    if step.missing {
                        problems.push(problem(
                            "sequence",
                            "Sigma cannot require an event to be missing (`![...]`)".into(),
                            step.span,
                            false,
                        ));
                    }
                    if step.runs > 1 {
                        problems.push(problem(
                            "sequence",
                            format!("`runs={}`: Sigma cannot repeat a step", step.runs),
                            step.span,
                            false,
                        ));
                    }
                }
                if s.until.is_some() {
                    problems.push(problem(
                        "sequence",
                        "Sigma has no `until` for temporal correlations".into(),
                        sp,
                        true,
                    ));
                }
                let (timespan, per_step) =
                    seq_common(s.maxspan.clone(), &s.steps, rule, q, &mut caveats, sp);
                let corr = Corr {
                    kind: if s.steps.len() > 1 {
                        "temporal_ordered".into()
                    } else {
                        "event_count".into()
                    },
                    group_by: s.by.clone(),
                    per_step,
                    timespan,
                    condition: if s.steps.len() > 1 {
                        Vec::new()
                    } else {
                        vec![(CmpOp::Ge, "1".into())]
                    },
                    field: None,
                    span: sp,
                };
                shape = Some(Shape::Correlated(steps_of(&s.steps, filter.as_ref()), corr));
            }
            StageKind::Sample(s) => {
                let (timespan, per_step) = seq_common(None, &s.steps, rule, q, &mut caveats, sp);
                let corr = Corr {
                    kind: "temporal".into(),
                    group_by: s.by.clone(),
                    per_step,
                    timespan,
                    condition: Vec::new(),
                    field: None,
                    span: sp,
                };
                shape = Some(Shape::Correlated(steps_of(&s.steps, filter.as_ref()), corr));
            }
            StageKind::Correlation(c) => shape = Some(Shape::Sigma(c.clone())),
            StageKind::NewTerms(n) => {
                let names: Vec<&str> = n.fields.iter().map(|f| f.name.as_str()).collect();
                problems.push(problem(
                    "new_terms",
                    format!(
                        "Sigma cannot express \"first seen in {}\" for [{}]",
                        n.history_window.text,
                        names.join(", ")
                    ),
                    sp,
                    true,
                ));
            }
            StageKind::Lookup(l) => problems.push(problem(
                "lookup",
                format!("Sigma cannot join the lookup `{}`", l.table),
                sp,
                false,
            )),
            StageKind::Join(_) => problems.push(problem(
                "join",
                "Sigma cannot join sub-queries".into(),
                sp,
                false,
            )),
            StageKind::Opaque(o) if presentation(&o.name) => {}
            StageKind::Opaque(o) => problems.push(problem(
                &o.name,
                format!("Sigma cannot express `{}` ({})", o.name, o.reason),
                sp,
                true,
            )),
        }
    }
    if let Some((corr, _)) = pending {
        if corr.condition.is_empty() {
            problems.push(problem(
                "stats",
                "an aggregation without a threshold: the source alerts once per group, Sigma would alert per event".into(),
                corr.span,
                true,
            ));
            shape = Some(Shape::Single(filter.take()));
        } else {
            shape = Some(Shape::Correlated(
                vec![Step {
                    filter: filter.take(),
                    categories: q.source.categories.clone(),
                }],
                corr,
            ));
        }
    }
    Plan {
        shape: match shape {
            Some(s) => s,
            None => Shape::Single(filter),
        },
        problems,
        caveats,
    }
}

fn f_span(s: Span) -> Span {
    s
}

fn agg_stage_name(mode: AggMode) -> String {
    match mode {
        AggMode::Collapse => "stats",
        AggMode::Annotate => "eventstats",
        AggMode::Running => "streamstats",
    }
    .into()
}

fn steps_of(steps: &[SeqStep], shared: Option<&Expr>) -> Vec<Step> {
    steps
        .iter()
        .map(|s| Step {
            filter: match (shared, &s.filter) {
                (Some(a), Some(b)) => Some(Expr::and(vec![a.clone(), b.clone()], b.span)),
                (Some(a), None) => Some(a.clone()),
                (None, f) => f.clone(),
            },
            categories: s.categories.clone(),
        })
        .collect()
}

/// The window and per-step join keys of a sequence or sample.
fn seq_common(
    maxspan: Option<Duration>,
    steps: &[SeqStep],
    rule: &Rule,
    q: &Query,
    caveats: &mut Vec<(&'static str, String, Option<Span>)>,
    sp: Span,
) -> (Option<Duration>, Vec<Vec<FieldRef>>) {
    let timespan = maxspan.or_else(|| {
        let w = rule_window(rule, q);
        if let Some(w) = &w {
            caveats.push((
                "sigma-timespan-window",
                format!("the sequence has no maxspan; the rule's look-back ({}) is used as the timespan", w.text),
                Some(sp),
            ));
        }
        w
    });
    let n = steps.iter().map(|s| s.by.len()).max().unwrap_or(0);
    let per_step = (0..n)
        .map(|i| steps.iter().filter_map(|s| s.by.get(i).cloned()).collect())
        .collect();
    (timespan, per_step)
}

/// `where alias > 5` (and ranges) into correlation conditions.
fn agg_condition(e: &Expr, alias: &str, out: &mut Vec<(CmpOp, String)>) -> bool {
    match &e.kind {
        ExprKind::And(xs) => xs.iter().all(|x| agg_condition(x, alias, out)),
        ExprKind::Compare(c) => {
            let (op, n) = match (&c.left, &c.right) {
                (Scalar::Field(f), Scalar::Lit(Value::Num(n), _)) if f.name == alias => (c.op, n),
                (Scalar::Lit(Value::Num(n), _), Scalar::Field(f)) if f.name == alias => {
                    (c.op.flipped(), n)
                }
                _ => return false,
            };
            out.push((op, num_text(n)));
            true
        }
        ExprKind::Match(m)
            if m.field.name == alias && m.kind == MatchKind::Whole && m.values.len() == 1 =>
        {
            match &m.values[0] {
                Value::Num(n) => {
                    out.push((CmpOp::Eq, num_text(n)));
                    true
                }
                _ => false,
            }
        }
        _ => false,
    }
}

fn num_text(n: &Number) -> String {
    n.text.clone()
}
