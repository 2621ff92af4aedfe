//! Lowering ES|QL expressions: values to [`Scalar`], conditions to [`Expr`].
//!
//! ES|QL logic has three values: a comparison with null (a missing field, or
//! a multi-valued field, which single-value operators turn into null with a
//! warning) is null, `NOT null` is null, and WHERE keeps only rows where the
//! condition is true. The IR is two-valued ("a Match on a missing field is
//! false"), so a condition lowers to *when it is true* ([`Lower::truth`]) and
//! its negation to *when it is false* ([`Lower::falsity`]): `NOT f == "x"`
//! becomes `Exists(f) AND NOT Match(f, "x")`.

use super::ast::{self, Cmp, ExprKind, Lit};
use super::lower::Lower;
use crate::ir::{
    ArrayMode, Case, CmpOp, Compare, Duration, Expr, ExprKind as K, FieldRef, Match, MatchKind,
    Number, Pattern, Quantifier, Regex, RegexFlavor, Scalar, Value,
};
use crate::span::Span;

/// A field and how string literals compare with it.
struct Target {
    field: FieldRef,
    /// `to_lower(f)` / `to_upper(f)`: literals must be in that case.
    fold: Option<bool>,
}

impl Lower {
    /// The rows where `e` is true.
    pub fn truth(&mut self, e: &ast::Expr) -> Expr {
        let span = e.span;
        match &e.kind {
            ExprKind::And(items) => Expr::and(items.iter().map(|i| self.truth(i)).collect(), span),
            ExprKind::Or(items) => Expr::or(items.iter().map(|i| self.truth(i)).collect(), span),
            ExprKind::Not(a) => respan(self.falsity(a), span),
            ExprKind::Lit(Lit::Bool(b)) => Expr::new(K::Const(*b), span),
            ExprKind::Lit(Lit::Null) => Expr::new(K::Const(false), span),
            ExprKind::Cmp(op, l, r) => self.compare(*op, l, r, span, true),
            ExprKind::In { negated: true, .. } | ExprKind::Like { negated: true, .. } => {
                self.falsity(&positive(e))
            }
            ExprKind::In { expr, list, .. } => self.in_list(expr, list, span, true),
            ExprKind::IsNull { expr, negated } => self.is_null(expr, *negated, span),
            ExprKind::Like {
                expr,
                patterns,
                regex,
                ..
            } => self.like(expr, patterns, *regex, span, true),
            ExprKind::MatchOp { field, query } => self.full_text(field, query, span, true),
            ExprKind::Call { name, args, .. } if name == "match" && args.len() == 2 => {
                self.full_text(&args[0], &args[1], span, true)
            }
            _ => Expr::new(K::Scalar(self.scalar(e)), span),
        }
    }

    /// The rows where `e` is false (not null).
    pub fn falsity(&mut self, e: &ast::Expr) -> Expr {
        let span = e.span;
        match &e.kind {
            ExprKind::And(items) => Expr::or(items.iter().map(|i| self.falsity(i)).collect(), span),
            ExprKind::Or(items) => Expr::and(items.iter().map(|i| self.falsity(i)).collect(), span),
            ExprKind::Not(a) => respan(self.truth(a), span),
            ExprKind::Lit(Lit::Bool(b)) => Expr::new(K::Const(!*b), span),
            ExprKind::Lit(Lit::Null) => Expr::new(K::Const(false), span),
            ExprKind::Cmp(op, l, r) => self.compare(*op, l, r, span, false),
            ExprKind::In { negated: true, .. } | ExprKind::Like { negated: true, .. } => {
                self.truth(&positive(e))
            }
            ExprKind::In { expr, list, .. } => self.in_list(expr, list, span, false),
            ExprKind::IsNull { expr, negated } => self.is_null(expr, !*negated, span),
            ExprKind::Like {
                expr,
                patterns,
                regex,
                ..
            } => self.like(expr, patterns, *regex, span, false),
            ExprKind::MatchOp { field, query } => self.full_text(field, query, span, false),
            ExprKind::Call { name, args, .. } if name == "match" && args.len() == 2 => {
                self.full_text(&args[0], &args[1], span, false)
            }
            _ => {
                let left = self.scalar(e);
                Expr::new(
                    K::Compare(Compare {
                        left,
                        op: CmpOp::Eq,
                        right: Scalar::Lit(Value::Bool(false), span),
                        case: Case::Sensitive,
                        span,
                    }),
                    span,
                )
            }
        }
    }

    /// `Match` when true, `Exists AND NOT Match` when false.
    fn matched(&self, m: Match, span: Span, positive: bool) -> Expr {
        let field = m.field.clone();
        let e = Expr::new(K::Match(m), span);
        if positive {
            e
        } else {
            let exists = Expr::new(K::Exists(field), span);
            Expr::and(vec![exists, Expr::not(e, span)], span)
        }
    }

    fn match_node(&self, t: &Target, values: Vec<Value>, kind: MatchKind, span: Span) -> Match {
        Match {
            field: t.field.clone(),
            values,
            quantifier: Quantifier::Any,
            case: if t.fold.is_some() {
                Case::Insensitive
            } else {
                Case::Sensitive
            },
            kind,
            array: ArrayMode::ScalarOnly,
            span,
        }
    }

    fn compare(&mut self, op: Cmp, l: &ast::Expr, r: &ast::Expr, span: Span, pos: bool) -> Expr {
        let (l, r) = match (&l.kind, &r.kind) {
            (ExprKind::Lit(Lit::Str(_)), k) if !matches!(k, ExprKind::Lit(_)) => (r, l),
            _ => (l, r),
        };
        let equality = matches!(op, Cmp::CiEq | Cmp::Op(CmpOp::Eq | CmpOp::Ne));
        if let (true, ExprKind::Lit(Lit::Str(s))) = (equality, &r.kind) {
            if let Some(mut t) = self.target(l, std::slice::from_ref(s)) {
                if op == Cmp::CiEq {
                    t.fold = Some(true);
                }
                let m = self.match_node(
                    &t,
                    vec![Value::Str(Pattern::literal(s))],
                    MatchKind::Whole,
                    span,
                );
                let eq = op != Cmp::Op(CmpOp::Ne);
                return self.matched(m, span, eq == pos);
            }
        }
        let (op, case) = match op {
            Cmp::CiEq => (CmpOp::Eq, Case::Insensitive),
            Cmp::Op(o) => (o, Case::Sensitive),
        };
        let op = if pos { op } else { negate(op) };
        let c = Compare {
            left: self.scalar(l),
            op,
            right: self.scalar(r),
            case,
            span,
        };
        Expr::new(K::Compare(c), span)
    }

    fn in_list(&mut self, e: &ast::Expr, list: &[ast::Expr], span: Span, pos: bool) -> Expr {
        let strings: Vec<String> = list
            .iter()
            .filter_map(|i| match &i.kind {
                ExprKind::Lit(Lit::Str(s)) => Some(s.clone()),
                _ => None,
            })
            .collect();
        let mut parts = Vec::new();
        let target = (!strings.is_empty())
            .then(|| self.target(e, &strings))
            .flatten();
        if let Some(t) = &target {
            let values = strings
                .iter()
                .map(|s| Value::Str(Pattern::literal(s)))
                .collect();
            let m = self.match_node(t, values, MatchKind::Whole, span);
            parts.push(self.matched(m, span, pos));
        }
        for item in list {
            let is_str = matches!(item.kind, ExprKind::Lit(Lit::Str(_)));
            if (is_str && target.is_some()) || matches!(item.kind, ExprKind::Lit(Lit::Null)) {
                continue;
            }
            let op = if pos { CmpOp::Eq } else { CmpOp::Ne };
            let c = Compare {
                left: self.scalar(e),
                op,
                right: self.scalar(item),
                case: Case::Sensitive,
                span: item.span,
            };
            parts.push(Expr::new(K::Compare(c), item.span));
        }
        match (parts.is_empty(), pos) {
            (true, _) => Expr::new(K::Const(false), span),
            (false, true) => Expr::or(parts, span),
            (false, false) => Expr::and(parts, span),
        }
    }

    fn is_null(&mut self, e: &ast::Expr, negated: bool, span: Span) -> Expr {
        if let ExprKind::Field(name) = &e.kind {
            let exists = Expr::new(K::Exists(self.fref(name, e.span)), span);
            return if negated {
                exists
            } else {
                Expr::not(exists, span)
            };
        }
        let name = if negated { "is_not_null" } else { "is_null" };
        let call = Scalar::Call {
            name: name.into(),
            args: vec![self.scalar(e)],
            insensitive: false,
            span,
        };
        Expr::new(K::Scalar(call), span)
    }

    fn like(
        &mut self,
        e: &ast::Expr,
        pats: &[ast::Str],
        regex: bool,
        span: Span,
        pos: bool,
    ) -> Expr {
        let texts: Vec<String> = pats.iter().map(|p| p.value.clone()).collect();
        let values: Vec<Value> = texts
            .iter()
            .map(|p| {
                if regex {
                    Value::Regex(Regex {
                        pattern: p.clone(),
                        flavor: RegexFlavor::Lucene,
                        anchored: true,
                        multiline: false,
                        dot_all: false,
                    })
                } else {
                    Value::Str(Pattern::parse_wildcards(p, true))
                }
            })
            .collect();
        // a folded regex cannot be checked for case reliably: keep the call
        let target = if regex {
            match &e.kind {
                ExprKind::Field(n) => Some(Target {
                    field: self.fref(n, e.span),
                    fold: None,
                }),
                _ => None,
            }
        } else {
            self.target(e, &texts)
        };
        if let Some(t) = target {
            let m = self.match_node(&t, values, MatchKind::Whole, span);
            return self.matched(m, span, pos);
        }
        let mut args = vec![self.scalar(e)];
        args.extend(
            values
                .into_iter()
                .zip(pats)
                .map(|(v, p)| Scalar::Lit(v, p.span)),
        );
        let call = Scalar::Call {
            name: if regex { "rlike" } else { "like" }.into(),
            args,
            insensitive: false,
            span,
        };
        self.scalar_cond(call, span, pos)
    }

    /// `field : "text"` / `match(field, "text")`: a full-text match query,
    /// analyzed on `text` fields (term match, case-insensitive with the
    /// standard analyzer) and exact on `keyword` fields.
    fn full_text(&mut self, f: &ast::Expr, q: &ast::Expr, span: Span, pos: bool) -> Expr {
        if let (ExprKind::Field(name), ExprKind::Lit(Lit::Str(text))) = (&f.kind, &q.kind) {
            self.caveat_once(
                "full-text match: terms and case follow the field's analyzer (lowered as a \
                 case-insensitive term match)",
                span,
            );
            let m = Match {
                field: self.fref(name, f.span),
                values: vec![Value::Str(Pattern::literal(text))],
                quantifier: Quantifier::Any,
                case: Case::Insensitive,
                kind: MatchKind::Term,
                array: ArrayMode::Any,
                span,
            };
            return self.matched(m, span, pos);
        }
        let call = Scalar::Call {
            name: "match".into(),
            args: vec![self.scalar(f), self.scalar(q)],
            insensitive: false,
            span,
        };
        self.scalar_cond(call, span, pos)
    }

    fn scalar_cond(&self, s: Scalar, span: Span, pos: bool) -> Expr {
        if pos {
            return Expr::new(K::Scalar(s), span);
        }
        let c = Compare {
            left: s,
            op: CmpOp::Eq,
            right: Scalar::Lit(Value::Bool(false), span),
            case: Case::Sensitive,
            span,
        };
        Expr::new(K::Compare(c), span)
    }

    /// The field a string comparison can be a typed [`Match`] on: a field, or
    /// `to_lower(field)` / `to_upper(field)` when every literal is already in
    /// that case (then the match is case-insensitive).
    fn target(&mut self, e: &ast::Expr, literals: &[String]) -> Option<Target> {
        match &e.kind {
            ExprKind::Field(n) => Some(Target {
                field: self.fref(n, e.span),
                fold: None,
            }),
            ExprKind::Call { name, args, .. }
                if (name == "to_lower" || name == "to_upper") && args.len() == 1 =>
            {
                let lower = name == "to_lower";
                let ExprKind::Field(n) = &args[0].kind else {
                    return None;
                };
                let folded = literals.iter().all(|l| {
                    let f = if lower {
                        l.to_lowercase()
                    } else {
                        l.to_uppercase()
                    };
                    &f == l
                });
                folded.then(|| Target {
                    field: self.fref(n, args[0].span),
                    fold: Some(lower),
                })
            }
            _ => None,
        }
    }

    /// A value expression.
    pub fn scalar(&mut self, e: &ast::Expr) -> Scalar {
        let span = e.span;
        match &e.kind {
            ExprKind::Lit(l) => self.literal(l, span),
            ExprKind::Field(n) => Scalar::Field(self.fref(n, span)),
            ExprKind::Param(p) => {
                self.caveat_once("query parameters (`?name`) have no value in a rule", span);
                call(
                    "param",
                    vec![Scalar::Lit(Value::Str(Pattern::literal(p)), span)],
                    span,
                )
            }
            ExprKind::Call { name, args, .. } => {
                let args = args.iter().map(|a| self.scalar(a)).collect();
                call(name, args, span)
            }
            ExprKind::Map(entries) => {
                let mut args = Vec::new();
                for (k, v) in entries {
                    args.push(Scalar::Lit(Value::Str(Pattern::literal(&k.value)), k.span));
                    args.push(self.scalar(v));
                }
                call("map", args, span)
            }
            ExprKind::Array(items) => {
                Scalar::List(items.iter().map(|i| self.scalar(i)).collect(), span)
            }
            ExprKind::Neg(x) => Scalar::Neg(Box::new(self.scalar(x)), span),
            ExprKind::Arith(op, l, r) => Scalar::Arith {
                op: *op,
                left: Box::new(self.scalar(l)),
                right: Box::new(self.scalar(r)),
                span,
            },
            ExprKind::Cast(x, ty) => call(&cast_function(ty), vec![self.scalar(x)], span),
            _ => Scalar::Cond(Box::new(self.truth(e))),
        }
    }

    fn literal(&mut self, l: &Lit, span: Span) -> Scalar {
        match l {
            Lit::Null => Scalar::Lit(Value::Null, span),
            Lit::Bool(b) => Scalar::Lit(Value::Bool(*b), span),
            Lit::Str(s) => Scalar::Lit(Value::Str(Pattern::literal(s)), span),
            Lit::Num(n) => match Number::new(n) {
                Some(n) => Scalar::Lit(Value::Num(n), span),
                None => Scalar::Lit(Value::Str(Pattern::literal(n)), span),
            },
            Lit::Span { text, millis } => Scalar::Duration(
                Duration {
                    millis: *millis,
                    text: text.clone(),
                },
                span,
            ),
        }
    }
}

fn call(name: &str, args: Vec<Scalar>, span: Span) -> Scalar {
    Scalar::Call {
        name: name.to_string(),
        args,
        insensitive: false,
        span,
    }
}

/// `x::type` is the conversion function of that type.
pub fn cast_function(ty: &str) -> String {
    let f = match ty {
        "int" | "integer" => "to_integer",
        "long" => "to_long",
        "double" => "to_double",
        "keyword" | "text" | "string" => "to_string",
        "bool" | "boolean" => "to_boolean",
        "date" | "datetime" => "to_datetime",
        "date_nanos" => "to_date_nanos",
        "ip" => "to_ip",
        "version" => "to_version",
        "unsigned_long" => "to_unsigned_long",
        "geo_point" => "to_geopoint",
        "geo_shape" => "to_geoshape",
        "cartesian_point" => "to_cartesianpoint",
        "cartesian_shape" => "to_cartesianshape",
        "date_period" => "to_dateperiod",
        "time_duration" => "to_timeduration",
        other => return format!("to_{other}"),
    };
    f.to_string()
}

/// The `NOT` of a negation covers the keyword too.
fn respan(mut e: Expr, span: Span) -> Expr {
    e.span = span;
    e
}

fn negate(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Ge => CmpOp::Lt,
    }
}

/// `x NOT IN (...)` / `x NOT LIKE p` without the `NOT`.
fn positive(e: &ast::Expr) -> ast::Expr {
    let mut e = e.clone();
    match &mut e.kind {
        ExprKind::In { negated, .. } | ExprKind::Like { negated, .. } => *negated = false,
        _ => {}
    }
    e
}
