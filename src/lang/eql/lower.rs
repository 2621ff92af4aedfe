//! EQL AST → IR, with Elasticsearch's semantics written into the IR's fields
//! (see `grammar/eql.ebnf` for the rules and their sources).

use super::ast::{self, ExprKind as A, LitValue, PatternOp};
use crate::diag::{codes, Diagnostic};
use crate::ir::{
    Agg, AggFunc, AggMode, Aggregate, ArrayMode, Case, CmpOp, Compare, Expr, ExprKind, FieldRef,
    FieldScheme, Language, Match, MatchKind, Opaque, Part, Pattern, Quantifier, Query, Regex,
    RegexFlavor, Sample, Scalar, SeqStep, Sequence, SortKey, Source, Stage, StageKind, Value,
};
use crate::span::Span;

#[derive(Debug, Default)]
pub struct Lowerer {
    pub warnings: Vec<Diagnostic>,
}

/// Errors are boxed: results stay small, so deep nesting costs little stack.
type LResult<T> = Result<T, Box<Diagnostic>>;

fn case_of(insensitive: bool) -> Case {
    if insensitive {
        Case::Insensitive
    } else {
        Case::Sensitive
    }
}

/// The fields a negated function needs present. Elasticsearch turns a
/// function of one field and constants (`stringContains(f, "x")`) into a
/// query, whose negation (`must_not`) matches where the field is missing; any
/// other function (`endsWith(a, b)`) runs as a script, where a missing field
/// makes it null and its negation does not match.
fn call_field_args(e: &ast::Expr) -> Vec<&ast::Field> {
    match &e.kind {
        A::Call { args, .. } => {
            let fields: Vec<&ast::Field> = args
                .iter()
                .filter_map(|a| match &a.kind {
                    A::Field(f) => Some(f),
                    _ => None,
                })
                .collect();
            let foldable = |a: &ast::Expr| matches!(a.kind, A::Field(_) | A::Lit(_));
            if fields.len() >= 2 || !args.iter().all(foldable) {
                fields
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

fn field_ref(f: &ast::Field) -> FieldRef {
    FieldRef {
        optional: f.optional,
        ..FieldRef::new(f.name.clone(), FieldScheme::Ecs, f.span)
    }
}

/// A Match of `field` against `values`: whole value, any array element.
fn matches(field: &ast::Field, values: Vec<Value>, case: Case, span: Span) -> Expr {
    Expr::new(
        ExprKind::Match(Match {
            field: field_ref(field),
            values,
            quantifier: Quantifier::Any,
            case,
            kind: MatchKind::Whole,
            array: ArrayMode::Any,
            span,
        }),
        span,
    )
}

/// The IR value of a non-null literal.
fn lit_value(v: &LitValue) -> Value {
    match v {
        LitValue::Str(s) => Value::Str(Pattern::literal(s.clone())),
        LitValue::Num(n) => Value::Num(n.clone()),
        LitValue::Bool(b) => Value::Bool(*b),
        LitValue::Null => Value::Null,
    }
}

impl Lowerer {
    pub fn statement(&mut self, st: &ast::Statement) -> LResult<Query> {
        let mut stages = Vec::new();
        let (source, filter) = match &st.query {
            ast::QueryAst::Event(ef) => {
                let source = Source {
                    categories: ef.category.iter().map(|c| c.name.clone()).collect(),
                    span: ef.category.as_ref().map_or(ef.span, |c| c.span),
                    ..Source::default()
                };
                (source, Some(self.cond(&ef.condition)?))
            }
            ast::QueryAst::Sequence(s) => {
                let steps = s
                    .terms
                    .iter()
                    .map(|t| self.step(t))
                    .collect::<LResult<Vec<_>>>()?;
                let until = match &s.until {
                    Some(t) => Some(Box::new(self.step(t)?)),
                    None => None,
                };
                stages.push(Stage {
                    kind: StageKind::Sequence(Sequence {
                        by: self.keys(&s.by)?,
                        maxspan: s.maxspan.as_ref().map(|(d, _)| d.clone()),
                        steps,
                        until,
                    }),
                    span: s.span,
                });
                (Source::default(), None)
            }
            ast::QueryAst::Sample(s) => {
                let steps = s
                    .terms
                    .iter()
                    .map(|t| self.step(t))
                    .collect::<LResult<Vec<_>>>()?;
                stages.push(Stage {
                    kind: StageKind::Sample(Sample {
                        by: self.keys(&s.by)?,
                        steps,
                    }),
                    span: s.span,
                });
                (Source::default(), None)
            }
        };
        for p in &st.pipes {
            stages.push(self.pipe(p)?);
        }
        Ok(Query {
            language: Language::Eql,
            source,
            filter,
            stages,
            span: st.span,
        })
    }

    fn step(&mut self, t: &ast::Term) -> LResult<SeqStep> {
        Ok(SeqStep {
            categories: t.filter.category.iter().map(|c| c.name.clone()).collect(),
            filter: Some(self.cond(&t.filter.condition)?),
            by: self.keys(&t.by)?,
            runs: t.runs.as_ref().map_or(1, |(n, _)| *n),
            missing: t.missing,
            span: t.span,
        })
    }

    /// Join keys and pipe arguments must be fields here.
    fn keys(&mut self, keys: &[ast::Expr]) -> LResult<Vec<FieldRef>> {
        keys.iter()
            .map(|k| match &k.kind {
                A::Field(f) => Ok(field_ref(f)),
                _ => Err(Box::new(
                    Diagnostic::error(
                        codes::UNSUPPORTED_CONSTRUCT,
                        "only fields are supported as join keys and pipe arguments",
                    )
                    .at(k.span)
                    .label("not a field"),
                )),
            })
            .collect()
    }

    fn pipe(&mut self, p: &ast::Pipe) -> LResult<Stage> {
        let name = p.name.as_str();
        let not_es = |w: &mut Vec<Diagnostic>| {
            w.push(
                Diagnostic::warning(
                    codes::LOWERING_CAVEAT,
                    format!("the `{name}` pipe is classic EQL; Elasticsearch supports only `head` and `tail`"),
                )
                .at(p.name_span),
            )
        };
        let kind = match name {
            "head" | "tail" => {
                let count = match p.args.as_slice() {
                    [ast::Expr {
                        kind:
                            A::Lit(ast::Lit {
                                value: LitValue::Num(n),
                                ..
                            }),
                        ..
                    }] if n.is_integer() && n.value >= 0.0 => n.value as u64,
                    _ => {
                        return Err(Box::new(
                            Diagnostic::error(
                                codes::UNEXPECTED_TOKEN,
                                format!("`{name}` takes one whole number, the number of events"),
                            )
                            .at(p.span)
                            .label("expected a number such as `10`"),
                        ))
                    }
                };
                StageKind::Limit {
                    count,
                    from_end: name == "tail",
                }
            }
            "filter" => {
                not_es(&mut self.warnings);
                let conds = p
                    .args
                    .iter()
                    .map(|a| self.cond(a))
                    .collect::<LResult<Vec<_>>>()?;
                StageKind::Where(Expr::and(conds, p.span))
            }
            "unique" => {
                not_es(&mut self.warnings);
                StageKind::Dedup {
                    fields: self.keys(&p.args)?,
                    count: 1,
                }
            }
            "count" => {
                not_es(&mut self.warnings);
                StageKind::Aggregate(Aggregate {
                    aggs: vec![Agg {
                        func: AggFunc::Count,
                        arg: None,
                        alias: "count".into(),
                        span: p.name_span,
                    }],
                    by: self.keys(&p.args)?,
                    span: None,
                    mode: AggMode::Collapse,
                })
            }
            "sort" => {
                not_es(&mut self.warnings);
                let keys = p
                    .args
                    .iter()
                    .map(|a| self.scalar(a))
                    .collect::<LResult<Vec<_>>>()?;
                StageKind::Sort(
                    keys.into_iter()
                        .map(|key| SortKey {
                            key,
                            descending: false,
                        })
                        .collect(),
                )
            }
            "unique_count" | "window" => {
                self.warnings.push(
                    Diagnostic::warning(
                        codes::UNSUPPORTED_COMMAND,
                        format!("the `{name}` pipe is kept as an opaque stage"),
                    )
                    .at(p.name_span)
                    .note("it is classic EQL; Elasticsearch supports only `head` and `tail`"),
                );
                StageKind::Opaque(Opaque {
                    name: name.to_string(),
                    text: p.text.clone(),
                    reason: "classic EQL pipe without an IR meaning".into(),
                })
            }
            _ => {
                return Err(Box::new(
                    Diagnostic::error(
                        codes::UNSUPPORTED_CONSTRUCT,
                        format!("unknown pipe `{name}`"),
                    )
                    .at(p.name_span)
                    .label("not an EQL pipe")
                    .note("Elasticsearch EQL supports the `head` and `tail` pipes"),
                ))
            }
        };
        Ok(Stage { kind, span: p.span })
    }

    // ---- conditions ------------------------------------------------------

    /// Lower an expression used as a condition.
    pub fn cond(&mut self, e: &ast::Expr) -> LResult<Expr> {
        let span = e.span;
        Ok(match &e.kind {
            A::And(items) => Expr::and(self.conds(items)?, span),
            A::Or(items) => Expr::or(self.conds(items)?, span),
            A::Not(inner) => {
                let negated = Expr::not(self.cond(inner)?, span);
                // A function of a missing field is null in Elasticsearch, and
                // `not null` is null: the event does not match. Say so
                // explicitly, since a Not in the IR matches what is missing.
                let fields = call_field_args(inner);
                if fields.is_empty() {
                    negated
                } else {
                    let mut all: Vec<Expr> = fields
                        .into_iter()
                        .map(|f| Expr::new(ExprKind::Exists(field_ref(f)), f.span))
                        .collect();
                    all.push(negated);
                    Expr::and(all, span)
                }
            }
            A::Compare { op, left, right } => self.compare(*op, left, right, span)?,
            A::In {
                expr,
                values,
                negated,
                insensitive,
            } => {
                let m = self.in_list(expr, values, *insensitive, span)?;
                if *negated {
                    Expr::not(m, span)
                } else {
                    m
                }
            }
            A::Pattern {
                expr,
                op,
                insensitive,
                values,
            } => self.pattern(expr, *op, *insensitive, values, span)?,
            A::Call {
                name,
                insensitive,
                args,
            } => self.call_cond(name, *insensitive, args, span)?,
            A::Lit(ast::Lit {
                value: LitValue::Bool(b),
                ..
            }) => Expr::new(ExprKind::Const(*b), span),
            _ => Expr::new(ExprKind::Scalar(self.scalar(e)?), span),
        })
    }

    fn conds(&mut self, items: &[ast::Expr]) -> LResult<Vec<Expr>> {
        items.iter().map(|i| self.cond(i)).collect()
    }

    /// `f == lit` → Match (`!=` → Not(Match): a missing field then matches,
    /// as Elasticsearch's `must_not` does); `f == null` → Not(Exists);
    /// ordering and anything computed → Compare.
    fn compare(
        &mut self,
        op: CmpOp,
        left: &ast::Expr,
        right: &ast::Expr,
        span: Span,
    ) -> LResult<Expr> {
        let (field, lit, op) = match (&left.kind, &right.kind) {
            (A::Field(f), A::Lit(l)) => (f, l, op),
            (A::Lit(l), A::Field(f)) => (f, l, op.flipped()),
            (A::Field(a), A::Field(b)) => {
                self.warnings.push(
                    Diagnostic::warning(
                        codes::LOWERING_CAVEAT,
                        "Elasticsearch EQL rejects comparing a field with another field",
                    )
                    .at(span)
                    .label(format!("`{}` compared with `{}`", a.name, b.name)),
                );
                return self.compare_scalars(op, left, right, span);
            }
            _ => return self.compare_scalars(op, left, right, span),
        };
        match (op, &lit.value) {
            (CmpOp::Eq, LitValue::Null) => Ok(Expr::not(
                Expr::new(ExprKind::Exists(field_ref(field)), span),
                span,
            )),
            (CmpOp::Ne, LitValue::Null) => Ok(Expr::new(ExprKind::Exists(field_ref(field)), span)),
            (CmpOp::Eq, v) => Ok(matches(field, vec![lit_value(v)], Case::Sensitive, span)),
            (CmpOp::Ne, v) => Ok(Expr::not(
                matches(field, vec![lit_value(v)], Case::Sensitive, span),
                span,
            )),
            _ => Ok(Expr::new(
                ExprKind::Compare(Compare {
                    left: Scalar::Field(field_ref(field)),
                    op,
                    right: Scalar::Lit(lit_value(&lit.value), lit.span),
                    case: Case::Sensitive,
                    span,
                }),
                span,
            )),
        }
    }

    fn compare_scalars(
        &mut self,
        op: CmpOp,
        left: &ast::Expr,
        right: &ast::Expr,
        span: Span,
    ) -> LResult<Expr> {
        Ok(Expr::new(
            ExprKind::Compare(Compare {
                left: self.scalar(left)?,
                op,
                right: self.scalar(right)?,
                case: Case::Sensitive,
                span,
            }),
            span,
        ))
    }

    /// `f in (lits)` → one Match over the literals (a `null` in the list
    /// adds `Not(Exists)`); anything computed → an OR of Compares.
    fn in_list(
        &mut self,
        expr: &ast::Expr,
        values: &[ast::Expr],
        insensitive: bool,
        span: Span,
    ) -> LResult<Expr> {
        let case = case_of(insensitive);
        let lits: Option<Vec<&ast::Lit>> = values
            .iter()
            .map(|v| match &v.kind {
                A::Lit(l) => Some(l),
                _ => None,
            })
            .collect();
        if let (A::Field(f), Some(lits)) = (&expr.kind, lits) {
            let vals: Vec<Value> = lits
                .iter()
                .filter(|l| l.value != LitValue::Null)
                .map(|l| lit_value(&l.value))
                .collect();
            let has_null = vals.len() < lits.len();
            let mut alts = Vec::new();
            if !vals.is_empty() {
                alts.push(matches(f, vals, case, span));
            }
            if has_null {
                alts.push(Expr::not(
                    Expr::new(ExprKind::Exists(field_ref(f)), span),
                    span,
                ));
            }
            return Ok(Expr::or(alts, span));
        }
        let left = self.scalar(expr)?;
        let alts = values
            .iter()
            .map(|v| {
                Ok(Expr::new(
                    ExprKind::Compare(Compare {
                        left: left.clone(),
                        op: CmpOp::Eq,
                        right: self.scalar(v)?,
                        case,
                        span: v.span,
                    }),
                    v.span,
                ))
            })
            .collect::<LResult<Vec<_>>>()?;
        Ok(Expr::or(alts, span))
    }

    /// `:` / `like` / `like~` → wildcard patterns (`*`, `?`; a backslash is a
    /// literal character); `regex` / `regex~` → anchored Lucene regexes.
    fn pattern(
        &mut self,
        expr: &ast::Expr,
        op: PatternOp,
        insensitive: bool,
        values: &[ast::Lit],
        span: Span,
    ) -> LResult<Expr> {
        let vals: Vec<Value> = values
            .iter()
            .map(|l| {
                let s = match &l.value {
                    LitValue::Str(s) => s.as_str(),
                    _ => "",
                };
                match op {
                    PatternOp::Regex => Value::Regex(Regex {
                        pattern: s.to_string(),
                        flavor: RegexFlavor::Lucene,
                        anchored: true,
                        multiline: false,
                        dot_all: false,
                    }),
                    _ => Value::Str(Pattern::parse_wildcards(s, false)),
                }
            })
            .collect();
        if let A::Field(f) = &expr.kind {
            return Ok(matches(f, vals, case_of(insensitive), span));
        }
        // A computed left side: keep the test as a call (`wildcard` / `match`,
        // the classic EQL names of these tests) over the computed value.
        let name = if op == PatternOp::Regex {
            "match"
        } else {
            "wildcard"
        };
        let mut args = vec![self.scalar(expr)?];
        for (l, v) in values.iter().zip(vals) {
            args.push(Scalar::Lit(v, l.span));
        }
        Ok(Expr::new(
            ExprKind::Scalar(Scalar::Call {
                name: name.into(),
                args,
                insensitive,
                span,
            }),
            span,
        ))
    }

    /// Function calls used as conditions: `startsWith`, `endsWith`,
    /// `stringContains` of a field and a string become pattern Matches,
    /// `cidrMatch` of a field and CIDR strings a CIDR Match; others stay calls.
    fn call_cond(
        &mut self,
        name: &'static str,
        insensitive: bool,
        args: &[ast::Expr],
        span: Span,
    ) -> LResult<Expr> {
        let str_args: Option<Vec<&str>> = args
            .iter()
            .skip(1)
            .map(|a| match &a.kind {
                A::Lit(ast::Lit {
                    value: LitValue::Str(s),
                    ..
                }) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        if let (Some(A::Field(f)), Some(strs)) = (args.first().map(|a| &a.kind), str_args) {
            let lit = |s: &str| Part::Lit(s.to_string());
            let pattern = match (name, strs.as_slice()) {
                ("startswith", [s]) => Some(Pattern::from_parts([lit(s), Part::AnyRun])),
                ("endswith", [s]) => Some(Pattern::from_parts([Part::AnyRun, lit(s)])),
                ("stringcontains", [s]) => {
                    Some(Pattern::from_parts([Part::AnyRun, lit(s), Part::AnyRun]))
                }
                _ => None,
            };
            if let Some(p) = pattern {
                return Ok(matches(f, vec![Value::Str(p)], case_of(insensitive), span));
            }
            if name == "cidrmatch" {
                let cidrs = strs.iter().map(|s| Value::Cidr(s.to_string())).collect();
                return Ok(matches(f, cidrs, Case::Sensitive, span));
            }
        }
        Ok(Expr::new(
            ExprKind::Scalar(self.call(name, insensitive, args, span)?),
            span,
        ))
    }

    // ---- scalars ---------------------------------------------------------

    fn call(
        &mut self,
        name: &'static str,
        insensitive: bool,
        args: &[ast::Expr],
        span: Span,
    ) -> LResult<Scalar> {
        Ok(Scalar::Call {
            name: name.to_string(),
            args: args
                .iter()
                .map(|a| self.scalar(a))
                .collect::<LResult<Vec<_>>>()?,
            insensitive,
            span,
        })
    }

    /// Lower an expression used as a value.
    pub fn scalar(&mut self, e: &ast::Expr) -> LResult<Scalar> {
        Ok(match &e.kind {
            A::Field(f) => Scalar::Field(field_ref(f)),
            A::Lit(l) => Scalar::Lit(lit_value(&l.value), l.span),
            A::Arith { op, left, right } => Scalar::Arith {
                op: *op,
                left: Box::new(self.scalar(left)?),
                right: Box::new(self.scalar(right)?),
                span: e.span,
            },
            A::Neg(inner) => Scalar::Neg(Box::new(self.scalar(inner)?), e.span),
            A::Call {
                name,
                insensitive,
                args,
            } => self.call(name, *insensitive, args, e.span)?,
            _ => Scalar::Cond(Box::new(self.cond(e)?)),
        })
    }
}
