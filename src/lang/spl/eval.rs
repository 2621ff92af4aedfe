//! The eval/where expression language (`AND` binds tighter than `OR`, the
//! usual precedence) and the aggregate calls of stats/tstats.
//! <https://help.splunk.com/en/splunk-enterprise/search/spl-search-reference/9.3/evaluation-functions>

use super::ast::*;
use super::lex::{ident, keyword, ws, P, R};
use crate::diag::{codes, Diagnostic};

/// Eval functions: name, minimum and maximum argument count (`usize::MAX`: any).
const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("abs", 1, 1),
    ("acos", 1, 1),
    ("asin", 1, 1),
    ("atan", 1, 1),
    ("atan2", 2, 2),
    ("avg", 1, usize::MAX),
    ("case", 2, usize::MAX),
    ("ceil", 1, 1),
    ("ceiling", 1, 1),
    ("cidrmatch", 2, 2),
    ("coalesce", 1, usize::MAX),
    ("commands", 1, 1),
    ("cos", 1, 1),
    ("exact", 1, 1),
    ("exp", 1, 1),
    ("false", 0, 0),
    ("floor", 1, 1),
    ("if", 3, 3),
    ("in", 2, usize::MAX),
    ("ipmask", 2, 2),
    ("isbool", 1, 1),
    ("isint", 1, 1),
    ("isnotnull", 1, 1),
    ("isnull", 1, 1),
    ("isnum", 1, 1),
    ("isstr", 1, 1),
    ("json_array", 0, usize::MAX),
    ("json_extract", 1, usize::MAX),
    ("json_extract_exact", 1, usize::MAX),
    ("json_keys", 1, 1),
    ("json_object", 0, usize::MAX),
    ("json_valid", 1, 1),
    ("len", 1, 1),
    ("like", 2, 2),
    ("ln", 1, 1),
    ("log", 1, 2),
    ("lookup", 2, 3),
    ("lower", 1, 1),
    ("ltrim", 1, 2),
    ("match", 2, 2),
    ("max", 1, usize::MAX),
    ("md5", 1, 1),
    ("min", 1, usize::MAX),
    ("mvappend", 1, usize::MAX),
    ("mvcount", 1, 1),
    ("mvdedup", 1, 1),
    ("mvfilter", 1, 1),
    ("mvfind", 2, 2),
    ("mvindex", 2, 3),
    ("mvjoin", 2, 2),
    ("mvmap", 2, 2),
    ("mvrange", 2, 3),
    ("mvsort", 1, 1),
    ("mvzip", 2, 3),
    ("now", 0, 0),
    ("null", 0, 0),
    ("nullif", 2, 2),
    ("pi", 0, 0),
    ("pow", 2, 2),
    ("printf", 1, usize::MAX),
    ("random", 0, 0),
    ("relative_time", 2, 2),
    ("replace", 3, 3),
    ("round", 1, 2),
    ("rtrim", 1, 2),
    ("searchmatch", 1, 1),
    ("sha1", 1, 1),
    ("sha256", 1, 1),
    ("sha512", 1, 1),
    ("sigfig", 1, 1),
    ("sin", 1, 1),
    ("spath", 2, 2),
    ("split", 2, 2),
    ("sqrt", 1, 1),
    ("strftime", 2, 2),
    ("strptime", 2, 2),
    ("substr", 2, 3),
    ("sum", 1, usize::MAX),
    ("tan", 1, 1),
    ("time", 0, 0),
    ("tojson", 0, 2),
    ("tonumber", 1, 2),
    ("tostring", 1, 2),
    ("trim", 1, 2),
    ("true", 0, 0),
    ("typeof", 1, 1),
    ("upper", 1, 1),
    ("urldecode", 1, 1),
    ("validate", 2, usize::MAX),
];

/// Stats functions without a numeric suffix.
const AGGREGATES: &[&str] = &[
    "count",
    "c",
    "dc",
    "distinct_count",
    "estdc",
    "estdc_error",
    "sum",
    "sumsq",
    "avg",
    "mean",
    "stdev",
    "stdevp",
    "var",
    "varp",
    "min",
    "max",
    "median",
    "mode",
    "range",
    "values",
    "list",
    "earliest",
    "latest",
    "earliest_time",
    "latest_time",
    "first",
    "last",
    "rate",
    "sparkline",
];

pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name) || percentile(name).is_some()
}

/// `perc95`, `p95`, `exactperc99`, `upperperc5` → the percentile.
pub fn percentile(name: &str) -> Option<f64> {
    let n = ["exactperc", "upperperc", "perc", "p"]
        .iter()
        .find_map(|p| name.strip_prefix(p))?;
    if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    n.parse().ok()
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '@'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@'
}

impl<'a> P<'a> {
    /// An eval expression.
    pub fn eval_expr(&self, i: &'a str) -> R<'a, EvalExpr> {
        let _g = self.depth.enter().ok_or_else(|| self.too_deep(i))?;
        self.e_level(i, 0)
    }

    fn bin(&self, op: BinOp, l: EvalExpr, r: EvalExpr) -> EvalExpr {
        let span = l.span.to(r.span);
        EvalExpr {
            kind: EvalKind::Bin(op, Box::new(l), Box::new(r)),
            span,
        }
    }

    /// Binary levels: 0 OR, 1 XOR, 2 AND, 3 NOT, 4 comparison, 5 + - ., 6 * / %.
    fn e_level(&self, i: &'a str, level: u8) -> R<'a, EvalExpr> {
        match level {
            0..=2 => {
                let (kw, op) =
                    [("OR", BinOp::Or), ("XOR", BinOp::Xor), ("AND", BinOp::And)][level as usize];
                let (mut i, mut l) = self.e_level(i, level + 1)?;
                while let Some(r) = keyword(i, kw) {
                    let (r2, rhs) = self.e_level(r, level + 1)?;
                    l = self.bin(op, l, rhs);
                    i = r2;
                }
                Ok((i, l))
            }
            3 => {
                let t = ws(i);
                if let Some(r) = keyword(t, "NOT") {
                    let _g = self.depth.enter().ok_or_else(|| self.too_deep(t))?;
                    let (r2, inner) = self.e_level(r, 3)?;
                    let span = self.span(t, r2).to(inner.span);
                    return Ok((
                        r2,
                        EvalExpr {
                            kind: EvalKind::Not(Box::new(inner)),
                            span,
                        },
                    ));
                }
                self.e_level(t, 4)
            }
            4 => {
                let (i, l) = self.e_level(i, 5)?;
                let t = ws(i);
                let ops: [(&str, BinOp); 7] = [
                    ("==", BinOp::Eq),
                    ("!=", BinOp::Ne),
                    ("<=", BinOp::Le),
                    (">=", BinOp::Ge),
                    ("=", BinOp::Eq),
                    ("<", BinOp::Lt),
                    (">", BinOp::Gt),
                ];
                if let Some(r) = keyword(t, "IN").filter(|r| ws(r).starts_with('(')) {
                    let open = ws(r);
                    let (rest, mut args) = self.call_args(open)?;
                    let span = self.span(t, rest).to(l.span);
                    args.insert(0, l);
                    return Ok((
                        rest,
                        EvalExpr {
                            kind: EvalKind::Call("in".into(), args),
                            span,
                        },
                    ));
                }
                let found = ops
                    .iter()
                    .find_map(|(s, op)| t.strip_prefix(s).map(|r| (*op, r)))
                    .or_else(|| keyword(t, "LIKE").map(|r| (BinOp::Like, r)));
                match found {
                    Some((op, r)) => {
                        let (r2, rhs) = self.e_level(r, 5)?;
                        Ok((r2, self.bin(op, l, rhs)))
                    }
                    None => Ok((i, l)),
                }
            }
            5 | 6 => {
                let ops: &[(char, BinOp)] = if level == 5 {
                    &[('+', BinOp::Add), ('-', BinOp::Sub), ('.', BinOp::Concat)]
                } else {
                    &[('*', BinOp::Mul), ('/', BinOp::Div), ('%', BinOp::Mod)]
                };
                let (mut i, mut l) = self.e_level(i, level + 1)?;
                loop {
                    let t = ws(i);
                    let Some((op, r)) = ops
                        .iter()
                        .find_map(|(c, op)| t.strip_prefix(*c).map(|r| (*op, r)))
                    else {
                        break;
                    };
                    let (r2, rhs) = self.e_level(r, level + 1)?;
                    l = self.bin(op, l, rhs);
                    i = r2;
                }
                Ok((i, l))
            }
            _ => self.e_unary(i),
        }
    }

    fn e_unary(&self, i: &'a str) -> R<'a, EvalExpr> {
        let t = ws(i);
        if let Some(r) = t.strip_prefix('-') {
            if !r.starts_with(|c: char| c.is_ascii_digit()) {
                let _g = self.depth.enter().ok_or_else(|| self.too_deep(t))?;
                let (r2, inner) = self.e_unary(r)?;
                let span = self.span(t, r2);
                return Ok((
                    r2,
                    EvalExpr {
                        kind: EvalKind::Neg(Box::new(inner)),
                        span,
                    },
                ));
            }
        }
        self.e_primary(t)
    }

    fn e_primary(&self, t: &'a str) -> R<'a, EvalExpr> {
        let mk = |kind, rest: &'a str| {
            Ok((
                rest,
                EvalExpr {
                    kind,
                    span: self.span(t, rest),
                },
            ))
        };
        if let Some(inner) = t.strip_prefix('(') {
            let (r, mut e) = self.eval_expr(inner)?;
            let r = ws(r);
            return match r.strip_prefix(')') {
                Some(rest) => {
                    e.span = self.span(t, rest);
                    Ok((rest, e))
                }
                None if r.is_empty() => Err(self.unclosed(t, "parenthesis", ")")),
                None => Err(self.expected(r, "`)` or an operator")),
            };
        }
        if t.starts_with('"') {
            let (r, w) = self.quoted(t)?;
            return mk(EvalKind::Str(w.text), r);
        }
        if t.starts_with('\'') {
            let (r, w) = self.quoted_with(t, '\'')?;
            return mk(EvalKind::Field(w.text), r);
        }
        let neg = t.starts_with('-');
        let digits = if neg { &t[1..] } else { t };
        if digits.starts_with('.') && digits[1..].starts_with(|c: char| c.is_ascii_digit()) {
            let end = 1 + digits[1..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(digits.len() - 1);
            let rest = &digits[end..];
            return mk(EvalKind::Num(format!("0{}", &digits[..end])), rest);
        }
        if digits.starts_with(|c: char| c.is_ascii_digit()) {
            let mut end = digits
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(digits.len());
            if digits[end..].starts_with('.')
                && digits[end + 1..].starts_with(|c: char| c.is_ascii_digit())
            {
                end += 1 + digits[end + 1..]
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(digits.len() - end - 1);
            }
            let rest = &digits[end..];
            return mk(EvalKind::Num(self.text(t, rest).to_string()), rest);
        }
        if t.starts_with(is_ident_start) {
            let (r, name) = ident_path(t);
            let r2 = ws(r);
            let known = FUNCTIONS.iter().any(|f| f.0.eq_ignore_ascii_case(name));
            if r2.starts_with('(') && !name.contains('.') && (r.starts_with('(') || known) {
                return self.e_call(t, name, r2);
            }
            let kind = match name.to_ascii_lowercase().as_str() {
                "true" => EvalKind::Bool(true),
                "false" => EvalKind::Bool(false),
                "null" => EvalKind::Null,
                _ => EvalKind::Field(name.to_string()),
            };
            return mk(kind, r);
        }
        Err(self.expected(t, "an expression"))
    }

    fn e_call(&self, t: &'a str, name: &'a str, open: &'a str) -> R<'a, EvalExpr> {
        let lname = name.to_ascii_lowercase();
        let name_span = self.span(t, &t[name.len()..]);
        let Some(&(_, min, max)) = FUNCTIONS.iter().find(|f| f.0 == lname) else {
            return Err(Diagnostic::error(
                codes::UNKNOWN_FUNCTION,
                format!("unknown eval function `{name}`"),
            )
            .at(name_span)
            .label("not an eval function"));
        };
        let (rest, args) = self.call_args(open)?;
        if args.len() < min || args.len() > max {
            let want = match (min, max) {
                (a, b) if a == b => format!("{a}"),
                (a, usize::MAX) => format!("at least {a}"),
                (a, b) => format!("{a} to {b}"),
            };
            return Err(Diagnostic::error(
                codes::FUNCTION_ARITY,
                format!("`{lname}` takes {want} argument(s), found {}", args.len()),
            )
            .at(self.span(t, rest))
            .label(format!("{} argument(s) here", args.len())));
        }
        Ok((
            rest,
            EvalExpr {
                kind: EvalKind::Call(lname, args),
                span: self.span(t, rest),
            },
        ))
    }

    /// `( expr, expr, ... )` at `open` (which starts with `(`).
    fn call_args(&self, open: &'a str) -> R<'a, Vec<EvalExpr>> {
        let _g = self.depth.enter().ok_or_else(|| self.too_deep(open))?;
        let mut args = Vec::new();
        let mut i = &open[1..];
        loop {
            let s = ws(i);
            if let Some(r) = s.strip_prefix(')') {
                return Ok((r, args));
            }
            if !args.is_empty() {
                match s.strip_prefix(',') {
                    Some(r) => i = r,
                    None if s.is_empty() => return Err(self.unclosed(open, "call", ")")),
                    None => return Err(self.expected(s, "`,` or `)`")),
                }
            }
            let s = ws(i);
            if s.is_empty() {
                return Err(self.unclosed(open, "call", ")"));
            }
            let (r, a) = self.eval_expr(s)?;
            args.push(a);
            i = r;
        }
    }

    /// `eval a = expr [, b = expr]...`.
    pub fn eval_assignments(&self, mut i: &'a str) -> R<'a, Vec<(Word, EvalExpr)>> {
        let mut out = Vec::new();
        loop {
            let t = ws(i);
            if t.is_empty() || t.starts_with('|') || t.starts_with(']') {
                if out.is_empty() {
                    return Err(self.expected(t, "an assignment `name = expression`"));
                }
                return Ok((t, out));
            }
            if !out.is_empty() {
                if let Some(r) = t.strip_prefix(',') {
                    i = r;
                    continue;
                }
            }
            let (r, name) = match t.chars().next() {
                Some('"') => self.quoted(t)?,
                Some('\'') => self.quoted_with(t, '\'')?,
                _ => self
                    .bare(t, |c| matches!(c, '=' | ',' | '|' | ']' | '(' | ')'))
                    .ok_or_else(|| self.expected(t, "a field name"))?,
            };
            let r = ws(r);
            let Some(r) = r.strip_prefix('=').filter(|r| !r.starts_with('=')) else {
                return Err(self.expected(r, "`=`"));
            };
            let (r, e) = self.eval_expr(r)?;
            out.push((name, e));
            i = r;
            let t = ws(i);
            if !(t.is_empty() || t.starts_with('|') || t.starts_with(']') || t.starts_with(',')) {
                return Err(self.expected(t, "`,`, `|` or an operator"));
            }
        }
    }

    /// `func[(arg)] [as alias]` of stats, eventstats, streamstats and tstats.
    pub fn agg_call(&self, t: &'a str) -> R<'a, AggCall> {
        let Some((mut r, name)) = ident(t) else {
            return Err(self.expected(t, "an aggregate function"));
        };
        let mut func = name.to_ascii_lowercase();
        // A decimal percentile (`perc99.95`, `p99.9`): the identifier ends at the dot.
        if let Some(after) = r.strip_prefix('.').filter(|_| percentile(&func).is_some()) {
            let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 {
                func = format!("{func}.{}", &after[..digits]);
                r = &after[digits..];
            }
        }
        if !is_aggregate(&func) {
            return Err(Diagnostic::error(
                codes::UNKNOWN_FUNCTION,
                format!("unknown aggregate function `{name}`"),
            )
            .at(self.span(t, r))
            .label("not a stats function"));
        }
        let mut rest = r;
        let mut arg = None;
        if let Some(open) = r.strip_prefix('(') {
            let s = ws(open);
            let (r2, a) = if let Some(e) = keyword(s, "eval").filter(|e| ws(e).starts_with('(')) {
                let e = ws(e);
                let (r3, ex) = self.eval_expr(&e[1..])?;
                let r3 = ws(r3);
                let Some(r4) = r3.strip_prefix(')') else {
                    return Err(if r3.is_empty() {
                        self.unclosed(e, "parenthesis", ")")
                    } else {
                        self.expected(r3, "`)`")
                    });
                };
                (r4, AggArg::Eval(ex))
            } else {
                let (r3, w) = self.value(s, |c| matches!(c, ')' | '|' | ']' | ','))?;
                (r3, AggArg::Field(w))
            };
            let r2 = ws(r2);
            rest = match r2.strip_prefix(')') {
                Some(x) => x,
                None if r2.is_empty() => return Err(self.unclosed(r, "parenthesis", ")")),
                None => return Err(self.expected(r2, "`)`")),
            };
            arg = Some(a);
        }
        let text = self.text(t, rest).to_string();
        let mut end = rest;
        let mut alias = None;
        if let Some(r) = keyword(rest, "as") {
            let (r2, w) = self.value(r, |c| matches!(c, ',' | '|' | ']'))?;
            alias = Some(w);
            end = r2;
        }
        Ok((
            end,
            AggCall {
                func,
                arg,
                alias,
                text,
                span: self.span(t, end),
            },
        ))
    }
}

/// An eval field name: `a`, `a.b`, `a{}.b`, `@timestamp`.
fn ident_path(t: &str) -> (&str, &str) {
    let mut end = 0;
    let b = t.as_bytes();
    while end < t.len() {
        let c = b[end] as char;
        if is_ident_char(c) {
            end += 1;
        } else if c == '{' && t[end..].starts_with("{}") {
            end += 2;
        } else if c == '.' && t[end + 1..].starts_with(is_ident_start) && end > 0 {
            end += 1;
        } else {
            break;
        }
    }
    (&t[end..], &t[..end])
}
