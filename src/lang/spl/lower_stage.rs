//! Lowering the commands after the first into typed stages.

use super::ast::*;
use super::lower::{named_groups, Lowerer};
use crate::diag::{codes, Diagnostic};
use crate::ir::*;

fn stage(kind: StageKind, cmd: &Command) -> Option<Stage> {
    Some(Stage {
        kind,
        span: cmd.span,
    })
}

fn kv<'t>(toks: &'t [Tok], key: &str) -> Option<&'t Word> {
    toks.windows(3).find_map(|w| match w {
        [Tok::Word(k), s, Tok::Word(v)] if s.is_sym("=") && k.text.eq_ignore_ascii_case(key) => {
            Some(v)
        }
        _ => None,
    })
}

/// Positional words (not part of a `key=value` option).
fn positional(toks: &[Tok]) -> Vec<&Word> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        if toks.get(k + 1).is_some_and(|t| t.is_sym("=")) {
            k += 3;
            continue;
        }
        if let Tok::Word(w) = &toks[k] {
            out.push(w);
        }
        k += 1;
    }
    out
}

impl Lowerer {
    /// One command after the first, or `None` for a no-op (`search *`).
    pub fn stage(&mut self, cmd: &Command) -> Result<Option<Stage>, Diagnostic> {
        Ok(match &cmd.kind {
            CommandKind::Search(e) => {
                let items: Vec<SearchExpr> = e.iter().cloned().collect();
                match self.search_filter(items)? {
                    None => None,
                    Some(f) => stage(StageKind::Where(f), cmd),
                }
            }
            CommandKind::Tstats(_) => Some(self.warn_opaque(
                cmd,
                "tstats after the first command (prestats/append) has no IR form yet",
            )),
            CommandKind::Stats(s) => {
                let mode = match s.mode {
                    StatsMode::Stats => AggMode::Collapse,
                    StatsMode::EventStats => AggMode::Annotate,
                    StatsMode::StreamStats => AggMode::Running,
                };
                let agg = self.aggregate(&s.aggs, &s.by, &s.span, mode)?;
                stage(StageKind::Aggregate(agg), cmd)
            }
            CommandKind::Eval(assigns) => {
                let mut out = Vec::new();
                for (name, e) in assigns {
                    let value = self.scalar(e);
                    self.computed.insert(name.text.clone());
                    out.push(Assign {
                        name: name.text.clone(),
                        value,
                        span: name.span.to(e.span),
                    });
                }
                stage(StageKind::Eval(out), cmd)
            }
            CommandKind::Where(e) => {
                let c = self.cond(e);
                stage(StageKind::Where(c), cmd)
            }
            CommandKind::Rename(pairs) => {
                for (a, b) in pairs {
                    let wildcard_dm = a.text.ends_with(".*") && b.text == "*";
                    if !wildcard_dm && (!self.cim || self.computed.contains(&a.text)) {
                        self.computed.insert(b.text.clone());
                    }
                }
                stage(
                    StageKind::Rename(
                        pairs
                            .iter()
                            .map(|(a, b)| (a.text.clone(), b.text.clone()))
                            .collect(),
                    ),
                    cmd,
                )
            }
            CommandKind::Fields { drop, fields } => stage(
                StageKind::Project {
                    fields: fields.iter().map(|w| w.text.clone()).collect(),
                    drop: *drop,
                },
                cmd,
            ),
            CommandKind::Spath {
                input,
                output,
                path,
            } => {
                let field = self.field(
                    input.as_ref().map(|w| w.text.as_str()).unwrap_or("_raw"),
                    input.as_ref().map(|w| w.span).unwrap_or(cmd.name_span),
                );
                let outputs: Vec<String> = output.iter().map(|w| w.text.clone()).collect();
                self.computed.extend(outputs.iter().cloned());
                stage(
                    StageKind::Extract(Extract {
                        method: "spath".into(),
                        field: Some(field),
                        pattern: path.as_ref().map(|w| w.text.clone()).unwrap_or_default(),
                        outputs,
                    }),
                    cmd,
                )
            }
            CommandKind::Rex { field, regex, sed } => {
                if *sed {
                    return Ok(Some(self.warn_opaque(
                        cmd,
                        "`rex mode=sed` rewrites a field; the IR has no stage for it yet",
                    )));
                }
                let f = match field {
                    Some(w) => self.field(&w.text, w.span),
                    None => self.field("_raw", cmd.name_span),
                };
                let outputs = named_groups(&regex.text);
                self.computed.extend(outputs.iter().cloned());
                stage(
                    StageKind::Extract(Extract {
                        method: "rex".into(),
                        field: Some(f),
                        pattern: regex.text.clone(),
                        outputs,
                    }),
                    cmd,
                )
            }
            CommandKind::Regex {
                field,
                negate,
                regex,
            } => {
                let f = match field {
                    Some(w) => self.field(&w.text, w.span),
                    None => self.field("_raw", cmd.name_span),
                };
                let m = Expr::new(
                    ExprKind::Match(Match {
                        field: f,
                        values: vec![Value::Regex(Regex {
                            pattern: regex.text.clone(),
                            flavor: RegexFlavor::Pcre,
                            anchored: false,
                            multiline: false,
                            dot_all: false,
                        })],
                        quantifier: Quantifier::Any,
                        case: Case::Sensitive,
                        kind: MatchKind::Whole,
                        array: ArrayMode::Any,
                        span: regex.span,
                    }),
                    cmd.span,
                );
                let e = if *negate { Expr::not(m, cmd.span) } else { m };
                stage(StageKind::Where(e), cmd)
            }
            CommandKind::Lookup {
                table,
                inputs,
                outputs,
            } => {
                let pairs = |v: &[(Word, Word)]| -> Vec<(String, String)> {
                    v.iter()
                        .map(|(a, b)| (a.text.clone(), b.text.clone()))
                        .collect()
                };
                self.computed
                    .extend(outputs.iter().map(|(_, b)| b.text.clone()));
                stage(
                    StageKind::Lookup(Lookup {
                        table: table.text.clone(),
                        match_fields: pairs(inputs),
                        outputs: pairs(outputs),
                    }),
                    cmd,
                )
            }
            CommandKind::InputLookup { .. } => Some(self.warn_opaque(
                cmd,
                "reading a lookup table as rows (`inputlookup`) has no IR form yet",
            )),
            CommandKind::Bin { field, span, alias } => match span
                .as_ref()
                .and_then(|s| Duration::parse(&s.text))
            {
                Some(d) => {
                    let f = self.field(&field.text, field.span);
                    stage(
                        StageKind::Bin {
                            field: f,
                            span: d,
                            alias: alias.as_ref().map(|w| w.text.clone()),
                        },
                        cmd,
                    )
                }
                None => Some(
                    self.warn_opaque(cmd, "`bin` without a duration `span=` has no IR form yet"),
                ),
            },
            CommandKind::FillNull { value, fields } => stage(
                StageKind::FillNull {
                    value: value
                        .as_ref()
                        .map(|w| w.text.clone())
                        .unwrap_or_else(|| "0".into()),
                    fields: fields.iter().map(|w| self.field(&w.text, w.span)).collect(),
                },
                cmd,
            ),
            CommandKind::Dedup { count, fields } => stage(
                StageKind::Dedup {
                    fields: fields.iter().map(|w| self.field(&w.text, w.span)).collect(),
                    count: *count,
                },
                cmd,
            ),
            CommandKind::Sort { keys } => stage(
                StageKind::Sort(
                    keys.iter()
                        .map(|(w, d)| SortKey {
                            key: Scalar::Field(self.field(&w.text, w.span)),
                            descending: *d,
                        })
                        .collect(),
                ),
                cmd,
            ),
            CommandKind::Limit { count, from_end } => stage(
                StageKind::Limit {
                    count: *count,
                    from_end: *from_end,
                },
                cmd,
            ),
            CommandKind::MvExpand { field } => stage(
                StageKind::MvExpand {
                    field: self.field(&field.text, field.span),
                },
                cmd,
            ),
            CommandKind::Tokens(toks) => self.token_command(cmd, toks)?,
            CommandKind::Other => Some(self.warn_opaque(
                cmd,
                "the IR has no stage for this command yet; back-ends refuse it",
            )),
        })
    }

    fn token_command(&mut self, cmd: &Command, toks: &[Tok]) -> Result<Option<Stage>, Diagnostic> {
        let pos = positional(toks);
        Ok(match cmd.name.as_str() {
            "makemv" => {
                let Some(f) = pos.last() else {
                    return Err(
                        Diagnostic::error(codes::SYNTAX, "`makemv` needs a field").at(cmd.span)
                    );
                };
                if kv(toks, "tokenizer").is_some() {
                    return Ok(Some(
                        self.warn_opaque(cmd, "`makemv tokenizer=` has no IR form yet"),
                    ));
                }
                let delim = kv(toks, "delim")
                    .map(|w| w.text.clone())
                    .unwrap_or_else(|| " ".into());
                let value = Scalar::Call {
                    name: "split".into(),
                    args: vec![
                        Scalar::Field(self.field(&f.text, f.span)),
                        Scalar::Lit(Value::Str(Pattern::literal(delim)), cmd.span),
                    ],
                    insensitive: false,
                    span: cmd.span,
                };
                stage(
                    StageKind::Eval(vec![Assign {
                        name: f.text.clone(),
                        value,
                        span: cmd.span,
                    }]),
                    cmd,
                )
            }
            "convert" => self.convert(cmd, toks),
            "iplocation" => {
                let Some(f) = pos.last() else {
                    return Err(
                        Diagnostic::error(codes::SYNTAX, "`iplocation` needs an IP field")
                            .at(cmd.span),
                    );
                };
                let prefix = kv(toks, "prefix")
                    .map(|w| w.text.clone())
                    .unwrap_or_default();
                let outputs: Vec<(String, String)> = ["City", "Country", "Region", "lat", "lon"]
                    .iter()
                    .map(|o| (o.to_string(), format!("{prefix}{o}")))
                    .collect();
                self.computed.extend(outputs.iter().map(|(_, b)| b.clone()));
                stage(
                    StageKind::Lookup(Lookup {
                        table: "iplocation".into(),
                        match_fields: vec![("ip".into(), f.text.clone())],
                        outputs,
                    }),
                    cmd,
                )
            }
            "join" | "append" | "appendcols" => {
                let Some(sub) = toks.iter().find_map(|t| match t {
                    Tok::Sub(p) => Some(p),
                    _ => None,
                }) else {
                    return Ok(Some(self.warn_opaque(cmd, "no subsearch")));
                };
                if cmd.name == "appendcols" {
                    let _ = self.sub_query(sub)?;
                    return Ok(Some(
                        self.warn_opaque(cmd, "`appendcols` has no IR form yet"),
                    ));
                }
                let query = Box::new(self.sub_query(sub)?);
                let kind = match (
                    cmd.name.as_str(),
                    kv(toks, "type").map(|w| w.text.to_ascii_lowercase()),
                ) {
                    ("append", _) => JoinKind::Append,
                    (_, Some(t)) if t == "outer" || t == "left" => JoinKind::Left,
                    _ => JoinKind::Inner,
                };
                let max = kv(toks, "max")
                    .and_then(|w| w.text.parse().ok())
                    .unwrap_or(1);
                let fields = if kind == JoinKind::Append {
                    Vec::new()
                } else {
                    pos.iter().map(|w| self.field(&w.text, w.span)).collect()
                };
                stage(
                    StageKind::Join(Join {
                        kind,
                        fields,
                        max,
                        query,
                    }),
                    cmd,
                )
            }
            "addtotals" => self.addtotals(cmd, toks),
            "fromjson" => {
                let Some(f) = pos.first() else {
                    return Err(
                        Diagnostic::error(codes::SYNTAX, "`fromjson` needs a field").at(cmd.span)
                    );
                };
                if kv(toks, "prefix").is_some() {
                    return Ok(Some(
                        self.warn_opaque(cmd, "`fromjson prefix=` has no IR form yet"),
                    ));
                }
                let field = self.field(&f.text, f.span);
                stage(
                    StageKind::Extract(Extract {
                        method: "fromjson".into(),
                        field: Some(field),
                        pattern: String::new(),
                        outputs: Vec::new(),
                    }),
                    cmd,
                )
            }
            _ => Some(self.warn_opaque(cmd, "the IR has no stage for this command yet")),
        })
    }

    /// `addtotals [fieldname=F] f1 f2 ...`: F (default `Total`) is the sum
    /// of the listed fields' numeric values (others count as 0). Without a
    /// field list (every numeric field), with wildcards, or with a summary
    /// row (`col=true`) it stays opaque.
    fn addtotals(&mut self, cmd: &Command, toks: &[Tok]) -> Option<Stage> {
        let fields: Vec<&Word> = positional(toks)
            .into_iter()
            .filter(|w| w.text != ",")
            .collect();
        let flag = |k: &str| kv(toks, k).map(|w| w.text.to_ascii_lowercase());
        if fields.is_empty()
            || fields.iter().any(|w| w.text.contains('*'))
            || flag("col").is_some_and(|v| v == "true" || v == "t")
            || flag("row").is_some_and(|v| v == "false" || v == "f")
        {
            return Some(self.warn_opaque(
                cmd,
                "`addtotals` over every numeric field, wildcards, or a summary row has no IR form yet",
            ));
        }
        let name = kv(toks, "fieldname")
            .map(|w| w.text.clone())
            .unwrap_or_else(|| "Total".into());
        let call = |name: &str, args: Vec<Scalar>| Scalar::Call {
            name: name.into(),
            args,
            insensitive: false,
            span: cmd.span,
        };
        let zero = || Scalar::Lit(Value::Num(Number::new("0").expect("0")), cmd.span);
        let mut sum: Option<Scalar> = None;
        for w in fields {
            let f = Scalar::Field(self.field(&w.text, w.span));
            let term = call("coalesce", vec![call("tonumber", vec![f]), zero()]);
            sum = Some(match sum {
                None => term,
                Some(l) => Scalar::Arith {
                    op: ArithOp::Add,
                    left: Box::new(l),
                    right: Box::new(term),
                    span: cmd.span,
                },
            });
        }
        self.computed.insert(name.clone());
        stage(
            StageKind::Eval(vec![Assign {
                name,
                value: sum.unwrap_or_else(zero),
                span: cmd.span,
            }]),
            cmd,
        )
    }

    /// `convert [timeformat=F] ctime(f) [as g] ...` → eval with strftime/strptime/tonumber.
    fn convert(&mut self, cmd: &Command, toks: &[Tok]) -> Option<Stage> {
        let fmt = kv(toks, "timeformat")
            .map(|w| w.text.clone())
            .unwrap_or_else(|| "%m/%d/%Y %H:%M:%S".into());
        let mut out = Vec::new();
        let mut k = 0;
        while k < toks.len() {
            if toks.get(k + 1).is_some_and(|t| t.is_sym("=")) {
                k += 3;
                continue;
            }
            match (&toks[k], toks.get(k + 1), toks.get(k + 2), toks.get(k + 3)) {
                (Tok::Word(func), Some(o), Some(Tok::Word(f)), Some(c))
                    if o.is_sym("(") && c.is_sym(")") =>
                {
                    k += 4;
                    let mut name = f.text.clone();
                    if let (Some(Tok::Word(a)), Some(Tok::Word(b))) = (toks.get(k), toks.get(k + 1))
                    {
                        if a.text.eq_ignore_ascii_case("as") {
                            name = b.text.clone();
                            k += 2;
                        }
                    }
                    let arg = Scalar::Field(self.field(&f.text, f.span));
                    let lit = |s: &str| Scalar::Lit(Value::Str(Pattern::literal(s)), func.span);
                    let (fname, args) = match func.text.to_ascii_lowercase().as_str() {
                        "ctime" => ("strftime", vec![arg, lit(&fmt)]),
                        "mktime" => ("strptime", vec![arg, lit(&fmt)]),
                        "num" | "auto" => ("tonumber", vec![arg]),
                        _ => {
                            return Some(
                                self.warn_opaque(cmd, "this `convert` function has no IR form yet"),
                            )
                        }
                    };
                    let span = func.span.to(c.span());
                    self.computed.insert(name.clone());
                    out.push(Assign {
                        name,
                        value: Scalar::Call {
                            name: fname.into(),
                            args,
                            insensitive: false,
                            span,
                        },
                        span,
                    });
                }
                _ => return Some(self.warn_opaque(cmd, "this `convert` form has no IR form yet")),
            }
        }
        stage(StageKind::Eval(out), cmd)
    }
}
