//! Recursive-descent parser over the tokens of [`super::lex`], following
//! Elasticsearch's `EqlBase.g4` (see `grammar/eql.ebnf`).

use super::ast::*;
use super::funcs;
use super::lex::{Tok, Token, KEYWORDS};
use crate::diag::{codes, Code, Diagnostic};
use crate::ir::{ArithOp, CmpOp, Duration, Number};
use crate::lang::common::{error_at, too_deep, Depth, DepthGuard};
use crate::lang::MAX_DEPTH;
use crate::span::{Origin, Span};

pub struct Parser<'a> {
    text: &'a str,
    origin: &'a Origin,
    toks: Vec<Token>,
    pos: usize,
    depth: &'a Depth,
}

type PResult<T> = Result<T, Diagnostic>;

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

    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }
    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.toks.get(self.pos + n)
    }
    fn bump(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(x), .. }) if x == w)
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Op(x), .. }) if *x == op)
    }
    fn eat_word(&mut self, w: &str) -> Option<Token> {
        self.is_word(w).then(|| self.bump()).flatten()
    }
    fn eat_op(&mut self, op: &str) -> Option<Token> {
        self.is_op(op).then(|| self.bump()).flatten()
    }
    fn span(&self, start: usize, end: usize) -> Span {
        self.origin.span(start, end)
    }
    fn tok_span(&self, t: &Token) -> Span {
        self.span(t.start, t.end)
    }
    /// Text offset where the previous token ended.
    fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(0, |t| t.end)
    }
    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    fn describe(&self) -> String {
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
    fn here(&self) -> (usize, usize) {
        match self.peek() {
            Some(t) => (t.start, t.end),
            None => {
                let end = self.text.len();
                (end.saturating_sub(1), end)
            }
        }
    }

    fn error_here(&self, code: Code, msg: impl Into<String>) -> Diagnostic {
        let (s, e) = self.here();
        error_at(self.origin, s, e, code, msg)
    }

    /// E0202 "expected X, found Y".
    fn expected(&self, what: &str) -> Diagnostic {
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
    fn close(&mut self, op: &'static str, open: usize) -> PResult<Token> {
        if let Some(t) = self.eat_op(op) {
            return Ok(t);
        }
        let opener = if op == ")" { "(" } else { "[" };
        if self.at_end() {
            return Err(error_at(
                self.origin,
                open,
                open + 1,
                codes::UNCLOSED,
                format!("unclosed `{opener}`"),
            )
            .label(format!("this `{opener}` is never closed"))
            .note(format!("expected `{op}`, found end of query")));
        }
        Err(self.expected(&format!("`{op}`")).with_secondary(
            self.span(open, open + 1),
            format!("to close this `{opener}`"),
        ))
    }

    // ---- statements ------------------------------------------------------

    pub fn statement(&mut self) -> PResult<Statement> {
        if self.at_end() {
            return Err(error_at(
                self.origin,
                0,
                self.text.len(),
                codes::EMPTY_QUERY,
                "the query is empty",
            ));
        }
        let start = self.peek().map_or(0, |t| t.start);
        let query = if self.is_word("sequence") {
            QueryAst::Sequence(self.sequence()?)
        } else if self.is_word("sample") {
            QueryAst::Sample(self.sample()?)
        } else if self.is_word("join") {
            return Err(self
                .error_here(
                    codes::UNSUPPORTED_CONSTRUCT,
                    "`join` is classic EQL; Elasticsearch does not support it",
                )
                .label("not supported")
                .note("use `sequence` or `sample` instead"));
        } else {
            QueryAst::Event(self.event_filter()?)
        };
        let mut pipes = Vec::new();
        while self.is_op("|") {
            pipes.push(self.pipe()?);
        }
        if !self.at_end() {
            let found = self.describe();
            return Err(self
                .error_here(
                    codes::TRAILING_INPUT,
                    format!("unexpected {found} after the end of the query"),
                )
                .label("expected `and`, `or`, `|` or the end of the query here"));
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
            _ => return Err(self.expected("an event category or `any`")),
        };
        if self.eat_word("where").is_none() {
            return Err(self.expected("`where`"));
        }
        let condition = self.expr()?;
        Ok(EventFilter {
            category,
            condition,
            span: self.span(start, self.prev_end()),
        })
    }

    fn is_keyword_token(&self, t: &Token) -> bool {
        matches!(&t.tok, Tok::Word(w) if KEYWORDS.contains(&w.as_str()))
    }

    /// `sequence [by keys [with maxspan=t] | with maxspan=t] term term+ [until term]`
    fn sequence(&mut self) -> PResult<SequenceAst> {
        let Some(kw) = self.bump() else {
            return Err(self.expected("`sequence`"));
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
                return Err(self
                    .error_here(
                        codes::UNEXPECTED_TOKEN,
                        "`by` must come before `with maxspan` in a sequence",
                    )
                    .label("move this `by` clause before `with`"));
            }
        }
        let mut terms = Vec::new();
        while self.is_op("[") || self.is_op("![") {
            terms.push(self.term(true)?);
        }
        // `[q] with runs=3` counts as three queries.
        let count: u32 = terms.iter().map(|t| t.runs.map_or(1, |(n, _)| n)).sum();
        if count < 2 {
            return Err(self.expected("`[` (a sequence needs at least two queries)"));
        }
        if terms.iter().all(|t| t.missing) {
            return Err(error_at(
                self.origin,
                kw.start,
                kw.end,
                codes::SYNTAX,
                "a sequence needs at least one query that is not a missing event",
            ));
        }
        if let Some(m) = terms.iter().find(|t| t.missing) {
            if maxspan.is_none() {
                return Err(Diagnostic::error(
                    codes::SYNTAX,
                    "missing events (`![...]`) need `with maxspan=...` on the sequence",
                )
                .at(m.span)
                .label("a missing event")
                .with_secondary(self.tok_span(&kw), "add `with maxspan=...` here"));
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
            return Err(self.expected("`sample`"));
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
                return Err(Diagnostic::error(
                    codes::SYNTAX,
                    "`with runs` is not supported in a sample",
                )
                .at(span));
            }
            terms.push(t);
        }
        if terms.is_empty() {
            return Err(self.expected("`[`"));
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
            return Err(self.expected("`maxspan`"));
        }
        if self.eat_op("=").is_none() {
            return Err(self.expected("`=`"));
        }
        let (start, _) = self.here();
        let num = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Int(n)) => n,
            _ => return Err(self.expected("a time span such as `5m`")),
        };
        self.bump();
        let unit = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Word(u)) if matches!(u.as_str(), "ms" | "s" | "m" | "h" | "d") => {
                self.bump();
                u
            }
            _ => {
                return Err(self
                    .error_here(codes::BAD_NUMBER, "expected a time unit after the maxspan")
                    .label("expected `ms`, `s`, `m`, `h` or `d`"))
            }
        };
        let span = self.span(start, self.prev_end());
        let d = Duration::parse(&format!("{num}{unit}")).ok_or_else(|| {
            Diagnostic::error(codes::BAD_NUMBER, "the maxspan is too large").at(span)
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
                return Err(self
                    .error_here(
                        codes::SYNTAX,
                        "a missing event `![...]` is only allowed in a sequence",
                    )
                    .label("not allowed here"));
            }
            true
        } else if self.is_op("[") {
            false
        } else {
            return Err(self.expected("`[`"));
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
            return Err(self.expected("`runs`"));
        }
        self.bump();
        if self.eat_op("=").is_none() {
            return Err(self.expected("`=`"));
        }
        let n = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Int(n)) => n,
            _ => return Err(self.expected("a number of runs")),
        };
        let (ns, ne) = self.here();
        self.bump();
        match n.parse::<u32>() {
            Ok(v) if (1..=100).contains(&v) => Ok((v, self.span(start, ne))),
            _ => Err(error_at(
                self.origin,
                ns,
                ne,
                codes::BAD_NUMBER,
                "the `runs` value must be between 1 and 100",
            )),
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
            _ => return Err(self.expected("a pipe name such as `head` or `tail`")),
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

    // ---- expressions -----------------------------------------------------

    /// One level deeper (parentheses, `not`, unary minus, call arguments).
    fn enter(&self) -> PResult<DepthGuard<'a>> {
        let (s, _) = self.here();
        let depth: &'a Depth = self.depth;
        depth.enter().ok_or_else(|| too_deep(self.origin, s))
    }

    pub fn expr(&mut self) -> PResult<Expr> {
        self.or()
    }

    fn or(&mut self) -> PResult<Expr> {
        let first = self.and()?;
        if !self.is_word("or") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_word("or").is_some() {
            items.push(self.and()?);
        }
        let span = items[0].span.to(items[items.len() - 1].span);
        Ok(Expr {
            kind: ExprKind::Or(items),
            span,
        })
    }

    fn and(&mut self) -> PResult<Expr> {
        let first = self.not()?;
        if !self.is_word("and") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_word("and").is_some() {
            items.push(self.not()?);
        }
        let span = items[0].span.to(items[items.len() - 1].span);
        Ok(Expr {
            kind: ExprKind::And(items),
            span,
        })
    }

    /// `not` binds tighter than `and`: `not a and b` is `(not a) and b`.
    fn not(&mut self) -> PResult<Expr> {
        if let Some(t) = self.eat_word("not") {
            let inner = {
                let _g = self.enter()?;
                self.not()?
            };
            let span = self.tok_span(&t).to(inner.span);
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            });
        }
        if let (
            Some(Token {
                tok: Tok::Word(_), ..
            }),
            Some(Token {
                tok: Tok::Word(of), ..
            }),
        ) = (self.peek(), self.peek_at(1))
        {
            if of == "of" {
                return Err(self
                    .error_here(
                        codes::UNSUPPORTED_CONSTRUCT,
                        "lineage (`child of`, `descendant of`, `event of`) is classic EQL; Elasticsearch does not support it",
                    )
                    .label("not supported"));
            }
        }
        self.comparison()
    }

    /// `operand [cmp operand]` (comparisons do not chain).
    fn comparison(&mut self) -> PResult<Expr> {
        let left = self.additive()?;
        let op = match self.peek().map(|t| &t.tok) {
            Some(Tok::Op("==")) => CmpOp::Eq,
            Some(Tok::Op("!=")) => CmpOp::Ne,
            Some(Tok::Op("<")) => CmpOp::Lt,
            Some(Tok::Op("<=")) => CmpOp::Le,
            Some(Tok::Op(">")) => CmpOp::Gt,
            Some(Tok::Op(">=")) => CmpOp::Ge,
            Some(Tok::Op("=")) => return Err(self.expected("`==`")),
            _ => return Ok(left),
        };
        self.bump();
        let right = self.additive()?;
        let span = left.span.to(right.span);
        Ok(Expr {
            kind: ExprKind::Compare {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
            span,
        })
    }

    fn binary_chain(
        &mut self,
        ops: &[(&str, ArithOp)],
        next: fn(&mut Self) -> PResult<Expr>,
    ) -> PResult<Expr> {
        let mut left = next(self)?;
        let mut n = 0;
        loop {
            let Some(op) = ops.iter().find(|(s, _)| self.is_op(s)).map(|(_, op)| *op) else {
                return Ok(left);
            };
            n += 1;
            if n > MAX_DEPTH {
                return Err(too_deep(self.origin, self.here().0));
            }
            self.bump();
            let right = next(self)?;
            let span = left.span.to(right.span);
            left = Expr {
                kind: ExprKind::Arith {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                span,
            };
        }
    }

    fn additive(&mut self) -> PResult<Expr> {
        self.binary_chain(
            &[("+", ArithOp::Add), ("-", ArithOp::Sub)],
            Self::multiplicative,
        )
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        self.binary_chain(
            &[
                ("*", ArithOp::Mul),
                ("/", ArithOp::Div),
                ("%", ArithOp::Mod),
            ],
            Self::unary,
        )
    }

    /// `-x`, `+x` (a negative number literal is folded), else `primary predicate?`.
    fn unary(&mut self) -> PResult<Expr> {
        if let Some(t) = self.eat_op("-").or_else(|| self.eat_op("+")) {
            let inner = {
                let _g = self.enter()?;
                self.unary()?
            };
            let span = self.tok_span(&t).to(inner.span);
            if t.tok == Tok::Op("+") {
                return Ok(Expr { span, ..inner });
            }
            if let ExprKind::Lit(Lit {
                value: LitValue::Num(n),
                ..
            }) = &inner.kind
            {
                if let Some(neg) = Number::new(&format!("-{}", n.text)) {
                    return Ok(Expr {
                        kind: ExprKind::Lit(Lit {
                            value: LitValue::Num(neg),
                            span,
                        }),
                        span,
                    });
                }
            }
            return Ok(Expr {
                kind: ExprKind::Neg(Box::new(inner)),
                span,
            });
        }
        let primary = self.primary()?;
        self.predicate(primary)
    }

    /// `[not] in[~] (e, ...)`, `: lits`, `like[~] lits`, `regex[~] lits`.
    fn predicate(&mut self, left: Expr) -> PResult<Expr> {
        let negated = self.is_word("not")
            && matches!(self.peek_at(1), Some(Token { tok: Tok::Word(w), .. }) if w == "in" || w == "in~");
        if negated {
            self.bump();
        }
        let word = match self.peek().map(|t| &t.tok) {
            Some(Tok::Word(w)) => w.clone(),
            Some(Tok::Op(":")) => ":".into(),
            _ => return Ok(left),
        };
        let insensitive = word.ends_with('~');
        match word.trim_end_matches('~') {
            "in" => {
                self.bump();
                let open = match self.eat_op("(") {
                    Some(t) => t.start,
                    None => return Err(self.expected("`(` to start the list")),
                };
                let mut values = vec![self.expr()?];
                while self.eat_op(",").is_some() {
                    values.push(self.expr()?);
                }
                self.close(")", open)?;
                let span = left.span.to(self.span(open, self.prev_end()));
                Ok(Expr {
                    kind: ExprKind::In {
                        expr: Box::new(left),
                        values,
                        negated,
                        insensitive,
                    },
                    span,
                })
            }
            ":" | "like" | "regex" => {
                let op = match word.trim_end_matches('~') {
                    ":" => PatternOp::Seq,
                    "like" => PatternOp::Like,
                    _ => PatternOp::Regex,
                };
                self.bump();
                let values = if let Some(open) = self.eat_op("(") {
                    let mut v = vec![self.string_lit()?];
                    while self.eat_op(",").is_some() {
                        v.push(self.string_lit()?);
                    }
                    self.close(")", open.start)?;
                    v
                } else {
                    vec![self.string_lit()?]
                };
                let span = left
                    .span
                    .to(self.span(self.prev_end() - 1, self.prev_end()));
                Ok(Expr {
                    kind: ExprKind::Pattern {
                        expr: Box::new(left),
                        op,
                        insensitive: insensitive || op == PatternOp::Seq,
                        values,
                    },
                    span,
                })
            }
            _ => Ok(left),
        }
    }

    fn string_lit(&mut self) -> PResult<Lit> {
        match self.peek().cloned() {
            Some(
                t @ Token {
                    tok: Tok::Str(_), ..
                },
            ) => {
                self.bump();
                let Tok::Str(s) = t.tok else { unreachable!() };
                Ok(Lit {
                    value: LitValue::Str(s),
                    span: self.span(t.start, t.end),
                })
            }
            _ => Err(self.expected("a string")),
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.expected("a value, field or condition"));
        };
        let span = self.tok_span(&t);
        let lit = |value| {
            Ok(Expr {
                kind: ExprKind::Lit(Lit { value, span }),
                span,
            })
        };
        match &t.tok {
            Tok::Str(s) => {
                self.bump();
                lit(LitValue::Str(s.clone()))
            }
            Tok::Int(n) | Tok::Dec(n) => {
                self.bump();
                match Number::new(n) {
                    Some(num) => lit(LitValue::Num(num)),
                    None => Err(Diagnostic::error(codes::BAD_NUMBER, "invalid number").at(span)),
                }
            }
            Tok::Op("(") => {
                self.bump();
                let inner = {
                    let _g = self.enter()?;
                    self.expr()?
                };
                let close = self.close(")", t.start)?;
                Ok(Expr {
                    span: self.span(t.start, close.end),
                    ..inner
                })
            }
            Tok::Op("?") | Tok::Quoted(_) => self.field(),
            Tok::Word(w) => match w.as_str() {
                "true" | "false" => {
                    self.bump();
                    lit(LitValue::Bool(w == "true"))
                }
                "null" => {
                    self.bump();
                    lit(LitValue::Null)
                }
                _ if KEYWORDS.contains(&w.as_str()) => {
                    Err(self.expected("a value, field or condition"))
                }
                _ if matches!(
                    self.peek_at(1),
                    Some(Token {
                        tok: Tok::Op("("),
                        ..
                    })
                ) =>
                {
                    self.call()
                }
                _ => self.field(),
            },
            _ => Err(self.expected("a value, field or condition")),
        }
    }

    /// `name[~](args)`
    fn call(&mut self) -> PResult<Expr> {
        let Some(name_tok) = self.bump() else {
            return Err(self.expected("a function name"));
        };
        let Tok::Word(written) = &name_tok.tok else {
            return Err(self.expected("a function name"));
        };
        let name_span = self.tok_span(&name_tok);
        let insensitive = written.ends_with('~');
        let bare = written.trim_end_matches('~');
        let func = match funcs::lookup(bare) {
            Some(f) if !insensitive || f.tilde => f,
            Some(f) => {
                return Err(Diagnostic::error(
                    codes::UNKNOWN_FUNCTION,
                    format!("`{}` has no case-insensitive `~` form", f.display),
                )
                .at(name_span)
                .label("remove the `~`"))
            }
            None => {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_FUNCTION,
                    format!("unknown function `{bare}`"),
                )
                .at(name_span)
                .label("not an Elasticsearch EQL function");
                if let Some(s) = funcs::suggest(bare) {
                    d = d.note(format!("did you mean `{s}`?"));
                }
                return Err(d);
            }
        };
        let open = self.bump().map_or(name_tok.end, |t| t.start); // (
        let mut args = Vec::new();
        {
            let _g = self.enter()?;
            if !self.is_op(")") {
                args.push(self.expr()?);
                while self.eat_op(",").is_some() {
                    args.push(self.expr()?);
                }
            }
        }
        let close = self.close(")", open)?;
        let span = self.span(name_tok.start, close.end);
        if !func.accepts(args.len()) {
            return Err(Diagnostic::error(
                codes::FUNCTION_ARITY,
                format!(
                    "`{}` takes {}, but {} {} given",
                    func.display,
                    func.arity_text(),
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
            )
            .at(span)
            .label(format!("{} given", args.len())));
        }
        Ok(Expr {
            kind: ExprKind::Call {
                name: func.name,
                insensitive,
                args,
            },
            span,
        })
    }

    /// `[?] segment ('.' segment | '[' INT ']')*`
    fn field(&mut self) -> PResult<Expr> {
        let (start, _) = self.here();
        let optional = self.eat_op("?").is_some();
        let mut name = String::new();
        loop {
            match self.peek().cloned() {
                Some(Token {
                    tok: Tok::Word(w), ..
                }) if !KEYWORDS.contains(&w.as_str()) && !w.ends_with('~') => {
                    self.bump();
                    name.push_str(&w);
                }
                Some(Token {
                    tok: Tok::Quoted(q),
                    ..
                }) => {
                    self.bump();
                    name.push_str(&q);
                }
                _ => return Err(self.expected("a field name")),
            }
            if self.is_op("[") {
                if let Some(Token {
                    tok: Tok::Int(_), ..
                }) = self.peek_at(1)
                {
                    let (s, _) = self.here();
                    let e = self.peek_at(2).map_or(self.text.len(), |t| t.end);
                    return Err(error_at(
                        self.origin,
                        s,
                        e,
                        codes::UNSUPPORTED_CONSTRUCT,
                        "array indexes in field names are not supported by Elasticsearch EQL",
                    )
                    .label("an array index")
                    .note("a condition on an array field holds when any element matches"));
                }
            }
            if !self.is_op(".") {
                break;
            }
            self.bump();
            name.push('.');
        }
        let span = self.span(start, self.prev_end());
        Ok(Expr {
            kind: ExprKind::Field(Field {
                name,
                optional,
                span,
            }),
            span,
        })
    }
}
