//! The intermediate representation shared by every front-end and back-end.
//!
//! A [`Rule`] is metadata plus a [`Query`]: a [`Source`] (which events), a
//! boolean filter ([`Expr`]) and typed pipeline [`Stage`]s. Matching semantics
//! (case, wildcard vs regex vs term, missing fields, arrays, time windows) are
//! fields here, never left to a printer. Every node has a [`Span`].

pub mod display;
mod expr;
mod meta;
mod stage;
mod value;
pub mod visit;

pub use expr::*;
pub use meta::*;
pub use stage::*;
pub use value::*;

use crate::span::Span;
use serde::Serialize;

/// A rule: metadata and (except for e.g. machine-learning rules) a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub meta: Meta,
    pub query: Option<Query>,
    /// Meaning the front-end had to choose or could not keep exactly
    /// (e.g. Lucene analyzed vs keyword); carried to every back-end.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<Caveat>,
    pub span: Span,
}

/// A named, coded remark about meaning that is not exact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Caveat {
    pub code: String,
    pub message: String,
    pub span: Option<Span>,
}

/// Which events, which of them, and what to do with them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    pub language: Language,
    pub source: Source,
    /// `None` matches every event of the source.
    pub filter: Option<Expr>,
    pub stages: Vec<Stage>,
    pub span: Span,
}

/// The query language a rule was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Eql,
    Kuery,
    Lucene,
    Esql,
    Spl,
    Sigma,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Eql => "eql",
            Language::Kuery => "kuery",
            Language::Lucene => "lucene",
            Language::Esql => "esql",
            Language::Spl => "spl",
            Language::Sigma => "sigma",
        }
    }
}

/// Event selection before the filter: every list is an OR of its items, the
/// lists are ANDed; empty means unconstrained.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Source {
    /// Elastic index patterns, Splunk `index=` values (wildcards allowed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<String>,
    /// EQL event categories (`process where ...`); `any` is left empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Sigma logsource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logsource: Option<LogSource>,
    /// Splunk CIM data model (`Endpoint.Processes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datamodel: Option<DataModel>,
    /// Splunk `sourcetype=` values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sourcetypes: Vec<String>,
    /// Splunk `source=` values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Elastic `event_category_override` / `timestamp_override` and the like.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_field: Option<String>,
    /// Relative time bounds (`earliest=-24h`, Elastic `from = "now-9m"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_range: Option<TimeRange>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LogSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataModel {
    /// `Endpoint`, `Network_Traffic`.
    pub model: String,
    /// `Processes`, `All_Traffic` (the root dataset where none is named).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// `summariesonly=true` and similar options, as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeRange {
    /// As written (`-24h@h`, `now-9m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earliest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
}
