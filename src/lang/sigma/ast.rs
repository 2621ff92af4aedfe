//! The Sigma condition AST. Offsets are byte offsets into the condition text;
//! the lowering maps them to file spans through the text's `Origin`.

/// A condition expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    pub kind: CondKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CondKind {
    Or(Vec<Cond>),
    And(Vec<Cond>),
    Not(Box<Cond>),
    /// A search identifier (`selection`).
    Ident(String),
    /// `1 of x*`, `any of them`, `all of selection_*`.
    Of {
        quantifier: OfQuantifier,
        target: OfTarget,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfQuantifier {
    /// `1 of` / `any of`: OR of the matched searches.
    Any,
    /// `all of`: AND of the matched searches.
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfTarget {
    /// Every identifier not starting with `_`.
    Them,
    /// A pattern with `*` wildcards over identifier names.
    Pattern(String),
}

/// A whole condition: the boolean part and the deprecated aggregation
/// (`| count(field) by group > 10`, Sigma 1.x) that may follow it.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub expr: Cond,
    pub aggregation: Option<Aggregation>,
}

/// `| count(field) by group > 10` (Sigma 1.x aggregation expression).
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    /// `count`, `min`, `max`, `avg`, `sum`.
    pub func: String,
    pub field: Option<(String, usize, usize)>,
    pub by: Option<(String, usize, usize)>,
    pub op: crate::ir::CmpOp,
    pub value: String,
    pub start: usize,
    pub end: usize,
}
