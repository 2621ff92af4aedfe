//! Function calls, spelled through the function table in the mapping data
//! (`kql-functions.yml`); a few need their arguments read (relative times,
//! CIDR lists). Unknown functions are refused by name.

use super::ctx::Ctx;
use super::expr::scalar;
use super::text::{lit, regex};
use crate::ir::{Pattern, Scalar, Value};
use crate::span::Span;

fn str_arg(s: &Scalar) -> Option<&str> {
    match s {
        Scalar::Lit(Value::Str(p), _) => p.as_literal(),
        _ => None,
    }
}

pub fn call(cx: &mut Ctx, name: &str, args: &[Scalar], insensitive: bool, span: Span) -> String {
    let lname = name.to_ascii_lowercase();
    if let Some(x) = super::funcs_more::call(cx, &lname, args, span) {
        return x;
    }
    match (lname.as_str(), args) {
        ("relative_time", [base, spec]) => {
            if let Some(spec) = str_arg(spec) {
                let b = scalar(cx, base);
                if let Some(t) = relative_time(&b, spec) {
                    return t;
                }
            }
            cx.refuse(
                span,
                "relative_time with a time modifier siemc cannot read",
                "relative_time",
            );
            return "now()".into();
        }
        ("cidrmatch", [ip, blocks @ ..]) if !blocks.is_empty() => {
            let ipx = format!("tostring({})", scalar(cx, ip));
            let lits: Option<Vec<&str>> = blocks.iter().map(str_arg).collect();
            if let Some(lits) = lits {
                let v6 = lits.iter().any(|b| b.contains(':'));
                let list: Vec<String> = lits.iter().map(|b| lit(b)).collect();
                let f = if v6 {
                    "ipv6_is_in_any_range"
                } else {
                    "ipv4_is_in_any_range"
                };
                return format!("{f}({ipx}, dynamic([{}]))", list.join(", "));
            }
        }
        ("strftime", [t, fmt]) => {
            if let Some(f) = str_arg(fmt).and_then(dotnet_format) {
                let t = scalar(cx, t);
                return format!("format_datetime(todatetime({t}), {})", lit(&f));
            }
        }
        ("match", [s, re]) => {
            if let Some(p) = str_arg(re) {
                let r = super::funcs_more::pcre(p);
                let subject = scalar(cx, s);
                return match regex(&r, false) {
                    Ok(re) => format!(
                        "(tostring({subject}) matches regex {})",
                        super::text::string(&re)
                    ),
                    Err(why) => {
                        cx.refuse(span, format!("the regex `{p}` uses {why}"), "regex");
                        "false".into()
                    }
                };
            }
        }
        ("like", [s, pat]) => {
            if let Some(p) = str_arg(pat) {
                let parts = p.chars().map(|c| match c {
                    '%' => crate::ir::Part::AnyRun,
                    '_' => crate::ir::Part::AnyChar,
                    c => crate::ir::Part::Lit(c.to_string()),
                });
                let pattern = Pattern::from_parts(parts);
                let subject = scalar(cx, s);
                return format!(
                    "(tostring({subject}) matches regex {})",
                    super::text::string(&super::text::pattern_regex(&pattern, false))
                );
            }
        }
        _ => {}
    }
    let Some(def) = cx.m.functions.get(&lname) else {
        cx.refuse(
            span,
            format!("the function `{name}` has no Kusto spelling in the function table"),
            "unknown to the Kusto back-end",
        );
        return "false".into();
    };
    let (min, max) = def.arity;
    if args.len() < min || (max >= 0 && args.len() as i64 > max) {
        cx.refuse(
            span,
            format!("`{name}` is called with {} arguments", args.len()),
            "wrong number of arguments",
        );
        return "false".into();
    }
    let template = if insensitive {
        def.ci.as_ref().or(def.kql.as_ref())
    } else {
        def.cs.as_ref().or(def.kql.as_ref())
    };
    let template = match &def.odd {
        Some(odd) if args.len() % 2 == 1 => Some(odd),
        _ => template,
    };
    let Some(template) = template.cloned() else {
        cx.refuse(
            span,
            format!("`{name}` has no Kusto spelling for this case sensitivity"),
            "function",
        );
        return "false".into();
    };
    if let Some(a) = &def.approx {
        cx.caveat(
            "function-approximation",
            format!("`{name}`: {a}"),
            Some(span),
        );
    }
    let regex_args = def.regex_args.clone();
    let values = value_positions(&lname, args.len());
    let numeric = values.iter().any(|&i| {
        !matches!(args[i], Scalar::Lit(Value::Null, _))
            && matches!(
                super::stages::scalar_type(cx, &args[i]).as_str(),
                "real" | "long"
            )
    });
    let rendered: Vec<String> = args
        .iter()
        .enumerate()
        .map(|(i, a)| {
            if regex_args.contains(&i) {
                if let Some(p) = str_arg(a) {
                    let r = super::funcs_more::pcre(p);
                    return match regex(&r, false) {
                        Ok(re) => super::text::string(&re),
                        Err(why) => {
                            cx.refuse(span, format!("the regex `{p}` uses {why}"), "regex");
                            "\"\"".into()
                        }
                    };
                }
            }
            if def.dyn_args.contains(&i) {
                let x = scalar(cx, a);
                return if super::stages::scalar_type(cx, a) == "dynamic" {
                    x
                } else {
                    format!("todynamic({x})")
                };
            }
            let is_value = values.contains(&i);
            match a {
                // A typed null where a value is expected: `real(null)` beside
                // numbers, the empty string (Kusto's null string) otherwise.
                Scalar::Lit(Value::Null, _) if is_value && numeric => "real(null)".into(),
                Scalar::Lit(Value::Null, _) if is_value => "\"\"".into(),
                _ if is_value && numeric => format!("todouble({})", scalar(cx, a)),
                _ => scalar(cx, a),
            }
        })
        .collect();
    let null = if numeric { "real(null)" } else { "\"\"" };
    substitute(&template.replace("{null}", null), &rendered)
}

/// A strftime format as a Kusto (.NET-style) datetime format, when every
/// specifier has an exact equivalent.
fn dotnet_format(f: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = f.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            // Kusto formats allow these separators literally.
            if !" -/:.T_,".contains(c) {
                return None;
            }
            out.push(c);
            continue;
        }
        out.push_str(match chars.next()? {
            'Y' => "yyyy",
            'y' => "yy",
            'm' => "MM",
            'd' => "dd",
            'H' => "HH",
            'I' => "hh",
            'M' => "mm",
            'S' => "ss",
            'p' => "tt",
            'F' => "yyyy-MM-dd",
            'T' => "HH:mm:ss",
            _ => return None,
        });
    }
    Some(out)
}

/// Positions of the arguments that are result values (`if`, `case`), whose
/// types must agree in Kusto.
fn value_positions(name: &str, n: usize) -> Vec<usize> {
    match name {
        "if" => vec![1, 2],
        "case" => (0..n)
            .filter(|i| i % 2 == 1 || (n % 2 == 1 && *i == n - 1))
            .collect(),
        "coalesce" => (0..n).collect(),
        _ => Vec::new(),
    }
}

/// Fill `{i}` and `{*}` in one pass over the template, so text inside an
/// argument (`[a-z]{3}` in a regex) is never taken for a placeholder.
fn substitute(template: &str, args: &[String]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let key = &after[..close];
                if key == "*" {
                    out.push_str(&args.join(", "));
                } else if let Ok(i) = key.parse::<usize>() {
                    out.push_str(args.get(i).map(String::as_str).unwrap_or(""));
                } else {
                    out.push('{');
                    out.push_str(key);
                    out.push('}');
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splunk relative time (`-1d@d`, `@d`, `-24h`, `now`) from a base time.
pub fn relative_time(base: &str, spec: &str) -> Option<String> {
    let spec = spec.trim();
    if spec.eq_ignore_ascii_case("now") || spec.is_empty() {
        return Some(base.to_string());
    }
    let (offset, snap) = match spec.split_once('@') {
        Some((o, s)) => (o, Some(s)),
        None => (spec, None),
    };
    let mut t = base.to_string();
    if !offset.is_empty() {
        let (sign, rest) = match offset.as_bytes()[0] {
            b'-' => ("-", &offset[1..]),
            b'+' => ("+", &offset[1..]),
            _ => return None,
        };
        let d = crate::ir::Duration::parse(rest)?;
        t = format!("{t} {sign} {}", super::text::timespan(&d));
    }
    if let Some(unit) = snap {
        t = match unit {
            "d" | "day" => format!("startofday({t})"),
            "w" | "w0" | "week" => format!("startofweek({t})"),
            "mon" | "month" => format!("startofmonth({t})"),
            "y" | "year" => format!("startofyear({t})"),
            "h" | "hr" | "hour" => format!("bin({t}, 1h)"),
            "m" | "min" | "minute" => format!("bin({t}, 1m)"),
            "s" | "sec" | "second" => format!("bin({t}, 1s)"),
            _ => return None,
        };
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::relative_time;

    #[test]
    fn splunk_relative_times() {
        assert_eq!(relative_time("now()", "@d").unwrap(), "startofday(now())");
        assert_eq!(
            relative_time("now()", "-1d@d").unwrap(),
            "startofday(now() - 1d)"
        );
        assert_eq!(relative_time("now()", "-24h").unwrap(), "now() - 1d");
        assert!(relative_time("now()", "@q").is_none());
    }

    #[test]
    fn strftime_formats() {
        assert_eq!(
            super::dotnet_format("%Y-%m-%dT%H:%M:%S").unwrap(),
            "yyyy-MM-ddTHH:mm:ss"
        );
        assert!(super::dotnet_format("%A %B").is_none());
    }
}
