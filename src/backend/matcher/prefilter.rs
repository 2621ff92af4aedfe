//! The literal index: which rules can match an event, from the literals its
//! field values contain, before any rule is evaluated.
//!
//! Each rule's condition is reduced to a *formula* over `(field, fragment)`
//! literals, a necessary condition: `CommandLine ∋ "urlcache" & (Image ∋
//! "certutil" | OriginalFileName ∋ "certutil")`; negations, numbers, regexes
//! and fragments shorter than [`MIN_LIT`] count as `true`. From the formula,
//! a *trigger* (one clause of it: a set of literals of which every match has
//! at least one, long ones preferred; each worker re-picks it from the
//! literals its events contain, see `adapt.rs`). Per field, one Aho-Corasick automaton
//! over every rule's fragments on that field (ASCII case-insensitive) scans
//! each value of the field once per event; the literals found name the
//! triggered rules, and those whose formula holds are the candidates. Only
//! candidates are evaluated.
//!
//! A fragment is the longest ASCII run of a pattern's literal parts, lower
//! case, or, when there is none, a whole literal part with non-ASCII
//! characters (emoji, homoglyphs), folded; a regex contributes the literal
//! prefixes (or suffixes) every match starts (or ends) with. Values are
//! scanned as decoded strings, ASCII ones with ASCII case folding and the
//! others after [`index_fold`] (so `K` (Kelvin sign) still finds `k`).

use super::adapt::{self, Adapt, Alts};
use super::exact::{marks_of, Decider, Exact};
use super::fields::{EventView, FieldId, FieldTable, FxBuild};
use super::gate::Gate;
use super::memo::{hit, parts, Hit, Lookup, Memos};
pub use super::req::Req;
use super::reqlit;
use super::strmatch::regex_source;
use crate::ir::{Expr, ExprKind, Part, Pattern, Quantifier, Value};
use aho_corasick::automaton::Automaton;
use aho_corasick::{dfa, nfa::contiguous, Anchored, MatchKind};
use rayon::prelude::*;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Shorter fragments match nearly every event: not worth indexing.
pub const MIN_LIT: usize = 3;

/// The literal formula of a filter expression; fields are interned as the
/// predicate compiler interns them.
pub fn formula(e: &Expr, fields: &mut FieldTable) -> Req {
    match &e.kind {
        ExprKind::Match(m) if m.field.name_pattern.is_none() => {
            let id = fields.intern(&m.field);
            let per = m.values.iter().map(|v| match v {
                Value::Str(p) => best_fragment(p).map_or(Req::True, |l| Req::Lit(id, l)),
                Value::Regex(r) => regex_source(r, m.case)
                    .ok()
                    .and_then(|src| regex_fragments(&src))
                    .map_or(Req::True, |ls| {
                        Req::or(ls.into_iter().map(|l| Req::Lit(id, l)).collect())
                    }),
                _ => Req::True,
            });
            match m.quantifier {
                Quantifier::Any => Req::or(per.collect()),
                Quantifier::All => Req::and(per.collect()),
            }
        }
        ExprKind::And(items) => Req::and(items.iter().map(|i| formula(i, fields)).collect()),
        ExprKind::Or(items) => Req::or(items.iter().map(|i| formula(i, fields)).collect()),
        ExprKind::Const(false) => Req::False,
        _ => Req::True,
    }
}

/// The longest ASCII fragment of a pattern's literal parts (at least
/// [`MIN_LIT`] bytes), lower case; failing that, the longest literal part
/// with non-ASCII characters, after [`index_fold`].
pub fn best_fragment(p: &Pattern) -> Option<String> {
    let mut best: Option<&str> = None;
    let mut wide: Option<&str> = None;
    for part in &p.0 {
        if let Part::Lit(l) = part {
            for frag in l.split(|c: char| !c.is_ascii()) {
                if frag.len() >= MIN_LIT && best.is_none_or(|b| frag.len() > b.len()) {
                    best = Some(frag);
                }
            }
            if !l.is_ascii() && wide.is_none_or(|w| l.len() > w.len()) {
                wide = Some(l);
            }
        }
    }
    match (best, wide) {
        (Some(b), _) => Some(b.to_ascii_lowercase()),
        (None, Some(w)) => Some(index_fold(w)),
        (None, None) => None,
    }
}

/// How the index folds non-ASCII text, fragments and values alike: each
/// character lower-cased on its own, and final sigma as sigma. Character by
/// character, so a value containing a literal still contains it after
/// folding (`str::to_lowercase` writes `Σ` as `ς` at a word's end), and it
/// equals the string tests' folding up to the sigma, so a case-insensitive
/// match is never ruled out.
pub fn index_fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ς' { 'σ' } else { c })
        .collect()
}

/// Literals one of which every match of a regex contains: its literal
/// prefixes, its suffixes (as `regex-syntax` extracts them, case variants
/// included), or literals inside it ([`reqlit::required`]), whichever set
/// has the longest shortest member; folded and de-duplicated. `None` when
/// no set is bounded with every fragment long enough to be worth indexing.
pub fn regex_fragments(src: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(src).ok()?;
    let usable = |lits: Vec<String>| -> Option<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for l in lits {
            if l.is_ascii() && l.len() < MIN_LIT || l.is_empty() {
                return None;
            }
            if !out.contains(&l) {
                out.push(l);
            }
        }
        (!out.is_empty()).then_some(out)
    };
    let extracted = |kind| -> Option<Vec<String>> {
        let seq = Extractor::new().kind(kind).extract(&hir);
        let lits = seq
            .literals()?
            .iter()
            .map(|l| std::str::from_utf8(l.as_bytes()).ok().map(index_fold))
            .collect::<Option<Vec<String>>>()?;
        usable(lits)
    };
    [
        extracted(ExtractKind::Prefix),
        extracted(ExtractKind::Suffix),
        reqlit::required(&hir).and_then(usable),
    ]
    .into_iter()
    .flatten()
    .max_by_key(|set| reqlit::score(set))
}

/// A formula over literal ids, evaluated on the marks of one event.
#[derive(Debug, Clone)]
enum Formula {
    True,
    False,
    Lit(u32),
    And(Vec<Formula>),
    Or(Vec<Formula>),
}

impl Formula {
    fn holds(&self, mark: &[u8]) -> bool {
        match self {
            Formula::True => true,
            Formula::False => false,
            // Any occurrence sets the literal's first mark (`Pos::Any`).
            Formula::Lit(p) => mark[*p as usize] != 0,
            Formula::And(xs) => xs.iter().all(|x| x.holds(mark)),
            Formula::Or(xs) => xs.iter().any(|x| x.holds(mark)),
        }
    }
}

/// One field's automaton: local pattern index to literal id.
struct FieldScan {
    field: FieldId,
    ac: Scan,
    lits: Vec<u32>,
    /// When every fragment is long: values none can occur in are not walked.
    gate: Option<Gate>,
}

/// A field's automaton, walked byte by byte by [`FieldScan::find`].
enum Scan {
    Dfa(dfa::DFA),
    Nfa(contiguous::NFA),
}

/// Fragment bytes up to which a field's automaton is a DFA.
const DFA_BYTES: usize = 3000;

/// One field's automaton over its fragments: a DFA, the fewest
/// instructions per byte, for a small set; a contiguous NFA for a set of
/// more than [`DFA_BYTES`] bytes of fragments. A DFA's transitions grow with
/// the set (hundreds of hash IOCs or command-line fragments make MBs): a
/// value that is not memoised (hashes, GUIDs: unique per event) then
/// misses the caches on every byte, and the compact NFA is faster despite
/// more instructions; the large DFAs were also the slowest builds.
/// Fragments are folded, and values are scanned folded (ASCII lower case,
/// see [`Scratch::lower`]), so the automaton is case sensitive: the same
/// matches as an ASCII case-insensitive one, built in less than half the
/// time (no second transition per letter). Standard match semantics: every
/// state knows all the fragments ending there, which is what an
/// overlapping scan reports.
fn build_scan(pats: &[(String, u32)]) -> Result<(Scan, Option<Gate>), aho_corasick::BuildError> {
    let folded: Vec<String> = pats.iter().map(|(l, _)| l.to_ascii_lowercase()).collect();
    let gate = Gate::new(folded.iter().map(|l| l.as_bytes()));
    Ok((build_automaton(&folded)?, gate))
}

fn build_automaton(folded: &[String]) -> Result<Scan, aho_corasick::BuildError> {
    if folded.iter().map(String::len).sum::<usize>() <= DFA_BYTES {
        if let Ok(d) = dfa::Builder::new()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(folded)
        {
            return Ok(Scan::Dfa(d));
        }
    }
    contiguous::Builder::new()
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .build(folded)
        .map(Scan::Nfa)
}

/// Per-event scratch space of the index.
#[derive(Default)]
pub struct Scratch {
    /// Per literal: its [`MARKS`](super::exact::MARKS) positional marks, one bit each (see
    /// `exact.rs`); zero until it is found in this event.
    mark: Vec<u8>,
    /// The literals found in this event (their marks are not zero).
    touched: Vec<u32>,
    /// A scanned value was not ASCII: the marks do not decide rules.
    non_ascii: bool,
    /// What the automata found in recent values.
    memos: Memos,
    /// The literals found in one value.
    hits: Vec<Hit>,
    /// An ASCII value being scanned, lower-cased.
    lower: Vec<u8>,
    /// One routing group's candidates (see `Router::candidates`).
    pub(crate) local: Vec<u32>,
    /// Per index: literal counts and re-picked triggers (`adapt.rs`).
    adapts: Vec<Adapt>,
}

/// The compiled literal index of a rule set.
pub struct Prefilter {
    scans: Vec<FieldScan>,
    formulas: Vec<Formula>,
    /// Rules the marks decide, with their exact condition.
    deciders: Vec<Option<Decider>>,
    /// Rules triggered by each literal.
    lit_rules: Vec<Vec<u32>>,
    /// Per rule: the clauses that could trigger it instead (`adapt.rs`).
    alts: Vec<Alts>,
    /// Some rule has `alts`: literals are counted.
    adaptive: bool,
    /// Rules that are always candidates.
    always: Vec<u32>,
    rules: usize,
    /// This index's serial number (its memos in a [`Scratch`]).
    serial: u64,
}

/// Serial numbers of indexes.
static SERIAL: AtomicU64 = AtomicU64::new(0);

#[derive(Default)]
struct Lits {
    /// Per field, literal to id (looked up without building a key).
    ids: HashMap<FieldId, HashMap<String, u32, FxBuild>, FxBuild>,
    by_field: HashMap<FieldId, Vec<(String, u32)>>,
    rules: Vec<Vec<u32>>,
}

impl Lits {
    fn intern(&mut self, f: FieldId, l: &str) -> u32 {
        let ids = self.ids.entry(f).or_default();
        if let Some(id) = ids.get(l) {
            return *id;
        }
        let id = self.rules.len() as u32;
        self.rules.push(Vec::new());
        ids.insert(l.to_string(), id);
        self.by_field
            .entry(f)
            .or_default()
            .push((l.to_string(), id));
        id
    }

    fn intern_all(&mut self, set: &[(FieldId, String)]) -> Vec<u32> {
        set.iter().map(|(f, l)| self.intern(*f, l)).collect()
    }

    fn lower(&mut self, r: &Req) -> Formula {
        match r {
            Req::True => Formula::True,
            Req::False => Formula::False,
            Req::Lit(f, l) => Formula::Lit(self.intern(*f, l)),
            Req::And(xs) => Formula::And(xs.iter().map(|x| self.lower(x)).collect()),
            Req::Or(xs) => Formula::Or(xs.iter().map(|x| self.lower(x)).collect()),
        }
    }
}

/// Set on a candidate rule (`Prefilter::candidates`, `Router::candidates`)
/// that the marks have decided: it matches, with no evaluation.
pub const DECIDED: u32 = 1 << 31;

impl Prefilter {
    /// `rules[i]`: the literal formula of rule `i` (`Req::True`: always a
    /// candidate) and its exact condition, when the marks decide it.
    pub fn new(rules: &[(Req, Option<Exact>)]) -> Prefilter {
        let mut lits = Lits::default();
        let mut always = Vec::new();
        let mut formulas = Vec::new();
        let mut deciders = Vec::new();
        let mut alts = Vec::new();
        for (i, (r, x)) in rules.iter().enumerate() {
            formulas.push(lits.lower(r));
            let mut decider = x
                .as_ref()
                .map(|x| Decider::new(x, &mut |f, l| lits.intern(f, l)));
            let (clauses, current) = r.trigger_clauses();
            let clauses: Vec<Vec<u32>> = clauses.iter().map(|set| lits.intern_all(set)).collect();
            let trigger = match clauses.get(current) {
                Some(ids) => Some(ids.clone()),
                None => r.trigger().map(|set| lits.intern_all(&set)),
            };
            match trigger {
                None => always.push(i as u32),
                Some(ids) => {
                    for &id in &ids {
                        let id = id as usize;
                        if lits.rules[id].last() != Some(&(i as u32)) {
                            lits.rules[id].push(i as u32);
                        }
                    }
                    if let Some(d) = &mut decider {
                        d.order_for(&ids);
                    }
                }
            }
            deciders.push(decider);
            alts.push(Alts { current, clauses });
        }
        let mut scans = Vec::new();
        let mut by_field: Vec<_> = lits.by_field.into_iter().collect();
        // The automata are independent: built on every core, one job each,
        // the largest first (over thousands of command-line fragments, it
        // takes as long as all the others), then put in field order.
        by_field.sort_by_key(|(f, pats)| (std::cmp::Reverse(pats.len()), *f));
        let mut built: Vec<_> = by_field
            .into_par_iter()
            .with_max_len(1)
            .map(|(field, pats)| (field, build_scan(&pats), pats))
            .collect();
        built.sort_by_key(|(f, _, _)| *f);
        for (field, ac, pats) in built {
            match ac {
                Ok((ac, gate)) => scans.push(FieldScan {
                    field,
                    ac,
                    gate,
                    lits: pats.iter().map(|(_, id)| *id).collect(),
                }),
                Err(_) => {
                    // Cannot build: every literal of this field counts as present.
                    for (_, id) in &pats {
                        always.extend_from_slice(&lits.rules[*id as usize]);
                        lits.rules[*id as usize].clear();
                    }
                    let ids: Vec<u32> = pats.iter().map(|(_, id)| *id).collect();
                    for f in &mut formulas {
                        f.assume(&ids);
                    }
                    // Never counted: no clause of them can be a trigger.
                    for a in &mut alts {
                        if a.clauses.iter().flatten().any(|l| ids.contains(l)) {
                            a.clauses.clear();
                        }
                    }
                    // Their marks are never set: such rules are evaluated.
                    for d in &mut deciders {
                        if d.as_ref().is_some_and(|d| d.mentions(&ids)) {
                            *d = None;
                        }
                    }
                }
            }
        }
        always.sort_unstable();
        always.dedup();
        for &r in &always {
            alts[r as usize].clauses.clear();
        }
        Prefilter {
            adaptive: alts.iter().any(|a| !a.clauses.is_empty()),
            alts,
            scans,
            formulas,
            deciders,
            lit_rules: lits.rules,
            always,
            rules: rules.len(),
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// How many rules the index decides (no evaluation for ASCII values).
    pub fn decided_rules(&self) -> usize {
        self.deciders.iter().filter(|d| d.is_some()).count()
    }

    /// How many rules the index can rule out.
    pub fn filtered_rules(&self) -> usize {
        self.rules - self.always.len()
    }

    /// The candidate rules for an event, into `out` (sorted, unique); those
    /// the marks decide (they match) carry [`DECIDED`].
    pub fn candidates(&self, ev: &EventView, s: &mut Scratch, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(&self.always);
        s.mark.resize(self.lit_rules.len(), 0);
        s.non_ascii = false;
        let memos = s.memos.of(self.serial, self.scans.len());
        // Literals are counted only when some rule can be re-picked.
        let lits = if self.adaptive {
            self.lit_rules.len()
        } else {
            0
        };
        let ad = adapt::of(&mut s.adapts, self.serial, lits);
        let lit_rules = ad.lit_rules.as_deref().unwrap_or(&self.lit_rules);
        let count = &mut ad.count[..];
        for (scan, memo) in self.scans.iter().zip(memos) {
            for (leaf, _) in ev.values(scan.field) {
                let Some(text) = leaf.text() else { continue };
                let folded;
                // The value to scan, folded, and where to remember what was
                // found (under the value as it is). The memo tells whether
                // the value is ASCII as it hashes it: `Some(slot)` for an
                // ASCII value (`slot`: where to remember it, if memoised).
                let ascii = match memo.lookup(text.as_bytes()) {
                    Lookup::Hit(hits) => {
                        replay(
                            lit_rules,
                            count,
                            hits.iter(),
                            &mut s.mark,
                            &mut s.touched,
                            out,
                        );
                        continue;
                    }
                    Lookup::Miss(at, tag) => Some(Some((at, tag))),
                    Lookup::Skip => text.is_ascii().then_some(None),
                    Lookup::Wide => None,
                };
                let (hay, slot) = match ascii {
                    Some(slot) => {
                        s.lower.clear();
                        s.lower.extend_from_slice(text.as_bytes());
                        s.lower.make_ascii_lowercase();
                        (s.lower.as_slice(), slot)
                    }
                    None => {
                        s.non_ascii = true;
                        folded = index_fold(&text);
                        (folded.as_bytes(), None)
                    }
                };
                s.hits.clear();
                if scan.gate.as_ref().is_none_or(|g| g.may_match(hay)) {
                    scan.find(hay, &mut s.hits);
                }
                if let Some(at) = slot {
                    memo.store(at, text.as_bytes(), &s.hits);
                }
                replay(
                    lit_rules,
                    count,
                    s.hits.iter().copied(),
                    &mut s.mark,
                    &mut s.touched,
                    out,
                );
            }
        }
        if out.len() > self.always.len() {
            out.sort_unstable();
            out.dedup();
        }
        out.retain_mut(|r| match &self.deciders[*r as usize] {
            Some(d) if !s.non_ascii => {
                *r |= DECIDED;
                d.holds(&s.mark)
            }
            _ => self.formulas[*r as usize].holds(&s.mark),
        });
        for k in s.touched.drain(..) {
            s.mark[k as usize] = 0;
        }
        if self.adaptive && ad.tick() {
            ad.lit_rules = Some(adapt::repick(&self.lit_rules, &self.alts, &ad.count));
        }
    }
}

#[cfg(test)]
impl Prefilter {
    /// The literals that trigger `rule` for the worker of `s`.
    pub(crate) fn triggers_of(&self, s: &mut Scratch, rule: u32) -> Vec<u32> {
        let ad = adapt::of(&mut s.adapts, self.serial, self.lit_rules.len());
        let lit_rules = ad.lit_rules.as_deref().unwrap_or(&self.lit_rules);
        (0..lit_rules.len() as u32)
            .filter(|&l| lit_rules[l as usize].contains(&rule))
            .collect()
    }
}

/// Set the marks of the literals found in a value; a literal's first
/// occurrence in this event adds the rules it triggers to `out` (and is
/// counted, when `count` is not empty).
#[inline(always)]
fn replay(
    lit_rules: &[Vec<u32>],
    count: &mut [u32],
    hits: impl Iterator<Item = Hit>,
    mark: &mut [u8],
    touched: &mut Vec<u32>,
    out: &mut Vec<u32>,
) {
    for h in hits {
        let (id, bits) = parts(h);
        let m = &mut mark[id as usize];
        if *m == 0 {
            out.extend_from_slice(&lit_rules[id as usize]);
            if let Some(c) = count.get_mut(id as usize) {
                *c = c.saturating_add(1);
            }
            touched.push(id);
        }
        *m |= bits;
    }
}

impl FieldScan {
    /// The literals in a (folded) value and where: one [`Hit`] per match.
    fn find(&self, hay: &[u8], hits: &mut Vec<Hit>) {
        match &self.ac {
            Scan::Dfa(a) => self.walk(a, hay, hits),
            Scan::Nfa(a) => self.walk(a, hay, hits),
        }
    }

    /// Every occurrence of every fragment, overlapping: the automaton's
    /// states one byte at a time, and the fragments of each match state
    /// (a state lists every fragment that ends there, failure links
    /// included). The same matches as `find_overlapping_iter`, without its
    /// per-match restart of the search.
    #[inline(always)]
    fn walk(&self, a: &impl Automaton, hay: &[u8], hits: &mut Vec<Hit>) {
        let Ok(mut sid) = a.start_state(Anchored::No) else {
            return;
        };
        let mut report = |sid, end: usize| {
            for k in 0..a.match_len(sid) {
                let p = a.match_pattern(sid, k);
                let start = end - a.pattern_len(p);
                let bits = marks_of(start, end, hay.len()).fold(0u8, |b, k| b | 1 << k);
                hits.push(hit(self.lits[p.as_usize()], bits));
            }
        };
        // Only an empty fragment (none is indexed) matches before a byte.
        if a.is_match(sid) {
            report(sid, 0);
        }
        for (i, &b) in hay.iter().enumerate() {
            sid = a.next_state(Anchored::No, sid, b);
            if a.is_special(sid) && a.is_match(sid) {
                report(sid, i + 1);
            }
        }
    }
}

impl Formula {
    /// Treat these literals as always present.
    fn assume(&mut self, ids: &[u32]) {
        match self {
            Formula::Lit(p) if ids.contains(p) => *self = Formula::True,
            Formula::And(xs) | Formula::Or(xs) => xs.iter_mut().for_each(|x| x.assume(ids)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{FieldRef, FieldScheme};
    use crate::span::Span;

    /// The byte-by-byte walk finds what `find_overlapping_iter` finds, with
    /// the DFA and with the contiguous NFA: random fragments over a small
    /// alphabet (many overlaps, fragments inside fragments).
    #[test]
    fn walk_finds_every_overlapping_occurrence() {
        use aho_corasick::AhoCorasick;
        let mut next = crate::backend::matcher::xorshift(0x7f4a_7c15_9e37_79b9);
        let mut word = |n: usize| -> String {
            let len = 1 + next() as usize % n;
            (0..len)
                .map(|_| b"ab\\c."[next() as usize % 5] as char)
                .collect()
        };
        for round in 0..200 {
            let pats: Vec<(String, u32)> = (0..1 + round % 40)
                .map(|i| (word(6), 100 + i as u32))
                .collect();
            let reference = AhoCorasick::builder()
                .build(pats.iter().map(|(p, _)| p))
                .unwrap();
            let scans = [
                build_scan(&pats).unwrap().0,
                Scan::Nfa(
                    contiguous::Builder::new()
                        .build(pats.iter().map(|(p, _)| p))
                        .unwrap(),
                ),
            ];
            for ac in scans {
                let scan = FieldScan {
                    field: 0,
                    ac,
                    gate: None,
                    lits: pats.iter().map(|(_, id)| *id).collect(),
                };
                for _ in 0..20 {
                    let hay = word(40);
                    let mut got = Vec::new();
                    scan.find(hay.as_bytes(), &mut got);
                    let mut want: Vec<Hit> = reference
                        .find_overlapping_iter(&hay)
                        .map(|m| {
                            let bits = marks_of(m.start(), m.end(), hay.len())
                                .fold(0u8, |b, k| b | 1 << k);
                            hit(pats[m.pattern().as_usize()].1, bits)
                        })
                        .collect();
                    got.sort_unstable();
                    want.sort_unstable();
                    assert_eq!(got, want, "{hay:?} in {pats:?}");
                }
            }
        }
    }

    #[test]
    fn fragments_are_ascii_and_long_enough() {
        let p = Pattern::parse_wildcards(r"*\WindowsPowerShell\v1.0\powershell.exe", false);
        assert_eq!(
            best_fragment(&p).as_deref(),
            Some(r"\windowspowershell\v1.0\powershell.exe")
        );
        // A non-ASCII literal with no ASCII run is indexed whole.
        assert_eq!(
            best_fragment(&Pattern::parse_wildcards("*Ä*", true)).as_deref(),
            Some("ä")
        );
        assert_eq!(best_fragment(&Pattern::parse_wildcards("*-e*", true)), None);
    }

    #[test]
    fn non_ascii_literals_and_regex_prefixes_are_indexed() {
        // No ASCII run: the whole non-ASCII literal, folded per character.
        let p = Pattern::parse_wildcards("*ΑΣ*", true);
        assert_eq!(best_fragment(&p).as_deref(), Some("ασ"));
        // Final sigma folds like sigma, so `ΑΣ` at a word's end still finds it.
        assert_eq!(index_fold("xΑΣ"), "xασ");
        assert_eq!(index_fold("xας"), "xασ");
        assert_eq!(
            regex_fragments(r"cmd.{0,5}(?:/c|/r).+powershell").as_deref(),
            Some(&["powershell".to_string()][..])
        );
        assert_eq!(
            regex_fragments(r"^cmd.{0,5}(?:/c|/r)").as_deref(),
            Some(&["cmd".to_string()][..])
        );
        // Case variants of an insensitive regex fold to one fragment (which
        // the extractor may cut short to bound the number of variants).
        let f = regex_fragments(r"(?i)werfault\.exe\s+x").unwrap_or_default();
        assert!(
            f.len() == 1 && f[0].len() >= MIN_LIT && "werfault.exe".starts_with(f[0].as_str()),
            "{f:?}"
        );
        let alt = regex_fragments(r"(?:foo|barbaz)\d+").unwrap_or_default();
        assert_eq!(alt, vec!["foo".to_string(), "barbaz".to_string()]);
        // Too short or unbounded: not indexed.
        assert_eq!(regex_fragments(r"a.b"), None);
        assert_eq!(regex_fragments(r"\w+x"), None);
    }

    #[test]
    fn index_finds_literals_per_field_and_checks_the_formula() {
        let mut t = FieldTable::new();
        let cmd = t.intern(&FieldRef::new(
            "CommandLine",
            FieldScheme::Sigma,
            Span::default(),
        ));
        let img = t.intern(&FieldRef::new("Image", FieldScheme::Sigma, Span::default()));
        let lit = |f, s: &str| Req::Lit(f, s.into());
        let certutil = Req::and(vec![
            lit(img, "certutil"),
            Req::or(vec![lit(cmd, "urlcache"), lit(cmd, "verifyctl")]),
        ]);
        let pf = Prefilter::new(&[
            (certutil, None),
            (Req::True, None),
            (lit(cmd, "kelvin"), None),
        ]);
        assert_eq!(pf.filtered_rules(), 2);
        let (mut s, mut out) = (Scratch::default(), Vec::new());
        let mut run = |e: &str| {
            let ev = EventView::parse(&t, e).unwrap();
            pf.candidates(&ev, &mut s, &mut out);
            out.clone()
        };
        assert_eq!(
            run(r#"{"Image":"C:\\CERTUTIL.exe","CommandLine":"x"}"#),
            vec![1]
        );
        assert_eq!(
            run(r#"{"Image":"certutil.exe","CommandLine":"-URLcache"}"#),
            vec![0, 1]
        );
        // The literal must be in the rule's field, not anywhere.
        assert_eq!(
            run(r#"{"Image":"urlcache","CommandLine":"certutil"}"#),
            vec![1]
        );
        // Unicode lower-casing: the Kelvin sign is a `k`; escapes are decoded.
        assert_eq!(run("{\"CommandLine\":\"\u{212A}ELVIN\"}"), vec![1, 2]);
        assert_eq!(run(r#"{"CommandLine":"\u006belvin"}"#), vec![1, 2]);
    }
}
