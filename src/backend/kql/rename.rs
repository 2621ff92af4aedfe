//! Wildcard renames (`rename properties.* AS *`, `rename process* AS
//! parent_process*`). Splunk renames every field whose name matches the
//! first pattern; a field that does not exist is not renamed, and the old
//! names are gone afterwards. Kusto has no rename by pattern, but the fields
//! the rest of the query reads are known: each of them that the new pattern
//! names is computed from the field its name came from, when the table has
//! that field (or it is a key of a JSON column the prefix names), and each
//! old name read later is emptied.

use super::ctx::Ctx;
use super::stages::{flush_needs, stage, Pipe};
use super::subquery::probe;
use super::text::{ident, lit};
use crate::ir::visit::query_fields;
use crate::ir::*;
use crate::span::Span;

/// `a*b` → (`a`, `b`); `None` unless there is exactly one `*`.
fn split(p: &str) -> Option<(&str, &str)> {
    let (a, b) = p.split_once('*')?;
    (!b.contains('*')).then_some((a, b))
}

/// Field names (with their schemes) that stages after the rename read.
fn later_names(rest: &[Stage], scheme: FieldScheme) -> Vec<(String, FieldScheme)> {
    let q = Query {
        language: Language::Spl,
        source: Source::default(),
        filter: None,
        stages: rest.to_vec(),
        span: Span::default(),
    };
    let mut out: Vec<(String, FieldScheme)> = Vec::new();
    let mut push = |n: &str, s: FieldScheme| {
        if !out.iter().any(|(m, _)| m == n) {
            out.push((n.to_string(), s));
        }
    };
    for f in query_fields(&q) {
        push(&f.name, f.scheme);
    }
    for st in rest {
        match &st.kind {
            StageKind::Project { fields, .. } => fields.iter().for_each(|n| push(n, scheme)),
            StageKind::Rename(pairs) => pairs.iter().for_each(|(a, _)| push(a, scheme)),
            StageKind::Lookup(l) => l.match_fields.iter().for_each(|(_, e)| push(e, scheme)),
            _ => {}
        }
    }
    out
}

/// A typed empty value.
fn empty_of(ty: &str) -> String {
    match ty {
        "string" => "\"\"".into(),
        t => format!("{t}(null)"),
    }
}

/// The rename stage `pairs`; `rest` are the stages after it.
pub fn rename(
    cx: &mut Ctx,
    pipe: &mut Pipe,
    pairs: &[(String, String)],
    rest: &[Stage],
    span: Span,
    scheme: FieldScheme,
) {
    // Names read later: a name computed later (stats alias, eval) is not
    // a field the rename could have produced, unless already computed.
    let later: Vec<(String, FieldScheme)> = later_names(rest, scheme)
        .into_iter()
        .filter(|(n, s)| *s != FieldScheme::Computed || cx.computed.contains_key(n))
        .map(|(n, s)| {
            let s = if s == FieldScheme::Computed {
                scheme
            } else {
                s
            };
            (n, s)
        })
        .collect();
    for (from, to) in pairs {
        if !from.contains('*') && !to.contains('*') {
            let one = Stage {
                kind: StageKind::Rename(vec![(from.clone(), to.clone())]),
                span,
            };
            stage(cx, pipe, &one, scheme);
            continue;
        }
        // `rename Model.* AS *` after tstats: the mapping already strips the
        // data-model prefix.
        let prefix = from.trim_end_matches('*');
        if to == "*" && cx.cim_prefixes.iter().any(|p| p == prefix) {
            continue;
        }
        let (Some((fa, fb)), Some((ta, tb))) = (split(from), split(to)) else {
            cx.refuse(
                span,
                format!(
                    "the wildcard rename `{from}` → `{to}` (one `*` on each side is supported)"
                ),
                "rename",
            );
            continue;
        };
        one(cx, pipe, (fa, fb), (ta, tb), &later, span);
    }
}

fn one(
    cx: &mut Ctx,
    pipe: &mut Pipe,
    (fa, fb): (&str, &str),
    (ta, tb): (&str, &str),
    later: &[(String, FieldScheme)],
    span: Span,
) {
    let mut set = Vec::new();
    let mut targets = Vec::new();
    for (name, sc) in later {
        let Some(mid) = name
            .strip_prefix(ta)
            .and_then(|r| r.strip_suffix(tb))
            .filter(|m| !m.is_empty())
        else {
            continue;
        };
        let src = format!("{fa}{mid}{fb}");
        let value = match probe(cx, &FieldRef::new(src.clone(), *sc, span)) {
            Some(c) => Some((c.text, c.ty)),
            None => from_json(cx, fa, fb, mid, *sc, span).map(|v| (v, "string".to_string())),
        };
        let Some((text, ty)) = value else { continue };
        targets.push(name.clone());
        let id = ident(name);
        let text = match probe(cx, &FieldRef::new(name.clone(), *sc, span)) {
            // The JSON key may be missing: then the old field stays.
            Some(old) if ty == "string" && old.is_string() && old.text != text => {
                format!("iff(isempty({text}), {}, {text})", old.text)
            }
            _ => text,
        };
        if id != text {
            set.push(format!("{id} = {text}"));
        }
        cx.computed.insert(name.clone(), ty);
    }
    // Old names read later are gone after the rename.
    let mut gone = Vec::new();
    for (name, sc) in later {
        if targets.contains(name) || cx.computed.contains_key(name) {
            continue;
        }
        let renamed = name
            .strip_prefix(fa)
            .and_then(|r| r.strip_suffix(fb))
            .is_some_and(|m| !m.is_empty());
        if !renamed {
            continue;
        }
        if let Some(c) = probe(cx, &FieldRef::new(name.clone(), *sc, span)) {
            gone.push(format!("{} = {}", ident(name), empty_of(&c.ty)));
            cx.computed.insert(name.clone(), c.ty);
        }
    }
    flush_needs(cx, pipe);
    if !set.is_empty() {
        pipe.op(format!("extend {}", set.join(", ")));
    }
    if !gone.is_empty() {
        pipe.op(format!("extend {}", gone.join(", ")));
    }
}

/// `properties.a.b` read from a JSON (string or dynamic) column that the
/// prefix `properties` names.
fn from_json(
    cx: &mut Ctx,
    fa: &str,
    fb: &str,
    mid: &str,
    sc: FieldScheme,
    span: Span,
) -> Option<String> {
    let object = fa.strip_suffix('.')?;
    if !fb.is_empty() || object.is_empty() || mid.contains(['{', '}', '*']) {
        return None;
    }
    let c = probe(cx, &FieldRef::new(object, sc, span))?;
    let base = if c.is_dynamic() {
        c.text
    } else if c.is_string() {
        format!("parse_json({})", c.text)
    } else {
        return None;
    };
    let path: String = mid.split('.').map(|k| format!("[{}]", lit(k))).collect();
    Some(format!("tostring({base}{path})"))
}
