//! Rule metadata, common to every format.

use crate::span::Span;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Meta {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    pub severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_score: Option<f64>,
    /// Maturity (Elastic), status (Splunk, Sigma), as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The platform's rule type (`eql`, `threshold`, `TTP`, `correlation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub false_positives: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attack: Vec<Attack>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_sources: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Rules this one relates to (Sigma `related`: derived, obsolete, merged,
    /// renamed, similar).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    /// Fields worth showing an analyst (Sigma `fields`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// A unique handle other rules refer to the rule by (Sigma `name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// For a filter document (Sigma `filter:`): the rules, by id or name, the
    /// filter is applied to (AND NOT) once every rule of a run is loaded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub applies_to: Vec<String>,
    pub format: SourceFormat,
    /// Schedule and other platform settings that carry meaning for a
    /// conversion (`from`, `interval`, `max_signals`), as written.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" => Severity::Informational,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// A related rule: its id and how it relates (`derived`, `obsolete`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    pub id: String,
    pub kind: String,
}

/// One MITRE ATT&CK reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attack {
    pub kind: AttackKind,
    /// `TA0009`, `T1114`, `T1114.002`; tactics may be known by name only.
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttackKind {
    Tactic,
    Technique,
    Subtechnique,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    #[default]
    ElasticToml,
    SplunkYaml,
    SigmaYaml,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::ElasticToml => "elastic",
            SourceFormat::SplunkYaml => "splunk",
            SourceFormat::SigmaYaml => "sigma",
        }
    }
}
