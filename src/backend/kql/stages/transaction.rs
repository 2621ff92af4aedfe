//! SPL `transaction` (kept by the front-end as an opaque stage, read here
//! from its text): events grouped per value of the transaction fields into
//! sessions with Kusto's `row_window_session`, one row per transaction.
//!
//! Splunk Search Reference, transaction: a transaction has "the time and
//! date fields of the earliest member, as well as the union of all other
//! fields of each member", plus `duration` (seconds from the first to the
//! last event) and `eventcount`. `maxspan` / `maxpause` bound a session
//! (`row_window_session`'s two distances); `startswith` / `endswith` open
//! and close one, and without `keepevicted` only closed transactions are
//! returned.

use super::{flush_needs, Pipe};
use crate::backend::kql::ctx::Ctx;
use crate::backend::kql::expr::expr;
use crate::backend::kql::text::{ident, timespan};
use crate::ir::*;
use crate::span::{Origin, Span};

/// No bound: ten years.
const UNBOUNDED: &str = "3650d";

/// The words of the command text; parenthesized and quoted values stay
/// whole; commas separate like blanks. With each word its byte offset.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, None);
    let b = text.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        let blank = !quoted && depth == 0 && (c.is_ascii_whitespace() || c == b',');
        if blank {
            if let Some(s) = start.take() {
                out.push((s, &text[s..i]));
            }
            continue;
        }
        start.get_or_insert(i);
        match c {
            b'"' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// A `startswith=(<search>)` condition, compiled as an SPL search.
fn condition(value: &str, at: usize, span: Span) -> Result<Expr, String> {
    let inner = value
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .ok_or_else(|| {
            format!("the transaction condition `{value}` (only `(<search>)` is read)")
        })?;
    let origin = Origin::verbatim(span.file, span.start as usize + at + 1);
    let c = crate::lang::spl::compile(&crate::lang::Input {
        text: inner,
        origin: &origin,
    })
    .map_err(|_| format!("the transaction condition `{value}` does not parse"))?;
    let q = c.query;
    let plain = q.stages.is_empty()
        && q.source.sourcetypes.is_empty()
        && q.source.sources.is_empty()
        && q.source.indexes.is_empty()
        && q.source.datamodel.is_none();
    match q.filter {
        Some(e) if plain => Ok(e),
        _ => Err(format!(
            "the transaction condition `{value}` (only a plain search is read)"
        )),
    }
}

/// What the command says.
#[derive(Default)]
struct Spec {
    fields: Vec<FieldRef>,
    maxspan: Option<Duration>,
    maxpause: Option<Duration>,
    starts: Option<Expr>,
    ends: Option<Expr>,
}

fn spec(o: &Opaque, span: Span, scheme: FieldScheme) -> Result<Spec, String> {
    let mut s = Spec::default();
    let ws = words(&o.text);
    for &(at, w) in ws.iter().skip(1) {
        let Some((k, v)) = w.split_once('=') else {
            s.fields.push(FieldRef::new(w, scheme, span));
            continue;
        };
        let duration = |v: &str| match v.trim() {
            "-1" => Ok(None),
            t => Duration::parse(t)
                .map(Some)
                .ok_or_else(|| format!("the transaction duration `{w}`")),
        };
        let flag = v.trim_matches('"').to_ascii_lowercase();
        let on = matches!(flag.as_str(), "t" | "true" | "1");
        match k.to_ascii_lowercase().as_str() {
            "maxspan" => s.maxspan = duration(v)?,
            "maxpause" => s.maxpause = duration(v)?,
            "startswith" => s.starts = Some(condition(v, at + k.len() + 1, span)?),
            "endswith" => s.ends = Some(condition(v, at + k.len() + 1, span)?),
            // Connected or not, a transaction here joins only events that
            // carry every transaction field (see the caveat).
            "connected" | "maxevents" | "maxopentxn" | "maxopenevents" | "nullstr" | "delim"
            | "mvraw" | "mvlist" | "unifyends" => {}
            "keepevicted" | "keeporphans" if !on => {}
            other => return Err(format!("the transaction option `{other}`")),
        }
    }
    Ok(s)
}

/// `transaction <fields> [options]`.
pub(super) fn transaction(
    cx: &mut Ctx,
    pipe: &mut Pipe,
    o: &Opaque,
    span: Span,
    scheme: FieldScheme,
) {
    let s = match spec(o, span, scheme) {
        Ok(s) => s,
        Err(what) => return cx.refuse(span, what, "transaction"),
    };
    let t = ident(&cx.time);
    if cx.available.as_ref().is_some_and(|a| !a.contains(&t)) {
        return cx.refuse(
            span,
            "a `transaction` after a stage that dropped the event time",
            "transaction",
        );
    }
    let keys: Vec<String> = s
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| format!("__tk{i} = tostring({})", cx.field(f).text))
        .collect();
    let starts = s.starts.as_ref().map(|e| expr(cx, e));
    let ends = s.ends.as_ref().map(|e| expr(cx, e));
    cx.caveat(
        "transaction",
        "transaction: one row per transaction with the fields of its earliest event (SPL gathers every value of each field of its events); events lacking a transaction field are left out; maxevents is not enforced",
        Some(span),
    );
    flush_needs(cx, pipe);
    let names: Vec<String> = (0..keys.len()).map(|i| format!("__tk{i}")).collect();
    let mut ext = keys.clone();
    ext.extend(starts.iter().map(|c| format!("__ts = ({c})")));
    ext.extend(ends.iter().map(|c| format!("__te = ({c})")));
    if !ext.is_empty() {
        pipe.op(format!("extend {}", ext.join(", ")));
    }
    if !names.is_empty() {
        let present: Vec<String> = names.iter().map(|k| format!("isnotempty({k})")).collect();
        pipe.op(format!("where {}", present.join(" and ")));
    }
    let mut order: Vec<String> = names.iter().map(|k| format!("{k} asc")).collect();
    order.push(format!("{t} asc"));
    pipe.op(format!("sort by {}", order.join(", ")));
    // A new session at another key, at a start event, after an end event.
    let mut restart: Vec<String> = names.iter().map(|k| format!("{k} != prev({k})")).collect();
    if starts.is_some() {
        restart.push("__ts".into());
    }
    if ends.is_some() {
        restart.push("coalesce(prev(__te), false)".into());
    }
    let span_of = |d: &Option<Duration>| d.as_ref().map(timespan);
    let (maxspan, maxpause) = match (span_of(&s.maxspan), span_of(&s.maxpause)) {
        (None, None) => (UNBOUNDED.to_string(), UNBOUNDED.to_string()),
        (Some(a), None) => (a.clone(), a),
        (None, Some(b)) => (UNBOUNDED.to_string(), b),
        (Some(a), Some(b)) => (a, b),
    };
    let restart = if restart.is_empty() {
        String::new()
    } else {
        format!(", {}", restart.join(" or "))
    };
    pipe.op(format!(
        "extend __tx = row_window_session({t}, {maxspan}, {maxpause}{restart})"
    ));
    let mut aggs = vec![
        format!("arg_min({t}, *)"),
        "eventcount = count()".to_string(),
        format!("__tlast = max({t})"),
    ];
    let mut closed = Vec::new();
    if starts.is_some() {
        aggs.push("__tstarts = countif(__ts)".into());
        closed.push("__tstarts > 0");
    }
    if ends.is_some() {
        aggs.push("__tends = countif(__te)".into());
        closed.push("__tends > 0");
    }
    let mut by = names.clone();
    by.push("__tx".into());
    pipe.op(format!(
        "summarize {} by {}",
        aggs.join(", "),
        by.join(", ")
    ));
    if !closed.is_empty() {
        // Only closed transactions (no keepevicted).
        pipe.op(format!("where {}", closed.join(" and ")));
    }
    pipe.op(format!("extend duration = (__tlast - {t}) / 1s"));
    let mut away = by;
    away.push("__tlast".into());
    away.extend(starts.iter().map(|_| "__ts".to_string()));
    away.extend(starts.iter().map(|_| "__tstarts".to_string()));
    away.extend(ends.iter().map(|_| "__te".to_string()));
    away.extend(ends.iter().map(|_| "__tends".to_string()));
    pipe.op(format!("project-away {}", away.join(", ")));
    cx.computed.insert("eventcount".into(), "long".into());
    cx.computed.insert("duration".into(), "real".into());
    if let Some(av) = &mut cx.available {
        av.insert("eventcount".into());
        av.insert("duration".into());
    }
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn words_keep_groups_whole() {
        let w: Vec<&str> =
            words("transaction a, b startswith=(EventCode=1 OR x=\"a b\") maxspan=5m")
                .into_iter()
                .map(|(_, w)| w)
                .collect();
        assert_eq!(
            w,
            vec![
                "transaction",
                "a",
                "b",
                "startswith=(EventCode=1 OR x=\"a b\")",
                "maxspan=5m"
            ]
        );
    }
}
