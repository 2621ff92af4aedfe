//! What a rule becomes: a header comment and the query, or a Sentinel
//! analytics-rule YAML (`--format sentinel-yaml`).

use super::{Built, Options, Output, Status};
use crate::ir::{AttackKind, Rule, Severity};
use crate::mapping::KqlMapping;

/// Text for a `//` comment line: a line break of any kind (CR included,
/// which Kusto also ends a line at) or other control character would end
/// the comment early.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn header(rule: &Rule, b: &Built) -> String {
    let mut h = format!(
        "// {}\n// id: {}\n",
        one_line(&rule.meta.name),
        one_line(&rule.meta.id)
    );
    let lang = rule
        .query
        .as_ref()
        .map(|q| q.language.as_str())
        .unwrap_or("");
    h.push_str(&format!(
        "// converted by siemc from {} ({lang})\n",
        rule.meta.format.as_str()
    ));
    let techniques: Vec<&str> = rule
        .meta
        .attack
        .iter()
        .filter(|a| a.kind != AttackKind::Tactic)
        .map(|a| a.id.as_str())
        .collect();
    if !techniques.is_empty() {
        h.push_str(&format!("// ATT&CK: {}\n", techniques.join(", ")));
    }
    for c in b.caveats.iter().chain(rule.caveats.iter()) {
        h.push_str(&format!(
            "// caveat ({}): {}\n",
            c.code,
            one_line(&c.message)
        ));
    }
    h
}

fn duration_text(s: Option<&String>) -> Option<String> {
    let s = s?.trim();
    let s = s.strip_prefix("now-").unwrap_or(s);
    crate::ir::Duration::parse(s).map(|d| super::text::timespan(&d))
}

fn sentinel_yaml(m: &KqlMapping, rule: &Rule, b: &Built, query: &str) -> String {
    use serde_json::{json, Map, Value};
    let meta = &rule.meta;
    let severity = match meta.severity {
        Some(Severity::Informational) => "Informational",
        Some(Severity::Low) => "Low",
        Some(Severity::High) | Some(Severity::Critical) => "High",
        _ => "Medium",
    };
    let mut connectors: Vec<Value> = Vec::new();
    for t in &b.tables {
        if let Some(c) = m.map.connectors.get(t) {
            connectors.push(json!({"connectorId": c, "dataTypes": [t]}));
        }
    }
    let tactics: Vec<&String> = meta
        .attack
        .iter()
        .filter(|a| a.kind == AttackKind::Tactic)
        .filter_map(|a| m.map.tactics.get(&a.id))
        .collect();
    let techniques: Vec<&str> = meta
        .attack
        .iter()
        .filter(|a| a.kind != AttackKind::Tactic)
        .map(|a| a.id.as_str())
        .collect();
    let freq = duration_text(meta.settings.get("interval")).unwrap_or("5m".into());
    let period = duration_text(meta.settings.get("from")).unwrap_or(freq.clone());
    let mut o = Map::new();
    o.insert("id".into(), json!(meta.id));
    o.insert("name".into(), json!(meta.name));
    o.insert("description".into(), json!(meta.description));
    o.insert("severity".into(), json!(severity));
    o.insert("requiredDataConnectors".into(), Value::Array(connectors));
    o.insert("queryFrequency".into(), json!(freq));
    o.insert("queryPeriod".into(), json!(period));
    o.insert("triggerOperator".into(), json!("gt"));
    o.insert("triggerThreshold".into(), json!(0));
    o.insert("tactics".into(), json!(tactics));
    o.insert("relevantTechniques".into(), json!(techniques));
    o.insert("query".into(), json!(query));
    o.insert("kind".into(), json!("Scheduled"));
    o.insert("version".into(), json!("1.0.0"));
    serde_yaml::to_string(&Value::Object(o)).unwrap_or_default()
}

pub fn render(m: &KqlMapping, rule: &Rule, b: Built, opts: &Options) -> Output {
    let query = format!("{}{}", header(rule, &b), b.query);
    let text = match opts.flavor.as_deref() {
        Some("sentinel-yaml") => sentinel_yaml(m, rule, &b, &query),
        _ => query,
    };
    Output {
        text,
        status: if b.caveats.is_empty() {
            Status::Exact
        } else {
            Status::Approximate
        },
        caveats: b.caveats,
        diagnostics: Vec::new(),
    }
}
