//! Sigma correlation rules into [`StageKind::Correlation`], and the
//! resolution of rule references (correlations and filters) by id or `name`.

use super::super::Loaded;
use crate::diag::{codes, Diagnostic};
use crate::ir::{
    CmpOp, Correlation, CorrelationKind, Duration, Expr, FieldAlias, FieldRef, FieldScheme,
    Language, Number, Query, RuleRef, Source, Stage, StageKind,
};
use crate::source::yaml::{YamlKind, YamlNode};

fn bad(n: &YamlNode, code: crate::diag::Code, msg: &str, label: String) -> Diagnostic {
    Diagnostic::error(code, msg).at(n.span).label(label)
}

/// A correlation timespan: a positive count and one of `s m h d w M y`
/// (pySigma's units; `M` is a month of 2,629,746 s, `y` a year of 31,556,952 s).
pub fn parse_timespan(t: &str) -> Option<Duration> {
    let t = t.trim();
    let unit = t.chars().last()?;
    let n: u64 = t[..t.len() - unit.len_utf8()]
        .parse()
        .ok()
        .filter(|n| *n > 0)?;
    let secs: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        'M' => 2_629_746,
        'y' => 31_556_952,
        _ => return None,
    };
    Some(Duration {
        millis: n.checked_mul(secs)?.checked_mul(1000)?,
        text: t.to_string(),
    })
}

fn kind_of(name: &str, percentile: Option<u32>) -> Option<CorrelationKind> {
    Some(match name {
        "event_count" => CorrelationKind::EventCount,
        "value_count" => CorrelationKind::ValueCount,
        "temporal" => CorrelationKind::Temporal,
        "temporal_ordered" => CorrelationKind::TemporalOrdered,
        "value_sum" => CorrelationKind::ValueSum,
        "value_avg" => CorrelationKind::ValueAvg,
        "value_median" => CorrelationKind::ValueMedian,
        "value_percentile" => CorrelationKind::ValuePercentile(percentile.unwrap_or(50)),
        _ => return None,
    })
}

fn field(n: &YamlNode, scheme: FieldScheme) -> Option<FieldRef> {
    let s = n.as_scalar().filter(|_| !n.is_null())?;
    Some(FieldRef::new(s.value.clone(), scheme, n.span))
}

fn fields(n: Option<&YamlNode>, aliases: &[FieldAlias]) -> Vec<FieldRef> {
    let items: Vec<&YamlNode> = match n.map(|n| &n.kind) {
        Some(YamlKind::Seq(items)) => items.iter().collect(),
        Some(_) => n.into_iter().collect(),
        None => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|i| {
            let name = i.as_str()?;
            // An alias stands for a different field per rule: not a Sigma field.
            let scheme = if aliases.iter().any(|a| a.alias == name) {
                FieldScheme::Computed
            } else {
                FieldScheme::Sigma
            };
            field(i, scheme)
        })
        .collect()
}

/// The `correlation:` section of a document into a query with one stage.
pub fn read_correlation(doc: &YamlNode, c: &YamlNode) -> Result<Query, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    if c.as_map().is_none() {
        return Err(vec![bad(
            c,
            codes::WRONG_TYPE,
            "the correlation must be a mapping",
            format!("found {}", c.kind_name()),
        )]);
    }
    let need = |key: &str, diags: &mut Vec<Diagnostic>| {
        let n = c.get(key);
        if n.is_none() {
            diags.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    format!("the correlation has no `{key}`"),
                )
                .at(c.span)
                .label(format!("`{key}` is required")),
            );
        }
        n
    };
    let cond = c.get("condition");
    let percentile = cond
        .and_then(|n| n.get("percentile"))
        .and_then(YamlNode::as_i64)
        .and_then(|p| u32::try_from(p).ok());
    let kind = need("type", &mut diags).and_then(|t| {
        let k = t.as_str().and_then(|s| kind_of(s, percentile));
        if k.is_none() {
            diags.push(bad(t, codes::BAD_VALUE, "unknown correlation type", "expected event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile or value_median".to_string()));
        }
        k
    });
    let rules: Vec<RuleRef> = need("rules", &mut diags)
        .map(|r| {
            let items: Vec<&YamlNode> = match &r.kind {
                YamlKind::Seq(items) => items.iter().collect(),
                _ => vec![r],
            };
            items
                .into_iter()
                .filter_map(|i| {
                    Some(RuleRef {
                        reference: i.as_str()?.to_string(),
                        rule: None,
                        span: i.span,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let timespan = need("timespan", &mut diags).and_then(|t| {
        let d = t.as_str().and_then(parse_timespan);
        if d.is_none() {
            diags.push(bad(
                t,
                codes::BAD_NUMBER,
                "invalid timespan",
                "expected a count and a unit: s, m, h, d, w, M or y (`5m`)".to_string(),
            ));
        }
        d
    });
    let aliases: Vec<FieldAlias> = c
        .get("aliases")
        .and_then(YamlNode::as_map)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(k, v)| {
                    Some(FieldAlias {
                        alias: k.as_str()?.to_string(),
                        mapping: v
                            .as_map()?
                            .iter()
                            .filter_map(|(r, f)| {
                                Some((r.as_str()?.to_string(), field(f, FieldScheme::Sigma)?))
                            })
                            .collect(),
                        span: k.span.to(v.span),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let group_by = fields(c.get("group-by"), &aliases);
    let mut condition = Vec::new();
    let mut value_fields = fields(c.get("field"), &aliases);
    match cond.map(|n| (n, &n.kind)) {
        Some((n, YamlKind::Map(entries))) => {
            for (k, v) in entries {
                let op = match k.as_str() {
                    Some("gt") => CmpOp::Gt,
                    Some("gte") => CmpOp::Ge,
                    Some("lt") => CmpOp::Lt,
                    Some("lte") => CmpOp::Le,
                    Some("eq") => CmpOp::Eq,
                    Some("neq") => CmpOp::Ne,
                    Some("field") => {
                        value_fields.extend(fields(Some(v), &aliases));
                        continue;
                    }
                    Some("percentile") => continue,
                    _ => {
                        diags.push(bad(
                            k,
                            codes::BAD_VALUE,
                            "unknown correlation condition",
                            "expected gt, gte, lt, lte, eq, neq, field or percentile".to_string(),
                        ));
                        continue;
                    }
                };
                match v.as_scalar().and_then(|s| Number::new(&s.value)) {
                    Some(num) => condition.push((op, num)),
                    None => diags.push(bad(
                        v,
                        codes::BAD_NUMBER,
                        "the bound must be a number",
                        format!("found {}", v.kind_name()),
                    )),
                }
            }
            if condition.is_empty() {
                diags.push(bad(
                    n,
                    codes::MISSING_KEY,
                    "the correlation condition has no bound",
                    "expected gt, gte, lt, lte or eq".to_string(),
                ));
            }
        }
        Some((n, _)) => diags.push(bad(
            n,
            codes::UNSUPPORTED_CONSTRUCT,
            "the correlation condition must be a mapping of bounds",
            format!("found {}", n.kind_name()),
        )),
        None if matches!(
            kind,
            Some(CorrelationKind::Temporal | CorrelationKind::TemporalOrdered)
        ) => {}
        None => {
            need("condition", &mut diags);
        }
    }
    let needs_field = matches!(
        kind,
        Some(
            CorrelationKind::ValueCount
                | CorrelationKind::ValueSum
                | CorrelationKind::ValueAvg
                | CorrelationKind::ValueMedian
                | CorrelationKind::ValuePercentile(_)
        )
    );
    if needs_field && value_fields.is_empty() {
        diags.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                "this correlation type needs a `field` in its condition",
            )
            .at(cond.map(|n| n.span).unwrap_or(c.span)),
        );
    }
    let generate = c
        .get("generate")
        .or_else(|| doc.get("generate"))
        .and_then(YamlNode::as_bool)
        .unwrap_or(false);
    let (Some(kind), Some(timespan), true) = (kind, timespan, diags.is_empty()) else {
        return Err(diags);
    };
    let stage = Stage {
        kind: StageKind::Correlation(Correlation {
            kind,
            rules,
            group_by,
            timespan,
            condition,
            fields: value_fields,
            aliases,
            generate,
        }),
        span: c.span,
    };
    Ok(Query {
        language: Language::Sigma,
        source: Source {
            span: c.span,
            ..Source::default()
        },
        filter: None,
        stages: vec![stage],
        span: c.span,
    })
}

/// Whether `l` is the rule `reference` names (by id or by `name`).
fn names(l: &Loaded, reference: &str) -> bool {
    l.rule.is_some() && (l.meta.id == reference || l.meta.handle.as_deref() == Some(reference))
}

fn is_kind(l: &Loaded, kind: &str) -> bool {
    l.meta.rule_type.as_deref() == Some(kind)
}

fn correlation_mut(l: &mut Loaded) -> Option<&mut Correlation> {
    let q = l.rule.as_mut()?.query.as_mut()?;
    q.stages.iter_mut().find_map(|s| match &mut s.kind {
        StageKind::Correlation(c) => Some(c),
        _ => None,
    })
}

fn correlation(l: &Loaded) -> Option<&Correlation> {
    let q = l.rule.as_ref()?.query.as_ref()?;
    q.stages.iter().find_map(|s| match &s.kind {
        StageKind::Correlation(c) => Some(c),
        _ => None,
    })
}

/// Every field of the filter's logsource the rule's logsource has too.
fn logsource_fits(filter: &Loaded, rule: &Loaded) -> bool {
    let src = |l: &Loaded| {
        l.rule
            .as_ref()
            .and_then(|r| r.query.as_ref())
            .and_then(|q| q.source.logsource.clone())
    };
    let (Some(f), r) = (src(filter), src(rule).unwrap_or_default()) else {
        return true;
    };
    let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (Some(_), None) => false,
        (None, _) => true,
    };
    same(&f.category, &r.category) && same(&f.product, &r.product) && same(&f.service, &r.service)
}

/// Apply filters and fill correlation references among `loaded`, for the
/// pairs `pair(referrer, target)` allows.
fn resolve_pairs(loaded: &mut [Loaded], pair: &dyn Fn(&Loaded, &Loaded) -> bool) {
    // Filters first: a correlation then sees the filtered rule.
    for fi in 0..loaded.len() {
        if !is_kind(&loaded[fi], "filter") {
            continue;
        }
        let Some(fexpr) = loaded[fi]
            .rule
            .as_ref()
            .and_then(|r| r.query.as_ref())
            .and_then(|q| q.filter.clone())
        else {
            continue;
        };
        for ri in 0..loaded.len() {
            let (f, r) = (&loaded[fi], &loaded[ri]);
            if ri == fi || !is_kind(r, "detection") || !pair(f, r) {
                continue;
            }
            if !f.meta.applies_to.iter().any(|t| names(r, t)) {
                continue;
            }
            if !logsource_fits(f, r) {
                let d = Diagnostic::warning(
                    codes::LOWERING_CAVEAT,
                    format!(
                        "the filter is not applied to `{}`: its logsource differs",
                        r.meta.name
                    ),
                )
                .at(f.meta.span);
                loaded[fi].diags.push(d);
                continue;
            }
            let span = fexpr.span;
            if let Some(q) = loaded[ri].rule.as_mut().and_then(|r| r.query.as_mut()) {
                let base = q
                    .filter
                    .take()
                    .unwrap_or(Expr::new(crate::ir::ExprKind::Const(true), q.span));
                let qspan = base.span;
                q.filter = Some(Expr::and(vec![base, Expr::not(fexpr.clone(), span)], qspan));
            }
        }
    }
    // Correlations, in dependency order (a chain resolves over several passes).
    for _ in 0..=loaded.len() {
        let mut progress = false;
        for ci in 0..loaded.len() {
            let Some(c) = correlation(&loaded[ci]) else {
                continue;
            };
            let pending: Vec<(usize, String)> = c
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.rule.is_none())
                .map(|(i, r)| (i, r.reference.clone()))
                .collect();
            for (i, reference) in pending {
                let target = loaded.iter().enumerate().position(|(j, t)| {
                    j != ci
                        && !is_kind(t, "filter")
                        && names(t, &reference)
                        && pair(&loaded[ci], t)
                        && correlation(t).is_none_or(|tc| tc.rules.iter().all(|r| r.rule.is_some()))
                });
                if let Some(j) = target {
                    let rule = loaded[j].rule.clone().map(Box::new);
                    if let Some(c) = correlation_mut(&mut loaded[ci]) {
                        c.rules[i].rule = rule;
                        progress = true;
                    }
                }
            }
        }
        if !progress {
            break;
        }
    }
}

/// Resolve references between the documents of one file (done by `load`).
pub(super) fn resolve_local(loaded: &mut [Loaded]) {
    resolve_pairs(loaded, &|a, b| a.file == b.file);
}

/// Resolve references across the files of a run: apply each filter to the
/// rules it names (AND NOT) and attach the referenced rules to each
/// correlation. Same-file references were resolved by `load`; call this once
/// per run with every loaded Sigma document. References still unresolved
/// afterwards get a W0309 warning.
pub fn resolve(loaded: &mut [Loaded]) {
    resolve_pairs(loaded, &|a, b| a.file != b.file);
    let mut warnings: Vec<(usize, Diagnostic)> = Vec::new();
    for (i, l) in loaded.iter().enumerate() {
        if is_kind(l, "filter") {
            for t in &l.meta.applies_to {
                if !loaded
                    .iter()
                    .any(|r| is_kind(r, "detection") && names(r, t))
                {
                    warnings.push((i, unresolved(t, l.meta.span, "filter")));
                }
            }
        }
        if let Some(c) = correlation(l) {
            for r in c.rules.iter().filter(|r| r.rule.is_none()) {
                warnings.push((i, unresolved(&r.reference, r.span, "correlation")));
            }
        }
    }
    for (i, d) in warnings {
        loaded[i].diags.push(d);
    }
}

fn unresolved(reference: &str, span: crate::span::Span, what: &str) -> Diagnostic {
    Diagnostic::warning(
        codes::UNRESOLVED_RULE,
        format!("the {what} names `{reference}`, which is not a loaded rule"),
    )
    .at(span)
    .label("no rule with this id or name")
}
