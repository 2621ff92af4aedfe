//! Elastic detection-rules TOML (in progress).

use super::Loaded;
use crate::ir::SourceFormat;
use crate::span::{FileId, SourceMap};

/// A TOML text with a `[rule]` table.
pub fn looks_like(text: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start().starts_with("[rule]") || l.trim_start().starts_with("[rule."))
}

pub fn load(_sm: &SourceMap, file: FileId) -> Loaded {
    Loaded::new(file, SourceFormat::ElasticToml)
}
