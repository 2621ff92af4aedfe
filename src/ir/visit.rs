//! Walking the IR: the fields a rule reads (cel-rust's `references()`).

use super::{Expr, ExprKind, FieldRef, Query, Scalar, StageKind};

/// Calls `f` on every field reference of an expression, in source order.
pub fn expr_fields<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a FieldRef)) {
    match &e.kind {
        ExprKind::And(items) | ExprKind::Or(items) => items.iter().for_each(|i| expr_fields(i, f)),
        ExprKind::Not(inner) => expr_fields(inner, f),
        ExprKind::Match(m) => f(&m.field),
        ExprKind::Compare(c) => {
            scalar_fields(&c.left, f);
            scalar_fields(&c.right, f);
        }
        ExprKind::Exists(r) => f(r),
        ExprKind::Scalar(s) => scalar_fields(s, f),
        ExprKind::Keyword(_) | ExprKind::Const(_) => {}
        ExprKind::Subsearch(q) => query_fields(q).into_iter().for_each(f),
    }
}

/// Calls `f` on every field reference of a scalar expression.
pub fn scalar_fields<'a>(s: &'a Scalar, f: &mut dyn FnMut(&'a FieldRef)) {
    match s {
        Scalar::Field(r) => f(r),
        Scalar::Lit(..) | Scalar::Duration(..) => {}
        Scalar::Call { args, .. } | Scalar::List(args, _) => {
            args.iter().for_each(|a| scalar_fields(a, f))
        }
        Scalar::Arith { left, right, .. } => {
            scalar_fields(left, f);
            scalar_fields(right, f);
        }
        Scalar::Neg(inner, _) => scalar_fields(inner, f),
        Scalar::Cond(e) => expr_fields(e, f),
    }
}

/// Every field a query reads: filter, stage conditions, keys and arguments.
pub fn query_fields<'q>(q: &'q Query) -> Vec<&'q FieldRef> {
    let mut out = Vec::new();
    let mut push = |r: &'q FieldRef| out.push(r);
    if let Some(e) = &q.filter {
        expr_fields(e, &mut push);
    }
    for st in &q.stages {
        match &st.kind {
            StageKind::Where(e) => expr_fields(e, &mut push),
            StageKind::Eval(assigns) => assigns
                .iter()
                .for_each(|a| scalar_fields(&a.value, &mut push)),
            StageKind::Aggregate(a) => {
                a.aggs
                    .iter()
                    .filter_map(|g| g.arg.as_ref())
                    .for_each(|s| scalar_fields(s, &mut push));
                a.by.iter().for_each(&mut push);
            }
            StageKind::Sort(keys) => keys.iter().for_each(|k| scalar_fields(&k.key, &mut push)),
            StageKind::Dedup { fields, .. } | StageKind::FillNull { fields, .. } => {
                fields.iter().for_each(&mut push)
            }
            StageKind::MvExpand { field } | StageKind::Bin { field, .. } => push(field),
            StageKind::Extract(x) => x.field.iter().for_each(&mut push),
            StageKind::Sequence(s) => {
                s.by.iter().for_each(&mut push);
                for step in s.steps.iter().chain(s.until.as_deref()) {
                    step.by.iter().for_each(&mut push);
                    if let Some(e) = &step.filter {
                        expr_fields(e, &mut push);
                    }
                }
            }
            StageKind::Sample(s) => {
                s.by.iter().for_each(&mut push);
                for step in &s.steps {
                    step.by.iter().for_each(&mut push);
                    if let Some(e) = &step.filter {
                        expr_fields(e, &mut push);
                    }
                }
            }
            StageKind::Threshold(t) => {
                t.fields.iter().for_each(&mut push);
                t.cardinality.iter().for_each(|(r, _)| push(r));
            }
            StageKind::NewTerms(n) => n.fields.iter().for_each(&mut push),
            StageKind::Correlation(c) => {
                c.group_by.iter().for_each(&mut push);
                c.fields.iter().for_each(&mut push);
                c.aliases
                    .iter()
                    .flat_map(|a| a.mapping.iter())
                    .for_each(|(_, f)| push(f));
            }
            StageKind::Join(j) => {
                j.fields.iter().for_each(&mut push);
                query_fields(&j.query).into_iter().for_each(&mut push);
            }
            StageKind::Rename(_)
            | StageKind::Project { .. }
            | StageKind::Limit { .. }
            | StageKind::Lookup(_)
            | StageKind::Opaque(_) => {}
        }
    }
    out
}
