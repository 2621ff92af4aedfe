//! `[metadata]` and the descriptive keys of `[rule]` into [`Meta`].

use super::{missing, Ctx};
use crate::diag::{codes, Diagnostic};
use crate::ir::{Attack, AttackKind, Meta, Severity, SourceFormat};
use crate::span::Span;
use toml_edit::{Item, TableLike};

pub fn read(
    cx: &mut Ctx,
    rule: &dyn TableLike,
    metadata: Option<&dyn TableLike>,
    rule_span: Span,
) -> Meta {
    let mut m = Meta {
        format: SourceFormat::ElasticToml,
        span: rule_span,
        ..Meta::default()
    };
    let file = cx.file;
    for key in ["name", "rule_id", "severity", "risk_score", "type"] {
        if rule.get(key).is_none() {
            cx.diags.push(missing(file, key, Some(rule_span)));
        }
    }
    m.name = cx.str(rule, "name").map(|s| s.0).unwrap_or_default();
    m.id = cx.str(rule, "rule_id").map(|s| s.0).unwrap_or_default();
    m.description = cx.str(rule, "description").map(|s| s.0).unwrap_or_default();
    m.authors = cx.str_list(rule, "author");
    if let Some((s, sp)) = cx.str(rule, "severity") {
        m.severity = Severity::parse(&s);
        if m.severity.is_none() {
            cx.diags.push(
                Diagnostic::error(codes::BAD_VALUE, format!("unknown severity `{s}`"))
                    .at(sp)
                    .label("expected low, medium, high or critical"),
            );
        }
    }
    if let Some(item) = rule.get("risk_score") {
        match item
            .as_integer()
            .map(|i| i as f64)
            .or_else(|| item.as_float())
        {
            Some(v) if (0.0..=100.0).contains(&v) => m.risk_score = Some(v),
            _ => {
                let sp = cx.item_span(item);
                cx.wrong_type("risk_score", "a number from 0 to 100", sp);
            }
        }
    }
    m.rule_type = cx.str(rule, "type").map(|s| s.0);
    m.tags = cx.str_list(rule, "tags");
    m.references = cx.str_list(rule, "references");
    m.false_positives = cx.str_list(rule, "false_positives");
    m.license = cx.str(rule, "license").map(|s| s.0);
    m.data_sources = m
        .tags
        .iter()
        .filter_map(|t| t.strip_prefix("Data Source: "))
        .map(str::to_string)
        .collect();
    if let Some(md) = metadata {
        m.status = cx.str(md, "maturity").map(|s| s.0);
        m.created = cx.str(md, "creation_date").map(|s| s.0);
        m.modified = cx.str(md, "updated_date").map(|s| s.0);
        if let Some(integ) = md.get("integration") {
            let _ = integ;
            let list = cx.str_list(md, "integration");
            if !list.is_empty() {
                m.settings.insert("integration".into(), list.join(","));
            }
        }
    }
    for key in [
        "from",
        "interval",
        "max_signals",
        "timestamp_override",
        "tiebreaker_field",
        "building_block_type",
        "to",
        "anomaly_threshold",
        "machine_learning_job_id",
    ] {
        if let Some(item) = rule.get(key) {
            let v = match item.as_value() {
                Some(toml_edit::Value::String(s)) => s.value().to_string(),
                Some(v) => v.to_string().trim().to_string(),
                None => continue,
            };
            m.settings.insert(key.to_string(), v);
        }
    }
    m.attack = read_threat(cx, rule);
    m
}

/// `[[rule.threat]]`: tactic, techniques and sub-techniques.
fn read_threat(cx: &mut Ctx, rule: &dyn TableLike) -> Vec<Attack> {
    let mut out = Vec::new();
    let Some(item) = rule.get("threat") else {
        return out;
    };
    let Some(threats) = item.as_array_of_tables() else {
        let sp = cx.item_span(item);
        cx.wrong_type("threat", "an array of tables (`[[rule.threat]]`)", sp);
        return out;
    };
    let push = |out: &mut Vec<Attack>, kind, t: &dyn TableLike| {
        let id = t
            .get("id")
            .and_then(Item::as_str)
            .unwrap_or_default()
            .to_string();
        let name = t
            .get("name")
            .and_then(Item::as_str)
            .unwrap_or_default()
            .to_string();
        if !id.is_empty() && !out.iter().any(|a: &Attack| a.id == id) {
            out.push(Attack { kind, id, name });
        }
    };
    for t in threats.iter() {
        if let Some(tac) = t.get("tactic").and_then(Item::as_table_like) {
            push(&mut out, AttackKind::Tactic, tac);
        }
        for tech in t
            .get("technique")
            .and_then(Item::as_array_of_tables)
            .into_iter()
            .flat_map(|a| a.iter())
        {
            push(&mut out, AttackKind::Technique, tech);
            for sub in tech
                .get("subtechnique")
                .and_then(Item::as_array_of_tables)
                .into_iter()
                .flat_map(|a| a.iter())
            {
                push(&mut out, AttackKind::Subtechnique, sub);
            }
        }
    }
    out
}
