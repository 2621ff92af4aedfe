//! Recursive-descent parser over the tokens of [`super::lex`], following
//! Elasticsearch's `EqlBase.g4` (see `grammar/eql.ebnf`): token helpers and
//! the query level (event queries, sequences, samples, pipes). Expressions
//! are in `expr.rs`.

use super::ast::*;
use super::lex::{Tok, Token, KEYWORDS};
use crate::diag::{codes, Code, Diagnostic};
use crate::ir::Duration;
use crate::lang::common::{error_at, too_deep, Depth, DepthGuard};
use crate::span::{Origin, Span};

pub struct Parser<'a> {
    pub(super) text: &'a str,
    pub(super) origin: &'a Origin,
    toks: Vec<Token>,
    pos: usize,
    depth: &'a Depth,
}

/// Errors are boxed: results stay small, so deep nesting costs little stack.
pub(super) type PResult<T> = Result<T, Box<Diagnostic>>;

impl<'a> Parser<'a> {
    pub fn new(
        text: &'a str,
        origin: &'a Origin,
        toks: Vec<Token>,
        depth: &'a Depth,
    ) -> Parser<'a> {
        Parser {
            text,
            origin,
            toks,
            pos: 0,
            depth,
        }
    }

    // ---- token helpers -------------------------------------------------

    pub(super) fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }
    pub(super) fn peek_at(&self, n: usize) -> Option<&Token> {
        self.toks.get(self.pos + n)
    }
    pub(super) fn bump(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    pub(super) fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(x), .. }) if x == w)
    }
    pub(super) fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Op(x), .. }) if *x == op)
    }
    pub(super) fn eat_word(&mut self, w: &str) -> Option<Token> {
        self.is_word(w).then(|| self.bump()).flatten()
    }
    pub(super) fn eat_op(&mut self, op: &str) -> Option<Token> {
        self.is_op(op).then(|| self.bump()).flatten()
    }
    pub(super) fn span(&self, start: usize, end: usize) -> Span {
        self.origin.span(start, end)
    }
    pub(super) fn tok_span(&self, t: &Token) -> Span {
        self.span(t.start, t.end)
    }
    /// Text offset where the previous token ended.
    pub(super) fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(0, |t| t.end)
    }
    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    pub(super) fn describe(&self) -> String {
        match self.peek() {
            None => "end of query".into(),
            Some(t) => match &t.tok {
                Tok::Word(w) if KEYWORDS.contains(&w.as_str()) => format!("keyword `{w}`"),
                Tok::Word(w) => format!("`{w}`"),
                Tok::Quoted(q) => format!("`` `{q}` ``"),
                Tok::Str(_) => "a string".into(),
                Tok::Int(n) | Tok::Dec(n) => format!("number `{n}`"),
                Tok::Op(o) => format!("`{o}`"),
            },
        }
    }

    /// Span of the current token, or the end of the query.
    pub(super) fn here(&self) -> (usize, usize) {
        match self.peek() {
            Some(t) => (t.start, t.end),
            None => {
                let end = self.text.len();
                (end.saturating_sub(1), end)
            }
        }
    }

    pub(super) fn error_here(&self, code: Code, msg: impl Into<String>) -> Diagnostic {
        let (s, e) = self.here();
        error_at(self.origin, s, e, code, msg)
    }

    /// E0202 "expected X, found Y".
    pub(super) fn expected(&self, what: &str) -> Diagnostic {
        let found = self.describe();
        let mut d = self
            .error_here(
                codes::UNEXPECTED_TOKEN,
                format!("expected {what}, found {found}"),
            )
            .label(format!("expected {what}"));
        if let Some(Token {
            tok: Tok::Word(w), ..
        }) = self.peek()
        {
            let lower = w.to_ascii_lowercase();
            if w != &lower && KEYWORDS.contains(&lower.as_str()) {
                d = d.note(format!("EQL keywords are lower case: write `{lower}`"));
            }
        }
        if self.is_op("=") {
            d = d.note(
                "`=` is not an EQL comparison: use `==` (case-sensitive) or `:` (case-insensitive)",
            );
        }
        d
    }

    /// Expect a closing `)` / `]` for the opener at text offset `open`.
    pub(super) fn close(&mut self, op: &'static str, open: usize) -> PResult<Token> {
        if let Some(t) = self.eat_op(op) {
            return Ok(t);
        }
        let opener = if op == ")" { "(" } else { "[" };
        if self.at_end() {
            return Err(Box::new(
                error_at(
                    self.origin,
                    open,
                    open + 1,
                    codes::UNCLOSED,
                    format!("unclosed `{opener}`"),
                )
                .label(format!("this `{opener}` is never closed"))
                .note(format!("expected `{op}`, found end of query")),
            ));
        }
        Err(Box::new(self.expected(&format!("`{op}`")).with_secondary(
            self.span(open, open + 1),
            format!("to close this `{opener}`"),
        )))
    }

    // ---- statements ------------------------------------------------------

    pub fn statement(&mut self) -> PResult<Statement> {
        if self.at_end() {
            return Err(Box::new(error_at(
                self.origin,
                0,
                self.text.len(),
                codes::EMPTY_QUERY,
                "the query is empty",
            )));
        }
        let start = self.peek().map_or(0, |t| t.start);
        let query = if self.is_word("sequence") {
            QueryAst::Sequence(self.sequence()?)
        } else if self.is_word("sample") {
            QueryAst::Sample(self.sample()?)
        } else if self.is_word("join") {
            return Err(Box::new(
                self.error_here(
                    codes::UNSUPPORTED_CONSTRUCT,
                    "`join` is classic EQL; Elasticsearch does not support it",
                )
                .label("not supported")
                .note("use `sequence` or `sample` instead"),
            ));
        } else {
            QueryAst::Event(self.event_filter()?)
        };
        let mut pipes = Vec::new();
        while self.is_op("|") {
            pipes.push(self.pipe()?);
        }
        if !self.at_end() {
            let found = self.describe();
            return Err(Box::new(
                self.error_here(
                    codes::TRAILING_INPUT,
                    format!("unexpected {found} after the end of the query"),
                )
                .label("expected `and`, `or`, `|` or the end of the query here"),
            ));
        }
        Ok(Statement {
            query,
            pipes,
            span: self.span(start, self.prev_end()),
        })
    }

    /// `(any | category) where expr`
    fn event_filter(&mut self) -> PResult<EventFilter> {
        let (start, _) = self.here();
        let category = match self.peek().cloned() {
            Some(Token {
                tok: Tok::Word(w), ..
            }) if w == "any" => {
                self.bump();
                None
            }
            Some(
                t @ Token {
                    tok: Tok::Word(_) | Tok::Str(_) | Tok::Quoted(_),
                    ..
                },
            ) if !self.is_keyword_token(&t) => {
                self.bump();
                let name = match &t.tok {
                    Tok::Word(w) | Tok::Str(w) | Tok::Quoted(w) => w.clone(),
                    _ => String::new(),
                };
                Some(Category {
                    name,
                    span: self.tok_span(&t),
                })
            }
            _ => return Err(Box::new(self.expected("an event category or `any`"))),
        };
        if self.eat_word("where").is_none() {
            return Err(Box::new(self.expected("`where`")));
        }
        let condition = self.expr()?;
        Ok(EventFilter {
            category,
            condition,
            span: self.span(start, self.prev_end()),
        })
    }

    pub(super) fn is_keyword_token(&self, t: &Token) -> bool {
        matches!(&t.tok, Tok::Word(w) if KEYWORDS.contains(&w.as_str()))
    }

    /// `sequence [by keys [with maxspan=t] | with maxspan=t] term term+ [until term]`
    fn sequence(&mut self) -> PResult<SequenceAst> {
        let Some(kw) = self.bump() else {
            return Err(Box::new(self.expected("`sequence`")));
        };
        let mut by = Vec::new();
        let mut maxspan = None;
        if self.is_word("by") {
            by = self.join_keys()?;
            if self.is_word("with") {
                maxspan = Some(self.maxspan()?);
            }
        } else if self.is_word("with") {
            maxspan = Some(self.maxspan()?);
            if self.is_word("by") {
                return Err(Box::new(
                    self.error_here(
                        codes::UNEXPECTED_TOKEN,
                        "`by` must come before `with maxspan` in a sequence",
                    )
                    .label("move this `by` clause before `with`"),
                ));
            }
        }
        let mut terms = Vec::new();
        while self.is_op("[") || self.is_op("![") {
            terms.push(self.term(true)?);
        }
        // `[q] with runs=3` counts as three queries.
        let count: u32 = terms.iter().map(|t| t.runs.map_or(1, |(n, _)| n)).sum();
        if count < 2 {
            return Err(Box::new(
                self.expected("`[` (a sequence needs at least two queries)"),
            ));
        }
        if terms.iter().all(|t| t.missing) {
            return Err(Box::new(error_at(
                self.origin,
                kw.start,
                kw.end,
                codes::SYNTAX,
                "a sequence needs at least one query that is not a missing event",
            )));
        }
        if let Some(m) = terms.iter().find(|t| t.missing) {
            if maxspan.is_none() {
                return Err(Box::new(
                    Diagnostic::error(
                        codes::SYNTAX,
                        "missing events (`![...]`) need `with maxspan=...` on the sequence",
                    )
                    .at(m.span)
                    .label("a missing event")
                    .with_secondary(self.tok_span(&kw), "add `with maxspan=...` here"),
                ));
            }
        }
        let until = match self.eat_word("until") {
            Some(_) => Some(self.term(false)?),
            None => None,
        };
        Ok(SequenceAst {
            by,
            maxspan,
            terms,
            until,
            span: self.span(kw.start, self.prev_end()),
        })
    }

    /// `sample [by keys] term+`
    fn sample(&mut self) -> PResult<SampleAst> {
        let Some(kw) = self.bump() else {
            return Err(Box::new(self.expected("`sample`")));
        };
        let by = if self.is_word("by") {
            self.join_keys()?
        } else {
            Vec::new()
        };
        let mut terms = Vec::new();
        while self.is_op("[") {
            let t = self.term(false)?;
            if let Some((_, span)) = t.runs {
                return Err(Box::new(
                    Diagnostic::error(codes::SYNTAX, "`with runs` is not supported in a sample")
                        .at(span),
                ));
            }
            terms.push(t);
        }
        if terms.is_empty() {
            return Err(Box::new(self.expected("`[`")));
        }
        Ok(SampleAst {
            by,
            terms,
            span: self.span(kw.start, self.prev_end()),
        })
    }

    /// `with maxspan = <number><unit>`
    fn maxspan(&mut self) -> PResult<(Duration, Span)> {
        self.bump(); // with
        if self.eat_word("maxspan").is_none() {
            return Err(Box::new(self.expected("`maxspan`")));
        }
        if self.eat_op("=").is_none() {
            return Err(Box::new(self.expected("`=`")));
        }
        let (start, _) = self.here();
        let num = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Int(n)) => n,
            _ => return Err(Box::new(self.expected("a time span such as `5m`"))),
        };
        self.bump();
        let unit = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Word(u)) if matches!(u.as_str(), "ms" | "s" | "m" | "h" | "d") => {
                self.bump();
                u
            }
            _ => {
                return Err(Box::new(
                    self.error_here(codes::BAD_NUMBER, "expected a time unit after the maxspan")
                        .label("expected `ms`, `s`, `m`, `h` or `d`"),
                ))
            }
        };
        let span = self.span(start, self.prev_end());
        let d = Duration::parse(&format!("{num}{unit}")).ok_or_else(|| {
            Box::new(Diagnostic::error(codes::BAD_NUMBER, "the maxspan is too large").at(span))
        })?;
        Ok((d, span))
    }

    /// `by expr, ...`
    fn join_keys(&mut self) -> PResult<Vec<Expr>> {
        self.bump(); // by
        let mut keys = vec![self.expr()?];
        while self.eat_op(",").is_some() {
            keys.push(self.expr()?);
        }
        Ok(keys)
    }

    /// `[filter] [by keys] [with runs=N] [by keys]`, `![filter]` when allowed.
    fn term(&mut self, allow_missing: bool) -> PResult<Term> {
        let (start, _) = self.here();
        let missing = if self.is_op("![") {
            if !allow_missing {
                return Err(Box::new(
                    self.error_here(
                        codes::SYNTAX,
                        "a missing event `![...]` is only allowed in a sequence",
                    )
                    .label("not allowed here"),
                ));
            }
            true
        } else if self.is_op("[") {
            false
        } else {
            return Err(Box::new(self.expected("`[`")));
        };
        let open = self
            .bump()
            .map_or(start, |t| t.start + usize::from(missing));
        let filter = self.event_filter()?;
        self.close("]", open)?;
        let mut by = Vec::new();
        let mut runs = None;
        for _ in 0..2 {
            if by.is_empty() && self.is_word("by") {
                by = self.join_keys()?;
            }
            if runs.is_none() && self.is_word("with") && !self.next_is_maxspan() {
                runs = Some(self.runs()?);
            }
        }
        Ok(Term {
            filter,
            by,
            runs,
            missing,
            span: self.span(start, self.prev_end()),
        })
    }

    fn next_is_maxspan(&self) -> bool {
        matches!(self.peek_at(1), Some(Token { tok: Tok::Word(w), .. }) if w == "maxspan")
    }

    /// `with runs = N`, 1 ≤ N ≤ 100.
    fn runs(&mut self) -> PResult<(u32, Span)> {
        let start = self.bump().map_or(0, |t| t.start); // with
        if !matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w == "runs") {
            return Err(Box::new(self.expected("`runs`")));
        }
        self.bump();
        if self.eat_op("=").is_none() {
            return Err(Box::new(self.expected("`=`")));
        }
        let n = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Int(n)) => n,
            _ => return Err(Box::new(self.expected("a number of runs"))),
        };
        let (ns, ne) = self.here();
        self.bump();
        match n.parse::<u32>() {
            Ok(v) if (1..=100).contains(&v) => Ok((v, self.span(start, ne))),
            _ => Err(Box::new(error_at(
                self.origin,
                ns,
                ne,
                codes::BAD_NUMBER,
                "the `runs` value must be between 1 and 100",
            ))),
        }
    }

    /// `| name [expr, ...]`
    fn pipe(&mut self) -> PResult<Pipe> {
        let bar = self.bump().map_or(0, |t| t.start);
        let (name, name_span) = match self.peek().cloned() {
            Some(
                t @ Token {
                    tok: Tok::Word(_), ..
                },
            ) if !self.is_keyword_token(&t) => {
                self.bump();
                let Tok::Word(w) = &t.tok else { unreachable!() };
                (w.clone(), self.tok_span(&t))
            }
            _ => {
                return Err(Box::new(
                    self.expected("a pipe name such as `head` or `tail`"),
                ))
            }
        };
        let mut args = Vec::new();
        if !self.at_end() && !self.is_op("|") {
            args.push(self.expr()?);
            while self.eat_op(",").is_some() {
                args.push(self.expr()?);
            }
        }
        let end = self.prev_end();
        Ok(Pipe {
            name,
            name_span,
            args,
            text: self.text[bar..end].to_string(),
            span: self.span(bar, end),
        })
    }

    /// One level deeper (parentheses, `not`, unary minus, call arguments).
    pub(super) fn enter(&self) -> PResult<DepthGuard<'a>> {
        let (s, _) = self.here();
        let depth: &'a Depth = self.depth;
        depth
            .enter()
            .ok_or_else(|| Box::new(too_deep(self.origin, s)))
    }
}
