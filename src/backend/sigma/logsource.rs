//! Choosing a rule's Sigma logsource from its [`Source`] and the top-level
//! conjuncts of its filter that only say where events come from.

use super::mapping::{Logsource, Part, Tables};
use crate::ir::{Expr, ExprKind, MatchKind, Quantifier, Source, Value};
use crate::span::Span;

/// The chosen logsource, the filter without the conjuncts it states, and
/// the caveats of the choice.
pub struct Chosen {
    pub logsource: Logsource,
    pub filter: Option<Expr>,
    pub caveats: Vec<(&'static str, String, Option<Span>)>,
}

/// The literal string values of a plain top-level `field: v1, v2` conjunct.
fn plain_match(e: &Expr) -> Option<(&str, Vec<&str>)> {
    let ExprKind::Match(m) = &e.kind else {
        return None;
    };
    if m.quantifier != Quantifier::Any
        || m.kind != MatchKind::Whole
        || m.field.name_pattern.is_some()
    {
        return None;
    }
    let vals: Option<Vec<&str>> = m
        .values
        .iter()
        .map(|v| match v {
            Value::Str(p) => p.as_literal(),
            _ => None,
        })
        .collect();
    Some((m.field.name.as_str(), vals?))
}

fn lookup<'t>(table: &'t std::collections::BTreeMap<String, Part>, key: &str) -> Option<&'t Part> {
    table.get(key).or_else(|| {
        table
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Choose the logsource. `categories` overrides the source's EQL categories
/// (a sequence step's own category).
pub fn choose(t: &Tables, source: &Source, categories: &[String], filter: Option<&Expr>) -> Chosen {
    if let Some(l) = &source.logsource {
        // A Sigma rule's own logsource.
        return Chosen {
            logsource: Logsource {
                category: l.category.clone(),
                product: l.product.clone(),
                service: l.service.clone(),
                native_fields: true,
            },
            filter: filter.cloned(),
            caveats: Vec::new(),
        };
    }
    let ls = &t.logsources;
    let conjuncts: Vec<&Expr> = match filter.map(|e| &e.kind) {
        Some(ExprKind::And(items)) => items.iter().collect(),
        Some(_) => filter.into_iter().collect(),
        None => Vec::new(),
    };
    let mut parts: Vec<Part> = Vec::new();
    let mut consumed = vec![false; conjuncts.len()];
    for (i, c) in conjuncts.iter().enumerate() {
        let Some((field, vals)) = plain_match(c) else {
            continue;
        };
        let Some(table) = ls.fields.get(field) else {
            continue;
        };
        let found: Vec<&Part> = vals.iter().filter_map(|v| lookup(table, v)).collect();
        if found.len() == vals.len() && !found.is_empty() && found.iter().all(|p| *p == found[0]) {
            parts.push(found[0].clone());
            consumed[i] = true;
        }
    }
    if let [c] = categories {
        parts.extend(lookup(&ls.eql_categories, c).cloned());
    }
    if let Some(dm) = &source.datamodel {
        let key = match &dm.dataset {
            Some(d) => format!("{}.{d}", dm.model),
            None => dm.model.clone(),
        };
        parts.extend(
            lookup(&ls.datamodels, &key)
                .or_else(|| lookup(&ls.datamodels, &dm.model))
                .cloned(),
        );
    }
    let unanimous = |ps: Vec<&Part>| -> Option<Part> {
        if ps.is_empty() {
            return None;
        }
        let slot = |get: fn(&Part) -> &Option<String>| {
            let vals: Vec<&String> = ps.iter().filter_map(|p| get(p).as_ref()).collect();
            (vals.len() == ps.len() && vals.iter().all(|v| *v == vals[0])).then(|| vals[0].clone())
        };
        let product = slot(|p| &p.product);
        Some(Part {
            category: slot(|p| &p.category),
            service: product.as_ref().and(slot(|p| &p.service)),
            product,
            narrower_unless: ps[0].narrower_unless.clone(),
            native_fields: ps.iter().all(|p| p.native_fields),
        })
    };
    let sts: Vec<&Part> = source
        .sourcetypes
        .iter()
        .filter_map(|s| lookup(&ls.sourcetypes, s))
        .collect();
    if sts.len() == source.sourcetypes.len() {
        parts.extend(unanimous(sts));
    }
    // Indexes: a slot is set when every index that states it agrees.
    let idx: Vec<&Part> = source.indexes.iter().filter_map(|i| t.index(i)).collect();
    for (get, set) in [
        (
            (|p: &Part| p.category.clone()) as fn(&Part) -> Option<String>,
            (|p: &mut Part, v| p.category = v) as fn(&mut Part, Option<String>),
        ),
        (
            |p: &Part| p.product.clone(),
            |p: &mut Part, v| p.product = v,
        ),
    ] {
        let vals: Vec<String> = idx.iter().filter_map(|p| get(p)).collect();
        if !vals.is_empty() && vals.iter().all(|v| *v == vals[0]) {
            let mut part = Part::default();
            set(&mut part, Some(vals[0].clone()));
            if let Some(src) = idx.iter().find(|p| get(p).is_some()) {
                part.narrower_unless = src.narrower_unless.clone();
            }
            parts.push(part);
        }
    }
    if let Some(services) = unanimous(idx.clone()).and_then(|p| p.service.map(|s| (p.product, s))) {
        parts.push(Part {
            product: services.0,
            service: Some(services.1),
            ..Part::default()
        });
    }
    // Merge: the first part that states a slot wins.
    let mut out = Logsource::default();
    let mut narrower = None;
    for p in &parts {
        if out.category.is_none() && p.category.is_some() {
            out.category = p.category.clone();
            narrower = Some(&p.narrower_unless);
        }
        if out.product.is_none() {
            out.product = p.product.clone();
        }
        if out.service.is_none()
            && p.product
                .as_ref()
                .is_some_and(|x| Some(x) == out.product.as_ref())
        {
            out.service = p.service.clone();
        }
        out.native_fields |= p.native_fields;
    }
    let mut caveats = Vec::new();
    // Conjuncts that restate the chosen category.
    if let Some(implied) = out.category.as_ref().and_then(|c| ls.implied.get(c)) {
        for (i, c) in conjuncts.iter().enumerate() {
            if let Some((field, vals)) = plain_match(c) {
                if implied.get(field).is_some_and(|allowed| {
                    vals.iter()
                        .all(|v| allowed.iter().any(|a| a.eq_ignore_ascii_case(v)))
                }) {
                    consumed[i] = true;
                }
            }
        }
    }
    if let Some(nu) = narrower {
        for field in nu.keys() {
            let restricted = conjuncts
                .iter()
                .zip(&consumed)
                .any(|(c, used)| *used && plain_match(c).is_some_and(|(f, _)| f == field));
            if !restricted {
                caveats.push((
                    "sigma-logsource-narrower",
                    format!(
                        "the source holds every {} event, the Sigma category `{}` only some (no `{field}` condition restricts them)",
                        categories.first().map(String::as_str).unwrap_or("such"),
                        out.category.as_deref().unwrap_or("")
                    ),
                    Some(source.span),
                ));
            }
        }
    }
    if out.category.is_none() && out.product.is_none() {
        if let Some((p, s)) = guess(source) {
            caveats.push((
                "sigma-logsource-guessed",
                format!("no logsource mapping for this source; `product: {p}` / `service: {s}` is derived from its name"),
                Some(source.span),
            ));
            out.product = Some(p);
            out.service = Some(s);
        }
    }
    let kept: Vec<Expr> = conjuncts
        .iter()
        .zip(&consumed)
        .filter(|(_, used)| !**used)
        .map(|(c, _)| (*c).clone())
        .collect();
    let filter = match (filter, kept.len()) {
        (None, _) | (_, 0) => None,
        (Some(f), _) if !consumed.iter().any(|c| *c) => Some(f.clone()),
        (Some(f), _) => Some(Expr::and(kept, f.span)),
    };
    Chosen {
        logsource: out,
        filter,
        caveats,
    }
}

/// A product and service derived from an Elastic data stream
/// (`logs-<integration>.<dataset>-*`) or a Splunk sourcetype (`vendor:product`).
fn guess(source: &Source) -> Option<(String, String)> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect::<String>()
            .trim_matches('_')
            .to_string()
    };
    for i in &source.indexes {
        let stem = i.split('*').next().unwrap_or(i);
        if let Some(rest) = stem.strip_prefix("logs-") {
            let rest = rest.trim_end_matches(['-', '.']);
            if let Some((a, b)) = rest.split_once('.') {
                let (a, b) = (clean(a), clean(b.split('-').next().unwrap_or(b)));
                if !a.is_empty() && !b.is_empty() {
                    return Some((a, b));
                }
            }
        }
    }
    for s in &source.sourcetypes {
        if let Some((a, b)) = s.split_once(':') {
            let (a, b) = (clean(a), clean(b));
            if !a.is_empty() && !b.is_empty() {
                return Some((a, b));
            }
        }
    }
    None
}
