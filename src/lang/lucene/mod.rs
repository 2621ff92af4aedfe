//! The lucene front-end (not yet implemented).

use super::{Compiled, Input};
use crate::diag::{codes, Diagnostic};

pub fn compile(input: &Input) -> Result<Compiled, Vec<Diagnostic>> {
    Err(vec![Diagnostic::error(
        codes::UNSUPPORTED_CONSTRUCT,
        "the lucene parser is not implemented yet",
    )
    .at(input.origin.span(0, input.text.len()))])
}
