//! Query languages: one folder each with `ast.rs`, `parse.rs`, `lower.rs`.
//! Every language exposes `compile(&Input) -> Result<Compiled, Vec<Diagnostic>>`.

pub mod common;
pub mod eql;
pub mod esql;
pub mod kuery;
pub mod lucene;
pub mod sigma;
pub mod spl;

use crate::diag::Diagnostic;
use crate::ir::{Caveat, Language, Query};
use crate::span::Origin;

/// A query's text and where it stands in its file.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub text: &'a str,
    pub origin: &'a Origin,
}

/// A query lowered into the IR, with the warnings and caveats of the way.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub query: Query,
    pub warnings: Vec<Diagnostic>,
    pub caveats: Vec<Caveat>,
}

/// The deepest nesting any parser accepts (parentheses, subsearches,
/// function calls). Deeper input is a diagnostic (E0205), never a stack overflow.
pub const MAX_DEPTH: usize = 200;

/// Parse and lower a query of the given language.
pub fn compile(lang: Language, input: &Input) -> Result<Compiled, Vec<Diagnostic>> {
    match lang {
        Language::Eql => eql::compile(input),
        Language::Kuery => kuery::compile(input),
        Language::Lucene => lucene::compile(input),
        Language::Esql => esql::compile(input),
        Language::Spl | Language::Sigma => Err(vec![Diagnostic::error(
            crate::diag::codes::UNKNOWN_LANGUAGE,
            format!("{} queries are not embedded in this format", lang.as_str()),
        )]),
    }
}
