//! Typed values and string patterns. A pattern is a list of literal and
//! wildcard parts, never a string with magic characters in it.

use serde::Serialize;

/// One part of a string pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Literal text (escapes already removed).
    Lit(String),
    /// Any run of characters, possibly empty (`*`, `%`).
    AnyRun,
    /// Exactly one character (`?`, `_`).
    AnyChar,
    /// A named placeholder (Sigma `|expand`: `%Workstations%`) that a
    /// processing step replaces with values, patterns or a lookup; never a
    /// literal string. The name is kept without the `%` signs.
    Placeholder(String),
}

/// A string pattern that must match the whole value (or the whole token for
/// term matches): `[Lit("a"), AnyRun]` is `a*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Pattern(pub Vec<Part>);

impl Pattern {
    pub fn literal(s: impl Into<String>) -> Pattern {
        Pattern(vec![Part::Lit(s.into())])
    }
    /// Build from parts, merging adjacent literals and runs of `AnyRun`.
    pub fn from_parts(parts: impl IntoIterator<Item = Part>) -> Pattern {
        let mut out: Vec<Part> = Vec::new();
        for p in parts {
            match (out.last_mut(), p) {
                (_, Part::Lit(s)) if s.is_empty() => {}
                (Some(Part::Lit(prev)), Part::Lit(s)) => prev.push_str(&s),
                (Some(Part::AnyRun), Part::AnyRun) => {}
                (_, p) => out.push(p),
            }
        }
        Pattern(out)
    }
    /// Parse `*` / `?` wildcards with `\` escapes (Sigma, EQL `:`/`like`, kuery).
    pub fn parse_wildcards(s: &str, backslash_escapes: bool) -> Pattern {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if backslash_escapes => match chars.next() {
                    Some(n) => lit.push(n),
                    None => lit.push('\\'),
                },
                '*' | '?' => {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(if c == '*' {
                        Part::AnyRun
                    } else {
                        Part::AnyChar
                    });
                }
                _ => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Pattern::from_parts(parts)
    }
    /// The literal text, when the pattern has no wildcard.
    pub fn as_literal(&self) -> Option<&str> {
        match self.0.as_slice() {
            [] => Some(""),
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }
    pub fn has_wildcards(&self) -> bool {
        self.0
            .iter()
            .any(|p| matches!(p, Part::AnyRun | Part::AnyChar))
    }
    /// Whether the pattern holds a [`Part::Placeholder`] still to be expanded.
    pub fn has_placeholders(&self) -> bool {
        self.0.iter().any(|p| matches!(p, Part::Placeholder(_)))
    }
    /// `*`/`?` form with `\` escaping literal `*`, `?` and `\` (Sigma's syntax).
    /// With placeholders, `%` in literal text is escaped too (`|expand` syntax).
    pub fn to_wildcard_string(&self) -> String {
        let placeholders = self.has_placeholders();
        let mut s = String::new();
        for p in &self.0 {
            match p {
                Part::Lit(l) => {
                    for c in l.chars() {
                        if matches!(c, '*' | '?' | '\\') || (placeholders && c == '%') {
                            s.push('\\');
                        }
                        s.push(c);
                    }
                }
                Part::AnyRun => s.push('*'),
                Part::AnyChar => s.push('?'),
                Part::Placeholder(name) => {
                    s.push('%');
                    s.push_str(name);
                    s.push('%');
                }
            }
        }
        s
    }
}

/// The regex dialect a pattern was written in; back-ends translate or refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegexFlavor {
    /// Lucene regexp (EQL `regex`, Lucene `/.../`): anchored, no `\d`, `.` any char.
    Lucene,
    /// PCRE (Splunk `rex`/`match`/`regex`, Sigma `|re`): unanchored search.
    Pcre,
    /// RE2 (Kusto `matches regex`).
    Re2,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Regex {
    pub pattern: String,
    pub flavor: RegexFlavor,
    /// Whether the regex must match the whole value (Lucene) or anywhere (PCRE search).
    pub anchored: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub multiline: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dot_all: bool,
}

/// A value a field is compared with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// A string pattern (a plain string is a pattern of one literal part).
    Str(Pattern),
    Regex(Regex),
    /// Numbers are kept as written as well, so `1.0` and `1` print as given.
    Num(Number),
    Bool(bool),
    /// Field is null or missing (Sigma `null`, EQL `== null`).
    Null,
    /// An IPv4/IPv6 CIDR block, `10.0.0.0/8`.
    Cidr(String),
    /// Another field of the same event (Sigma `|fieldref`).
    FieldRef(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Number {
    pub value: f64,
    pub text: String,
}

impl Number {
    pub fn new(text: &str) -> Option<Number> {
        text.parse::<f64>().ok().map(|value| Number {
            value,
            text: text.to_string(),
        })
    }
    pub fn is_integer(&self) -> bool {
        self.value.fract() == 0.0
    }
}

/// A duration as written and in milliseconds (`maxspan=5m`, `timespan: 1h`, `span=1d`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duration {
    pub millis: u64,
    pub text: String,
}

impl Duration {
    /// Parse `N` + unit, unit one of ms, s, m, h, d (also `sec`, `min`, `hr`,
    /// `day(s)`, `w`, as Splunk and Sigma spell them). A bare number is seconds.
    pub fn parse(text: &str) -> Option<Duration> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (n, unit) = t.split_at(split);
        let n: u64 = if n.is_empty() { 1 } else { n.parse().ok()? };
        let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "ms" => 1,
            "" | "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
            "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "w" | "week" | "weeks" => 7 * 86_400_000,
            "mon" | "month" | "months" => 30 * 86_400_000,
            "y" | "year" | "years" => 365 * 86_400_000,
            _ => return None,
        };
        Some(Duration {
            millis: n.checked_mul(mult)?,
            text: t.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_parse_with_escapes() {
        let p = Pattern::parse_wildcards(r"a\*b*c?", true);
        assert_eq!(
            p.0,
            vec![
                Part::Lit("a*b".into()),
                Part::AnyRun,
                Part::Lit("c".into()),
                Part::AnyChar
            ]
        );
        assert_eq!(p.to_wildcard_string(), r"a\*b*c?");
        assert_eq!(
            Pattern::parse_wildcards("**x", false).0,
            vec![Part::AnyRun, Part::Lit("x".into())]
        );
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("5m").unwrap().millis, 300_000);
        assert_eq!(Duration::parse("30s").unwrap().millis, 30_000);
        assert_eq!(Duration::parse("1d").unwrap().millis, 86_400_000);
        assert!(Duration::parse("5x").is_none());
    }
}
