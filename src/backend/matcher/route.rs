//! Routing by log source, before anything else: rules are grouped by their
//! Sigma logsource category, each group with its own literal index; an
//! event's category is read from the fields that decide it (a Sysmon
//! `EventID` in the Sysmon channel or from its provider) and only the groups it
//! can belong to are scanned. An event whose category is unknown meets every
//! group (fail-open), and rules without a category meet every event. EQL
//! `process where` needs no routing here: its `event.category` test is a
//! literal of the rule's formula in the index.

use super::exact::Exact;
use super::fields::{EventView, FieldId, FieldTable};
use super::prefilter::{Prefilter, Req, Scratch, DECIDED};
use crate::ir::{FieldRef, FieldScheme};
use crate::span::Span;

/// Sigma categories and the Sysmon event IDs that carry them (Sigma's
/// Sysmon pipeline; `registry_event` is all three registry IDs).
const SYSMON: &[(&str, &[u32])] = &[
    ("process_creation", &[1]),
    ("file_change", &[2]),
    ("network_connection", &[3]),
    ("sysmon_status", &[4, 16]),
    ("process_termination", &[5]),
    ("driver_load", &[6]),
    ("image_load", &[7]),
    ("create_remote_thread", &[8]),
    ("raw_access_thread", &[9]),
    ("process_access", &[10]),
    ("file_event", &[11]),
    ("registry_add", &[12]),
    ("registry_delete", &[12]),
    ("registry_set", &[13]),
    ("registry_rename", &[14]),
    ("registry_event", &[12, 13, 14]),
    ("create_stream_hash", &[15]),
    ("pipe_created", &[17, 18]),
    ("wmi_event", &[19, 20, 21]),
    ("dns_query", &[22]),
    ("file_delete", &[23, 26]),
    ("clipboard_capture", &[24]),
    ("process_tampering", &[25]),
    ("file_delete_detected", &[26]),
    ("file_block_executable", &[27]),
    ("file_block_shredding", &[28]),
    ("file_executable_detected", &[29]),
    ("sysmon_error", &[255]),
];

pub(crate) const SYSMON_CHANNEL: &str = "Microsoft-Windows-Sysmon/Operational";
pub(crate) const SYSMON_PROVIDER: &str = "Microsoft-Windows-Sysmon";

/// The Sysmon event IDs a Sigma logsource category admits (`None`: the
/// category is not a Sysmon one, so every event may belong to it).
pub(crate) fn sysmon_ids(category: &str) -> Option<&'static [u32]> {
    category_index(category).map(|i| SYSMON[i].1)
}

/// What the router needs of a rule: its literal formula, its exact
/// condition (when the index decides it) and its logsource category.
pub type RouteRule = (Req, Option<Exact>, Option<String>);

struct Group {
    /// Index into [`SYSMON`]; `None`: rules that meet every event.
    category: Option<usize>,
    index: Prefilter,
    /// Local rule index to engine rule index.
    rules: Vec<u32>,
}

/// The routed literal index of a rule set.
pub struct Router {
    groups: Vec<Group>,
    sysmon: SysmonId,
}

/// The fields that tell a Sysmon event's ID.
#[derive(Clone, Copy)]
pub(crate) struct SysmonId {
    event_id: FieldId,
    channel: FieldId,
    provider: FieldId,
}

impl SysmonId {
    pub(crate) fn new(fields: &mut FieldTable) -> SysmonId {
        let mut field =
            |n: &str| fields.intern(&FieldRef::new(n, FieldScheme::Sigma, Span::default()));
        SysmonId {
            event_id: field("EventID"),
            channel: field("Channel"),
            provider: field("Provider_Name"),
        }
    }

    /// The Sysmon event ID of an event from the Sysmon channel or provider.
    pub(crate) fn of(&self, ev: &EventView) -> Option<u32> {
        let is = |f: FieldId, want: &str| {
            ev.first(f)
                .and_then(|l| l.text())
                // As written first (one compare), then in any case.
                .is_some_and(|t| *t == *want || t.eq_ignore_ascii_case(want))
        };
        if !(is(self.channel, SYSMON_CHANNEL) || is(self.provider, SYSMON_PROVIDER)) {
            return None;
        }
        ev.first(self.event_id)?.text()?.trim().parse().ok()
    }

    /// Whether an event can be of a Sigma logsource category (fail-open:
    /// only a Sysmon event of another category cannot).
    pub(crate) fn admits(&self, category: Option<&str>, ev: &EventView) -> bool {
        match category.and_then(sysmon_ids) {
            Some(ids) => self.of(ev).is_none_or(|id| ids.contains(&id)),
            None => true,
        }
    }
}

fn category_index(c: &str) -> Option<usize> {
    SYSMON.iter().position(|(n, _)| n.eq_ignore_ascii_case(c))
}

impl Router {
    /// Per rule: its literal formula, its exact condition (when the index
    /// decides it) and its Sigma logsource category.
    pub fn new(rules: Vec<RouteRule>, fields: &mut FieldTable) -> Router {
        Router::with_sysmon(rules, SysmonId::new(fields))
    }

    /// [`Router::new`] with the Sysmon fields already numbered (the index
    /// can then be built while the rules' predicates compile).
    pub(crate) fn with_sysmon(rules: Vec<RouteRule>, sysmon: SysmonId) -> Router {
        // Per category: its rules' index inputs and their numbers.
        type Part = (Option<usize>, Vec<(Req, Option<Exact>)>, Vec<u32>);
        let mut parts: Vec<Part> = Vec::new();
        for (i, (req, exact, cat)) in rules.into_iter().enumerate() {
            let c = cat.as_deref().and_then(category_index);
            let g = match parts.iter().position(|p| p.0 == c) {
                Some(g) => g,
                None => {
                    parts.push((c, Vec::new(), Vec::new()));
                    parts.len() - 1
                }
            };
            parts[g].1.push((req, exact));
            parts[g].2.push(i as u32);
        }
        let groups = parts
            .into_iter()
            .map(|(category, reqs, rules)| Group {
                category,
                index: Prefilter::new(&reqs),
                rules,
            })
            .collect();
        Router { groups, sysmon }
    }

    /// Whether every rule has a category: an event of a known Sysmon
    /// category no group takes can then be dropped unread
    /// ([`Router::rules_out`]).
    pub fn all_categorised(&self) -> bool {
        !self.groups.is_empty() && self.groups.iter().all(|g| g.category.is_some())
    }

    /// The event's Sysmon ID (from the values read so far) with whether no
    /// group takes it (`true`: the event can be dropped unread); `None`
    /// while unknown. Only for [`Router::all_categorised`] rule sets.
    pub fn rules_out(&self, ev: &EventView) -> Option<(u32, bool)> {
        let id = self.sysmon.of(ev)?;
        Some((
            id,
            !self
                .groups
                .iter()
                .any(|g| Self::admits(g.category, Some(id))),
        ))
    }

    /// Rules the index decides without evaluating them.
    pub fn decided_rules(&self) -> usize {
        self.groups.iter().map(|g| g.index.decided_rules()).sum()
    }

    /// Rules the index can rule out without evaluating them.
    pub fn filtered_rules(&self) -> usize {
        self.groups.iter().map(|g| g.index.filtered_rules()).sum()
    }

    /// Whether an event of this Sysmon ID can be in a group's category.
    fn admits(category: Option<usize>, id: Option<u32>) -> bool {
        match (category, id) {
            (Some(c), Some(id)) => SYSMON[c].1.contains(&id),
            _ => true,
        }
    }

    /// The candidate rules of an event (engine indexes, sorted).
    pub fn candidates(&self, ev: &EventView, s: &mut Scratch, out: &mut Vec<u32>) {
        self.candidates_of(ev, None, s, out);
    }

    /// [`Router::candidates`] of an event whose Sysmon ID is `known`
    /// already (from [`Router::rules_out`]; `None`: read it here).
    pub fn candidates_of(
        &self,
        ev: &EventView,
        known: Option<u32>,
        s: &mut Scratch,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        // The same answer whatever else is in the rule set: a categorised rule
        // never meets a Sysmon event of another category.
        let id = if self.groups.iter().any(|g| g.category.is_some()) {
            known.or_else(|| self.sysmon.of(ev))
        } else {
            None
        };
        let mut local = std::mem::take(&mut s.local);
        for g in &self.groups {
            if !Self::admits(g.category, id) {
                continue;
            }
            g.index.candidates(ev, s, &mut local);
            out.extend(
                local
                    .iter()
                    .map(|r| g.rules[(r & !DECIDED) as usize] | (r & DECIDED)),
            );
        }
        s.local = local;
        out.sort_unstable_by_key(|r| r & !DECIDED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysmon_events_meet_their_category_only() {
        let mut t = FieldTable::new();
        let r = |c: Option<&str>| (Req::True, None, c.map(String::from));
        let router = Router::new(
            vec![
                r(Some("process_creation")),
                r(Some("image_load")),
                r(None),
                r(Some("x")),
            ],
            &mut t,
        );
        let (mut s, mut out) = (Scratch::default(), Vec::new());
        let mut run = |e: &str| {
            let ev = EventView::parse(&t, e).unwrap();
            router.candidates(&ev, &mut s, &mut out);
            out.clone()
        };
        let ch = SYSMON_CHANNEL;
        assert_eq!(
            run(&format!(r#"{{"EventID":1,"Channel":"{ch}"}}"#)),
            vec![0, 2, 3]
        );
        assert_eq!(
            run(&format!(r#"{{"EventID":"7","Channel":"{ch}"}}"#)),
            vec![1, 2, 3]
        );
        // evtx shape; not Sysmon; no channel: every rule.
        let evtx = r##"{"Event":{"System":{"EventID":7,"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}}}}}"##;
        assert_eq!(run(evtx), vec![1, 2, 3]);
        assert_eq!(run(r#"{"EventID":7,"Channel":"System"}"#), vec![0, 1, 2, 3]);
        assert_eq!(run(r#"{"EventID":7}"#), vec![0, 1, 2, 3]);
        let seven = format!(r#"{{"EventID":7,"Channel":"{ch}"}}"#);
        let ev = EventView::parse(&t, &seven).unwrap();
        // A known ID is taken as given, not read again.
        router.candidates_of(&ev, Some(1), &mut s, &mut out);
        assert_eq!(out, vec![0, 2, 3]);
    }
}

#[cfg(test)]
mod single_group_tests {
    use super::*;

    /// The answer does not depend on the rest of the rule set: a rule set of
    /// process_creation rules alone still never meets a Sysmon file event.
    #[test]
    fn one_category_still_routes() {
        let mut t = FieldTable::new();
        let router = Router::new(
            vec![(Req::True, None, Some("process_creation".into()))],
            &mut t,
        );
        let (mut s, mut out) = (Scratch::default(), Vec::new());
        let file_event = format!(r#"{{"EventID":11,"Channel":"{SYSMON_CHANNEL}"}}"#);
        let ev = EventView::parse(&t, &file_event).unwrap();
        router.candidates(&ev, &mut s, &mut out);
        assert!(out.is_empty());
        // `rules_out` tells the ID and that no group takes it.
        assert_eq!(router.rules_out(&ev), Some((11, true)));
        let process_event = format!(r#"{{"EventID":1,"Channel":"{SYSMON_CHANNEL}"}}"#);
        let ev = EventView::parse(&t, &process_event).unwrap();
        router.candidates(&ev, &mut s, &mut out);
        assert_eq!(out, vec![0]);
        assert_eq!(router.rules_out(&ev), Some((1, false)));
        assert_eq!(router.rules_out(&EventView::parse(&t, "{}").unwrap()), None);
    }
}
