//! The ES|QL syntax tree: a source command and a list of processing commands.
//! Every node carries the file span of its text.

use crate::ir::{ArithOp, CmpOp};
use crate::span::Span;

/// A whole query: `source | command | command ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub source: SourceCmd,
    pub commands: Vec<Command>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceCmd {
    pub kind: SourceKind,
    /// The command name (`FROM`, `ROW`...).
    pub name_span: Span,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    /// `FROM a, b-* [METADATA _id, _index]`; also `TS` (time series).
    From {
        indexes: Vec<Name>,
        metadata: Vec<Name>,
    },
    /// `ROW`, `SHOW`, `EXPLAIN`...: kept by name and text.
    Other { name: String, text: String },
}

/// A processing command.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub kind: CommandKind,
    /// The command name (`WHERE`, `INLINE STATS`...).
    pub name_span: Span,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommandKind {
    Where(Expr),
    Eval(Vec<Field>),
    /// `STATS` / `INLINE STATS aggs BY groups`.
    Stats {
        inline: bool,
        aggs: Vec<AggField>,
        by: Vec<Field>,
    },
    /// `KEEP` (drop = false) or `DROP` (drop = true) name patterns.
    Project {
        names: Vec<Name>,
        drop: bool,
    },
    /// `RENAME old AS new` / `RENAME new = old`, as `(old, new)`.
    Rename(Vec<(Name, Name)>),
    Sort(Vec<Order>),
    Limit(u64),
    MvExpand(Name),
    /// `DISSECT input "pattern" [APPEND_SEPARATOR = "x"]` / `GROK input "pattern"`.
    Extract {
        method: ExtractMethod,
        input: Expr,
        pattern: Str,
    },
    /// `ENRICH policy [ON field] [WITH [new =] field, ...]`.
    Enrich {
        policy: Name,
        on: Option<Name>,
        with: Vec<(Option<Name>, Name)>,
    },
    /// `LOOKUP JOIN index ON field, ...`.
    LookupJoin {
        index: Name,
        on: Vec<Name>,
    },
    /// A documented command without IR meaning yet, kept as written.
    Opaque {
        name: String,
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractMethod {
    Dissect,
    Grok,
}

/// `[name =] expression` in EVAL, STATS and BY.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: Option<Name>,
    pub value: Expr,
    /// The expression as written: ES|QL names an unnamed column after it.
    pub text: String,
    pub span: Span,
}

/// A STATS aggregate with its optional `WHERE` filter.
#[derive(Debug, Clone, PartialEq)]
pub struct AggField {
    pub field: Field,
    pub filter: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub key: Expr,
    pub descending: bool,
    /// `NULLS FIRST` (true) / `NULLS LAST` (false), when written.
    pub nulls_first: Option<bool>,
}

/// A name or name pattern (backquotes removed), an index or a policy name.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// A string literal after escape processing.
#[derive(Debug, Clone, PartialEq)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    /// Integer or decimal, as written.
    Num(String),
    Str(String),
    /// A time span `1 hour`, `7 days`: count, canonical unit, milliseconds
    /// (months and years are calendar units; their milliseconds are nominal).
    Span {
        text: String,
        millis: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Op(CmpOp),
    /// `=~`: case-insensitive equality.
    CiEq,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Lit(Lit),
    Field(String),
    /// `?name`, `?1`, `?`: a query parameter.
    Param(String),
    /// A function call; `name` lower-cased. `count(*)` has `star`.
    Call {
        name: String,
        args: Vec<Expr>,
        star: bool,
    },
    /// `{"key": constant, ...}`: named function options.
    Map(Vec<(Str, Expr)>),
    /// `[1, 2]`, `["a", "b"]`: a multi-valued constant.
    Array(Vec<Expr>),
    Neg(Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Cmp(Cmp, Box<Expr>, Box<Expr>),
    /// `a AND b AND ...` (flat: long chains never nest deeply).
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `LIKE` (wildcards) or `RLIKE` (regex), one pattern or a list.
    Like {
        expr: Box<Expr>,
        patterns: Vec<Str>,
        regex: bool,
        negated: bool,
    },
    /// `field : "query"`: full-text match.
    MatchOp {
        field: Box<Expr>,
        query: Box<Expr>,
    },
    /// `expr::type`.
    Cast(Box<Expr>, String),
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}
