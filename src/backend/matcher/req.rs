//! A rule's literal formula, and the clauses of it that can trigger the rule
//! (see `prefilter.rs` and `adapt.rs`).

use super::fields::FieldId;

/// A rule's condition over `(field, fragment)` literals (a necessary condition).
#[derive(Debug, Clone, PartialEq)]
pub enum Req {
    True,
    False,
    Lit(FieldId, String),
    And(Vec<Req>),
    Or(Vec<Req>),
}

impl Req {
    pub fn and(items: Vec<Req>) -> Req {
        let mut v = Vec::new();
        for i in items {
            match i {
                Req::True => {}
                Req::False => return Req::False,
                Req::And(xs) => v.extend(xs),
                x => v.push(x),
            }
        }
        match v.len() {
            0 => Req::True,
            1 => v.pop().unwrap_or(Req::True),
            _ => Req::And(v),
        }
    }
    pub fn or(items: Vec<Req>) -> Req {
        let mut v = Vec::new();
        for i in items {
            match i {
                Req::False => {}
                Req::True => return Req::True,
                Req::Or(xs) => v.extend(xs),
                x => v.push(x),
            }
        }
        match v.len() {
            0 => Req::False,
            1 => v.pop().unwrap_or(Req::False),
            _ => Req::Or(v),
        }
    }

    /// The clauses of a top-level *and* that could each be the trigger
    /// (see `adapt.rs`), and the one [`Req::trigger`] picks; no clauses
    /// when there are fewer than two.
    pub(super) fn trigger_clauses(&self) -> (Vec<Vec<(FieldId, String)>>, usize) {
        match self {
            Req::And(xs) => {
                let all: Vec<_> = xs.iter().filter_map(Req::trigger).collect();
                match pick(&all) {
                    Some(at) if all.len() > 1 => (all, at),
                    _ => (Vec::new(), 0),
                }
            }
            _ => (Vec::new(), 0),
        }
    }

    /// One clause every match satisfies: `None` when there is none.
    pub(super) fn trigger(&self) -> Option<Vec<(FieldId, String)>> {
        match self {
            Req::True => None,
            Req::False => Some(Vec::new()),
            Req::Lit(f, l) => Some(vec![(*f, l.clone())]),
            Req::Or(xs) => {
                let mut all = Vec::new();
                for x in xs {
                    all.extend(x.trigger()?);
                }
                Some(all)
            }
            Req::And(xs) => {
                let mut all: Vec<_> = xs.iter().filter_map(Req::trigger).collect();
                pick(&all).map(|at| all.swap_remove(at))
            }
        }
    }
}

/// The clause a trigger is made of, among these (the last of the best).
fn pick(sets: &[Vec<(FieldId, String)>]) -> Option<usize> {
    (0..sets.len()).max_by_key(|&at| score(&sets[at]))
}

/// Prefer few, long fragments.
fn score(set: &[(FieldId, String)]) -> (usize, i64) {
    let min = set.iter().map(|(_, l)| l.len()).min().unwrap_or(64);
    (min.min(8), -(set.len() as i64))
}
