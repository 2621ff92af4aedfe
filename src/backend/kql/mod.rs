//! The Kusto (KQL) back-end: Microsoft Sentinel and Defender XDR.
//!
//! | step | module |
//! |---|---|
//! | log source → table profile | [`source`] (data: `mapping/data/kql.yml`) |
//! | field → column, checked against Microsoft's schema | [`ctx`] |
//! | conditions and scalars | [`expr`], [`funcs`] |
//! | pipeline stages (aggregates, columns, rows, extraction), sequences, thresholds, new terms | [`stages`], [`sequence`] |
//! | header comment, Sentinel analytics-rule YAML | [`output`] |
//!
//! Anything the target cannot say exactly is refused by name (E0501, E0401
//! unmapped field, E0402 unmapped source) or, where it is close, emitted with
//! a named caveat (approximate; refused under `--strict`).

mod ctx;
mod expr;
mod funcs;
mod funcs_more;
mod inputlookup;
mod output;
mod rename;
mod sequence;
mod source;
mod stages;
mod subquery;
mod text;

use super::{Options, Output, Status};
use crate::diag::{codes, Diagnostic};
use crate::ir::{Query, Rule, StageKind};
use crate::mapping::KqlMapping;
use ctx::Ctx;
use stages::Pipe;

/// The mapping to use: `--mapping FILE` (read once per path) or the
/// embedded data.
fn mapping(opts: &Options) -> Result<std::sync::Arc<KqlMapping>, String> {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Cache = Mutex<BTreeMap<std::path::PathBuf, Result<Arc<KqlMapping>, String>>>;
    static EMBEDDED: OnceLock<Arc<KqlMapping>> = OnceLock::new();
    static FILES: OnceLock<Cache> = OnceLock::new();
    let Some(p) = &opts.mapping else {
        return Ok(EMBEDDED
            .get_or_init(|| Arc::new(KqlMapping::embedded().clone()))
            .clone());
    };
    let cache = FILES.get_or_init(|| Mutex::new(BTreeMap::new()));
    let mut files = cache
        .lock()
        .map_err(|_| "mapping cache poisoned".to_string())?;
    files
        .entry(p.clone())
        .or_insert_with(|| KqlMapping::from_file(p).map(Arc::new))
        .clone()
}

pub fn convert(rule: &Rule, opts: &Options) -> Output {
    let Some(q) = &rule.query else {
        return Output::refused(vec![Diagnostic::error(
            codes::REFUSED,
            format!(
                "the rule has no query (type {})",
                rule.meta.rule_type.as_deref().unwrap_or("unknown")
            ),
        )
        .at(rule.span)]);
    };
    let m = match mapping(opts) {
        Ok(m) => m,
        Err(e) => {
            return Output::refused(vec![Diagnostic::error(
                codes::UNMAPPED_SOURCE,
                format!("the mapping file cannot be used: {e}"),
            )])
        }
    };
    let schema = opts.schema.as_deref().unwrap_or("xdr");
    if !m.map.schemas.contains_key(schema) {
        return Output::refused(vec![Diagnostic::error(
            codes::UNMAPPED_SOURCE,
            format!("unknown Kusto schema `{schema}` (xdr, sentinel or asim)"),
        )]);
    }
    funcs_more::set_language(q.language);
    let built = match q.stages.first().map(|s| &s.kind) {
        Some(StageKind::Sequence(seq)) => sequence::build(&m, rule, q, seq, schema, opts.lenient),
        _ => build(&m, rule, q, schema, opts.lenient),
    };
    match built {
        Err(diags) => Output::refused(diags),
        Ok(b) => output::render(&m, rule, b, opts),
    }
}

/// A built query: text, the tables it reads, caveats.
pub struct Built {
    pub query: String,
    pub tables: Vec<String>,
    pub caveats: Vec<crate::ir::Caveat>,
}

/// The rule's look-back window (`from = "now-9m"`).
fn window(rule: &Rule) -> Option<crate::ir::Duration> {
    let from = rule.meta.settings.get("from")?;
    crate::ir::Duration::parse(from.trim().strip_prefix("now-")?)
}

/// A context for the profile the facts select, or E0402.
fn context<'m>(
    m: &'m KqlMapping,
    facts: &source::Facts,
    schema: &str,
    lenient: bool,
    span: crate::span::Span,
) -> Result<Ctx<'m>, Diagnostic> {
    let unmapped = || {
        let described: Vec<String> = facts
            .iter()
            .filter(|(k, _)| *k != "field" && *k != "kv")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        Diagnostic::error(
            codes::UNMAPPED_SOURCE,
            format!(
                "no Kusto table for this log source ({})",
                if described.is_empty() {
                    "nothing names the kind of events".to_string()
                } else {
                    described.join(", ")
                }
            ),
        )
        .at(span)
        .label("log source")
        .note("add a `sources` rule to a --mapping file")
    };
    let (family, profile, caveat) = source::select(m, facts, schema).ok_or_else(unmapped)?;
    let mut cx = Ctx::new(m, &profile, &family, lenient).ok_or_else(unmapped)?;
    if let Some(col) = &cx.profile.channel_column {
        cx.filter = Some(source::channel_filter(facts, col).ok_or_else(unmapped)?);
    }
    cx.profile_span = span;
    if let Some(c) = caveat {
        cx.caveat("table-inferred", c, Some(span));
    }
    Ok(cx)
}

/// The head of a table query: table, the profile's fixed filter, the source
/// time range, then the rule's filter.
pub(crate) fn head(
    cx: &mut Ctx,
    q: &Query,
    filter: Option<&crate::ir::Expr>,
    schema: &str,
) -> Pipe {
    let mut pipe = Pipe::new(cx.table_ref(), schema);
    pipe.tables.push(cx.profile.table.clone());
    if let Some(f) = &cx.filter {
        pipe.op(format!("where {f}"));
    }
    if let Some(tr) = &q.source.time_range {
        let t = text::ident(&cx.time);
        for (bound, op) in [(&tr.earliest, ">="), (&tr.latest, "<")] {
            let Some(b) = bound else { continue };
            let spec = b.trim().trim_start_matches("now");
            match funcs::relative_time("now()", spec) {
                Some(x) => pipe.op(format!("where {t} {op} {x}")),
                None => cx.refuse(q.source.span, format!("the time bound `{b}`"), "time range"),
            }
        }
    }
    let filter = source::strip_implied(filter, &cx.profile.implies);
    if let Some(f) = filter {
        stages::filter(cx, &mut pipe, &f, source::default_scheme(q));
    }
    pipe
}

fn build(
    m: &KqlMapping,
    rule: &Rule,
    q: &Query,
    schema: &str,
    lenient: bool,
) -> Result<Built, Vec<Diagnostic>> {
    let (cx, pipe) = table_query(m, q, schema, lenient, window(rule), 0)?;
    if cx.diags.iter().any(Diagnostic::is_error) {
        return Err(cx.diags);
    }
    Ok(Built {
        query: pipe.text(),
        tables: pipe.tables,
        caveats: cx.caveats,
    })
}

/// One table query: the context its source selects, the head, the stages.
/// `lets` is the number of `let` names already used (for sub-queries).
pub(crate) fn table_query<'m>(
    m: &'m KqlMapping,
    q: &Query,
    schema: &str,
    lenient: bool,
    window: Option<crate::ir::Duration>,
    lets: usize,
) -> Result<(Ctx<'m>, Pipe), Vec<Diagnostic>> {
    if let Some(rows) = inputlookup::table_query(m, q, schema, lenient, lets) {
        return rows;
    }
    let facts = source::facts(&q.source, q.filter.as_ref(), &[]);
    let mut cx = context(m, &facts, schema, lenient, q.source.span).map_err(|d| vec![d])?;
    cx.window = window;
    if let Some(dm) = &q.source.datamodel {
        cx.cim_prefixes = m
            .map
            .cim_datasets
            .iter()
            .chain(dm.dataset.iter())
            .map(|d| format!("{d}."))
            .collect();
    }
    let mut pipe = head(&mut cx, q, None, schema);
    pipe.n = lets;
    let filter = source::strip_implied(q.filter.as_ref(), &cx.profile.implies);
    let scheme = source::default_scheme(q);
    if let Some(f) = filter {
        stages::filter(&mut cx, &mut pipe, &f, scheme);
    }
    stages::run(&mut cx, &mut pipe, &q.stages, scheme);
    Ok((cx, pipe))
}

#[cfg(test)]
mod spl_source_tests;
#[cfg(test)]
mod spl_tests;
#[cfg(test)]
mod tests;
