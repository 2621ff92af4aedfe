//! Lowering the search language and the eval language into IR conditions
//! and scalars, with Splunk's semantics (see `grammar/spl.ebnf`).

use super::ast::*;
use super::lower::Lowerer;
use crate::ir::*;
use crate::span::Span;

/// A Splunk search value as a pattern: `*` is the only wildcard.
pub fn search_pattern(s: &str) -> Pattern {
    let mut parts = Vec::new();
    for (k, piece) in s.split('*').enumerate() {
        if k > 0 {
            parts.push(Part::AnyRun);
        }
        parts.push(Part::Lit(piece.to_string()));
    }
    Pattern::from_parts(parts)
}

/// A `like` pattern: `%` any run, `_` one character.
pub fn like_pattern(s: &str) -> Pattern {
    Pattern::from_parts(s.chars().map(|c| match c {
        '%' => Part::AnyRun,
        '_' => Part::AnyChar,
        c => Part::Lit(c.to_string()),
    }))
}

fn cmp_op(op: SearchOp) -> CmpOp {
    match op {
        SearchOp::Eq => CmpOp::Eq,
        SearchOp::Ne => CmpOp::Ne,
        SearchOp::Lt => CmpOp::Lt,
        SearchOp::Le => CmpOp::Le,
        SearchOp::Gt => CmpOp::Gt,
        SearchOp::Ge => CmpOp::Ge,
    }
}

fn literal(w: &Word) -> Scalar {
    match Number::new(&w.text).filter(|_| !w.quoted) {
        Some(n) => Scalar::Lit(Value::Num(n), w.span),
        None => Scalar::Lit(Value::Str(Pattern::literal(&w.text)), w.span),
    }
}

impl Lowerer {
    pub fn field(&self, name: &str, span: Span) -> FieldRef {
        let scheme = if self.computed.contains(name) {
            FieldScheme::Computed
        } else if self.cim {
            FieldScheme::Cim
        } else {
            FieldScheme::Raw
        };
        FieldRef::new(name, scheme, span)
    }

    fn search_match(&self, field: &Word, values: &[&Word], span: Span) -> Expr {
        Expr::new(
            ExprKind::Match(Match {
                field: self.field(&field.text, field.span),
                values: values
                    .iter()
                    .map(|v| Value::Str(search_pattern(&v.text)))
                    .collect(),
                quantifier: Quantifier::Any,
                case: Case::Insensitive,
                kind: MatchKind::Whole,
                array: ArrayMode::Any,
                span,
            }),
            span,
        )
    }

    /// A search-language expression.
    pub fn search(&mut self, e: &SearchExpr) -> Result<Expr, crate::diag::Diagnostic> {
        let span = e.span;
        Ok(match &e.kind {
            SearchKind::And(items) => {
                let v = items
                    .iter()
                    .map(|i| self.search(i))
                    .collect::<Result<_, _>>()?;
                Expr::and(v, span)
            }
            SearchKind::Or(items) => {
                let v = items
                    .iter()
                    .map(|i| self.search(i))
                    .collect::<Result<_, _>>()?;
                Expr::or(v, span)
            }
            SearchKind::Not(inner) => Expr::not(self.search(inner)?, span),
            SearchKind::Compare { field, op, value } => match op {
                SearchOp::Eq if value.text == "*" => {
                    Expr::new(ExprKind::Exists(self.field(&field.text, field.span)), span)
                }
                SearchOp::Eq => self.search_match(field, &[value], span),
                SearchOp::Ne => {
                    // `f!=v`: the field must exist (unlike `NOT f=v`).
                    let f = self.field(&field.text, field.span);
                    let inner = if value.text == "*" {
                        Expr::new(ExprKind::Exists(f.clone()), span)
                    } else {
                        self.search_match(field, &[value], span)
                    };
                    Expr::and(
                        vec![
                            Expr::new(ExprKind::Exists(f), field.span),
                            Expr::not(inner, span),
                        ],
                        span,
                    )
                }
                _ => Expr::new(
                    ExprKind::Compare(Compare {
                        left: Scalar::Field(self.field(&field.text, field.span)),
                        op: cmp_op(*op),
                        right: literal(value),
                        case: Case::Insensitive,
                        span,
                    }),
                    span,
                ),
            },
            SearchKind::In { field, values } => {
                let vs: Vec<&Word> = values.iter().collect();
                self.search_match(field, &vs, span)
            }
            SearchKind::Term { value, cased } => {
                if value.text == "*" && !value.quoted {
                    return Ok(Expr::new(ExprKind::Const(true), span));
                }
                Expr::new(
                    ExprKind::Keyword(Keyword {
                        values: vec![Value::Str(search_pattern(&value.text))],
                        quantifier: Quantifier::Any,
                        case: if *cased {
                            Case::Sensitive
                        } else {
                            Case::Insensitive
                        },
                        kind: MatchKind::Term,
                    }),
                    span,
                )
            }
            SearchKind::Subsearch(p) => {
                let q = self.sub_query(p)?;
                Expr::new(ExprKind::Subsearch(Box::new(q)), span)
            }
        })
    }

    fn eq_match(&self, f: &FieldRef, values: Vec<Value>, span: Span) -> Expr {
        Expr::new(
            ExprKind::Match(Match {
                field: f.clone(),
                values,
                quantifier: Quantifier::Any,
                case: Case::Sensitive,
                kind: MatchKind::Whole,
                array: ArrayMode::Any,
                span,
            }),
            span,
        )
    }

    /// An eval expression used as a condition (`where`, `if(...)`).
    pub fn cond(&mut self, e: &EvalExpr) -> Expr {
        let span = e.span;
        match &e.kind {
            EvalKind::Bin(BinOp::And, l, r) => Expr::and(vec![self.cond(l), self.cond(r)], span),
            EvalKind::Bin(BinOp::Or, l, r) => Expr::or(vec![self.cond(l), self.cond(r)], span),
            EvalKind::Not(inner) => Expr::not(self.cond(inner), span),
            EvalKind::Bool(b) => Expr::new(ExprKind::Const(*b), span),
            EvalKind::Bin(op @ (BinOp::Eq | BinOp::Ne), l, r) => {
                let pair = match (&l.kind, &r.kind) {
                    (EvalKind::Field(f), EvalKind::Str(s)) => Some((f, l.span, s)),
                    (EvalKind::Str(s), EvalKind::Field(f)) => Some((f, r.span, s)),
                    _ => None,
                };
                match pair {
                    Some((f, fs, s)) => {
                        let f = self.field(f, fs);
                        let m = self.eq_match(&f, vec![Value::Str(Pattern::literal(s))], span);
                        if *op == BinOp::Eq {
                            m
                        } else {
                            Expr::and(
                                vec![Expr::new(ExprKind::Exists(f), fs), Expr::not(m, span)],
                                span,
                            )
                        }
                    }
                    None => self.compare(*op, l, r, span),
                }
            }
            EvalKind::Bin(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), l, r) => {
                self.compare(*op, l, r, span)
            }
            EvalKind::Bin(BinOp::Like, l, r) => self.like(l, r, span),
            EvalKind::Call(name, args) => self.cond_call(name, args, e),
            _ => Expr::new(ExprKind::Scalar(self.scalar(e)), span),
        }
    }

    fn compare(&mut self, op: BinOp, l: &EvalExpr, r: &EvalExpr, span: Span) -> Expr {
        let op = match op {
            BinOp::Eq => CmpOp::Eq,
            BinOp::Ne => CmpOp::Ne,
            BinOp::Lt => CmpOp::Lt,
            BinOp::Le => CmpOp::Le,
            BinOp::Gt => CmpOp::Gt,
            _ => CmpOp::Ge,
        };
        Expr::new(
            ExprKind::Compare(Compare {
                left: self.scalar(l),
                op,
                right: self.scalar(r),
                case: Case::Sensitive,
                span,
            }),
            span,
        )
    }

    fn like(&mut self, l: &EvalExpr, r: &EvalExpr, span: Span) -> Expr {
        match (&l.kind, &r.kind) {
            (EvalKind::Field(f), EvalKind::Str(p)) => {
                let f = self.field(f, l.span);
                self.eq_match(&f, vec![Value::Str(like_pattern(p))], span)
            }
            _ => Expr::new(
                ExprKind::Scalar(Scalar::Call {
                    name: "like".into(),
                    args: vec![self.scalar(l), self.scalar(r)],
                    insensitive: false,
                    span,
                }),
                span,
            ),
        }
    }

    fn cond_call(&mut self, name: &str, args: &[EvalExpr], e: &EvalExpr) -> Expr {
        let span = e.span;
        let field_arg = |a: &EvalExpr| match &a.kind {
            EvalKind::Field(f) => Some((f.clone(), a.span)),
            _ => None,
        };
        match (name, args) {
            ("like", [l, r]) => return self.like(l, r, span),
            ("match", [l, r]) => {
                if let (Some((f, fs)), EvalKind::Str(re)) = (field_arg(l), &r.kind) {
                    let f = self.field(&f, fs);
                    let v = Value::Regex(Regex {
                        pattern: re.clone(),
                        flavor: RegexFlavor::Pcre,
                        anchored: false,
                        multiline: false,
                        dot_all: false,
                    });
                    return self.eq_match(&f, vec![v], span);
                }
            }
            ("isnull", [a]) | ("isnotnull", [a]) => {
                if let Some((f, fs)) = field_arg(a) {
                    let ex = Expr::new(ExprKind::Exists(self.field(&f, fs)), span);
                    return if name == "isnull" {
                        Expr::not(ex, span)
                    } else {
                        ex
                    };
                }
            }
            ("cidrmatch", [c, a]) => {
                if let (EvalKind::Str(cidr), Some((f, fs))) = (&c.kind, field_arg(a)) {
                    let f = self.field(&f, fs);
                    return self.eq_match(&f, vec![Value::Cidr(cidr.clone())], span);
                }
            }
            ("in", [a, rest @ ..]) => {
                let lits: Option<Vec<Value>> = rest
                    .iter()
                    .map(|v| match &v.kind {
                        EvalKind::Str(s) => Some(Value::Str(Pattern::literal(s))),
                        EvalKind::Num(n) => Number::new(n).map(Value::Num),
                        _ => None,
                    })
                    .collect();
                if let (Some((f, fs)), Some(values)) = (field_arg(a), lits) {
                    let f = self.field(&f, fs);
                    return self.eq_match(&f, values, span);
                }
            }
            ("true", []) => return Expr::new(ExprKind::Const(true), span),
            ("false", []) => return Expr::new(ExprKind::Const(false), span),
            _ => {}
        }
        Expr::new(ExprKind::Scalar(self.plain_call(name, args, span)), span)
    }

    fn plain_call(&mut self, name: &str, args: &[EvalExpr], span: Span) -> Scalar {
        Scalar::Call {
            name: name.to_string(),
            args: args.iter().map(|a| self.scalar(a)).collect(),
            insensitive: false,
            span,
        }
    }

    /// An eval expression used as a value.
    pub fn scalar(&mut self, e: &EvalExpr) -> Scalar {
        let span = e.span;
        match &e.kind {
            EvalKind::Field(f) => Scalar::Field(self.field(f, span)),
            EvalKind::Str(s) => Scalar::Lit(Value::Str(Pattern::literal(s)), span),
            EvalKind::Num(n) => match Number::new(n) {
                Some(n) => Scalar::Lit(Value::Num(n), span),
                None => Scalar::Lit(Value::Str(Pattern::literal(n)), span),
            },
            EvalKind::Bool(b) => Scalar::Lit(Value::Bool(*b), span),
            EvalKind::Null => Scalar::Lit(Value::Null, span),
            EvalKind::Neg(inner) => Scalar::Neg(Box::new(self.scalar(inner)), span),
            EvalKind::Bin(op, l, r) => {
                let arith = match op {
                    BinOp::Add => ArithOp::Add,
                    BinOp::Sub => ArithOp::Sub,
                    BinOp::Mul => ArithOp::Mul,
                    BinOp::Div => ArithOp::Div,
                    BinOp::Mod => ArithOp::Mod,
                    BinOp::Concat => ArithOp::Concat,
                    BinOp::Xor => {
                        return Scalar::Call {
                            name: "xor".into(),
                            args: vec![self.scalar(l), self.scalar(r)],
                            insensitive: false,
                            span,
                        }
                    }
                    _ => return Scalar::Cond(Box::new(self.cond(e))),
                };
                Scalar::Arith {
                    op: arith,
                    left: Box::new(self.scalar(l)),
                    right: Box::new(self.scalar(r)),
                    span,
                }
            }
            EvalKind::Not(_) => Scalar::Cond(Box::new(self.cond(e))),
            EvalKind::Call(name, args) => match (name.as_str(), args.as_slice()) {
                ("null", []) => Scalar::Lit(Value::Null, span),
                ("like" | "match" | "isnull" | "isnotnull" | "cidrmatch" | "in", _)
                | ("true" | "false", []) => {
                    let c = self.cond(e);
                    match c.kind {
                        ExprKind::Scalar(s) => s,
                        _ => Scalar::Cond(Box::new(c)),
                    }
                }
                _ => self.plain_call(name, args, span),
            },
        }
    }
}
