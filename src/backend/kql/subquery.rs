//! Sub-queries and enrichment: SPL `join` (Kusto `join kind=inner|leftouter`),
//! `append` (`union`), subsearches used as conditions (`join kind=leftsemi`
//! / `leftanti`), `lookup` against a Sentinel watchlist (`_GetWatchlist`),
//! and `iplocation` (`geo_info_from_ip_address`).
//!
//! A sub-query is built in its own context, from its own source (its own
//! table), and returns the fields its last aggregation or field list names,
//! under their SPL names; the main query then reads those names.

use super::ctx::{Col, Ctx};
use super::stages::{flush_needs, Pipe};
use super::text::{ident, lit};
use crate::ir::*;
use crate::span::Span;

/// A field a sub-query returns: its SPL name, its Kusto identifier in the
/// sub-query's projection, and its type.
struct Out {
    name: String,
    id: String,
    ty: String,
    col: String,
}

/// A sub-query built in its own context.
struct Sub {
    /// The tabular expression (its `let`s moved to the main query).
    text: String,
    /// The fields it returns; `None` when it returns whole events.
    outputs: Option<Vec<Out>>,
    /// The names it is grouped by last (each combination occurs once).
    unique_by: Option<Vec<String>>,
}

/// The fields a query's rows carry at its end, when they are named by an
/// aggregation or a field list (`None`: whole events).
fn output_fields(q: &Query) -> (Option<Vec<FieldRef>>, Option<Vec<FieldRef>>) {
    let mut out: Option<Vec<FieldRef>> = None;
    let mut unique: Option<Vec<FieldRef>> = None;
    let computed = |n: &str, s: Span| FieldRef::new(n, FieldScheme::Computed, s);
    for st in &q.stages {
        match &st.kind {
            StageKind::Aggregate(a) if a.mode == AggMode::Collapse => {
                let mut v = a.by.clone();
                if a.span.is_some() && !v.iter().any(|f| f.name == "_time") {
                    v.push(FieldRef::new("_time", FieldScheme::Raw, st.span));
                }
                unique = Some(v.clone());
                v.extend(a.aggs.iter().map(|g| computed(&g.alias, g.span)));
                out = Some(v);
            }
            StageKind::Aggregate(a) => {
                if let Some(o) = &mut out {
                    o.extend(a.aggs.iter().map(|g| computed(&g.alias, g.span)));
                }
            }
            StageKind::Eval(assigns) => {
                if let Some(o) = &mut out {
                    for a in assigns {
                        if !o.iter().any(|f| f.name == a.name) {
                            o.push(computed(&a.name, a.span));
                        }
                    }
                }
            }
            StageKind::Project { fields, drop } => {
                if *drop {
                    if let Some(o) = &mut out {
                        o.retain(|f| !fields.contains(&f.name));
                    }
                } else {
                    let scheme = super::source::default_scheme(q);
                    out = Some(
                        fields
                            .iter()
                            .map(|n| FieldRef::new(n.clone(), scheme, st.span))
                            .collect(),
                    );
                }
            }
            StageKind::Rename(pairs) => {
                if let Some(o) = &mut out {
                    for (from, to) in pairs
                        .iter()
                        .filter(|(a, b)| !a.contains('*') && !b.contains('*'))
                    {
                        // A data-model field is renamed by its short name.
                        let dotted = format!(".{from}");
                        if let Some(f) = o
                            .iter_mut()
                            .find(|f| &f.name == from || f.name.ends_with(&dotted))
                        {
                            *f = computed(to, f.span);
                        }
                    }
                }
            }
            StageKind::Lookup(l) => {
                if let Some(o) = &mut out {
                    o.extend(l.outputs.iter().map(|(_, n)| computed(n, st.span)));
                }
            }
            StageKind::Dedup { .. }
            | StageKind::Where(_)
            | StageKind::Sort(_)
            | StageKind::Limit { .. }
            | StageKind::FillNull { .. }
            | StageKind::Bin { .. }
            | StageKind::MvExpand { .. } => {}
            _ => {
                out = None;
                unique = None;
            }
        }
    }
    (out, unique)
}

/// A field resolved without reporting it: `None` when the context has no
/// column for it (nothing is recorded then).
pub fn probe(cx: &mut Ctx, f: &FieldRef) -> Option<Col> {
    let (d, c, needs) = (cx.diags.len(), cx.caveats.len(), cx.needs.clone());
    let col = cx.field(f);
    let failed = cx.diags.len() > d
        || cx.caveats[c..]
            .iter()
            .any(|k| k.code == "unmapped-field" || k.code == "dropped-by-aggregation")
        || col.text.starts_with("column_ifexists(");
    if failed {
        cx.diags.truncate(d);
        cx.caveats.truncate(c);
        cx.needs = needs;
        return None;
    }
    Some(col)
}

/// Indent a multi-line tabular expression placed inside parentheses.
fn nested(text: &str) -> String {
    text.replace('\n', "\n    ")
}

/// Build `q` in its own context; diagnostics and caveats go to `cx`, its
/// `let`s and tables to `pipe`. `extra` adds projected columns (join keys).
fn build(
    cx: &mut Ctx,
    pipe: &mut Pipe,
    q: &Query,
    extra: &dyn Fn(&mut Ctx, &[Out]) -> Vec<String>,
) -> Option<Sub> {
    let (mut scx, mut sp) =
        match super::table_query(cx.m, q, &pipe.schema, cx.lenient, cx.window.clone(), pipe.n) {
            Ok(x) => x,
            Err(d) => {
                cx.diags.extend(d);
                return None;
            }
        };
    let (fields, unique) = output_fields(q);
    let outputs = fields.map(|fs| {
        let mut outs: Vec<Out> = Vec::new();
        for f in &fs {
            let name = scx.strip_cim(f);
            if outs.iter().any(|o| o.name == name) {
                continue;
            }
            let c = scx.field(f);
            outs.push(Out {
                id: ident(&name),
                name,
                ty: c.ty,
                col: c.text,
            });
        }
        outs
    });
    if let Some(outs) = &outputs {
        let mut items = extra(&mut scx, outs);
        for o in outs {
            items.push(if o.col == o.id {
                o.id.clone()
            } else {
                format!("{} = {}", o.id, o.col)
            });
        }
        flush_needs(&mut scx, &mut sp);
        sp.op(format!("project {}", items.join(", ")));
    } else {
        let items = extra(&mut scx, &[]);
        flush_needs(&mut scx, &mut sp);
        if !items.is_empty() {
            sp.op(format!("extend {}", items.join(", ")));
        }
    }
    cx.diags.append(&mut scx.diags);
    for c in std::mem::take(&mut scx.caveats) {
        cx.caveat(&c.code, c.message, c.span);
    }
    pipe.lets.append(&mut sp.lets);
    pipe.n = sp.n;
    for t in sp.tables {
        if !pipe.tables.contains(&t) {
            pipe.tables.push(t);
        }
    }
    let unique_by = unique.map(|u| u.iter().map(|f| scx.strip_cim(f)).collect());
    Some(Sub {
        text: sp.body,
        outputs,
        unique_by,
    })
}

/// Whether the main rows already have a column named like `o`.
fn left_has(cx: &Ctx, o: &Out) -> bool {
    cx.computed.contains_key(&o.name)
        || match &cx.available {
            Some(av) => av.contains(&o.id),
            None => cx.columns.contains_key(&o.name),
        }
}

/// SPL `join` / `append`.
pub fn join(cx: &mut Ctx, pipe: &mut Pipe, j: &Join, span: Span) {
    if j.kind == JoinKind::Append {
        return append(cx, pipe, j, span);
    }
    if j.fields.is_empty() {
        cx.refuse(
            span,
            "a `join` without join fields (it joins on every field both sides share, which are not known here)",
            "join",
        );
        return;
    }
    if j.max > 1 {
        cx.refuse(
            span,
            format!(
                "`join max={}`: Kusto cannot keep N matching rows per key",
                j.max
            ),
            "join",
        );
        return;
    }
    let keys: Vec<String> = j.fields.iter().map(|f| cx.strip_cim(f)).collect();
    let missing: std::cell::RefCell<Vec<String>> = Default::default();
    let right_keys = |scx: &mut Ctx, outs: &[Out]| -> Vec<String> {
        let _ = scx;
        keys.iter()
            .enumerate()
            .map(|(i, k)| match outs.iter().find(|o| &o.name == k) {
                Some(o) => format!("__k{i} = tostring({})", o.col),
                None => {
                    missing.borrow_mut().push(k.clone());
                    format!("__k{i} = \"\"")
                }
            })
            .collect()
    };
    let Some(sub) = build(cx, pipe, &j.query, &right_keys) else {
        return;
    };
    let Some(outs) = &sub.outputs else {
        cx.refuse(
            j.query.span,
            "a `join` sub-query that returns whole events: its fields are not known (end it with `stats`, `table` or `fields`)",
            "join sub-query",
        );
        return;
    };
    for k in missing.into_inner() {
        cx.refuse(
            span,
            format!("the join field `{k}` is not among the fields the sub-query returns"),
            "join field",
        );
    }
    let left = j.kind == JoinKind::Left;
    let mut right = sub.text.clone();
    let on: Vec<String> = (0..keys.len()).map(|i| format!("__k{i}")).collect();
    let unique = sub
        .unique_by
        .as_ref()
        .is_some_and(|u| u.iter().all(|n| keys.contains(n)));
    // A row without the join field joins nothing (Kusto would pair "" with "").
    let present: Vec<String> = on.iter().map(|k| format!("isnotempty({k})")).collect();
    right.push_str(&format!("\n| where {}", present.join(" and ")));
    if left {
        right.push_str("\n| extend __matched = true");
    }
    if j.max == 1 && !unique {
        cx.caveat(
            "join-max",
            "SPL `join` (max=1) joins each row with the first matching sub-query row; Kusto takes an arbitrary one per key",
            Some(span),
        );
        right.push_str(&format!("\n| summarize take_any(*) by {}", on.join(", ")));
    }
    let lk: Vec<String> = j
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| format!("__k{i} = tostring({})", cx.field(f).text))
        .collect();
    flush_needs(cx, pipe);
    pipe.op(format!("extend {}", lk.join(", ")));
    pipe.op(format!(
        "join kind={} ({}) on {}",
        if left { "leftouter" } else { "inner" },
        nested(&right),
        on.join(", ")
    ));
    let mut away: Vec<String> = on.clone();
    away.extend(on.iter().map(|k| format!("{k}1")));
    let mut ext = Vec::new();
    for o in outs.iter().filter(|o| !keys.contains(&o.name)) {
        if left_has(cx, o) {
            // SPL: the sub-query's value overwrites the row's (overwrite=true).
            let renamed = ident(&format!("{}1", o.name));
            let value = if left {
                let mine = cx
                    .computed
                    .get(&o.name)
                    .or(cx.columns.get(&o.name))
                    .cloned()
                    .unwrap_or_else(|| "string".into());
                if mine == o.ty {
                    format!("iff(isnotnull(__matched), {renamed}, {})", o.id)
                } else {
                    format!(
                        "iff(isnotnull(__matched), tostring({renamed}), tostring({}))",
                        o.id
                    )
                }
            } else {
                renamed.clone()
            };
            ext.push(format!("{} = {value}", o.id));
            away.push(renamed);
        }
        cx.computed.insert(o.name.clone(), o.ty.clone());
    }
    if left {
        away.push("__matched".into());
    }
    if !ext.is_empty() {
        pipe.op(format!("extend {}", ext.join(", ")));
    }
    pipe.op(format!("project-away {}", away.join(", ")));
}

/// SPL `append`: the sub-query's rows after the main rows (`union`).
fn append(cx: &mut Ctx, pipe: &mut Pipe, j: &Join, span: Span) {
    let Some(sub) = build(cx, pipe, &j.query, &|_, _| Vec::new()) else {
        return;
    };
    let Some(outs) = &sub.outputs else {
        cx.refuse(
            j.query.span,
            "an `append` sub-query that returns whole events: its fields are not known (end it with `stats`, `table` or `fields`)",
            "append sub-query",
        );
        return;
    };
    // Read what the main rows call each returned field, before the union.
    let mut ext = Vec::new();
    let mut mine = Vec::new();
    for o in outs {
        let f = FieldRef::new(o.name.clone(), FieldScheme::Computed, span);
        let own = if cx.computed.contains_key(&o.name) {
            None
        } else {
            let guess = FieldRef::new(o.name.clone(), FieldScheme::Raw, span);
            probe(cx, &guess).or_else(|| {
                let cim = FieldRef::new(o.name.clone(), FieldScheme::Cim, span);
                probe(cx, &cim)
            })
        };
        let _ = f;
        mine.push((o, own));
    }
    flush_needs(cx, pipe);
    pipe.op(format!("union ({})", nested(&sub.text)));
    for (o, own) in mine {
        if let Some(c) = own.filter(|c| c.text != o.id) {
            let same = c.ty == o.ty;
            let (a, b) = if same {
                (o.id.clone(), c.text.clone())
            } else {
                (
                    format!("tostring({})", o.id),
                    format!("tostring({})", c.text),
                )
            };
            let empty = if same && c.is_string() {
                format!("isempty({})", o.id)
            } else {
                format!("isnull({})", o.id)
            };
            ext.push(format!("{} = iff({empty}, {b}, {a})", o.id));
        }
        cx.computed.insert(o.name.clone(), o.ty.clone());
    }
    if !ext.is_empty() {
        pipe.op(format!("extend {}", ext.join(", ")));
    }
    if let Some(av) = &mut cx.available {
        av.extend(outs.iter().map(|o| o.id.clone()));
    }
}

/// A subsearch used as a condition (`search ... [search ... | fields f]`):
/// the rows whose fields equal (case-insensitively, as the search command
/// compares) those of some sub-query row; `negate` for `NOT [ ... ]`.
pub fn semi(
    cx: &mut Ctx,
    pipe: &mut Pipe,
    q: &Query,
    negate: bool,
    span: Span,
    scheme: FieldScheme,
) {
    let keys = |_: &mut Ctx, outs: &[Out]| -> Vec<String> {
        outs.iter()
            .enumerate()
            .map(|(i, o)| format!("__s{i} = tolower(tostring({}))", o.col))
            .collect()
    };
    let Some(sub) = build(cx, pipe, q, &keys) else {
        return;
    };
    let Some(outs) = &sub.outputs else {
        cx.refuse(
            q.span,
            "a subsearch that returns whole events: the fields it returns are not known (end it with `fields`, `table` or `stats`)",
            "subsearch",
        );
        return;
    };
    if let Some(o) = outs
        .iter()
        .find(|o| o.name == "search" || o.name == "query")
    {
        cx.refuse(
            q.span,
            format!(
                "a subsearch returning `{}` (search text, not field values)",
                o.name
            ),
            "subsearch",
        );
        return;
    }
    if outs.is_empty() {
        cx.refuse(q.span, "a subsearch that returns no fields", "subsearch");
        return;
    }
    cx.caveat(
        "subsearch-values",
        "subsearch values are compared whole and case-insensitively; a `*` in a returned value is a wildcard in Splunk, literal here",
        Some(span),
    );
    let on: Vec<String> = (0..outs.len()).map(|i| format!("__s{i}")).collect();
    let lk: Vec<String> = outs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let c = cx.field(&FieldRef::new(o.name.clone(), scheme, span));
            format!("__s{i} = tolower(tostring({}))", c.text)
        })
        .collect();
    let present: Vec<String> = on.iter().map(|k| format!("isnotempty({k})")).collect();
    let right = format!(
        "{}\n| project {}\n| where {}",
        sub.text,
        on.join(", "),
        present.join(" and ")
    );
    flush_needs(cx, pipe);
    pipe.op(format!("extend {}", lk.join(", ")));
    pipe.op(format!(
        "join kind={} ({}) on {}",
        if negate { "leftanti" } else { "leftsemi" },
        nested(&right),
        on.join(", ")
    ));
    pipe.op(format!("project-away {}", on.join(", ")));
}

/// SPL `lookup`: a Sentinel watchlist of the same name, or `iplocation`.
pub fn lookup(cx: &mut Ctx, pipe: &mut Pipe, l: &Lookup, span: Span, scheme: FieldScheme) {
    if l.table == "iplocation" {
        return iplocation(cx, pipe, l, span, scheme);
    }
    if l.outputs.is_empty() {
        cx.refuse(
            span,
            format!(
                "the lookup `{}` without OUTPUT fields: the columns of the table are not known",
                l.table
            ),
            "lookup",
        );
        return;
    }
    cx.caveat(
        "watchlist",
        format!(
            "lookup `{0}` reads the Sentinel watchlist `{0}` (import it with the lookup's columns); matched exactly and case-sensitively, one row per matching item, OUTPUTNEW as OUTPUT",
            l.table
        ),
        Some(span),
    );
    let mut left = Vec::new();
    let mut right = Vec::new();
    let mut on = Vec::new();
    for (i, (table_field, event_field)) in l.match_fields.iter().enumerate() {
        let c = cx.field(&FieldRef::new(event_field.clone(), scheme, span));
        left.push(format!("__l{i} = tostring({})", c.text));
        right.push(format!(
            "__l{i} = tostring(column_ifexists({}, \"\"))",
            lit(table_field)
        ));
        on.push(format!("__l{i}"));
    }
    let mut ext = Vec::new();
    let mut away = on.clone();
    for (i, (table_field, out)) in l.outputs.iter().enumerate() {
        right.push(format!(
            "__o{i} = tostring(column_ifexists({}, \"\"))",
            lit(table_field)
        ));
        ext.push(format!("{} = __o{i}", ident(out)));
        away.push(format!("__o{i}"));
    }
    flush_needs(cx, pipe);
    pipe.op(format!("extend {}", left.join(", ")));
    pipe.op(format!(
        "lookup kind=leftouter (_GetWatchlist({}) | project {}) on {}",
        lit(&l.table),
        right.join(", "),
        on.join(", ")
    ));
    pipe.op(format!("extend {}", ext.join(", ")));
    pipe.op(format!("project-away {}", away.join(", ")));
    for (_, out) in &l.outputs {
        cx.computed.insert(out.clone(), "string".into());
    }
}

/// SPL `iplocation`: City, Country, Region, lat, lon from Kusto's
/// `geo_info_from_ip_address` (both read MaxMind GeoLite2 data).
fn iplocation(cx: &mut Ctx, pipe: &mut Pipe, l: &Lookup, span: Span, scheme: FieldScheme) {
    let Some((_, ip)) = l.match_fields.first() else {
        cx.refuse(span, "`iplocation` without an IP field", "iplocation");
        return;
    };
    let c = cx.field(&FieldRef::new(ip.clone(), scheme, span));
    cx.caveat(
        "iplocation",
        "iplocation: Kusto's geo_info_from_ip_address reads its own GeoLite2 release; locations can differ from Splunk's database",
        Some(span),
    );
    let mut ext = Vec::new();
    for (src, out) in &l.outputs {
        let (key, ty) = match src.as_str() {
            "City" => ("city", "string"),
            "Country" => ("country", "string"),
            "Region" => ("state", "string"),
            "lat" => ("latitude", "real"),
            "lon" => ("longitude", "real"),
            other => {
                cx.refuse(
                    span,
                    format!("the iplocation field `{other}` has no Kusto equivalent"),
                    "iplocation",
                );
                continue;
            }
        };
        let conv = if ty == "real" { "toreal" } else { "tostring" };
        ext.push(format!("{} = {conv}(__geo.{key})", ident(out)));
        cx.computed.insert(out.clone(), ty.into());
    }
    flush_needs(cx, pipe);
    pipe.op(format!(
        "extend __geo = geo_info_from_ip_address(tostring({}))",
        c.text
    ));
    pipe.op(format!("extend {}", ext.join(", ")));
    pipe.op("project-away __geo");
}
