//! Splunk security_content detection YAML, in its three schema generations:
//! 2022 (`date`, `tags:` with `confidence`/`impact`/`risk_score`), 2024
//! (`status`, `data_source`, `tests`, `drilldown_searches`) and 2026
//! (`creation_date`/`modification_date`, `rba:` or findings, top-level
//! `analytic_story`, `mitre_attack_id`, ...). See
//! <https://github.com/splunk/security_content> and its `contentctl` schema.
//!
//! The `search` is macro-expanded (definitions from the nearest ancestor
//! folder holding a `macros/` folder, or [`Options::macros_dir`]) and
//! compiled by [`crate::lang::spl`].

mod macros;
mod meta;

pub use macros::{load_macro_dir, macro_table_for};

use super::yaml::{self, YamlNode};
use super::Loaded;
use crate::diag::{codes, Diagnostic};
use crate::ir::{Language, Rule, SourceFormat};
use crate::lang::spl::macros::expand;
use crate::lang::{spl, Input};
use crate::span::{FileId, SourceMap, Span};
use std::path::PathBuf;

/// Loader options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Read macro definitions from this folder instead of searching upwards
    /// from the detection for a `macros/` folder (`--macros DIR`).
    pub macros_dir: Option<PathBuf>,
}

/// A security_content detection: top-level `search:` and `name:` keys.
pub fn looks_like(text: &str) -> bool {
    let mut search = false;
    let mut name = false;
    for l in text.lines() {
        search |= l.starts_with("search:");
        name |= l.starts_with("name:");
        if search && name {
            return true;
        }
    }
    false
}

pub fn load(sm: &SourceMap, file: FileId) -> Loaded {
    load_with(sm, file, &Options::default())
}

pub fn load_with(sm: &SourceMap, file: FileId, opts: &Options) -> Loaded {
    let mut l = Loaded::new(file, SourceFormat::SplunkYaml);
    l.language = Some(Language::Spl);
    let src = sm.get(file);
    let docs = match yaml::parse(file, &src.text) {
        Ok(d) => d,
        Err(d) => {
            l.diags.push(d);
            return l;
        }
    };
    let whole = Span::new(file, 0, src.text.len());
    let Some(doc) = docs.into_iter().find(|d| !d.is_null()) else {
        l.diags.push(
            Diagnostic::error(codes::NOT_A_RULE, "the file holds no YAML document").at(whole),
        );
        return l;
    };
    if doc.as_map().is_none() {
        l.diags.push(
            Diagnostic::error(
                codes::WRONG_TYPE,
                format!("a detection is a mapping, found {}", doc.kind_name()),
            )
            .at(doc.span),
        );
        return l;
    }
    let mut diags = Vec::new();
    l.meta = meta::read(&doc, &mut diags);
    l.meta.span = doc.span;
    l.diags.append(&mut diags);
    let Some(search) = search_node(&doc, &mut l.diags) else {
        return l;
    };
    let Some(scalar) = search.as_scalar() else {
        return l;
    };
    let table = macro_table_for(&src.path, opts);
    let exp = match expand(&scalar.value, &scalar.origin, &table) {
        Ok(e) => e,
        Err(d) => {
            l.diags.push(d);
            return l;
        }
    };
    let input = Input {
        text: &exp.text,
        origin: &exp.origin,
    };
    match spl::compile(&input) {
        Ok(c) => {
            l.diags.extend(c.warnings.into_iter().map(|d| exp.remap(d)));
            l.rule = Some(Rule {
                meta: l.meta.clone(),
                query: Some(c.query),
                caveats: c.caveats,
                span: doc.span,
            });
        }
        Err(ds) => l.diags.extend(ds.into_iter().map(|d| exp.remap(d))),
    }
    l
}

/// The `search` value: present, a string.
fn search_node<'d>(doc: &'d YamlNode, diags: &mut Vec<Diagnostic>) -> Option<&'d YamlNode> {
    let Some(s) = doc.get("search") else {
        diags.push(
            Diagnostic::error(codes::MISSING_KEY, "a detection needs a `search`")
                .at(Span {
                    end: doc.span.start,
                    ..doc.span
                })
                .label("no `search:` key in this document"),
        );
        return None;
    };
    if s.as_str().is_none() {
        diags.push(
            Diagnostic::error(
                codes::WRONG_TYPE,
                format!("`search` must be a string, found {}", s.kind_name()),
            )
            .at(s.span)
            .label("expected the SPL search"),
        );
        return None;
    }
    Some(s)
}
