//! Pipeline stages → tabular operators. The query is built as `let`
//! statements plus one body; eventstats-like stages bind the rows so far and
//! look the aggregates up against them.

use super::ctx::{Col, Ctx};
use super::expr::expr;
use super::text::ident;
use crate::ir::*;

mod aggregate;
mod columns;
mod extract;
mod rows;
mod transaction;

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
        // `a . b` (SPL) / `+` on strings concatenates: text.
        Scalar::Arith {
            op: ArithOp::Concat,
            ..
        } => "string",
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
        StageKind::Aggregate(a) => aggregate::aggregate(cx, pipe, a, span),
        StageKind::Eval(assigns) => columns::eval(cx, pipe, assigns),
        StageKind::Where(e) => filter(cx, pipe, e, scheme),
        StageKind::Rename(pairs) => columns::rename(cx, pipe, pairs, span, scheme),
        StageKind::Project { fields, drop } => {
            columns::project(cx, pipe, fields, *drop, span, scheme)
        }
        StageKind::Sort(keys) => rows::sort(cx, pipe, keys),
        StageKind::Limit { count, from_end } => {
            rows::limit(cx, pipe, *count, *from_end, sorted_before, span)
        }
        StageKind::Dedup { fields, count } => rows::dedup(cx, pipe, fields, *count, span),
        StageKind::MvExpand { field } => columns::mv_expand(cx, pipe, field),
        StageKind::FillNull { value, fields } => columns::fill_null(cx, pipe, value, fields, span),
        StageKind::Extract(x) => extract::extract(cx, pipe, x, span),
        StageKind::Bin {
            field,
            span: d,
            alias,
        } => columns::bin(cx, pipe, field, d, alias),
        StageKind::Threshold(t) => aggregate::threshold(cx, pipe, t),
        StageKind::NewTerms(n) => aggregate::new_terms(cx, pipe, n, span),
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
        StageKind::Opaque(o) if o.name == "transaction" => {
            transaction::transaction(cx, pipe, o, span, scheme)
        }
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
