//! Detection metadata into [`Meta`]. Unknown keys are W0111 warnings at the key.
//!
//! Severity: security_content has no severity key. It is derived from a risk
//! score: `tags.risk_score` (2022/2024), else `tags.impact × tags.confidence
//! / 100`, else the highest `score` of `rba.risk_objects` or of the 2026
//! `finding` / `intermediate_findings` entities; then Splunk ES's risk bands:
//! ≤ 20 informational, ≤ 40 low, ≤ 60 medium, ≤ 80 high, above critical.

use crate::diag::{codes, Diagnostic};
use crate::ir::{Attack, AttackKind, Meta, Severity, SourceFormat};
use crate::source::yaml::YamlNode;

/// Top-level keys of the three schema generations.
const TOP: &[&str] = &[
    "analytic_story",
    "asset_type",
    "atomic_guid",
    "author",
    "baselines",
    "category",
    "creation_date",
    "cve",
    "data_source",
    "data_sources",
    "datamodel",
    "date",
    "deprecation_info",
    "description",
    "drilldown_searches",
    "enabled_by_default",
    "finding",
    "how_to_implement",
    "id",
    "intermediate_findings",
    "known_false_positives",
    "manual_test",
    "mitre_attack_id",
    "modification_date",
    "name",
    "product",
    "rba",
    "references",
    "search",
    "security_domain",
    "status",
    "tags",
    "tests",
    "type",
    "version",
];

/// Keys under `tags:`.
const TAGS: &[&str] = &[
    "analytic_story",
    "asset_type",
    "atomic_guid",
    "automated_detection_testing",
    "cis20",
    "confidence",
    "context",
    "cve",
    "CVE",
    "dataset",
    "drilldown_search",
    "group",
    "impact",
    "kill_chain_phases",
    "manual_test",
    "message",
    "mitre_attack_id",
    "nist",
    "observable",
    "product",
    "required_fields",
    "research_site_url",
    "risk_score",
    "risk_severity",
    "security_domain",
    "supported_tas",
];

/// Tag-like keys copied into `Meta::tags` as `key:value`.
const TAG_KEYS: &[&str] = &[
    "analytic_story",
    "asset_type",
    "security_domain",
    "category",
    "product",
    "cve",
    "kill_chain_phases",
];

fn unknown_keys(node: &YamlNode, known: &[&str], where_: &str, diags: &mut Vec<Diagnostic>) {
    for (k, _) in node.as_map().unwrap_or(&[]) {
        let name = k.as_str().unwrap_or("");
        if !known.contains(&name) {
            diags.push(
                Diagnostic::warning(
                    codes::UNKNOWN_KEY,
                    format!("unknown key `{name}` in {where_}"),
                )
                .at(k.span)
                .label("not a security_content detection key"),
            );
        }
    }
}

fn text(n: Option<&YamlNode>) -> Option<String> {
    n.and_then(|n| n.as_str()).map(|s| s.trim().to_string())
}

/// `impact`/`confidence`/`risk_score` may be written as numbers or strings.
fn num(n: Option<&YamlNode>) -> Option<f64> {
    n.and_then(|n| n.as_f64().or_else(|| n.as_str()?.trim().parse().ok()))
}

fn max_score(list: Option<&YamlNode>) -> Option<f64> {
    list?
        .as_seq()?
        .iter()
        .filter_map(|o| num(o.get("score")))
        .reduce(f64::max)
}

pub fn severity_of(score: f64) -> Severity {
    match score {
        s if s <= 20.0 => Severity::Informational,
        s if s <= 40.0 => Severity::Low,
        s if s <= 60.0 => Severity::Medium,
        s if s <= 80.0 => Severity::High,
        _ => Severity::Critical,
    }
}

pub fn read(doc: &YamlNode, diags: &mut Vec<Diagnostic>) -> Meta {
    let mut m = Meta {
        format: SourceFormat::SplunkYaml,
        ..Meta::default()
    };
    unknown_keys(doc, TOP, "a detection", diags);
    for key in ["id", "name"] {
        if text(doc.get(key)).is_none() {
            diags.push(
                Diagnostic::error(codes::MISSING_KEY, format!("a detection needs `{key}`"))
                    .at(doc.key_span(key).unwrap_or(crate::span::Span {
                        end: doc.span.start,
                        ..doc.span
                    }))
                    .label(format!("`{key}` is missing or empty")),
            );
        }
    }
    m.id = text(doc.get("id")).unwrap_or_default();
    m.name = text(doc.get("name")).unwrap_or_default();
    m.description = text(doc.get("description")).unwrap_or_default();
    m.authors = text(doc.get("author"))
        .map(|a| {
            a.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    m.status = text(doc.get("status"));
    m.rule_type = text(doc.get("type"));
    m.references = doc
        .get("references")
        .map(|r| r.as_str_list().iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    m.false_positives = text(doc.get("known_false_positives")).into_iter().collect();
    for key in ["data_source", "data_sources", "datamodel"] {
        if let Some(n) = doc.get(key) {
            m.data_sources
                .extend(n.as_str_list().iter().map(|s| s.to_string()));
        }
    }
    m.created = text(doc.get("creation_date"));
    m.modified = text(doc.get("modification_date")).or_else(|| text(doc.get("date")));
    if let Some(v) = text(doc.get("version")) {
        m.settings.insert("version".into(), v);
    }
    let tags = doc.get("tags");
    if let Some(t) = tags {
        if t.as_map().is_some() {
            unknown_keys(t, TAGS, "`tags`", diags);
        }
    }
    // tag-like keys: under `tags` (2022/2024) or at the top (2026)
    let lookup = |key: &str| tags.and_then(|t| t.get(key)).or_else(|| doc.get(key));
    for key in TAG_KEYS {
        if let Some(n) = lookup(key) {
            m.tags
                .extend(n.as_str_list().iter().map(|v| format!("{key}:{v}")));
        }
    }
    if let Some(ids) = lookup("mitre_attack_id") {
        for id in ids.as_str_list() {
            let id = id.trim().to_string();
            let kind = if id.starts_with("TA") {
                AttackKind::Tactic
            } else if id.contains('.') {
                AttackKind::Subtechnique
            } else {
                AttackKind::Technique
            };
            m.attack.push(Attack {
                kind,
                id,
                name: String::new(),
            });
        }
    }
    let t = |k: &str| tags.and_then(|t| t.get(k));
    let score = num(t("risk_score"))
        .or_else(|| Some(num(t("impact"))? * num(t("confidence"))? / 100.0))
        .or_else(|| max_score(doc.get("rba").and_then(|r| r.get("risk_objects"))))
        .or_else(|| {
            ["finding", "intermediate_findings"]
                .iter()
                .filter_map(|k| max_score(doc.get(k).and_then(|f| f.get("entities"))))
                .reduce(f64::max)
        });
    m.risk_score = score;
    m.severity = score.map(severity_of);
    m
}
