//! The SPL front-end: Splunk's search processing language into the IR.
//!
//! | file | role |
//! |---|---|
//! | `macros.rs` | `` `macro(args)` `` expansion with an [`Origin`] back to the call |
//! | `lex.rs` | parser state, whitespace and comments, strings, words |
//! | `parse.rs` | pipelines, subsearches, command dispatch, argument tokens |
//! | `search.rs` | the search language (`NOT` > `OR` > `AND`) |
//! | `eval.rs` | the eval language and aggregate calls |
//! | `stats.rs` | `stats`, `eventstats`, `streamstats`, `tstats` |
//! | `commands.rs` | the other commands, read from argument tokens |
//! | `lower*.rs` | lowering into [`ir::Query`](crate::ir::Query) |
//!
//! The grammar and its semantics are in `grammar/spl.ebnf`.

pub mod ast;
mod commands;
mod eval;
mod lex;
mod lower;
mod lower_expr;
mod lower_stage;
pub mod macros;
mod parse;
mod search;
mod stats;

pub use lower_expr::{like_pattern, search_pattern};

use super::{Compiled, Input};
use crate::diag::{codes, Diagnostic};
use crate::ir::{Language, Opaque, Query, Source, Stage, StageKind};

/// Parse a search into its syntax tree.
pub fn parse(input: &Input) -> Result<ast::Pipeline, Diagnostic> {
    let p = lex::P::new(input.text, input.origin);
    if input.text.trim().is_empty() {
        return Err(Diagnostic::error(codes::EMPTY_QUERY, "the search is empty")
            .at(input.origin.span(0, input.text.len())));
    }
    nesting(input)?;
    p.search(input.text)
}

/// Refuse nesting deeper than [`MAX_DEPTH`](crate::lang::MAX_DEPTH) before
/// the recursive parsers see it: brackets and parentheses outside quoted
/// strings are counted in one pass (E0205 at the first bracket too deep).
fn nesting(input: &Input) -> Result<usize, Diagnostic> {
    let b = input.text.as_bytes();
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut k = 0;
    while k < b.len() {
        match b[k] {
            b'\\' => k += 1,
            b'"' => {
                k += 1;
                while k < b.len() && b[k] != b'"' {
                    if b[k] == b'\\' {
                        k += 1;
                    }
                    k += 1;
                }
            }
            b'[' | b'(' => {
                depth += 1;
                max = max.max(depth);
                if depth > crate::lang::MAX_DEPTH {
                    return Err(crate::lang::common::too_deep(input.origin, k));
                }
            }
            b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        k += 1;
    }
    Ok(max)
}

/// Whether a search is a Splunk Behavioral Analytics (SSA, SPL2) pipeline:
/// `| from read_ssa_enriched_events() ... | into write_ssa_detected_events();`.
pub fn is_ssa(text: &str) -> bool {
    text.contains("read_ssa_enriched_events(") || text.contains("write_ssa_detected_events(")
}

/// Stack for parsing and lowering: [`MAX_DEPTH`](crate::lang::MAX_DEPTH)
/// nested subsearches take about ten recursive frames each.
const STACK: usize = 64 << 20;

/// Parse and lower a search (on a thread with a stack large enough for the
/// deepest nesting the parsers accept).
pub fn compile(input: &Input) -> Result<Compiled, Vec<Diagnostic>> {
    // shallow searches (nearly all) run on the caller's stack
    if nesting(input).is_ok_and(|d| d <= 32) {
        return compile_here(input);
    }
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .name("spl-compile".into())
            .stack_size(STACK)
            .spawn_scoped(s, || compile_here(input))
        {
            Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            Err(_) => compile_here(input),
        }
    })
}

fn compile_here(input: &Input) -> Result<Compiled, Vec<Diagnostic>> {
    let full = input.origin.span(0, input.text.len());
    if is_ssa(input.text) {
        let reason = "a Splunk Behavioral Analytics (SSA) pipeline in SPL2; only SPL is lowered";
        let query = Query {
            language: Language::Spl,
            source: Source {
                span: full,
                ..Source::default()
            },
            filter: None,
            stages: vec![Stage {
                kind: StageKind::Opaque(Opaque {
                    name: "ssa".into(),
                    text: input.text.to_string(),
                    reason: reason.into(),
                }),
                span: full,
            }],
            span: full,
        };
        let w = Diagnostic::warning(
            codes::BEHAVIOURAL_ANALYTICS,
            "a Splunk Behavioral Analytics (SSA) search",
        )
        .at(input.origin.span(0, input.text.trim_end().len().min(40)))
        .label("SPL2 for the SSA pipeline")
        .note("kept as one opaque stage; back-ends refuse it");
        return Ok(Compiled {
            query,
            warnings: vec![w],
            caveats: Vec::new(),
        });
    }
    let tree = parse(input).map_err(|d| vec![d])?;
    let mut l = lower::Lowerer::default();
    let query = l.pipeline(&tree).map_err(|d| vec![d])?;
    Ok(Compiled {
        query,
        warnings: l.warnings,
        caveats: Vec::new(),
    })
}

#[cfg(test)]
mod tests;
