//! A readable rendering of the IR (`siemc explain`): every semantic field is
//! shown, so the text is also what IR snapshots record.

use super::*;
use crate::span::SourceMap;
use std::fmt::Write;

/// Render a rule; positions as `@line:col` when a source map is given.
pub fn explain(rule: &Rule, sm: Option<&SourceMap>) -> String {
    let mut p = Printer {
        out: String::new(),
        sm,
    };
    p.rule(rule);
    p.out
}

struct Printer<'a> {
    out: String,
    sm: Option<&'a SourceMap>,
}

fn q(s: &str) -> String {
    format!("{s:?}")
}

pub fn value(v: &Value) -> String {
    match v {
        // One layer of escaping only: the wildcard syntax's own (`\*`, `\?`, `\\`).
        Value::Str(p) => format!("\"{}\"", p.to_wildcard_string().replace('"', "\\\"")),
        Value::Regex(r) => {
            let mut flags = String::new();
            if r.multiline {
                flags.push('m');
            }
            if r.dot_all {
                flags.push('s');
            }
            let flavor = match r.flavor {
                RegexFlavor::Lucene => "lucene",
                RegexFlavor::Pcre => "pcre",
                RegexFlavor::Re2 => "re2",
            };
            format!(
                "/{}/{flags} ({flavor}, {})",
                r.pattern,
                if r.anchored { "anchored" } else { "search" }
            )
        }
        Value::Num(n) => n.text.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Cidr(c) => format!("cidr({c})"),
        Value::FieldRef(f) => format!("field({f})"),
    }
}

fn case(c: Case) -> &'static str {
    match c {
        Case::Sensitive => "cased",
        Case::Insensitive => "nocase",
    }
}

impl Printer<'_> {
    fn at(&self, sp: crate::span::Span) -> String {
        match self.sm {
            Some(sm) if !sp.is_dummy() => {
                let p = sm.resolve(sp);
                format!(" @{}:{}", p.line, p.column)
            }
            _ => String::new(),
        }
    }

    fn line(&mut self, indent: usize, s: &str) {
        let _ = writeln!(self.out, "{}{}", "  ".repeat(indent), s);
    }

    fn rule(&mut self, r: &Rule) {
        let m = &r.meta;
        self.line(0, &format!("rule {} {}", m.id, q(&m.name)));
        let mut facts = vec![format!("format: {}", m.format.as_str())];
        if let Some(t) = &m.rule_type {
            facts.push(format!("type: {t}"));
        }
        if let Some(s) = m.severity {
            facts.push(format!("severity: {}", s.as_str()));
        }
        if let Some(r) = m.risk_score {
            facts.push(format!("risk: {r}"));
        }
        if let Some(s) = &m.status {
            facts.push(format!("status: {s}"));
        }
        self.line(1, &facts.join("  "));
        if !m.attack.is_empty() {
            let ids: Vec<String> = m.attack.iter().map(|a| a.id.clone()).collect();
            self.line(1, &format!("attack: {}", ids.join(" ")));
        }
        for (k, v) in &m.settings {
            self.line(1, &format!("{k}: {v}"));
        }
        for c in &r.caveats {
            let at = c.span.map(|s| self.at(s)).unwrap_or_default();
            self.line(1, &format!("caveat[{}]: {}{at}", c.code, c.message));
        }
        match &r.query {
            None => self.line(0, "query: none"),
            Some(qr) => self.query(qr),
        }
    }

    fn query(&mut self, qr: &Query) {
        self.line(
            0,
            &format!("query ({}){}", qr.language.as_str(), self.at(qr.span)),
        );
        let s = &qr.source;
        let mut src = Vec::new();
        if !s.indexes.is_empty() {
            src.push(format!("indexes [{}]", s.indexes.join(", ")));
        }
        if !s.categories.is_empty() {
            src.push(format!("categories [{}]", s.categories.join(", ")));
        }
        if let Some(l) = &s.logsource {
            let parts: Vec<String> = [
                ("category", &l.category),
                ("product", &l.product),
                ("service", &l.service),
            ]
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
            .collect();
            src.push(format!("logsource {}", parts.join(" ")));
        }
        if let Some(d) = &s.datamodel {
            let opts: Vec<String> = d.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
            src.push(format!(
                "datamodel {}{}{}",
                d.model,
                d.dataset
                    .as_ref()
                    .map(|x| format!(".{x}"))
                    .unwrap_or_default(),
                if opts.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", opts.join(" "))
                }
            ));
        }
        if !s.sourcetypes.is_empty() {
            src.push(format!("sourcetypes [{}]", s.sourcetypes.join(", ")));
        }
        if !s.sources.is_empty() {
            src.push(format!("sources [{}]", s.sources.join(", ")));
        }
        if let Some(c) = &s.category_field {
            src.push(format!("category field {c}"));
        }
        if let Some(t) = &s.time_range {
            src.push(format!(
                "time {}..{}",
                t.earliest.as_deref().unwrap_or(""),
                t.latest.as_deref().unwrap_or("")
            ));
        }
        self.line(
            1,
            &format!(
                "source: {}",
                if src.is_empty() {
                    "any".to_string()
                } else {
                    src.join("; ")
                }
            ),
        );
        match &qr.filter {
            None => self.line(1, "filter: all events"),
            Some(e) => {
                self.line(1, "filter:");
                self.expr(2, e);
            }
        }
        for st in &qr.stages {
            self.stage(1, st);
        }
    }

    fn field(&self, f: &FieldRef) -> String {
        let scheme = match f.scheme {
            FieldScheme::Ecs => "ecs",
            FieldScheme::Cim => "cim",
            FieldScheme::Sigma => "sigma",
            FieldScheme::Raw => "raw",
            FieldScheme::Computed => "computed",
        };
        format!("{}{}<{scheme}>", if f.optional { "?" } else { "" }, f.name)
    }

    fn values(vs: &[Value]) -> String {
        vs.iter().map(value).collect::<Vec<_>>().join(", ")
    }

    fn expr(&mut self, i: usize, e: &Expr) {
        let at = self.at(e.span);
        match &e.kind {
            ExprKind::And(items) | ExprKind::Or(items) => {
                let op = if matches!(e.kind, ExprKind::And(_)) {
                    "and"
                } else {
                    "or"
                };
                self.line(i, &format!("{op}{at}"));
                items.iter().for_each(|x| self.expr(i + 1, x));
            }
            ExprKind::Not(inner) => {
                self.line(i, &format!("not{at}"));
                self.expr(i + 1, inner);
            }
            ExprKind::Match(m) => {
                let quant = match m.quantifier {
                    Quantifier::Any => "any of",
                    Quantifier::All => "all of",
                };
                let kind = match m.kind {
                    MatchKind::Whole => "whole",
                    MatchKind::Term => "term",
                };
                let arr = match m.array {
                    ArrayMode::Any => "array:any",
                    ArrayMode::ScalarOnly => "array:scalar-only",
                };
                let s = format!(
                    "match {} {quant} [{}] ({}, {kind}, {arr}){at}",
                    self.field(&m.field),
                    Self::values(&m.values),
                    case(m.case)
                );
                self.line(i, &s);
            }
            ExprKind::Compare(c) => {
                let s = format!(
                    "compare {} {} {} ({}){at}",
                    self.scalar(&c.left),
                    c.op.symbol(),
                    self.scalar(&c.right),
                    case(c.case)
                );
                self.line(i, &s);
            }
            ExprKind::Exists(f) => {
                let s = format!("exists {}{at}", self.field(f));
                self.line(i, &s);
            }
            ExprKind::Keyword(k) => {
                let quant = if k.quantifier == Quantifier::All {
                    "all of"
                } else {
                    "any of"
                };
                let kind = if k.kind == MatchKind::Term {
                    "term"
                } else {
                    "whole"
                };
                let s = format!(
                    "keyword {quant} [{}] ({}, {kind}){at}",
                    Self::values(&k.values),
                    case(k.case)
                );
                self.line(i, &s);
            }
            ExprKind::Scalar(s) => {
                let s = format!("test {}{at}", self.scalar(s));
                self.line(i, &s);
            }
            ExprKind::Const(b) => self.line(i, &format!("{b}{at}")),
            ExprKind::Subsearch(q) => {
                self.line(i, &format!("subsearch{at}"));
                self.query(q);
            }
        }
    }

    fn scalar(&self, s: &Scalar) -> String {
        match s {
            Scalar::Field(f) => self.field(f),
            Scalar::Lit(v, _) => value(v),
            Scalar::Call {
                name,
                args,
                insensitive,
                ..
            } => {
                let a: Vec<String> = args.iter().map(|x| self.scalar(x)).collect();
                format!(
                    "{name}{}({})",
                    if *insensitive { "~" } else { "" },
                    a.join(", ")
                )
            }
            Scalar::Arith {
                op, left, right, ..
            } => {
                let o = match op {
                    ArithOp::Add => "+",
                    ArithOp::Sub => "-",
                    ArithOp::Mul => "*",
                    ArithOp::Div => "/",
                    ArithOp::Mod => "%",
                    ArithOp::Concat => ".",
                };
                format!("({} {o} {})", self.scalar(left), self.scalar(right))
            }
            Scalar::Neg(x, _) => format!("-{}", self.scalar(x)),
            Scalar::Cond(e) => {
                let mut p = Printer {
                    out: String::new(),
                    sm: None,
                };
                p.expr(0, e);
                format!("cond({})", p.out.trim().replace('\n', "; "))
            }
            Scalar::List(items, _) => {
                format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|x| self.scalar(x))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            Scalar::Duration(d, _) => format!("duration({})", d.text),
        }
    }

    fn step(&mut self, i: usize, label: &str, s: &SeqStep) {
        let mut head = format!(
            "{label} [{}]",
            if s.categories.is_empty() {
                "any".into()
            } else {
                s.categories.join(", ")
            }
        );
        if !s.by.is_empty() {
            head += &format!(
                " by {}",
                s.by.iter()
                    .map(|f| self.field(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if s.runs > 1 {
            head += &format!(" runs={}", s.runs);
        }
        if s.missing {
            head += " missing";
        }
        head += &self.at(s.span);
        self.line(i, &head);
        if let Some(e) = &s.filter {
            self.expr(i + 1, e);
        }
    }

    fn stage(&mut self, i: usize, st: &Stage) {
        let at = self.at(st.span);
        let fields = |p: &Self, fs: &[FieldRef]| {
            fs.iter().map(|f| p.field(f)).collect::<Vec<_>>().join(", ")
        };
        match &st.kind {
            StageKind::Aggregate(a) => {
                let mode = match a.mode {
                    AggMode::Collapse => "stats",
                    AggMode::Annotate => "eventstats",
                    AggMode::Running => "streamstats",
                };
                let aggs: Vec<String> = a
                    .aggs
                    .iter()
                    .map(|g| {
                        let arg = g.arg.as_ref().map(|x| self.scalar(x)).unwrap_or_default();
                        format!("{} = {:?}({arg})", g.alias, g.func)
                    })
                    .collect();
                let span = a
                    .span
                    .as_ref()
                    .map(|d| format!(" span={}", d.text))
                    .unwrap_or_default();
                let s = format!(
                    "| aggregate ({mode}) {} by [{}]{span}{at}",
                    aggs.join(", "),
                    fields(self, &a.by)
                );
                self.line(i, &s);
            }
            StageKind::Eval(assigns) => {
                let s: Vec<String> = assigns
                    .iter()
                    .map(|a| format!("{} = {}", a.name, self.scalar(&a.value)))
                    .collect();
                self.line(i, &format!("| eval {}{at}", s.join(", ")));
            }
            StageKind::Where(e) => {
                self.line(i, &format!("| where{at}"));
                self.expr(i + 1, e);
            }
            StageKind::Rename(pairs) => {
                let s: Vec<String> = pairs.iter().map(|(a, b)| format!("{a} -> {b}")).collect();
                self.line(i, &format!("| rename {}{at}", s.join(", ")));
            }
            StageKind::Project { fields: fs, drop } => {
                self.line(
                    i,
                    &format!(
                        "| {} {}{at}",
                        if *drop { "drop" } else { "keep" },
                        fs.join(", ")
                    ),
                );
            }
            StageKind::Sort(keys) => {
                let s: Vec<String> = keys
                    .iter()
                    .map(|k| {
                        format!(
                            "{} {}",
                            self.scalar(&k.key),
                            if k.descending { "desc" } else { "asc" }
                        )
                    })
                    .collect();
                self.line(i, &format!("| sort {}{at}", s.join(", ")));
            }
            StageKind::Limit { count, from_end } => {
                self.line(
                    i,
                    &format!("| {} {count}{at}", if *from_end { "tail" } else { "head" }),
                );
            }
            StageKind::Dedup { fields: fs, count } => {
                let s = format!("| dedup {} keep {count}{at}", fields(self, fs));
                self.line(i, &s);
            }
            StageKind::MvExpand { field } => {
                let s = format!("| mvexpand {}{at}", self.field(field));
                self.line(i, &s);
            }
            StageKind::FillNull { value, fields: fs } => {
                let s = format!("| fillnull {:?} [{}]{at}", value, fields(self, fs));
                self.line(i, &s);
            }
            StageKind::Extract(x) => {
                let f = x
                    .field
                    .as_ref()
                    .map(|f| self.field(f))
                    .unwrap_or_else(|| "_raw".into());
                let s = format!(
                    "| extract {} from {f} {:?} -> [{}]{at}",
                    x.method,
                    x.pattern,
                    x.outputs.join(", ")
                );
                self.line(i, &s);
            }
            StageKind::Bin { field, span, alias } => {
                let a = alias
                    .as_ref()
                    .map(|a| format!(" as {a}"))
                    .unwrap_or_default();
                let s = format!("| bin {} span={}{a}{at}", self.field(field), span.text);
                self.line(i, &s);
            }
            StageKind::Lookup(l) => {
                let m: Vec<String> = l
                    .match_fields
                    .iter()
                    .map(|(a, b)| format!("{a}={b}"))
                    .collect();
                let o: Vec<String> = l.outputs.iter().map(|(a, b)| format!("{a}->{b}")).collect();
                self.line(
                    i,
                    &format!(
                        "| lookup {} on [{}] output [{}]{at}",
                        l.table,
                        m.join(", "),
                        o.join(", ")
                    ),
                );
            }
            StageKind::Sequence(sq) => {
                let mut head = "| sequence".to_string();
                if !sq.by.is_empty() {
                    head += &format!(" by {}", fields(self, &sq.by));
                }
                if let Some(m) = &sq.maxspan {
                    head += &format!(" maxspan={}", m.text);
                }
                self.line(i, &format!("{head}{at}"));
                for (n, s) in sq.steps.iter().enumerate() {
                    self.step(i + 1, &format!("step {}", n + 1), s);
                }
                if let Some(u) = &sq.until {
                    self.step(i + 1, "until", u);
                }
            }
            StageKind::Sample(sm) => {
                let s = format!("| sample by {}{at}", fields(self, &sm.by));
                self.line(i, &s);
                for (n, s) in sm.steps.iter().enumerate() {
                    self.step(i + 1, &format!("step {}", n + 1), s);
                }
            }
            StageKind::Threshold(t) => {
                let card: Vec<String> = t
                    .cardinality
                    .iter()
                    .map(|(f, n)| format!("dc({}) >= {n}", self.field(f)))
                    .collect();
                let s = format!(
                    "| threshold count >= {} by [{}]{}{at}",
                    t.value,
                    fields(self, &t.fields),
                    if card.is_empty() {
                        String::new()
                    } else {
                        format!(" and {}", card.join(", "))
                    }
                );
                self.line(i, &s);
            }
            StageKind::NewTerms(n) => {
                let s = format!(
                    "| new_terms [{}] history={}{at}",
                    fields(self, &n.fields),
                    n.history_window.text
                );
                self.line(i, &s);
            }
            StageKind::Join(j) => {
                let s = format!(
                    "| join ({:?}, max {}) on [{}]{at}",
                    j.kind,
                    j.max,
                    fields(self, &j.fields)
                );
                self.line(i, &s);
                self.query(&j.query);
            }
            StageKind::Opaque(o) => {
                self.line(
                    i,
                    &format!("| opaque {} ({}): {:?}{at}", o.name, o.reason, o.text),
                );
            }
            StageKind::Correlation(c) => {
                let bounds: Vec<String> = c
                    .condition
                    .iter()
                    .map(|(op, n)| format!("{} {}", op.symbol(), n.text))
                    .collect();
                let mut s = format!(
                    "| correlation {} by [{}] timespan={}",
                    c.kind.as_str(),
                    fields(self, &c.group_by),
                    c.timespan.text
                );
                if let CorrelationKind::ValuePercentile(p) = c.kind {
                    s += &format!(" percentile={p}");
                }
                if !c.fields.is_empty() {
                    s += &format!(" of [{}]", fields(self, &c.fields));
                }
                if !bounds.is_empty() {
                    s += &format!(" where {}", bounds.join(" and "));
                }
                if c.generate {
                    s += " generate";
                }
                self.line(i, &format!("{s}{at}"));
                for r in &c.rules {
                    let target = match &r.rule {
                        Some(t) => format!("-> {} {}", t.meta.id, q(&t.meta.name)),
                        None => "(unresolved)".to_string(),
                    };
                    let at = self.at(r.span);
                    self.line(i + 1, &format!("rule {} {target}{at}", r.reference));
                }
                for a in &c.aliases {
                    let m: Vec<String> = a
                        .mapping
                        .iter()
                        .map(|(r, f)| format!("{r}: {}", self.field(f)))
                        .collect();
                    self.line(i + 1, &format!("alias {} = {{{}}}", a.alias, m.join(", ")));
                }
            }
        }
    }
}
