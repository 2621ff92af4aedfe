//! Compiled predicates: an IR [`Expr`] becomes a [`Node`] tree whose leaves
//! are typed tests on field slots; evaluation reads an [`EventView`].

use super::fields::{EventView, FieldId, FieldTable};
use super::json::Leaf;
use super::scalar::{self, CScalar, Dyn};
use super::strmatch::{compile_patterns, compile_regex, fold, Cidr, StrTest};
use crate::ir::{
    ArrayMode, Case, CmpOp, Expr, ExprKind, Keyword, Language, Match, MatchKind, Pattern,
    Quantifier, Value,
};
use crate::span::Span;

/// Why a construct cannot be matched: a message and where it is.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub message: String,
    pub span: Span,
}

pub fn refuse<T>(span: Span, message: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        message: message.into(),
        span,
    })
}

/// What the compiler needs while lowering one rule.
pub struct Ctx<'t> {
    pub fields: &'t mut FieldTable,
    pub language: Language,
}

#[derive(Debug, Clone)]
pub enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Const(bool),
    Match(MatchNode),
    Exists(FieldId),
    Keyword(KeywordNode),
    Compare(Box<(CScalar, CmpOp, CScalar, Case)>),
    Truthy(CScalar),
}

#[derive(Debug, Clone)]
pub struct MatchNode {
    pub field: FieldId,
    /// All tests must hold (Sigma `|all`), else any.
    pub all: bool,
    pub scalar_only: bool,
    /// `null` among the values: a missing or null field matches.
    pub null_ok: bool,
    pub tests: Vec<ValTest>,
}

#[derive(Debug, Clone)]
pub enum ValTest {
    /// Any of these string tests.
    Str(Vec<StrTest>),
    Num {
        value: f64,
        text: String,
        fold: bool,
    },
    Bool(bool),
    Cidr(Cidr),
    FieldRef {
        other: FieldId,
        fold: bool,
    },
}

#[derive(Debug, Clone)]
pub struct KeywordNode {
    pub all: bool,
    pub tests: Vec<Vec<StrTest>>,
}

/// Compile a filter expression.
pub fn compile(e: &Expr, cx: &mut Ctx) -> Result<Node, Refusal> {
    Ok(match &e.kind {
        ExprKind::And(items) => Node::And(
            items
                .iter()
                .map(|i| compile(i, cx))
                .collect::<Result<_, _>>()?,
        ),
        ExprKind::Or(items) => Node::Or(
            items
                .iter()
                .map(|i| compile(i, cx))
                .collect::<Result<_, _>>()?,
        ),
        ExprKind::Not(inner) => Node::Not(Box::new(compile(inner, cx)?)),
        ExprKind::Const(b) => Node::Const(*b),
        ExprKind::Match(m) => compile_match(m, cx)?,
        ExprKind::Exists(f) => {
            if f.name_pattern.is_some() {
                return refuse(
                    f.span,
                    "a field-name wildcard is not supported by the matcher",
                );
            }
            Node::Exists(cx.fields.intern(f))
        }
        ExprKind::Keyword(k) => compile_keyword(k, e.span, cx)?,
        ExprKind::Compare(c) => {
            let l = scalar::compile(&c.left, cx)?;
            let r = scalar::compile(&c.right, cx)?;
            Node::Compare(Box::new((l, c.op, r, c.case)))
        }
        ExprKind::Scalar(s) => Node::Truthy(scalar::compile(s, cx)?),
        ExprKind::Subsearch(_) => {
            return refuse(e.span, "a subsearch needs the results of another search")
        }
    })
}

fn str_group(
    pats: &[&Pattern],
    case: Case,
    kind: MatchKind,
    span: Span,
) -> Result<Vec<StrTest>, Refusal> {
    compile_patterns(pats, case, kind).or_else(|m| refuse(span, m))
}

fn compile_match(m: &Match, cx: &mut Ctx) -> Result<Node, Refusal> {
    if m.field.name_pattern.is_some() {
        return refuse(
            m.field.span,
            "a field-name wildcard is not supported by the matcher",
        );
    }
    let field = cx.fields.intern(&m.field);
    let all = m.quantifier == Quantifier::All && m.values.len() > 1;
    let fold_case = m.case == Case::Insensitive;
    let mut tests = Vec::new();
    let mut null_ok = false;
    let mut pats: Vec<&Pattern> = Vec::new();
    for v in &m.values {
        let t = match v {
            Value::Str(p) if !all => {
                pats.push(p);
                continue;
            }
            Value::Str(p) => ValTest::Str(str_group(&[p], m.case, m.kind, m.span)?),
            Value::Regex(r) => ValTest::Str(vec![StrTest::Regex(
                compile_regex(r, m.case).or_else(|e| refuse(m.span, e))?,
            )]),
            Value::Num(n) => ValTest::Num {
                value: n.value,
                text: n.text.clone(),
                fold: fold_case,
            },
            Value::Bool(b) => ValTest::Bool(*b),
            Value::Null => {
                null_ok = true;
                continue;
            }
            Value::Cidr(c) => match Cidr::parse(c) {
                Some(c) => ValTest::Cidr(c),
                None => return refuse(m.span, format!("`{c}` is not a CIDR block")),
            },
            Value::FieldRef(name) => {
                let f = crate::ir::FieldRef::new(name.clone(), m.field.scheme, m.span);
                ValTest::FieldRef {
                    other: cx.fields.intern(&f),
                    fold: fold_case,
                }
            }
        };
        tests.push(t);
    }
    if !pats.is_empty() {
        tests.push(ValTest::Str(str_group(&pats, m.case, m.kind, m.span)?));
    }
    Ok(Node::Match(MatchNode {
        field,
        all,
        scalar_only: m.array == ArrayMode::ScalarOnly,
        null_ok,
        tests,
    }))
}

fn compile_keyword(k: &Keyword, span: Span, cx: &mut Ctx) -> Result<Node, Refusal> {
    cx.fields.want_strings = true;
    let mut groups = Vec::new();
    let mut pats = Vec::new();
    let all = k.quantifier == Quantifier::All;
    for v in &k.values {
        match v {
            Value::Str(p) if !all => pats.push(p),
            Value::Str(p) => groups.push(str_group(&[p], k.case, k.kind, span)?),
            Value::Regex(r) => groups.push(vec![StrTest::Regex(
                compile_regex(r, k.case).or_else(|e| refuse(span, e))?,
            )]),
            other => {
                return refuse(
                    span,
                    format!("a keyword search for {other:?} (only text is searched)"),
                )
            }
        }
    }
    if !pats.is_empty() {
        groups.push(str_group(&pats, k.case, k.kind, span)?);
    }
    Ok(Node::Keyword(KeywordNode { all, tests: groups }))
}

/// Number equality as the source languages compare: a number, or a string
/// holding the same number, or (for strings that are not numbers) the text.
fn num_eq(l: &Leaf, value: f64, text: &str, fold_case: bool) -> bool {
    match l {
        Leaf::Num(t) => t.parse::<f64>().is_ok_and(|x| x == value),
        Leaf::Str(s) => match s.trim().parse::<f64>() {
            Ok(x) => x == value,
            Err(_) => {
                if fold_case {
                    s.eq_ignore_ascii_case(text)
                } else {
                    s == text
                }
            }
        },
        _ => false,
    }
}

fn leaf_test(t: &ValTest, l: &Leaf, ev: &EventView) -> bool {
    match t {
        ValTest::Str(tests) => match l.text() {
            Some(s) => tests.iter().any(|t| t.is_match(&s)),
            None => false,
        },
        ValTest::Num { value, text, fold } => num_eq(l, *value, text, *fold),
        ValTest::Bool(b) => match l {
            Leaf::Bool(x) => x == b,
            Leaf::Str(s) => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
            _ => false,
        },
        ValTest::Cidr(c) => matches!(l, Leaf::Str(s) if c.contains(s)),
        ValTest::FieldRef { other, fold: f } => {
            let Some(a) = l.text() else { return false };
            ev.values(*other).any(|(o, _)| match o.text() {
                Some(b) if *f => fold(&a) == fold(&b),
                Some(b) => a == b,
                None => false,
            })
        }
    }
}

fn eval_match(m: &MatchNode, ev: &EventView) -> bool {
    let usable = |(l, arr): &(&Leaf, bool)| !(matches!(l, Leaf::Object) || m.scalar_only && *arr);
    if m.null_ok {
        let mut any = false;
        for (l, _) in ev.values(m.field) {
            if !matches!(l, Leaf::Object) {
                any = true;
            }
            if matches!(l, Leaf::Null) {
                return true;
            }
        }
        if !any {
            return true;
        }
    }
    if m.tests.is_empty() {
        return false;
    }
    let test = |t: &ValTest| {
        ev.values(m.field)
            .filter(usable)
            .any(|(l, _)| leaf_test(t, l, ev))
    };
    if m.all {
        m.tests.iter().all(test)
    } else {
        m.tests.iter().any(test)
    }
}

fn eval_keyword(k: &KeywordNode, ev: &EventView) -> bool {
    let test = |g: &Vec<StrTest>| {
        ev.strings.iter().any(|l| match l {
            Leaf::Str(s) => g.iter().any(|t| t.is_match(s)),
            _ => false,
        })
    };
    if k.all {
        k.tests.iter().all(test)
    } else {
        k.tests.iter().any(test)
    }
}

/// Evaluate a node on one event.
pub fn eval(n: &Node, ev: &EventView) -> bool {
    match n {
        Node::And(items) => items.iter().all(|i| eval(i, ev)),
        Node::Or(items) => items.iter().any(|i| eval(i, ev)),
        Node::Not(inner) => !eval(inner, ev),
        Node::Const(b) => *b,
        Node::Match(m) => eval_match(m, ev),
        Node::Exists(f) => ev.values(*f).any(|(l, _)| !matches!(l, Leaf::Null)),
        Node::Keyword(k) => eval_keyword(k, ev),
        Node::Compare(c) => {
            let (l, op, r, case) = c.as_ref();
            let lv = scalar::eval(l, ev);
            let rv = scalar::eval(r, ev);
            scalar::compare_any(&lv, *op, &rv, *case)
        }
        Node::Truthy(s) => scalar::eval(s, ev).truthy(),
    }
}

/// Whether a value list holds a missing/null marker only (for tests).
pub fn is_null(d: &Dyn) -> bool {
    matches!(d, Dyn::Null)
}
