//! EQL sequences → ordered inner joins on the join keys, each step later
//! than the one before and within `maxspan` of the first. A sequence exists
//! in the joined rows exactly when EQL would find one; the rows are every
//! matching combination rather than EQL's one sequence per start event.
//! `until` and missing-event steps (`![...]`) are refused: an anti-join over
//! a time range between two joined events is not an exact rewrite here.

use super::{context, head, source, Built};
use crate::diag::Diagnostic;
use crate::ir::{Query, Rule, SeqStep, Sequence};
use crate::mapping::KqlMapping;

pub fn build(
    m: &KqlMapping,
    rule: &Rule,
    q: &Query,
    seq: &Sequence,
    schema: &str,
    lenient: bool,
) -> Result<Built, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    if let Some(u) = &seq.until {
        diags.push(
            Diagnostic::error(
                crate::diag::codes::REFUSED,
                "an EQL sequence with `until`: Kusto joins cannot end pending sequences exactly",
            )
            .at(u.span)
            .label("until"),
        );
    }
    for st in q.stages.iter().skip(1) {
        diags.push(
            Diagnostic::error(crate::diag::codes::REFUSED, "a pipe after a sequence")
                .at(st.span)
                .label("after the sequence"),
        );
    }
    let mut steps: Vec<&SeqStep> = Vec::new();
    for s in &seq.steps {
        if s.missing {
            diags.push(
                Diagnostic::error(
                    crate::diag::codes::REFUSED,
                    "a missing-event step `![...]` in a sequence",
                )
                .at(s.span)
                .label("missing event"),
            );
        }
        for _ in 0..s.runs.max(1) {
            steps.push(s);
        }
    }
    let nkeys = seq.by.len() + steps.first().map_or(0, |s| s.by.len());
    let mut lets = Vec::new();
    let mut tables = Vec::new();
    let mut caveats = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let n = i + 1;
        let facts = source::facts(&q.source, s.filter.as_ref(), &s.categories);
        let mut cx = match context(m, &facts, schema, lenient, s.span) {
            Ok(cx) => cx,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let mut pipe = head(&mut cx, q, s.filter.as_ref(), schema);
        let mut ext = vec![format!("__t{n} = {}", super::text::ident(&cx.time))];
        let keys: Vec<_> = seq.by.iter().chain(s.by.iter()).collect();
        if keys.len() != nkeys {
            cx.refuse(
                s.span,
                "sequence steps with different numbers of join keys",
                "by",
            );
        }
        for (k, f) in keys.iter().enumerate() {
            let c = cx.field(f);
            ext.push(format!("__k{k} = tostring({})", c.text));
        }
        if keys.is_empty() {
            ext.push("__k0 = 1".to_string());
        }
        pipe.op(format!("extend {}", ext.join(", ")));
        if !keys.is_empty() {
            let present: Vec<String> = (0..keys.len())
                .map(|k| format!("isnotempty(__k{k})"))
                .collect();
            pipe.op(format!("where {}", present.join(" and ")));
        }
        diags.append(&mut cx.diags);
        caveats.append(&mut cx.caveats);
        tables.push(cx.profile.table.clone());
        let mut body = pipe.text();
        // A step's own lets (eventstats) cannot occur: steps are filters only.
        body = body.replace('\n', "\n    ");
        lets.push(format!("let __step{n} = {body};"));
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    let on: Vec<String> = (0..nkeys.max(1)).map(|k| format!("__k{k}")).collect();
    let mut body = String::from("__step1");
    for n in 2..=steps.len() {
        body.push_str(&format!(
            "\n| join kind=inner (__step{n}) on {}",
            on.join(", ")
        ));
        let mut cond = format!("__t{n} > __t{}", n - 1);
        if let Some(d) = &seq.maxspan {
            cond.push_str(&format!(
                " and __t{n} - __t1 <= {}",
                super::text::timespan(d)
            ));
        }
        body.push_str(&format!("\n| where {cond}"));
    }
    let _ = rule;
    tables.dedup();
    Ok(Built {
        query: format!("{}\n{body}", lets.join("\n")),
        tables,
        caveats,
    })
}
