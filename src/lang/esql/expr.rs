//! ES|QL expressions, by precedence from loosest to tightest:
//! `OR` < `AND` < `NOT` < predicates (`IN`, `LIKE`, `RLIKE`, `IS NULL`, `:`)
//! < comparisons < `+ -` < `* / %` < unary `- +` < `::` casts < primaries.

use super::ast::{Cmp, Expr, ExprKind, Lit, Str};
use super::lex::{keyword, number, peek_word, punct, quoted_ident, skip, word};
use super::parse::{fail, Parser, Res};
use crate::diag::codes;
use crate::ir::{ArithOp, CmpOp};

/// Words that end an expression instead of naming a field.
const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "is", "like", "rlike", "by", "as", "asc", "desc", "nulls", "with",
    "on", "where", "metadata",
];

/// ES|QL time span units and their length in milliseconds (calendar units nominal).
pub fn span_unit(unit: &str) -> Option<u64> {
    const S: u64 = 1000;
    Some(match unit.to_ascii_lowercase().as_str() {
        "millisecond" | "milliseconds" | "ms" => 1,
        "second" | "seconds" | "sec" | "s" => S,
        "minute" | "minutes" | "min" | "m" => 60 * S,
        "hour" | "hours" | "hr" | "h" => 3600 * S,
        "day" | "days" | "d" => 86_400 * S,
        "week" | "weeks" | "w" => 7 * 86_400 * S,
        "month" | "months" | "mo" => 30 * 86_400 * S,
        "quarter" | "quarters" | "q" => 91 * 86_400 * S,
        "year" | "years" | "yr" | "y" => 365 * 86_400 * S,
        _ => return None,
    })
}

impl<'a> Parser<'a> {
    /// A boolean expression (the loosest level).
    pub fn expr(&self, s: &'a str) -> Res<'a, Expr> {
        let (mut s, first) = self.and_expr(s)?;
        let mut items = vec![first];
        while let Some(r) = keyword(s, "or") {
            let (r, right) = self.and_expr(r)?;
            items.push(right);
            s = r;
        }
        Ok((s, flat(items, ExprKind::Or)))
    }

    fn and_expr(&self, s: &'a str) -> Res<'a, Expr> {
        let (mut s, first) = self.not_expr(s)?;
        let mut items = vec![first];
        while let Some(r) = keyword(s, "and") {
            let (r, right) = self.not_expr(r)?;
            items.push(right);
            s = r;
        }
        Ok((s, flat(items, ExprKind::And)))
    }

    fn not_expr(&self, s: &'a str) -> Res<'a, Expr> {
        let s = skip(s);
        if let Some(r) = keyword(s, "not") {
            let _g = self.enter(s)?;
            let (r, inner) = self.not_expr(r)?;
            let span = self.span_from(s, r);
            return Ok((r, Expr::new(ExprKind::Not(Box::new(inner)), span)));
        }
        self.predicate(s)
    }

    /// A value with an optional postfix predicate.
    fn predicate(&self, s: &'a str) -> Res<'a, Expr> {
        let start = skip(s);
        let (s, value) = self.value_expr(start)?;
        let (after_not, negated) = match keyword(s, "not") {
            Some(r) if matches!(peek_word(r).as_deref(), Some("in" | "like" | "rlike")) => {
                (r, true)
            }
            _ => (s, false),
        };
        if let Some(r) = keyword(after_not, "in") {
            let (r, list) = self.paren_list(r, |p, s| p.value_expr(s))?;
            let span = self.span_from(start, r);
            let kind = ExprKind::In {
                expr: Box::new(value),
                list,
                negated,
            };
            return Ok((r, Expr::new(kind, span)));
        }
        for (kw, regex) in [("like", false), ("rlike", true)] {
            if let Some(r) = keyword(after_not, kw) {
                let (r, patterns) = if punct(r, "(").is_some() {
                    self.paren_list(r, |p, s| p.string_lit(s))?
                } else {
                    let (r, p) = self.string_lit(r)?;
                    (r, vec![p])
                };
                let span = self.span_from(start, r);
                let kind = ExprKind::Like {
                    expr: Box::new(value),
                    patterns,
                    regex,
                    negated,
                };
                return Ok((r, Expr::new(kind, span)));
            }
        }
        if negated {
            return fail(self.unexpected(after_not, "`IN`, `LIKE` or `RLIKE` after `NOT`"));
        }
        if let Some(r) = keyword(s, "is") {
            let (r, negated) = match keyword(r, "not") {
                Some(r) => (r, true),
                None => (r, false),
            };
            let r = keyword(r, "null").ok_or_else(|| self.unexpected(r, "`NULL`"))?;
            let span = self.span_from(start, r);
            let kind = ExprKind::IsNull {
                expr: Box::new(value),
                negated,
            };
            return Ok((r, Expr::new(kind, span)));
        }
        if let Some(r) = punct(s, ":").filter(|r| !r.starts_with(':')) {
            let (r, query) = self.unary(r)?;
            let span = self.span_from(start, r);
            let kind = ExprKind::MatchOp {
                field: Box::new(value),
                query: Box::new(query),
            };
            return Ok((r, Expr::new(kind, span)));
        }
        Ok((s, value))
    }

    /// `operand [comparison operand]`.
    pub fn value_expr(&self, s: &'a str) -> Res<'a, Expr> {
        let start = skip(s);
        let (s, left) = self.additive(start)?;
        let t = skip(s);
        let ops: [(&str, Cmp); 7] = [
            ("==", Cmp::Op(CmpOp::Eq)),
            ("=~", Cmp::CiEq),
            ("!=", Cmp::Op(CmpOp::Ne)),
            ("<=", Cmp::Op(CmpOp::Le)),
            (">=", Cmp::Op(CmpOp::Ge)),
            ("<", Cmp::Op(CmpOp::Lt)),
            (">", Cmp::Op(CmpOp::Gt)),
        ];
        for (sym, op) in ops {
            if let Some(r) = t.strip_prefix(sym) {
                let (r, right) = self.additive(r)?;
                let span = self.span_from(start, r);
                let kind = ExprKind::Cmp(op, Box::new(left), Box::new(right));
                return Ok((r, Expr::new(kind, span)));
            }
        }
        if t.starts_with('=') && !t.starts_with("==") {
            let at = self.at(t);
            return fail(
                self.error(at, at + 1, codes::UNEXPECTED_TOKEN, "unexpected `=`")
                    .label("use `==` to compare; `=` only names a column (`EVAL x = ...`)"),
            );
        }
        Ok((s, left))
    }

    fn additive(&self, s: &'a str) -> Res<'a, Expr> {
        let start = skip(s);
        let (mut s, mut left) = self.multiplicative(start)?;
        // a chain nests as deep as it is long: count it
        let mut guards = Vec::new();
        loop {
            let t = skip(s);
            let op = match t.chars().next() {
                Some('+') => ArithOp::Add,
                Some('-') => ArithOp::Sub,
                _ => return Ok((s, left)),
            };
            guards.push(self.enter(t)?);
            let (r, right) = self.multiplicative(&t[1..])?;
            let span = self.span_from(start, r);
            left = Expr::new(ExprKind::Arith(op, Box::new(left), Box::new(right)), span);
            s = r;
        }
    }

    fn multiplicative(&self, s: &'a str) -> Res<'a, Expr> {
        let start = skip(s);
        let (mut s, mut left) = self.unary(start)?;
        let mut guards = Vec::new();
        loop {
            let t = skip(s);
            let op = match t.chars().next() {
                Some('*') => ArithOp::Mul,
                Some('/') if !t.starts_with("//") && !t.starts_with("/*") => ArithOp::Div,
                Some('%') => ArithOp::Mod,
                _ => return Ok((s, left)),
            };
            guards.push(self.enter(t)?);
            let (r, right) = self.unary(&t[1..])?;
            let span = self.span_from(start, r);
            left = Expr::new(ExprKind::Arith(op, Box::new(left), Box::new(right)), span);
            s = r;
        }
    }

    fn unary(&self, s: &'a str) -> Res<'a, Expr> {
        let s = skip(s);
        if let Some(sign) = s.chars().next().filter(|c| matches!(c, '-' | '+')) {
            let _g = self.enter(s)?;
            let (r, inner) = self.unary(&s[1..])?;
            let span = self.span_from(s, r);
            if sign == '+' {
                return Ok((r, Expr::new(inner.kind, span)));
            }
            // `-5` is a literal; other negations stay operations
            if let ExprKind::Lit(Lit::Num(n)) = &inner.kind {
                let kind = ExprKind::Lit(Lit::Num(format!("-{n}")));
                return Ok((r, Expr::new(kind, span)));
            }
            return Ok((r, Expr::new(ExprKind::Neg(Box::new(inner)), span)));
        }
        self.cast(s)
    }

    /// A primary expression with its casts (DISSECT and GROK inputs).
    pub fn operand(&self, s: &'a str) -> Res<'a, Expr> {
        self.cast(s)
    }

    fn cast(&self, s: &'a str) -> Res<'a, Expr> {
        let start = skip(s);
        let (mut s, mut e) = self.primary(start)?;
        let mut guards = Vec::new();
        while let Some(r) = punct(s, "::") {
            guards.push(self.enter(s)?);
            let (r, ty) = word(skip(r)).map_err(|_| self.unexpected(r, "a type name"))?;
            let span = self.span_from(start, r);
            e = Expr::new(ExprKind::Cast(Box::new(e), ty.to_ascii_lowercase()), span);
            s = r;
        }
        Ok((s, e))
    }

    fn primary(&self, s: &'a str) -> Res<'a, Expr> {
        let s = skip(s);
        let c = s.chars().next();
        if c == Some('(') {
            let _g = self.enter(s)?;
            let (r, inner) = self.expr(&s[1..])?;
            let r = self.close(r, s, ")")?;
            return Ok((r, Expr::new(inner.kind, self.span_from(s, r))));
        }
        if c == Some('"') {
            let (r, st) = self.string_lit(s)?;
            return Ok((r, Expr::new(ExprKind::Lit(Lit::Str(st.value)), st.span)));
        }
        if c == Some('[') {
            let (r, items) = self.delimited(s, "[", "]", |p, s| p.unary(s))?;
            return Ok((r, Expr::new(ExprKind::Array(items), self.span_from(s, r))));
        }
        if c == Some('{') {
            let (r, entries) = self.delimited(s, "{", "}", |p, s| {
                let (r, key) = p.string_lit(s)?;
                let r = punct(r, ":").ok_or_else(|| p.unexpected(r, "`:`"))?;
                let (r, value) = p.unary(r)?;
                Ok((r, (key, value)))
            })?;
            return Ok((r, Expr::new(ExprKind::Map(entries), self.span_from(s, r))));
        }
        if c == Some('?') {
            let body = &s[1..];
            let (r, name) = word(body)
                .or_else(|_| nom::character::complete::digit1::<_, nom::error::Error<&str>>(body))
                .unwrap_or((body, ""));
            return Ok((
                r,
                Expr::new(ExprKind::Param(name.to_string()), self.span_from(s, r)),
            ));
        }
        if c.is_some_and(|c| c.is_ascii_digit() || c == '.') {
            if let Ok((r, n)) = number(s) {
                return Ok(self.number_or_span(s, r, n));
            }
        }
        self.name_or_call(s)
    }

    /// `12` or a time span `12 hours`.
    fn number_or_span(&self, start: &'a str, r: &'a str, n: &str) -> (&'a str, Expr) {
        if n.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok((r2, unit)) = word(skip(r)) {
                if let (Some(ms), Ok(count)) = (span_unit(unit), n.parse::<u64>()) {
                    let text = &self.full[self.at(start)..self.at(r2)];
                    let lit = Lit::Span {
                        text: text.split_whitespace().collect::<Vec<_>>().join(" "),
                        millis: count.saturating_mul(ms),
                    };
                    return (r2, Expr::new(ExprKind::Lit(lit), self.span_from(start, r2)));
                }
            }
        }
        let lit = ExprKind::Lit(Lit::Num(n.to_string()));
        (r, Expr::new(lit, self.span_from(start, r)))
    }

    fn name_or_call(&self, s: &'a str) -> Res<'a, Expr> {
        let (r, first) = match self.ident(s) {
            Some(x) => x,
            None => return fail(self.unexpected(s, "an expression")),
        };
        let lower = first.to_ascii_lowercase();
        let quoted = s.starts_with('`');
        if !quoted {
            match lower.as_str() {
                "null" => {
                    return Ok((r, Expr::new(ExprKind::Lit(Lit::Null), self.span_from(s, r))))
                }
                "true" | "false" => {
                    let lit = ExprKind::Lit(Lit::Bool(lower == "true"));
                    return Ok((r, Expr::new(lit, self.span_from(s, r))));
                }
                w if RESERVED.contains(&w) => return fail(self.unexpected(s, "an expression")),
                _ => {}
            }
            if r.starts_with('(') {
                return self.call(s, r, lower);
            }
        }
        let mut name = first;
        let mut rest = r;
        while let Some(after_dot) = rest.strip_prefix('.') {
            let (r2, part) = self
                .ident(after_dot)
                .or_else(|| {
                    nom::bytes::complete::take_while1::<_, _, ()>(|c: char| {
                        c.is_ascii_alphanumeric() || c == '_'
                    })(after_dot)
                    .ok()
                    .map(|(r, p)| (r, p.to_string()))
                })
                .ok_or_else(|| self.unexpected(after_dot, "a field name after `.`"))?;
            name.push('.');
            name.push_str(&part);
            rest = r2;
        }
        Ok((
            rest,
            Expr::new(ExprKind::Field(name), self.span_from(s, rest)),
        ))
    }

    /// An identifier (unquoted word or backquoted name) at `s` (no whitespace skipped).
    fn ident(&self, s: &'a str) -> Option<(&'a str, String)> {
        if let Some(x) = quoted_ident(s) {
            return Some(x);
        }
        word(s).ok().map(|(r, w)| (r, w.to_string()))
    }

    fn call(&self, start: &'a str, open: &'a str, name: String) -> Res<'a, Expr> {
        let _g = self.enter(open)?;
        if let Some(r) = punct(&open[1..], "*") {
            if let Some(r) = punct(r, ")") {
                let kind = ExprKind::Call {
                    name,
                    args: Vec::new(),
                    star: true,
                };
                return Ok((r, Expr::new(kind, self.span_from(start, r))));
            }
        }
        let (r, args) = self.delimited(open, "(", ")", |p, s| p.expr(s))?;
        let kind = ExprKind::Call {
            name,
            args,
            star: false,
        };
        Ok((r, Expr::new(kind, self.span_from(start, r))))
    }

    /// `( item, item, ... )` (at least one item).
    fn paren_list<T>(
        &self,
        s: &'a str,
        item: impl Fn(&Self, &'a str) -> Res<'a, T>,
    ) -> Res<'a, Vec<T>> {
        let s = skip(s);
        if !s.starts_with('(') {
            return fail(self.unexpected(s, "`(`"));
        }
        let _g = self.enter(s)?;
        let (r, items) = self.delimited(s, "(", ")", item)?;
        if items.is_empty() {
            return fail(self.unexpected(&s[1..], "a value"));
        }
        Ok((r, items))
    }

    /// `open [item (, item)*] close`, `s` at `open`.
    fn delimited<T>(
        &self,
        s: &'a str,
        open: &str,
        close: &str,
        item: impl Fn(&Self, &'a str) -> Res<'a, T>,
    ) -> Res<'a, Vec<T>> {
        let s = skip(s);
        let mut r = &s[open.len()..];
        let mut items = Vec::new();
        if let Some(r2) = punct(r, close) {
            return Ok((r2, items));
        }
        loop {
            let (r2, it) = item(self, r)?;
            items.push(it);
            if let Some(r3) = punct(r2, ",") {
                r = r3;
                continue;
            }
            return Ok((self.close(r2, s, close)?, items));
        }
    }

    /// A string literal as a node.
    pub fn string_lit(&self, s: &'a str) -> Res<'a, Str> {
        let s = skip(s);
        match super::lex::string(self.full, self.origin, s) {
            Some(Ok((r, value))) => Ok((
                r,
                Str {
                    value,
                    span: self.span_from(s, r),
                },
            )),
            Some(Err(d)) => Err(Box::new(d)),
            None => fail(self.unexpected(s, "a string")),
        }
    }
}

/// One item as is, several as a flat AND / OR.
fn flat(mut items: Vec<Expr>, make: fn(Vec<Expr>) -> ExprKind) -> Expr {
    if items.len() == 1 {
        return items.remove(0);
    }
    let span = items[0].span.to(items[items.len() - 1].span);
    Expr::new(make(items), span)
}
