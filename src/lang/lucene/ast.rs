//! The Lucene query_string syntax tree: a flat list of clauses per group, each
//! with the conjunction before it and its modifier, as Lucene's classic
//! parser reads them (their meaning is decided in `lower.rs`).

use crate::ir::Part;
use crate::span::Span;

/// `AND` / `&&`, `OR` / `||` before a clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conj {
    And,
    Or,
}

/// `+` (required) or `-` / `!` / `NOT` (prohibited) before a clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Required,
    Prohibited,
}

/// A group: the whole query or `( ... )`.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub clauses: Vec<Clause>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub conj: Option<Conj>,
    pub modifier: Option<Modifier>,
    /// `field:` before the body; a group body passes it on to its clauses.
    pub field: Option<Name>,
    pub body: Body,
    /// From the modifier (or field) to the end of the body.
    pub span: Span,
}

/// A field name; `*` (escaped or not) is a wildcard of the name.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub parts: Vec<Part>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Group(Group),
    Term(Term),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// A bare term: escapes decoded, unescaped `*` / `?` as wildcard parts.
    Word {
        parts: Vec<Part>,
        /// The decoded text with wildcards as `*` / `?` (for `>=10` and operator-like words).
        text: String,
        span: Span,
    },
    /// `"..."`, escapes decoded.
    Phrase { text: String, span: Span },
    /// `/.../`, the text between the slashes as written.
    Regex { pattern: String, span: Span },
    /// `[lo TO hi]`, `{lo TO hi}` and mixed; `*` is an open end (`None`).
    Range {
        lo: Option<String>,
        hi: Option<String>,
        lo_inclusive: bool,
        hi_inclusive: bool,
        span: Span,
    },
}

impl Term {
    pub fn span(&self) -> Span {
        match self {
            Term::Word { span, .. }
            | Term::Phrase { span, .. }
            | Term::Regex { span, .. }
            | Term::Range { span, .. } => *span,
        }
    }
}
