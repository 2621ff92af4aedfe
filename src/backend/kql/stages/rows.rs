//! Stages that choose rows by order or key: `sort`, `head`, `dedup`.

use super::{flush_needs, named, Pipe};
use crate::backend::kql::ctx::{Col, Ctx};
use crate::backend::kql::expr::scalar;
use crate::backend::kql::text::ident;
use crate::ir::*;

pub(super) fn sort(cx: &mut Ctx, pipe: &mut Pipe, keys: &[SortKey]) {
    let ks: Vec<String> = keys
        .iter()
        .map(|k| {
            let s = scalar(cx, &k.key);
            format!("{s} {}", if k.descending { "desc" } else { "asc" })
        })
        .collect();
    flush_needs(cx, pipe);
    pipe.op(format!("sort by {}", ks.join(", ")));
    pipe.last_sorted = true;
}

pub(super) fn limit(
    cx: &mut Ctx,
    pipe: &mut Pipe,
    count: u64,
    from_end: bool,
    sorted_before: bool,
    span: crate::span::Span,
) {
    if from_end {
        cx.refuse(span, "the last rows (`tail`) need a row order", "tail");
    } else if sorted_before {
        pipe.op(format!("take {count}"));
        pipe.last_sorted = true;
    } else if pipe.events {
        pipe.op(format!("top {count} by {} desc", ident(&cx.time)));
    } else {
        cx.caveat(
            "row-order",
            "the first rows of unsorted results: Kusto's order differs",
            Some(span),
        );
        pipe.op(format!("take {count}"));
    }
}

pub(super) fn dedup(
    cx: &mut Ctx,
    pipe: &mut Pipe,
    fields: &[FieldRef],
    count: u64,
    span: crate::span::Span,
) {
    if count != 1 {
        cx.refuse(span, format!("dedup keeping {count} rows per key"), "dedup");
        return;
    }
    // Kusto groups by no dynamic value: a multivalue key compares as text.
    let cols: Vec<Col> = fields
        .iter()
        .map(|f| {
            let c = cx.field(f);
            if c.is_dynamic() {
                Col {
                    text: format!("tostring({})", c.text),
                    ty: "string".into(),
                }
            } else {
                c
            }
        })
        .collect();
    let keys: Vec<String> = fields
        .iter()
        .zip(&cols)
        .map(|(f, c)| named(&f.name, c).1)
        .collect();
    let present: Vec<String> = cols
        .iter()
        .map(|c| format!("isnotempty({})", c.text))
        .collect();
    flush_needs(cx, pipe);
    pipe.op(format!("where {}", present.join(" and ")));
    // The time column may have been projected away (`table` first).
    let has_time = cx
        .available
        .as_ref()
        .is_none_or(|a| a.contains(&ident(&cx.time)));
    if pipe.events && has_time {
        pipe.op(format!(
            "summarize arg_max({}, *) by {}",
            ident(&cx.time),
            keys.join(", ")
        ));
    } else {
        cx.caveat(
            "row-order",
            "dedup keeps an arbitrary row per key",
            Some(span),
        );
        pipe.op(format!("summarize take_any(*) by {}", keys.join(", ")));
    }
}
