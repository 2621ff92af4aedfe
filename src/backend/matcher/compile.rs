//! Compiling the stateless rules of a set on every core.
//!
//! Rules share the field table (a field's number is its slot in every
//! event view), so compiling is serial in principle. Its bulk is per rule
//! and independent, though: the filter, the predicate tree, the exact
//! condition and the literal formula. So the fields the stateless filters
//! name are numbered first, in rule order, and each loading thread then
//! compiles rules against its own copy of that table; the copies agree with
//! the table because nothing new is numbered. A rule that numbers a field
//! of its own (one the walk over its filter did not see) is compiled again,
//! in order, against the table itself.

use super::fields::FieldTable;
use super::pred::{self, Ctx, Refusal};
use super::prefilter::{self, Req};
use super::strmatch::{self, Prebuilt};
use super::{exact, full_filter, output_only, Kind};
use crate::ir::{visit::expr_fields, Expr, Query, Rule};
use rayon::prelude::*;

/// What the literal index needs of a rule: its formula, its exact
/// condition (when the index decides it) and its log-source category.
pub(super) type IndexEntry = (Req, Option<exact::Exact>, Option<String>);

/// A compiled rule, or why it cannot be run.
pub(super) type RuleResult = Result<(Kind, IndexEntry), Refusal>;

/// A stateless rule's predicate compiled on a loading thread.
pub(super) struct Early {
    result: Result<Kind, Refusal>,
    /// Its compilation asked for every string of the event (keywords).
    want_strings: bool,
}

impl Early {
    /// The rule's predicate, and what it asked of the table.
    pub(super) fn finish(self, fields: &mut FieldTable) -> Result<Kind, Refusal> {
        fields.want_strings |= self.want_strings;
        self.result
    }
}

/// A rule with no stateful stage.
pub(super) fn is_stateless(q: &Query) -> bool {
    q.stages.iter().all(|s| output_only(&s.kind))
}

/// Compile a stateless rule's filter: its predicate, then its index entry.
pub(super) fn stateless(filter: &Expr, q: &Query, cx: &mut Ctx, decide: bool) -> RuleResult {
    let n = pred::compile(filter, cx)?;
    Ok((
        Kind::Stateless(n),
        index_entry(filter, q, cx.fields, decide),
    ))
}

/// What the literal index needs of a stateless rule's filter.
pub(super) fn index_entry(
    filter: &Expr,
    q: &Query,
    fields: &mut FieldTable,
    decide: bool,
) -> IndexEntry {
    let cat = q.source.logsource.as_ref().and_then(|l| l.category.clone());
    let exact = decide.then(|| exact::exact(filter, fields)).flatten();
    let formula = prefilter::formula(filter, fields);
    (formula, exact, cat)
}

/// The filters of the stateless rules of `rules` (`None`: stateful, or no
/// query), with the fields they name numbered in `fields`, in rule order.
pub(super) fn numbered_filters(rules: &[Rule], fields: &mut FieldTable) -> Vec<Option<Expr>> {
    let filters: Vec<Option<Expr>> = rules
        .par_iter()
        .map(|r| {
            let q = r.query.as_ref()?;
            is_stateless(q).then(|| full_filter(q))
        })
        .collect();
    for f in filters.iter().flatten() {
        expr_fields(f, &mut |r| {
            fields.intern(r);
        });
    }
    filters
}

/// `f` over each stateless rule, on every core, each thread against its
/// own copy of `table`; `None` for a rule whose `f` numbered a field of
/// its own (to be done again, in order, against the table itself).
fn on_every_core<T: Send>(
    rules: &[Rule],
    filters: &[Option<Expr>],
    table: &FieldTable,
    f: impl Fn(&mut FieldTable, &Query, &Expr) -> T + Sync,
) -> Vec<Option<T>> {
    rules
        .par_iter()
        .zip(filters)
        .with_min_len(16)
        .map_init(
            || table.clone(),
            |copy, (rule, filter)| {
                let (q, filter) = (rule.query.as_ref()?, filter.as_ref()?);
                let numbered = copy.len();
                let out = f(copy, q, filter);
                if copy.len() != numbered {
                    *copy = table.clone();
                    return None;
                }
                Some(out)
            },
        )
        .collect()
}

/// The index entries of the stateless rules, on every core.
pub(super) fn entries_on_every_core(
    rules: &[Rule],
    filters: &[Option<Expr>],
    table: &FieldTable,
    decide: bool,
) -> Vec<Option<IndexEntry>> {
    on_every_core(rules, filters, table, |copy, q, filter| {
        index_entry(filter, q, copy, decide)
    })
}

/// The predicates of the stateless rules, on every core.
pub(super) fn predicates_on_every_core(
    rules: &[Rule],
    filters: &[Option<Expr>],
    table: &FieldTable,
    regexes: &Prebuilt,
) -> Vec<Option<Early>> {
    on_every_core(rules, filters, table, |copy, q, filter| {
        copy.want_strings = false;
        let mut cx = Ctx {
            fields: copy,
            language: q.language,
        };
        let result = strmatch::with_prebuilt(regexes, || pred::compile(filter, &mut cx));
        Early {
            result: result.map(Kind::Stateless),
            want_strings: copy.want_strings,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::matcher::Engine;
    use crate::span::SourceMap;

    const RULES: &str = r#"
title: Plain
id: plain
logsource: {category: process_creation, product: windows}
detection:
    selection: {CommandLine|contains: 'whoami'}
    condition: selection
---
title: Field reference
id: fieldref
logsource: {category: process_creation, product: windows}
detection:
    selection: {User|fieldref: ParentUser}
    condition: selection
---
title: Keyword
id: keyword
logsource: {category: process_creation, product: windows}
detection:
    keywords: ['mimikatz']
    condition: keywords
---
title: Another plain
id: plain2
logsource: {category: process_creation, product: windows}
detection:
    selection: {Image|endswith: '\net.exe'}
    condition: selection
"#;

    fn rules() -> Vec<Rule> {
        rules_of(RULES)
    }

    fn rules_of(text: &str) -> Vec<Rule> {
        let mut sm = SourceMap::new();
        let file = sm.add("test.yml", text);
        crate::source::sigma::load(&sm, file)
            .into_iter()
            .map(|l| l.rule.expect("a rule"))
            .collect()
    }

    /// A rule that numbers a field its filter walk did not see (the other
    /// field of `fieldref`) is left to the ordered pass; keyword searches
    /// carry their request for every string; the others are compiled early.
    #[test]
    fn early_compilation_and_its_fallback() {
        let rules = rules();
        let mut fields = FieldTable::new();
        let filters = numbered_filters(&rules, &mut fields);
        let early = predicates_on_every_core(&rules, &filters, &fields, &Prebuilt::default());
        let kinds: Vec<_> = early
            .iter()
            .map(|e| e.as_ref().map(|e| (e.result.is_ok(), e.want_strings)))
            .collect();
        assert_eq!(
            kinds,
            [
                Some((true, false)),
                None,
                Some((true, true)),
                Some((true, false))
            ]
        );
        assert!(!fields.want_strings, "set only when a result is taken");
    }

    /// The engine compiled this way gives the verdicts of every rule,
    /// including the one compiled in order after a field of its own.
    #[test]
    fn engine_verdicts_with_the_fallback() {
        let (mut e, refused) = Engine::compile(&rules());
        assert!(refused.is_empty(), "{refused:?}");
        let mut ids = |ev: &str| -> Vec<String> {
            let alerts = e.eval(ev.as_bytes(), 0).unwrap();
            let mut v: Vec<_> = alerts
                .iter()
                .map(|a| e.rule_info(a.rule).id.clone())
                .collect();
            v.sort();
            v
        };
        let ev = |cmd: &str, user: &str, parent: &str, image: &str| {
            serde_json::json!({"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
                "CommandLine": cmd, "User": user, "ParentUser": parent, "Image": image})
            .to_string()
        };
        assert_eq!(ids(&ev("whoami /all", "a", "b", r"C:\x.exe")), ["plain"]);
        assert_eq!(ids(&ev("x", "a", "a", r"C:\x.exe")), ["fieldref"]);
        assert_eq!(
            ids(&ev("run mimikatz", "a", "b", r"C:\Windows\net.exe")),
            ["keyword", "plain2"]
        );
        assert!(ids(&ev("x", "a", "b", r"C:\x.exe")).is_empty());
    }

    /// The index is built while the predicates compile; a rule refused
    /// then (a regex the engine cannot run) leaves the index built again
    /// without it, so that the rules after it keep their own entries.
    #[test]
    fn index_built_ahead_and_again_after_a_refusal() {
        let refused_in_the_middle = RULES
            .replace(
                "selection: {User|fieldref: ParentUser}",
                "selection: {CommandLine|re: '(?<=x)y'}",
            )
            .replace("keywords: ['mimikatz']", "keywords: ['neverseen']");
        for (text, refusals) in [(RULES, 0), (refused_in_the_middle.as_str(), 1)] {
            let (mut e, refused) = Engine::compile(&rules_of(text));
            assert_eq!(refused.len(), refusals, "{refused:?}");
            if refusals > 0 {
                // The entries were computed again: the two plain rules are
                // ruled out by their literals (a keyword search by none).
                assert_eq!(e.prefiltered_rules(), 2);
            }
            let mut ids = |cmd: &str, image: &str| -> Vec<String> {
                let ev = serde_json::json!({"EventID": 1,
                    "Channel": "Microsoft-Windows-Sysmon/Operational",
                    "CommandLine": cmd, "User": "a", "ParentUser": "b", "Image": image});
                let alerts = e.eval(ev.to_string().as_bytes(), 0).unwrap();
                let mut v: Vec<_> = alerts
                    .iter()
                    .map(|a| e.rule_info(a.rule).id.clone())
                    .collect();
                v.sort();
                v
            };
            assert_eq!(ids("whoami", r"C:\x.exe"), ["plain"], "{text}");
            assert_eq!(ids("x", r"C:\Windows\net.exe"), ["plain2"], "{text}");
            assert!(ids("x", r"C:\x.exe").is_empty(), "{text}");
        }
        // Every rule plain: the index built ahead is the one kept.
        let plain: String = RULES
            .split("---")
            .filter(|r| r.contains("plain"))
            .collect::<Vec<_>>()
            .join("---");
        let (mut e, refused) = Engine::compile(&rules_of(&plain));
        assert!(refused.is_empty());
        let ev = serde_json::json!({"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
            "CommandLine": "cmd", "Image": r"C:\Windows\net.exe"});
        let alerts = e.eval(ev.to_string().as_bytes(), 0).unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(e.rule_info(alerts[0].rule).id, "plain2");
    }
}
