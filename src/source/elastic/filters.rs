//! Kibana filters (`[[rule.filters]]`): Elasticsearch query DSL clauses ANDed
//! with the rule's query, each negated when `meta.negate` is true and left out
//! (with a note) when `meta.disabled` is. Supported clauses: `exists`, `term`,
//! `terms`, `wildcard`, `prefix`, `match`, `match_phrase`, `range`, `bool`.
//! See <https://www.elastic.co/guide/en/elasticsearch/reference/current/query-dsl.html>.

use super::Ctx;
use crate::diag::{codes, Diagnostic};
use crate::ir::{
    Case, CmpOp, Compare, Expr, ExprKind, FieldRef, FieldScheme, Match, Number, Part, Pattern,
    Scalar, Value,
};
use crate::span::Span;
use serde_json::Value as J;
use toml_edit::{Item, TableLike};

pub fn read(cx: &mut Ctx, rule: &dyn TableLike) -> Option<Expr> {
    let item = rule.get("filters")?;
    let sp = cx.item_span(item);
    let Some(arr) = item.as_array_of_tables() else {
        cx.wrong_type("filters", "an array of tables (`[[rule.filters]]`)", sp);
        return None;
    };
    let mut parts = Vec::new();
    for t in arr.iter() {
        let fsp = t
            .span()
            .map(|r| Span::new(cx.file, r.start, r.end))
            .unwrap_or(sp);
        let j = table_to_json(t);
        let meta = j.get("meta");
        if meta.and_then(|m| m.get("disabled")).and_then(J::as_bool) == Some(true) {
            cx.diags.push(
                Diagnostic::warning(
                    codes::LOWERING_CAVEAT,
                    "a disabled filter has no effect and is left out",
                )
                .at(fsp),
            );
            continue;
        }
        let negate = meta.and_then(|m| m.get("negate")).and_then(J::as_bool) == Some(true);
        let clause = j.get("query").unwrap_or(&j);
        match clause_expr(clause, fsp, 0) {
            Ok(e) => parts.push(if negate { Expr::not(e, fsp) } else { e }),
            Err(msg) => cx.diags.push(
                Diagnostic::error(
                    codes::UNSUPPORTED_CONSTRUCT,
                    format!("unsupported Kibana filter: {msg}"),
                )
                .at(fsp)
                .label("this filter"),
            ),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(Expr::and(parts, sp))
}

fn table_to_json(t: &toml_edit::Table) -> J {
    J::Object(
        t.iter()
            .map(|(k, v)| (k.to_string(), item_to_json(v)))
            .collect(),
    )
}

fn item_to_json(i: &Item) -> J {
    match i {
        Item::None => J::Null,
        Item::Value(v) => value_to_json(v),
        Item::Table(t) => table_to_json(t),
        Item::ArrayOfTables(a) => J::Array(a.iter().map(table_to_json).collect()),
    }
}

fn value_to_json(v: &toml_edit::Value) -> J {
    use toml_edit::Value as V;
    match v {
        V::String(s) => J::String(s.value().clone()),
        V::Integer(i) => J::from(*i.value()),
        V::Float(f) => J::from(*f.value()),
        V::Boolean(b) => J::Bool(*b.value()),
        V::Datetime(d) => J::String(d.value().to_string()),
        V::Array(a) => J::Array(a.iter().map(value_to_json).collect()),
        V::InlineTable(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), value_to_json(v)))
                .collect(),
        ),
    }
}

fn field(name: &str, sp: Span) -> FieldRef {
    FieldRef::new(name, FieldScheme::Ecs, sp)
}

fn matcher(name: &str, values: Vec<Value>, case: Case, sp: Span) -> Expr {
    Match::any_of(field(name, sp), values, case, sp).into_expr()
}

fn json_value(v: &J) -> Result<Value, String> {
    Ok(match v {
        J::String(s) => Value::Str(Pattern::literal(s.clone())),
        J::Number(n) => Value::Num(Number::new(&n.to_string()).ok_or("bad number")?),
        J::Bool(b) => Value::Bool(*b),
        other => return Err(format!("value `{other}` is not a scalar")),
    })
}

/// The single `{field: spec}` entry of a leaf clause.
fn single(body: &J) -> Result<(&str, &J), String> {
    match body.as_object() {
        Some(o) if o.len() == 1 => Ok(o
            .iter()
            .next()
            .map(|(k, v)| (k.as_str(), v))
            .ok_or("empty clause")?),
        _ => Err("expected one field in the clause".into()),
    }
}

fn clause_expr(j: &J, sp: Span, depth: usize) -> Result<Expr, String> {
    if depth > 64 {
        return Err("bool queries nested too deeply".into());
    }
    let obj = j.as_object().ok_or("a filter clause must be a table")?;
    let (kind, body) = obj
        .iter()
        .find(|(k, _)| *k != "meta" && *k != "$state")
        .ok_or("the filter has no query clause")?;
    match kind.as_str() {
        "exists" => {
            let f = body
                .get("field")
                .and_then(J::as_str)
                .ok_or("`exists` needs `field`")?;
            Ok(Expr::new(ExprKind::Exists(field(f, sp)), sp))
        }
        "term" | "match_phrase" | "match" | "wildcard" | "prefix" => {
            let (f, spec) = single(body)?;
            let (value, ci) = match spec {
                J::Object(o) => (
                    o.get("value")
                        .or_else(|| o.get("query"))
                        .ok_or("missing `value`")?
                        .clone(),
                    o.get("case_insensitive")
                        .and_then(J::as_bool)
                        .unwrap_or(false),
                ),
                v => (v.clone(), false),
            };
            let case = if ci {
                Case::Insensitive
            } else {
                Case::Sensitive
            };
            let v = match (kind.as_str(), &value) {
                ("wildcard", J::String(s)) => Value::Str(Pattern::parse_wildcards(s, true)),
                ("prefix", J::String(s)) => {
                    Value::Str(Pattern::from_parts([Part::Lit(s.clone()), Part::AnyRun]))
                }
                _ => json_value(&value)?,
            };
            // `match`/`match_phrase` are analyzed on text fields and exact on
            // keyword fields (the usual ECS case): read as keyword.
            Ok(matcher(f, vec![v], case, sp))
        }
        "terms" => {
            let (f, list) = single(body)?;
            let values = list
                .as_array()
                .ok_or("`terms` needs a list")?
                .iter()
                .map(json_value)
                .collect::<Result<_, _>>()?;
            Ok(matcher(f, values, Case::Sensitive, sp))
        }
        "range" => {
            let (f, spec) = single(body)?;
            let o = spec.as_object().ok_or("`range` needs bounds")?;
            let mut parts = Vec::new();
            for (k, v) in o {
                let op = match k.as_str() {
                    "gt" => CmpOp::Gt,
                    "gte" => CmpOp::Ge,
                    "lt" => CmpOp::Lt,
                    "lte" => CmpOp::Le,
                    "format" | "time_zone" => continue,
                    other => return Err(format!("unknown range bound `{other}`")),
                };
                parts.push(Expr::new(
                    ExprKind::Compare(Compare {
                        left: Scalar::Field(field(f, sp)),
                        op,
                        right: Scalar::Lit(json_value(v)?, sp),
                        case: Case::Sensitive,
                        span: sp,
                    }),
                    sp,
                ));
            }
            Ok(Expr::and(parts, sp))
        }
        "bool" => {
            let mut all = Vec::new();
            let list = |k: &str| -> Vec<&J> {
                match body.get(k) {
                    Some(J::Array(a)) => a.iter().collect(),
                    Some(v) => vec![v],
                    None => vec![],
                }
            };
            for c in list("must").into_iter().chain(list("filter")) {
                all.push(clause_expr(c, sp, depth + 1)?);
            }
            for c in list("must_not") {
                all.push(Expr::not(clause_expr(c, sp, depth + 1)?, sp));
            }
            let should: Vec<Expr> = list("should")
                .into_iter()
                .map(|c| clause_expr(c, sp, depth + 1))
                .collect::<Result<_, _>>()?;
            if !should.is_empty() {
                all.push(Expr::or(should, sp));
            }
            if all.is_empty() {
                return Ok(Expr::new(ExprKind::Const(true), sp));
            }
            Ok(Expr::and(all, sp))
        }
        other => Err(format!("`{other}` clauses are not supported")),
    }
}
