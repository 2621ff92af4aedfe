//! Lowering a parsed pipeline into an [`ir::Query`](crate::ir::Query): the
//! first command becomes the source and filter, the rest typed stages.

use super::ast::*;
use crate::diag::{codes, Diagnostic};
use crate::ir::*;
use std::collections::HashSet;

/// Lowering state: which fields are computed, whether the rows come from a
/// data model (their fields are CIM names), and the warnings on the way.
#[derive(Default)]
pub struct Lowerer {
    pub computed: HashSet<String>,
    pub cim: bool,
    pub warnings: Vec<Diagnostic>,
}

const SELECTORS: [&str; 5] = ["index", "sourcetype", "source", "earliest", "latest"];

fn selector(w: &Word) -> Option<&'static str> {
    SELECTORS
        .iter()
        .find(|s| w.text.eq_ignore_ascii_case(s))
        .copied()
}

/// The selector field and values of a conjunct that only selects events:
/// `index=x`, `sourcetype IN (a, b)`, `(source=a OR source=b)`.
fn selector_values(e: &SearchExpr) -> Option<(&'static str, Vec<String>)> {
    match &e.kind {
        SearchKind::Compare {
            field,
            op: SearchOp::Eq,
            value,
        } => Some((selector(field)?, vec![value.text.clone()])),
        SearchKind::In { field, values } => Some((
            selector(field)?,
            values.iter().map(|v| v.text.clone()).collect(),
        )),
        SearchKind::Or(items) => {
            let mut name = None;
            let mut out = Vec::new();
            for i in items {
                let (n, v) = selector_values(i)?;
                if name.is_some_and(|x| x != n) || n == "earliest" || n == "latest" {
                    return None;
                }
                name = Some(n);
                out.extend(v);
            }
            Some((name?, out))
        }
        _ => None,
    }
}

fn agg_func(name: &str) -> AggFunc {
    match name {
        "count" | "c" => AggFunc::Count,
        "dc" | "distinct_count" | "estdc" => AggFunc::DistinctCount,
        "sum" => AggFunc::Sum,
        "avg" | "mean" => AggFunc::Avg,
        "stdev" => AggFunc::Stdev,
        "var" => AggFunc::Var,
        "min" => AggFunc::Min,
        "max" => AggFunc::Max,
        "median" => AggFunc::Median,
        "mode" => AggFunc::Mode,
        "range" => AggFunc::Range,
        "values" => AggFunc::Values,
        "list" => AggFunc::List,
        "earliest" => AggFunc::Earliest,
        "latest" => AggFunc::Latest,
        "first" => AggFunc::First,
        "last" => AggFunc::Last,
        other => match super::eval::percentile(other) {
            Some(p) if other.starts_with('p') => AggFunc::Percentile(p),
            _ => AggFunc::Other(other.to_string()),
        },
    }
}

/// Named groups of a PCRE pattern: `(?<name>` and `(?P<name>`.
pub fn named_groups(re: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = re;
    while let Some(k) = rest.find("(?") {
        let after = &rest[k + 2..];
        let after = after.strip_prefix('P').unwrap_or(after);
        if let Some(name) = after.strip_prefix('<') {
            if !name.starts_with('=') && !name.starts_with('!') {
                if let Some(end) = name.find('>') {
                    out.push(name[..end].to_string());
                }
            }
        }
        rest = &rest[k + 2..];
    }
    out
}

impl Lowerer {
    pub fn warn_opaque(&mut self, cmd: &Command, reason: &str) -> Stage {
        self.warnings.push(
            Diagnostic::warning(
                codes::UNSUPPORTED_COMMAND,
                format!("unsupported command `{}`", cmd.name),
            )
            .at(cmd.name_span)
            .label("kept as an opaque stage")
            .note(reason.to_string()),
        );
        Stage {
            kind: StageKind::Opaque(Opaque {
                name: cmd.name.clone(),
                text: cmd.text.clone(),
                reason: reason.to_string(),
            }),
            span: cmd.span,
        }
    }

    /// A whole pipeline into a query.
    pub fn pipeline(&mut self, p: &Pipeline) -> Result<Query, Diagnostic> {
        let mut source = Source {
            span: p.span,
            ..Source::default()
        };
        let mut filter = None;
        let mut stages = Vec::new();
        for (k, cmd) in p.commands.iter().enumerate() {
            if k == 0 {
                match &cmd.kind {
                    CommandKind::Search(e) => {
                        source.span = cmd.span;
                        let rest = self.take_selectors(e.as_ref(), &mut source);
                        filter = self.search_filter(rest)?;
                        continue;
                    }
                    CommandKind::Tstats(t) => {
                        source.span = cmd.span;
                        let (f, st) = self.tstats(cmd, t, &mut source)?;
                        filter = f;
                        stages.push(st);
                        continue;
                    }
                    _ => {}
                }
            }
            if let Some(st) = self.stage(cmd)? {
                stages.push(st);
            }
        }
        Ok(Query {
            language: Language::Spl,
            source,
            filter,
            stages,
            span: p.span,
        })
    }

    /// A subsearch: lowered on its own (fields computed outside it do not
    /// leak in), keeping the warnings.
    pub fn sub_query(&mut self, p: &Pipeline) -> Result<Query, Diagnostic> {
        let mut inner = Lowerer::default();
        let q = inner.pipeline(p);
        self.warnings.append(&mut inner.warnings);
        q
    }

    pub fn search_filter(&mut self, e: Vec<SearchExpr>) -> Result<Option<Expr>, Diagnostic> {
        let items: Vec<Expr> = e
            .iter()
            .map(|i| self.search(i))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|x| x.kind != ExprKind::Const(true))
            .collect();
        if items.is_empty() {
            return Ok(None);
        }
        let span = items[0].span.to(items[items.len() - 1].span);
        Ok(Some(Expr::and(items, span)))
    }

    /// Move top-level selector conjuncts into the source; the rest stays.
    fn take_selectors(&mut self, e: Option<&SearchExpr>, source: &mut Source) -> Vec<SearchExpr> {
        let Some(e) = e else { return Vec::new() };
        let items: Vec<SearchExpr> = match &e.kind {
            SearchKind::And(items) => items.clone(),
            _ => vec![e.clone()],
        };
        let mut rest = Vec::new();
        for item in items {
            let Some((name, values)) = selector_values(&item) else {
                rest.push(item);
                continue;
            };
            let taken = match name {
                "index" if source.indexes.is_empty() => {
                    source.indexes = values;
                    true
                }
                "sourcetype" if source.sourcetypes.is_empty() => {
                    source.sourcetypes = values;
                    true
                }
                "source" if source.sources.is_empty() => {
                    source.sources = values;
                    true
                }
                "earliest" | "latest" => {
                    let tr = source.time_range.get_or_insert(TimeRange {
                        earliest: None,
                        latest: None,
                    });
                    let slot = if name == "earliest" {
                        &mut tr.earliest
                    } else {
                        &mut tr.latest
                    };
                    if slot.is_none() {
                        *slot = values.into_iter().next();
                        true
                    } else {
                        false
                    }
                }
                _ => false,
            };
            if !taken {
                rest.push(item);
            }
        }
        rest
    }

    pub fn aggregate(
        &mut self,
        aggs: &[AggCall],
        by: &[Word],
        span: &Option<Word>,
        mode: AggMode,
    ) -> Result<Aggregate, Diagnostic> {
        let mut out = Vec::new();
        for a in aggs {
            let arg = match &a.arg {
                None => None,
                Some(AggArg::Field(w)) => Some(Scalar::Field(self.field(&w.text, w.span))),
                Some(AggArg::Eval(e)) => Some(self.scalar(e)),
            };
            out.push(Agg {
                func: agg_func(&a.func),
                arg,
                alias: a
                    .alias
                    .as_ref()
                    .map(|w| w.text.clone())
                    .unwrap_or(a.text.clone()),
                span: a.span,
            });
        }
        let by: Vec<FieldRef> = by.iter().map(|w| self.field(&w.text, w.span)).collect();
        let span = match span {
            None => None,
            Some(w) => Some(Duration::parse(&w.text).ok_or_else(|| {
                Diagnostic::error(
                    codes::BAD_NUMBER,
                    format!("`{}` is not a valid span", w.text),
                )
                .at(w.span)
                .label("expected a duration such as `1h` or `1d`")
            })?),
        };
        for a in &out {
            self.computed.insert(a.alias.clone());
        }
        Ok(Aggregate {
            aggs: out,
            by,
            span,
            mode,
        })
    }

    fn tstats(
        &mut self,
        cmd: &Command,
        t: &Tstats,
        source: &mut Source,
    ) -> Result<(Option<Expr>, Stage), Diagnostic> {
        if let Some(dm) = &t.datamodel {
            let (model, dataset) = match dm.text.split_once('.') {
                Some((m, d)) => (m.to_string(), Some(d.to_string())),
                None => (dm.text.clone(), None),
            };
            source.datamodel = Some(DataModel {
                model,
                dataset,
                options: t
                    .options
                    .iter()
                    .map(|(k, v)| (k.text.clone(), v.text.clone()))
                    .collect(),
            });
            self.cim = true;
        }
        let rest = self.take_selectors(t.filter.as_ref(), source);
        let filter = self.search_filter(rest)?;
        let agg = self.aggregate(&t.aggs, &t.by, &t.span, AggMode::Collapse)?;
        Ok((
            filter,
            Stage {
                kind: StageKind::Aggregate(agg),
                span: cmd.span,
            },
        ))
    }
}
