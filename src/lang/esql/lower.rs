//! Lowering the ES|QL syntax tree into an IR [`Query`]: FROM is the source,
//! leading WHERE commands the filter, every later command a typed stage.

use super::ast::{self, CommandKind, ExprKind, ExtractMethod, SourceKind};
use super::extract::{dissect_outputs, grok_outputs};
use crate::diag::{codes, Diagnostic};
use crate::ir::{
    Agg, AggFunc, AggMode, Aggregate, Assign, Caveat, Expr, Extract, FieldRef, FieldScheme,
    Language, Lookup, Opaque, Query, Scalar, SortKey, Source, Stage, StageKind, Value,
};
use crate::span::Span;
use std::collections::HashSet;

pub struct Lower {
    /// Columns computed so far (EVAL, STATS, RENAME, DISSECT, GROK...).
    computed: HashSet<String>,
    pub warnings: Vec<Diagnostic>,
    pub caveats: Vec<Caveat>,
}

/// ES|QL aggregate functions.
/// <https://www.elastic.co/docs/reference/query-languages/esql/functions-operators/aggregation-functions>
const AGGREGATES: &[&str] = &[
    "avg",
    "count",
    "count_distinct",
    "max",
    "median",
    "median_absolute_deviation",
    "min",
    "percentile",
    "st_centroid_agg",
    "st_extent_agg",
    "std_dev",
    "sum",
    "top",
    "values",
    "weighted_avg",
    "variance",
    "sample",
    "absent",
    "present",
    "first",
    "last",
];

pub fn lower(q: &ast::Query) -> (Query, Vec<Diagnostic>, Vec<Caveat>) {
    let mut l = Lower {
        computed: HashSet::new(),
        warnings: Vec::new(),
        caveats: Vec::new(),
    };
    let mut source = Source {
        span: q.source.span,
        ..Source::default()
    };
    let mut stages = Vec::new();
    match &q.source.kind {
        SourceKind::From { indexes, .. } => {
            source.indexes = indexes.iter().map(|n| n.text.clone()).collect();
        }
        SourceKind::Other { name, text } => {
            stages.push(l.opaque(name, text, q.source.name_span, q.source.span));
        }
    }
    // WHERE commands right after FROM filter the source's events: the filter.
    let mut filters = Vec::new();
    let mut commands = q.commands.iter().peekable();
    if stages.is_empty() {
        while let Some(ast::Command {
            kind: CommandKind::Where(e),
            ..
        }) = commands.peek().copied()
        {
            filters.push(l.truth(e));
            commands.next();
        }
    }
    for c in commands {
        l.command(c, &mut stages);
    }
    let filter = match filters.len() {
        0 => None,
        _ => {
            let span = filters[0].span.to(filters[filters.len() - 1].span);
            Some(Expr::and(filters, span))
        }
    };
    let query = Query {
        language: Language::Esql,
        source,
        filter,
        stages,
        span: q.span,
    };
    (query, l.warnings, l.caveats)
}

impl Lower {
    pub fn fref(&self, name: &str, span: Span) -> FieldRef {
        let scheme = if self.computed.contains(name) {
            FieldScheme::Computed
        } else {
            FieldScheme::Ecs
        };
        FieldRef::new(name, scheme, span)
    }

    pub fn caveat_once(&mut self, message: &str, span: Span) {
        if !self.caveats.iter().any(|c| c.message == message) {
            self.caveats.push(Caveat {
                code: codes::LOWERING_CAVEAT.0.to_string(),
                message: message.to_string(),
                span: Some(span),
            });
        }
    }

    fn opaque(&mut self, name: &str, text: &str, name_span: Span, span: Span) -> Stage {
        let reason = format!(
            "the ES|QL `{}` command has no IR meaning yet",
            name.to_uppercase()
        );
        self.warnings.push(
            Diagnostic::warning(codes::UNSUPPORTED_COMMAND, reason.clone())
                .at(name_span)
                .label("kept as an opaque stage"),
        );
        Stage {
            kind: StageKind::Opaque(Opaque {
                name: name.to_string(),
                text: text.to_string(),
                reason,
            }),
            span,
        }
    }

    fn command(&mut self, c: &ast::Command, out: &mut Vec<Stage>) {
        let span = c.span;
        let kind = match &c.kind {
            CommandKind::Where(e) => StageKind::Where(self.truth(e)),
            CommandKind::Eval(fields) => StageKind::Eval(self.assigns(fields)),
            CommandKind::Stats { inline, aggs, by } => {
                return self.stats(*inline, aggs, by, span, out)
            }
            CommandKind::Project { names, drop } => StageKind::Project {
                fields: names.iter().map(|n| n.text.clone()).collect(),
                drop: *drop,
            },
            CommandKind::Rename(pairs) => {
                for (_, new) in pairs {
                    self.computed.insert(new.text.clone());
                }
                StageKind::Rename(
                    pairs
                        .iter()
                        .map(|(a, b)| (a.text.clone(), b.text.clone()))
                        .collect(),
                )
            }
            CommandKind::Sort(keys) => StageKind::Sort(self.sort(keys)),
            CommandKind::Limit(n) => StageKind::Limit {
                count: *n,
                from_end: false,
            },
            CommandKind::MvExpand(n) => StageKind::MvExpand {
                field: self.fref(&n.text, n.span),
            },
            CommandKind::Extract {
                method,
                input,
                pattern,
            } => StageKind::Extract(self.extract(*method, input, pattern)),
            CommandKind::Enrich { policy, on, with } => {
                let outputs: Vec<(String, String)> = with
                    .iter()
                    .map(|(new, f)| {
                        let new = new.as_ref().unwrap_or(f);
                        (f.text.clone(), new.text.clone())
                    })
                    .collect();
                for (_, n) in &outputs {
                    self.computed.insert(n.clone());
                }
                if with.is_empty() {
                    self.caveat_once(
                        "ENRICH without WITH adds every enrich field of the policy",
                        span,
                    );
                }
                StageKind::Lookup(Lookup {
                    table: policy.text.clone(),
                    // (event field, policy match field); the policy names its own
                    match_fields: on.iter().map(|f| (f.text.clone(), String::new())).collect(),
                    outputs,
                })
            }
            CommandKind::LookupJoin { index, on } => StageKind::Lookup(Lookup {
                table: index.text.clone(),
                match_fields: on
                    .iter()
                    .map(|f| (f.text.clone(), f.text.clone()))
                    .collect(),
                outputs: Vec::new(),
            }),
            CommandKind::Opaque { name, text } => {
                let st = self.opaque(name, text, c.name_span, span);
                out.push(st);
                return;
            }
        };
        out.push(Stage { kind, span });
    }

    fn assigns(&mut self, fields: &[ast::Field]) -> Vec<Assign> {
        let mut out = Vec::new();
        for f in fields {
            let value = self.scalar(&f.value);
            let name = column_name(f);
            self.computed.insert(name.clone());
            out.push(Assign {
                name,
                value,
                span: f.span,
            });
        }
        out
    }

    fn sort(&mut self, keys: &[ast::Order]) -> Vec<SortKey> {
        keys.iter()
            .map(|k| {
                // ES|QL default: nulls last ascending, first descending
                if k.nulls_first.is_some_and(|first| first != k.descending) {
                    self.caveat_once(
                        "SORT ... NULLS FIRST/LAST differs from the default null order and is not kept",
                        k.key.span,
                    );
                }
                SortKey {
                    key: self.scalar(&k.key),
                    descending: k.descending,
                }
            })
            .collect()
    }

    fn extract(&mut self, method: ExtractMethod, input: &ast::Expr, pattern: &ast::Str) -> Extract {
        let field = match &input.kind {
            ExprKind::Field(n) => Some(self.fref(n, input.span)),
            _ => {
                self.caveat_once(
                    "DISSECT/GROK of a computed expression: the input is not a field",
                    input.span,
                );
                None
            }
        };
        let (name, outputs) = match method {
            ExtractMethod::Dissect => {
                let (outputs, dynamic) = dissect_outputs(&pattern.value);
                if !dynamic.is_empty() {
                    self.caveat_once(
                        "DISSECT reference keys (`%{*k}=%{&k}`) name columns from the data",
                        pattern.span,
                    );
                }
                ("dissect", outputs)
            }
            ExtractMethod::Grok => ("grok", grok_outputs(&pattern.value)),
        };
        for o in &outputs {
            self.computed.insert(o.clone());
        }
        Extract {
            method: name.to_string(),
            field,
            pattern: pattern.value.clone(),
            outputs,
        }
    }

    /// STATS: computed BY keys become an EVAL before the aggregate; an
    /// aggregate inside a larger expression (`count(*) / 2`) is computed under
    /// a hidden name and the expression by an EVAL after it (the hidden
    /// columns are then dropped). `agg(x) WHERE c` aggregates
    /// `case(c, x, null)`: every aggregate skips nulls, so this is exact.
    fn stats(
        &mut self,
        inline: bool,
        aggs: &[ast::AggField],
        by: &[ast::Field],
        span: Span,
        out: &mut Vec<Stage>,
    ) {
        let mut pre = Vec::new();
        let mut keys = Vec::new();
        for f in by {
            match (&f.name, &f.value.kind) {
                (None, ExprKind::Field(n)) => keys.push(self.fref(n, f.value.span)),
                _ => {
                    let name = column_name(f);
                    pre.push(Assign {
                        name: name.clone(),
                        value: self.scalar(&f.value),
                        span: f.span,
                    });
                    self.computed.insert(name.clone());
                    keys.push(FieldRef::new(name, FieldScheme::Computed, f.span));
                }
            }
        }
        if !pre.is_empty() {
            out.push(Stage {
                kind: StageKind::Eval(pre),
                span,
            });
        }
        let mut list = Vec::new();
        let mut post = Vec::new();
        let mut hidden = Vec::new();
        for a in aggs {
            let alias = column_name(&a.field);
            let filter = a.filter.as_ref().map(|c| self.truth(c));
            let value = self.scalar(&a.field.value);
            match self.agg(value.clone(), &alias, filter.clone(), a.field.span) {
                Some(agg) => list.push(agg),
                None => {
                    let mut found = 0;
                    let value = self.hoist_aggs(value, &filter, &mut list, &mut hidden, &mut found);
                    if found == 0 {
                        self.warnings.push(
                            Diagnostic::warning(
                                codes::TYPE_MISMATCH,
                                "this STATS expression uses no aggregate function",
                            )
                            .at(a.field.value.span)
                            .label("expected an aggregate such as `count(*)` or `max(x)`"),
                        );
                    }
                    post.push(Assign {
                        name: alias.clone(),
                        value,
                        span: a.field.span,
                    });
                }
            }
            self.computed.insert(alias);
        }
        let mode = if inline {
            AggMode::Annotate
        } else {
            AggMode::Collapse
        };
        out.push(Stage {
            kind: StageKind::Aggregate(Aggregate {
                aggs: list,
                by: keys,
                span: None,
                mode,
            }),
            span,
        });
        if !post.is_empty() {
            out.push(Stage {
                kind: StageKind::Eval(post),
                span,
            });
            out.push(Stage {
                kind: StageKind::Project {
                    fields: hidden,
                    drop: true,
                },
                span,
            });
        }
    }

    /// Replaces the aggregate calls inside `s` by hidden columns.
    fn hoist_aggs(
        &mut self,
        s: Scalar,
        filter: &Option<Expr>,
        list: &mut Vec<Agg>,
        hidden: &mut Vec<String>,
        found: &mut usize,
    ) -> Scalar {
        match s {
            Scalar::Call { ref name, span, .. } if AGGREGATES.contains(&name.as_str()) => {
                let alias = format!("$agg{}", hidden.len());
                if let Some(agg) = self.agg(s.clone(), &alias, filter.clone(), span) {
                    list.push(agg);
                    hidden.push(alias.clone());
                    *found += 1;
                    return Scalar::Field(FieldRef::new(alias, FieldScheme::Computed, span));
                }
                s
            }
            Scalar::Call {
                name,
                args,
                insensitive,
                span,
            } => Scalar::Call {
                name,
                args: args
                    .into_iter()
                    .map(|a| self.hoist_aggs(a, filter, list, hidden, found))
                    .collect(),
                insensitive,
                span,
            },
            Scalar::Arith {
                op,
                left,
                right,
                span,
            } => Scalar::Arith {
                op,
                left: Box::new(self.hoist_aggs(*left, filter, list, hidden, found)),
                right: Box::new(self.hoist_aggs(*right, filter, list, hidden, found)),
                span,
            },
            Scalar::Neg(x, span) => Scalar::Neg(
                Box::new(self.hoist_aggs(*x, filter, list, hidden, found)),
                span,
            ),
            other => other,
        }
    }

    /// An aggregate call as an [`Agg`]; `None` if `s` is not one.
    fn agg(&mut self, s: Scalar, alias: &str, filter: Option<Expr>, span: Span) -> Option<Agg> {
        let Scalar::Call {
            name,
            mut args,
            span: call_span,
            ..
        } = s
        else {
            return None;
        };
        if !AGGREGATES.contains(&name.as_str()) {
            return None;
        }
        let func = match name.as_str() {
            "count" => AggFunc::Count,
            "count_distinct" => AggFunc::DistinctCount,
            "sum" => AggFunc::Sum,
            "avg" => AggFunc::Avg,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "median" => AggFunc::Median,
            "std_dev" => AggFunc::Stdev,
            "variance" => AggFunc::Var,
            "values" => AggFunc::Values,
            "percentile" => match args.get(1) {
                Some(Scalar::Lit(Value::Num(n), _)) => {
                    let p = n.value;
                    args.truncate(1);
                    AggFunc::Percentile(p)
                }
                _ => AggFunc::Other(name.clone()),
            },
            other => AggFunc::Other(other.to_string()),
        };
        // count_distinct(x, precision): the precision does not change the meaning
        if func == AggFunc::DistinctCount {
            args.truncate(1);
        }
        let mut arg = match args.len() {
            0 => None,
            1 => args.pop(),
            _ => Some(Scalar::List(args, call_span)),
        };
        if let Some(cond) = filter {
            let value = arg.unwrap_or_else(|| {
                Scalar::Lit(
                    Value::Num(crate::ir::Number {
                        value: 1.0,
                        text: "1".into(),
                    }),
                    call_span,
                )
            });
            arg = Some(Scalar::Call {
                name: "case".into(),
                args: vec![
                    Scalar::Cond(Box::new(cond)),
                    value,
                    Scalar::Lit(Value::Null, call_span),
                ],
                insensitive: false,
                span: call_span,
            });
        }
        Some(Agg {
            func,
            arg,
            alias: alias.to_string(),
            span,
        })
    }
}

/// The column an EVAL/STATS field produces: its name, or its text.
fn column_name(f: &ast::Field) -> String {
    f.name
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_else(|| f.text.clone())
}
