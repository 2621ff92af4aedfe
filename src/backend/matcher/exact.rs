//! Rules decided by the literal index alone.
//!
//! Most Sigma conditions are and/or/not over case-insensitive `equals`,
//! `startswith`, `endswith` and `contains` tests of ASCII literals. The
//! index's automata already find every occurrence of every literal in every
//! value of the fields they scan, with its position; an occurrence at the
//! start of a value, at its end, or both, decides `startswith`, `endswith`
//! and `equals` as surely as `contains`. For such a rule the condition over
//! these *positional marks* is the condition itself, not only a necessary
//! one, and the rule needs no evaluation.
//!
//! Exactness holds for ASCII values (the string tests fold ASCII case as the
//! automata do); an event with a non-ASCII value in a scanned field is
//! evaluated the ordinary way.

use super::fields::{FieldId, FieldTable};
use super::prefilter::index_fold;
use super::strmatch::fold;
use crate::ir::{ArrayMode, Case, Expr, ExprKind, MatchKind, Part, Quantifier, Value};

/// Where in a value a literal must occur.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pos {
    /// Anywhere (`contains`).
    Any = 0,
    /// At the start (`startswith`).
    Start = 1,
    /// At the end (`endswith`).
    End = 2,
    /// The whole value (`equals`).
    Whole = 3,
}

/// Marks per literal: one per [`Pos`].
pub const MARKS: usize = 4;

/// A condition over positional literal marks, before literals are numbered.
#[derive(Debug, Clone, PartialEq)]
pub enum Exact {
    Const(bool),
    /// The literal (lower case ASCII) occurs at `Pos` in a value of the field.
    Lit(FieldId, String, Pos),
    And(Vec<Exact>),
    Or(Vec<Exact>),
    Not(Box<Exact>),
}

/// The exact condition of a filter, when every test in it is a
/// case-insensitive literal test the index decides; `None` otherwise.
pub fn exact(e: &Expr, fields: &mut FieldTable) -> Option<Exact> {
    Some(match &e.kind {
        ExprKind::And(items) => Exact::And(
            items
                .iter()
                .map(|i| exact(i, fields))
                .collect::<Option<_>>()?,
        ),
        ExprKind::Or(items) => Exact::Or(
            items
                .iter()
                .map(|i| exact(i, fields))
                .collect::<Option<_>>()?,
        ),
        ExprKind::Not(inner) => Exact::Not(Box::new(exact(inner, fields)?)),
        ExprKind::Const(b) => Exact::Const(*b),
        ExprKind::Match(m) => {
            if m.field.name_pattern.is_some()
                || m.case != Case::Insensitive
                || m.kind != MatchKind::Whole
                || m.array != ArrayMode::Any
                || m.values.is_empty()
            {
                return None;
            }
            let id = fields.intern(&m.field);
            let lits = m
                .values
                .iter()
                .map(|v| match v {
                    Value::Str(p) => {
                        let (lit, pos) = match p.0.as_slice() {
                            [Part::Lit(l)] => (l, Pos::Whole),
                            [Part::Lit(l), Part::AnyRun] => (l, Pos::Start),
                            [Part::AnyRun, Part::Lit(l)] => (l, Pos::End),
                            [Part::AnyRun, Part::Lit(l), Part::AnyRun] => (l, Pos::Any),
                            _ => return None,
                        };
                        if lit.is_empty() {
                            return None;
                        }
                        if lit.is_ascii() {
                            return Some(Exact::Lit(id, lit.to_ascii_lowercase(), pos));
                        }
                        // A literal that stays non-ASCII when folded is never
                        // in an ASCII value, and its folded form is never
                        // found in one: the mark is right, and a non-ASCII
                        // value is evaluated anyway. (`K`, the Kelvin sign,
                        // folds to ASCII `k`: not decided here.)
                        let folded = index_fold(lit);
                        (!fold(lit).is_ascii() && !folded.is_ascii())
                            .then_some(Exact::Lit(id, folded, pos))
                    }
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            match m.quantifier {
                Quantifier::Any => Exact::Or(lits),
                Quantifier::All => Exact::And(lits),
            }
        }
        _ => return None,
    })
}

/// [`Exact`] with literals numbered: `mark` indexes the index's marks.
#[derive(Debug, Clone, PartialEq)]
pub enum Decider {
    Const(bool),
    Mark(u32),
    /// Any of these marks (a value list of one test: the common case, one
    /// tight loop instead of a node per value).
    AnyMark(Vec<u32>),
    /// All of these marks (`|all`).
    AllMarks(Vec<u32>),
    And(Vec<Decider>),
    Or(Vec<Decider>),
    Not(Box<Decider>),
}

impl Decider {
    /// Number the literals of an exact condition with `id(field, literal)`.
    pub fn new(x: &Exact, id: &mut impl FnMut(FieldId, &str) -> u32) -> Decider {
        match x {
            Exact::Const(b) => Decider::Const(*b),
            Exact::Lit(f, l, pos) => Decider::Mark(id(*f, l) * MARKS as u32 + *pos as u32),
            Exact::And(xs) => {
                let xs: Vec<Decider> = xs.iter().map(|x| Decider::new(x, id)).collect();
                match Self::marks(&xs) {
                    Some(ms) => Decider::AllMarks(ms),
                    None => Decider::And(xs),
                }
            }
            Exact::Or(xs) => {
                let xs: Vec<Decider> = xs.iter().map(|x| Decider::new(x, id)).collect();
                match Self::marks(&xs) {
                    Some(ms) => Decider::AnyMark(ms),
                    None => Decider::Or(xs),
                }
            }
            Exact::Not(x) => Decider::Not(Box::new(Decider::new(x, id))),
        }
    }

    /// The marks of a list made only of marks.
    fn marks(xs: &[Decider]) -> Option<Vec<u32>> {
        xs.iter()
            .map(|x| match x {
                Decider::Mark(m) => Some(*m),
                _ => None,
            })
            .collect()
    }

    /// Whether a mark of one of these literals is read.
    pub fn mentions(&self, lits: &[u32]) -> bool {
        match self {
            Decider::Const(_) => false,
            Decider::Mark(m) => lits.contains(&(m / MARKS as u32)),
            Decider::AnyMark(ms) | Decider::AllMarks(ms) => {
                ms.iter().any(|m| lits.contains(&(m / MARKS as u32)))
            }
            Decider::And(xs) | Decider::Or(xs) => xs.iter().any(|x| x.mentions(lits)),
            Decider::Not(x) => x.mentions(lits),
        }
    }

    /// Order children for a candidate of these trigger literals: one of them
    /// was found, so the children that read them are likely true. An *and*
    /// reads the others first (likelier false: it ends sooner), an *or*
    /// reads them first. The same answer in any order (no side effects).
    pub fn order_for(&mut self, trigger: &[u32]) {
        match self {
            Decider::And(xs) => {
                xs.iter_mut().for_each(|x| x.order_for(trigger));
                xs.sort_by_key(|x| x.mentions(trigger));
            }
            Decider::Or(xs) => {
                xs.iter_mut().for_each(|x| x.order_for(trigger));
                xs.sort_by_key(|x| !x.mentions(trigger));
            }
            Decider::AllMarks(ms) => ms.sort_by_key(|m| trigger.contains(&(m / MARKS as u32))),
            Decider::AnyMark(ms) => ms.sort_by_key(|m| !trigger.contains(&(m / MARKS as u32))),
            Decider::Not(x) => x.order_for(trigger),
            Decider::Const(_) | Decider::Mark(_) => {}
        }
    }

    /// Whether the condition holds; `mark[l]` holds literal `l`'s marks
    /// (bit `k`: mark `k`, a [`Pos`]).
    pub fn holds(&self, mark: &[u8]) -> bool {
        match self {
            Decider::Const(b) => *b,
            Decider::Mark(m) => has(mark, *m),
            Decider::AnyMark(ms) => ms.iter().any(|&m| has(mark, m)),
            Decider::AllMarks(ms) => ms.iter().all(|&m| has(mark, m)),
            Decider::And(xs) => xs.iter().all(|x| x.holds(mark)),
            Decider::Or(xs) => xs.iter().any(|x| x.holds(mark)),
            Decider::Not(x) => !x.holds(mark),
        }
    }
}

/// Whether mark `m` (literal `m / MARKS`, position `m % MARKS`) is set.
#[inline]
fn has(mark: &[u8], m: u32) -> bool {
    mark[(m / MARKS as u32) as usize] & (1 << (m % MARKS as u32)) != 0
}

/// The marks an occurrence of a literal at `start..end` of a value of
/// length `len` sets (as offsets from the literal's first mark).
pub fn marks_of(start: usize, end: usize, len: usize) -> impl Iterator<Item = u32> {
    let s = start == 0;
    let e = end == len;
    [
        Some(Pos::Any),
        s.then_some(Pos::Start),
        e.then_some(Pos::End),
        (s && e).then_some(Pos::Whole),
    ]
    .into_iter()
    .flatten()
    .map(|p| p as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_decide_the_test_kind() {
        let m = |s, e, l| marks_of(s, e, l).collect::<Vec<_>>();
        assert_eq!(m(0, 3, 3), vec![0, 1, 2, 3]);
        assert_eq!(m(0, 3, 5), vec![0, 1]);
        assert_eq!(m(2, 5, 5), vec![0, 2]);
        assert_eq!(m(1, 3, 5), vec![0]);
    }

    /// Reordering for a trigger never changes a verdict (random conditions,
    /// triggers and marks), and puts the trigger's tests where they belong.
    #[test]
    fn ordering_for_a_trigger_keeps_verdicts() {
        let mut next = crate::backend::matcher::xorshift(0x9e37_79b9_7f4a_7c15);
        fn random(next: &mut impl FnMut() -> u64, depth: u32) -> Exact {
            let n = next();
            let kids = |next: &mut dyn FnMut() -> u64| -> Vec<Exact> {
                let mut next = next;
                (0..1 + next() % 4)
                    .map(|_| random(&mut next, depth - 1))
                    .collect()
            };
            match if depth == 0 { 0 } else { n % 5 } {
                0 | 1 => Exact::Lit(0, format!("l{}", next() % 6), Pos::Any),
                2 => Exact::And(kids(next)),
                3 => Exact::Or(kids(next)),
                _ => Exact::Not(Box::new(random(next, depth - 1))),
            }
        }
        let id = &mut |_: FieldId, l: &str| l[1..].parse::<u32>().unwrap();
        for _ in 0..500 {
            let x = random(&mut next, 4);
            let plain = Decider::new(&x, id);
            let trigger: Vec<u32> = (0..6).filter(|_| next() % 3 == 0).collect();
            let mut ordered = plain.clone();
            ordered.order_for(&trigger);
            for _ in 0..16 {
                let bits = next();
                let mark: Vec<u8> = (0..6).map(|l| (bits >> (l * MARKS)) as u8 & 0xf).collect();
                assert_eq!(
                    plain.holds(&mark),
                    ordered.holds(&mark),
                    "{x:?} for {trigger:?}"
                );
            }
        }
        let lit = |n: u32| Exact::Lit(0, format!("l{n}"), Pos::Any);
        let mut d = Decider::new(
            &Exact::And(vec![
                lit(1),
                Exact::Or(vec![lit(2), lit(3)]),
                Exact::Not(Box::new(lit(4))),
            ]),
            id,
        );
        d.order_for(&[1, 3]);
        let m = |n: u32| n * MARKS as u32;
        assert_eq!(
            d,
            Decider::And(vec![
                Decider::Not(Box::new(Decider::Mark(m(4)))),
                Decider::Mark(m(1)),
                Decider::AnyMark(vec![m(3), m(2)]),
            ])
        );
    }
}
