//! String tests with typed fast paths: equality, prefix, suffix, substring
//! (Aho-Corasick for literal sets), wildcard patterns and regexes (the linear
//! `regex` crate, with Lucene and PCRE translated or refused), term matches,
//! and CIDR blocks.

use super::fields::FxBuild;
use crate::ir::{
    Case, Expr, ExprKind, MatchKind, Part, Pattern, Regex as IrRegex, RegexFlavor, Value,
};
use aho_corasick::AhoCorasick;
use regex::Regex;
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::OnceLock;

/// Lower-case for case-insensitive comparison (Unicode simple folding).
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// One compiled test of a string.
#[derive(Debug, Clone)]
pub enum StrTest {
    /// Whole-value equality with any of a set (already folded when insensitive).
    Eq {
        set: HashSet<String, FxBuild>,
        fold: bool,
    },
    Prefix {
        needle: String,
        fold: bool,
    },
    Suffix {
        needle: String,
        fold: bool,
    },
    /// Contains any of the needles (kept for code generation). The
    /// search is built on first use: a rule set has thousands of these
    /// and the literal index means most are never run.
    Contains {
        search: LazySearch,
        needles: Vec<String>,
        fold: bool,
        fold_unicode: bool,
    },
    Regex(Regex),
    Always,
}

impl StrTest {
    pub fn is_match(&self, v: &str) -> bool {
        match self {
            StrTest::Eq { set, fold: f } => {
                if *f {
                    // Short ASCII values fold on the stack (no allocation).
                    let mut buf = [0u8; 256];
                    if v.is_ascii() && v.len() <= buf.len() {
                        let b = &mut buf[..v.len()];
                        b.copy_from_slice(v.as_bytes());
                        b.make_ascii_lowercase();
                        std::str::from_utf8(b).is_ok_and(|x| set.contains(x))
                    } else {
                        set.contains(fold(v).as_str())
                    }
                } else {
                    set.contains(v)
                }
            }
            StrTest::Prefix { needle, fold: f } => {
                if !*f {
                    v.starts_with(needle.as_str())
                } else if needle.is_ascii() {
                    v.len() >= needle.len()
                        && v.as_bytes()[..needle.len()].eq_ignore_ascii_case(needle.as_bytes())
                } else {
                    fold(v).starts_with(needle.as_str())
                }
            }
            StrTest::Suffix { needle, fold: f } => {
                if !*f {
                    v.ends_with(needle.as_str())
                } else if needle.is_ascii() {
                    v.len() >= needle.len()
                        && v.as_bytes()[v.len() - needle.len()..]
                            .eq_ignore_ascii_case(needle.as_bytes())
                } else {
                    fold(v).ends_with(needle.as_str())
                }
            }
            StrTest::Contains {
                search,
                needles,
                fold: f,
                fold_unicode,
            } => {
                if *fold_unicode && !v.is_ascii() {
                    search.is_match(needles, *f, fold(v).as_str())
                } else {
                    search.is_match(needles, *f, v)
                }
            }
            StrTest::Regex(r) => r.is_match(v),
            StrTest::Always => true,
        }
    }
}

/// A substring search over a needle set, built on first use: `memchr`
/// for one needle that case folding leaves as it is (one byte, or
/// `memmem` for more), else an Aho-Corasick automaton. A single `\\` or
/// `/` (rules on paths without a directory) is then one vectorised byte
/// search, without the automaton's per-call setup.
#[derive(Debug, Clone, Default)]
pub struct LazySearch(OnceLock<Search>);

#[derive(Debug, Clone)]
enum Search {
    Byte(u8),
    Bytes(Box<memchr::memmem::Finder<'static>>),
    Ac(AhoCorasick),
    /// The automaton could not be built (size limits).
    Unbuilt,
}

impl Search {
    fn new(needles: &[String], fold: bool) -> Search {
        match needles {
            [n] if !fold || !n.bytes().any(|c| c.is_ascii_alphabetic()) => match n.as_bytes() {
                [b] => Search::Byte(*b),
                b => Search::Bytes(Box::new(memchr::memmem::Finder::new(b).into_owned())),
            },
            // A contiguous NFA: fast to build and about as fast as a DFA on
            // short values.
            _ => AhoCorasick::builder()
                .ascii_case_insensitive(fold)
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .build(needles)
                .map_or(Search::Unbuilt, Search::Ac),
        }
    }
}

impl LazySearch {
    /// Whether `v` contains any needle (needles already folded when `fold`).
    fn is_match(&self, needles: &[String], fold: bool, v: &str) -> bool {
        match self.0.get_or_init(|| Search::new(needles, fold)) {
            Search::Byte(b) => memchr::memchr(*b, v.as_bytes()).is_some(),
            Search::Bytes(f) => f.find(v.as_bytes()).is_some(),
            Search::Ac(ac) => ac.is_match(v),
            // The same answer, needle by needle.
            Search::Unbuilt => needles.iter().any(|n| {
                if fold {
                    v.as_bytes()
                        .windows(n.len().max(1))
                        .any(|w| w.eq_ignore_ascii_case(n.as_bytes()))
                        || n.is_empty()
                } else {
                    v.contains(n.as_str())
                }
            }),
        }
    }
}

/// Regex source for a wildcard pattern (`*` any run, `?` one character).
pub fn pattern_regex(p: &Pattern) -> Result<String, String> {
    pattern_regex_with(p, ".*", ".")
}

fn pattern_regex_with(p: &Pattern, run: &str, one: &str) -> Result<String, String> {
    let mut s = String::new();
    for part in &p.0 {
        match part {
            Part::Lit(l) => s.push_str(&regex::escape(l)),
            Part::AnyRun => s.push_str(run),
            Part::AnyChar => s.push_str(one),
            Part::Placeholder(name) => {
                return Err(format!(
                    "the placeholder `%{name}%` was not expanded by a processing pipeline"
                ))
            }
        }
    }
    Ok(s)
}

fn build_regex(body: &str, case: Case, anchored: bool, flags: &str) -> Result<Regex, String> {
    let i = if case == Case::Insensitive { "i" } else { "" };
    let src = if anchored {
        format!("(?{i}{flags}s)^(?:{body})$")
    } else {
        format!("(?{i}{flags}s){body}")
    };
    linear(&src).map_err(|e| e.to_string())
}

/// A `regex`-crate regex (linear time) with the size limit every rule has.
fn linear(src: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(src).size_limit(1 << 24).build()
}

/// Compile a group of wildcard patterns (alternatives) with the same case and
/// kind into as few fast tests as possible.
pub fn compile_patterns(
    pats: &[&Pattern],
    case: Case,
    kind: MatchKind,
) -> Result<Vec<StrTest>, String> {
    let f = case == Case::Insensitive;
    let norm = |s: &str| if f { fold(s) } else { s.to_string() };
    let mut eq: HashSet<String, FxBuild> = HashSet::default();
    let mut contains = Vec::new();
    let mut tests = Vec::new();
    let mut regexes = Vec::new();
    for p in pats {
        if kind == MatchKind::Term {
            // A term: the pattern matches a run of the value bounded by
            // non-word characters (or the ends); wildcards stay in a token.
            let body = pattern_regex_with(p, "\\S*", "\\S")?;
            regexes.push(format!("(?:^|\\W)(?:{body})(?:$|\\W)"));
            continue;
        }
        match p.0.as_slice() {
            [] => {
                eq.insert(String::new());
            }
            [Part::Lit(l)] => {
                eq.insert(norm(l));
            }
            [Part::AnyRun] => tests.push(StrTest::Always),
            [Part::Lit(l), Part::AnyRun] => tests.push(StrTest::Prefix {
                needle: norm(l),
                fold: f,
            }),
            [Part::AnyRun, Part::Lit(l)] => tests.push(StrTest::Suffix {
                needle: norm(l),
                fold: f,
            }),
            [Part::AnyRun, Part::Lit(l), Part::AnyRun] => contains.push(norm(l)),
            _ => regexes.push(format!("^(?:{})$", pattern_regex(p)?)),
        }
    }
    if !eq.is_empty() {
        tests.push(StrTest::Eq { set: eq, fold: f });
    }
    if !contains.is_empty() {
        let unicode = contains.iter().any(|c| !c.is_ascii());
        tests.push(StrTest::Contains {
            search: LazySearch::default(),
            needles: contains,
            fold: f,
            fold_unicode: f && unicode,
        });
    }
    if !regexes.is_empty() {
        tests.push(StrTest::Regex(build_regex(
            &regexes.join("|"),
            case,
            false,
            "",
        )?));
    }
    Ok(tests)
}

/// Compile an IR regex: translate its flavor to the `regex` crate's syntax or
/// refuse what cannot be honoured (backreferences, lookaround, Lucene's
/// optional operators).
pub fn compile_regex(r: &IrRegex, case: Case) -> Result<Regex, String> {
    let src = regex_source(r, case)?;
    let prebuilt = PREBUILT.with(|p| p.borrow().as_ref().and_then(|b| b.get(&src).cloned()));
    if let Some(re) = prebuilt {
        return re;
    }
    build_ir_regex(&src)
}

fn build_ir_regex(src: &str) -> Result<Regex, String> {
    linear(src).map_err(|e| format!("the regex cannot be run by a linear-time engine: {e}"))
}

type Built = std::collections::HashMap<String, Result<Regex, String>>;

/// Regexes built ahead on every core ([`prebuild_regexes`]), by source.
#[derive(Clone, Default)]
pub struct Prebuilt(Option<std::sync::Arc<Built>>);

thread_local! {
    /// The regexes [`compile_regex`] finds built on this thread (see
    /// [`with_prebuilt`]).
    static PREBUILT: std::cell::RefCell<Option<std::sync::Arc<Built>>> =
        std::cell::RefCell::default();
}

/// Build the regexes of these filters on every core, once per source: rule
/// compilation hands them out ([`with_prebuilt`]) instead of building the
/// same regex for every rule that has it. What a regex compiles to, or why
/// it is refused, is the same either way.
pub fn prebuild_regexes<'e>(filters: impl IntoIterator<Item = &'e Expr>) -> Prebuilt {
    use rayon::prelude::*;
    let mut srcs = Vec::new();
    for f in filters {
        regexes_of(f, &mut |r, case| {
            if let Ok(src) = regex_source(r, case) {
                srcs.push(src);
            }
        });
    }
    srcs.sort_unstable();
    srcs.dedup();
    let built: Built = srcs
        .into_par_iter()
        .map(|src| {
            let re = build_ir_regex(&src);
            (src, re)
        })
        .collect();
    Prebuilt(Some(std::sync::Arc::new(built)))
}

/// Run `f` (a rule's compilation, on any thread) with these regexes at
/// hand for [`compile_regex`].
pub fn with_prebuilt<T>(p: &Prebuilt, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<std::sync::Arc<Built>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let old = self.0.take();
            let _ = PREBUILT.try_with(|p| *p.borrow_mut() = old);
        }
    }
    let _restore = Restore(PREBUILT.with(|cur| cur.replace(p.0.clone())));
    f()
}

/// Every regex value of a filter, with its case.
fn regexes_of(e: &Expr, f: &mut impl FnMut(&IrRegex, Case)) {
    match &e.kind {
        ExprKind::And(xs) | ExprKind::Or(xs) => xs.iter().for_each(|x| regexes_of(x, f)),
        ExprKind::Not(x) => regexes_of(x, f),
        ExprKind::Match(m) => m.values.iter().for_each(|v| {
            if let Value::Regex(r) = v {
                f(r, m.case);
            }
        }),
        ExprKind::Keyword(k) => k.values.iter().for_each(|v| {
            if let Value::Regex(r) = v {
                f(r, k.case);
            }
        }),
        _ => {}
    }
}

/// The `regex`-crate source of an IR regex with its flags (see
/// [`compile_regex`]).
pub fn regex_source(r: &IrRegex, case: Case) -> Result<String, String> {
    let body = match r.flavor {
        RegexFlavor::Lucene => lucene_to_regex(&r.pattern)?,
        RegexFlavor::Pcre | RegexFlavor::Re2 => {
            for bad in ["(?=", "(?!", "(?<=", "(?<!", "(?>"] {
                if r.pattern.contains(bad) {
                    return Err(format!(
                        "lookaround/atomic group `{bad}` needs backtracking"
                    ));
                }
            }
            r.pattern.clone()
        }
    };
    let mut flags = String::new();
    if r.multiline {
        flags.push('m');
    }
    // Dot matches newline only with the `s` flag in PCRE; Lucene's `.` is any char.
    let dot_all = r.dot_all || r.flavor == RegexFlavor::Lucene;
    let i = if case == Case::Insensitive { "i" } else { "" };
    let s = if dot_all { "s" } else { "" };
    let fl = format!("{i}{flags}{s}");
    Ok(match (fl.is_empty(), r.anchored) {
        (true, true) => format!("^(?:{body})$"),
        (true, false) => body,
        (false, true) => format!("(?{fl})^(?:{body})$"),
        (false, false) => format!("(?{fl}){body}"),
    })
}

/// Lucene regexp syntax to `regex` syntax. Lucene: `.` any character,
/// `"..."` literal, `\` escapes any character, no `\d`-style classes, `^`
/// and `$` are ordinary characters; the optional operators `~ & < > # @`
/// have no `regex` equivalent and are refused.
pub fn lucene_to_regex(p: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = p.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => out.push_str(&regex::escape(&n.to_string())),
                None => return Err("a trailing `\\` in a Lucene regex".into()),
            },
            '"' if !in_class => {
                let mut lit = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(n) => lit.push(n),
                        None => return Err("an unclosed `\"` in a Lucene regex".into()),
                    }
                }
                out.push_str(&regex::escape(&lit));
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                let mut rest = chars.clone();
                if rest.next() == Some('^') {
                    out.push('^');
                    chars = rest;
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '[' | '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            '~' | '&' | '<' | '>' | '#' | '@' if !in_class => {
                return Err(format!(
                    "the Lucene regex operator `{c}` has no linear-time equivalent here"
                ))
            }
            '^' | '$' if !in_class => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if in_class {
        return Err("an unclosed `[` in a Lucene regex".into());
    }
    Ok(out)
}

/// A CIDR block.
#[derive(Debug, Clone, Copy)]
pub struct Cidr {
    addr: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (a, b) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = match b {
            Some(b) => b.trim().parse::<u8>().ok().filter(|n| *n <= max)?,
            None => max,
        };
        Some(Cidr { addr, bits })
    }
    /// The block's address and prefix length (for code generation).
    pub fn parts(&self) -> (IpAddr, u8) {
        (self.addr, self.bits)
    }
    pub fn contains(&self, ip: &str) -> bool {
        let Ok(ip) = ip.trim().parse::<IpAddr>() else {
            return false;
        };
        let ip = match (ip, self.addr) {
            (IpAddr::V6(v6), IpAddr::V4(_)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            (ip, _) => ip,
        };
        match (ip, self.addr) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let m = if self.bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.bits)
                };
                u32::from(a) & m == u32::from(b) & m
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let m = if self.bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.bits)
                };
                u128::from(a) & m == u128::from(b) & m
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(p: &str, case: Case) -> Vec<StrTest> {
        let pat = Pattern::parse_wildcards(p, false);
        compile_patterns(&[&pat], case, MatchKind::Whole).unwrap()
    }

    fn m(tests: &[StrTest], v: &str) -> bool {
        tests.iter().any(|t| t.is_match(v))
    }

    #[test]
    fn fast_paths_and_case() {
        let t = one(r"*\cmd.exe", Case::Insensitive);
        assert!(matches!(t[0], StrTest::Suffix { .. }));
        assert!(m(&t, r"C:\Windows\System32\CMD.EXE"));
        assert!(!m(&t, r"C:\Windows\System32\xcmd.exe"));
        let t = one("a*b?c", Case::Sensitive);
        assert!(m(&t, "a123bxc") && !m(&t, "A123bxc") && !m(&t, "a\nbxcx"));
        let t = one("*ÄB*", Case::Insensitive);
        assert!(m(&t, "xäbx"));
        let t = one("", Case::Sensitive);
        assert!(m(&t, "") && !m(&t, "x"));
    }

    /// Every kind of substring search (one byte, one needle, an automaton)
    /// says what an automaton over the same needles says, with and without
    /// case folding, on random values over a small alphabet.
    #[test]
    fn substring_searches_agree_with_the_automaton() {
        let mut next = crate::backend::matcher::xorshift(0x9e37_79b9_7f4a_7c15);
        let alphabet = b"\\/aAbB.-";
        let mut word = |n: usize| -> String {
            (0..n)
                .map(|_| alphabet[next() as usize % alphabet.len()] as char)
                .collect()
        };
        let sets: Vec<Vec<String>> = vec![
            vec!["\\".into()],
            vec!["/".into()],
            vec!["\\.-".into()],
            vec!["ab".into()],
            vec!["a".into()],
            vec!["\\".into(), "/".into()],
            vec![String::new()],
        ];
        let mut kinds = [0usize; 3];
        for needles in &sets {
            for fold in [false, true] {
                let kind = Search::new(needles, fold);
                kinds[match kind {
                    Search::Byte(_) => 0,
                    Search::Bytes(_) => 1,
                    _ => 2,
                }] += 1;
                let ac = AhoCorasick::builder()
                    .ascii_case_insensitive(fold)
                    .build(needles)
                    .unwrap();
                let lazy = LazySearch::default();
                for n in 0..300 {
                    let v = word(n % 12);
                    assert_eq!(
                        lazy.is_match(needles, fold, &v),
                        ac.is_match(&v),
                        "{needles:?} fold {fold} in {v:?}"
                    );
                }
            }
        }
        // Each kind is met: one byte, one longer needle, the automaton.
        assert!(kinds.iter().all(|&k| k > 0), "{kinds:?}");
    }

    #[test]
    fn term_matches_tokens() {
        let pat = Pattern::parse_wildcards("mimi*", true);
        let t = compile_patterns(&[&pat], Case::Insensitive, MatchKind::Term).unwrap();
        assert!(m(&t, "run Mimikatz now") && !m(&t, "runmimikatz"));
    }

    #[test]
    fn lucene_translation() {
        assert_eq!(lucene_to_regex(r#"a.c"d.e"\d^"#).unwrap(), r"a.cd\.ed\^");
        assert!(lucene_to_regex("a~b").is_err());
        let r = IrRegex {
            pattern: "ab[0-9]+".into(),
            flavor: RegexFlavor::Lucene,
            anchored: true,
            multiline: false,
            dot_all: false,
        };
        let re = compile_regex(&r, Case::Sensitive).unwrap();
        assert!(re.is_match("ab12") && !re.is_match("xab12"));
        let mut pcre = r.clone();
        pcre.flavor = RegexFlavor::Pcre;
        pcre.pattern = r"(\w+)\1".into();
        assert!(compile_regex(&pcre, Case::Sensitive).is_err());
    }

    /// Regexes built ahead on every core are the ones `compile_regex` would
    /// build, refusals included, and are handed out only inside `with_prebuilt`.
    #[test]
    fn prebuilt_regexes_are_what_compile_builds() {
        let re = |p: &str| IrRegex {
            pattern: p.into(),
            flavor: RegexFlavor::Pcre,
            anchored: false,
            multiline: false,
            dot_all: false,
        };
        let m = |p: &str| {
            crate::ir::Match::any_of(
                crate::ir::FieldRef::new("f", crate::ir::FieldScheme::Sigma, Default::default()),
                vec![Value::Regex(re(p))],
                Case::Insensitive,
                Default::default(),
            )
            .into_expr()
        };
        // Over the size limit: refused, prebuilt or not.
        let huge = "(?:a{1000}){1000}";
        let filters = [m("^cmd\\.exe$"), m(huge), m("(?=x)y")];
        let src = |p| regex_source(&re(p), Case::Insensitive).unwrap();
        let built = prebuild_regexes(&filters);
        {
            let p = built.0.as_ref().unwrap();
            assert_eq!(p.len(), 2, "the lookahead is refused before any build");
            assert!(p[&src("^cmd\\.exe$")].as_ref().unwrap().is_match("CMD.EXE"));
            assert_eq!(
                p[&src(huge)].as_ref().unwrap_err(),
                &build_ir_regex(&src(huge)).unwrap_err()
            );
        }
        let cmd = re("^cmd\\.exe$");
        let handed = with_prebuilt(&built, || {
            assert!(PREBUILT.with(|p| p.borrow().is_some()));
            compile_regex(&cmd, Case::Insensitive).unwrap()
        });
        assert!(handed.is_match("Cmd.exe"));
        // What is handed out is what was prebuilt, not a new build: a
        // marked entry comes back inside `with_prebuilt` only.
        let marked = Prebuilt(Some(std::sync::Arc::new(
            [(src("^cmd\\.exe$"), Err("marked".to_string()))].into(),
        )));
        let inside = with_prebuilt(&marked, || compile_regex(&cmd, Case::Insensitive));
        assert_eq!(inside.unwrap_err(), "marked");
        assert!(compile_regex(&cmd, Case::Insensitive).is_ok());
        assert!(
            PREBUILT.with(|p| p.borrow().is_none()),
            "restored after the call"
        );
    }

    #[test]
    fn cidr() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.1.2.3") && !c.contains("11.0.0.1") && !c.contains("x"));
        assert!(c.contains("::ffff:10.0.0.1"));
        let c = Cidr::parse("fe80::/10").unwrap();
        assert!(c.contains("fe80::1") && !c.contains("10.0.0.1"));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
    }
}
