//! Pipelines and commands. The search language lives in `search.rs`, the
//! eval language and aggregates in `eval.rs`; the remaining commands are read
//! from a generic token list (`Tok`) by `commands.rs`.

use super::ast::*;
use super::lex::{at_command_end, ident, ws, P, R};
use crate::diag::codes;

const SYMS: [&str; 10] = ["!=", "==", "<=", ">=", "=", "<", ">", ",", "(", ")"];

fn word_stop(c: char) -> bool {
    matches!(
        c,
        '=' | '!' | '<' | '>' | ',' | '(' | ')' | '[' | ']' | '|' | '"'
    )
}

impl<'a> P<'a> {
    /// A whole search: `[|] command (| command)*`, all input consumed.
    pub fn search(&self, i: &'a str) -> Result<Pipeline, crate::diag::Diagnostic> {
        let (rest, p) = self.pipeline(i, false)?;
        let rest = ws(rest);
        if !rest.is_empty() {
            return Err(self
                .err(
                    rest,
                    codes::UNEXPECTED_TOKEN,
                    "unexpected `]` without a matching `[`",
                )
                .label("no subsearch to close here"));
        }
        Ok(p)
    }

    /// A pipeline; inside a subsearch it stops before the closing `]`.
    pub fn pipeline(&self, i: &'a str, nested: bool) -> R<'a, Pipeline> {
        let start = ws(i);
        let mut i = start;
        let leading_pipe = i.starts_with('|');
        if leading_pipe {
            i = &i[1..];
        }
        let mut commands = Vec::new();
        let mut first = true;
        loop {
            let t = ws(i);
            // `search ...` at the start names the (otherwise implicit)
            // search command, as in `[search index=x | fields f]`.
            let named_search = ident(t).is_some_and(|(r, n)| {
                n.eq_ignore_ascii_case("search") && r.starts_with(char::is_whitespace)
            });
            let implicit = first && !leading_pipe && !named_search;
            if !implicit && (t.is_empty() || t.starts_with('|') || t.starts_with(']')) {
                let what = if nested && t.starts_with(']') && commands.is_empty() {
                    "a search in the subsearch"
                } else {
                    "a command after `|`"
                };
                return Err(self.expected(t, what));
            }
            let (rest, cmd) = self.command(t, implicit)?;
            commands.push(cmd);
            first = false;
            let rest = ws(rest);
            if let Some(r) = rest.strip_prefix('|') {
                i = r;
                continue;
            }
            i = rest;
            break;
        }
        let end = i;
        let _ = nested;
        Ok((
            end,
            Pipeline {
                commands,
                leading_pipe,
                span: self.span(start, trim_end_to(self, start, end)),
            },
        ))
    }

    fn command(&self, i: &'a str, implicit: bool) -> R<'a, Command> {
        let start = i;
        let (i, name, name_span) = if implicit {
            (i, "search".to_string(), self.span(i, i))
        } else {
            match ident(i) {
                Some((rest, n)) => (rest, n.to_ascii_lowercase(), self.span(i, rest)),
                None => return Err(self.expected(i, "a command name")),
            }
        };
        let (rest, kind) = match name.as_str() {
            "search" => {
                let (r, e) = self.search_expr(i, false)?;
                (r, CommandKind::Search(e))
            }
            "tstats" => {
                let (r, t) = self.tstats(i)?;
                (r, CommandKind::Tstats(t))
            }
            "stats" | "eventstats" | "streamstats" => {
                let mode = match name.as_str() {
                    "stats" => StatsMode::Stats,
                    "eventstats" => StatsMode::EventStats,
                    _ => StatsMode::StreamStats,
                };
                let (r, s) = self.stats(i, mode)?;
                (r, CommandKind::Stats(s))
            }
            "eval" => {
                let (r, a) = self.eval_assignments(i)?;
                (r, CommandKind::Eval(a))
            }
            "where" => {
                let (r, e) = self.eval_expr(i)?;
                if !at_command_end(r) {
                    return Err(self.expected(r, "an operator or `|`"));
                }
                (r, CommandKind::Where(e))
            }
            _ => {
                let parse_subs = matches!(name.as_str(), "join" | "append" | "appendcols");
                let (r, toks) = self.tokens(i, parse_subs)?;
                let kind = self.interpret(&name, name_span, &toks, r)?;
                (r, kind)
            }
        };
        let end = trim_end_to(self, start, rest);
        Ok((
            rest,
            Command {
                name,
                name_span,
                kind,
                text: self.text(start, end).to_string(),
                span: self.span(start, end),
            },
        ))
    }

    /// The arguments of a command as tokens, up to `|`, `]` or the end.
    pub fn tokens(&self, mut i: &'a str, parse_subs: bool) -> R<'a, Vec<Tok>> {
        let mut out = Vec::new();
        loop {
            let t = ws(i);
            if t.is_empty() || t.starts_with('|') || t.starts_with(']') {
                return Ok((t, out));
            }
            if t.starts_with('[') {
                if parse_subs {
                    let (r, p) = self.subsearch(t)?;
                    out.push(Tok::Sub(p));
                    i = r;
                } else {
                    let (r, raw) = self.skip_group(t)?;
                    out.push(Tok::Group(self.word(t, r, raw.to_string(), false)));
                    i = r;
                }
                continue;
            }
            if t.starts_with('"') {
                let (r, w) = self.quoted(t)?;
                out.push(Tok::Word(w));
                i = r;
                continue;
            }
            if let Some(s) = SYMS.iter().find(|s| t.starts_with(**s)) {
                let r = &t[s.len()..];
                out.push(Tok::Sym(s, self.span(t, r)));
                i = r;
                continue;
            }
            match self.bare(t, word_stop) {
                Some((r, w)) => {
                    out.push(Tok::Word(w));
                    i = r;
                }
                None => {
                    // a lone `!` or similar: keep it as a one-character word
                    let n = t.chars().next().map(char::len_utf8).unwrap_or(1);
                    let r = &t[n..];
                    out.push(Tok::Word(self.word(t, r, t[..n].to_string(), false)));
                    i = r;
                }
            }
        }
    }

    /// `[ pipeline ]` at `i` (which starts with `[`).
    pub fn subsearch(&self, i: &'a str) -> R<'a, Pipeline> {
        let _g = self.depth.enter().ok_or_else(|| self.too_deep(i))?;
        let (r, mut p) = self.pipeline(&i[1..], true)?;
        let r = ws(r);
        match r.strip_prefix(']') {
            Some(rest) => {
                p.span = self.span(i, rest);
                Ok((rest, p))
            }
            None if r.is_empty() => Err(self.unclosed(i, "subsearch", "]")),
            None => Err(self.expected(r, "`]` or `|`")),
        }
    }
}

/// The end of a command's text without trailing whitespace.
fn trim_end_to<'a>(p: &P<'a>, start: &'a str, end: &'a str) -> &'a str {
    let text = p.text(start, end);
    let trimmed = text.trim_end().len();
    &start[trimmed..]
}
