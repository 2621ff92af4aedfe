//! A boolean filter as Sigma detection: named selections and a condition.
//! A top-level AND of field matches is one selection map; an OR of values on
//! one field is a value list; an OR of maps is a list of maps; anything else
//! is combined in the condition (`and`, `or`, `not`).

use super::mapping::{Logsource, Tables, Transform};
use super::values::{self, ValueIssue};
use super::yaml::Node;
use crate::diag::{codes, Diagnostic};
use crate::ir::{
    ArrayMode, Case, Caveat, CmpOp, Compare, Expr, ExprKind, FieldRef, Keyword, Match, MatchKind,
    Part, Pattern, Quantifier, Scalar, Value,
};
use crate::span::Span;

/// One `field|modifiers: values` entry.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    field: Option<String>,
    mods: Vec<&'static str>,
    values: Vec<Node>,
}

impl Item {
    fn key(&self) -> String {
        let mut k = self.field.clone().unwrap_or_default();
        for m in &self.mods {
            k.push('|');
            k.push_str(m);
        }
        k
    }
    fn node(&self) -> Node {
        Node::one_or_list(self.values.clone())
    }
}

/// What a sub-expression becomes before it is named.
enum Frag {
    /// An AND of items (one map).
    Map(Vec<Item>),
    /// An OR of maps (a list of maps).
    Alts(Vec<Vec<Item>>),
    /// A condition over selections already named.
    Cond(Cond),
}

#[derive(Debug, Clone)]
enum Cond {
    Sel(String),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

fn show(c: &Cond, parent: u8) -> String {
    // precedence: or 1, and 2, not 3
    let (s, p) = match c {
        Cond::Sel(n) => (n.clone(), 4),
        Cond::Or(xs) => (
            xs.iter()
                .map(|x| show(x, 1))
                .collect::<Vec<_>>()
                .join(" or "),
            1,
        ),
        Cond::And(xs) => (
            xs.iter()
                .map(|x| show(x, 2))
                .collect::<Vec<_>>()
                .join(" and "),
            2,
        ),
        Cond::Not(x) => (format!("not {}", show(x, 3)), 3),
    };
    if p < parent {
        format!("({s})")
    } else {
        s
    }
}

/// The detection of one rule: selections in order, and the condition.
pub struct Detection {
    pub selections: Vec<(String, Node)>,
    pub condition: String,
}

pub struct Ctx<'a> {
    pub tables: &'a Tables,
    pub logsource: &'a Logsource,
    pub caveats: Vec<Caveat>,
    pub refusals: Vec<Diagnostic>,
    selections: Vec<(String, Node)>,
}

impl<'a> Ctx<'a> {
    pub fn new(tables: &'a Tables, logsource: &'a Logsource) -> Ctx<'a> {
        Ctx {
            tables,
            logsource,
            caveats: Vec::new(),
            refusals: Vec::new(),
            selections: Vec::new(),
        }
    }

    pub fn caveat(&mut self, code: &str, message: String, span: Option<Span>) {
        super::add_caveat(&mut self.caveats, code, message, span);
    }

    pub fn refuse(&mut self, message: String, span: Span, label: &str) {
        self.refusals.push(
            Diagnostic::error(codes::REFUSED, message)
                .at(span)
                .label(label.to_string()),
        );
    }

    /// The Sigma name of a field (recording a caveat when it has none).
    pub fn field(&mut self, f: &FieldRef) -> (String, Option<Transform>) {
        if f.name_pattern.is_some() {
            self.refuse(
                format!("Sigma has no wildcard field names (`{}`)", f.name),
                f.span,
                "a pattern over field names",
            );
        }
        let m = self.tables.field(f, self.logsource);
        if !m.known {
            self.caveat(
                "sigma-unmapped-field",
                format!("`{}` has no Sigma taxonomy name; kept as written", f.name),
                Some(f.span),
            );
        }
        (m.name, m.transform)
    }

    /// Convert a whole filter.
    pub fn detection(&mut self, e: &Expr) -> Option<Detection> {
        let e = simplify(e.clone())?;
        let frag = self.frag(&e, false);
        let cond = self.cond_of(frag, false);
        Some(Detection {
            selections: std::mem::take(&mut self.selections),
            condition: show(&cond, 0),
        })
    }

    fn register(&mut self, node: Node, negated: bool, keywords: bool) -> Cond {
        let base = if keywords {
            "keywords"
        } else if negated {
            "filter"
        } else {
            "selection"
        };
        let n = self
            .selections
            .iter()
            .filter(|(k, _)| k == base || k.starts_with(&format!("{base}_")))
            .count();
        let name = if n == 0 {
            base.to_string()
        } else {
            format!("{base}_{}", n + 1)
        };
        self.selections.push((name.clone(), node));
        Cond::Sel(name)
    }

    fn cond_of(&mut self, f: Frag, negated: bool) -> Cond {
        match f {
            Frag::Map(items) => {
                let node = map_node(&items);
                self.register(node, negated, false)
            }
            Frag::Alts(alts) => {
                let node = Node::one_or_list(alts.iter().map(|a| map_node(a)).collect());
                self.register(node, negated, false)
            }
            Frag::Cond(c) => c,
        }
    }

    fn frag(&mut self, e: &Expr, neg: bool) -> Frag {
        match &e.kind {
            ExprKind::And(items) => {
                let mut maps: Vec<Vec<Item>> = vec![Vec::new()];
                let mut conds = Vec::new();
                for it in items {
                    match self.frag(it, neg) {
                        Frag::Map(xs) => {
                            for x in xs {
                                let key = x.key();
                                match maps.iter_mut().find(|m| !m.iter().any(|y| y.key() == key)) {
                                    Some(m) => m.push(x),
                                    None => maps.push(vec![x]),
                                }
                            }
                        }
                        f @ Frag::Alts(_) => conds.push(self.cond_of(f, neg)),
                        Frag::Cond(c) => conds.push(c),
                    }
                }
                maps.retain(|m| !m.is_empty());
                if conds.is_empty() && maps.len() == 1 {
                    return Frag::Map(maps.pop().unwrap_or_default());
                }
                let mut all: Vec<Cond> = maps
                    .into_iter()
                    .map(|m| self.cond_of(Frag::Map(m), neg))
                    .collect();
                all.extend(conds);
                Frag::Cond(Cond::And(all))
            }
            ExprKind::Or(items) => {
                let frags: Vec<Frag> = items.iter().map(|it| self.frag(it, neg)).collect();
                if frags.iter().all(|f| !matches!(f, Frag::Cond(_))) {
                    let mut alts: Vec<Vec<Item>> = Vec::new();
                    for f in frags {
                        match f {
                            Frag::Map(m) => alts.push(m),
                            Frag::Alts(a) => alts.extend(a),
                            Frag::Cond(_) => {}
                        }
                    }
                    return alts_frag(merge_alts(alts));
                }
                let conds = frags.into_iter().map(|f| self.cond_of(f, neg)).collect();
                Frag::Cond(Cond::Or(conds))
            }
            ExprKind::Not(inner) => match &inner.kind {
                ExprKind::Exists(f) => {
                    let (name, _) = self.field(f);
                    Frag::Map(vec![Item {
                        field: Some(name),
                        mods: vec![],
                        values: vec![Node::raw("null")],
                    }])
                }
                ExprKind::Not(x) => self.frag(x, neg),
                _ => {
                    let f = self.frag(inner, !neg);
                    let c = self.cond_of(f, !neg);
                    Frag::Cond(Cond::Not(Box::new(c)))
                }
            },
            ExprKind::Match(m) => self.matches(m),
            ExprKind::Exists(f) => {
                let (name, _) = self.field(f);
                Frag::Map(vec![Item {
                    field: Some(name),
                    mods: vec!["exists"],
                    values: vec![Node::raw("true")],
                }])
            }
            ExprKind::Compare(c) => self.compare(c, e.span, neg),
            ExprKind::Keyword(k) => {
                let node = self.keyword(k, e.span);
                Frag::Cond(self.register(node, neg, true))
            }
            ExprKind::Scalar(s) => {
                let what = match s {
                    Scalar::Call { name, .. } => format!("the function `{name}`"),
                    _ => "a computed condition".to_string(),
                };
                self.refuse(
                    format!("Sigma cannot express {what} as a condition"),
                    e.span,
                    "no Sigma form",
                );
                Frag::Map(Vec::new())
            }
            ExprKind::Subsearch(_) => {
                self.refuse(
                    "Sigma cannot express a subsearch".into(),
                    e.span,
                    "subsearch",
                );
                Frag::Map(Vec::new())
            }
            ExprKind::Const(_) => {
                self.refuse(
                    "Sigma cannot express a constant condition here".into(),
                    e.span,
                    "a condition that is always true or always false",
                );
                Frag::Map(Vec::new())
            }
        }
    }

    fn matches(&mut self, m: &Match) -> Frag {
        let (name, transform) = self.field(&m.field);
        if m.kind == MatchKind::Term {
            self.caveat(
                "sigma-term-match",
                format!(
                    "`{}` is matched against terms of the value; Sigma matches the whole value",
                    m.field.name
                ),
                Some(m.span),
            );
        }
        if m.array == ArrayMode::ScalarOnly {
            self.caveat(
                "sigma-array-any",
                format!(
                    "`{}` never matches an array in the source; Sigma matches any element",
                    m.field.name
                ),
                Some(m.span),
            );
        }
        if m.values.is_empty() {
            self.refuse("a match without values".into(), m.span, "no values");
            return Frag::Map(Vec::new());
        }
        // Group values by modifiers, keeping first-seen order.
        let mut groups: Vec<Item> = Vec::new();
        for v in &m.values {
            let v = self.transform(v, transform, &m.field, m.span);
            let sv = match values::value(&v, m.case, &|f| f.to_string()) {
                Ok(sv) => sv,
                Err(issue) => {
                    self.issue(issue, m.span);
                    continue;
                }
            };
            let mut sv = sv;
            if let (Value::FieldRef(f), Node::Str(_)) = (&v, &sv.node) {
                let fr = FieldRef::new(f.clone(), m.field.scheme, m.field.span);
                sv.node = Node::Str(self.field(&fr).0);
            }
            if let Node::Str(text) = &sv.node {
                if text.chars().any(char::is_control) {
                    self.refuse(
                        format!("the value {text:?} holds a control character, which Sigma tooling rejects as a likely escaping mistake"),
                        m.span,
                        "a control character in this value",
                    );
                    continue;
                }
            }
            match groups.iter_mut().find(|g| g.mods == sv.mods) {
                Some(g) => {
                    // Case-insensitive values that differ only in case are one value.
                    let folded = |n: &Node| match n {
                        Node::Str(x) if !g.mods.contains(&"cased") && !g.mods.contains(&"re") => {
                            x.to_lowercase()
                        }
                        Node::Str(x) | Node::Raw(x) => x.clone(),
                        _ => String::new(),
                    };
                    let new = folded(&sv.node);
                    if !g.values.iter().any(|v| folded(v) == new) {
                        g.values.push(sv.node)
                    }
                }
                None => groups.push(Item {
                    field: Some(name.clone()),
                    mods: sv.mods,
                    values: vec![sv.node],
                }),
            }
        }
        match m.quantifier {
            Quantifier::All => {
                for g in &mut groups {
                    if g.values.len() > 1 {
                        g.mods.push("all");
                    }
                }
                Frag::Map(groups)
            }
            Quantifier::Any => alts_frag(groups.into_iter().map(|g| vec![g]).collect()),
        }
    }

    /// A value of a field that maps with a value transform.
    fn transform(&mut self, v: &Value, t: Option<Transform>, f: &FieldRef, span: Span) -> Value {
        let Some(t) = t else {
            return v.clone();
        };
        if t == Transform::Argument {
            self.caveat(
                "sigma-argument-as-commandline",
                format!(
                    "`{}` holds single arguments; Sigma has only the whole command line, so the value is \
                     written as a substring of it and also matches inside other arguments",
                    f.name
                ),
                Some(span),
            );
            return match v {
                Value::Str(p) => {
                    let mut parts = vec![Part::AnyRun];
                    parts.extend(p.0.iter().cloned());
                    parts.push(Part::AnyRun);
                    Value::Str(Pattern::from_parts(parts))
                }
                other => other.clone(),
            };
        }
        let sep = match (t, self.logsource.product.as_deref()) {
            (Transform::Extension, _) => ".",
            (_, Some("linux" | "macos")) => "/",
            (_, Some("windows")) => "\\",
            _ => {
                self.caveat(
                    "sigma-basename-path",
                    format!(
                        "`{}` is written as the end of a Windows path (the product is not known)",
                        f.name
                    ),
                    Some(span),
                );
                "\\"
            }
        };
        match v {
            Value::Str(p) => {
                if p.has_wildcards() && t == Transform::Basename {
                    self.caveat(
                        "sigma-basename-wildcard",
                        format!("a wildcard in `{}` may match across path separators once written against the full path", f.name),
                        Some(span),
                    );
                }
                let mut parts = vec![Part::AnyRun, Part::Lit(sep.to_string())];
                parts.extend(p.0.iter().cloned());
                Value::Str(Pattern::from_parts(parts))
            }
            Value::Null => Value::Null,
            other => {
                self.caveat(
                    "sigma-transform-value",
                    format!(
                        "a non-string value of `{}` is compared with the full path",
                        f.name
                    ),
                    Some(span),
                );
                other.clone()
            }
        }
    }

    fn issue(&mut self, issue: ValueIssue, span: Span) {
        match issue {
            ValueIssue::Refuse(msg) => self.refuse(msg, span, "no Sigma form"),
        }
    }

    fn compare(&mut self, c: &Compare, span: Span, neg: bool) -> Frag {
        let (field, op, lit) = match (&c.left, &c.right) {
            (Scalar::Field(f), Scalar::Lit(v, _)) => (f, c.op, v),
            (Scalar::Lit(v, _), Scalar::Field(f)) => (f, c.op.flipped(), v),
            (Scalar::Field(a), Scalar::Field(b)) if matches!(c.op, CmpOp::Eq | CmpOp::Ne) => {
                let (name, _) = self.field(a);
                let (other, _) = self.field(b);
                // pySigma rejects `fieldref|cased`: the spec leaves the case of a
                // field-to-field comparison to the back-end, so say so.
                let mods = vec!["fieldref"];
                if c.case == Case::Sensitive {
                    self.caveat(
                        "sigma-fieldref-case",
                        format!("Sigma's fieldref does not say whether `{name} == {other}` is case-sensitive; the source was"),
                        Some(span),
                    );
                }
                let item = Item {
                    field: Some(name),
                    mods,
                    values: vec![Node::Str(other)],
                };
                return self.negate_if(c.op == CmpOp::Ne, Frag::Map(vec![item]), neg);
            }
            _ => {
                self.refuse(
                    format!("Sigma cannot compare computed values (`{}`)", c.op.symbol()),
                    span,
                    "a comparison of expressions",
                );
                return Frag::Map(Vec::new());
            }
        };
        let (name, transform) = self.field(field);
        if transform.is_some() {
            self.caveat(
                "sigma-transform-value",
                format!("`{}` is compared as a full path", field.name),
                Some(span),
            );
        }
        let modifier = match op {
            CmpOp::Eq | CmpOp::Ne => None,
            CmpOp::Lt => Some("lt"),
            CmpOp::Le => Some("lte"),
            CmpOp::Gt => Some("gt"),
            CmpOp::Ge => Some("gte"),
        };
        let item = match (lit, modifier) {
            (Value::Num(n), m) => Item {
                field: Some(name),
                mods: m.into_iter().collect(),
                values: vec![Node::raw(n.text.clone())],
            },
            (v, None) => match values::value(v, c.case, &|f| f.to_string()) {
                Ok(sv) => Item {
                    field: Some(name),
                    mods: sv.mods,
                    values: vec![sv.node],
                },
                Err(i) => {
                    self.issue(i, span);
                    return Frag::Map(Vec::new());
                }
            },
            (_, Some(_)) => {
                self.refuse(
                    format!("Sigma compares only numbers with `{}`", c.op.symbol()),
                    span,
                    "an ordering of strings",
                );
                return Frag::Map(Vec::new());
            }
        };
        if op == CmpOp::Ne {
            // `f != v` holds only where `f` has a value.
            let exists = Item {
                field: item.field.clone(),
                mods: vec!["exists"],
                values: vec![Node::raw("true")],
            };
            let has = self.cond_of(Frag::Map(vec![exists]), neg);
            let not = self.negate_if(true, Frag::Map(vec![item]), neg);
            let Frag::Cond(not) = not else { return not };
            return Frag::Cond(Cond::And(vec![has, not]));
        }
        Frag::Map(vec![item])
    }

    fn negate_if(&mut self, ne: bool, f: Frag, neg: bool) -> Frag {
        if ne {
            let c = self.cond_of(f, !neg);
            Frag::Cond(Cond::Not(Box::new(c)))
        } else {
            f
        }
    }

    fn keyword(&mut self, k: &Keyword, span: Span) -> Node {
        if k.kind == MatchKind::Term {
            self.caveat(
                "sigma-keyword-term",
                "a term search over the event is written as a Sigma keyword search (backends differ in how they match keywords)".into(),
                Some(span),
            );
        }
        let mut vals = Vec::new();
        for v in &k.values {
            match v {
                Value::Str(p) => vals.push(Node::Str(values::wildcard_text(p))),
                Value::Num(n) => vals.push(Node::Str(n.text.clone())),
                _ => self.refuse(
                    "Sigma keywords are strings".into(),
                    span,
                    "a keyword that is not a string",
                ),
            }
        }
        let mut mods = Vec::new();
        if k.case == Case::Sensitive {
            mods.push("cased");
        }
        if k.quantifier == Quantifier::All && vals.len() > 1 {
            mods.push("all");
        }
        if mods.is_empty() {
            Node::List(vals)
        } else {
            let key: String = mods.iter().map(|m| format!("|{m}")).collect();
            Node::Map(vec![(key, Node::List(vals))])
        }
    }
}

fn map_node(items: &[Item]) -> Node {
    Node::Map(items.iter().map(|i| (i.key(), i.node())).collect())
}

fn alts_frag(mut alts: Vec<Vec<Item>>) -> Frag {
    if alts.len() == 1 {
        Frag::Map(alts.pop().unwrap_or_default())
    } else {
        Frag::Alts(alts)
    }
}

/// OR of single-item maps on the same key (without `|all`): one value list.
fn merge_alts(alts: Vec<Vec<Item>>) -> Vec<Vec<Item>> {
    let mut out: Vec<Vec<Item>> = Vec::new();
    for a in alts {
        // `null` (a missing field) stays its own selection: folded into a
        // value list it would compare equal to the string 'null'.
        let is_null = |i: &Item| {
            i.values
                .iter()
                .any(|v| matches!(v, Node::Raw(x) if x == "null"))
        };
        if let [item] = a.as_slice() {
            if !item.mods.contains(&"all") && !is_null(item) {
                if let Some(prev) = out.iter_mut().find_map(|o| match o.as_mut_slice() {
                    [p] if p.key() == item.key() && !p.mods.contains(&"all") && !is_null(p) => {
                        Some(p)
                    }
                    _ => None,
                }) {
                    let cased = prev.mods.contains(&"cased") || prev.mods.contains(&"re");
                    // a quoted string and a plain scalar (number, bool) never fold together
                    let fold = |n: &Node| match n {
                        Node::Str(x) if !cased => format!("s:{}", x.to_lowercase()),
                        Node::Str(x) => format!("s:{x}"),
                        Node::Raw(x) => format!("r:{x}"),
                        _ => String::new(),
                    };
                    for v in &item.values {
                        if !prev.values.iter().any(|p| fold(p) == fold(v)) {
                            prev.values.push(v.clone());
                        }
                    }
                    continue;
                }
            }
        }
        out.push(a);
    }
    out
}

/// Remove constants: `true` in an AND and `false` in an OR drop out. `None`
/// when the whole filter is constant.
fn simplify(e: Expr) -> Option<Expr> {
    match e.kind {
        ExprKind::And(items) => {
            let mut kept = Vec::new();
            for it in items {
                match simplify(it) {
                    None => {}
                    Some(Expr {
                        kind: ExprKind::Const(false),
                        span,
                    }) => {
                        return Some(Expr::new(ExprKind::Const(false), span));
                    }
                    Some(x) => kept.push(x),
                }
            }
            (!kept.is_empty()).then(|| Expr::and(kept, e.span))
        }
        ExprKind::Or(items) => {
            let mut kept = Vec::new();
            for it in items {
                match simplify(it) {
                    None => return None,
                    Some(Expr {
                        kind: ExprKind::Const(false),
                        ..
                    }) => {}
                    Some(x) => kept.push(x),
                }
            }
            if kept.is_empty() {
                Some(Expr::new(ExprKind::Const(false), e.span))
            } else {
                Some(Expr::or(kept, e.span))
            }
        }
        ExprKind::Const(true) => None,
        kind => Some(Expr { kind, span: e.span }),
    }
}
