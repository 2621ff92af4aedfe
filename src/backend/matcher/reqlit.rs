//! Literals a regex cannot match without: for the literal index.
//!
//! `regex-syntax`'s extractor gives the prefixes (or suffixes) every match
//! starts (or ends) with; a detection regex often starts with something
//! every command line has (`\.exe`, `.*`) and names its rare word in the
//! middle: `(?i)\.exe["']?\s+[^"]{0,64}werfaultsecure\.exe`. This walk finds
//! such inner literals: in a concatenation, any run of adjacent literal
//! pieces is required; in an alternation, one of the branches' required
//! sets; in a repetition of at least one, the repeated part's.
//!
//! Literals are folded as the index folds text ([`index_fold`]); a
//! case-insensitive class like `[Ww]` reads as its one folded character,
//! and a class whose members fold apart (`(?i)s` also matches `ſ`) ends a
//! run, so a value the regex matches always contains a returned literal
//! after folding.

use super::prefilter::index_fold;
use regex_syntax::hir::{Class, Hir, HirKind};

/// One of these literals is in every match; `None` when the walk finds no
/// such set. The set is the best of the candidates (longest shortest member).
pub fn required(h: &Hir) -> Option<Vec<String>> {
    if let Some(s) = exact(h) {
        return (!s.is_empty()).then(|| vec![s]);
    }
    match h.kind() {
        HirKind::Concat(items) => {
            let mut best: Option<Vec<String>> = None;
            let mut run = String::new();
            let offer = |set: Vec<String>, best: &mut Option<Vec<String>>| {
                if best.as_ref().is_none_or(|b| score(&set) > score(b)) {
                    *best = Some(set);
                }
            };
            for item in items {
                match exact(item) {
                    Some(s) => run.push_str(&s),
                    None => {
                        if !run.is_empty() {
                            offer(vec![std::mem::take(&mut run)], &mut best);
                        }
                        if let Some(set) = required(item) {
                            offer(set, &mut best);
                        }
                    }
                }
            }
            if !run.is_empty() {
                offer(vec![run], &mut best);
            }
            best
        }
        HirKind::Alternation(branches) => {
            let mut all: Vec<String> = Vec::new();
            for b in branches {
                for l in required(b)? {
                    if !all.contains(&l) {
                        all.push(l);
                    }
                }
            }
            Some(all)
        }
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Capture(c) => required(&c.sub),
        _ => None,
    }
}

/// Prefer sets whose shortest literal is long, then small sets.
pub(crate) fn score(set: &[String]) -> (usize, i64) {
    let min = set.iter().map(String::len).min().unwrap_or(0);
    (min.min(16), -(set.len() as i64))
}

/// The one string a piece matches (folded), `""` for zero-width pieces;
/// `None` when it can match more than one string.
fn exact(h: &Hir) -> Option<String> {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(String::new()),
        HirKind::Literal(l) => std::str::from_utf8(&l.0).ok().map(index_fold),
        HirKind::Class(c) => one_fold(c),
        HirKind::Capture(c) => exact(&c.sub),
        HirKind::Repetition(r) if r.min == 1 && r.max == Some(1) => exact(&r.sub),
        HirKind::Concat(items) => items.iter().map(exact).collect(),
        _ => None,
    }
}

/// A small class whose members all fold to the same text (`[Ww]`, `(?i)k`
/// with the Kelvin sign).
fn one_fold(c: &Class) -> Option<String> {
    let chars: Vec<char> = match c {
        Class::Unicode(u) => {
            let mut v = Vec::new();
            for r in u.ranges() {
                if (r.end() as u32) - (r.start() as u32) > 4 || v.len() > 4 {
                    return None;
                }
                v.extend(r.start()..=r.end());
            }
            v
        }
        Class::Bytes(b) => {
            let mut v = Vec::new();
            for r in b.ranges() {
                if r.end() - r.start() > 4 || v.len() > 4 || !r.end().is_ascii() {
                    return None;
                }
                v.extend((r.start()..=r.end()).map(char::from));
            }
            v
        }
    };
    let first = index_fold(&chars.first()?.to_string());
    chars
        .iter()
        .all(|c| index_fold(&c.to_string()) == first)
        .then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(src: &str) -> Option<Vec<String>> {
        let hir = regex_syntax::ParserBuilder::new().build().parse(src).ok()?;
        required(&hir)
    }

    #[test]
    fn inner_literals_are_found() {
        assert_eq!(
            req(r#"(?i)\.exe["']?\s+[^"]{0,64}werfaultsecure\.exe["']?\s+\d{2,10}"#),
            // `(?i)s` also matches `ſ` (long s), which folds apart: the run
            // stops there.
            Some(vec!["ecure.exe".to_string()])
        );
        assert_eq!(
            req(r"cmd.{0,5}(?:/c|/r).+powershell"),
            Some(vec!["powershell".to_string()])
        );
        assert_eq!(
            req(r"x(?:alpha|beta)+y"),
            Some(vec!["alpha".to_string(), "beta".to_string()])
        );
        assert_eq!(req(r"(?i)[Ww]in\d"), Some(vec!["win".to_string()]));
        // An optional part is not required; a bare class is not a literal.
        assert_eq!(req(r"(?:abc)?\d"), None);
        assert_eq!(req(r"(?:abc|\d)x"), Some(vec!["x".to_string()]));
    }
}
