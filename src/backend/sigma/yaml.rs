//! A small YAML writer for Sigma documents: block maps and lists, comments,
//! and scalars quoted only where YAML 1.1 (PyYAML, which pySigma uses) would
//! otherwise read them as something else.

/// A YAML node as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A string (quoted as needed).
    Str(String),
    /// A scalar written verbatim: numbers, `true`, `null`, dates.
    Raw(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    pub fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }
    pub fn raw(s: impl Into<String>) -> Node {
        Node::Raw(s.into())
    }
    /// A list of one item is written as the item itself.
    pub fn one_or_list(mut items: Vec<Node>) -> Node {
        if items.len() == 1 {
            items.pop().unwrap_or(Node::Raw("null".into()))
        } else {
            Node::List(items)
        }
    }
    fn is_scalar(&self) -> bool {
        matches!(self, Node::Str(_) | Node::Raw(_))
    }
}

const INDENT: usize = 4;

/// Write a top-level map as a YAML document (no `---`).
pub fn document(entries: &[(String, Node)]) -> String {
    let mut out = String::new();
    write_map(&mut out, entries, 0);
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_map(out: &mut String, entries: &[(String, Node)], indent: usize) {
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        }
        out.push_str(&key(k));
        out.push(':');
        write_value(out, v, indent);
    }
}

/// Write the value after `key:` (or after `- `) at `indent`.
fn write_value(out: &mut String, v: &Node, indent: usize) {
    match v {
        Node::Str(_) | Node::Raw(_) => {
            out.push(' ');
            scalar(out, v, indent + INDENT);
            out.push('\n');
        }
        Node::List(items) if items.is_empty() => out.push_str(" []\n"),
        Node::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Node::List(items) => {
            out.push('\n');
            write_list(out, items, indent + INDENT);
        }
        Node::Map(entries) => {
            out.push('\n');
            pad(out, indent + INDENT);
            write_map(out, entries, indent + INDENT);
        }
    }
}

fn write_list(out: &mut String, items: &[Node], indent: usize) {
    for it in items {
        pad(out, indent);
        out.push('-');
        match it {
            Node::Map(entries) if !entries.is_empty() => {
                out.push(' ');
                write_map(out, entries, indent + 2);
            }
            Node::List(inner) if !inner.is_empty() => {
                out.push('\n');
                write_list(out, inner, indent + 2);
            }
            _ if it.is_scalar() => {
                out.push(' ');
                scalar(out, it, indent + 2);
                out.push('\n');
            }
            _ => write_value(out, it, indent),
        }
    }
}

fn scalar(out: &mut String, v: &Node, block_indent: usize) {
    match v {
        Node::Raw(s) => out.push_str(s),
        Node::Str(s) => quote(out, s, block_indent),
        _ => {}
    }
}

fn key(k: &str) -> String {
    let mut s = String::new();
    if is_plain(k) && !k.contains(' ') {
        s.push_str(k);
    } else {
        quote(&mut s, k, 0);
    }
    s
}

/// Words YAML 1.1 reads as booleans or null.
const SPECIAL: &[&str] = &[
    "y", "n", "yes", "no", "true", "false", "on", "off", "null", "~",
];

/// A string that reads back as itself when written plain.
fn is_plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let digit_start = first.is_ascii_digit()
        && s.chars().any(|c| c.is_ascii_alphabetic())
        && !s.contains(['.', ':'])
        && !s.starts_with("0x")
        && !s.starts_with("0o")
        && !s.starts_with("0b");
    if !(first.is_ascii_alphabetic()
        || first == '_'
        || first == '/'
        || first == '\\'
        || digit_start)
    {
        return false;
    }
    if SPECIAL.contains(&s.to_ascii_lowercase().as_str()) || s.ends_with(' ') {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || " _-./()+,;=@$|\\".contains(c) || c == ':')
}

fn quote(out: &mut String, s: &str, block_indent: usize) {
    if is_plain(s) {
        out.push_str(s);
    } else if !s.chars().any(char::is_control) {
        out.push('\'');
        out.push_str(&s.replace('\'', "''"));
        out.push('\'');
    } else if block_indent > 0 && is_block(s) {
        out.push_str(if s.ends_with('\n') { "|" } else { "|-" });
        for line in s.trim_end_matches('\n').split('\n') {
            out.push('\n');
            if !line.is_empty() {
                pad(out, block_indent);
                out.push_str(line);
            }
        }
    } else {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

/// Multi-line text that a literal block scalar keeps exactly.
fn is_block(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && !s.ends_with("\n\n")
        && !s.chars().any(|c| c.is_control() && c != '\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(entries: Vec<(&str, Node)>) -> Node {
        Node::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    #[test]
    fn quoting() {
        let d = document(&[
            ("a".into(), Node::str("plain text")),
            ("b".into(), Node::str("yes")),
            ("c".into(), Node::str(r"C:\Windows\*")),
            ("c2".into(), Node::str(r"\Windows\x.exe")),
            ("c3".into(), Node::str("10m")),
            ("c4".into(), Node::str("2020-01-01")),
            ("d".into(), Node::str("it's")),
            ("e".into(), Node::str("4624")),
            ("f".into(), Node::str("")),
            ("g".into(), Node::str("line\ttab")),
            ("h".into(), Node::raw("12")),
        ]);
        let want = r#"a: plain text
b: 'yes'
c: 'C:\Windows\*'
c2: \Windows\x.exe
c3: 10m
c4: '2020-01-01'
d: 'it''s'
e: '4624'
f: ''
g: "line\ttab"
h: 12
"#;
        assert_eq!(d, want);
    }

    #[test]
    fn nesting_and_blocks() {
        let d = document(&[
            (
                "detection".into(),
                m(vec![
                    (
                        "selection",
                        Node::List(vec![
                            m(vec![("A|contains", Node::str("x")), ("B", Node::raw("1"))]),
                            m(vec![(
                                "C",
                                Node::List(vec![Node::str("p"), Node::str("q")]),
                            )]),
                        ]),
                    ),
                    ("condition", Node::str("selection")),
                ]),
            ),
            ("description".into(), Node::str("two\nlines")),
            ("|all".into(), Node::List(vec![])),
        ]);
        let want = "detection:
    selection:
        - A|contains: x
          B: 1
        - C:
              - p
              - q
    condition: selection
description: |-
    two
    lines
'|all': []
";
        assert_eq!(d, want);
    }
}
