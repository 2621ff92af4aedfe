//! The sigma back-end (not yet implemented).

use super::{Options, Output};
use crate::diag::{codes, Diagnostic};
use crate::ir::Rule;

pub fn convert(rule: &Rule, _opts: &Options) -> Output {
    Output::refused(vec![Diagnostic::error(
        codes::REFUSED,
        "the sigma back-end is not implemented yet",
    )
    .at(rule.span)])
}
