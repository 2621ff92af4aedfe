//! The kuery (Kibana Query Language, KQL) front-end: `parse` builds the tree
//! of Kibana's grammar with spans, `lower` gives it IR meaning. The supported
//! grammar and its semantics are in `grammar/kuery.ebnf`.

pub mod ast;
mod lower;
pub mod parse;
pub(crate) mod value;

#[cfg(test)]
mod tests;

use super::{Compiled, Input};
use crate::diag::Diagnostic;
use crate::ir::{Language, Query, Source};

/// Parse and lower a kuery query.
pub fn compile(input: &Input) -> Result<Compiled, Vec<Diagnostic>> {
    let node = parse::parse(input.text, input.origin).map_err(|d| vec![*d])?;
    let mut lower = lower::Lower::default();
    let filter = lower.node(&node, &[]);
    let span = input.origin.span(0, input.text.len());
    Ok(Compiled {
        query: Query {
            language: Language::Kuery,
            source: Source {
                span,
                ..Source::default()
            },
            filter: Some(filter),
            stages: Vec::new(),
            span,
        },
        warnings: lower.warnings,
        caveats: lower.caveats,
    })
}
