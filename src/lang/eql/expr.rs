//! The expression layer of the EQL parser: conditions, comparisons,
//! arithmetic, predicates (`in`, `:`, `like`, `regex`), calls and fields.

use super::ast::*;
use super::funcs;
use super::lex::{Tok, Token, KEYWORDS};
use super::parse::{PResult, Parser};
use crate::diag::{codes, Diagnostic};
use crate::ir::{ArithOp, CmpOp, Number};
use crate::lang::common::{error_at, too_deep};
use crate::lang::MAX_DEPTH;

impl Parser<'_> {
    // ---- expressions -----------------------------------------------------

    /// `or` of `and`s of `not` terms, parsed with loops: only parentheses,
    /// call arguments and lists recurse. Every nested expression costs a
    /// depth level on top of its bracket's, because each one runs the whole
    /// precedence ladder (several frames); this keeps the deepest accepted
    /// input well inside a 2 MiB thread stack even in debug builds.
    pub fn expr(&mut self) -> PResult<Expr> {
        let _guard = self.enter()?;
        let mut ors = Vec::new();
        let mut ands = vec![self.not()?];
        loop {
            if self.eat_word("and").is_some() {
                ands.push(self.not()?);
            } else if self.eat_word("or").is_some() {
                ors.push(Self::group(std::mem::take(&mut ands), ExprKind::And));
                ands.push(self.not()?);
            } else {
                break;
            }
        }
        ors.push(Self::group(ands, ExprKind::And));
        Ok(Self::group(ors, ExprKind::Or))
    }

    /// One item as is, several as an n-ary node.
    fn group(mut items: Vec<Expr>, make: fn(Vec<Expr>) -> ExprKind) -> Expr {
        if items.len() == 1 {
            return items.remove(0);
        }
        let span = items[0].span.to(items[items.len() - 1].span);
        Expr {
            kind: make(items),
            span,
        }
    }

    /// `not* comparison`: `not` binds tighter than `and`, so `not a and b`
    /// is `(not a) and b`.
    fn not(&mut self) -> PResult<Expr> {
        let mut nots = Vec::new();
        let mut guards = Vec::new();
        while self.is_word("not") {
            guards.push(self.enter()?);
            nots.extend(self.bump());
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
                return Err(Box::new(self
                    .error_here(
                        codes::UNSUPPORTED_CONSTRUCT,
                        "lineage (`child of`, `descendant of`, `event of`) is classic EQL; Elasticsearch does not support it",
                    )
                    .label("not supported")));
            }
        }
        let mut e = self.comparison()?;
        for t in nots.iter().rev() {
            let span = self.tok_span(t).to(e.span);
            e = Expr {
                kind: ExprKind::Not(Box::new(e)),
                span,
            };
        }
        Ok(e)
    }

    /// `operand [cmp operand]` (comparisons do not chain).
    fn comparison(&mut self) -> PResult<Expr> {
        let left = self.arith()?;
        let op = match self.peek().map(|t| &t.tok) {
            Some(Tok::Op("==")) => CmpOp::Eq,
            Some(Tok::Op("!=")) => CmpOp::Ne,
            Some(Tok::Op("<")) => CmpOp::Lt,
            Some(Tok::Op("<=")) => CmpOp::Le,
            Some(Tok::Op(">")) => CmpOp::Gt,
            Some(Tok::Op(">=")) => CmpOp::Ge,
            Some(Tok::Op("=")) => return Err(Box::new(self.expected("`==`"))),
            _ => return Ok(left),
        };
        self.bump();
        let right = self.arith()?;
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

    /// `unary (op unary)*` with `* / %` before `+ -`, all left-associative.
    fn arith(&mut self) -> PResult<Expr> {
        let mut operands = vec![self.unary()?];
        let mut ops = Vec::new();
        loop {
            let op = match self.peek().map(|t| &t.tok) {
                Some(Tok::Op("+")) => ArithOp::Add,
                Some(Tok::Op("-")) => ArithOp::Sub,
                Some(Tok::Op("*")) => ArithOp::Mul,
                Some(Tok::Op("/")) => ArithOp::Div,
                Some(Tok::Op("%")) => ArithOp::Mod,
                _ => break,
            };
            if ops.len() >= MAX_DEPTH {
                return Err(Box::new(too_deep(self.origin, self.here().0)));
            }
            self.bump();
            ops.push(op);
            operands.push(self.unary()?);
        }
        let binary = |op, left: Expr, right: Expr| Expr {
            span: left.span.to(right.span),
            kind: ExprKind::Arith {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
        };
        // Fold the multiplicative runs, then the additive chain.
        let mut operands = operands.into_iter();
        let mut terms = vec![operands
            .next()
            .ok_or_else(|| Box::new(self.expected("a value")))?];
        let mut add_ops = Vec::new();
        for (op, right) in ops.into_iter().zip(operands) {
            if matches!(op, ArithOp::Add | ArithOp::Sub) {
                add_ops.push(op);
                terms.push(right);
            } else if let Some(left) = terms.pop() {
                terms.push(binary(op, left, right));
            }
        }
        let mut terms = terms.into_iter();
        let mut acc = terms
            .next()
            .ok_or_else(|| Box::new(self.expected("a value")))?;
        for (op, right) in add_ops.into_iter().zip(terms) {
            acc = binary(op, acc, right);
        }
        Ok(acc)
    }

    /// `(- | +)* primary predicate?`; a negative number literal is folded.
    fn unary(&mut self) -> PResult<Expr> {
        let mut signs = Vec::new();
        let mut guards = Vec::new();
        while self.is_op("-") || self.is_op("+") {
            guards.push(self.enter()?);
            signs.extend(self.bump());
        }
        let primary = self.primary()?;
        let mut e = self.predicate(primary)?;
        for t in signs.iter().rev() {
            let span = self.tok_span(t).to(e.span);
            if t.tok == Tok::Op("+") {
                e.span = span;
                continue;
            }
            e = match e.kind {
                ExprKind::Lit(Lit {
                    value: LitValue::Num(n),
                    ..
                }) => match Number::new(&format!("-{}", n.text)) {
                    Some(neg) => Expr {
                        kind: ExprKind::Lit(Lit {
                            value: LitValue::Num(neg),
                            span,
                        }),
                        span,
                    },
                    None => {
                        return Err(Box::new(
                            Diagnostic::error(codes::BAD_NUMBER, "invalid number").at(span),
                        ))
                    }
                },
                kind => Expr {
                    kind: ExprKind::Neg(Box::new(Expr { kind, span: e.span })),
                    span,
                },
            };
        }
        Ok(e)
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
                    None => return Err(Box::new(self.expected("`(` to start the list"))),
                };
                let mut values = Vec::new();
                {
                    let _guard = self.enter()?;
                    values.push(self.expr()?);
                    while self.eat_op(",").is_some() {
                        values.push(self.expr()?);
                    }
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
            _ => Err(Box::new(self.expected("a string"))),
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let Some(t) = self.peek().cloned() else {
            return Err(Box::new(self.expected("a value, field or condition")));
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
                    None => Err(Box::new(
                        Diagnostic::error(codes::BAD_NUMBER, "invalid number").at(span),
                    )),
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
                    Err(Box::new(self.expected("a value, field or condition")))
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
            _ => Err(Box::new(self.expected("a value, field or condition"))),
        }
    }

    /// `name[~](args)`
    fn call(&mut self) -> PResult<Expr> {
        let Some(name_tok) = self.bump() else {
            return Err(Box::new(self.expected("a function name")));
        };
        let Tok::Word(written) = &name_tok.tok else {
            return Err(Box::new(self.expected("a function name")));
        };
        let name_span = self.tok_span(&name_tok);
        let insensitive = written.ends_with('~');
        let bare = written.trim_end_matches('~');
        let func = match funcs::lookup(bare) {
            Some(f) if !insensitive || f.tilde => f,
            Some(f) => {
                return Err(Box::new(
                    Diagnostic::error(
                        codes::UNKNOWN_FUNCTION,
                        format!("`{}` has no case-insensitive `~` form", f.display),
                    )
                    .at(name_span)
                    .label("remove the `~`"),
                ))
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
                return Err(Box::new(d));
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
            return Err(Box::new(
                Diagnostic::error(
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
                .label(format!("{} given", args.len())),
            ));
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
                _ => return Err(Box::new(self.expected("a field name"))),
            }
            if self.is_op("[") {
                if let Some(Token {
                    tok: Tok::Int(_), ..
                }) = self.peek_at(1)
                {
                    let (s, _) = self.here();
                    let e = self.peek_at(2).map_or(self.text.len(), |t| t.end);
                    return Err(Box::new(
                        error_at(
                            self.origin,
                            s,
                            e,
                            codes::UNSUPPORTED_CONSTRUCT,
                            "array indexes in field names are not supported by Elasticsearch EQL",
                        )
                        .label("an array index")
                        .note("a condition on an array field holds when any element matches"),
                    ));
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
