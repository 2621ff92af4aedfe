//! `siemc convert --to rust`: a standalone Rust module for a rule set,
//! depending only on `serde_json` and `regex`. Each stateless rule becomes
//! `pub fn rule_<id>(event: &serde_json::Value) -> bool`; `RULES` lists them
//! with their metadata and `matching(event)` runs them all over one event.
//!
//! The code is generated from what the in-process matcher compiles (its
//! predicate tree, string tests, regex sources and field routes), so the
//! semantics are the matcher's by construction: case, wildcards, regexes as
//! the matcher translates them, CIDR, numbers vs numeric strings, arrays
//! (any element), nested and dotted keys, evtx/winlogbeat/CIM aliases.
//! Stateful rules (sequences, thresholds, aggregations, correlations) and
//! function calls are refused by name (E0501).

use super::matcher::fields::FieldTable;
use super::matcher::pred::{self, Ctx, KeywordNode, MatchNode, Node, ValTest};
use super::matcher::scalar::{CScalar, Dyn};
use super::matcher::strmatch::StrTest;
use super::matcher::{full_filter, output_only, route};
use super::{Options, Output, Status};
use crate::diag::{codes, Diagnostic};
use crate::ir::{ArithOp, CmpOp, Expr, ExprKind, FieldRef, FieldScheme, Rule, Scalar, StageKind};
use crate::span::Span;
use std::collections::HashSet;
use std::fmt::Write;

const RUNTIME: &str = include_str!("runtime.rs");

/// One rule alone as a module (the per-rule contract of every back-end).
pub fn convert(rule: &Rule, _opts: &Options) -> Output {
    let mut g = Gen::default();
    match g.add(rule) {
        Ok(()) => Output {
            text: g.finish(),
            status: Status::Exact,
            caveats: Vec::new(),
            diagnostics: Vec::new(),
        },
        Err(d) => Output::refused(vec![d]),
    }
}

/// One module for a rule set; rules that cannot be generated are refused
/// (returned with their index and diagnostic) and left out.
pub fn module(rules: &[&Rule]) -> (String, Vec<(usize, Diagnostic)>) {
    let mut g = Gen::default();
    let mut refused = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        if let Err(d) = g.add(r) {
            refused.push((i, d));
        }
    }
    (g.finish(), refused)
}

fn refuse(span: Span, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(codes::REFUSED, msg).at(span)
}

/// The first function call in an expression (the generated module has no
/// function library).
fn first_call(e: &Expr) -> Option<(&str, Span)> {
    fn scalar(s: &Scalar) -> Option<(&str, Span)> {
        match s {
            Scalar::Call { name, span, .. } => Some((name, *span)),
            Scalar::Arith { left, right, .. } => scalar(left).or_else(|| scalar(right)),
            Scalar::Neg(i, _) => scalar(i),
            Scalar::Cond(e) => first_call(e),
            Scalar::List(items, _) => items.iter().find_map(scalar),
            Scalar::Field(_) | Scalar::Lit(..) | Scalar::Duration(..) => None,
        }
    }
    match &e.kind {
        ExprKind::And(items) | ExprKind::Or(items) => items.iter().find_map(first_call),
        ExprKind::Not(i) => first_call(i),
        ExprKind::Compare(c) => scalar(&c.left).or_else(|| scalar(&c.right)),
        ExprKind::Scalar(s) => scalar(s),
        _ => None,
    }
}

fn stage_name(k: &StageKind) -> String {
    match serde_json::to_value(k) {
        Ok(serde_json::Value::Object(m)) => m.keys().next().cloned().unwrap_or_default(),
        Ok(serde_json::Value::String(s)) => s,
        _ => "stage".into(),
    }
}

struct Gen {
    fields: FieldTable,
    /// Per rule: (fn name, id, name, severity).
    rules: Vec<(String, String, String, Option<String>)>,
    names: HashSet<String>,
    /// Static data and functions of the rules.
    body: String,
    regexes: Vec<String>,
    statics: usize,
}

impl Default for Gen {
    fn default() -> Gen {
        Gen {
            fields: FieldTable::new(),
            rules: Vec::new(),
            names: HashSet::new(),
            body: String::new(),
            regexes: Vec::new(),
            statics: 0,
        }
    }
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

fn f64_lit(v: f64) -> String {
    format!("f64::from_bits({:#x})", v.to_bits())
}

impl Gen {
    fn add(&mut self, rule: &Rule) -> Result<(), Diagnostic> {
        let Some(q) = &rule.query else {
            return Err(refuse(
                rule.span,
                "the rule has no query (e.g. a machine-learning rule)",
            ));
        };
        if let Some(s) = q.stages.iter().find(|s| !output_only(&s.kind)) {
            let stateful = matches!(
                s.kind,
                StageKind::Sequence(_)
                    | StageKind::Sample(_)
                    | StageKind::Threshold(_)
                    | StageKind::NewTerms(_)
                    | StageKind::Aggregate(_)
                    | StageKind::Correlation(_)
                    | StageKind::Dedup { .. }
                    | StageKind::Limit { .. }
                    | StageKind::Join(_)
            );
            let name = stage_name(&s.kind);
            let msg = if stateful {
                format!("the `{name}` stage keeps state across events: a generated `matches(event)` function sees one event")
            } else {
                format!("the `{name}` pipeline stage has no equivalent in a generated `matches(event)` function")
            };
            return Err(refuse(s.span, msg).note(
                "run it with `siemc match`, which runs pipelines and keeps state across events",
            ));
        }
        let filter = full_filter(q);
        if let Some((name, span)) = first_call(&filter) {
            return Err(refuse(
                span,
                format!("the function `{name}` has no implementation in the generated Rust module"),
            )
            .note("run it with `siemc match`"));
        }
        // Compile on a copy of the field table so a refusal leaves no slots.
        let mut fields = self.fields.clone();
        let node = {
            let mut cx = Ctx {
                fields: &mut fields,
                language: q.language,
            };
            pred::compile(&filter, &mut cx)
                .map_err(|r| refuse(r.span, format!("the matcher refuses: {}", r.message)))?
        };
        let mark = (self.body.len(), self.regexes.len(), self.statics);
        let code = match self.node(&node) {
            Ok(c) => c,
            Err(m) => {
                self.body.truncate(mark.0);
                self.regexes.truncate(mark.1);
                self.statics = mark.2;
                return Err(refuse(q.span, m));
            }
        };
        // Route by logsource as the matcher does (matcher/route.rs).
        let ids = q
            .source
            .logsource
            .as_ref()
            .and_then(|l| l.category.as_deref())
            .and_then(route::sysmon_ids);
        let code = match ids {
            Some(ids) => {
                let mut id =
                    |n: &str| fields.intern(&FieldRef::new(n, FieldScheme::Sigma, Span::default()));
                let (ch, pv, eid) = (id("Channel"), id("Provider_Name"), id("EventID"));
                format!("sysmon_admits(ev, {ch}, {pv}, {eid}, &{ids:?}) && ({code})")
            }
            None => code,
        };
        self.fields = fields;
        let fname = self.fn_name(&rule.meta.id, &rule.meta.name);
        let _ = write!(
            self.body,
            "\n/// {}\npub fn {fname}(event: &Value) -> bool {{\n    eval_{fname}(&Event::new(event))\n}}\n\nfn eval_{fname}(ev: &Event) -> bool {{\n    {code}\n}}\n",
            rule.meta.name.replace('\n', " ")
        );
        self.rules.push((
            fname,
            rule.meta.id.clone(),
            rule.meta.name.clone(),
            rule.meta.severity.map(|s| s.as_str().to_string()),
        ));
        Ok(())
    }

    fn fn_name(&mut self, id: &str, name: &str) -> String {
        let base = if id.is_empty() { name } else { id };
        let s = format!("rule_{}", super::sigma::slug(base));
        let mut out = s.clone();
        let mut n = 2;
        while !self.names.insert(out.clone()) {
            out = format!("{s}_{n}");
            n += 1;
        }
        out
    }

    fn next_static(&mut self, prefix: &str) -> String {
        self.statics += 1;
        format!("{prefix}{}", self.statics)
    }

    fn node(&mut self, n: &Node) -> Result<String, String> {
        Ok(match n {
            Node::And(items) if items.is_empty() => "true".into(),
            Node::Or(items) if items.is_empty() => "false".into(),
            Node::And(items) | Node::Or(items) => {
                let op = if matches!(n, Node::And(_)) {
                    " && "
                } else {
                    " || "
                };
                let parts = items
                    .iter()
                    .map(|i| self.node(i))
                    .collect::<Result<Vec<_>, _>>()?;
                format!("({})", parts.join(op))
            }
            Node::Not(i) => format!("!{}", self.node(i)?),
            Node::Const(b) => b.to_string(),
            Node::Match(m) => self.match_node(m)?,
            Node::Exists(f) => format!("ev.exists({f})"),
            Node::Keyword(k) => self.keyword(k)?,
            Node::Compare(c) => {
                let (l, op, r, case) = c.as_ref();
                let op = match op {
                    CmpOp::Eq => '=',
                    CmpOp::Ne => '!',
                    CmpOp::Lt => '<',
                    CmpOp::Le => 'l',
                    CmpOp::Gt => '>',
                    CmpOp::Ge => 'g',
                };
                format!(
                    "compare(&{}, {op:?}, &{}, {})",
                    self.scalar(l)?,
                    self.scalar(r)?,
                    *case == crate::ir::Case::Insensitive
                )
            }
            Node::Truthy(s) => format!("{}.truthy()", self.scalar(s)?),
        })
    }

    fn scalar(&mut self, s: &CScalar) -> Result<String, String> {
        Ok(match s {
            CScalar::Field(id) => format!("field(ev, {id})"),
            CScalar::Lit(d) => dyn_lit(d),
            CScalar::Call { name, .. } => {
                return Err(format!(
                    "the function `{name}` has no implementation in the generated Rust module"
                ))
            }
            CScalar::Arith(op, l, r) => {
                let op = match op {
                    ArithOp::Add => '+',
                    ArithOp::Sub => '-',
                    ArithOp::Mul => '*',
                    ArithOp::Div => '/',
                    ArithOp::Mod => '%',
                    ArithOp::Concat => 'c',
                };
                format!("arith({op:?}, &{}, &{})", self.scalar(l)?, self.scalar(r)?)
            }
            CScalar::Neg(i) => format!("neg(&{})", self.scalar(i)?),
            CScalar::Cond(n) => format!("Dyn::Bool({})", self.node(n)?),
            CScalar::List(items) => {
                let parts = items
                    .iter()
                    .map(|i| self.scalar(i))
                    .collect::<Result<Vec<_>, _>>()?;
                format!("Dyn::List(vec![{}])", parts.join(", "))
            }
            CScalar::Millis(ms) => format!("Dyn::Num({ms}i64 as f64)"),
        })
    }

    fn str_tests(&mut self, tests: &[StrTest]) -> String {
        let parts: Vec<String> = tests
            .iter()
            .map(|t| match t {
                StrTest::Eq { set, fold } => {
                    let mut v: Vec<&String> = set.iter().collect();
                    v.sort();
                    let items: Vec<String> = v.iter().map(|s| lit(s)).collect();
                    format!("S::Eq(&[{}], {fold})", items.join(", "))
                }
                StrTest::Prefix { needle, fold } => format!("S::Prefix({}, {fold})", lit(needle)),
                StrTest::Suffix { needle, fold } => format!("S::Suffix({}, {fold})", lit(needle)),
                StrTest::Contains {
                    needles,
                    fold,
                    fold_unicode,
                    ..
                } => {
                    let items: Vec<String> = needles.iter().map(|s| lit(s)).collect();
                    format!(
                        "S::Contains(&[{}], {fold}, {fold_unicode})",
                        items.join(", ")
                    )
                }
                StrTest::Regex(r) => {
                    self.regexes.push(r.as_str().to_string());
                    format!("S::Rx({})", self.regexes.len() - 1)
                }
                StrTest::Always => "S::Always".into(),
            })
            .collect();
        format!("&[{}]", parts.join(", "))
    }

    fn match_node(&mut self, m: &MatchNode) -> Result<String, String> {
        let mut tests = Vec::new();
        for t in &m.tests {
            tests.push(match t {
                ValTest::Str(s) => format!("V::Str({})", self.str_tests(s)),
                ValTest::Num { value, text, fold } => {
                    format!("V::Num({}, {}, {fold})", f64_lit(*value), lit(text))
                }
                ValTest::Bool(b) => format!("V::Bool({b})"),
                ValTest::Cidr(c) => {
                    let (addr, bits) = c.parts();
                    let (v4, a) = match addr {
                        std::net::IpAddr::V4(a) => (true, u128::from(u32::from(a))),
                        std::net::IpAddr::V6(a) => (false, u128::from(a)),
                    };
                    format!("V::Cidr(Cidr {{ v4: {v4}, addr: {a:#x}, bits: {bits} }})")
                }
                ValTest::FieldRef { other, fold } => format!("V::FieldRef({other}, {fold})"),
            });
        }
        let name = self.next_static("M");
        let _ = writeln!(
            self.body,
            "static {name}: M = M {{ field: {}, all: {}, scalar_only: {}, null_ok: {}, tests: &[{}] }};",
            m.field,
            m.all,
            m.scalar_only,
            m.null_ok,
            tests.join(", ")
        );
        Ok(format!("m(ev, &{name})"))
    }

    fn keyword(&mut self, k: &KeywordNode) -> Result<String, String> {
        let groups: Vec<String> = k.tests.iter().map(|g| self.str_tests(g)).collect();
        let name = self.next_static("K");
        let _ = writeln!(
            self.body,
            "static {name}: K = K {{ all: {}, tests: &[{}] }};",
            k.all,
            groups.join(", ")
        );
        Ok(format!("kw(ev, &{name})"))
    }

    fn finish(self) -> String {
        let mut out = String::new();
        out.push_str(
            "//! Generated by `siemc convert --to rust`. Do not edit.\n\
             //! Depends on `serde_json` and `regex`.\n\n\
             #![allow(dead_code, unused_parens, clippy::all)]\n\n\
             use regex::Regex;\nuse serde_json::Value;\nuse std::borrow::Cow;\nuse std::sync::OnceLock;\n\n",
        );
        let mut routes: Vec<(&str, &[u32])> = self.fields.routes().collect();
        routes.sort();
        let _ = writeln!(out, "const FIELD_COUNT: usize = {};", self.fields.len());
        let _ = writeln!(
            out,
            "const WANT_STRINGS: bool = {};",
            self.fields.want_strings
        );
        out.push_str("/// Event paths and the field slots they feed.\nstatic ROUTES: &[(&str, &[u32])] = &[\n");
        for (p, ids) in routes {
            let ids: Vec<String> = ids.iter().map(u32::to_string).collect();
            let _ = writeln!(out, "    ({}, &[{}]),", lit(p), ids.join(", "));
        }
        out.push_str("];\n\nstatic RX_SRC: &[&str] = &[\n");
        for r in &self.regexes {
            let _ = writeln!(out, "    {},", lit(r));
        }
        let _ = writeln!(
            out,
            "];\nstatic RX: [OnceLock<Regex>; {}] = [const {{ OnceLock::new() }}; {}];\n",
            self.regexes.len(),
            self.regexes.len()
        );
        out.push_str("/// The rules of this module.\npub static RULES: &[RuleInfo] = &[\n");
        for (f, id, name, sev) in &self.rules {
            let sev = sev
                .as_deref()
                .map_or("None".into(), |s| format!("Some({})", lit(s)));
            let _ = writeln!(
                out,
                "    RuleInfo {{ id: {}, name: {}, severity: {sev}, matches: {f} }},",
                lit(id),
                lit(name)
            );
        }
        out.push_str("];\n\nstatic EVALS: &[fn(&Event) -> bool] = &[\n");
        for (f, ..) in &self.rules {
            let _ = writeln!(out, "    eval_{f},");
        }
        out.push_str("];\n");
        out.push_str(&self.body);
        out.push('\n');
        out.push_str(RUNTIME);
        out
    }
}

fn dyn_lit(d: &Dyn) -> String {
    match d {
        Dyn::Null => "Dyn::Null".into(),
        Dyn::Bool(b) => format!("Dyn::Bool({b})"),
        Dyn::Num(n) => format!("Dyn::Num({})", f64_lit(*n)),
        Dyn::Str(s) => format!("Dyn::Str({}.to_string())", lit(s)),
        Dyn::List(items) => {
            let parts: Vec<String> = items.iter().map(dyn_lit).collect();
            format!("Dyn::List(vec![{}])", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests;
