//! File formats: recognise a rule file, read its metadata and embedded
//! queries, and hand each query to its language front-end.

pub mod elastic;
pub mod sigma;
pub mod splunk;
pub mod text;
pub mod yaml;

use crate::diag::Diagnostic;
use crate::ir::{Language, Meta, Rule, SourceFormat};
use crate::span::{FileId, SourceMap};
use std::path::Path;

/// One rule read from a file: its metadata (as far as it could be read), the
/// lowered rule when nothing fatal happened, and every diagnostic on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub file: FileId,
    pub format: SourceFormat,
    pub language: Option<Language>,
    pub meta: Meta,
    pub rule: Option<Rule>,
    pub diags: Vec<Diagnostic>,
}

impl Loaded {
    pub fn new(file: FileId, format: SourceFormat) -> Loaded {
        Loaded {
            file,
            format,
            language: None,
            meta: Meta {
                format,
                ..Meta::default()
            },
            rule: None,
            diags: Vec::new(),
        }
    }
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }
}

/// Recognise a rule file by extension and content. `None`: not a rule file
/// (skipped silently when walking folders).
pub fn detect(path: &Path, text: &str) -> Option<SourceFormat> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "toml" => elastic::looks_like(text).then_some(SourceFormat::ElasticToml),
        "yml" | "yaml" => {
            if splunk::looks_like(text) {
                Some(SourceFormat::SplunkYaml)
            } else if sigma::looks_like(text) {
                Some(SourceFormat::SigmaYaml)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Options of the loaders (today: where Splunk macros come from).
pub use splunk::Options;

/// Load every rule of an already-registered file of a known format.
pub fn load(sm: &SourceMap, file: FileId, format: SourceFormat, opts: &Options) -> Vec<Loaded> {
    match format {
        SourceFormat::ElasticToml => vec![elastic::load(sm, file)],
        SourceFormat::SplunkYaml => vec![splunk::load_with(sm, file, opts)],
        SourceFormat::SigmaYaml => sigma::load(sm, file),
    }
}
