//! Lowering the kuery tree into the IR. The semantics chosen here are written
//! down in `grammar/kuery.ebnf`.

use super::ast::{Literal, Node, RangeOp, Values};
use super::value::{
    bound_value, caveat_once, compare, field_ref, free_text, typed_value, FREE_TEXT,
};
use crate::diag::{codes, Diagnostic};
use crate::ir::{
    ArrayMode, Case, Caveat, CmpOp, Expr, ExprKind, FieldRef, Match, MatchKind, Part, Pattern,
    Quantifier, Value,
};
use crate::span::Span;

#[derive(Default)]
pub struct Lower {
    pub warnings: Vec<Diagnostic>,
    pub caveats: Vec<Caveat>,
}

impl Lower {
    /// Lower a query; `path` holds the enclosing `path: { ... }` prefixes.
    pub fn node(&mut self, n: &Node, path: &[&Literal]) -> Expr {
        match n {
            Node::Or(items, span) => {
                Expr::or(items.iter().map(|i| self.node(i, path)).collect(), *span)
            }
            Node::And(items, span) => {
                Expr::and(items.iter().map(|i| self.node(i, path)).collect(), *span)
            }
            Node::Not(inner, span) => Expr::not(self.node(inner, path), *span),
            Node::Field {
                field,
                values,
                span,
            } => {
                let f = self.field(path, field);
                match values {
                    Values::One(lit) => self.leaf(&f, lit, *span),
                    _ => {
                        let mut e = self.values(&f, values);
                        e.span = *span;
                        e
                    }
                }
            }
            Node::Range {
                field,
                op,
                value,
                span,
            } => {
                let f = self.field(path, field);
                let text: String = value
                    .parts
                    .iter()
                    .map(|p| match p {
                        Part::Lit(s) => s.as_str(),
                        _ => "*",
                    })
                    .collect();
                let op = match op {
                    RangeOp::Lt => CmpOp::Lt,
                    RangeOp::Le => CmpOp::Le,
                    RangeOp::Gt => CmpOp::Gt,
                    RangeOp::Ge => CmpOp::Ge,
                };
                compare(f, op, bound_value(&text), value.span, *span)
            }
            Node::Nested {
                path: p,
                query,
                span,
            } => {
                caveat_once(
                    &mut self.caveats,
                    "kuery-nested",
                    "`path: { ... }` is an Elasticsearch nested query: every condition inside \
                     must hold for the same object of the array at `path`; the IR prefixes the \
                     inner fields with `path.` and loses that same-object requirement",
                    *span,
                );
                let mut inner = path.to_vec();
                inner.push(p);
                self.node(query, &inner)
            }
            Node::Free(lit) => {
                if lit.is_star() {
                    return Expr::new(ExprKind::Const(true), lit.span);
                }
                caveat_once(&mut self.caveats, "kuery-free-text", FREE_TEXT, lit.span);
                self.space_in_wildcard(lit);
                free_text(
                    Value::Str(Pattern::from_parts(lit.parts.iter().cloned())),
                    lit.span,
                )
            }
        }
    }

    /// The field of `path.field`, a name pattern when either holds `*`.
    fn field(&self, path: &[&Literal], field: &Literal) -> FieldRef {
        let mut parts = Vec::new();
        for p in path {
            parts.extend(p.parts.iter().cloned());
            parts.push(Part::Lit(".".into()));
        }
        parts.extend(field.parts.iter().cloned());
        field_ref(parts, field.span)
    }

    fn values(&mut self, f: &FieldRef, v: &Values) -> Expr {
        match v {
            Values::One(lit) => self.leaf(f, lit, lit.span),
            Values::And(items, span) => {
                Expr::and(items.iter().map(|i| self.values(f, i)).collect(), *span)
            }
            Values::Not(inner, span) => Expr::not(self.values(f, inner), *span),
            Values::Or(items, span) => {
                // `f: (a or b)` is one Match with the values as alternatives.
                let mut out: Vec<Expr> = Vec::new();
                let mut merged: Option<usize> = None;
                for e in items.iter().map(|i| self.values(f, i)) {
                    match (e.kind, merged) {
                        (ExprKind::Match(m), Some(k)) => {
                            let target = &mut out[k];
                            target.span = target.span.to(m.span);
                            if let ExprKind::Match(t) = &mut target.kind {
                                t.span = t.span.to(m.span);
                                t.values.extend(m.values);
                            }
                        }
                        (ExprKind::Match(m), None) => {
                            merged = Some(out.len());
                            out.push(Expr::new(ExprKind::Match(m), e.span));
                        }
                        (kind, _) => out.push(Expr::new(kind, e.span)),
                    }
                }
                Expr::or(out, *span)
            }
        }
    }

    /// One `field: value`: exists for `*`, else an exact, case-sensitive match.
    fn leaf(&mut self, f: &FieldRef, lit: &Literal, span: Span) -> Expr {
        if lit.is_star() {
            if f.name_pattern
                .as_ref()
                .is_some_and(|p| p.0 == [Part::AnyRun])
            {
                return Expr::new(ExprKind::Const(true), span);
            }
            return Expr::new(ExprKind::Exists(f.clone()), span);
        }
        self.space_in_wildcard(lit);
        let value = typed_value(&lit.parts, !lit.quoted);
        if !lit.quoted && lit.text().as_deref() == Some("null") {
            self.warnings.push(
                Diagnostic::warning(
                    codes::LOWERING_CAVEAT,
                    "`null` is the string \"null\" here, not a missing value",
                )
                .at(lit.span)
                .label("kept as the string \"null\"")
                .note("kuery has no null test; `not field: *` matches a missing field"),
            );
        }
        Expr::new(
            ExprKind::Match(Match {
                field: f.clone(),
                values: vec![value],
                quantifier: Quantifier::Any,
                case: Case::Sensitive,
                kind: MatchKind::Whole,
                array: ArrayMode::Any,
                span,
            }),
            span,
        )
    }

    /// Kibana sends a wildcard value as a `query_string` query, which splits
    /// it at whitespace into alternatives; the IR keeps the one pattern.
    fn space_in_wildcard(&mut self, lit: &Literal) {
        let spaced = lit
            .parts
            .iter()
            .any(|p| matches!(p, Part::Lit(s) if s.contains(char::is_whitespace)));
        if !lit.quoted && spaced && lit.parts.contains(&Part::AnyRun) {
            caveat_once(
                &mut self.caveats,
                "kuery-wildcard-space",
                "Kibana runs an unquoted value with `*` as a query_string query, which splits it \
                 at whitespace into alternatives; the IR keeps it as one pattern, spaces included",
                lit.span,
            );
        }
    }
}
