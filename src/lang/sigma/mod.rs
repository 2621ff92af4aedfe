//! The Sigma front-end: the condition grammar ([`parse`]), value modifiers
//! ([`values`]) and the lowering of a `detection` section ([`lower`]).
//! Files, metadata, correlations and filters are read by `source::sigma`.
//! The grammar and its semantics: `grammar/sigma.ebnf`.

pub mod ast;
pub mod lower;
pub mod parse;
pub mod values;

use super::{Compiled, Input};
use crate::diag::{codes, Diagnostic};
use crate::ir::{Language, Query, Source};
use crate::source::yaml;

/// Compile the `detection` of a Sigma rule given as YAML text. The text is
/// parsed as a file of its own: spans are exact when `input.origin` maps the
/// text verbatim from offset 0 of its file (as for a whole rule file).
pub fn compile(input: &Input) -> Result<Compiled, Vec<Diagnostic>> {
    let docs = yaml::parse(input.origin.file, input.text).map_err(|d| vec![d])?;
    let Some(doc) = docs.first() else {
        return Err(vec![Diagnostic::error(
            codes::EMPTY_QUERY,
            "no YAML document",
        )]);
    };
    let det = doc.get("detection").unwrap_or(doc);
    let low = lower::lower_detection(det, &[])?;
    Ok(Compiled {
        query: Query {
            language: Language::Sigma,
            source: Source {
                logsource: crate::source::sigma::read_logsource(doc),
                span: doc.span,
                ..Source::default()
            },
            filter: Some(low.filter),
            stages: low.stages,
            span: det.span,
        },
        warnings: Vec::new(),
        caveats: Vec::new(),
    })
}
