//! The ES|QL front-end: `parse` (text → [`ast`]) and `lower` (AST → IR).
//! Grammar and semantics: `grammar/esql.ebnf`.

pub mod ast;
mod cond;
mod expr;
mod extract;
mod lex;
mod lower;
mod parse;
#[cfg(test)]
mod tests;

use super::{Compiled, Input};
use crate::diag::Diagnostic;

pub use parse::parse;

/// Bracket nesting above which parsing runs on a thread with a large stack:
/// a debug build spends about 20 KiB of stack per nesting level, and the
/// nesting allowed (`MAX_DEPTH`) must end in E0205, never in a stack overflow.
const DEEP: usize = 24;
const DEEP_STACK: usize = 64 << 20;

/// Parse and lower one ES|QL query.
pub fn compile(input: &Input) -> Result<Compiled, Vec<Diagnostic>> {
    if lex::rough_nesting(input.text) <= DEEP {
        return compile_here(input);
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(DEEP_STACK)
            .spawn_scoped(scope, || compile_here(input))
            .ok()
            .and_then(|h| h.join().ok())
            .unwrap_or_else(|| compile_here(input))
    })
}

fn compile_here(input: &Input) -> Result<Compiled, Vec<Diagnostic>> {
    let ast = parse(input.text, input.origin).map_err(|d| vec![*d])?;
    let (query, warnings, caveats) = lower::lower(&ast);
    Ok(Compiled {
        query,
        warnings,
        caveats,
    })
}
