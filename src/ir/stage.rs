//! Pipeline stages that run after the filter.

use super::expr::{CmpOp, Expr, FieldRef, Scalar};
use super::value::{Duration, Number};
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
    /// A Sigma correlation over the matches of other rules.
    Correlation(Correlation),
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

/// A Sigma correlation rule: the matches of other rules, grouped by fields
/// within a sliding time window, counted, aggregated or ordered. A rule whose
/// query holds this stage has no filter of its own (`Query::filter` is `None`,
/// `Query::source` empty): its events are those of the correlated rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Correlation {
    pub kind: CorrelationKind,
    /// The correlated rules, in the order written (the order of
    /// `temporal_ordered`).
    pub rules: Vec<RuleRef>,
    /// Events are correlated per combination of these fields (or aliases).
    pub group_by: Vec<FieldRef>,
    /// The sliding window all correlated events must fall into.
    pub timespan: Duration,
    /// Bounds on the count / aggregate; all must hold (`gt: 10, lte: 20` is a range).
    /// Empty for `temporal` without a condition: every rule must match.
    pub condition: Vec<(CmpOp, Number)>,
    /// The field counted or aggregated (`value_count`, `value_sum`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldRef>,
    /// Field name aliases: a `group_by` name standing for a different field
    /// in the events of each rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<FieldAlias>,
    /// Whether the correlated rules also stand alone as rules (`generate: true`).
    pub generate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationKind {
    /// Number of events.
    EventCount,
    /// Number of distinct values of `fields`.
    ValueCount,
    /// Number of distinct rules that matched (all of them, without a condition).
    Temporal,
    /// Like `Temporal`, and the rules matched in the order written.
    TemporalOrdered,
    /// Sum of a numeric field.
    ValueSum,
    /// Average of a numeric field.
    ValueAvg,
    /// The given percentile of a numeric field.
    ValuePercentile(u32),
    /// Median of a numeric field.
    ValueMedian,
}

impl CorrelationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CorrelationKind::EventCount => "event_count",
            CorrelationKind::ValueCount => "value_count",
            CorrelationKind::Temporal => "temporal",
            CorrelationKind::TemporalOrdered => "temporal_ordered",
            CorrelationKind::ValueSum => "value_sum",
            CorrelationKind::ValueAvg => "value_avg",
            CorrelationKind::ValuePercentile(_) => "value_percentile",
            CorrelationKind::ValueMedian => "value_median",
        }
    }
}

/// A reference from one rule to another, by id or by name as written, and
/// the rule it resolved to once every rule of the run is known.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleRef {
    pub reference: String,
    /// The referenced rule (its metadata and query); `None` while unresolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<Box<super::Rule>>,
    pub span: Span,
}

/// One correlation alias: `alias` is the field `mapping[rule]` in the events
/// of each referenced rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldAlias {
    pub alias: String,
    /// `(rule reference as written, field name in that rule's events)`.
    pub mapping: Vec<(String, FieldRef)>,
    pub span: Span,
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
