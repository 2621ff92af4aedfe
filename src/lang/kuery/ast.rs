//! The kuery syntax tree, as Kibana's grammar builds it (before any meaning
//! is given to values). Every node carries its file [`Span`].

use crate::ir::Part;
use crate::span::Span;

/// A literal: a field name or a value, quoted or not.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    /// Escapes decoded; an unquoted `*` is [`Part::AnyRun`], everything else is
    /// [`Part::Lit`] (a quoted literal is one `Lit`, `*` included).
    pub parts: Vec<Part>,
    pub quoted: bool,
    pub span: Span,
}

impl Literal {
    /// The text when it holds no wildcard.
    pub fn text(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => s.push_str(l),
                _ => return None,
            }
        }
        Some(s)
    }
    /// A lone unquoted `*`.
    pub fn is_star(&self) -> bool {
        self.parts == [Part::AnyRun]
    }
}

/// `<`, `<=`, `>`, `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    Lt,
    Le,
    Gt,
    Ge,
}

/// A query (`OrQuery` and below).
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Or(Vec<Node>, Span),
    And(Vec<Node>, Span),
    Not(Box<Node>, Span),
    /// `field: values`.
    Field {
        field: Literal,
        values: Values,
        span: Span,
    },
    /// `field < value` and friends.
    Range {
        field: Literal,
        op: RangeOp,
        value: Literal,
        span: Span,
    },
    /// `path: { query }`.
    Nested {
        path: Literal,
        query: Box<Node>,
        span: Span,
    },
    /// A value without a field: free text.
    Free(Literal),
}

/// The right side of `field:` — one value or a parenthesised boolean list.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Or(Vec<Values>, Span),
    And(Vec<Values>, Span),
    Not(Box<Values>, Span),
    One(Literal),
}

impl Node {
    pub fn span(&self) -> Span {
        match self {
            Node::Or(_, s) | Node::And(_, s) | Node::Not(_, s) => *s,
            Node::Field { span, .. } | Node::Range { span, .. } | Node::Nested { span, .. } => {
                *span
            }
            Node::Free(l) => l.span,
        }
    }
}

impl Values {
    pub fn span(&self) -> Span {
        match self {
            Values::Or(_, s) | Values::And(_, s) | Values::Not(_, s) => *s,
            Values::One(l) => l.span,
        }
    }
}
