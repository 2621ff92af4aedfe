//! Lowering a Sigma `detection` section into the IR: each search identifier
//! becomes an [`Expr`] (maps AND, lists OR, keyword lists [`ExprKind::Keyword`]),
//! then the condition combines them.

use super::ast::{Aggregation, Cond, CondKind, OfQuantifier, OfTarget};
use super::parse::parse_condition;
use super::values::{apply, initial, name_of, Modifier, Raw, SVal};
use crate::diag::{codes, Diagnostic};
use crate::ir::{
    Agg, AggFunc, AggMode, Aggregate, ArrayMode, Case, Compare, Expr, ExprKind, FieldRef,
    FieldScheme, Keyword, Match, MatchKind, Number, Pattern, Quantifier, Regex, RegexFlavor,
    Scalar, Stage, StageKind, Value,
};
use crate::source::yaml::{Style, YamlKind, YamlNode, YamlScalar};
use crate::span::Span;

/// A lowered detection: the filter and the stages of a Sigma 1.x aggregation.
#[derive(Debug, Clone)]
pub struct Lowered {
    pub filter: Expr,
    pub stages: Vec<Stage>,
}

/// One search identifier of a detection, lowered.
struct Search<'a> {
    name: &'a str,
    expr: Option<Expr>,
}

/// Lower a `detection:` mapping (searches plus `condition`); keys in `skip`
/// are not searches (a filter's `rules`).
pub fn lower_detection(det: &YamlNode, skip: &[&str]) -> Result<Lowered, Vec<Diagnostic>> {
    let Some(entries) = det.as_map() else {
        return Err(vec![wrong_type(det, "the detection", "a mapping")]);
    };
    let mut diags = Vec::new();
    let mut searches = Vec::new();
    let mut condition = None;
    for (k, v) in entries {
        match k.as_str() {
            Some("condition") => condition = Some((k, v)),
            // Sigma 1.x aggregation window: read with the aggregation.
            Some("timeframe") => {}
            Some(k) if skip.contains(&k) => {}
            Some(name) => {
                let expr = match search_expr(k, v) {
                    Ok(e) => Some(e),
                    Err(d) => {
                        diags.extend(d);
                        None
                    }
                };
                searches.push(Search { name, expr });
            }
            None => diags.push(wrong_type(k, "a search identifier", "a string")),
        }
    }
    let Some((ck, cv)) = condition else {
        diags.push(
            Diagnostic::error(codes::MISSING_KEY, "the detection has no `condition`")
                .at(det.span)
                .label("a `condition` naming the searches to match is required"),
        );
        return Err(diags);
    };
    let conds: Vec<&YamlNode> = match &cv.kind {
        YamlKind::Seq(items) => items.iter().collect(),
        _ => vec![cv],
    };
    if conds.is_empty() {
        diags
            .push(Diagnostic::error(codes::EMPTY_QUERY, "the condition list is empty").at(ck.span));
    }
    let mut exprs = Vec::new();
    let mut stages = Vec::new();
    for c in conds {
        let Some(s) = c.as_scalar().filter(|_| !c.is_null()) else {
            diags.push(wrong_type(c, "a condition", "a string"));
            continue;
        };
        match parse_condition(&s.value, &s.origin) {
            Err(d) => diags.push(d),
            Ok(parsed) => {
                match lower_cond(&parsed.expr, &searches, s) {
                    Ok(e) => exprs.push(e),
                    Err(d) => diags.push(d),
                }
                if let Some(agg) = parsed.aggregation {
                    stages.extend(aggregation_stages(&agg, s, det.get("timeframe")));
                }
            }
        }
    }
    if !stages.is_empty() && exprs.len() > 1 {
        diags.push(
            Diagnostic::error(
                codes::UNSUPPORTED_CONSTRUCT,
                "an aggregation in a list of conditions",
            )
            .at(cv.span)
            .label("write one condition with the aggregation, or a correlation rule"),
        );
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Lowered {
        filter: Expr::or(exprs, cv.span),
        stages,
    })
}

fn wrong_type(n: &YamlNode, what: &str, expected: &str) -> Diagnostic {
    Diagnostic::error(codes::WRONG_TYPE, format!("{what} must be {expected}"))
        .at(n.span)
        .label(format!("expected {expected}, found {}", n.kind_name()))
}

/// Condition text offsets to a file span.
fn cspan(s: &YamlScalar, start: usize, end: usize) -> Span {
    s.origin.span(start, end)
}

fn lower_cond(c: &Cond, searches: &[Search], text: &YamlScalar) -> Result<Expr, Diagnostic> {
    let span = cspan(text, c.start, c.end);
    Ok(match &c.kind {
        CondKind::Or(items) | CondKind::And(items) => {
            let items = items
                .iter()
                .map(|i| lower_cond(i, searches, text))
                .collect::<Result<Vec<_>, _>>()?;
            if matches!(c.kind, CondKind::Or(_)) {
                Expr::or(items, span)
            } else {
                Expr::and(items, span)
            }
        }
        CondKind::Not(inner) => Expr::not(lower_cond(inner, searches, text)?, span),
        CondKind::Ident(name) => match searches.iter().find(|s| s.name == name) {
            // A search with an error of its own has been reported already.
            Some(s) => s
                .expr
                .clone()
                .unwrap_or(Expr::new(ExprKind::Const(false), span)),
            None => return Err(unknown_ident(name, span, searches)),
        },
        CondKind::Of { quantifier, target } => {
            let matched: Vec<&Search> = searches
                .iter()
                .filter(|s| match target {
                    OfTarget::Them => !s.name.starts_with('_'),
                    OfTarget::Pattern(p) => glob(p, s.name),
                })
                .collect();
            if matched.is_empty() {
                let what = match target {
                    OfTarget::Them => "`them` names no search".to_string(),
                    OfTarget::Pattern(p) => format!("`{p}` matches no search identifier"),
                };
                return Err(unknown_ident_msg(&what, span, searches));
            }
            let items = matched
                .iter()
                .map(|s| {
                    s.expr
                        .clone()
                        .unwrap_or(Expr::new(ExprKind::Const(false), span))
                })
                .collect();
            match quantifier {
                OfQuantifier::Any => Expr::or(items, span),
                OfQuantifier::All => Expr::and(items, span),
            }
        }
    })
}

fn unknown_ident(name: &str, span: Span, searches: &[Search]) -> Diagnostic {
    unknown_ident_msg(
        &format!("`{name}` is not a search identifier"),
        span,
        searches,
    )
}

fn unknown_ident_msg(msg: &str, span: Span, searches: &[Search]) -> Diagnostic {
    let known: Vec<&str> = searches.iter().map(|s| s.name).collect();
    Diagnostic::error(codes::UNKNOWN_IDENTIFIER, msg)
        .at(span)
        .label("not defined in `detection`")
        .note(format!("defined: {}", known.join(", ")))
}

/// `*` wildcard match of identifier names (`selection_*`).
pub fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// A search identifier's value: a map (AND), a list of maps (OR), a list of
/// keywords (OR), or one keyword.
fn search_expr(key: &YamlNode, v: &YamlNode) -> Result<Expr, Vec<Diagnostic>> {
    let span = key.span.to(v.span);
    match &v.kind {
        YamlKind::Map(entries) => {
            let mut items = Vec::new();
            let mut diags = Vec::new();
            for (k, val) in entries {
                match item_expr(k, val) {
                    Ok(e) => items.push(e),
                    Err(d) => diags.push(d),
                }
            }
            if !diags.is_empty() {
                return Err(diags);
            }
            if items.is_empty() {
                return Err(vec![Diagnostic::error(codes::BAD_VALUE, "an empty search")
                    .at(span)
                    .label("a search needs at least one field or keyword")]);
            }
            Ok(Expr::and(items, span))
        }
        YamlKind::Seq(items) if items.iter().all(|i| matches!(i.kind, YamlKind::Scalar(_))) => {
            keyword_expr(items, &[], v.span).map_err(|d| vec![d])
        }
        YamlKind::Seq(items) => {
            let mut alts = Vec::new();
            let mut diags = Vec::new();
            for i in items {
                match search_expr(i, i) {
                    Ok(e) => alts.push(e),
                    Err(d) => diags.extend(d),
                }
            }
            if !diags.is_empty() {
                return Err(diags);
            }
            Ok(Expr::or(alts, span))
        }
        YamlKind::Scalar(_) if v.is_null() => Err(vec![wrong_type(
            v,
            "a search",
            "a mapping of fields or a list of keywords",
        )]),
        YamlKind::Scalar(_) => {
            keyword_expr(std::slice::from_ref(v), &[], v.span).map_err(|d| vec![d])
        }
    }
}

/// The raw value of a YAML scalar: plain scalars may be numbers, booleans or null.
fn raw(n: &YamlNode) -> Option<Raw<'_>> {
    let s = n.as_scalar()?;
    if n.is_null() {
        return Some(Raw::Null);
    }
    if s.style != Style::Plain {
        return Some(Raw::Str(&s.value));
    }
    if let Some(b) = n.as_bool() {
        return Some(Raw::Bool(b));
    }
    let v = s.value.as_str();
    let numeric = v.parse::<i64>().is_ok()
        || (v.parse::<f64>().is_ok_and(f64::is_finite)
            && v.chars().any(|c| c.is_ascii_digit())
            && !v.contains(['e', 'E', 'i', 'I', 'n', 'N']));
    Some(if numeric { Raw::Num(v) } else { Raw::Str(v) })
}

/// Modifiers of a key `field|mod|mod` with their text offsets in the key.
fn split_key(key: &str) -> (&str, Vec<(&str, usize)>) {
    let mut it = key.split('|');
    let field = it.next().unwrap_or("");
    let mut at = field.len() + 1;
    let mods = it
        .map(|m| {
            let r = (m, at);
            at += m.len() + 1;
            r
        })
        .collect();
    (field, mods)
}

/// The values of one detection item through its modifiers: for each value
/// written, its alternatives.
fn item_values(vals: &[YamlNode], mods: &[Modifier]) -> Result<Vec<Vec<SVal>>, (Span, String)> {
    let expand = mods.contains(&Modifier::Expand);
    let first = mods.iter().copied().find(|m| {
        !matches!(
            m,
            Modifier::All | Modifier::Cased | Modifier::Neq | Modifier::Expand
        )
    });
    let mut groups = Vec::with_capacity(vals.len());
    for v in vals {
        let Some(r) = raw(v) else {
            return Err((
                v.span,
                format!("a value must be a scalar, found {}", v.kind_name()),
            ));
        };
        let start = initial(&r, first, expand).map_err(|e| (v.span, e))?;
        let mut alts = vec![start];
        let mut utf16 = false;
        for (i, m) in mods.iter().enumerate() {
            if Some(*m) == first
                && mods[..i].iter().all(|p| Some(*p) != first)
                && matches!(m, Modifier::Re | Modifier::Cidr | Modifier::Exists)
            {
                continue; // already applied by `initial`
            }
            if matches!(alts[0], SVal::Null) {
                break; // `null` is not modified
            }
            let mut next = Vec::with_capacity(alts.len());
            for a in alts {
                next.extend(apply(*m, a, utf16).map_err(|e| (v.span, e))?);
            }
            alts = next;
            utf16 |= *m == Modifier::Utf16;
        }
        groups.push(alts);
    }
    Ok(groups)
}

/// One `key: value(s)` of a search map.
fn item_expr(k: &YamlNode, v: &YamlNode) -> Result<Expr, Diagnostic> {
    let span = k.span.to(v.span);
    let Some(ks) = k.as_scalar() else {
        return Err(wrong_type(k, "a field name", "a string"));
    };
    let (field_name, mod_names) = split_key(&ks.value);
    let mut mods = Vec::with_capacity(mod_names.len());
    for (name, at) in &mod_names {
        match Modifier::parse(name) {
            Some(m) => mods.push(m),
            None => {
                return Err(Diagnostic::error(
                    codes::UNKNOWN_MODIFIER,
                    format!("unknown value modifier `{name}`"),
                )
                .at(ks.origin.span(*at, at + name.len().max(1)))
                .label("not a Sigma modifier")
                .note("modifiers: contains, startswith, endswith, all, exists, cased, neq, windash, re, i, m, s, base64, base64offset, utf16le, utf16be, utf16, wide, cidr, expand, fieldref, lt, lte, gt, gte, minute, hour, day, week, month, year"));
            }
        }
    }
    let vals: &[YamlNode] = match &v.kind {
        YamlKind::Seq(items) => items,
        _ => std::slice::from_ref(v),
    };
    if vals.is_empty() {
        return Err(
            Diagnostic::error(codes::BAD_VALUE, "an empty list of values")
                .at(v.span)
                .label("a field needs at least one value"),
        );
    }
    if field_name.is_empty() {
        return keyword_expr(vals, &mods, span);
    }
    let field = FieldRef::new(
        field_name,
        FieldScheme::Sigma,
        ks.origin.span(0, field_name.len()),
    );
    let groups = item_values(vals, &mods).map_err(|(at, msg)| misuse(at, msg, &mods))?;
    let case = if mods.contains(&Modifier::Cased) {
        Case::Sensitive
    } else {
        Case::Insensitive
    };
    let all = mods.contains(&Modifier::All);
    let mut expr = if all && groups.iter().all(|g| g.len() == 1 && matchable(&g[0])) {
        let values = groups.into_iter().flatten().collect();
        field_expr(&field, values, Quantifier::All, case, span)
    } else if all {
        let items = groups
            .into_iter()
            .map(|g| field_expr(&field, g, Quantifier::Any, case, span))
            .collect();
        Expr::and(items, span)
    } else {
        field_expr(
            &field,
            groups.into_iter().flatten().collect(),
            Quantifier::Any,
            case,
            span,
        )
    };
    if mods.contains(&Modifier::Neq) {
        expr = Expr::not(expr, span);
    }
    Ok(expr)
}

fn misuse(at: Span, msg: String, mods: &[Modifier]) -> Diagnostic {
    let chain: Vec<&str> = mods.iter().map(|m| name_of(*m)).collect();
    Diagnostic::error(codes::MODIFIER_MISUSE, msg)
        .at(at)
        .label(format!("with modifiers `{}`", chain.join("|")))
}

fn matchable(v: &SVal) -> bool {
    matches!(
        v,
        SVal::Str(_) | SVal::Num(_) | SVal::Bool(_) | SVal::Regex { .. } | SVal::Cidr(_)
    ) || matches!(
        v,
        SVal::FieldRef {
            starts: false,
            ends: false,
            ..
        }
    )
}

fn to_value(v: SVal) -> Option<Value> {
    Some(match v {
        SVal::Str(parts) => Value::Str(Pattern(parts)),
        SVal::Num(n) => Value::Num(n),
        SVal::Bool(b) => Value::Bool(b),
        SVal::Regex {
            pattern,
            multiline,
            dot_all,
            ..
        } => Value::Regex(Regex {
            pattern,
            flavor: RegexFlavor::Pcre,
            anchored: false,
            multiline,
            dot_all,
        }),
        SVal::Cidr(c) => Value::Cidr(c),
        SVal::FieldRef {
            name,
            starts: false,
            ends: false,
        } => Value::FieldRef(name),
        _ => return None,
    })
}

/// The alternatives `values` for one field, joined by `quantifier`.
fn field_expr(
    f: &FieldRef,
    values: Vec<SVal>,
    quantifier: Quantifier,
    case: Case,
    span: Span,
) -> Expr {
    let mut matched = Vec::new();
    let mut others = Vec::new();
    let mut regex_case = None;
    for v in values {
        if let SVal::Regex { ignore_case, .. } = &v {
            regex_case = Some(if *ignore_case {
                Case::Insensitive
            } else {
                Case::Sensitive
            });
        }
        if matchable(&v) {
            matched.extend(to_value(v));
            continue;
        }
        others.push(match v {
            SVal::Null => Expr::not(Expr::new(ExprKind::Exists(f.clone()), span), span),
            SVal::Exists(true) => Expr::new(ExprKind::Exists(f.clone()), span),
            SVal::Exists(false) => Expr::not(Expr::new(ExprKind::Exists(f.clone()), span), span),
            SVal::Cmp { op, value, unit } => {
                let left = match unit {
                    None => Scalar::Field(f.clone()),
                    Some(u) => Scalar::Call {
                        name: u.as_str().to_string(),
                        args: vec![Scalar::Field(f.clone())],
                        insensitive: false,
                        span,
                    },
                };
                Expr::new(
                    ExprKind::Compare(Compare {
                        left,
                        op,
                        right: Scalar::Lit(Value::Num(value), span),
                        case,
                        span,
                    }),
                    span,
                )
            }
            SVal::FieldRef { name, starts, ends } => {
                let func = match (starts, ends) {
                    (true, true) => "contains",
                    (true, false) => "startswith",
                    _ => "endswith",
                };
                let other = FieldRef::new(name, FieldScheme::Sigma, span);
                Expr::new(
                    ExprKind::Scalar(Scalar::Call {
                        name: func.to_string(),
                        args: vec![Scalar::Field(f.clone()), Scalar::Field(other)],
                        insensitive: case == Case::Insensitive,
                        span,
                    }),
                    span,
                )
            }
            _ => Expr::new(ExprKind::Const(false), span),
        });
    }
    let mut items = Vec::with_capacity(others.len() + 1);
    if !matched.is_empty() {
        items.push(Expr::new(
            ExprKind::Match(Match {
                field: f.clone(),
                values: matched,
                quantifier,
                case: regex_case.unwrap_or(case),
                kind: MatchKind::Whole,
                array: ArrayMode::Any,
                span,
            }),
            span,
        ));
    }
    items.extend(others);
    match quantifier {
        Quantifier::Any => Expr::or(items, span),
        Quantifier::All => Expr::and(items, span),
    }
}

/// Values without a field: a keyword search over the whole event.
fn keyword_expr(vals: &[YamlNode], mods: &[Modifier], span: Span) -> Result<Expr, Diagnostic> {
    let groups = item_values(vals, mods).map_err(|(at, msg)| misuse(at, msg, mods))?;
    let case = if mods.contains(&Modifier::Cased) {
        Case::Sensitive
    } else {
        Case::Insensitive
    };
    let all = mods.contains(&Modifier::All);
    let keyword = |values: Vec<SVal>, quantifier| -> Result<Expr, Diagnostic> {
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            let v = match v {
                SVal::Num(n) => SVal::Str(vec![crate::ir::Part::Lit(n.text)]),
                v => v,
            };
            match v {
                SVal::Str(_) | SVal::Regex { .. } => out.extend(to_value(v)),
                _ => {
                    return Err(Diagnostic::error(
                        codes::MODIFIER_MISUSE,
                        "a keyword must be a string",
                    )
                    .at(span)
                    .label("keywords search the whole event for text"))
                }
            }
        }
        Ok(Expr::new(
            ExprKind::Keyword(Keyword {
                values: out,
                quantifier,
                case,
                kind: MatchKind::Term,
            }),
            span,
        ))
    };
    if all && groups.iter().any(|g| g.len() > 1) {
        let items = groups
            .into_iter()
            .map(|g| keyword(g, Quantifier::Any))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Expr::and(items, span));
    }
    let q = if all {
        Quantifier::All
    } else {
        Quantifier::Any
    };
    keyword(groups.into_iter().flatten().collect(), q)
}

/// `| count(field) by group > 10` as an aggregate stage and a where stage.
fn aggregation_stages(
    a: &Aggregation,
    text: &YamlScalar,
    timeframe: Option<&YamlNode>,
) -> Vec<Stage> {
    let span = cspan(text, a.start, a.end);
    let field = |(name, s, e): &(String, usize, usize)| {
        FieldRef::new(name.clone(), FieldScheme::Sigma, cspan(text, *s, *e))
    };
    let func = match (a.func.as_str(), &a.field) {
        ("count", Some(_)) => AggFunc::DistinctCount,
        ("count", None) => AggFunc::Count,
        ("min", _) => AggFunc::Min,
        ("max", _) => AggFunc::Max,
        ("avg", _) => AggFunc::Avg,
        _ => AggFunc::Sum,
    };
    let alias = a.func.clone();
    let window = timeframe
        .and_then(YamlNode::as_str)
        .and_then(crate::ir::Duration::parse);
    let agg = Stage {
        kind: StageKind::Aggregate(Aggregate {
            aggs: vec![Agg {
                func,
                arg: a.field.as_ref().map(|f| Scalar::Field(field(f))),
                alias: alias.clone(),
                span,
            }],
            by: a.by.iter().map(field).collect(),
            span: window,
            mode: AggMode::Collapse,
        }),
        span,
    };
    let value = Number::new(&a.value).map(Value::Num).unwrap_or(Value::Null);
    let cmp = Compare {
        left: Scalar::Field(FieldRef::new(alias, FieldScheme::Computed, span)),
        op: a.op,
        right: Scalar::Lit(value, span),
        case: Case::Sensitive,
        span,
    };
    vec![
        agg,
        Stage {
            kind: StageKind::Where(Expr::new(ExprKind::Compare(cmp), span)),
            span,
        },
    ]
}
