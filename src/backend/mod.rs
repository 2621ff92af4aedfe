//! Back-ends: IR → target. Every back-end shares one contract: a rule comes
//! out `exact`, `approximate` (with named caveats), or is refused
//! (`unsupported`) with a diagnostic that names the construct and points at
//! it. `--strict` (the default) turns approximate into refused.

pub mod kql;
pub mod matcher;
pub mod rust;
pub mod sigma;

use crate::diag::{codes, Diagnostic};
use crate::ir::{Caveat, Rule};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Exact,
    Approximate,
    Unsupported,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Exact => "exact",
            Status::Approximate => "approximate",
            Status::Unsupported => "unsupported",
            Status::Error => "error",
        }
    }
}

/// What a back-end made of one rule.
#[derive(Debug, Clone)]
pub struct Output {
    /// The converted rule (empty when refused).
    pub text: String,
    pub status: Status,
    /// Where the output means less or other than the source, by name.
    pub caveats: Vec<Caveat>,
    /// Refusals (E05xx, E04xx) and notes, with spans into the source rule.
    pub diagnostics: Vec<Diagnostic>,
}

impl Output {
    pub fn refused(diagnostics: Vec<Diagnostic>) -> Output {
        Output {
            text: String::new(),
            status: Status::Unsupported,
            caveats: Vec::new(),
            diagnostics,
        }
    }
}

/// Options every back-end understands.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Emit approximate conversions (with caveats) instead of refusing them.
    pub lenient: bool,
    /// A field/table mapping file that overrides the embedded one.
    pub mapping: Option<PathBuf>,
    /// Kusto: the schema family (`xdr`, `sentinel`, `asim`).
    pub schema: Option<String>,
    /// Output flavour within a target (`sentinel-yaml` for Kusto).
    pub flavor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Sigma,
    Kql,
    Rust,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Sigma => "sigma",
            Target::Kql => "kql",
            Target::Rust => "rust",
        }
    }
}

/// Convert one rule, applying the strict/lenient policy.
pub fn convert(target: Target, rule: &Rule, opts: &Options) -> Output {
    let mut out = match target {
        Target::Sigma => sigma::convert(rule, opts),
        Target::Kql => kql::convert(rule, opts),
        Target::Rust => rust::convert(rule, opts),
    };
    // Caveats the front-end recorded travel with every conversion.
    for c in &rule.caveats {
        if !out.caveats.iter().any(|x| x.code == c.code) {
            out.caveats.push(c.clone());
        }
    }
    if out.status == Status::Exact && !out.caveats.is_empty() {
        out.status = Status::Approximate;
    }
    if out.status == Status::Approximate && !opts.lenient {
        for c in &out.caveats {
            let mut d = Diagnostic::error(
                codes::APPROXIMATE_REFUSED,
                format!("approximate: {}", c.message),
            )
            .note(format!(
                "caveat `{}`; pass --lenient to emit it with the caveat recorded",
                c.code
            ));
            if let Some(sp) = c.span {
                d = d.at(sp);
            }
            out.diagnostics.push(d);
        }
        out.status = Status::Unsupported;
        out.text.clear();
    }
    out
}
