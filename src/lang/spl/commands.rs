//! Commands read from generic argument tokens: rename, table, fields, spath,
//! rex, regex, lookup, inputlookup, bin/bucket, fillnull, dedup, sort,
//! head, tail, mvexpand; the parsed-but-opaque ones (makemv, convert,
//! iplocation, join, append); and any other command.

use super::ast::*;
use super::lex::P;
use crate::diag::{codes, Diagnostic};
use crate::span::Span;

/// Split tokens into `key=value` options and the remaining positional tokens.
fn split_options(toks: &[Tok]) -> (Vec<(Word, Word)>, Vec<&Tok>) {
    let mut opts = Vec::new();
    let mut rest = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        if let (Some(Tok::Word(key)), Some(t), Some(Tok::Word(v))) =
            (toks.get(k), toks.get(k + 1), toks.get(k + 2))
        {
            if t.is_sym("=") && !key.quoted {
                opts.push((key.clone(), v.clone()));
                k += 3;
                continue;
            }
        }
        rest.push(&toks[k]);
        k += 1;
    }
    (opts, rest)
}

fn opt<'o>(opts: &'o [(Word, Word)], key: &str) -> Option<&'o Word> {
    opts.iter()
        .find(|(k, _)| k.text.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn words<'t>(toks: &[&'t Tok]) -> Vec<&'t Word> {
    toks.iter().filter_map(|t| t.word()).collect()
}

fn is_kw(w: &Word, kw: &str) -> bool {
    !w.quoted && w.text.eq_ignore_ascii_case(kw)
}

impl<'a> P<'a> {
    fn bad(&self, span: Span, msg: impl Into<String>, label: &str) -> Diagnostic {
        Diagnostic::error(codes::SYNTAX, msg).at(span).label(label)
    }

    fn need_word(
        &self,
        w: Option<&Word>,
        after: Span,
        cmd: &str,
        what: &str,
    ) -> Result<Word, Diagnostic> {
        w.cloned().ok_or_else(|| {
            let at = Span {
                start: after.end,
                end: after.end,
                ..after
            };
            self.bad(
                at,
                format!("`{cmd}` needs {what}"),
                &format!("expected {what}"),
            )
        })
    }

    pub fn interpret(
        &self,
        name: &str,
        name_span: Span,
        toks: &[Tok],
        _rest: &str,
    ) -> Result<CommandKind, Diagnostic> {
        let end_span = toks.last().map(Tok::span).unwrap_or(name_span);
        let (opts, pos) = split_options(toks);
        let ws = words(&pos);
        Ok(match name {
            "rename" => {
                let mut pairs = Vec::new();
                let items: Vec<&Tok> = toks.iter().filter(|t| !t.is_sym(",")).collect();
                let mut k = 0;
                while k < items.len() {
                    let (Some(Tok::Word(a)), Some(Tok::Word(kw)), Some(Tok::Word(b))) =
                        (items.get(k), items.get(k + 1), items.get(k + 2))
                    else {
                        let at = items
                            .get(k + 1)
                            .or(items.get(k))
                            .map(|t| t.span())
                            .unwrap_or(name_span);
                        return Err(self.bad(at, "`rename` expects `old AS new`", "expected `AS`"));
                    };
                    if !is_kw(kw, "as") {
                        return Err(self.bad(
                            kw.span,
                            "`rename` expects `old AS new`",
                            "expected `AS`",
                        ));
                    }
                    pairs.push((a.clone(), b.clone()));
                    k += 3;
                }
                if pairs.is_empty() {
                    return Err(self.bad(
                        name_span,
                        "`rename` needs `old AS new`",
                        "nothing to rename",
                    ));
                }
                CommandKind::Rename(pairs)
            }
            "table" | "fields" => {
                let mut drop = false;
                let mut fields = Vec::new();
                for w in ws.iter() {
                    if name == "fields"
                        && fields.is_empty()
                        && !w.quoted
                        && (w.text == "-" || w.text == "+")
                    {
                        drop = w.text == "-";
                        continue;
                    }
                    fields.push((*w).clone());
                }
                CommandKind::Fields { drop, fields }
            }
            "spath" => CommandKind::Spath {
                input: opt(&opts, "input").cloned(),
                output: opt(&opts, "output").cloned(),
                path: opt(&opts, "path")
                    .cloned()
                    .or_else(|| ws.first().map(|w| (*w).clone())),
            },
            "rex" => {
                let regex = ws.iter().find(|w| w.quoted).map(|w| (*w).clone());
                let regex = self.need_word(
                    regex.as_ref(),
                    end_span,
                    "rex",
                    "a quoted regular expression",
                )?;
                CommandKind::Rex {
                    field: opt(&opts, "field").cloned(),
                    regex,
                    sed: opt(&opts, "mode").is_some_and(|m| m.text.eq_ignore_ascii_case("sed")),
                }
            }
            "regex" => {
                // regex [field=|field!=] "re"
                match toks {
                    [Tok::Word(f), Tok::Sym(op, _), Tok::Word(re)] if *op == "=" || *op == "!=" => {
                        CommandKind::Regex {
                            field: Some(f.clone()),
                            negate: *op == "!=",
                            regex: re.clone(),
                        }
                    }
                    [Tok::Word(re)] => CommandKind::Regex {
                        field: None,
                        negate: false,
                        regex: re.clone(),
                    },
                    _ => {
                        return Err(self.bad(
                            toks.first().map(Tok::span).unwrap_or(name_span),
                            "`regex` expects `[field=|field!=]\"regex\"`",
                            "unexpected arguments",
                        ))
                    }
                }
            }
            "lookup" => {
                let mut it = ws.iter().filter(|w| w.text != "," || w.quoted).peekable();
                let table =
                    self.need_word(it.next().copied(), name_span, "lookup", "a lookup table")?;
                let mut inputs = Vec::new();
                let mut outputs = Vec::new();
                let mut out = false;
                let rest: Vec<&Word> = it.copied().collect();
                let mut k = 0;
                while k < rest.len() {
                    let w = rest[k];
                    if is_kw(w, "output") || is_kw(w, "outputnew") {
                        out = true;
                        k += 1;
                        continue;
                    }
                    let pair = if rest.get(k + 1).is_some_and(|a| is_kw(a, "as")) {
                        let b = self.need_word(
                            rest.get(k + 2).copied(),
                            rest[k + 1].span,
                            "lookup",
                            "a field name after `AS`",
                        )?;
                        k += 3;
                        (w.clone(), b)
                    } else {
                        k += 1;
                        (w.clone(), w.clone())
                    };
                    if out {
                        outputs.push(pair)
                    } else {
                        inputs.push(pair)
                    }
                }
                CommandKind::Lookup {
                    table,
                    inputs,
                    outputs,
                }
            }
            "inputlookup" => {
                let table = self.need_word(
                    ws.first().copied(),
                    name_span,
                    "inputlookup",
                    "a lookup table",
                )?;
                CommandKind::InputLookup { table }
            }
            "bin" | "bucket" => {
                let field = self.need_word(ws.first().copied(), name_span, name, "a field")?;
                let alias = if ws.get(1).is_some_and(|w| is_kw(w, "as")) {
                    Some(self.need_word(
                        ws.get(2).copied(),
                        ws[1].span,
                        name,
                        "a name after `AS`",
                    )?)
                } else {
                    None
                };
                CommandKind::Bin {
                    field,
                    span: opt(&opts, "span").cloned(),
                    alias,
                }
            }
            "fillnull" => CommandKind::FillNull {
                value: opt(&opts, "value").cloned(),
                fields: ws.iter().map(|w| (*w).clone()).collect(),
            },
            "dedup" => {
                let mut count = 1;
                let mut fields = Vec::new();
                for (k, w) in ws.iter().enumerate() {
                    if is_kw(w, "sortby") {
                        break;
                    }
                    if k == 0 && !w.quoted && w.text.chars().all(|c| c.is_ascii_digit()) {
                        count = w.text.parse().unwrap_or(1);
                        continue;
                    }
                    fields.push((*w).clone());
                }
                CommandKind::Dedup { count, fields }
            }
            "sort" => {
                let mut keys = Vec::new();
                let mut desc_next = false;
                for (k, w) in ws.iter().enumerate() {
                    if k == 0 && w.text.chars().all(|c| c.is_ascii_digit()) {
                        continue;
                    }
                    match w.text.as_str() {
                        "-" => desc_next = true,
                        "+" => desc_next = false,
                        t if is_kw(w, "d") || is_kw(w, "desc") => {
                            let _ = t;
                            if let Some(last) = keys.last_mut() {
                                let (_, d): &mut (Word, bool) = last;
                                *d = true;
                            }
                        }
                        t => {
                            let (desc, name) = match t.strip_prefix('-') {
                                Some(n) => (true, n),
                                None => (desc_next, t.strip_prefix('+').unwrap_or(t)),
                            };
                            keys.push((
                                Word {
                                    text: name.to_string(),
                                    ..(*w).clone()
                                },
                                desc,
                            ));
                            desc_next = false;
                        }
                    }
                }
                CommandKind::Sort { keys }
            }
            "head" | "tail" => {
                let n = ws
                    .first()
                    .map(|w| w.text.as_str())
                    .or(opt(&opts, "limit").map(|w| w.text.as_str()));
                let count = match n {
                    None => 10,
                    Some(t) => t.parse().map_err(|_| {
                        Diagnostic::error(
                            codes::BAD_NUMBER,
                            format!("`{name}` needs a row count, found `{t}`"),
                        )
                        .at(ws.first().map(|w| w.span).unwrap_or(name_span))
                        .label("not a number")
                    })?,
                };
                CommandKind::Limit {
                    count,
                    from_end: name == "tail",
                }
            }
            "mvexpand" => CommandKind::MvExpand {
                field: self.need_word(ws.first().copied(), name_span, "mvexpand", "a field")?,
            },
            "makemv" | "convert" | "iplocation" | "join" | "append" | "appendcols"
            | "addtotals" | "fromjson" => {
                if matches!(name, "join" | "append" | "appendcols")
                    && !toks.iter().any(|t| matches!(t, Tok::Sub(_)))
                {
                    return Err(self.bad(
                        end_span,
                        format!("`{name}` needs a subsearch `[...]`"),
                        "expected a subsearch",
                    ));
                }
                CommandKind::Tokens(toks.to_vec())
            }
            _ => CommandKind::Other,
        })
    }
}
