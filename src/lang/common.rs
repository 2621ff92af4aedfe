//! Helpers shared by the nom parsers: offsets, depth guards, error shaping.

use super::MAX_DEPTH;
use crate::diag::{codes, Code, Diagnostic};
use crate::span::{Origin, Span};
use std::cell::Cell;

/// Byte offset of `rest` inside `full` (`rest` must be a suffix of `full`).
pub fn offset(full: &str, rest: &str) -> usize {
    full.len() - rest.len()
}

/// Counts nesting while a recursive-descent parser runs; `enter` fails past
/// [`MAX_DEPTH`], so absurd input becomes E0205 instead of a stack overflow.
#[derive(Debug, Default)]
pub struct Depth(Cell<usize>);

impl Depth {
    pub fn enter(&self) -> Option<DepthGuard<'_>> {
        let d = self.0.get() + 1;
        if d > MAX_DEPTH {
            return None;
        }
        self.0.set(d);
        Some(DepthGuard(&self.0))
    }
}

pub struct DepthGuard<'a>(&'a Cell<usize>);

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// A syntax error at text offsets `[start, end)` of an embedded query.
pub fn error_at(
    origin: &Origin,
    start: usize,
    end: usize,
    code: Code,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(code, message).at(origin.span(start, end))
}

/// The E0205 diagnostic.
pub fn too_deep(origin: &Origin, at: usize) -> Diagnostic {
    error_at(
        origin,
        at,
        at + 1,
        codes::TOO_DEEP,
        format!("the query nests more than {MAX_DEPTH} levels deep"),
    )
    .label("too deep here")
}

/// A span for text offsets of an embedded query.
pub fn span(origin: &Origin, start: usize, end: usize) -> Span {
    origin.span(start, end)
}

/// What the next bit of input looks like, for "expected X, found Y" messages.
pub fn describe_next(rest: &str) -> String {
    let t = rest.trim_start();
    match t.chars().next() {
        None => "end of query".to_string(),
        Some(c) if c.is_alphanumeric() || c == '_' => {
            let w: String = t
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
                .take(30)
                .collect();
            format!("`{w}`")
        }
        Some(c) => format!("`{c}`"),
    }
}
