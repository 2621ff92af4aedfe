//! Which table a rule reads: facts about its log source (EQL category,
//! `event.category` / `event.dataset` in the filter, Elastic index patterns,
//! Sigma logsource, Splunk data model or sourcetype) matched against the
//! `sources` rules of the mapping data, in the order of the schema family.

use crate::ir::{Expr, ExprKind, Match, Query, Source, Value};
use crate::mapping::KqlMapping;

/// `(key, value)` facts; keys as in the mapping's `when`.
pub type Facts = Vec<(&'static str, String)>;

fn literal_values(m: &Match) -> Option<Vec<String>> {
    m.values
        .iter()
        .map(|v| match v {
            Value::Str(p) => p.as_literal().map(str::to_string),
            Value::Num(n) => Some(n.text.clone()),
            _ => None,
        })
        .collect()
}

fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::And(items) => items.iter().collect(),
        _ => vec![e],
    }
}

/// Facts from the source and the top-level conjuncts of a filter.
pub fn facts(source: &Source, filter: Option<&Expr>, step_categories: &[String]) -> Facts {
    let mut f: Facts = Vec::new();
    let cats = if step_categories.is_empty() {
        &source.categories
    } else {
        step_categories
    };
    f.extend(cats.iter().map(|c| ("category", c.to_ascii_lowercase())));
    for e in filter.map(conjuncts).unwrap_or_default() {
        if let Some(sel) = selector_facts(e) {
            f.extend(sel);
            continue;
        }
        if let ExprKind::Match(m) = &e.kind {
            let key = match m.field.name.as_str() {
                "event.category" => "category",
                "event.dataset" | "data_stream.dataset" => "dataset",
                _ => {
                    f.extend(raw_value_facts(m));
                    continue;
                }
            };
            if let Some(vals) = literal_values(m) {
                f.extend(vals.into_iter().map(|v| (key, v.to_ascii_lowercase())));
            }
        }
    }
    if let Some(ls) = &source.logsource {
        let mut push = |k: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                f.push((k, v.to_ascii_lowercase()))
            }
        };
        push("sigma_category", &ls.category);
        push("sigma_product", &ls.product);
        push("sigma_service", &ls.service);
    }
    if let Some(dm) = &source.datamodel {
        f.push(("datamodel", dm.model.to_ascii_lowercase()));
        if let Some(ds) = &dm.dataset {
            f.push((
                "datamodel",
                format!("{}.{}", dm.model, ds).to_ascii_lowercase(),
            ));
        }
    }
    f.extend(
        source
            .sourcetypes
            .iter()
            .map(|s| ("sourcetype", s.to_ascii_lowercase())),
    );
    f.extend(
        source
            .sources
            .iter()
            .map(|s| ("source", s.to_ascii_lowercase())),
    );
    // Elastic index patterns name the integration: `logs-endpoint.events.process-*`
    // is a category, `logs-o365.audit-*` a dataset. Used only when the rule
    // says nothing more precise.
    let has = |k: &str, f: &Facts| f.iter().any(|(x, _)| *x == k);
    let (mut cat, mut ds) = (Vec::new(), Vec::new());
    for i in &source.indexes {
        let i = i.to_ascii_lowercase();
        // The pattern itself, for `index` rules (weak: it may list several
        // integrations).
        f.push(("index", i.clone()));
        let Some(rest) = i.strip_prefix("logs-") else {
            continue;
        };
        let name = rest.trim_end_matches('*').trim_end_matches('-');
        if let Some(c) = name.strip_prefix("endpoint.events.") {
            cat.push(("category", c.to_string()));
        } else if !name.is_empty() && !name.contains('*') {
            ds.push(("dataset", name.to_string()));
        }
    }
    if !has("category", &f) && !has("dataset", &f) {
        if cat.len() == 1 {
            f.extend(cat);
        }
        if ds.len() == 1 {
            f.extend(ds);
        }
    }
    // Windows event log channels named by `source=WinEventLog:<channel>`
    // (or `XmlWinEventLog:`, or such a sourcetype).
    let channels: Vec<String> = f
        .iter()
        .filter(|(k, _)| *k == "source" || *k == "sourcetype")
        .filter_map(|(_, v)| {
            v.strip_prefix("wineventlog:")
                .or_else(|| v.strip_prefix("xmlwineventlog:"))
        })
        .map(str::to_string)
        .collect();
    for c in channels {
        if !f.iter().any(|(k, v)| *k == "channel" && *v == c) {
            f.push(("channel", c));
        }
    }
    // The fields the filter reads, for `field_prefix` rules (a table
    // inferred from what the query uses when nothing names the source).
    if let Some(e) = filter {
        let mut names = std::collections::BTreeSet::new();
        crate::ir::visit::expr_fields(e, &mut |fr| {
            names.insert(fr.name.clone());
        });
        f.extend(names.into_iter().map(|n| ("field", n)));
    }
    f
}

/// `kv` facts (`category=kube-audit`) of a top-level raw-field match with
/// literal values: they refine a source named otherwise (a `when` with a
/// `sourcetype` and a `kv`), never name one alone.
fn raw_value_facts(m: &Match) -> Facts {
    if m.field.scheme != crate::ir::FieldScheme::Raw {
        return Vec::new();
    }
    literal_values(m)
        .unwrap_or_default()
        .into_iter()
        .map(|v| ("kv", format!("{}={}", m.field.name, v).to_ascii_lowercase()))
        .collect()
}

/// Fact keys that do not name the kind of events.
const WEAK_FACTS: &[&str] = &["field", "index", "kv"];

/// Splunk source selectors (`sourcetype=`, `source=`, `eventtype=`,
/// `Channel=`, `index=`, and `EventCode=`), alone or ORed, as facts.
const SELECTORS: &[(&str, &str)] = &[
    ("sourcetype", "sourcetype"),
    ("source", "source"),
    ("eventtype", "eventtype"),
    ("Channel", "channel"),
    ("index", "index"),
];

fn selector_facts(e: &Expr) -> Option<Facts> {
    let items: Vec<&Expr> = match &e.kind {
        ExprKind::Or(items) => items.iter().collect(),
        ExprKind::Match(_) => vec![e],
        _ => return None,
    };
    let mut out: Facts = Vec::new();
    for x in items {
        let ExprKind::Match(m) = &x.kind else {
            return None;
        };
        if m.field.scheme != crate::ir::FieldScheme::Raw {
            return None;
        }
        let key = match SELECTORS.iter().find(|(f, _)| *f == m.field.name) {
            Some((_, k)) => *k,
            None if m.field.name == "EventCode" => "event_code",
            None => return None,
        };
        for v in literal_values(m)? {
            out.push((key, v.to_ascii_lowercase()));
        }
    }
    Some(out)
}

/// Whether a conjunct only selects the source (consumed by the table choice).
fn is_selector(e: &Expr) -> bool {
    selector_facts(e).is_some_and(|f| f.iter().all(|(k, _)| *k != "event_code"))
}

/// The profile the facts select for a schema family (`xdr`, `sentinel`,
/// `asim`): `(family, profile, caveat of the choice)`.
///
/// A `when` key `field_prefix` holds when the filter reads a field whose
/// name starts with the value; such rules apply only when no other fact
/// names the kind of events.
pub fn select(
    m: &KqlMapping,
    facts: &Facts,
    schema: &str,
) -> Option<(String, String, Option<String>)> {
    let order = m.map.schemas.get(schema)?;
    let holds = |k: &str, v: &str| match k {
        "field_prefix" => facts
            .iter()
            .any(|(fk, fv)| *fk == "field" && fv.starts_with(v)),
        // `*`: any value of the key.
        _ if v == "*" => facts.iter().any(|(fk, _)| *fk == k),
        _ => facts
            .iter()
            .any(|(fk, fv)| *fk == k && fv.eq_ignore_ascii_case(v)),
    };
    let named = facts.iter().any(|(k, _)| !WEAK_FACTS.contains(k));
    // Several different categories (`process or file`) cannot share one table.
    let cats: std::collections::BTreeSet<&str> = facts
        .iter()
        .filter(|(k, _)| *k == "category")
        .map(|(_, v)| v.as_str())
        .collect();
    for rule in &m.map.sources {
        if !rule.when.iter().all(|(k, v)| holds(k, v)) {
            continue;
        }
        if named && rule.when.keys().all(|k| k == "field_prefix") {
            continue;
        }
        let Some(family) = order.iter().find(|f| rule.targets.contains_key(*f)) else {
            continue;
        };
        let profile = &rule.targets[family];
        if cats.len() > 1 {
            let implied = m
                .map
                .profiles
                .get(profile)
                .and_then(|p| p.implies.get("event.category"));
            let covered = implied.is_some_and(|imp| {
                cats.iter()
                    .all(|c| imp.iter().any(|i| i.eq_ignore_ascii_case(c)))
            });
            if !covered {
                return None;
            }
        }
        return Some((family.clone(), profile.clone(), rule.caveat.clone()));
    }
    None
}

/// The filter a `channel_column` profile adds: the Windows event log
/// channels the rule names (ORed; a trailing `*` is a prefix), or `None`
/// when a channel has a wildcard elsewhere.
pub fn channel_filter(facts: &Facts, column: &str) -> Option<String> {
    let mut parts = Vec::new();
    for (_, c) in facts.iter().filter(|(k, _)| *k == "channel") {
        let part = match c.strip_suffix('*') {
            Some(p) if !p.contains('*') => format!("{column} startswith {}", super::text::lit(p)),
            None if !c.contains('*') => format!("{column} =~ {}", super::text::lit(c)),
            _ => return None,
        };
        parts.push(part);
    }
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(format!("({})", parts.join(" or "))),
    }
}

/// The filter without the top-level conditions the table implies.
pub fn strip_implied(
    filter: Option<&Expr>,
    implies: &std::collections::BTreeMap<String, Vec<String>>,
) -> Option<Expr> {
    let e = filter?;
    let implied_one = |x: &Expr| match &x.kind {
        ExprKind::Match(m) => implies.get(&m.field.name).is_some_and(|ok| {
            literal_values(m).is_some_and(|vals| {
                !vals.is_empty()
                    && vals
                        .iter()
                        .all(|v| ok.iter().any(|o| o.eq_ignore_ascii_case(v)))
            })
        }),
        _ => false,
    };
    // `event.dataset : x or data_stream.dataset : x`: implied when every
    // alternative is.
    let implied = |x: &Expr| match &x.kind {
        ExprKind::Or(items) => items.iter().all(implied_one),
        _ => implied_one(x),
    };
    let kept: Vec<Expr> = conjuncts(e)
        .into_iter()
        .filter(|x| !implied(x) && !is_selector(x))
        .cloned()
        .collect();
    match kept.len() {
        0 => None,
        _ => Some(Expr::and(kept, e.span)),
    }
}

/// The query's default field scheme (for stage field names given as text).
pub fn default_scheme(q: &Query) -> crate::ir::FieldScheme {
    use crate::ir::{FieldScheme, Language};
    match q.language {
        Language::Sigma => FieldScheme::Sigma,
        Language::Spl if q.source.datamodel.is_some() => FieldScheme::Cim,
        Language::Spl => FieldScheme::Raw,
        _ => FieldScheme::Ecs,
    }
}
