//! One IR value as a Sigma value: the modifiers it needs and its YAML form.
//! Sigma strings are case-insensitive unless `|cased`; `*` and `?` are
//! wildcards and `\` escapes them (and itself) — only where it would
//! otherwise be read as an escape, so Windows paths keep single backslashes.

use super::yaml::Node;
use crate::ir::{Case, Part, Pattern, Regex, RegexFlavor, Value};

/// A value with the modifiers that give it its meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaValue {
    /// Modifiers in the order written (`contains`, `re`, `i`, `cased`, ...).
    pub mods: Vec<&'static str>,
    pub node: Node,
}

/// Why a value cannot be written exactly.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueIssue {
    /// The value has no Sigma form at all (refuse).
    Refuse(String),
}

/// Sigma's escaped form of a pattern: `\` doubled only before `*`, `?`,
/// `\` or a wildcard (a lone `\` before other text is literal in Sigma).
pub fn wildcard_text(p: &Pattern) -> String {
    if p.has_placeholders() {
        return p.to_wildcard_string();
    }
    // Flatten to (char, is_wildcard) then escape by lookahead.
    let mut items: Vec<(char, bool)> = Vec::new();
    for part in &p.0 {
        match part {
            Part::Lit(s) => items.extend(s.chars().map(|c| (c, false))),
            Part::AnyRun => items.push(('*', true)),
            Part::AnyChar => items.push(('?', true)),
            Part::Placeholder(_) => {}
        }
    }
    let mut out = String::new();
    for (i, &(c, wild)) in items.iter().enumerate() {
        if wild {
            out.push(c);
            continue;
        }
        match c {
            '*' | '?' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => {
                let next_needs = items
                    .get(i + 1)
                    .is_some_and(|&(n, w)| w || matches!(n, '*' | '?' | '\\'));
                out.push('\\');
                if next_needs {
                    out.push('\\');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The modifier that states a pattern's shape, and the pattern without the
/// wildcards the modifier stands for: `*x*` → contains `x`.
fn shape(p: &Pattern) -> (Option<&'static str>, Pattern) {
    let parts = &p.0;
    let lead = matches!(parts.first(), Some(Part::AnyRun));
    let trail = parts.len() > 1 && matches!(parts.last(), Some(Part::AnyRun));
    let inner = |a: usize, b: usize| Pattern(parts[a..parts.len() - b].to_vec());
    match (lead, trail) {
        (true, true) if parts.len() > 2 => (Some("contains"), inner(1, 1)),
        (true, false) if parts.len() > 1 => (Some("endswith"), inner(1, 0)),
        (false, true) => (Some("startswith"), inner(0, 1)),
        _ => (None, p.clone()),
    }
}

/// Convert one value matched with `case`.
pub fn value(
    v: &Value,
    case: Case,
    field_name: &dyn Fn(&str) -> String,
) -> Result<SigmaValue, ValueIssue> {
    let mut mods = Vec::new();
    let node = match v {
        Value::Str(p) if p.has_placeholders() => {
            mods.push("expand");
            Node::Str(p.to_wildcard_string())
        }
        Value::Str(p) => {
            let (m, rest) = shape(p);
            mods.extend(m);
            Node::Str(wildcard_text(&rest))
        }
        Value::Regex(r) => {
            mods.push("re");
            let (text, flags) = regex(r, case)?;
            mods.extend(flags);
            return Ok(SigmaValue {
                mods,
                node: Node::Str(text),
            });
        }
        Value::Num(n) => Node::Raw(number(&n.text, n.value)),
        Value::Bool(b) => Node::Raw(b.to_string()),
        Value::Null => Node::Raw("null".into()),
        Value::Cidr(c) => {
            mods.push("cidr");
            Node::Str(c.clone())
        }
        Value::FieldRef(f) => {
            mods.push("fieldref");
            Node::Str(field_name(f))
        }
    };
    if case == Case::Sensitive && matches!(v, Value::Str(_)) {
        mods.push("cased");
    }
    Ok(SigmaValue { mods, node })
}

/// A number as YAML reads it back: the text as written when it is a plain
/// decimal, otherwise the value.
fn number(text: &str, value: f64) -> String {
    let plain = text.trim_start_matches('-');
    let ok = !plain.is_empty()
        && plain.chars().all(|c| c.is_ascii_digit() || c == '.')
        && plain.matches('.').count() <= 1
        && !plain.starts_with('.')
        && !plain.ends_with('.')
        && !(plain.len() > 1 && plain.starts_with('0') && !plain.starts_with("0."));
    if ok {
        text.to_string()
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// A regex as Sigma's PCRE-flavoured `|re`, with its flags.
pub fn regex(r: &Regex, case: Case) -> Result<(String, Vec<&'static str>), ValueIssue> {
    let mut flags = Vec::new();
    if case == Case::Insensitive {
        flags.push("i");
    }
    if r.multiline {
        flags.push("m");
    }
    let mut dot_all = r.dot_all;
    let body = match r.flavor {
        RegexFlavor::Lucene => {
            // Lucene's `.` matches any character, newlines included.
            dot_all = true;
            lucene_to_pcre(&r.pattern)?
        }
        RegexFlavor::Pcre | RegexFlavor::Re2 => r.pattern.clone(),
    };
    if dot_all {
        flags.push("s");
    }
    let text = if r.anchored {
        format!("^(?:{body})$")
    } else {
        body
    };
    Ok((text, flags))
}

/// Lucene regexp syntax as PCRE. Lucene has no shorthand classes (`\d` is
/// `d`) and no anchors; its optional operators (`@`, `&`, `~`, `<n-m>`, `#`,
/// `"..."`) have no PCRE equivalent here and are refused.
fn lucene_to_pcre(p: &str) -> Result<String, ValueIssue> {
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    return Err(ValueIssue::Refuse(
                        "a Lucene regex ends with a lone `\\`".into(),
                    ));
                };
                if n.is_ascii_alphanumeric() {
                    out.push(n);
                } else {
                    out.push('\\');
                    out.push(n);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '@' | '&' | '~' | '<' | '>' | '#' | '"' if !in_class => {
                return Err(ValueIssue::Refuse(format!(
                    "the Lucene regex operator `{c}` has no PCRE form"
                )));
            }
            '^' | '$' if !in_class => {
                out.push('\\');
                out.push(c);
            }
            '[' if in_class => {
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
    use crate::ir::Number;

    fn s(text: &str) -> Value {
        Value::Str(Pattern::parse_wildcards(text, true))
    }
    fn conv(v: &Value, case: Case) -> (String, String) {
        let sv = value(v, case, &|f| f.to_string()).unwrap();
        let text = match sv.node {
            Node::Str(s) | Node::Raw(s) => s,
            _ => String::new(),
        };
        (sv.mods.join("|"), text)
    }

    #[test]
    fn shapes_become_modifiers() {
        let ci = Case::Insensitive;
        assert_eq!(conv(&s("*abc*"), ci), ("contains".into(), "abc".into()));
        assert_eq!(conv(&s("abc*"), ci), ("startswith".into(), "abc".into()));
        assert_eq!(conv(&s("*abc"), ci), ("endswith".into(), "abc".into()));
        assert_eq!(conv(&s("a*c"), ci), ("".into(), "a*c".into()));
        assert_eq!(conv(&s("*a*c*"), ci), ("contains".into(), "a*c".into()));
        assert_eq!(conv(&s("*"), ci), ("".into(), "*".into()));
        assert_eq!(
            conv(&s("abc"), Case::Sensitive),
            ("cased".into(), "abc".into())
        );
    }

    #[test]
    fn backslashes_are_escaped_only_where_sigma_reads_an_escape() {
        let p = Pattern(vec![Part::Lit(r"C:\Windows\".into()), Part::AnyRun]);
        assert_eq!(wildcard_text(&p), r"C:\Windows\\*");
        let p = Pattern(vec![Part::Lit(r"a\b\\c*?\".into())]);
        assert_eq!(wildcard_text(&p), r"a\b\\\c\*\?\");
        let p = Pattern(vec![
            Part::AnyChar,
            Part::Lit(r":\Program Files\".into()),
            Part::AnyRun,
        ]);
        assert_eq!(wildcard_text(&p), r"?:\Program Files\\*");
    }

    #[test]
    fn regexes() {
        let r = Regex {
            pattern: r"a\d.[b^]".into(),
            flavor: RegexFlavor::Lucene,
            anchored: true,
            multiline: false,
            dot_all: false,
        };
        assert_eq!(
            regex(&r, Case::Sensitive).unwrap(),
            (r"^(?:ad.[b^])$".into(), vec!["s"])
        );
        let r = Regex {
            pattern: "a@b".into(),
            ..r
        };
        assert!(regex(&r, Case::Sensitive).is_err());
        let r = Regex {
            pattern: r"\d+".into(),
            flavor: RegexFlavor::Pcre,
            anchored: false,
            multiline: true,
            dot_all: false,
        };
        assert_eq!(
            regex(&r, Case::Insensitive).unwrap(),
            (r"\d+".into(), vec!["i", "m"])
        );
    }

    #[test]
    fn numbers_read_back() {
        assert_eq!(number("10", 10.0), "10");
        assert_eq!(number("1.5", 1.5), "1.5");
        assert_eq!(number("0x10", 16.0), "16");
        assert_eq!(number("010", 10.0), "10");
        let _ = Number::new("1");
    }
}
