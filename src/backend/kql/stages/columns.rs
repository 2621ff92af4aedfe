//! Stages that compute, rename, keep or fill columns: `eval`, `rename`,
//! `table` / `fields`, `fillnull`, `bin`, `mvexpand`.

use super::{flush_needs, key_name, mentions, named, scalar_type, strip_brackets, Pipe};
use crate::backend::kql::ctx::Ctx;
use crate::backend::kql::expr::scalar;
use crate::backend::kql::text::{ident, lit, timespan};
use crate::ir::*;

pub(super) fn eval(cx: &mut Ctx, pipe: &mut Pipe, assigns: &[Assign]) {
    // Kusto's extend cannot read a column it defines itself: an
    // assignment that reads an earlier one starts a new extend.
    let mut groups: Vec<Vec<String>> = vec![Vec::new()];
    let mut defined: Vec<String> = Vec::new();
    for a in assigns {
        let v = scalar(cx, &a.value);
        let ty = scalar_type(cx, &a.value);
        if defined.iter().any(|d| mentions(&v, d)) {
            groups.push(Vec::new());
            defined.clear();
        }
        defined.push(ident(&a.name));
        if let Some(g) = groups.last_mut() {
            g.push(format!("{} = {v}", ident(&a.name)));
        }
        cx.computed.insert(a.name.clone(), ty);
    }
    flush_needs(cx, pipe);
    for g in groups.into_iter().filter(|g| !g.is_empty()) {
        pipe.op(format!("extend {}", g.join(", ")));
    }
}

/// `rename a AS b, ...` (wildcard pairs that need the later stages are
/// handled by `kql::rename`).
pub(super) fn rename(
    cx: &mut Ctx,
    pipe: &mut Pipe,
    pairs: &[(String, String)],
    span: crate::span::Span,
    scheme: FieldScheme,
) {
    let mut parts = Vec::new();
    let mut written: Vec<&String> = Vec::new();
    for (from, to) in pairs {
        if written.contains(&from) {
            cx.refuse(
                span,
                format!("`rename ... AS {from}, {from} AS {to}`: a pair reads a name an earlier pair of the same command writes (order-dependent)"),
                "rename",
            );
            continue;
        }
        written.push(to);
        if from.contains('*') || to.contains('*') {
            // `rename Model.* AS *` after tstats: the mapping already
            // strips the data-model prefix.
            let prefix = from.trim_end_matches('*');
            if to == "*" && cx.cim_prefixes.iter().any(|p| p == prefix) {
                continue;
            }
            cx.refuse(
                span,
                format!("the wildcard rename `{from}` → `{to}`"),
                "rename",
            );
            continue;
        }
        let c = cx.field(&FieldRef::new(from.clone(), scheme, span));
        let ty = c.ty.clone();
        if ident(to) == c.text {
            // Already named so (a data-model key).
            cx.computed.insert(to.clone(), ty);
            continue;
        }
        if c.text
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        {
            // `rename a AS b, b AS c`: one rename after the other.
            if parts
                .iter()
                .any(|p: &String| mentions(p, &c.text) || mentions(p, &ident(to)))
            {
                flush_needs(cx, pipe);
                pipe.op(format!("project-rename {}", parts.join(", ")));
                parts.clear();
            }
            let id = ident(to);
            let taken = cx.computed.contains_key(to)
                || match &cx.available {
                    Some(av) => av.contains(&id),
                    None => cx.columns.contains_key(to),
                };
            if taken {
                // Renaming onto an existing field replaces it.
                flush_needs(cx, pipe);
                if !parts.is_empty() {
                    pipe.op(format!("project-rename {}", parts.join(", ")));
                    parts.clear();
                }
                pipe.op(format!("extend {id} = {}", c.text));
                pipe.op(format!("project-away {}", c.text));
            } else {
                parts.push(format!("{id} = {}", c.text));
            }
            if let Some(av) = &mut cx.available {
                av.remove(&c.text);
                av.insert(id);
            }
            cx.computed.insert(to.clone(), ty);
            cx.computed.remove(from);
        } else {
            // An expression column: extend under the new name.
            flush_needs(cx, pipe);
            pipe.op(format!("extend {} = {}", ident(to), c.text));
            cx.computed.insert(to.clone(), ty);
        }
    }
    flush_needs(cx, pipe);
    if !parts.is_empty() {
        pipe.op(format!("project-rename {}", parts.join(", ")));
    }
}

pub(super) fn project(
    cx: &mut Ctx,
    pipe: &mut Pipe,
    fields: &[String],
    drop: bool,
    span: crate::span::Span,
    scheme: FieldScheme,
) {
    let mut cols = Vec::new();
    // The type of each `name = expr` column kept.
    let mut types: Vec<(String, String)> = Vec::new();
    for f in fields {
        if f.contains('*') && drop {
            // `fields - a*`: every existing column the pattern matches.
            for name in existing_matching(cx, f) {
                cx.computed.remove(&name);
                let id = ident(&name);
                if !cols.contains(&id) {
                    cols.push(id);
                }
            }
            continue;
        }
        if f.contains('*') {
            cx.refuse(span, format!("the wildcard field list `{f}`"), "project");
            continue;
        }
        let c = cx.field(&FieldRef::new(f.clone(), scheme, span));
        if drop && c.text.contains('(') {
            // Dropping a field that does not exist: nothing to do.
            continue;
        }
        let (name, k) = named(f, &c);
        let item = if drop { name } else { k };
        if !cols.iter().any(|x: &String| key_name(x) == key_name(&item)) {
            types.push((key_name(&item), c.ty.clone()));
            cols.push(item);
        }
    }
    flush_needs(cx, pipe);
    if !drop {
        // Only the kept columns exist from here on.
        let kept: std::collections::BTreeSet<String> = cols.iter().map(|c| key_name(c)).collect();
        cx.computed.retain(|n, _| kept.contains(&ident(n)));
        cx.available = Some(kept);
        for c in &cols {
            if c.contains(" = ") {
                let name = key_name(c);
                let ty = types
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("string", |(_, t)| t.as_str());
                cx.computed
                    .entry(strip_brackets(&name))
                    .or_insert(ty.to_string());
            }
        }
    }
    if !cols.is_empty() {
        pipe.op(format!(
            "{} {}",
            if drop { "project-away" } else { "project" },
            cols.join(", ")
        ));
    }
}

pub(super) fn mv_expand(cx: &mut Ctx, pipe: &mut Pipe, field: &FieldRef) {
    let c = cx.field(field);
    if !c.is_dynamic() {
        // A single value expands to itself.
        return;
    }
    let (_, k) = named(&field.name, &c);
    flush_needs(cx, pipe);
    pipe.op(format!("mv-expand {k}"));
}

pub(super) fn fill_null(
    cx: &mut Ctx,
    pipe: &mut Pipe,
    value: &str,
    fields: &[FieldRef],
    span: crate::span::Span,
) {
    if fields.is_empty() {
        cx.caveat(
            "fillnull-all",
            "fillnull without a field list fills every field; Kusto fills only named columns, so it is left out",
            Some(span),
        );
        return;
    }
    let mut parts = Vec::new();
    for f in fields {
        let c = cx.field(f);
        let (name, _) = named(&f.name, &c);
        if c.is_string() {
            parts.push(format!(
                "{name} = iff(isempty({0}), {1}, {0})",
                c.text,
                lit(value)
            ));
        } else if value.parse::<f64>().is_ok() {
            parts.push(format!("{name} = coalesce({}, {value})", c.text));
        } else {
            parts.push(format!(
                "{name} = coalesce(tostring({}), {})",
                c.text,
                lit(value)
            ));
        }
    }
    flush_needs(cx, pipe);
    pipe.op(format!("extend {}", parts.join(", ")));
}

pub(super) fn bin(
    cx: &mut Ctx,
    pipe: &mut Pipe,
    field: &FieldRef,
    d: &Duration,
    alias: &Option<String>,
) {
    let c = cx.field(field);
    let name = alias.clone().unwrap_or(field.name.clone());
    let target = if c.ty == "datetime" && alias.is_none() {
        c.text.clone()
    } else {
        cx.computed.insert(name.clone(), c.ty.clone());
        ident(&name)
    };
    pipe.op(format!(
        "extend {target} = bin({}, {})",
        c.text,
        timespan(d)
    ));
}

/// Whether `name` matches an SPL field-name pattern (`*` any run).
fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return pattern == name;
    }
    if !name.starts_with(first) || name.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    if !name.ends_with(last) {
        return false;
    }
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// The names of the columns that exist now (computed by the pipeline, or
/// the table's) matching a field-name pattern.
fn existing_matching(cx: &Ctx, pattern: &str) -> Vec<String> {
    let mut out: Vec<String> = cx
        .computed
        .keys()
        .filter(|n| glob(pattern, n))
        .cloned()
        .collect();
    let table: Vec<String> = match &cx.available {
        Some(av) => av.iter().cloned().collect(),
        None => cx.columns.keys().cloned().collect(),
    };
    for c in table {
        let plain = c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if plain && glob(pattern, &c) && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn field_name_patterns() {
        assert!(glob("req_*", "req_src"));
        assert!(!glob("req_*", "Req_src"));
        assert!(glob("*_ip", "src_ip"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "acb"));
        assert!(glob("RTLO*", "RTLO"));
        assert!(!glob("ab*ba", "aba"));
    }
}
