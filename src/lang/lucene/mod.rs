//! The Lucene query_string front-end (Elastic rules with `language = "lucene"`):
//! `parse` reads the clauses as Lucene's classic parser does, `lower` gives
//! them IR meaning. Grammar and semantics: `grammar/lucene.ebnf`.

pub mod ast;
mod lower;
pub mod parse;

#[cfg(test)]
mod tests;

use super::{Compiled, Input};
use crate::diag::{codes, Diagnostic};
use crate::ir::Language;
use crate::lang::kuery::value::compiled;

/// Parse and lower a Lucene query_string query.
pub fn compile(input: &Input) -> Result<Compiled, Vec<Diagnostic>> {
    let parser = parse::Parser::new(input.text, input.origin);
    let group = parser.parse().map_err(|d| vec![*d])?;
    let mut lower = lower::Lower::default();
    let filter = lower.group(&group, None).map_err(|d| vec![*d])?;
    let mut warnings = lower.warnings;
    for span in parser.word_operators.into_inner() {
        warnings.push(
            Diagnostic::warning(
                codes::LOWERING_CAVEAT,
                "a lower-case `and` / `or` / `not` is a search term in Lucene",
            )
            .at(span)
            .label("searched for as a term")
            .note("Lucene operators are upper-case: `AND`, `OR`, `NOT`"),
        );
    }
    for span in parser.slops.into_inner() {
        warnings.push(
            Diagnostic::warning(codes::LOWERING_CAVEAT, "the phrase slop `~N` is ignored")
                .at(span)
                .label("matched as the exact phrase")
                .note("fields are taken as keyword fields, where a phrase is one whole value"),
        );
    }
    Ok(compiled(
        Language::Lucene,
        input,
        filter,
        warnings,
        lower.caveats,
    ))
}
