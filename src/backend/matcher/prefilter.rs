//! Ruling events out from their raw bytes. For each rule, a set of literal
//! fragments such that every matching event contains at least one of them
//! verbatim (ASCII, case-insensitively) in its JSON text; one Aho-Corasick
//! pass over the record then names the candidate rules. A fragment never
//! spans a character JSON may escape (`"`, `\`, `/`, controls) or a
//! non-ASCII character; a record holding a `\u` escape or the Kelvin sign
//! (whose lower case is ASCII `k`) skips the prefilter.

use super::json::has_unicode_escape;
use crate::ir::{Expr, ExprKind, Part, Pattern, Quantifier, Value};
use aho_corasick::AhoCorasick;

/// The fragments a rule needs (any one of them); `None`: cannot be ruled out.
pub fn required(e: &Expr) -> Option<Vec<String>> {
    match &e.kind {
        ExprKind::Match(m) => values_required(&m.values, m.quantifier),
        ExprKind::Keyword(k) => values_required(&k.values, k.quantifier),
        ExprKind::And(items) => items
            .iter()
            .filter_map(required)
            .max_by_key(|set| score(set)),
        ExprKind::Or(items) => {
            let mut all = Vec::new();
            for i in items {
                all.extend(required(i)?);
            }
            Some(all)
        }
        ExprKind::Const(false) => Some(Vec::new()),
        _ => None,
    }
}

/// Prefer few, long fragments.
fn score(set: &[String]) -> (usize, i64) {
    let min = set.iter().map(String::len).min().unwrap_or(64);
    (min.min(8), -(set.len() as i64))
}

fn values_required(values: &[Value], q: Quantifier) -> Option<Vec<String>> {
    let per: Vec<Option<String>> = values
        .iter()
        .map(|v| match v {
            Value::Str(p) => best_fragment(p),
            _ => None,
        })
        .collect();
    match q {
        Quantifier::Any => per.into_iter().collect(),
        Quantifier::All => per
            .into_iter()
            .flatten()
            .max_by_key(String::len)
            .map(|f| vec![f]),
    }
}

/// The longest safe fragment of a pattern's literal parts (at least 2 bytes).
pub fn best_fragment(p: &Pattern) -> Option<String> {
    let mut best: Option<&str> = None;
    for part in &p.0 {
        if let Part::Lit(l) = part {
            for frag in l.split(|c: char| {
                !c.is_ascii() || c.is_ascii_control() || matches!(c, '"' | '\\' | '/')
            }) {
                if frag.len() >= 2 && best.is_none_or(|b| frag.len() > b.len()) {
                    best = Some(frag);
                }
            }
        }
    }
    best.map(str::to_ascii_lowercase)
}

/// The compiled prefilter of a rule set.
pub struct Prefilter {
    ac: Option<AhoCorasick>,
    /// Rules of each pattern.
    pattern_rules: Vec<Vec<u32>>,
    /// Rules that are always candidates.
    always: Vec<u32>,
    rules: usize,
}

impl Prefilter {
    /// `reqs[i]`: the fragments rule `i` needs (`None`: always a candidate).
    pub fn new(reqs: &[Option<Vec<String>>]) -> Prefilter {
        let mut pats: Vec<String> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
        let mut always = Vec::new();
        for (i, r) in reqs.iter().enumerate() {
            match r {
                None => always.push(i as u32),
                Some(set) => {
                    for f in set {
                        let id = *index.entry(f.clone()).or_insert_with(|| {
                            pats.push(f.clone());
                            pattern_rules.push(Vec::new());
                            pats.len() - 1
                        });
                        if pattern_rules[id].last() != Some(&(i as u32)) {
                            pattern_rules[id].push(i as u32);
                        }
                    }
                }
            }
        }
        let ac = if pats.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&pats)
                .or_else(|_| {
                    AhoCorasick::builder()
                        .ascii_case_insensitive(true)
                        .build(&pats)
                })
                .ok()
        };
        if ac.is_none() && !pats.is_empty() {
            // Could not build: every rule is a candidate.
            always = (0..reqs.len() as u32).collect();
            pattern_rules.clear();
        }
        Prefilter {
            ac,
            pattern_rules,
            always,
            rules: reqs.len(),
        }
    }

    /// How many rules can be ruled out from raw bytes.
    pub fn filtered_rules(&self) -> usize {
        self.rules - self.always.len()
    }

    /// The candidate rules for a record, into `out` (sorted, unique);
    /// `mark` is scratch space of one slot per rule.
    pub fn candidates(&self, raw: &[u8], mark: &mut Vec<bool>, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(&self.always);
        let Some(ac) = &self.ac else { return };
        let bypass = (!raw.is_ascii()
            && memchr::memmem::find(raw, "\u{212A}".as_bytes()).is_some())
            || has_unicode_escape(raw);
        if bypass {
            out.clear();
            out.extend(0..self.rules as u32);
            return;
        }
        mark.clear();
        mark.resize(self.pattern_rules.len(), false);
        for m in ac.find_overlapping_iter(raw) {
            let p = m.pattern().as_usize();
            if !mark[p] {
                mark[p] = true;
                out.extend_from_slice(&self.pattern_rules[p]);
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_avoid_escapable_characters() {
        let p = Pattern::parse_wildcards(r"*\WindowsPowerShell\v1.0\powershell.exe", false);
        assert_eq!(best_fragment(&p).as_deref(), Some("windowspowershell"));
        let p = Pattern::parse_wildcards("*ä*", true);
        assert_eq!(best_fragment(&p), None);
        let pf = Prefilter::new(&[Some(vec!["cmd.exe".into()]), None]);
        let (mut mark, mut out) = (Vec::new(), Vec::new());
        pf.candidates(br#"{"a":"C:\\CMD.EXE"}"#, &mut mark, &mut out);
        assert_eq!(out, vec![0, 1]);
        pf.candidates(br#"{"a":"x"}"#, &mut mark, &mut out);
        assert_eq!(out, vec![1]);
        pf.candidates(br#"{"a":"\u0063md.exe"}"#, &mut mark, &mut out);
        assert_eq!(out, vec![0, 1]);
    }
}
