//! SPL `inputlookup` as the first command of a query or sub-query: the rows
//! of the Sentinel watchlist of the same name (`_GetWatchlist('name')`), as
//! SPL `lookup` reads it (see [`super::subquery::lookup`]).
//!
//! Syntax (Splunk Search Reference, inputlookup):
//! `inputlookup [append=<bool>] [strict=<bool>] [start=<int>] [max=<int>]
//! (<filename> | <tablename>) [WHERE <search-query>]`.
//! `append` and `strict` change nothing for a first command; `start`, `max`
//! and `WHERE` are refused by name.

use super::ctx::Ctx;
use super::stages::{self, Pipe};
use super::text::lit;
use crate::diag::{codes, Diagnostic};
use crate::ir::{FieldScheme, Query, StageKind};
use crate::mapping::KqlMapping;

/// The profile of watchlist rows (in `mapping/data/kql.yml`).
const PROFILE: &str = "watchlist";

/// The lookup a first `inputlookup` command reads: its watchlist alias, or
/// what cannot be said.
fn table_name(text: &str) -> Result<String, String> {
    let mut words = text.split_whitespace();
    words.next(); // `inputlookup`
    let mut name = None;
    for w in words.by_ref() {
        match w.split_once('=') {
            Some((opt, _)) if name.is_none() => match opt.to_ascii_lowercase().as_str() {
                "append" | "strict" => {}
                other => return Err(format!("the inputlookup option `{other}`")),
            },
            _ => {
                name = Some(w.trim_matches('"').to_string());
                break;
            }
        }
    }
    if let Some(rest) = words.next() {
        return Err(format!(
            "`inputlookup ... {rest}` (a filter on the lookup rows)"
        ));
    }
    let name = name.ok_or("an `inputlookup` without a lookup name")?;
    // A lookup file (`x.csv`) is the watchlist `x`.
    Ok(name
        .strip_suffix(".csv.gz")
        .or_else(|| name.strip_suffix(".csv"))
        .unwrap_or(&name)
        .to_string())
}

/// `Some` when the query starts with `inputlookup` (and nothing else names
/// its source): its context and head, the later stages applied.
pub fn table_query<'m>(
    m: &'m KqlMapping,
    q: &Query,
    schema: &str,
    lenient: bool,
    lets: usize,
) -> Option<Result<(Ctx<'m>, Pipe), Vec<Diagnostic>>> {
    let first = q.stages.first()?;
    let StageKind::Opaque(o) = &first.kind else {
        return None;
    };
    if o.name != "inputlookup" || q.filter.is_some() {
        return None;
    }
    let Some(mut cx) = Ctx::new(m, PROFILE, "sentinel", lenient) else {
        return Some(Err(vec![Diagnostic::error(
            codes::UNMAPPED_SOURCE,
            format!("the mapping has no `{PROFILE}` profile for inputlookup rows"),
        )
        .at(first.span)]));
    };
    cx.profile_span = first.span;
    // Ordering stages need a time column; a watchlist item has this one.
    cx.time = "LastUpdatedTimeUTC".into();
    let name = match table_name(&o.text) {
        Ok(n) => n,
        Err(what) => {
            cx.refuse(first.span, what, "inputlookup");
            return Some(Err(cx.diags));
        }
    };
    cx.caveat(
        "watchlist",
        format!(
            "inputlookup `{name}` reads the rows of the Sentinel watchlist `{name}` (import it with the lookup's columns); its fields are read by name, empty where the watchlist lacks them"
        ),
        Some(first.span),
    );
    let mut pipe = Pipe::new(format!("{}({})", cx.profile.table, lit(&name)), schema);
    pipe.tables.push(cx.profile.table.clone());
    pipe.n = lets;
    // Lookup rows are not events: no time order.
    pipe.events = false;
    stages::run(&mut cx, &mut pipe, &q.stages[1..], FieldScheme::Raw);
    Some(Ok((cx, pipe)))
}

#[cfg(test)]
mod tests {
    use super::table_name;

    #[test]
    fn names_and_options() {
        assert_eq!(table_name("inputlookup seen_users").unwrap(), "seen_users");
        assert_eq!(
            table_name("inputlookup append=t linux_tools.csv").unwrap(),
            "linux_tools"
        );
        assert!(table_name("inputlookup max=5 x")
            .unwrap_err()
            .contains("`max`"));
        assert!(table_name("inputlookup x where a=1")
            .unwrap_err()
            .contains("filter"));
        assert!(table_name("inputlookup").is_err());
    }
}
