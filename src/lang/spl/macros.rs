//! Search-macro expansion. Splunk expands `` `name` `` and `` `name(a, b)` ``
//! textually before parsing; `$arg$` in a definition is replaced by the
//! argument as written; definitions may call macros; macros inside quoted
//! strings are not expanded.
//! <https://help.splunk.com/en/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/10.0/search-macros>
//!
//! The expanded text gets an [`Origin`]: text copied from the query maps to
//! where it stands in the file, and every byte an expansion produced maps
//! into the macro call that produced it, so a parse error inside an
//! expansion points at the call (and [`Expansion::remap`] names the macro).

use crate::diag::{codes, Diagnostic};
use crate::span::{Origin, Span};
use std::collections::HashMap;

/// The deepest macro nesting accepted (a recursive macro stops here).
pub const MAX_MACRO_DEPTH: usize = 40;

/// One macro definition.
#[derive(Debug, Clone, PartialEq)]
pub struct MacroDef {
    pub name: String,
    pub args: Vec<String>,
    pub definition: String,
}

/// Macro definitions by name (a name may be overloaded by arity).
#[derive(Debug, Clone, Default)]
pub struct MacroTable {
    defs: HashMap<String, Vec<MacroDef>>,
}

impl MacroTable {
    pub fn new() -> MacroTable {
        MacroTable::default()
    }
    pub fn insert(&mut self, def: MacroDef) {
        let v = self.defs.entry(def.name.clone()).or_default();
        v.retain(|d| d.args.len() != def.args.len());
        v.push(def);
    }
    pub fn len(&self) -> usize {
        self.defs.values().map(Vec::len).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }
}

/// A macro call in the query and the text it became.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub call: Span,
    pub name: String,
    pub expansion: String,
}

/// The expanded search, its origin and the calls expanded.
#[derive(Debug, Clone)]
pub struct Expansion {
    pub text: String,
    pub origin: Origin,
    pub sites: Vec<Site>,
}

impl Expansion {
    /// Point a diagnostic that falls inside an expansion at the macro call
    /// (whole), naming the macro and showing what it expanded to.
    pub fn remap(&self, mut d: Diagnostic) -> Diagnostic {
        let Some(span) = d.span else { return d };
        if let Some(site) = self.sites.iter().find(|s| {
            // an empty span at the call's end is the end of its expansion
            // ("expected X, found end of query")
            s.call.file == span.file
                && span.start >= s.call.start
                && (span.start < s.call.end || (span.start == s.call.end && span.end == span.start))
        }) {
            d.span = Some(site.call);
            let label = d.label.take().unwrap_or_default();
            d.label = Some(if label.is_empty() {
                format!("in the expansion of `{}`", site.name)
            } else {
                format!("{label} (in the expansion of `{}`)", site.name)
            });
            d.notes.push(format!(
                "macro `{}` expands to: {}",
                site.name,
                site.expansion.trim()
            ));
        }
        d
    }
}

struct Out {
    text: String,
    segs: Vec<(u32, u32)>,
}

impl Out {
    /// Copy `src[range]` mapping each byte through `origin`.
    fn verbatim(&mut self, src: &str, start: usize, end: usize, origin: &Origin) {
        let mut expect = usize::MAX;
        for k in start..end {
            let m = origin.map(k);
            if m != expect {
                self.segs
                    .push(((self.text.len() + k - start) as u32, m as u32));
            }
            expect = m + 1;
        }
        self.text.push_str(&src[start..end]);
    }
    /// Append expansion text, every byte mapped inside `call`.
    fn fixed(&mut self, s: &str, call: Span) {
        if s.is_empty() {
            return;
        }
        let base = self.text.len();
        let len = (call.end - call.start).max(1) as usize;
        self.segs.push((base as u32, call.start));
        for k in len..s.len() {
            self.segs
                .push(((base + k) as u32, call.end.saturating_sub(1)));
        }
        self.text.push_str(s);
    }
}

/// Where the next quoted string, comment or macro call starts.
enum Piece {
    Text(usize),
    Quoted(usize),
    Comment(usize),
    Call(usize, usize),
    Unclosed(usize),
}

fn next_piece(s: &str, from: usize) -> Piece {
    let b = s.as_bytes();
    let mut k = from;
    while k < b.len() {
        match b[k] {
            // an escaped character outside quotes (`\"` does not open a string)
            b'\\' => k += 2,
            b'`' if s[k..].starts_with("```") => {
                let end = s[k + 3..]
                    .find("```")
                    .map(|e| k + 3 + e + 3)
                    .unwrap_or(s.len());
                return if k == from {
                    Piece::Comment(end)
                } else {
                    Piece::Text(k)
                };
            }
            b'`' => {
                if k != from {
                    return Piece::Text(k);
                }
                return match s[k + 1..].find('`') {
                    Some(e) => Piece::Call(k, k + 1 + e + 1),
                    None => Piece::Unclosed(k),
                };
            }
            b'"' => {
                if k != from {
                    return Piece::Text(k);
                }
                let mut j = k + 1;
                while j < b.len() {
                    match b[j] {
                        b'\\' => j += 2,
                        b'"' => return Piece::Quoted(j + 1),
                        _ => j += 1,
                    }
                }
                return Piece::Quoted(b.len());
            }
            _ => k += 1,
        }
    }
    Piece::Text(b.len().max(from))
}

/// Split `a, "b,c", d` at top-level commas; arguments are trimmed.
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                continue;
            }
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix("\\\"")
        .and_then(|x| x.strip_suffix("\\\""))
        .or_else(|| s.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
        .unwrap_or(s)
}

struct Ctx<'t> {
    table: &'t MacroTable,
    call: Span,
    outer: String,
}

impl Ctx<'_> {
    fn err(&self, code: crate::diag::Code, msg: String, label: &str) -> Diagnostic {
        let mut d = Diagnostic::error(code, msg)
            .at(self.call)
            .label(label.to_string());
        if !self.outer.is_empty() {
            d = d.note(format!("while expanding macro `{}`", self.outer));
        }
        d
    }

    /// The text one call expands to, nested calls expanded.
    fn call(&self, body: &str, depth: usize) -> Result<String, Diagnostic> {
        if depth > MAX_MACRO_DEPTH {
            return Err(self.err(
                codes::TOO_DEEP,
                format!("macros nest more than {MAX_MACRO_DEPTH} levels deep (a recursive macro?)"),
                "expanded from here",
            ));
        }
        let (name, args) = match body.find('(') {
            Some(k) if body.trim_end().ends_with(')') => {
                let inner = &body.trim_end()[k + 1..body.trim_end().len() - 1];
                (body[..k].trim(), split_args(inner))
            }
            _ => (body.trim(), Vec::new()),
        };
        let args: Vec<String> = if args.len() == 1 && args[0].is_empty() {
            Vec::new()
        } else {
            args
        };
        let defs = self.table.defs.get(name);
        let def = defs.and_then(|v| v.iter().find(|d| d.args.len() == args.len()));
        let text = match (def, defs) {
            (Some(d), _) => substitute(d, &args),
            (None, None) if name.ends_with("_filter") && args.is_empty() => "search *".to_string(),
            (None, None) if name == "drop_dm_object_name" && args.len() == 1 => {
                format!("rename {}.* AS *", unquote(&args[0]))
            }
            (None, Some(v)) => {
                let arities: Vec<String> = v.iter().map(|d| d.args.len().to_string()).collect();
                return Err(self.err(
                    codes::MACRO_ARITY,
                    format!(
                        "macro `{name}` takes {} argument(s), found {}",
                        arities.join(" or "),
                        args.len()
                    ),
                    "wrong number of arguments",
                ));
            }
            (None, None) => {
                if name.is_empty() {
                    return Err(self.err(
                        codes::UNKNOWN_MACRO,
                        "an empty macro call ``".into(),
                        "no macro name",
                    ));
                }
                return Err(self.err(
                    codes::UNKNOWN_MACRO,
                    format!("unknown macro `{name}`"),
                    "no definition found for this macro",
                ));
            }
        };
        let inner = Ctx {
            table: self.table,
            call: self.call,
            outer: name.to_string(),
        };
        inner.text(&text, depth + 1)
    }

    /// Expand every call in a definition's text.
    fn text(&self, s: &str, depth: usize) -> Result<String, Diagnostic> {
        let mut out = String::with_capacity(s.len());
        let mut k = 0;
        while k < s.len() {
            match next_piece(s, k) {
                Piece::Text(e) | Piece::Quoted(e) | Piece::Comment(e) => {
                    out.push_str(&s[k..e]);
                    k = e;
                }
                Piece::Call(a, e) => {
                    out.push_str(&self.call(&s[a + 1..e - 1], depth)?);
                    k = e;
                }
                Piece::Unclosed(_) => {
                    return Err(self.err(
                        codes::UNCLOSED,
                        format!(
                            "macro `{}` has an unclosed macro call in its definition",
                            self.outer
                        ),
                        "expanded from here",
                    ))
                }
            }
        }
        Ok(out)
    }
}

fn substitute(d: &MacroDef, args: &[String]) -> String {
    // named arguments `name=value` when every argument is one
    let named: Option<Vec<(String, String)>> = args
        .iter()
        .map(|a| {
            let (n, v) = a.split_once('=')?;
            let n = n.trim();
            d.args
                .iter()
                .any(|x| x == n)
                .then(|| (n.to_string(), v.trim().to_string()))
        })
        .collect();
    let values: Vec<(String, String)> = match named {
        Some(n) if !n.is_empty() => n,
        _ => d.args.iter().cloned().zip(args.iter().cloned()).collect(),
    };
    let mut text = d.definition.clone();
    for (n, v) in values {
        text = text.replace(&format!("${n}$"), &v);
    }
    text
}

/// Expand every macro call of a query text.
pub fn expand(text: &str, origin: &Origin, table: &MacroTable) -> Result<Expansion, Diagnostic> {
    let mut out = Out {
        text: String::with_capacity(text.len() + 64),
        segs: Vec::new(),
    };
    let mut sites = Vec::new();
    let mut k = 0;
    while k < text.len() {
        match next_piece(text, k) {
            Piece::Text(e) | Piece::Quoted(e) | Piece::Comment(e) => {
                out.verbatim(text, k, e, origin);
                k = e;
            }
            Piece::Call(a, e) => {
                let call = origin.span(a, e);
                let ctx = Ctx {
                    table,
                    call,
                    outer: String::new(),
                };
                let body = &text[a + 1..e - 1];
                let expansion = ctx.call(body, 0)?;
                out.fixed(&expansion, call);
                let name = body.split('(').next().unwrap_or("").trim().to_string();
                sites.push(Site {
                    call,
                    name,
                    expansion,
                });
                k = e;
            }
            Piece::Unclosed(a) => {
                return Err(Diagnostic::error(
                    codes::UNCLOSED,
                    "unclosed macro call: expected a closing backtick",
                )
                .at(origin.span(a, a + 1))
                .label("this backtick is never closed"));
            }
        }
    }
    let file = origin.file;
    Ok(Expansion {
        origin: Origin::from_segments(file, out.segs),
        text: out.text,
        sites,
    })
}
