//! Elasticsearch's EQL functions, as data: name, arity, whether a `~`
//! (case-insensitive) form exists. Names are matched case-insensitively.
//! <https://www.elastic.co/docs/reference/query-languages/eql/eql-function-ref>

/// One function of the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Func {
    /// Canonical lower-case name (the IR's `Scalar::Call` name).
    pub name: &'static str,
    /// As the reference spells it, for messages.
    pub display: &'static str,
    pub min: usize,
    /// `None`: any number of further arguments.
    pub max: Option<usize>,
    /// Whether `name~(...)` exists.
    pub tilde: bool,
}

const fn f(
    name: &'static str,
    display: &'static str,
    min: usize,
    max: Option<usize>,
    tilde: bool,
) -> Func {
    Func {
        name,
        display,
        min,
        max,
        tilde,
    }
}

pub const FUNCTIONS: &[Func] = &[
    f("add", "add", 2, Some(2), false),
    f("between", "between", 3, Some(4), true),
    f("cidrmatch", "cidrMatch", 2, None, false),
    f("concat", "concat", 1, None, false),
    f("divide", "divide", 2, Some(2), false),
    f("endswith", "endsWith", 2, Some(2), true),
    f("indexof", "indexOf", 2, Some(3), true),
    f("length", "length", 1, Some(1), false),
    f("modulo", "modulo", 2, Some(2), false),
    f("multiply", "multiply", 2, Some(2), false),
    f("number", "number", 1, Some(2), false),
    f("startswith", "startsWith", 2, Some(2), true),
    f("string", "string", 1, Some(1), false),
    f("stringcontains", "stringContains", 2, Some(2), true),
    f("substring", "substring", 2, Some(3), false),
    f("subtract", "subtract", 2, Some(2), false),
];

/// Look a function up by name, ignoring case.
pub fn lookup(name: &str) -> Option<&'static Func> {
    FUNCTIONS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

impl Func {
    /// "2 arguments", "2 or 3 arguments", "at least 2 arguments".
    pub fn arity_text(&self) -> String {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        match self.max {
            Some(max) if max == self.min => format!("{} {}", max, plural(max)),
            Some(max) => format!("{} to {} arguments", self.min, max),
            None => format!("at least {} {}", self.min, plural(self.min)),
        }
    }
    pub fn accepts(&self, n: usize) -> bool {
        n >= self.min && self.max.is_none_or(|m| n <= m)
    }
}

/// The known name closest to `name` (for "did you mean" notes).
pub fn suggest(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    FUNCTIONS
        .iter()
        .map(|f| (distance(&lower, f.name), f.display))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance (short names only).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
