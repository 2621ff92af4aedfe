//! The Sigma back-end (`siemc convert --to sigma`): any rule's IR as Sigma
//! YAML. One detection becomes one document; aggregations, thresholds and
//! EQL sequences become a correlation document after the base rules it
//! names (`---` separated). Logsources and field names come from the
//! mapping data under `data/`; what Sigma cannot say is refused (E0501) or,
//! with `--lenient`, dropped with the caveat written into the rule.
//!
//! | file | stage |
//! |---|---|
//! | `pipeline.rs` | stages → one detection, or base detections + a correlation |
//! | `logsource.rs` | source + top-level conjuncts → `logsource` |
//! | `detection.rs` | filter → selections + condition |
//! | `values.rs` | a value → modifiers + YAML value |
//! | `mapping.rs` | the data tables |
//! | `meta.rs`, `uuid.rs` | metadata, stable ids |
//! | `yaml.rs` | writing YAML |

mod detection;
mod logsource;
mod mapping;
mod meta;
mod pipeline;
mod uuid;
mod values;
mod yaml;

use super::{Options, Output, Status};
use crate::diag::{codes, Diagnostic};
use crate::ir::{Caveat, CmpOp, Correlation, Duration, FieldRef, Query, Rule, Source};
use crate::span::Span;
use mapping::{Logsource, Tables};
use pipeline::{Corr, Shape, Step};
use yaml::Node;

pub use values::wildcard_text;

/// Convert one rule to Sigma.
pub fn convert(rule: &Rule, opts: &Options) -> Output {
    let tables = match mapping::tables_for(opts.mapping.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            let mut o = Output::refused(vec![Diagnostic::error(codes::REFUSED, e)]);
            o.status = Status::Error;
            return o;
        }
    };
    let Some(q) = &rule.query else {
        return Output::refused(vec![Diagnostic::error(
            codes::REFUSED,
            "the rule has no query (a machine-learning or other query-less rule) for Sigma to express",
        )
        .at(rule.span)]);
    };
    let mut w = Writer {
        t: &tables,
        rule,
        caveats: Vec::new(),
        refusals: Vec::new(),
    };
    let plan = pipeline::plan(rule, q);
    for p in &plan.problems {
        let msg = format!(
            "Sigma cannot express the `{}` stage: {}",
            p.stage, p.message
        );
        if opts.lenient && p.droppable {
            w.caveat(
                "sigma-dropped-stage",
                format!("dropped: {msg}"),
                Some(p.span),
            );
        } else {
            w.refusals.push(
                Diagnostic::error(codes::REFUSED, msg)
                    .at(p.span)
                    .label(format!("`{}`", p.stage))
                    .note(if p.droppable {
                        "pass --lenient to write the detection without this stage, with the caveat recorded"
                    } else {
                        "no part of this rule can be written faithfully without it"
                    }),
            );
        }
    }
    for (code, msg, span) in plan.caveats {
        w.caveat(code, msg, span);
    }
    let docs = match &plan.shape {
        Shape::Single(filter) => {
            let id = meta::rule_id(&rule.meta, "");
            let desc = description(rule);
            w.rule_doc(
                &q.source,
                &q.source.categories,
                filter.as_ref(),
                &rule.meta.name,
                &id,
                rule.meta.handle.as_deref(),
                &desc,
            )
            .map(|d| vec![yaml::document(&d)])
            .unwrap_or_default()
        }
        Shape::Correlated(steps, corr) => w.correlated(q, steps, corr, opts),
        Shape::Sigma(c) => w.sigma_correlation(c),
    };
    if !w.refusals.is_empty() || docs.is_empty() {
        if w.refusals.is_empty() {
            w.refusals.push(
                Diagnostic::error(
                    codes::REFUSED,
                    "nothing of this rule can be written as Sigma",
                )
                .at(rule.span),
            );
        }
        let mut o = Output::refused(w.refusals);
        o.caveats = w.caveats;
        return o;
    }
    let mut text = header(rule, q, &w.caveats);
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            text.push_str("---\n");
        }
        text.push_str(d);
    }
    Output {
        text,
        status: if w.caveats.is_empty() {
            Status::Exact
        } else {
            Status::Approximate
        },
        caveats: w.caveats,
        diagnostics: Vec::new(),
    }
}

fn description(rule: &Rule) -> String {
    if rule.meta.description.trim().is_empty() {
        format!(
            "Converted by siemc from the {} rule {}.",
            rule.meta.format.as_str(),
            rule.meta.id
        )
    } else {
        rule.meta.description.trim().to_string()
    }
}

/// `# siemc:` comments: where the rule came from and every caveat.
fn header(rule: &Rule, q: &Query, caveats: &[Caveat]) -> String {
    let mut s = format!(
        "# siemc: converted from the {} rule {} ({})\n",
        rule.meta.format.as_str(),
        one_line(&rule.meta.id),
        q.language.as_str()
    );
    for c in caveats {
        s.push_str(&format!(
            "# siemc: approximate [{}]: {}\n",
            c.code,
            one_line(&c.message)
        ));
    }
    s
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A Sigma timespan (`10m`, `1h`, `2d`) from a duration.
fn timespan(d: &Duration) -> Option<String> {
    let ms = d.millis;
    if ms == 0 || ms % 1000 != 0 {
        return None;
    }
    let s = ms / 1000;
    Some(if s % 86_400 == 0 {
        format!("{}d", s / 86_400)
    } else if s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    })
}

fn op_key(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "eq",
        CmpOp::Ne => "neq",
        CmpOp::Lt => "lt",
        CmpOp::Le => "lte",
        CmpOp::Gt => "gt",
        CmpOp::Ge => "gte",
    }
}

type Doc = Vec<(String, Node)>;

struct Writer<'a> {
    t: &'a Tables,
    rule: &'a Rule,
    caveats: Vec<Caveat>,
    refusals: Vec<Diagnostic>,
}

/// Record a caveat once (the same code and message are not repeated).
pub(crate) fn add_caveat(
    caveats: &mut Vec<Caveat>,
    code: &str,
    message: String,
    span: Option<Span>,
) {
    if !caveats
        .iter()
        .any(|c| c.code == code && c.message == message)
    {
        caveats.push(Caveat {
            code: code.to_string(),
            message,
            span,
        });
    }
}

impl Writer<'_> {
    fn caveat(&mut self, code: &str, message: String, span: Option<Span>) {
        add_caveat(&mut self.caveats, code, message, span);
    }

    /// The logsource for a source, its remaining filter, and caveats.
    fn logsource(
        &mut self,
        source: &Source,
        cats: &[String],
        filter: Option<&crate::ir::Expr>,
    ) -> Option<(Logsource, Option<crate::ir::Expr>)> {
        let chosen = logsource::choose(self.t, source, cats, filter);
        for (code, msg, span) in chosen.caveats {
            self.caveat(code, msg, span);
        }
        let ls = chosen.logsource;
        if ls.category.is_none() && ls.product.is_none() && ls.service.is_none() {
            self.refusals.push(
                Diagnostic::error(
                    codes::UNMAPPED_SOURCE,
                    "no Sigma logsource is known for the events this rule reads",
                )
                .at(source.span)
                .label("this source")
                .note("the logsource mapping is src/backend/sigma/data/logsources.yml"),
            );
            return None;
        }
        Some((ls, chosen.filter))
    }

    #[allow(clippy::too_many_arguments)]
    fn rule_doc(
        &mut self,
        source: &Source,
        cats: &[String],
        filter: Option<&crate::ir::Expr>,
        title: &str,
        id: &str,
        name: Option<&str>,
        desc: &str,
    ) -> Option<Doc> {
        let (ls, filter) = self.logsource(source, cats, filter)?;
        let Some(filter) = filter else {
            self.refusals.push(
                Diagnostic::error(
                    codes::REFUSED,
                    "Sigma cannot express a detection that matches every event of its logsource",
                )
                .at(source.span)
                .label("no condition on the events"),
            );
            return None;
        };
        let mut cx = detection::Ctx::new(self.t, &ls);
        let det = cx.detection(&filter);
        let (cavs, refs) = (
            std::mem::take(&mut cx.caveats),
            std::mem::take(&mut cx.refusals),
        );
        for c in cavs {
            self.caveat(&c.code, c.message, c.span);
        }
        self.refusals.extend(refs);
        let Some(det) = det else {
            self.refusals.push(
                Diagnostic::error(
                    codes::REFUSED,
                    "Sigma cannot express a detection that matches every event of its logsource",
                )
                .at(filter.span),
            );
            return None;
        };
        let mut doc = meta::head(self.t, &self.rule.meta, title, id, name, desc);
        let mut lsn = Vec::new();
        for (k, v) in [
            ("category", &ls.category),
            ("product", &ls.product),
            ("service", &ls.service),
        ] {
            if let Some(v) = v {
                lsn.push((k.to_string(), Node::str(v.clone())));
            }
        }
        // A Sigma rule's own logsource keeps its free-text `definition`.
        if let Some(d) = source.logsource.as_ref().and_then(|l| l.definition.clone()) {
            lsn.push(("definition".to_string(), Node::str(d)));
        }
        doc.push(("logsource".into(), Node::Map(lsn)));
        let mut dn = det.selections;
        dn.push(("condition".into(), Node::str(det.condition)));
        doc.push(("detection".into(), Node::Map(dn)));
        doc.extend(meta::tail(self.t, &self.rule.meta));
        Some(doc)
    }

    /// The Sigma name of a field under a base rule's logsource.
    fn field_name(&mut self, f: &FieldRef, source: &Source, cats: &[String]) -> String {
        let chosen = logsource::choose(self.t, source, cats, None);
        let mut cx = detection::Ctx::new(self.t, &chosen.logsource);
        let (name, _) = cx.field(f);
        for c in std::mem::take(&mut cx.caveats) {
            self.caveat(&c.code, c.message, c.span);
        }
        self.refusals.extend(std::mem::take(&mut cx.refusals));
        name
    }

    fn correlated(
        &mut self,
        q: &Query,
        steps: &[Step],
        corr: &Corr,
        opts: &Options,
    ) -> Vec<String> {
        let meta = &self.rule.meta;
        let handle_base = format!("siemc_{}", slug(&meta.id));
        let mut docs = Vec::new();
        let mut names = Vec::new();
        for (i, st) in steps.iter().enumerate() {
            let (suffix, title) = if steps.len() == 1 {
                ("#base".to_string(), format!("{} - Events", meta.name))
            } else {
                (
                    format!("#step{}", i + 1),
                    format!("{} - Step {}", meta.name, i + 1),
                )
            };
            let name = format!("{handle_base}_{}", suffix.trim_start_matches('#'));
            let id = meta::rule_id(meta, &suffix);
            let desc = format!(
                "The events that the correlation \"{}\" counts or orders.",
                one_line(&meta.name)
            );
            let cats = if st.categories.is_empty() {
                &q.source.categories
            } else {
                &st.categories
            };
            if let Some(d) = self.rule_doc(
                &q.source,
                cats,
                st.filter.as_ref(),
                &title,
                &id,
                Some(&name),
                &desc,
            ) {
                docs.push(yaml::document(&d));
            }
            names.push(name);
        }
        let cats0 = steps
            .first()
            .map(|s| {
                if s.categories.is_empty() {
                    q.source.categories.clone()
                } else {
                    s.categories.clone()
                }
            })
            .unwrap_or_default();
        let mut c: Vec<(String, Node)> = vec![
            (
                "type".into(),
                Node::str(corr.kind.split(':').next().unwrap_or(&corr.kind)),
            ),
            (
                "rules".into(),
                Node::List(names.iter().map(Node::str).collect()),
            ),
        ];
        let mut group: Vec<String> = corr
            .group_by
            .iter()
            .map(|f| self.field_name(f, &q.source, &cats0))
            .collect();
        let mut aliases = Vec::new();
        for (pos, per) in corr.per_step.iter().enumerate() {
            let mapped: Vec<String> = per
                .iter()
                .zip(steps)
                .map(|(f, s)| {
                    self.field_name(
                        f,
                        &q.source,
                        if s.categories.is_empty() {
                            &q.source.categories
                        } else {
                            &s.categories
                        },
                    )
                })
                .collect();
            if mapped.len() != steps.len() {
                self.refusals.push(
                    Diagnostic::error(
                        codes::REFUSED,
                        "the steps of the sequence join on different numbers of fields",
                    )
                    .at(corr.span),
                );
                continue;
            }
            if mapped.iter().all(|m| *m == mapped[0]) {
                group.push(mapped[0].clone());
            } else {
                let alias = format!("join_key_{}", pos + 1);
                let m = names
                    .iter()
                    .zip(&mapped)
                    .map(|(n, f)| (n.clone(), Node::str(f.clone())))
                    .collect();
                aliases.push((alias.clone(), Node::Map(m)));
                group.push(alias);
            }
        }
        if !group.is_empty() {
            c.push((
                "group-by".into(),
                Node::List(group.into_iter().map(Node::Str).collect()),
            ));
        }
        let ts = match corr.timespan.as_ref().and_then(timespan) {
            Some(t) => t,
            None if opts.lenient => {
                self.caveat(
                    "sigma-timespan-assumed",
                    "the source states no time window; the correlation assumes 1h".into(),
                    Some(corr.span),
                );
                "1h".into()
            }
            None => {
                self.refusals.push(
                    Diagnostic::error(
                        codes::REFUSED,
                        "a Sigma correlation needs a timespan and the rule states no time window",
                    )
                    .at(corr.span)
                    .note("pass --lenient to assume 1h"),
                );
                "1h".into()
            }
        };
        c.push(("timespan".into(), Node::str(ts)));
        if !corr.condition.is_empty() {
            if corr.condition.len() > 1 {
                self.refusals.push(
                    Diagnostic::error(codes::REFUSED, "Sigma correlation conditions hold one comparison; the source states a range")
                        .at(corr.span),
                );
            }
            let (op, n) = &corr.condition[0];
            if n.parse::<i64>().is_err() {
                self.refusals.push(
                    Diagnostic::error(
                        codes::REFUSED,
                        format!("Sigma correlation conditions are whole numbers, not `{n}`"),
                    )
                    .at(corr.span),
                );
            }
            let mut cond = vec![(op_key(*op).to_string(), Node::raw(n.clone()))];
            if let Some(f) = &corr.field {
                cond.push((
                    "field".into(),
                    Node::str(self.field_name(f, &q.source, &cats0)),
                ));
            }
            if let Some(p) = corr.kind.strip_prefix("value_percentile:") {
                cond.push((
                    "percentile".into(),
                    Node::raw(p.split('.').next().unwrap_or(p).to_string()),
                ));
            }
            c.push(("condition".into(), Node::Map(cond)));
        }
        if !aliases.is_empty() {
            c.push(("aliases".into(), Node::Map(aliases)));
        }
        let id = meta::rule_id(meta, "");
        let mut doc = meta::head(self.t, meta, &meta.name, &id, None, &description(self.rule));
        doc.push(("correlation".into(), Node::Map(c)));
        doc.extend(meta::tail(self.t, meta));
        docs.push(yaml::document(&doc));
        docs
    }

    /// A correlation read from Sigma, with the rules it names that were loaded.
    fn sigma_correlation(&mut self, c: &Correlation) -> Vec<String> {
        let mut docs = Vec::new();
        for r in &c.rules {
            if let Some(base) = &r.rule {
                let out = convert(
                    base,
                    &Options {
                        lenient: true,
                        ..Options::default()
                    },
                );
                for cv in out.caveats {
                    self.caveat(&cv.code, cv.message, cv.span);
                }
                self.refusals
                    .extend(out.diagnostics.into_iter().filter(Diagnostic::is_error));
                if out.status != Status::Unsupported {
                    docs.push(out.text);
                }
            }
        }
        let meta = &self.rule.meta;
        let mut m: Vec<(String, Node)> = vec![
            ("type".into(), Node::str(c.kind.as_str())),
            (
                "rules".into(),
                Node::List(c.rules.iter().map(|r| Node::str(&r.reference)).collect()),
            ),
        ];
        if !c.aliases.is_empty() {
            let al = c
                .aliases
                .iter()
                .map(|a| {
                    (
                        a.alias.clone(),
                        Node::Map(
                            a.mapping
                                .iter()
                                .map(|(r, f)| (r.clone(), Node::str(&f.name)))
                                .collect(),
                        ),
                    )
                })
                .collect();
            m.push(("aliases".into(), Node::Map(al)));
        }
        if !c.group_by.is_empty() {
            m.push((
                "group-by".into(),
                Node::List(c.group_by.iter().map(|f| Node::str(&f.name)).collect()),
            ));
        }
        m.push((
            "timespan".into(),
            Node::str(timespan(&c.timespan).unwrap_or_else(|| c.timespan.text.clone())),
        ));
        if let Some((op, n)) = c.condition.first() {
            let mut cond = vec![(op_key(*op).to_string(), Node::raw(n.text.clone()))];
            if let [f] = c.fields.as_slice() {
                cond.push(("field".into(), Node::str(&f.name)));
            } else if c.fields.len() > 1 {
                cond.push((
                    "field".into(),
                    Node::List(c.fields.iter().map(|f| Node::str(&f.name)).collect()),
                ));
            }
            if let crate::ir::CorrelationKind::ValuePercentile(p) = c.kind {
                cond.push(("percentile".into(), Node::raw(p.to_string())));
            }
            m.push(("condition".into(), Node::Map(cond)));
        }
        if c.generate {
            m.push(("generate".into(), Node::raw("true")));
        }
        let id = meta::rule_id(meta, "");
        let mut doc = meta::head(
            self.t,
            meta,
            &meta.name,
            &id,
            meta.handle.as_deref(),
            &description(self.rule),
        );
        doc.push(("correlation".into(), Node::Map(m)));
        doc.extend(meta::tail(self.t, meta));
        docs.push(yaml::document(&doc));
        docs
    }
}

/// A name-safe form of an id.
pub(crate) fn slug(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    out.trim_matches('_').chars().take(40).collect()
}

#[cfg(test)]
mod tests;
