//! Triggers chosen from the stream: a rule whose condition is an *and* of
//! clauses can be triggered by the literals of any one of them, and the
//! best is the one whose literals the events contain least often.
//!
//! At build time the index can only guess (long literals, few of them): a
//! rule reading `Company: Microsoft Corporation` and an image list is
//! triggered by the company, present in nearly every Windows event, so it
//! is a candidate for every event. Each worker counts, per literal, the
//! events it was found in, and after 1,024 events (then at every power of
//! two) re-picks each such rule's trigger: the clause with the fewest
//! counted occurrences. Any clause is a necessary condition of the rule, so
//! verdicts never depend on the choice; only the number of candidates the
//! marks must then decide does.

/// Events before the first re-pick (then at every power of two).
pub const FIRST: u64 = 1024;

/// One worker's counts and triggers for one index.
pub struct Adapt {
    pub serial: u64,
    seen: u64,
    /// Per literal: the events it was found in.
    pub count: Vec<u32>,
    /// Rules triggered by each literal, once re-picked.
    pub lit_rules: Option<Vec<Vec<u32>>>,
}

/// Per index: one [`Adapt`] (a worker meets few indexes).
pub fn of(all: &mut Vec<Adapt>, serial: u64, lits: usize) -> &mut Adapt {
    let at = match all.iter().position(|a| a.serial == serial) {
        Some(at) => at,
        None => {
            all.push(Adapt {
                serial,
                seen: 0,
                count: vec![0; lits],
                lit_rules: None,
            });
            all.len() - 1
        }
    };
    &mut all[at]
}

impl Adapt {
    /// One more event counted: whether to re-pick now.
    pub fn tick(&mut self) -> bool {
        self.seen += 1;
        self.seen >= FIRST && self.seen.is_power_of_two()
    }
}

/// One rule's clauses that could each trigger it (their literals; none:
/// not re-picked), and the one that does in the index's own triggers.
pub struct Alts {
    pub current: usize,
    pub clauses: Vec<Vec<u32>>,
}

/// The triggers for these counts: `base` (the index's own) with each rule
/// of `alts` moved to its clause of fewest counted occurrences. A clause
/// must count strictly fewer than the rule's current one to replace it.
pub fn repick(base: &[Vec<u32>], alts: &[Alts], count: &[u32]) -> Vec<Vec<u32>> {
    let mut lit_rules = base.to_vec();
    let cost = |clause: &[u32]| {
        clause
            .iter()
            .map(|&l| u64::from(count[l as usize]))
            .sum::<u64>()
    };
    for (rule, Alts { current, clauses }) in alts.iter().enumerate() {
        let (rule, current) = (rule as u32, *current);
        if clauses.is_empty() {
            continue;
        }
        let mut best = current;
        for (k, c) in clauses.iter().enumerate() {
            if cost(c) < cost(&clauses[best]) {
                best = k;
            }
        }
        if best != current {
            for &l in &clauses[current] {
                lit_rules[l as usize].retain(|&r| r != rule);
            }
            for &l in &clauses[best] {
                if !lit_rules[l as usize].contains(&rule) {
                    lit_rules[l as usize].push(rule);
                }
            }
        }
    }
    lit_rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_move_to_their_rarest_clause() {
        // Literal 0 is everywhere, 1 and 2 are rare, 3 is common.
        let count = [1000, 3, 4, 500];
        // Rule 0: triggered by 0, could be by {1, 2}. Rule 1: by {1}, its
        // other clause {3} is commoner: stays. Rule 2: no alternatives.
        let base = vec![vec![0], vec![1], vec![], vec![2]];
        let alts = [
            Alts {
                current: 0,
                clauses: vec![vec![0], vec![1, 2]],
            },
            Alts {
                current: 0,
                clauses: vec![vec![1], vec![3]],
            },
            Alts {
                current: 0,
                clauses: vec![],
            },
        ];
        let got = repick(&base, &alts, &count);
        assert_eq!(got, vec![vec![], vec![1, 0], vec![0], vec![2]]);
        // Equal counts keep the index's own choice.
        let got = repick(&base, &alts, &[7, 7, 0, 7]);
        assert_eq!(got, vec![vec![0], vec![1], vec![], vec![2]]);
        // The index's own clause need not be the first one.
        let base = vec![vec![], vec![0], vec![0]];
        let alts = [Alts {
            current: 1,
            clauses: vec![vec![0], vec![1, 2]],
        }];
        assert_eq!(repick(&base, &alts, &[5, 3, 2]), base);
        assert_eq!(repick(&base, &alts, &[4, 3, 2]), [vec![0], vec![], vec![]]);
    }

    /// In an index: a rule triggered by a literal every event has moves to
    /// its rarer clause after the first events; its verdicts do not change.
    #[test]
    fn an_index_moves_a_rule_off_a_literal_every_event_has() {
        use super::super::fields::{EventView, FieldTable};
        use super::super::prefilter::{Prefilter, Req, Scratch};
        use crate::ir::{FieldRef, FieldScheme};
        use crate::span::Span;
        let mut t = FieldTable::new();
        let mut field = |n: &str| t.intern(&FieldRef::new(n, FieldScheme::Sigma, Span::default()));
        let (company, image) = (field("Company"), field("Image"));
        let lit = |f, s: &str| Req::Lit(f, s.into());
        // Literals 0 (company), 1 and 2 (images), 3.
        let csi = Req::and(vec![
            lit(company, "microsoft corporation"),
            Req::or(vec![lit(image, "\\csi.exe"), lit(image, "\\rcsi.exe")]),
        ]);
        let pf = Prefilter::new(&[(csi, None), (lit(image, "\\cmd.exe"), None)]);
        let (mut s, mut out) = (Scratch::default(), Vec::new());
        let mut run = |s: &mut Scratch, e: &str| {
            let ev = EventView::parse(&t, e).unwrap();
            pf.candidates(&ev, s, &mut out);
            out.clone()
        };
        let common = r#"{"Company":"Microsoft Corporation","Image":"C:\\x\\notepad.exe"}"#;
        let both = r#"{"Company":"Microsoft Corporation","Image":"C:\\x\\csi.exe"}"#;
        assert_eq!(pf.triggers_of(&mut s, 0), [0]);
        assert_eq!(run(&mut s, both), [0]);
        for _ in 1..FIRST {
            assert_eq!(run(&mut s, common), [0u32; 0]);
        }
        assert_eq!(pf.triggers_of(&mut s, 0), [1, 2]);
        assert_eq!(pf.triggers_of(&mut s, 1), [3]);
        assert_eq!(run(&mut s, both), [0]);
        assert_eq!(run(&mut s, common), [0u32; 0]);
        // Another worker has its own counts.
        assert_eq!(pf.triggers_of(&mut Scratch::default(), 0), [0]);
    }

    #[test]
    fn re_picks_after_the_first_events_then_at_powers_of_two() {
        let mut all = Vec::new();
        let a = of(&mut all, 9, 3);
        let ticks: Vec<u64> = (1..=5000).filter(|_| a.tick()).collect();
        assert_eq!(ticks, [1024, 2048, 4096]);
        assert_eq!(of(&mut all, 9, 3).seen, 5000);
        assert_eq!(of(&mut all, 4, 3).seen, 0);
    }
}
