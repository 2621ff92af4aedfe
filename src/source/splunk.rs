//! splunk rule files (not yet implemented).

use super::Loaded;
use crate::diag::{codes, Diagnostic};
use crate::ir::SourceFormat;
use crate::span::{FileId, SourceMap};

/// Whether a YAML text looks like a splunk rule.
pub fn looks_like(_text: &str) -> bool {
    false
}

pub fn load(_sm: &SourceMap, file: FileId) -> Loaded {
    let mut l = Loaded::new(file, SourceFormat::SplunkYaml);
    l.diags.push(Diagnostic::error(
        codes::NOT_A_RULE,
        "Splunk rules are not supported yet",
    ));
    l
}
