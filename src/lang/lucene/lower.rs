//! Lowering Lucene clauses into the IR with the classic parser's boolean
//! rules (default operator OR): see `grammar/lucene.ebnf`.

use super::ast::{Body, Clause, Conj, Group, Modifier, Name, Term};
use crate::diag::{codes, Diagnostic};
use crate::ir::{
    Caveat, CmpOp, Expr, ExprKind, FieldRef, Part, Pattern, Regex, RegexFlavor, Value,
};
use crate::lang::kuery::value::{
    bound_value, caveat_once, compare, field_ref, free_text, keyword_match, or_merged, typed_value,
    FREE_TEXT,
};
use crate::span::Span;

/// How a clause takes part in its group (Lucene's `BooleanClause.Occur`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Occur {
    Must,
    Should,
    MustNot,
}

#[derive(Default)]
pub struct Lower {
    pub warnings: Vec<Diagnostic>,
    pub caveats: Vec<Caveat>,
}

const ANALYSIS: &str = "Lucene query_string analyses a value with the field's analyzer: on a \
    text field it matches terms, case-insensitively under the standard analyzer; the rule does \
    not say which fields are text, so every field is taken as a keyword field (exact, \
    case-sensitive whole-value match, wildcards case-sensitive too)";

fn unsupported(span: Span, msg: &str) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(codes::UNSUPPORTED_CONSTRUCT, msg).at(span))
}

impl Lower {
    /// A group with the classic parser's `addClause` rules: `AND` makes the
    /// clauses on both sides required, `OR` leaves them optional, `+` / `-`
    /// / `NOT` require and prohibit. Optional clauses only count when no
    /// clause is required; a group of prohibitions alone matches everything
    /// else (Elasticsearch adds the match-all Lucene leaves out).
    pub fn group(&mut self, g: &Group, field: Option<&Name>) -> Result<Expr, Box<Diagnostic>> {
        let mut clauses: Vec<(Occur, Expr, Span)> = Vec::new();
        for c in &g.clauses {
            let e = self.clause(c, field)?;
            if c.conj == Some(Conj::And) {
                if let Some(last) = clauses.last_mut() {
                    if last.0 != Occur::MustNot {
                        last.0 = Occur::Must;
                    }
                }
            }
            let occur = match c.modifier {
                Some(Modifier::Prohibited) => Occur::MustNot,
                Some(Modifier::Required) => Occur::Must,
                None if c.conj == Some(Conj::And) => Occur::Must,
                None => Occur::Should,
            };
            clauses.push((occur, e, c.span));
        }
        let of = |o: Occur| {
            clauses
                .iter()
                .filter(move |c| c.0 == o)
                .map(|c| (c.1.clone(), c.2))
        };
        let musts: Vec<Expr> = of(Occur::Must).map(|c| c.0).collect();
        let shoulds: Vec<Expr> = of(Occur::Should).map(|c| c.0).collect();
        let mut parts = musts.clone();
        if musts.is_empty() {
            if !shoulds.is_empty() {
                parts.push(or_merged(shoulds, g.span));
            }
        } else {
            for s in &shoulds {
                self.warnings.push(
                    Diagnostic::warning(
                        codes::LOWERING_CAVEAT,
                        "this clause does not restrict the matches",
                    )
                    .at(s.span)
                    .label("optional: it only changes scores")
                    .note(
                        "Lucene's `AND` makes the clauses next to it required, and an optional \
                         clause beside required ones does not filter (`a OR b AND c` is `b AND c`)",
                    )
                    .note("write `(a OR b) AND c`, or mark clauses with `+` and `-`"),
                );
            }
        }
        parts.extend(of(Occur::MustNot).map(|(e, span)| Expr::not(e, span)));
        Ok(Expr::and(parts, g.span))
    }

    fn clause(&mut self, c: &Clause, field: Option<&Name>) -> Result<Expr, Box<Diagnostic>> {
        let field = c.field.as_ref().or(field);
        match &c.body {
            Body::Group(g) => self.group(g, field),
            Body::Term(t) => {
                let span = match &c.field {
                    Some(f) => f.span.to(t.span()),
                    None => t.span(),
                };
                self.term(t, field, span)
            }
        }
    }

    fn term(
        &mut self,
        t: &Term,
        field: Option<&Name>,
        span: Span,
    ) -> Result<Expr, Box<Diagnostic>> {
        let Some(name) = field else {
            return self.free(t, span);
        };
        let f = field_ref(name.parts.clone(), name.span);
        if f.name == "_exists_" {
            let parts = parts_of(t);
            if parts.is_empty() {
                return Err(unsupported(t.span(), "`_exists_:` takes a field name"));
            }
            return Ok(Expr::new(
                ExprKind::Exists(field_ref(parts, t.span())),
                span,
            ));
        }
        match t {
            Term::Word { parts, text, .. } => {
                if parts == &[Part::AnyRun] {
                    if name.parts == [Part::AnyRun] {
                        return Ok(Expr::new(ExprKind::Const(true), span));
                    }
                    return Ok(Expr::new(ExprKind::Exists(f), span));
                }
                if let Some((op, bound)) = comparison(text) {
                    return Ok(compare(f, op, bound_value(bound), t.span(), span));
                }
                Ok(self.matches(f, typed_value(parts, true), span))
            }
            Term::Phrase { text, .. } => {
                let value = typed_value(&[Part::Lit(text.clone())], false);
                Ok(self.matches(f, value, span))
            }
            Term::Regex { pattern, .. } => Ok(self.matches(f, regex(pattern), span)),
            Term::Range {
                lo,
                hi,
                lo_inclusive,
                hi_inclusive,
                span: vspan,
            } => {
                let mut parts = Vec::new();
                if let Some(lo) = lo {
                    let op = if *lo_inclusive { CmpOp::Ge } else { CmpOp::Gt };
                    parts.push(compare(f.clone(), op, bound_value(lo), *vspan, span));
                }
                if let Some(hi) = hi {
                    let op = if *hi_inclusive { CmpOp::Le } else { CmpOp::Lt };
                    parts.push(compare(f.clone(), op, bound_value(hi), *vspan, span));
                }
                if parts.is_empty() {
                    return Ok(Expr::new(ExprKind::Exists(f), span));
                }
                Ok(Expr::and(parts, span))
            }
        }
    }

    /// A term without a field: `default_field` is `*`, every field.
    fn free(&mut self, t: &Term, span: Span) -> Result<Expr, Box<Diagnostic>> {
        let value = match t {
            Term::Word { parts, .. } if parts == &[Part::AnyRun] => {
                return Ok(Expr::new(ExprKind::Const(true), span));
            }
            Term::Word { parts, .. } => Value::Str(Pattern::from_parts(parts.iter().cloned())),
            Term::Phrase { text, .. } => Value::Str(Pattern::literal(text)),
            Term::Regex { pattern, .. } => regex(pattern),
            Term::Range { .. } => {
                return Err(unsupported(
                    span,
                    "a range needs a field (`field:[a TO b]`)",
                ));
            }
        };
        caveat_once(&mut self.caveats, "lucene-free-text", FREE_TEXT, span);
        caveat_once(&mut self.caveats, "lucene-analysis", ANALYSIS, span);
        Ok(free_text(value, span))
    }

    fn matches(&mut self, field: FieldRef, value: Value, span: Span) -> Expr {
        caveat_once(&mut self.caveats, "lucene-analysis", ANALYSIS, span);
        keyword_match(field, value, span)
    }
}

/// The name parts of an `_exists_:` value.
fn parts_of(t: &Term) -> Vec<Part> {
    match t {
        Term::Word { parts, .. } => parts.clone(),
        Term::Phrase { text, .. } => vec![Part::Lit(text.clone())],
        _ => Vec::new(),
    }
}

/// Elasticsearch's `field:>=10` forms.
fn comparison(text: &str) -> Option<(CmpOp, &str)> {
    [
        (">=", CmpOp::Ge),
        ("<=", CmpOp::Le),
        (">", CmpOp::Gt),
        ("<", CmpOp::Lt),
    ]
    .into_iter()
    .find_map(|(p, op)| text.strip_prefix(p).map(|rest| (op, rest)))
    .filter(|(_, rest)| !rest.is_empty())
}

fn regex(pattern: &str) -> Value {
    Value::Regex(Regex {
        pattern: pattern.to_string(),
        flavor: RegexFlavor::Lucene,
        anchored: true,
        multiline: false,
        dot_all: false,
    })
}
