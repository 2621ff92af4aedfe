//! `stats` / `eventstats` / `streamstats` and `tstats`.
//! <https://help.splunk.com/en/splunk-enterprise/search/spl-search-reference/9.3/search-commands/tstats>

use super::ast::*;
use super::lex::{ident, keyword, ws, P, R};
use crate::diag::Diagnostic;

fn by_stop(c: char) -> bool {
    matches!(c, ',' | '|' | ']' | '=' | '(' | ')')
}

impl<'a> P<'a> {
    /// `key=value` at `t` when `t` starts with one (not `key==`, not `f(`).
    fn option(&self, t: &'a str) -> Option<R<'a, (Word, Word)>> {
        let (r, k) = ident(t)?;
        let r2 = ws(r);
        let v = r2.strip_prefix('=').filter(|v| !v.starts_with('='))?;
        let key = self.word(t, r, k.to_string(), false);
        Some(
            self.value(v, |c| matches!(c, '|' | ']' | ')' | ','))
                .map(|(rest, val)| (rest, (key, val))),
        )
    }

    /// One `name=value` option or one aggregate call of stats/tstats; the rest.
    fn option_or_agg(
        &self,
        t: &'a str,
        options: &mut Vec<(Word, Word)>,
        aggs: &mut Vec<AggCall>,
    ) -> Result<&'a str, Diagnostic> {
        if let Some(res) = self.option(t) {
            let (r, kv) = res?;
            options.push(kv);
            return Ok(r);
        }
        let (r, a) = self.agg_call(t)?;
        aggs.push(a);
        Ok(r)
    }

    /// stats and tstats need at least one aggregate.
    fn some_aggs(&self, at: &'a str, aggs: &[AggCall]) -> Result<(), Diagnostic> {
        if aggs.is_empty() {
            return Err(self.expected(at, "an aggregate function such as `count`"));
        }
        Ok(())
    }

    pub fn stats(&self, mut i: &'a str, mode: StatsMode) -> R<'a, Stats> {
        let mut s = Stats {
            mode,
            options: Vec::new(),
            aggs: Vec::new(),
            by: Vec::new(),
            span: None,
        };
        loop {
            let t = ws(i);
            if t.is_empty() || t.starts_with('|') || t.starts_with(']') {
                break;
            }
            if let Some(r) = keyword(t, "by") {
                let (r2, (by, span)) = self.by_list(r, &mut s.options)?;
                s.by = by;
                s.span = span;
                i = r2;
                break;
            }
            if let Some(r) = t.strip_prefix(',') {
                i = r;
                continue;
            }
            i = self.option_or_agg(t, &mut s.options, &mut s.aggs)?;
        }
        self.some_aggs(i, &s.aggs)?;
        Ok((i, s))
    }

    /// `by f1, f2 [span=d]` (options may stand among the fields).
    fn by_list(
        &self,
        mut i: &'a str,
        options: &mut Vec<(Word, Word)>,
    ) -> R<'a, (Vec<Word>, Option<Word>)> {
        let mut by = Vec::new();
        let mut span = None;
        loop {
            let t = ws(i);
            if t.is_empty()
                || t.starts_with('|')
                || t.starts_with(']')
                || (keyword(t, "where").is_some() || keyword(t, "from").is_some())
            {
                break;
            }
            if let Some(r) = t.strip_prefix(',') {
                i = r;
                continue;
            }
            if let Some(res) = self.option(t) {
                let (r, (k, v)) = res?;
                if k.text.eq_ignore_ascii_case("span") {
                    span = Some(v);
                } else {
                    options.push((k, v));
                }
                i = r;
                continue;
            }
            let (r, w) = self.value(t, by_stop)?;
            by.push(w);
            i = r;
        }
        if by.is_empty() && span.is_none() {
            return Err(self.expected(i, "a field after `by`"));
        }
        Ok((i, (by, span)))
    }

    pub fn tstats(&self, mut i: &'a str) -> R<'a, Tstats> {
        let mut ts = Tstats {
            options: Vec::new(),
            aggs: Vec::new(),
            datamodel: None,
            filter: None,
            by: Vec::new(),
            span: None,
        };
        loop {
            let t = ws(i);
            if t.is_empty() || t.starts_with('|') || t.starts_with(']') {
                break;
            }
            if let Some(r) = t.strip_prefix(',') {
                i = r;
                continue;
            }
            if let Some(r) = keyword(t, "from") {
                let r = ws(r);
                let (r2, dm) = match keyword(r, "datamodel") {
                    Some(d) => {
                        let d = ws(d);
                        let Some(v) = d.strip_prefix('=').or_else(|| d.strip_prefix(':')) else {
                            return Err(self.expected(d, "`=` after `datamodel`"));
                        };
                        self.value(v, |c| matches!(c, '|' | ']' | ',' | '(' | ')'))?
                    }
                    None => self.value(r, |c| matches!(c, '|' | ']' | ',' | '(' | ')'))?,
                };
                ts.datamodel = Some(dm);
                i = r2;
                continue;
            }
            if let Some(r) = keyword(t, "where") {
                let (r2, e) = self.search_expr(r, true)?;
                if e.is_none() {
                    return Err(self.expected(r, "a search expression after `where`"));
                }
                ts.filter = e;
                i = r2;
                continue;
            }
            if let Some(r) = keyword(t, "by").or_else(|| keyword(t, "groupby")) {
                let (r2, (by, span)) = self.by_list(r, &mut ts.options)?;
                ts.by = by;
                ts.span = span;
                i = r2;
                continue;
            }
            i = self.option_or_agg(t, &mut ts.options, &mut ts.aggs)?;
        }
        self.some_aggs(i, &ts.aggs)?;
        Ok((i, ts))
    }
}
