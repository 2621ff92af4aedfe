//! Sigma rule files: detection rules, correlation rules and filters, one per
//! YAML document (Sigma 1.x `action: global` collections are merged first).
//!
//! References between documents (a correlation's `rules`, a filter's
//! `rules`) are resolved within a file by [`load`]; across the files of a
//! run by [`resolve`], called once after every file is loaded.

mod correlation;
mod meta;

pub use correlation::resolve;
pub use meta::{attack_of_tag, read_logsource, read_meta};

use super::yaml::{self, YamlKind, YamlNode};
use super::Loaded;
use crate::diag::{codes, Diagnostic};
use crate::ir::{Language, Query, Rule, Source, SourceFormat};
use crate::lang::sigma::lower::lower_detection;
use crate::span::{FileId, SourceMap, Span};

/// Whether a YAML text looks like a Sigma rule, correlation or filter: a
/// top-level `detection:` with a `condition`, a `correlation:`, or a
/// `filter:` with `rules`/`logsource`.
pub fn looks_like(text: &str) -> bool {
    let top = |key: &str| {
        text.lines().any(|l| {
            l.strip_prefix(key).is_some_and(|r| {
                r.trim_start().is_empty() || r.starts_with([' ', '\t']) || r.starts_with('#')
            })
        })
    };
    (top("detection:") && text.contains("condition"))
        || top("correlation:")
        || (top("filter:") && (text.contains("rules:") || top("logsource:")))
}

/// Load every document of a Sigma file.
pub fn load(sm: &SourceMap, file: FileId) -> Vec<Loaded> {
    let text = &sm.get(file).text;
    let docs = match yaml::parse(file, text) {
        Ok(d) => d,
        Err(d) => {
            let mut l = Loaded::new(file, SourceFormat::SigmaYaml);
            l.diags.push(d);
            return vec![l];
        }
    };
    let mut out = Vec::new();
    let mut global: Option<YamlNode> = None;
    let mut previous: Option<YamlNode> = None;
    for doc in docs {
        if doc.is_null() {
            continue;
        }
        let action = doc.get("action").and_then(YamlNode::as_str);
        let doc = match action {
            Some("global") => {
                global = Some(doc);
                continue;
            }
            Some("reset") => {
                global = None;
                continue;
            }
            Some("repeat") => match &previous {
                Some(p) => merge(p, &doc),
                None => doc,
            },
            _ => match &global {
                Some(g) => merge(g, &doc),
                None => doc,
            },
        };
        out.push(load_doc(file, &doc));
        previous = Some(doc);
    }
    if out.is_empty() {
        let mut l = Loaded::new(file, SourceFormat::SigmaYaml);
        l.diags.push(Diagnostic::error(
            codes::NOT_A_RULE,
            "the file holds no Sigma rule",
        ));
        out.push(l);
    }
    correlation::resolve_local(&mut out);
    out
}

/// `base` with `over` laid on top; mappings merge key by key (Sigma 1.x
/// collections).
fn merge(base: &YamlNode, over: &YamlNode) -> YamlNode {
    match (&base.kind, &over.kind) {
        (YamlKind::Map(b), YamlKind::Map(o)) => {
            let mut entries: Vec<(YamlNode, YamlNode)> = Vec::with_capacity(b.len() + o.len());
            for (k, v) in b {
                if k.as_str() == Some("action") {
                    continue;
                }
                match over.entry(k.as_str().unwrap_or("\u{0}")) {
                    Some((_, ov)) => entries.push((k.clone(), merge(v, ov))),
                    None => entries.push((k.clone(), v.clone())),
                }
            }
            for (k, v) in o {
                if base.entry(k.as_str().unwrap_or("\u{0}")).is_none()
                    && k.as_str() != Some("action")
                {
                    entries.push((k.clone(), v.clone()));
                }
            }
            YamlNode {
                kind: YamlKind::Map(entries),
                span: over.span,
            }
        }
        _ => over.clone(),
    }
}

/// One document: a detection rule, a correlation or a filter.
fn load_doc(file: FileId, doc: &YamlNode) -> Loaded {
    let mut l = Loaded::new(file, SourceFormat::SigmaYaml);
    l.language = Some(Language::Sigma);
    l.meta = read_meta(doc);
    if doc.as_map().is_none() {
        l.diags.push(
            Diagnostic::error(codes::NOT_A_RULE, "a Sigma document must be a mapping")
                .at(doc.span)
                .label(format!("found {}", doc.kind_name())),
        );
        return l;
    }
    if let Some(c) = doc.get("correlation") {
        l.meta.rule_type = Some("correlation".to_string());
        match correlation::read_correlation(doc, c) {
            Ok(query) => l.rule = Some(rule(&l.meta, query, doc.span)),
            Err(d) => l.diags.extend(d),
        }
        return l;
    }
    if let Some(f) = doc.get("filter") {
        l.meta.rule_type = Some("filter".to_string());
        l.meta.applies_to = f
            .get("rules")
            .map(|r| r.as_str_list().into_iter().map(str::to_string).collect())
            .unwrap_or_default();
        if l.meta.applies_to.is_empty() {
            l.diags
                .push(missing(doc.span, "the filter has no `rules` to apply to"));
        }
        match lower_detection(f, &["rules"]) {
            Ok(low) => {
                let q = query(doc, f.span, Some(low.filter), low.stages);
                l.rule = Some(rule(&l.meta, q, doc.span));
            }
            Err(d) => l.diags.extend(d),
        }
        return l;
    }
    let Some(det) = doc.get("detection") else {
        l.diags.push(missing(
            doc.span,
            "the rule has no `detection`, `correlation` or `filter`",
        ));
        return l;
    };
    l.meta.rule_type = Some("detection".to_string());
    if l.meta.name.is_empty() {
        l.diags.push(
            Diagnostic::warning(codes::MISSING_KEY, "the rule has no `title`").at(Span::new(
                file,
                doc.span.start as usize,
                doc.span.start as usize,
            )),
        );
    }
    match lower_detection(det, &[]) {
        Ok(low) => {
            let q = query(doc, det.span, Some(low.filter), low.stages);
            l.rule = Some(rule(&l.meta, q, doc.span));
        }
        Err(d) => l.diags.extend(d),
    }
    l
}

fn missing(span: Span, msg: &str) -> Diagnostic {
    Diagnostic::error(codes::MISSING_KEY, msg).at(Span::new(
        span.file,
        span.start as usize,
        span.start as usize,
    ))
}

fn query(
    doc: &YamlNode,
    span: Span,
    filter: Option<crate::ir::Expr>,
    stages: Vec<crate::ir::Stage>,
) -> Query {
    Query {
        language: Language::Sigma,
        source: Source {
            logsource: read_logsource(doc),
            span: doc.get("logsource").map(|n| n.span).unwrap_or(span),
            ..Source::default()
        },
        filter,
        stages,
        span,
    }
}

fn rule(meta: &crate::ir::Meta, query: Query, span: Span) -> Rule {
    Rule {
        meta: meta.clone(),
        query: Some(query),
        caveats: Vec::new(),
        span,
    }
}
