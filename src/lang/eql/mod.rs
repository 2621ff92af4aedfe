//! Elastic EQL, as Elasticsearch runs it: lexer ([`lex`]), parser into a
//! spanned AST ([`parse`], [`ast`]) and lowering into the IR ([`lower`]).
//! The supported grammar and its semantics are in `grammar/eql.ebnf`.

// A syntax error ends the parse, so a large `Err` costs nothing on the
// happy path; boxing every diagnostic would only add noise.
#![allow(clippy::result_large_err)]

pub mod ast;
pub mod funcs;
pub mod lex;
pub mod lower;
pub mod parse;
#[cfg(test)]
mod tests;

use super::common::Depth;
use super::{Compiled, Input};
use crate::diag::Diagnostic;

/// Parse `input` into the EQL AST (warnings such as classic-EQL syntax are
/// pushed to `warnings`).
pub fn parse(input: &Input, warnings: &mut Vec<Diagnostic>) -> Result<ast::Statement, Diagnostic> {
    let tokens = lex::lex(input.text, input.origin, warnings)?;
    let depth = Depth::default();
    parse::Parser::new(input.text, input.origin, tokens, &depth).statement()
}

/// Parse and lower an EQL query.
pub fn compile(input: &Input) -> Result<Compiled, Vec<Diagnostic>> {
    let mut warnings = Vec::new();
    let statement = parse(input, &mut warnings).map_err(|d| vec![d])?;
    let mut lowerer = lower::Lowerer::default();
    let query = lowerer.statement(&statement).map_err(|d| vec![d])?;
    warnings.extend(lowerer.warnings);
    Ok(Compiled {
        query,
        warnings,
        caveats: Vec::new(),
    })
}
