//! Pipeline stages that run after the filter.

use super::expr::{Expr, FieldRef, Scalar};
use super::value::Duration;
use crate::span::Span;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    pub kind: StageKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    Aggregate(Aggregate),
    /// Compute fields (`eval`, ES|QL `eval`).
    Eval(Vec<Assign>),
    /// Filter rows (`where`, a later `search`).
    Where(Expr),
    /// Rename fields; names may hold `*` wildcards (`rename X.* AS *`).
    Rename(Vec<(String, String)>),
    /// Keep only (`keep`, `table`, `fields`) or drop (`drop`, `fields -`) fields.
    Project {
        fields: Vec<String>,
        drop: bool,
    },
    Sort(Vec<SortKey>),
    /// First (`head`, `limit`) or last (`tail`) `count` rows.
    Limit {
        count: u64,
        from_end: bool,
    },
    /// Keep the first row for each combination of `fields`.
    Dedup {
        fields: Vec<FieldRef>,
        count: u64,
    },
    /// Turn a multi-value field into one row per value.
    MvExpand {
        field: FieldRef,
    },
    /// Fill null/missing fields with a value (`fillnull`).
    FillNull {
        value: String,
        fields: Vec<FieldRef>,
    },
    /// Extract fields from text (`rex`, `dissect`, `grok`, `spath`).
    Extract(Extract),
    /// Bucket a (time) field (`bin _time span=1d`).
    Bin {
        field: FieldRef,
        span: Duration,
        alias: Option<String>,
    },
    /// Join against a lookup table (`lookup`, ES|QL `enrich`).
    Lookup(Lookup),
    Sequence(Sequence),
    Sample(Sample),
    Threshold(Threshold),
    NewTerms(NewTerms),
    /// Combine with the rows of a sub-query (`join`, `append`).
    Join(Join),
    /// A command that has no IR meaning yet: kept by name so back-ends refuse
    /// it by name and nothing is dropped silently.
    Opaque(Opaque),
}

/// An aggregation: `stats`/`tstats` (collapse), `eventstats` (annotate every
/// row), `streamstats` (running), ES|QL `stats`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aggregate {
    pub aggs: Vec<Agg>,
    pub by: Vec<FieldRef>,
    /// Time bucketing of `_time` (`span=1d`).
    pub span: Option<Duration>,
    pub mode: AggMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AggMode {
    /// One row per group.
    Collapse,
    /// Every row kept, aggregates added (`eventstats`).
    Annotate,
    /// Running aggregates in row order (`streamstats`).
    Running,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agg {
    pub func: AggFunc,
    /// The aggregated expression; `None` for `count` of rows.
    pub arg: Option<Scalar>,
    /// The output name (`as x`, or the default name the language gives).
    pub alias: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AggFunc {
    Count,
    DistinctCount,
    Sum,
    Avg,
    Stdev,
    Var,
    Min,
    Max,
    Median,
    Percentile(f64),
    Values,
    List,
    Earliest,
    Latest,
    First,
    Last,
    Mode,
    Range,
    /// Any other aggregate, by its canonical name.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assign {
    pub name: String,
    pub value: Scalar,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SortKey {
    pub key: Scalar,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extract {
    /// `rex`, `dissect`, `grok`, `spath`, `parse`.
    pub method: String,
    pub field: Option<FieldRef>,
    /// The pattern as written (regex, dissect or grok pattern, spath path).
    pub pattern: String,
    /// Names of the fields produced.
    pub outputs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lookup {
    pub table: String,
    pub match_fields: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
}

/// An ordered sequence of events (EQL `sequence`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sequence {
    /// Join keys shared by every step (`sequence by host.id`).
    pub by: Vec<FieldRef>,
    pub maxspan: Option<Duration>,
    pub steps: Vec<SeqStep>,
    /// `until [q]`: a matching event ends the pending sequences.
    pub until: Option<Box<SeqStep>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeqStep {
    /// Event categories of the step (`process where`); empty for `any`.
    pub categories: Vec<String>,
    pub filter: Option<Expr>,
    /// Per-step join keys (`[q] by a`), positionally matched across steps.
    pub by: Vec<FieldRef>,
    /// `with runs=N`: the step repeats N times.
    pub runs: u32,
    /// `![q]`: the step is an event that must *not* occur.
    pub missing: bool,
    pub span: Span,
}

/// Unordered co-occurrence of events sharing keys (EQL `sample`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub by: Vec<FieldRef>,
    pub steps: Vec<SeqStep>,
}

/// Elastic threshold rules: at least `value` events per group of `fields`,
/// and optionally at least `cardinality` distinct values of a field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    pub fields: Vec<FieldRef>,
    pub value: u64,
    pub cardinality: Vec<(FieldRef, u64)>,
}

/// Elastic new_terms rules: alert when a combination of `fields` has not been
/// seen within `history_window` before the rule's window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewTerms {
    pub fields: Vec<FieldRef>,
    pub history_window: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Opaque {
    /// The command or construct, by name (`transaction`, `threat_match`).
    pub name: String,
    /// Its text as written.
    pub text: String,
    pub reason: String,
}

/// Rows of a sub-query combined with the pipeline's rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Join {
    pub kind: JoinKind,
    /// Join keys; empty for `append` (and for a join on every shared field).
    pub fields: Vec<FieldRef>,
    /// Sub-query rows joined per row (`max=N`; 0 = unlimited). SPL's default is 1.
    pub max: u64,
    pub query: Box<super::Query>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinKind {
    /// Only rows with a match (SPL `type=inner`, the default).
    Inner,
    /// Every row, matched ones enriched (SPL `type=outer|left`).
    Left,
    /// The sub-query's rows appended after the pipeline's (SPL `append`).
    Append,
}
