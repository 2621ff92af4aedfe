//! ES|QL commands: `source-command | processing-command | ...`.
//! Command names and keywords are case-insensitive.
//! Reference: <https://www.elastic.co/docs/reference/query-languages/esql/esql-commands>

use super::ast::*;
use super::lex::{
    index_pattern, keyword, name_pattern, peek_word, punct, skip, top_level_pipes, word,
};
use crate::diag::{codes, Code, Diagnostic};
use crate::lang::common::{describe_next, error_at, offset, too_deep, Depth, DepthGuard};
use crate::span::{Origin, Span};

pub type Res<'a, T> = Result<(&'a str, T), Box<Diagnostic>>;

/// An error result (diagnostics are boxed: they are large and rare).
pub fn fail<T>(d: Diagnostic) -> Result<T, Box<Diagnostic>> {
    Err(Box::new(d))
}

/// Source commands: a query starts with one of these.
pub const SOURCE_COMMANDS: &[&str] = &["from", "row", "show", "ts", "explain", "metrics"];

/// Processing commands with a meaning in the IR.
const KNOWN: &[&str] = &[
    "where",
    "eval",
    "stats",
    "inline stats",
    "inlinestats",
    "keep",
    "drop",
    "rename",
    "sort",
    "limit",
    "mv_expand",
    "dissect",
    "grok",
    "enrich",
    "lookup join",
];

/// Documented processing commands kept as opaque stages.
const OPAQUE: &[&str] = &[
    "change_point",
    "completion",
    "fork",
    "fuse",
    "rerank",
    "sample",
    "rrf",
];

pub struct Parser<'a> {
    pub full: &'a str,
    pub origin: &'a Origin,
    depth: Depth,
    /// Offsets of the top-level pipes; a command ends at the next one.
    pipes: Vec<usize>,
}

/// Parse a whole query.
pub fn parse(full: &str, origin: &Origin) -> Result<Query, Box<Diagnostic>> {
    let start = skip(full);
    if start.is_empty() {
        return fail(
            error_at(
                origin,
                0,
                full.len(),
                codes::EMPTY_QUERY,
                "the ES|QL query is empty",
            )
            .label("expected a source command such as `FROM index`"),
        );
    }
    let pipes = top_level_pipes(full, origin)?;
    let p = Parser {
        full,
        origin,
        depth: Depth::default(),
        pipes,
    };
    let (mut s, source) = p.source_command(start)?;
    let mut commands = Vec::new();
    loop {
        s = skip(s);
        if s.is_empty() {
            break;
        }
        let Some(r) = s.strip_prefix('|') else {
            return fail(p.unexpected(s, "`|` or the end of the query"));
        };
        let (r, cmd) = p.command(r)?;
        commands.push(cmd);
        s = r;
    }
    Ok(Query {
        source,
        commands,
        span: p.span_from(start, s.trim_end()),
    })
}

impl<'a> Parser<'a> {
    // ---- positions and errors

    pub fn at(&self, s: &str) -> usize {
        offset(self.full, s)
    }

    /// The span from `start` (a suffix) to `end` (a later suffix), trailing blanks excluded.
    pub fn span_from(&self, start: &str, end: &str) -> Span {
        let a = self.at(start);
        let b = self.at(end).max(a);
        let b = a + self.full[a..b].trim_end().len();
        self.origin.span(a, b)
    }

    pub fn error(&self, a: usize, b: usize, code: Code, msg: impl Into<String>) -> Diagnostic {
        error_at(self.origin, a, b, code, msg)
    }

    /// E0202 "expected X, found Y" at the next token of `s`.
    pub fn unexpected(&self, s: &str, expected: &str) -> Diagnostic {
        let t = skip(s);
        let at = self.at(t);
        let found = describe_next(t);
        let len = if t.is_empty() {
            0
        } else {
            word(t)
                .map(|(_, w)| w.len())
                .unwrap_or_else(|_| t.chars().next().map_or(1, char::len_utf8))
        };
        self.error(
            at,
            at + len,
            codes::UNEXPECTED_TOKEN,
            format!("expected {expected}, found {found}"),
        )
        .label(format!("expected {expected}"))
    }

    pub fn enter(&self, s: &str) -> Result<DepthGuard<'_>, Box<Diagnostic>> {
        self.depth
            .enter()
            .ok_or_else(|| Box::new(too_deep(self.origin, self.at(skip(s)))))
    }

    /// Consumes `close`, or reports it missing (E0203, pointing at the opener).
    pub fn close(&self, s: &'a str, open: &str, close: &str) -> Result<&'a str, Box<Diagnostic>> {
        if let Some(r) = punct(s, close) {
            return Ok(r);
        }
        let t = skip(s);
        if t.is_empty() || t.starts_with('|') {
            let o = self.at(open);
            return fail(
                self.unexpected(s, &format!("`{close}`"))
                    .with_secondary(self.origin.span(o, o + 1), "opened here"),
            );
        }
        fail(self.unexpected(s, &format!("`,` or `{close}`")))
    }

    /// The end of the command that contains `s`: the next top-level pipe.
    fn command_end(&self, s: &'a str) -> &'a str {
        let at = self.at(s);
        let end = self
            .pipes
            .iter()
            .copied()
            .find(|p| *p >= at)
            .unwrap_or(self.full.len());
        &self.full[end..]
    }

    // ---- commands

    fn source_command(&self, s: &'a str) -> Res<'a, SourceCmd> {
        let Ok((r, name)) = word(s) else {
            return fail(self.unexpected(s, "a source command (`FROM`, `ROW`, `SHOW`, `TS`)"));
        };
        let lower = name.to_ascii_lowercase();
        let name_span = self.span_from(s, r);
        match lower.as_str() {
            "from" | "ts" | "metrics" => {
                let (r, indexes) = self.list(r, |p, s| p.index(s))?;
                let (r, metadata) = self.metadata(r)?;
                let kind = SourceKind::From { indexes, metadata };
                Ok((r, self.source_cmd(kind, name_span, s, r)))
            }
            "row" | "show" | "explain" => {
                let end = self.command_end(r);
                let kind = SourceKind::Other {
                    name: lower,
                    text: self.full[self.at(s)..self.at(end)].trim().to_string(),
                };
                Ok((end, self.source_cmd(kind, name_span, s, end)))
            }
            _ if KNOWN.contains(&lower.as_str()) || OPAQUE.contains(&lower.as_str()) => fail(
                self.error(
                    self.at(s),
                    self.at(r),
                    codes::UNEXPECTED_TOKEN,
                    format!(
                        "`{name}` is a processing command; a query starts with a source command"
                    ),
                )
                .label("expected `FROM`, `ROW`, `SHOW` or `TS` here")
                .note("write `FROM index-pattern | ...`"),
            ),
            _ => fail(
                self.error(
                    self.at(s),
                    self.at(r),
                    codes::UNEXPECTED_TOKEN,
                    format!("unknown source command `{name}`"),
                )
                .label(format!("expected one of {}", list_names(SOURCE_COMMANDS))),
            ),
        }
    }

    fn source_cmd(&self, kind: SourceKind, name_span: Span, s: &str, r: &str) -> SourceCmd {
        SourceCmd {
            kind,
            name_span,
            span: self.span_from(s, r),
        }
    }

    fn index(&self, s: &'a str) -> Res<'a, Name> {
        let s = skip(s);
        if s.starts_with('"') {
            let (r, st) = self.string_lit(s)?;
            return Ok((
                r,
                Name {
                    text: st.value,
                    span: st.span,
                },
            ));
        }
        match index_pattern(s) {
            Some((r, text)) if !text.eq_ignore_ascii_case("metadata") => Ok((
                r,
                Name {
                    text: text.to_string(),
                    span: self.span_from(s, r),
                },
            )),
            _ => fail(self.unexpected(s, "an index pattern")),
        }
    }

    fn metadata(&self, s: &'a str) -> Res<'a, Vec<Name>> {
        let bracket = punct(s, "[");
        let Some(r) = keyword(bracket.unwrap_or(s), "metadata") else {
            return Ok((s, Vec::new()));
        };
        let (r, names) = self.list(r, |p, s| p.name(s))?;
        match bracket {
            Some(b) => Ok((self.close(r, b, "]")?, names)),
            None => Ok((r, names)),
        }
    }

    fn command(&self, s: &'a str) -> Res<'a, Command> {
        let s = skip(s);
        let Ok((mut r, first)) = word(s) else {
            return fail(self.unexpected(s, "a processing command"));
        };
        let mut name = first.to_ascii_lowercase();
        // two-word commands
        if name == "inline" || name == "lookup" {
            let second = if name == "inline" { "stats" } else { "join" };
            if let Some(r2) = keyword(r, second) {
                name = format!("{name} {second}");
                r = r2;
            }
        }
        let name_span = self.span_from(s, r);
        let (r, kind) = match name.as_str() {
            "where" => {
                let (r, e) = self.expr(r)?;
                (r, CommandKind::Where(e))
            }
            "eval" => {
                let (r, fields) = self.list(r, |p, s| p.field(s))?;
                (r, CommandKind::Eval(fields))
            }
            "stats" | "inline stats" | "inlinestats" => self.stats(r, name != "stats")?,
            "keep" | "drop" => {
                let (r, names) = self.list(r, |p, s| p.name(s))?;
                let drop = name == "drop";
                (r, CommandKind::Project { names, drop })
            }
            "rename" => {
                let (r, pairs) = self.list(r, |p, s| p.rename_clause(s))?;
                (r, CommandKind::Rename(pairs))
            }
            "sort" => {
                let (r, keys) = self.list(r, |p, s| p.order(s))?;
                (r, CommandKind::Sort(keys))
            }
            "limit" => self.limit(r)?,
            "mv_expand" => {
                let (r, n) = self.name(r)?;
                (r, CommandKind::MvExpand(n))
            }
            "dissect" | "grok" => self.extract(r, &name)?,
            "enrich" => self.enrich(r)?,
            "lookup join" => {
                let (r, index) = self.index(r)?;
                let r = keyword(r, "on").ok_or_else(|| self.unexpected(r, "`ON`"))?;
                let (r, on) = self.list(r, |p, s| p.name(s))?;
                (r, CommandKind::LookupJoin { index, on })
            }
            n if OPAQUE.contains(&n) => {
                let end = self.command_end(r);
                let text = self.full[self.at(s)..self.at(end)].trim().to_string();
                (
                    end,
                    CommandKind::Opaque {
                        name: name.clone(),
                        text,
                    },
                )
            }
            _ => {
                let mut all: Vec<&str> = KNOWN.to_vec();
                all.extend(OPAQUE);
                return fail(
                    self.error(
                        self.at(s),
                        self.at(r),
                        codes::UNEXPECTED_TOKEN,
                        format!("unknown ES|QL command `{first}`"),
                    )
                    .label("expected a processing command")
                    .note(format!("ES|QL processing commands: {}", list_names(&all))),
                );
            }
        };
        let t = skip(r);
        if !t.is_empty() && !t.starts_with('|') {
            return fail(self.unexpected(
                t,
                &format!(
                    "`,`, `|` or the end of the query after `{}`",
                    name.to_uppercase()
                ),
            ));
        }
        let span = self.span_from(s, r);
        Ok((
            r,
            Command {
                kind,
                name_span,
                span,
            },
        ))
    }

    fn stats(&self, s: &'a str, inline: bool) -> Res<'a, CommandKind> {
        let (r, aggs) = if peek_word(s).as_deref() == Some("by") {
            (s, Vec::new())
        } else {
            self.list(s, |p, s| {
                let (r, field) = p.field(s)?;
                match keyword(r, "where") {
                    Some(r) => {
                        let (r, f) = p.expr(r)?;
                        Ok((
                            r,
                            AggField {
                                field,
                                filter: Some(f),
                            },
                        ))
                    }
                    None => Ok((
                        r,
                        AggField {
                            field,
                            filter: None,
                        },
                    )),
                }
            })?
        };
        let (r, by) = match keyword(r, "by") {
            Some(r) => self.list(r, |p, s| p.field(s))?,
            None => (r, Vec::new()),
        };
        if aggs.is_empty() && by.is_empty() {
            return fail(self.unexpected(r, "an aggregate or `BY`"));
        }
        Ok((r, CommandKind::Stats { inline, aggs, by }))
    }

    fn limit(&self, s: &'a str) -> Res<'a, CommandKind> {
        let t = skip(s);
        let (r, digits) = nom::character::complete::digit1::<_, ()>(t)
            .map_err(|_| self.unexpected(t, "a row count"))?;
        let n = digits.parse::<u64>().map_err(|_| {
            self.error(
                self.at(t),
                self.at(r),
                codes::BAD_NUMBER,
                "the row count is too large",
            )
        })?;
        Ok((r, CommandKind::Limit(n)))
    }

    fn extract(&self, s: &'a str, name: &str) -> Res<'a, CommandKind> {
        let (r, input) = self.operand(s)?;
        let (mut r, pattern) = self.string_lit(r)?;
        let method = if name == "grok" {
            ExtractMethod::Grok
        } else {
            // DISSECT options: `APPEND_SEPARATOR = "x"`
            while let Some(w) = peek_word(r).filter(|w| w == "append_separator") {
                let _ = w;
                let r2 = keyword(r, "append_separator").unwrap_or(r);
                let r2 = punct(r2, "=").ok_or_else(|| self.unexpected(r2, "`=`"))?;
                let (r2, _) = self.string_lit(r2)?;
                r = punct(r2, ",").unwrap_or(r2);
            }
            ExtractMethod::Dissect
        };
        Ok((
            r,
            CommandKind::Extract {
                method,
                input,
                pattern,
            },
        ))
    }

    fn enrich(&self, s: &'a str) -> Res<'a, CommandKind> {
        let s = skip(s);
        let (r, policy) = match index_pattern(s) {
            Some((r, t)) => (
                r,
                Name {
                    text: t.to_string(),
                    span: self.span_from(s, r),
                },
            ),
            None => return fail(self.unexpected(s, "an enrich policy name")),
        };
        let (r, on) = match keyword(r, "on") {
            Some(r) => {
                let (r, n) = self.name(r)?;
                (r, Some(n))
            }
            None => (r, None),
        };
        let (r, with) = match keyword(r, "with") {
            Some(r) => self.list(r, |p, s| {
                let (r, a) = p.name(s)?;
                match punct(r, "=").filter(|r| !r.starts_with('=')) {
                    Some(r) => {
                        let (r, b) = p.name(r)?;
                        Ok((r, (Some(a), b)))
                    }
                    None => Ok((r, (None, a))),
                }
            })?,
            None => (r, Vec::new()),
        };
        Ok((r, CommandKind::Enrich { policy, on, with }))
    }

    fn rename_clause(&self, s: &'a str) -> Res<'a, (Name, Name)> {
        let (r, a) = self.name(s)?;
        if let Some(r) = keyword(r, "as") {
            let (r, b) = self.name(r)?;
            return Ok((r, (a, b)));
        }
        if let Some(r) = punct(r, "=").filter(|r| !r.starts_with('=')) {
            // RENAME new = old
            let (r, b) = self.name(r)?;
            return Ok((r, (b, a)));
        }
        fail(self.unexpected(r, "`AS` or `=`"))
    }

    fn order(&self, s: &'a str) -> Res<'a, Order> {
        let (mut r, key) = self.expr(s)?;
        let mut descending = false;
        if let Some(r2) = keyword(r, "desc") {
            descending = true;
            r = r2;
        } else if let Some(r2) = keyword(r, "asc") {
            r = r2;
        }
        let mut nulls_first = None;
        if let Some(r2) = keyword(r, "nulls") {
            if let Some(r3) = keyword(r2, "first") {
                nulls_first = Some(true);
                r = r3;
            } else if let Some(r3) = keyword(r2, "last") {
                nulls_first = Some(false);
                r = r3;
            } else {
                return fail(self.unexpected(r2, "`FIRST` or `LAST`"));
            }
        }
        Ok((
            r,
            Order {
                key,
                descending,
                nulls_first,
            },
        ))
    }

    /// `[name =] expression`.
    fn field(&self, s: &'a str) -> Res<'a, Field> {
        let s = skip(s);
        let mut name = None;
        let mut value_start = s;
        if let Some((r, n)) = self.assign_target(s) {
            name = Some(n);
            value_start = skip(r);
        }
        let (r, value) = self.expr(value_start)?;
        let text = self.full[self.at(value_start)..self.at(r)]
            .trim()
            .to_string();
        Ok((
            r,
            Field {
                name,
                value,
                text,
                span: self.span_from(s, r),
            },
        ))
    }

    /// `qualified.name =` (not `==`, `=~`).
    fn assign_target(&self, s: &'a str) -> Option<(&'a str, Name)> {
        let (r, text) = name_pattern(s)?;
        if text.contains('*') {
            return None;
        }
        let t = skip(r);
        let after = t.strip_prefix('=')?;
        if after.starts_with('=') || after.starts_with('~') {
            return None;
        }
        Some((
            after,
            Name {
                text,
                span: self.span_from(s, r),
            },
        ))
    }

    /// A name or name pattern.
    pub fn name(&self, s: &'a str) -> Res<'a, Name> {
        let s = skip(s);
        match name_pattern(s) {
            Some((r, text)) => Ok((
                r,
                Name {
                    text,
                    span: self.span_from(s, r),
                },
            )),
            None => fail(self.unexpected(s, "a field name")),
        }
    }

    /// `item (, item)*`.
    pub fn list<T>(
        &self,
        s: &'a str,
        item: impl Fn(&Self, &'a str) -> Res<'a, T>,
    ) -> Res<'a, Vec<T>> {
        let (mut r, first) = item(self, s)?;
        let mut out = vec![first];
        while let Some(r2) = punct(r, ",") {
            let (r3, it) = item(self, r2)?;
            out.push(it);
            r = r3;
        }
        Ok((r, out))
    }
}

fn list_names(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", n.to_uppercase()))
        .collect::<Vec<_>>()
        .join(", ")
}
