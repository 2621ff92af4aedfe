//! Boolean filters and scalar expressions.

use super::value::{Duration, Pattern, Value};
use crate::span::Span;
use serde::Serialize;

/// The naming scheme of a field, so mapping knows which table to consult.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldScheme {
    /// Elastic Common Schema (Elastic rules).
    Ecs,
    /// Splunk Common Information Model, including data-model names (`Processes.process_name`).
    Cim,
    /// Sigma taxonomy (`Image`, `CommandLine`).
    Sigma,
    /// Whatever the events carry; no schema known (Splunk raw sourcetype fields).
    Raw,
    /// A field computed earlier in the pipeline (eval, stats alias, rex group).
    Computed,
}

/// A reference to an event field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FieldRef {
    /// The name as written, with quoting removed (`process.name`).
    pub name: String,
    pub scheme: FieldScheme,
    /// EQL `?field`: a field missing from the mapping is null, not an error.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// Set when the name is a pattern (kuery `process.hash.*: x`, Lucene
    /// `process.\*:x`): the reference stands for every field whose dotted name
    /// matches, and a condition on it holds when it holds for at least one of
    /// them (a `Not` of it: for none). `name` keeps the text as written, for
    /// display only; back-ends must read this pattern, never `*` in `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_pattern: Option<Pattern>,
    pub span: Span,
}

impl FieldRef {
    pub fn new(name: impl Into<String>, scheme: FieldScheme, span: Span) -> FieldRef {
        FieldRef {
            name: name.into(),
            scheme,
            optional: false,
            name_pattern: None,
            span,
        }
    }
    /// A reference to every field whose name matches `pattern` (see `name_pattern`).
    pub fn pattern(pattern: Pattern, scheme: FieldScheme, span: Span) -> FieldRef {
        FieldRef {
            name: pattern.to_wildcard_string(),
            scheme,
            optional: false,
            name_pattern: Some(pattern),
            span,
        }
    }
}

/// Case sensitivity of a string comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    Sensitive,
    Insensitive,
}

/// What a pattern is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The whole field value (keyword semantics).
    Whole,
    /// Any token of the value (analyzed text, Splunk bare terms, Kusto `has`).
    Term,
}

/// How a field holding several values (an array) is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrayMode {
    /// The match holds when any element matches (Elastic, Splunk multivalue, Sigma).
    Any,
    /// Only a scalar value is compared; an array never matches (classic EQL `==`).
    ScalarOnly,
}

/// Whether the values of a [`Match`] are alternatives or all required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantifier {
    /// Any value matches (EQL `in`, a Sigma value list).
    Any,
    /// Every value must match (Sigma `|all`).
    All,
}

/// `field` matches `values` under explicit semantics. A missing field never
/// matches (negations and "missing counts as match" are written with `Not` and
/// `Exists` explicitly by the lowering).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub field: FieldRef,
    pub values: Vec<Value>,
    pub quantifier: Quantifier,
    pub case: Case,
    pub kind: MatchKind,
    pub array: ArrayMode,
    pub span: Span,
}

/// Ordering and equality of scalar expressions (numbers, computed values,
/// field-to-field). String equality of a field with literals is a [`Match`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compare {
    pub left: Scalar,
    pub op: CmpOp,
    pub right: Scalar,
    /// Case sensitivity when both sides turn out to be strings.
    pub case: Case,
    pub span: Span,
}

/// A boolean expression over one event (or one pipeline row).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExprKind {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Match(Match),
    Compare(Compare),
    /// The field is present and not null.
    Exists(FieldRef),
    /// A keyword / free-text search over the whole event (Sigma keyword
    /// lists, kuery and Lucene terms without a field, Splunk bare terms).
    Keyword(Keyword),
    /// A scalar expression used as a condition (function calls such as
    /// `cidrmatch`, `stringContains` with field arguments, `isnull(...)`).
    Scalar(Scalar),
    Const(bool),
    /// The rows a sub-query returns, used as a condition: each row is an AND
    /// of `field = value`, the rows are ORed (SPL `[ search ... ]`).
    Subsearch(Box<super::Query>),
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
    /// AND of `items`, flattening nested ANDs; one item is returned as is.
    pub fn and(mut items: Vec<Expr>, span: Span) -> Expr {
        if items.len() == 1 {
            return items.pop().unwrap();
        }
        let mut flat = Vec::with_capacity(items.len());
        for e in items {
            match e.kind {
                ExprKind::And(inner) => flat.extend(inner),
                kind => flat.push(Expr { kind, span: e.span }),
            }
        }
        Expr::new(ExprKind::And(flat), span)
    }
    /// OR of `items`, flattening nested ORs; one item is returned as is.
    pub fn or(mut items: Vec<Expr>, span: Span) -> Expr {
        if items.len() == 1 {
            return items.pop().unwrap();
        }
        let mut flat = Vec::with_capacity(items.len());
        for e in items {
            match e.kind {
                ExprKind::Or(inner) => flat.extend(inner),
                kind => flat.push(Expr { kind, span: e.span }),
            }
        }
        Expr::new(ExprKind::Or(flat), span)
    }
    pub fn not(inner: Expr, span: Span) -> Expr {
        Expr::new(ExprKind::Not(Box::new(inner)), span)
    }
}

/// A keyword search: the pattern matches the raw event or any string value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Keyword {
    pub values: Vec<Value>,
    pub quantifier: Quantifier,
    pub case: Case,
    pub kind: MatchKind,
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    /// String concatenation (SPL `.`).
    Concat,
}

/// A value-producing expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    Field(FieldRef),
    Lit(Value, Span),
    /// A function call; `name` is the canonical lower-case name in the source
    /// language's function table (`cidrmatch`, `startswith`, `coalesce`).
    /// `insensitive` is EQL's `~` suffix.
    Call {
        name: String,
        args: Vec<Scalar>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        insensitive: bool,
        span: Span,
    },
    Arith {
        op: ArithOp,
        left: Box<Scalar>,
        right: Box<Scalar>,
        span: Span,
    },
    Neg(Box<Scalar>, Span),
    /// A condition used as a value (`eval x = a > 5`, `if(cond, a, b)` arguments).
    Cond(Box<Expr>),
    List(Vec<Scalar>, Span),
    /// A time literal relative to now (`now() - 1d`, `relative_time(now(), "-1d@d")`).
    Duration(Duration, Span),
}

impl Scalar {
    pub fn span(&self) -> Span {
        match self {
            Scalar::Field(f) => f.span,
            Scalar::Lit(_, s) => *s,
            Scalar::Call { span, .. } | Scalar::Arith { span, .. } | Scalar::Neg(_, span) => *span,
            Scalar::Cond(e) => e.span,
            Scalar::List(_, s) | Scalar::Duration(_, s) => *s,
        }
    }
}
