//! The EQL syntax tree. Every node carries its file [`Span`].

use crate::ir::{ArithOp, CmpOp, Duration, Number};
use crate::span::Span;

/// `query (| pipe)*`
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub query: QueryAst,
    pub pipes: Vec<Pipe>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryAst {
    Event(EventFilter),
    Sequence(SequenceAst),
    Sample(SampleAst),
}

/// `category where condition` (`category` is `None` for `any`).
#[derive(Debug, Clone, PartialEq)]
pub struct EventFilter {
    pub category: Option<Category>,
    pub condition: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub name: String,
    pub span: Span,
}

/// `sequence [by k, ...] [with maxspan=N] term term ... [until term]`
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceAst {
    pub by: Vec<Expr>,
    pub maxspan: Option<(Duration, Span)>,
    pub terms: Vec<Term>,
    pub until: Option<Term>,
    pub span: Span,
}

/// `sample [by k, ...] term term ...`
#[derive(Debug, Clone, PartialEq)]
pub struct SampleAst {
    pub by: Vec<Expr>,
    pub terms: Vec<Term>,
    pub span: Span,
}

/// `[filter] [by k, ...] [with runs=N]`, or `![filter]` for a missing event.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub filter: EventFilter,
    pub by: Vec<Expr>,
    pub runs: Option<(u32, Span)>,
    pub missing: bool,
    pub span: Span,
}

/// `| name arg, ...`
#[derive(Debug, Clone, PartialEq)]
pub struct Pipe {
    pub name: String,
    pub name_span: Span,
    pub args: Vec<Expr>,
    /// The pipe as written (for opaque stages).
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// Pattern operators: `:` (case-insensitive wildcards), `like`, `regex`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternOp {
    Seq,
    Like,
    Regex,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`
    Compare {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `e [not] in[~] (v, ...)`
    In {
        expr: Box<Expr>,
        values: Vec<Expr>,
        negated: bool,
        insensitive: bool,
    },
    /// `e : "p"`, `e like[~] ("p", ...)`, `e regex[~] "r"`
    Pattern {
        expr: Box<Expr>,
        op: PatternOp,
        insensitive: bool,
        values: Vec<Lit>,
    },
    Arith {
        op: ArithOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Neg(Box<Expr>),
    /// A call of a known function; `name` is the canonical lower-case name.
    Call {
        name: &'static str,
        insensitive: bool,
        args: Vec<Expr>,
    },
    Field(Field),
    Lit(Lit),
}

/// `name`, `?name`, `` `a b`.c ``
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Dotted path, back-quotes removed.
    pub name: String,
    pub optional: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lit {
    pub value: LitValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LitValue {
    Str(String),
    Num(Number),
    Bool(bool),
    Null,
}
