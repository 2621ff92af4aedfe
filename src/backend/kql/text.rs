//! Kusto lexical forms: string literals, identifiers, timespans, and the
//! translation of wildcard patterns and regexes (Lucene, PCRE) to RE2.

use crate::ir::{Duration, Part, Pattern, Regex, RegexFlavor};

/// A string literal any character survives: verbatim `@"..."` (quotes
/// doubled) unless the text holds a line break, which verbatim strings cannot
/// hold; then a regular literal with `\` escapes.
pub fn string(s: &str) -> String {
    if !s.contains(['\n', '\r']) {
        return format!("@\"{}\"", s.replace('"', "\"\""));
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A plain literal for text without quotes or backslashes reads better.
pub fn lit(s: &str) -> String {
    if s.contains(['"', '\\', '\n', '\r', '\t']) {
        string(s)
    } else {
        format!("\"{s}\"")
    }
}

const KEYWORDS: &[&str] = &[
    // Kusto's analyzer reads this as the start of a query-results clause.
    "query_results",
    "and",
    "or",
    "not",
    "in",
    "has",
    "contains",
    "count",
    "by",
    "on",
    "with",
    "where",
    "let",
    "true",
    "false",
    "null",
    "between",
    "kind",
    "to",
    "of",
    "asc",
    "desc",
    "type",
    "range",
    "set",
    "print",
    "as",
    "typeof",
    "dynamic",
    "string",
    "int",
    "long",
    "real",
    "bool",
    "datetime",
    "timespan",
    "guid",
    "decimal",
    "matches",
    "regex",
    "extend",
    "project",
    "take",
    "limit",
    "sort",
    "order",
    "top",
    "join",
    "union",
    "summarize",
    "table",
    "database",
    "title",
    "access",
    "declare",
    "pattern",
    "restrict",
    "alias",
    "find",
    "search",
    "parse",
    "evaluate",
    "earliest",
    "latest",
    "default",
    "from",
    "into",
    "materialize",
    "step",
    "scan",
    "partition",
    "render",
    "sample",
    "facet",
    "fork",
    "invoke",
    "serialize",
    "distinct",
    "getschema",
    "lookup",
    "consume",
    "externaldata",
    "datatable",
    "inner",
    "outer",
    "left",
    "right",
    "anti",
    "semi",
    "hint",
    "ago",
    "now",
    "has_any",
    "has_all",
    "toscalar",
    "totable",
    "view",
    "cluster",
    "notcontains",
    "startswith",
    "endswith",
    "matches",
    "like",
    "notlike",
];

/// An identifier, bracket-quoted (`['a.b']`) when it is not a plain name.
pub fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name.to_ascii_lowercase().as_str());
    if plain {
        name.to_string()
    } else {
        format!("['{}']", name.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// A Kusto timespan literal (`5m`, `1d`, `250ms`).
pub fn timespan(d: &Duration) -> String {
    let ms = d.millis;
    for (unit, n) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms > 0 && ms % n == 0 {
            return format!("{}{unit}", ms / n);
        }
    }
    format!("{ms}ms")
}

/// Escape literal text for RE2.
pub fn re_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~ \t\n\r/\"'".contains(c) {
            match c {
                ' ' => out.push_str("\\x20"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '"' | '\'' | '/' | '#' | '&' | '~' => out.push(c),
                _ => {
                    out.push('\\');
                    out.push(c);
                }
            }
        } else {
            out.push(c);
        }
    }
}

/// An anchored RE2 pattern for a wildcard pattern (`*` any run including
/// line breaks, `?` one character).
pub fn pattern_regex(p: &Pattern, insensitive: bool) -> String {
    let mut out = String::from(if insensitive { "(?is)^" } else { "(?s)^" });
    for part in &p.0 {
        match part {
            Part::Lit(s) => re_escape(s, &mut out),
            Part::AnyRun => out.push_str(".*"),
            Part::AnyChar => out.push('.'),
            Part::Placeholder(_) => out.push_str(".*"),
        }
    }
    out.push('$');
    out
}

/// Translate a source regex to RE2, or say why it cannot be.
pub fn regex(r: &Regex, insensitive: bool) -> Result<String, String> {
    let body = regex_body(r)?;
    let mut flags = String::new();
    if insensitive {
        flags.push('i');
    }
    if r.multiline {
        flags.push('m');
    }
    // Lucene's `.` matches any character, line breaks included.
    if r.dot_all || r.flavor == RegexFlavor::Lucene {
        flags.push('s');
    }
    let prefix = if flags.is_empty() {
        String::new()
    } else {
        format!("(?{flags})")
    };
    Ok(if r.anchored {
        format!("{prefix}^(?:{body})$")
    } else {
        format!("{prefix}{body}")
    })
}

fn regex_body(r: &Regex) -> Result<String, String> {
    match r.flavor {
        RegexFlavor::Re2 => Ok(r.pattern.clone()),
        RegexFlavor::Pcre => pcre(&r.pattern),
        RegexFlavor::Lucene => lucene(&r.pattern),
    }
}

/// A source regex as RE2 matched against each line of a text (array
/// elements joined by line breaks): multi-line anchors, and `.` does not
/// cross a line break.
pub fn regex_per_line(r: &Regex, insensitive: bool) -> Result<String, String> {
    let body = regex_body(r)?;
    let flags = if insensitive { "(?im)" } else { "(?m)" };
    Ok(if r.anchored {
        format!("{flags}^(?:{body})$")
    } else {
        format!("{flags}{body}")
    })
}

/// PCRE → RE2: the common syntax is shared; what RE2 lacks is refused.
fn pcre(p: &str) -> Result<String, String> {
    let mut out = String::with_capacity(p.len());
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err("a trailing backslash".into());
                };
                if !in_class && n.is_ascii_digit() && n != '0' {
                    return Err(format!("the backreference `\\{n}` (RE2 has none)"));
                }
                match n {
                    'k' | 'g' if !in_class => {
                        return Err(format!("the backreference `\\{n}` (RE2 has none)"))
                    }
                    'G' | 'K' | 'R' | 'X' | 'h' | 'H' | 'V' | 'Z' => {
                        return Err(format!("the escape `\\{n}` (RE2 has no equivalent)"))
                    }
                    _ => {}
                }
                out.push(c);
                out.push(n);
                i += 2;
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // `[]...]` and `[^]...]`: a leading `]` is literal.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '(' if !in_class && chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i + 2..].iter().take(3).collect();
                if rest.starts_with('=') || rest.starts_with('!') {
                    return Err("look-ahead `(?=` / `(?!` (RE2 has none)".into());
                }
                if rest.starts_with("<=") || rest.starts_with("<!") {
                    return Err("look-behind `(?<=` / `(?<!` (RE2 has none)".into());
                }
                if rest.starts_with('>') {
                    return Err("an atomic group `(?>` (RE2 has none)".into());
                }
                if rest.starts_with('(') || rest.starts_with('R') || rest.starts_with('&') {
                    return Err("a conditional or recursive group (RE2 has none)".into());
                }
                if rest.starts_with('<') || rest.starts_with('\'') {
                    // Named group: `(?<n>` / `(?'n'` → `(?P<n>`.
                    let close = if rest.starts_with('<') { '>' } else { '\'' };
                    let mut j = i + 3;
                    let mut name = String::new();
                    while j < chars.len() && chars[j] != close {
                        name.push(chars[j]);
                        j += 1;
                    }
                    out.push_str(&format!("(?P<{name}>"));
                    i = j + 1;
                    continue;
                }
                out.push(c);
            }
            '+' | '*' | '?' | '}' if !in_class && chars.get(i + 1) == Some(&'+') => {
                return Err("a possessive quantifier (RE2 has none)".into());
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// Lucene regexp → RE2. Lucene: anchored, `\` escapes any character, `"..."`
/// is a literal string; `@`, `&`, `~`, `<n-m>` and `#` are operators when
/// their optional flags are on (Elasticsearch's default `ALL`), refused here
/// as RE2 has no equivalent.
fn lucene(p: &str) -> Result<String, String> {
    let mut out = String::with_capacity(p.len());
    let mut chars = p.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => {
                    let mut s = String::new();
                    re_escape(&n.to_string(), &mut s);
                    out.push_str(&s);
                }
                None => return Err("a trailing backslash".into()),
            },
            '"' if !in_class => {
                let mut lit = String::new();
                for n in chars.by_ref() {
                    if n == '"' {
                        break;
                    }
                    lit.push(n);
                }
                re_escape(&lit, &mut out);
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '@' | '&' | '~' | '<' | '#' if !in_class => {
                return Err(format!(
                    "the Lucene regex operator `{c}` (intersection, complement, any-string, interval or empty language; RE2 has none)"
                ));
            }
            '^' | '$' if !in_class => {
                // Literal in Lucene (the whole value is always matched).
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str, flavor: RegexFlavor, anchored: bool) -> Result<String, String> {
        regex(
            &Regex {
                pattern: p.into(),
                flavor,
                anchored,
                multiline: false,
                dot_all: false,
            },
            false,
        )
    }

    #[test]
    fn strings_survive_every_character() {
        assert_eq!(string(r#"C:\a "b""#), r#"@"C:\a ""b""""#);
        assert_eq!(string("a\nb\\"), r#""a\nb\\""#);
        assert_eq!(lit("plain"), "\"plain\"");
        assert_eq!(lit(r"C:\x"), r#"@"C:\x""#);
    }

    #[test]
    fn identifiers_and_timespans() {
        assert_eq!(ident("bytes_in"), "bytes_in");
        assert_eq!(ident("count"), "['count']");
        assert_eq!(ident("query_results"), "['query_results']");
        assert_eq!(ident("a.b"), "['a.b']");
        assert_eq!(timespan(&Duration::parse("5m").unwrap()), "5m");
        assert_eq!(timespan(&Duration::parse("90s").unwrap()), "90s");
        assert_eq!(timespan(&Duration::parse("24h").unwrap()), "1d");
    }

    #[test]
    fn wildcard_patterns_become_anchored_escaped_regexes() {
        let p = Pattern::parse_wildcards(r"C:\Win*\a?.exe", false);
        assert_eq!(pattern_regex(&p, true), r"(?is)^C:\\Win.*\\a.\.exe$");
    }

    #[test]
    fn pcre_and_lucene_translation() {
        assert_eq!(
            re(r"a(?<x>b)+", RegexFlavor::Pcre, false).unwrap(),
            "a(?P<x>b)+"
        );
        assert!(re(r"a(?=b)", RegexFlavor::Pcre, false)
            .unwrap_err()
            .contains("look-ahead"));
        assert!(re(r"(?<!a)b", RegexFlavor::Pcre, false)
            .unwrap_err()
            .contains("look-behind"));
        assert!(re(r"(a)\1", RegexFlavor::Pcre, false)
            .unwrap_err()
            .contains("backreference"));
        assert_eq!(
            re(r#"ab"c.d"[0-9]+\."#, RegexFlavor::Lucene, true).unwrap(),
            r"(?s)^(?:abc\.d[0-9]+\.)$"
        );
        assert!(re("a@", RegexFlavor::Lucene, true).is_err());
    }
}
