//! Field extraction stages: `rex`, `spath`, `fromjson`.

use super::{flush_needs, Pipe};
use crate::backend::kql::ctx::Ctx;
use crate::backend::kql::text::{ident, lit};
use crate::ir::*;

/// Capturing groups of a PCRE pattern: (index, name).
fn groups(re: &str) -> Vec<(usize, Option<String>)> {
    let chars: Vec<char> = re.chars().collect();
    let (mut i, mut n, mut class) = (0, 0, false);
    let mut out = Vec::new();
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '[' => class = true,
            ']' => class = false,
            '(' if !class => {
                let rest: String = chars[i + 1..].iter().take(3).collect();
                let named = rest.starts_with("?P<")
                    || (rest.starts_with("?<")
                        && !rest.starts_with("?<=")
                        && !rest.starts_with("?<!"))
                    || rest.starts_with("?'");
                if named {
                    n += 1;
                    let start = chars[i + 1..]
                        .iter()
                        .position(|&c| c == '<' || c == '\'')
                        .map(|p| i + 2 + p)
                        .unwrap_or(i);
                    let name: String = chars[start..]
                        .iter()
                        .take_while(|&&c| c != '>' && c != '\'')
                        .collect();
                    out.push((n, Some(name)));
                } else if !rest.starts_with('?') {
                    n += 1;
                    out.push((n, None));
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

pub(super) fn extract(cx: &mut Ctx, pipe: &mut Pipe, x: &Extract, span: crate::span::Span) {
    let field = x.field.as_ref().filter(|f| f.name != "_raw");
    match (x.method.as_str(), field) {
        ("rex", Some(f)) => {
            let c = cx.field(f);
            let r = Regex {
                pattern: x.pattern.clone(),
                flavor: RegexFlavor::Pcre,
                anchored: false,
                multiline: false,
                dot_all: false,
            };
            let re = match crate::backend::kql::text::regex(&r, false) {
                Ok(re) => re,
                Err(why) => {
                    cx.refuse(span, format!("the rex pattern uses {why}"), "rex");
                    return;
                }
            };
            let gs = groups(&x.pattern);
            let mut parts = Vec::new();
            for o in &x.outputs {
                match gs.iter().find(|(_, n)| n.as_deref() == Some(o)) {
                    Some((i, _)) => parts.push(format!(
                        "{} = extract({}, {i}, tostring({}))",
                        ident(o),
                        crate::backend::kql::text::string(&re),
                        c.text
                    )),
                    None => cx.refuse(
                        span,
                        format!("the rex output `{o}` is not a named group"),
                        "rex",
                    ),
                }
                cx.computed.insert(o.clone(), "string".into());
            }
            flush_needs(cx, pipe);
            if !parts.is_empty() {
                pipe.op(format!("extend {}", parts.join(", ")));
            }
        }
        ("spath", Some(f)) if x.pattern.is_empty() && x.outputs.is_empty() => {
            if cx.profile.parsed.contains(&f.name) {
                // The table's columns are the JSON's keys already.
                return;
            }
            let c = cx.field(f);
            let prelude = cx
                .profile
                .spath
                .iter()
                .find(|(col, _)| ident(col) == c.text)
                .map(|(_, p)| p.clone());
            match prelude {
                Some(p) => {
                    cx.needs.insert(p);
                    flush_needs(cx, pipe);
                    cx.spath_bag = true;
                }
                None => cx.refuse(
                    span,
                    format!(
                        "spath over `{}` without a path: its keys are not known",
                        f.name
                    ),
                    "spath",
                ),
            }
        }
        ("spath", Some(f)) if x.outputs.len() <= 1 && !x.pattern.is_empty() => {
            let c = cx.field(f);
            let path: Vec<String> = x
                .pattern
                .split('.')
                .map(|p| format!("[{}]", lit(p)))
                .collect();
            let out = x.outputs.first().cloned().unwrap_or(x.pattern.clone());
            flush_needs(cx, pipe);
            pipe.op(format!(
                "extend {} = tostring(parse_json(tostring({})){})",
                ident(&out),
                c.text,
                path.join("")
            ));
            cx.computed.insert(out, "string".into());
        }
        ("fromjson", Some(f)) => {
            // The JSON object's keys: fields the table has no column for are
            // read from the bag (as after `spath`).
            let c = cx.field(f);
            let json = format!("parse_json(tostring({}))", c.text);
            let bag = if cx.spath_bag {
                format!("bag_merge({json}, __params)")
            } else {
                json
            };
            cx.caveat(
                "fromjson",
                "fromjson: keys of the JSON object are read for fields the table has no column for; a mapped field keeps its column",
                Some(span),
            );
            flush_needs(cx, pipe);
            pipe.op(format!("extend __params = {bag}"));
            cx.spath_bag = true;
        }
        (m, _) => cx.refuse(
            span,
            format!(
                "`{m}` field extraction{}",
                if field.is_none() {
                    " from the raw event"
                } else {
                    ""
                }
            ),
            "extract",
        ),
    }
}
