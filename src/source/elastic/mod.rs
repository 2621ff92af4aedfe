//! Elastic detection-rules TOML: `[metadata]`, `[rule]` (with `[[rule.threat]]`,
//! `[rule.threshold]`, `[rule.new_terms]`, `[[rule.filters]]`, ...) and
//! `[transform]`. See <https://github.com/elastic/detection-rules> and Kibana's
//! rule schema (<https://www.elastic.co/guide/en/security/current/rules-api-create.html>).

mod filters;
mod keys;
mod meta;

use super::text::decode_toml_string;
use super::Loaded;
use crate::diag::{codes, Diagnostic};
use crate::ir::{
    Caveat, Duration, Expr, FieldRef, FieldScheme, Language, NewTerms, Opaque, Rule, SourceFormat,
    Stage, StageKind, Threshold,
};
use crate::lang::{self, Input};
use crate::span::{FileId, SourceMap, Span};
use toml_edit::{ImDocument, Item, TableLike};

/// A TOML text with a `[rule]` table.
pub fn looks_like(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("[rule]") || l.starts_with("[rule.") || l.starts_with("[[rule.")
    })
}

/// Reading context: the file, its text, and the diagnostics found so far.
pub(crate) struct Ctx<'a> {
    pub file: FileId,
    pub text: &'a str,
    pub diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub fn span(&self, r: Option<std::ops::Range<usize>>) -> Span {
        r.map(|r| Span::new(self.file, r.start, r.end))
            .unwrap_or(Span::new(self.file, 0, 0))
    }
    pub fn item_span(&self, item: &Item) -> Span {
        self.span(
            item.span()
                .or_else(|| item.as_table_like().and_then(table_span)),
        )
    }
    /// A string value; a diagnostic when it is of another type.
    pub fn str(&mut self, t: &dyn TableLike, key: &str) -> Option<(String, Span)> {
        let item = t.get(key)?;
        let sp = self.item_span(item);
        match item.as_str() {
            Some(s) => Some((s.to_string(), sp)),
            None => {
                self.wrong_type(key, "a string", sp);
                None
            }
        }
    }
    /// A list of strings (a lone string is accepted as a list of one).
    pub fn str_list(&mut self, t: &dyn TableLike, key: &str) -> Vec<String> {
        let Some(item) = t.get(key) else {
            return Vec::new();
        };
        if let Some(s) = item.as_str() {
            return vec![s.to_string()];
        }
        match item.as_array() {
            Some(a) => {
                let mut out = Vec::new();
                for v in a.iter() {
                    match v.as_str() {
                        Some(s) => out.push(s.to_string()),
                        None => {
                            let sp = self.span(v.span());
                            self.wrong_type(key, "a list of strings", sp);
                        }
                    }
                }
                out
            }
            None => {
                let sp = self.item_span(item);
                self.wrong_type(key, "a list of strings", sp);
                Vec::new()
            }
        }
    }
    pub fn wrong_type(&mut self, key: &str, expected: &str, span: Span) {
        self.diags.push(
            Diagnostic::error(codes::WRONG_TYPE, format!("`{key}` must be {expected}"))
                .at(span)
                .label(format!("expected {expected}")),
        );
    }
}

fn table_span(t: &dyn TableLike) -> Option<std::ops::Range<usize>> {
    // a table has no span of its own in toml_edit; use its first key's
    t.iter()
        .next()
        .and_then(|(k, _)| t.key(k))
        .and_then(|k| k.span())
}

/// The rule types that carry a query, and those that do not.
const QUERY_TYPES: &[&str] = &[
    "query",
    "eql",
    "esql",
    "threshold",
    "new_terms",
    "threat_match",
    "saved_query",
];

pub fn load(sm: &SourceMap, file: FileId) -> Loaded {
    let src = sm.get(file);
    let mut out = Loaded::new(file, SourceFormat::ElasticToml);
    let doc = match ImDocument::parse(src.text.as_str()) {
        Ok(d) => d,
        Err(e) => {
            let r = e.span().unwrap_or(0..0);
            let end = if r.end > r.start {
                r.end
            } else {
                (r.start + 1).min(src.text.len())
            };
            out.diags.push(
                Diagnostic::error(codes::TOML_SYNTAX, format!("invalid TOML: {}", e.message()))
                    .at(Span::new(file, r.start, end))
                    .label(e.message().to_string()),
            );
            return out;
        }
    };
    let mut cx = Ctx {
        file,
        text: &src.text,
        diags: Vec::new(),
    };
    let root = doc.as_table();
    keys::check_unknown(&mut cx, root, keys::TOP, "");
    let Some(rule) = root.get("rule").and_then(Item::as_table_like) else {
        cx.diags.push(
            Diagnostic::error(codes::MISSING_KEY, "missing table `[rule]`")
                .at(Span::new(file, 0, 0))
                .note("an Elastic detection rule has `[metadata]` and `[rule]` tables"),
        );
        out.diags = cx.diags;
        return out;
    };
    let metadata = root.get("metadata").and_then(Item::as_table_like);
    keys::check_unknown(&mut cx, rule, keys::RULE, "rule.");
    if let Some(m) = metadata {
        keys::check_unknown(&mut cx, m, keys::METADATA, "metadata.");
    }
    let rule_span = root
        .key("rule")
        .and_then(|k| k.span())
        .map(|r| Span::new(file, r.start, r.end));
    out.meta = meta::read(&mut cx, rule, metadata, rule_span.unwrap_or_default());
    let rule_type = out.meta.rule_type.clone().unwrap_or_default();

    // The query, its language, and the rule-type stages.
    let needs_query = QUERY_TYPES.contains(&rule_type.as_str());
    let language = read_language(&mut cx, rule, needs_query, rule_span);
    out.language = language;
    let mut caveats = Vec::new();
    let mut query = None;
    if let Some(lang) = language {
        match rule.get("query") {
            None if needs_query => cx.diags.push(missing(file, "query", rule_span)),
            None => {}
            Some(item) => {
                if let Some(compiled) = compile_query(&mut cx, item, lang) {
                    caveats.extend(compiled.caveats);
                    cx.diags.extend(compiled.warnings);
                    query = Some(compiled.query);
                }
            }
        }
    }
    if let Some(q) = query.as_mut() {
        q.source.indexes = cx.str_list(rule, "index");
        if let Some((f, _)) = cx.str(rule, "event_category_override") {
            q.source.category_field = Some(f);
        }
        if let Some(expr) = filters::read(&mut cx, rule) {
            q.filter = Some(match q.filter.take() {
                Some(f) => {
                    let sp = f.span;
                    Expr::and(vec![f, expr], sp)
                }
                None => expr,
            });
        }
        type_stages(&mut cx, rule, &rule_type, q, &mut caveats);
    }
    let has_errors = cx.diags.iter().any(Diagnostic::is_error);
    if !has_errors && (query.is_some() || !needs_query) {
        out.rule = Some(Rule {
            meta: out.meta.clone(),
            query,
            caveats: caveats.into_iter().map(|c: Caveat| c).collect(),
            span: rule_span.unwrap_or_default(),
        });
    }
    out.diags = cx.diags;
    out
}

pub(crate) fn missing(file: FileId, key: &str, at: Option<Span>) -> Diagnostic {
    Diagnostic::error(codes::MISSING_KEY, format!("missing required key `{key}`"))
        .at(at.unwrap_or(Span::new(file, 0, 0)))
        .label(format!("this table has no `{key}`"))
}

fn read_language(
    cx: &mut Ctx,
    rule: &dyn TableLike,
    needs_query: bool,
    rule_span: Option<Span>,
) -> Option<Language> {
    let Some((lang, sp)) = cx.str(rule, "language") else {
        if needs_query && rule.get("language").is_none() {
            cx.diags.push(missing(cx.file, "language", rule_span));
        }
        return None;
    };
    let l = match lang.as_str() {
        "eql" => Language::Eql,
        "kuery" => Language::Kuery,
        "lucene" => Language::Lucene,
        "esql" => Language::Esql,
        other => {
            cx.diags.push(
                Diagnostic::error(
                    codes::UNKNOWN_LANGUAGE,
                    format!("unknown query language `{other}`"),
                )
                .at(sp)
                .label("not one of eql, kuery, lucene, esql"),
            );
            return None;
        }
    };
    Some(l)
}

fn compile_query(cx: &mut Ctx, item: &Item, lang: Language) -> Option<lang::Compiled> {
    let range = item.span()?;
    let raw = &cx.text[range.clone()];
    let Some((text, origin)) = decode_toml_string(cx.file, raw, range.start) else {
        cx.wrong_type(
            "query",
            "a string",
            Span::new(cx.file, range.start, range.end),
        );
        return None;
    };
    match lang::compile(
        lang,
        &Input {
            text: &text,
            origin: &origin,
        },
    ) {
        Ok(c) => Some(c),
        Err(ds) => {
            cx.diags.extend(ds);
            None
        }
    }
}

/// Stages that come from the rule type rather than the query text.
fn type_stages(
    cx: &mut Ctx,
    rule: &dyn TableLike,
    rule_type: &str,
    q: &mut crate::ir::Query,
    caveats: &mut Vec<Caveat>,
) {
    let file = cx.file;
    let field = |name: &str, sp: Span| FieldRef::new(name, FieldScheme::Ecs, sp);
    match rule_type {
        "threshold" => {
            let Some(item) = rule.get("threshold") else {
                cx.diags.push(missing(file, "threshold", Some(q.span)));
                return;
            };
            let sp = cx.item_span(item);
            let Some(t) = item.as_table_like() else {
                return cx.wrong_type("threshold", "a table", sp);
            };
            let fields = cx
                .str_list(t, "field")
                .iter()
                .map(|f| field(f, sp))
                .collect();
            let value = match t.get("value").and_then(Item::as_integer) {
                Some(v) if v >= 0 => v as u64,
                _ => {
                    cx.wrong_type("threshold.value", "a non-negative integer", sp);
                    return;
                }
            };
            let mut cardinality = Vec::new();
            if let Some(arr) = t.get("cardinality").and_then(Item::as_array_of_tables) {
                for c in arr.iter() {
                    let f = c.get("field").and_then(Item::as_str).unwrap_or_default();
                    let v = c
                        .get("value")
                        .and_then(Item::as_integer)
                        .unwrap_or(0)
                        .max(0) as u64;
                    cardinality.push((field(f, sp), v));
                }
            }
            q.stages.push(Stage {
                kind: StageKind::Threshold(Threshold {
                    fields,
                    value,
                    cardinality,
                }),
                span: sp,
            });
        }
        "new_terms" => {
            let Some(item) = rule.get("new_terms") else {
                cx.diags.push(missing(file, "new_terms", Some(q.span)));
                return;
            };
            let sp = cx.item_span(item);
            let Some(t) = item.as_table_like() else {
                return cx.wrong_type("new_terms", "a table", sp);
            };
            let fields = cx
                .str_list(t, "value")
                .iter()
                .map(|f| field(f, sp))
                .collect();
            let window = t
                .get("history_window_start")
                .and_then(Item::as_array_of_tables)
                .and_then(|a| a.iter().next())
                .and_then(|w| w.get("value").and_then(Item::as_str))
                .map(str::to_string);
            let Some(window) = window else {
                cx.diags
                    .push(missing(file, "new_terms.history_window_start", Some(sp)));
                return;
            };
            let Some(history_window) = Duration::parse(window.trim_start_matches("now-")) else {
                cx.diags.push(
                    Diagnostic::error(
                        codes::BAD_NUMBER,
                        format!("cannot read the history window `{window}`"),
                    )
                    .at(sp)
                    .note("expected `now-<N><unit>`, e.g. `now-7d`"),
                );
                return;
            };
            q.stages.push(Stage {
                kind: StageKind::NewTerms(NewTerms {
                    fields,
                    history_window,
                }),
                span: sp,
            });
        }
        "threat_match" => {
            let sp = rule
                .get("threat_mapping")
                .map(|i| cx.item_span(i))
                .unwrap_or(q.span);
            let indexes = cx.str_list(rule, "threat_index").join(", ");
            let tq = cx
                .str(rule, "threat_query")
                .map(|s| s.0)
                .unwrap_or_default();
            q.stages.push(Stage {
                kind: StageKind::Opaque(Opaque {
                    name: "threat_match".into(),
                    text: format!("threat_index: {indexes}; threat_query: {tq}"),
                    reason: "indicator match rules join events against a threat-intel index".into(),
                }),
                span: sp,
            });
            caveats.push(Caveat {
                code: "threat-match".into(),
                message: "indicator-match joins are kept as an opaque stage".into(),
                span: Some(sp),
            });
        }
        _ => {}
    }
}
