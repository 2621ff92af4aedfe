//! Pipeline stages → tabular operators. The query is built as `let`
//! statements plus one body; eventstats-like stages bind the rows so far and
//! look the aggregates up against them.

use super::ctx::{Col, Ctx};
use super::expr::{expr, scalar};
use super::text::{ident, lit, timespan};
use crate::ir::*;

/// A query under construction.
#[derive(Default)]
pub struct Pipe {
    pub lets: Vec<String>,
    pub body: String,
    pub applied: std::collections::BTreeSet<String>,
    /// `let` names used so far (`__rows1`, ...), shared with sub-queries.
    pub n: usize,
    /// Whether the rows are still events (not yet aggregated).
    pub events: bool,
    pub last_sorted: bool,
    /// The Kusto schema family (`xdr`, `sentinel`, `asim`), for sub-queries.
    pub schema: String,
    /// Tables read so far (the head's, then sub-queries').
    pub tables: Vec<String>,
}

impl Pipe {
    pub fn new(head: String, schema: &str) -> Pipe {
        Pipe {
            body: head,
            events: true,
            schema: schema.to_string(),
            ..Pipe::default()
        }
    }
    pub fn op(&mut self, op: impl AsRef<str>) {
        self.body.push_str("\n| ");
        self.body.push_str(op.as_ref());
    }
    /// Bind the rows so far to a name and continue from it.
    pub fn bind(&mut self) -> String {
        self.n += 1;
        let name = format!("__rows{}", self.n);
        let body = std::mem::take(&mut self.body);
        self.lets.push(format!("let {name} = materialize({body});"));
        self.body = name.clone();
        name
    }
    pub fn text(&self) -> String {
        let mut s = String::new();
        for l in &self.lets {
            s.push_str(l);
            s.push('\n');
        }
        s.push_str(&self.body);
        s
    }
}

/// Apply the preludes the expressions rendered so far need.
pub fn flush_needs(cx: &mut Ctx, pipe: &mut Pipe) {
    let needs: Vec<String> = cx.needs.iter().cloned().collect();
    for n in needs {
        if pipe.applied.insert(n.clone()) {
            match cx.prelude(&n) {
                Some(p) => pipe.op(p),
                None => cx.diags.push(
                    crate::diag::Diagnostic::error(
                        crate::diag::codes::UNMAPPED_FIELD,
                        format!("the mapping names a prelude `{n}` it does not define"),
                    )
                    .at(cx.profile_span),
                ),
            }
        }
    }
}

pub fn scalar_type(cx: &mut Ctx, s: &Scalar) -> String {
    match s {
        Scalar::Lit(Value::Num(n), _) if n.is_integer() && !n.text.contains('.') => "long",
        Scalar::Lit(Value::Num(_), _) | Scalar::Arith { .. } | Scalar::Neg(..) => "real",
        Scalar::Lit(Value::Bool(_), _) | Scalar::Cond(_) => "bool",
        Scalar::Duration(..) => "timespan",
        Scalar::List(..) => "dynamic",
        Scalar::Field(f) => {
            let c = cx.field(f);
            return if c.is_numeric() { "real".into() } else { c.ty };
        }
        Scalar::Call { name, args, .. } if matches!(name.as_str(), "if" | "case" | "coalesce") => {
            // The type of the first non-null result value.
            let first = match name.as_str() {
                "if" => 1,
                "case" => 1,
                _ => 0,
            };
            let step = if name == "coalesce" { 1 } else { 2 };
            let mut i = first;
            while i < args.len() {
                if !matches!(args[i], Scalar::Lit(Value::Null, _)) {
                    return scalar_type(cx, &args[i]);
                }
                i += if name == "if" { 1 } else { step };
            }
            "string"
        }
        Scalar::Call { name, .. } => match name.as_str() {
            "round" | "abs" | "floor" | "ceil" | "ceiling" | "sqrt" | "pow" | "exp" | "ln"
            | "log" | "len" | "length" | "tonumber" | "mvcount" | "number" | "add" | "subtract"
            | "multiply" | "divide" | "modulo" => "real",
            "relative_time" | "now" | "time" => "datetime",
            "split" => "dynamic",
            _ => "string",
        },
        _ => "string",
    }
    .to_string()
}

/// `['a.b']` → `a.b`.
fn strip_brackets(id: &str) -> String {
    id.strip_prefix("['")
        .and_then(|s| s.strip_suffix("']"))
        .map(|s| s.replace("\\'", "'").replace("\\\\", "\\"))
        .unwrap_or_else(|| id.to_string())
}

/// Whether rendered text mentions an identifier (as a whole word).
fn mentions(text: &str, id: &str) -> bool {
    text.match_indices(id).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + id.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !word(before) && !word(after)
    })
}

/// The output name of a `name = expr` key.
fn key_name(k: &str) -> String {
    k.split(" = ").next().unwrap_or(k).to_string()
}

/// The name a by-key or projected column gets, and its `name = expr` form.
fn named(name: &str, c: &Col) -> (String, String) {
    let id = ident(name);
    if c.text
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        || c.text.starts_with("['")
    {
        (c.text.clone(), c.text.clone())
    } else {
        (id.clone(), format!("{id} = {}", c.text))
    }
}

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

fn aggregate(cx: &mut Ctx, pipe: &mut Pipe, a: &Aggregate, span: crate::span::Span) {
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

/// A condition as `where`; top-level subsearch conjuncts (`[ ... ]`,
/// `NOT [ ... ]`) become semi-/anti-joins after it.
pub fn filter(cx: &mut Ctx, pipe: &mut Pipe, e: &Expr, scheme: FieldScheme) {
    let items: Vec<&Expr> = match &e.kind {
        ExprKind::And(items) => items.iter().collect(),
        _ => vec![e],
    };
    let sub = |x: &Expr| match &x.kind {
        ExprKind::Subsearch(q) => Some((q.as_ref().clone(), false)),
        ExprKind::Not(inner) => match &inner.kind {
            ExprKind::Subsearch(q) => Some((q.as_ref().clone(), true)),
            _ => None,
        },
        _ => None,
    };
    let (subs, rest): (Vec<&Expr>, Vec<&Expr>) = items.into_iter().partition(|x| sub(x).is_some());
    if !rest.is_empty() {
        let rest = Expr::and(rest.into_iter().cloned().collect(), e.span);
        let w = expr(cx, &rest);
        flush_needs(cx, pipe);
        pipe.op(format!("where {w}"));
    }
    for x in subs {
        if let Some((q, negate)) = sub(x) {
            super::subquery::semi(cx, pipe, &q, negate, x.span, scheme);
        }
    }
}

/// The stages of a query, in order.
pub fn run(cx: &mut Ctx, pipe: &mut Pipe, stages: &[Stage], scheme: FieldScheme) {
    for (i, st) in stages.iter().enumerate() {
        match &st.kind {
            StageKind::Rename(pairs)
                if pairs
                    .iter()
                    .any(|(a, b)| a.contains('*') || b.contains('*')) =>
            {
                super::rename::rename(cx, pipe, pairs, &stages[i + 1..], st.span, scheme);
                pipe.last_sorted = false;
            }
            _ => stage(cx, pipe, st, scheme),
        }
    }
}

/// One pipeline stage.
pub fn stage(cx: &mut Ctx, pipe: &mut Pipe, st: &Stage, scheme: FieldScheme) {
    let span = st.span;
    let sorted_before = pipe.last_sorted;
    pipe.last_sorted = false;
    match &st.kind {
        StageKind::Aggregate(a) => aggregate(cx, pipe, a, span),
        StageKind::Eval(assigns) => {
            // Kusto's extend cannot read a column it defines itself: an
            // assignment that reads an earlier one starts a new extend.
            let mut groups: Vec<Vec<String>> = vec![Vec::new()];
            let mut defined: Vec<String> = Vec::new();
            for a in assigns {
                let v = scalar(cx, &a.value);
                let ty = scalar_type(cx, &a.value);
                if defined.iter().any(|d| mentions(&v, d)) {
                    groups.push(Vec::new());
                    defined.clear();
                }
                defined.push(ident(&a.name));
                if let Some(g) = groups.last_mut() {
                    g.push(format!("{} = {v}", ident(&a.name)));
                }
                cx.computed.insert(a.name.clone(), ty);
            }
            flush_needs(cx, pipe);
            for g in groups.into_iter().filter(|g| !g.is_empty()) {
                pipe.op(format!("extend {}", g.join(", ")));
            }
        }
        StageKind::Where(e) => filter(cx, pipe, e, scheme),
        StageKind::Rename(pairs) => {
            let mut parts = Vec::new();
            let mut written: Vec<&String> = Vec::new();
            for (from, to) in pairs {
                if written.contains(&from) {
                    cx.refuse(
                        span,
                        format!("`rename ... AS {from}, {from} AS {to}`: a pair reads a name an earlier pair of the same command writes (order-dependent)"),
                        "rename",
                    );
                    continue;
                }
                written.push(to);
                if from.contains('*') || to.contains('*') {
                    // `rename Model.* AS *` after tstats: the mapping already
                    // strips the data-model prefix.
                    let prefix = from.trim_end_matches('*');
                    if to == "*" && cx.cim_prefixes.iter().any(|p| p == prefix) {
                        continue;
                    }
                    cx.refuse(
                        span,
                        format!("the wildcard rename `{from}` → `{to}`"),
                        "rename",
                    );
                    continue;
                }
                let c = cx.field(&FieldRef::new(from.clone(), scheme, span));
                let ty = c.ty.clone();
                if ident(to) == c.text {
                    // Already named so (a data-model key).
                    cx.computed.insert(to.clone(), ty);
                    continue;
                }
                if c.text
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                {
                    // `rename a AS b, b AS c`: one rename after the other.
                    if parts
                        .iter()
                        .any(|p: &String| mentions(p, &c.text) || mentions(p, &ident(to)))
                    {
                        flush_needs(cx, pipe);
                        pipe.op(format!("project-rename {}", parts.join(", ")));
                        parts.clear();
                    }
                    let id = ident(to);
                    let taken = cx.computed.contains_key(to)
                        || match &cx.available {
                            Some(av) => av.contains(&id),
                            None => cx.columns.contains_key(to),
                        };
                    if taken {
                        // Renaming onto an existing field replaces it.
                        flush_needs(cx, pipe);
                        if !parts.is_empty() {
                            pipe.op(format!("project-rename {}", parts.join(", ")));
                            parts.clear();
                        }
                        pipe.op(format!("extend {id} = {}", c.text));
                        pipe.op(format!("project-away {}", c.text));
                    } else {
                        parts.push(format!("{id} = {}", c.text));
                    }
                    if let Some(av) = &mut cx.available {
                        av.remove(&c.text);
                        av.insert(id);
                    }
                    cx.computed.insert(to.clone(), ty);
                    cx.computed.remove(from);
                } else {
                    // An expression column: extend under the new name.
                    flush_needs(cx, pipe);
                    pipe.op(format!("extend {} = {}", ident(to), c.text));
                    cx.computed.insert(to.clone(), ty);
                }
            }
            flush_needs(cx, pipe);
            if !parts.is_empty() {
                pipe.op(format!("project-rename {}", parts.join(", ")));
            }
        }
        StageKind::Project { fields, drop } => {
            let mut cols = Vec::new();
            for f in fields {
                if f.contains('*') {
                    cx.refuse(span, format!("the wildcard field list `{f}`"), "project");
                    continue;
                }
                let c = cx.field(&FieldRef::new(f.clone(), scheme, span));
                if *drop && c.text.contains('(') {
                    // Dropping a field that does not exist: nothing to do.
                    continue;
                }
                let (name, k) = named(f, &c);
                let item = if *drop { name } else { k };
                if !cols.iter().any(|x: &String| key_name(x) == key_name(&item)) {
                    cols.push(item);
                }
            }
            flush_needs(cx, pipe);
            if !*drop {
                // Only the kept columns exist from here on.
                let kept: std::collections::BTreeSet<String> =
                    cols.iter().map(|c| key_name(c)).collect();
                cx.computed.retain(|n, _| kept.contains(&ident(n)));
                cx.available = Some(kept);
                for c in &cols {
                    if c.contains(" = ") {
                        cx.computed
                            .entry(strip_brackets(&key_name(c)))
                            .or_insert("string".into());
                    }
                }
            }
            if !cols.is_empty() {
                pipe.op(format!(
                    "{} {}",
                    if *drop { "project-away" } else { "project" },
                    cols.join(", ")
                ));
            }
        }
        StageKind::Sort(keys) => {
            let ks: Vec<String> = keys
                .iter()
                .map(|k| {
                    let s = scalar(cx, &k.key);
                    format!("{s} {}", if k.descending { "desc" } else { "asc" })
                })
                .collect();
            flush_needs(cx, pipe);
            pipe.op(format!("sort by {}", ks.join(", ")));
            pipe.last_sorted = true;
        }
        StageKind::Limit { count, from_end } => {
            if *from_end {
                cx.refuse(span, "the last rows (`tail`) need a row order", "tail");
            } else if sorted_before {
                pipe.op(format!("take {count}"));
                pipe.last_sorted = true;
            } else if pipe.events {
                pipe.op(format!("top {count} by {} desc", ident(&cx.time)));
            } else {
                cx.caveat(
                    "row-order",
                    "the first rows of unsorted results: Kusto's order differs",
                    Some(span),
                );
                pipe.op(format!("take {count}"));
            }
        }
        StageKind::Dedup { fields, count } => {
            if *count != 1 {
                cx.refuse(span, format!("dedup keeping {count} rows per key"), "dedup");
                return;
            }
            let cols: Vec<Col> = fields.iter().map(|f| cx.field(f)).collect();
            let keys: Vec<String> = fields
                .iter()
                .zip(&cols)
                .map(|(f, c)| named(&f.name, c).1)
                .collect();
            let present: Vec<String> = cols
                .iter()
                .map(|c| format!("isnotempty({})", c.text))
                .collect();
            flush_needs(cx, pipe);
            pipe.op(format!("where {}", present.join(" and ")));
            // The time column may have been projected away (`table` first).
            let has_time = cx
                .available
                .as_ref()
                .is_none_or(|a| a.contains(&ident(&cx.time)));
            if pipe.events && has_time {
                pipe.op(format!(
                    "summarize arg_max({}, *) by {}",
                    ident(&cx.time),
                    keys.join(", ")
                ));
            } else {
                cx.caveat(
                    "row-order",
                    "dedup keeps an arbitrary row per key",
                    Some(span),
                );
                pipe.op(format!("summarize take_any(*) by {}", keys.join(", ")));
            }
        }
        StageKind::MvExpand { field } => {
            let c = cx.field(field);
            if !c.is_dynamic() {
                // A single value expands to itself.
                return;
            }
            let (_, k) = named(&field.name, &c);
            flush_needs(cx, pipe);
            pipe.op(format!("mv-expand {k}"));
        }
        StageKind::FillNull { value, fields } => {
            if fields.is_empty() {
                cx.caveat(
                    "fillnull-all",
                    "fillnull without a field list fills every field; Kusto fills only named columns, so it is left out",
                    Some(span),
                );
                return;
            }
            let mut parts = Vec::new();
            for f in fields {
                let c = cx.field(f);
                let (name, _) = named(&f.name, &c);
                if c.is_string() {
                    parts.push(format!(
                        "{name} = iff(isempty({0}), {1}, {0})",
                        c.text,
                        lit(value)
                    ));
                } else if value.parse::<f64>().is_ok() {
                    parts.push(format!("{name} = coalesce({}, {value})", c.text));
                } else {
                    parts.push(format!(
                        "{name} = coalesce(tostring({}), {})",
                        c.text,
                        lit(value)
                    ));
                }
            }
            flush_needs(cx, pipe);
            pipe.op(format!("extend {}", parts.join(", ")));
        }
        StageKind::Extract(x) => extract(cx, pipe, x, span),
        StageKind::Bin {
            field,
            span: d,
            alias,
        } => {
            let c = cx.field(field);
            let name = alias.clone().unwrap_or(field.name.clone());
            let target = if c.ty == "datetime" && alias.is_none() {
                c.text.clone()
            } else {
                cx.computed.insert(name.clone(), c.ty.clone());
                ident(&name)
            };
            pipe.op(format!(
                "extend {target} = bin({}, {})",
                c.text,
                timespan(d)
            ));
        }
        StageKind::Threshold(t) => threshold(cx, pipe, t),
        StageKind::NewTerms(n) => new_terms(cx, pipe, n, span),
        StageKind::Lookup(l) => super::subquery::lookup(cx, pipe, l, span, scheme),
        StageKind::Sequence(_) => cx.refuse(span, "a sequence after other stages", "sequence"),
        StageKind::Sample(_) => cx.refuse(
            span,
            "EQL `sample` (unordered co-occurrence) has no Kusto form here",
            "sample",
        ),
        StageKind::Join(j) => super::subquery::join(cx, pipe, j, span),
        StageKind::Correlation(c) => cx.refuse(
            span,
            format!("the Sigma `{}` correlation", c.kind.as_str()),
            "correlation",
        ),
        StageKind::Opaque(o) => cx.refuse(
            span,
            format!(
                "the command `{}` has no IR meaning yet ({})",
                o.name, o.reason
            ),
            "opaque command",
        ),
    }
}

/// Capturing groups of a PCRE pattern: (index, name).
fn groups(re: &str) -> Vec<(usize, Option<String>)> {
    let chars: Vec<char> = re.chars().collect();
    let (mut i, mut n, mut class) = (0, 0, false);
    let mut out = Vec::new();
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '[' => class = true,
            ']' => class = false,
            '(' if !class => {
                let rest: String = chars[i + 1..].iter().take(3).collect();
                let named = rest.starts_with("?P<")
                    || (rest.starts_with("?<")
                        && !rest.starts_with("?<=")
                        && !rest.starts_with("?<!"))
                    || rest.starts_with("?'");
                if named {
                    n += 1;
                    let start = chars[i + 1..]
                        .iter()
                        .position(|&c| c == '<' || c == '\'')
                        .map(|p| i + 2 + p)
                        .unwrap_or(i);
                    let name: String = chars[start..]
                        .iter()
                        .take_while(|&&c| c != '>' && c != '\'')
                        .collect();
                    out.push((n, Some(name)));
                } else if !rest.starts_with('?') {
                    n += 1;
                    out.push((n, None));
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn extract(cx: &mut Ctx, pipe: &mut Pipe, x: &Extract, span: crate::span::Span) {
    let field = x.field.as_ref().filter(|f| f.name != "_raw");
    match (x.method.as_str(), field) {
        ("rex", Some(f)) => {
            let c = cx.field(f);
            let r = Regex {
                pattern: x.pattern.clone(),
                flavor: RegexFlavor::Pcre,
                anchored: false,
                multiline: false,
                dot_all: false,
            };
            let re = match super::text::regex(&r, false) {
                Ok(re) => re,
                Err(why) => {
                    cx.refuse(span, format!("the rex pattern uses {why}"), "rex");
                    return;
                }
            };
            let gs = groups(&x.pattern);
            let mut parts = Vec::new();
            for o in &x.outputs {
                match gs.iter().find(|(_, n)| n.as_deref() == Some(o)) {
                    Some((i, _)) => parts.push(format!(
                        "{} = extract({}, {i}, tostring({}))",
                        ident(o),
                        super::text::string(&re),
                        c.text
                    )),
                    None => cx.refuse(
                        span,
                        format!("the rex output `{o}` is not a named group"),
                        "rex",
                    ),
                }
                cx.computed.insert(o.clone(), "string".into());
            }
            flush_needs(cx, pipe);
            if !parts.is_empty() {
                pipe.op(format!("extend {}", parts.join(", ")));
            }
        }
        ("spath", Some(f)) if x.pattern.is_empty() && x.outputs.is_empty() => {
            let c = cx.field(f);
            let prelude = cx
                .profile
                .spath
                .iter()
                .find(|(col, _)| ident(col) == c.text)
                .map(|(_, p)| p.clone());
            match prelude {
                Some(p) => {
                    cx.needs.insert(p);
                    flush_needs(cx, pipe);
                    cx.spath_bag = true;
                }
                None => cx.refuse(
                    span,
                    format!(
                        "spath over `{}` without a path: its keys are not known",
                        f.name
                    ),
                    "spath",
                ),
            }
        }
        ("spath", Some(f)) if x.outputs.len() <= 1 && !x.pattern.is_empty() => {
            let c = cx.field(f);
            let path: Vec<String> = x
                .pattern
                .split('.')
                .map(|p| format!("[{}]", lit(p)))
                .collect();
            let out = x.outputs.first().cloned().unwrap_or(x.pattern.clone());
            flush_needs(cx, pipe);
            pipe.op(format!(
                "extend {} = tostring(parse_json(tostring({})){})",
                ident(&out),
                c.text,
                path.join("")
            ));
            cx.computed.insert(out, "string".into());
        }
        ("fromjson", Some(f)) => {
            // The JSON object's keys: fields the table has no column for are
            // read from the bag (as after `spath`).
            let c = cx.field(f);
            let json = format!("parse_json(tostring({}))", c.text);
            let bag = if cx.spath_bag {
                format!("bag_merge({json}, __params)")
            } else {
                json
            };
            cx.caveat(
                "fromjson",
                "fromjson: keys of the JSON object are read for fields the table has no column for; a mapped field keeps its column",
                Some(span),
            );
            flush_needs(cx, pipe);
            pipe.op(format!("extend __params = {bag}"));
            cx.spath_bag = true;
        }
        (m, _) => cx.refuse(
            span,
            format!(
                "`{m}` field extraction{}",
                if field.is_none() {
                    " from the raw event"
                } else {
                    ""
                }
            ),
            "extract",
        ),
    }
}

fn threshold(cx: &mut Ctx, pipe: &mut Pipe, t: &Threshold) {
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

fn new_terms(cx: &mut Ctx, pipe: &mut Pipe, n: &NewTerms, span: crate::span::Span) {
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
