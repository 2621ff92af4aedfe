//! The search-command language: `NOT` binds tightest, then `OR`, then `AND`
//! (explicit or implied by juxtaposition) — the reverse of eval/where.
//! <https://help.splunk.com/en/splunk-enterprise/search/search-manual/9.3/expressions-and-predicates>

use super::ast::*;
use super::lex::{keyword, keyword_upper, ws, P, R};
use crate::diag::codes;

/// Characters that end a field name or a bare term.
fn term_stop(c: char) -> bool {
    matches!(c, '=' | '<' | '>' | '(' | ')' | '[' | ']' | '|' | '"' | ',')
}

/// Characters that end a bare value after an operator.
fn value_stop(c: char) -> bool {
    matches!(c, ')' | ']' | '|')
}

fn list_stop(c: char) -> bool {
    matches!(c, ')' | ']' | '|' | ',' | '"')
}

impl<'a> P<'a> {
    /// A search expression up to `|`, `]` or the end (and, in a tstats
    /// `where`, up to `by`). `None` when there is nothing to search.
    pub fn search_expr(&self, i: &'a str, tstats: bool) -> R<'a, Option<SearchExpr>> {
        let (rest, e) = self.s_and(i, tstats)?;
        let t = ws(rest);
        if t.starts_with(')') {
            return Err(self
                .err(
                    t,
                    codes::UNEXPECTED_TOKEN,
                    "unexpected `)` without a matching `(`",
                )
                .label("nothing to close here"));
        }
        Ok((rest, e))
    }

    fn s_stop(&self, t: &str, tstats: bool) -> bool {
        t.is_empty()
            || t.starts_with('|')
            || t.starts_with(']')
            || t.starts_with(')')
            || (tstats && (keyword(t, "by").is_some() || keyword(t, "groupby").is_some()))
    }

    fn s_and(&self, i: &'a str, tstats: bool) -> R<'a, Option<SearchExpr>> {
        let start = ws(i);
        let mut i = start;
        let mut items = Vec::new();
        loop {
            let t = ws(i);
            if self.s_stop(t, tstats) {
                break;
            }
            let t = if items.is_empty() {
                t
            } else {
                keyword_upper(t, "AND").unwrap_or(t)
            };
            let (r, e) = self.s_or(t, tstats)?;
            items.push(e);
            i = r;
        }
        Ok((i, self.fold(start, i, items, SearchKind::And)))
    }

    fn fold(
        &self,
        start: &'a str,
        end: &'a str,
        mut items: Vec<SearchExpr>,
        f: fn(Vec<SearchExpr>) -> SearchKind,
    ) -> Option<SearchExpr> {
        match items.len() {
            0 => None,
            1 => items.pop(),
            _ => {
                let span = items[0].span.to(items[items.len() - 1].span);
                let _ = (start, end);
                Some(SearchExpr {
                    kind: f(items),
                    span,
                })
            }
        }
    }

    fn s_or(&self, i: &'a str, tstats: bool) -> R<'a, SearchExpr> {
        let start = ws(i);
        let (mut i, first) = self.s_not(start, tstats)?;
        let mut items = vec![first];
        while let Some(r) = keyword_upper(i, "OR") {
            let (r2, e) = self.s_not(r, tstats)?;
            items.push(e);
            i = r2;
        }
        let e = self.fold(start, i, items, SearchKind::Or);
        Ok((i, e.expect("at least one item")))
    }

    fn s_not(&self, i: &'a str, tstats: bool) -> R<'a, SearchExpr> {
        let t = ws(i);
        if let Some(r) = keyword_upper(t, "NOT") {
            let _g = self.depth.enter().ok_or_else(|| self.too_deep(t))?;
            let (r2, inner) = self.s_not(r, tstats)?;
            let span = self.span(t, r2).to(inner.span);
            return Ok((
                r2,
                SearchExpr {
                    kind: SearchKind::Not(Box::new(inner)),
                    span,
                },
            ));
        }
        self.s_primary(t, tstats)
    }

    fn s_primary(&self, t: &'a str, tstats: bool) -> R<'a, SearchExpr> {
        if self.s_stop(t, tstats)
            || keyword_upper(t, "AND").is_some()
            || keyword_upper(t, "OR").is_some()
        {
            return Err(self.expected(t, "a search term"));
        }
        if let Some(body) = t.strip_prefix('(') {
            let _g = self.depth.enter().ok_or_else(|| self.too_deep(t))?;
            let (r, inner) = self.s_and(body, false)?;
            let r = ws(r);
            let Some(rest) = r.strip_prefix(')') else {
                return Err(if r.is_empty() {
                    self.unclosed(t, "parenthesis", ")")
                } else {
                    self.expected(r, "`)`")
                });
            };
            return match inner {
                Some(mut e) => {
                    e.span = self.span(t, rest);
                    Ok((rest, e))
                }
                None => Err(self.expected(body, "a search term")),
            };
        }
        if t.starts_with('[') {
            let (r, p) = self.subsearch(t)?;
            let span = p.span;
            return Ok((
                r,
                SearchExpr {
                    kind: SearchKind::Subsearch(Box::new(p)),
                    span,
                },
            ));
        }
        let (r, field) = if t.starts_with('"') {
            self.quoted(t)?
        } else {
            match self.bare_term(t) {
                Some(x) => x,
                None => return Err(self.expected(t, "a search term")),
            }
        };
        // TERM(x) / CASE(x)
        if !field.quoted && r.starts_with('(') {
            let upper = field.text.to_ascii_uppercase();
            if upper == "TERM" || upper == "CASE" {
                let (r2, value) = self.value(&r[1..], |c| c == ')')?;
                let r2 = ws(r2);
                let Some(rest) = r2.strip_prefix(')') else {
                    return Err(self.unclosed(r, "parenthesis", ")"));
                };
                return Ok((
                    rest,
                    SearchExpr {
                        kind: SearchKind::Term {
                            value,
                            cased: upper == "CASE",
                        },
                        span: self.span(t, rest),
                    },
                ));
            }
        }
        let after = ws(r);
        if let Some((op, r2)) = search_op(after) {
            let v = ws(r2);
            if v.is_empty() || v.starts_with('|') || v.starts_with(')') || v.starts_with(']') {
                return Err(self.expected(v, "a value"));
            }
            let (rest, value) = self.search_value(v)?;
            return Ok((
                rest,
                SearchExpr {
                    kind: SearchKind::Compare { field, op, value },
                    span: self.span(t, rest),
                },
            ));
        }
        if let Some(r2) = keyword(after, "IN") {
            let l = ws(r2);
            if l.starts_with('(') {
                let (rest, values) = self.in_list(l)?;
                return Ok((
                    rest,
                    SearchExpr {
                        kind: SearchKind::In { field, values },
                        span: self.span(t, rest),
                    },
                ));
            }
        }
        let span = field.span;
        Ok((
            r,
            SearchExpr {
                kind: SearchKind::Term {
                    value: field,
                    cased: false,
                },
                span,
            },
        ))
    }

    /// A bare term or field name: up to whitespace, an operator (`!=` but not a
    /// lone `!`), a bracket, a pipe or a quote.
    fn bare_term(&self, t: &'a str) -> Option<(&'a str, Word)> {
        let mut end = t.len();
        for (k, c) in t.char_indices() {
            if c.is_whitespace() || term_stop(c) || (c == '!' && t[k + 1..].starts_with('=')) {
                end = k;
                break;
            }
        }
        if end == 0 {
            return None;
        }
        let rest = &t[end..];
        Some((rest, self.word(t, rest, t[..end].to_string(), false)))
    }

    /// A value after an operator: quoted, or bare up to whitespace, `)`, `]`
    /// or `|`; a `(` inside a bare value opens a group that runs to its `)`
    /// (`f=relative_time(now(), "-1d")`).
    fn search_value(&self, v: &'a str) -> R<'a, Word> {
        if v.starts_with('"') {
            return self.quoted(v);
        }
        let b = v.as_bytes();
        let mut depth = 0usize;
        let mut k = 0;
        while k < b.len() {
            let c = b[k] as char;
            match c {
                '(' => depth += 1,
                ')' if depth > 0 => depth -= 1,
                '"' if depth > 0 => {
                    let (r, _) = self.quoted(&v[k..])?;
                    k = v.len() - r.len();
                    continue;
                }
                '\\' => {
                    k += 2;
                    continue;
                }
                c if depth == 0 && (c.is_whitespace() || value_stop(c)) => break,
                _ => {}
            }
            k += 1;
        }
        let k = k.min(v.len());
        if depth > 0 {
            return Err(self.unclosed(v, "parenthesis in a value", ")"));
        }
        if k == 0 {
            return Err(self.expected(v, "a value"));
        }
        let rest = &v[k..];
        Ok((rest, self.word(v, rest, v[..k].to_string(), false)))
    }

    /// `( v1, v2 ... )` at `l` (which starts with `(`); commas optional.
    fn in_list(&self, l: &'a str) -> R<'a, Vec<Word>> {
        let mut i = &l[1..];
        let mut values = Vec::new();
        loop {
            let t = ws(i);
            if let Some(rest) = t.strip_prefix(')') {
                if values.is_empty() {
                    return Err(self.expected(t, "a value in the `IN` list"));
                }
                return Ok((rest, values));
            }
            if t.is_empty() {
                return Err(self.unclosed(l, "`IN` list", ")"));
            }
            if let Some(r) = t.strip_prefix(',') {
                i = r;
                continue;
            }
            if t.starts_with('|') || t.starts_with(']') {
                return Err(self.expected(t, "`)` closing the `IN` list"));
            }
            let (r, v) = self.value(t, list_stop)?;
            values.push(v);
            i = r;
        }
    }
}

fn search_op(t: &str) -> Option<(SearchOp, &str)> {
    const OPS: [(&str, SearchOp); 7] = [
        ("!=", SearchOp::Ne),
        ("==", SearchOp::Eq),
        ("<=", SearchOp::Le),
        (">=", SearchOp::Ge),
        ("=", SearchOp::Eq),
        ("<", SearchOp::Lt),
        (">", SearchOp::Gt),
    ];
    OPS.iter()
        .find_map(|(s, op)| t.strip_prefix(s).map(|r| (*op, r)))
}
