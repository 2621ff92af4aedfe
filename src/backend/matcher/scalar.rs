//! Scalar expressions: field values, literals, function calls (EQL, SPL
//! `where`/`eval`, Sigma time and fieldref modifiers), arithmetic, and the
//! comparisons of `Compare`.

use super::fields::{EventView, FieldId};
use super::json::Leaf;
use super::pred::{compile as compile_expr, eval as eval_expr, refuse, Ctx, Node, Refusal};
use super::strmatch::{fold, pattern_regex, Cidr};
use super::time;
use crate::ir::{ArithOp, Case, CmpOp, Language, Pattern, Scalar, Value};
use regex::Regex;

/// A runtime value.
#[derive(Debug, Clone, PartialEq)]
pub enum Dyn {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Dyn>),
}

impl Dyn {
    pub fn truthy(&self) -> bool {
        match self {
            Dyn::Null => false,
            Dyn::Bool(b) => *b,
            Dyn::Num(n) => *n != 0.0,
            Dyn::Str(s) => !s.is_empty(),
            Dyn::List(l) => l.iter().any(Dyn::truthy),
        }
    }
    pub fn as_str(&self) -> Option<String> {
        match self {
            Dyn::Str(s) => Some(s.clone()),
            Dyn::Num(n) => Some(fmt_num(*n)),
            Dyn::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Dyn::Num(n) => Some(*n),
            Dyn::Str(s) => s.trim().parse().ok(),
            Dyn::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }
    fn items(&self) -> Vec<&Dyn> {
        match self {
            Dyn::List(l) => l.iter().collect(),
            d => vec![d],
        }
    }
}

pub fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

pub fn leaf_dyn(l: &Leaf) -> Dyn {
    match l {
        Leaf::Str(s) => Dyn::Str(s.to_string()),
        Leaf::Num(t) => t.parse().map(Dyn::Num).unwrap_or(Dyn::Str(t.to_string())),
        Leaf::Bool(b) => Dyn::Bool(*b),
        Leaf::Null | Leaf::Object => Dyn::Null,
    }
}

#[derive(Debug, Clone)]
pub enum CScalar {
    Field(FieldId),
    Lit(Dyn),
    Call {
        name: String,
        args: Vec<CScalar>,
        ci: bool,
        /// A pattern argument compiled once (wildcard, like, match, replace).
        rx: Option<Regex>,
        lang: Language,
    },
    Arith(ArithOp, Box<CScalar>, Box<CScalar>),
    Neg(Box<CScalar>),
    Cond(Box<Node>),
    List(Vec<CScalar>),
    Millis(i64),
}

const FUNCS: &[&str] = &[
    "startswith",
    "endswith",
    "stringcontains",
    "contains",
    "wildcard",
    "cidrmatch",
    "length",
    "len",
    "lower",
    "upper",
    "concat",
    "string",
    "tostring",
    "number",
    "tonumber",
    "add",
    "subtract",
    "multiply",
    "divide",
    "modulo",
    "between",
    "indexof",
    "substring",
    "substr",
    "isnull",
    "isnotnull",
    "coalesce",
    "if",
    "like",
    "match",
    "replace",
    "trim",
    "ltrim",
    "rtrim",
    "mvcount",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "year",
    "isnumber",
    "isstr",
    "abs",
    "round",
    "floor",
    "ceil",
    "ceiling",
    "not",
    "null",
    "relative_time",
    "strftime",
    "strptime",
];

fn lit_str(s: &Scalar) -> Option<String> {
    match s {
        Scalar::Lit(Value::Str(p), _) => p.as_literal().map(str::to_string),
        _ => None,
    }
}

fn wildcard_rx(pats: &[String], ci: bool) -> Result<Regex, String> {
    let alts: Result<Vec<String>, String> = pats
        .iter()
        .map(|p| pattern_regex(&Pattern::parse_wildcards(p, true)))
        .collect();
    let i = if ci { "(?i)" } else { "" };
    Regex::new(&format!("{i}(?s)^(?:{})$", alts?.join("|"))).map_err(|e| e.to_string())
}

fn like_rx(p: &str, ci: bool) -> Result<Regex, String> {
    let mut s = String::new();
    for c in p.chars() {
        match c {
            '%' => s.push_str(".*"),
            '_' => s.push('.'),
            c => s.push_str(&regex::escape(&c.to_string())),
        }
    }
    let i = if ci { "(?i)" } else { "" };
    Regex::new(&format!("{i}(?s)^{s}$")).map_err(|e| e.to_string())
}

pub fn compile(s: &Scalar, cx: &mut Ctx) -> Result<CScalar, Refusal> {
    Ok(match s {
        Scalar::Field(f) => {
            if f.name_pattern.is_some() {
                return refuse(
                    f.span,
                    "a field-name wildcard is not supported by the matcher",
                );
            }
            CScalar::Field(cx.fields.intern(f))
        }
        Scalar::Lit(v, span) => CScalar::Lit(match v {
            Value::Str(p) => match p.as_literal() {
                Some(l) => Dyn::Str(l.to_string()),
                None => return refuse(*span, "a wildcard pattern used as a value"),
            },
            Value::Num(n) => Dyn::Num(n.value),
            Value::Bool(b) => Dyn::Bool(*b),
            Value::Null => Dyn::Null,
            Value::Cidr(c) => Dyn::Str(c.clone()),
            Value::FieldRef(name) => {
                let f = crate::ir::FieldRef::new(name.clone(), crate::ir::FieldScheme::Raw, *span);
                return Ok(CScalar::Field(cx.fields.intern(&f)));
            }
            Value::Regex(_) => return refuse(*span, "a regex used as a value"),
        }),
        Scalar::Call {
            name,
            args,
            insensitive,
            span,
        } => {
            let lname = name.to_ascii_lowercase();
            if !FUNCS.contains(&lname.as_str()) {
                return refuse(
                    *span,
                    format!("the function `{name}` is not supported by the matcher"),
                );
            }
            let lang = cx.language;
            let mut ci = *insensitive;
            // SPL `like`/`match` and Sigma modifiers carry their case in the name/flag.
            if lang == Language::Sigma {
                ci = *insensitive;
            }
            let rx = match lname.as_str() {
                "wildcard" => {
                    let pats: Option<Vec<String>> = args.iter().skip(1).map(lit_str).collect();
                    match pats {
                        Some(p) => Some(wildcard_rx(&p, ci).or_else(|e| refuse(*span, e))?),
                        None => None,
                    }
                }
                "like" => match args.get(1).and_then(lit_str) {
                    Some(p) => Some(like_rx(&p, ci).or_else(|e| refuse(*span, e))?),
                    None => None,
                },
                "match" | "replace" => match args.get(1).and_then(lit_str) {
                    Some(p) => Some(Regex::new(&p).or_else(|e| refuse(*span, e.to_string()))?),
                    None => return refuse(*span, format!("`{name}` with a computed regex")),
                },
                _ => None,
            };
            CScalar::Call {
                name: lname,
                args: args
                    .iter()
                    .map(|a| compile(a, cx))
                    .collect::<Result<_, _>>()?,
                ci,
                rx,
                lang,
            }
        }
        Scalar::Arith {
            op, left, right, ..
        } => CScalar::Arith(
            *op,
            Box::new(compile(left, cx)?),
            Box::new(compile(right, cx)?),
        ),
        Scalar::Neg(inner, _) => CScalar::Neg(Box::new(compile(inner, cx)?)),
        Scalar::Cond(e) => CScalar::Cond(Box::new(compile_expr(e, cx)?)),
        Scalar::List(items, _) => CScalar::List(
            items
                .iter()
                .map(|a| compile(a, cx))
                .collect::<Result<_, _>>()?,
        ),
        Scalar::Duration(d, _) => CScalar::Millis(d.millis as i64),
    })
}

pub fn eval(s: &CScalar, ev: &EventView) -> Dyn {
    match s {
        CScalar::Field(id) => {
            let mut vals: Vec<Dyn> = ev
                .values(*id)
                .filter(|(l, _)| !matches!(l, Leaf::Object))
                .map(|(l, _)| leaf_dyn(l))
                .collect();
            match vals.len() {
                0 => Dyn::Null,
                1 => vals.pop().unwrap_or(Dyn::Null),
                _ => {
                    vals.reverse();
                    Dyn::List(vals)
                }
            }
        }
        CScalar::Lit(d) => d.clone(),
        CScalar::Call {
            name,
            args,
            ci,
            rx,
            lang,
        } => {
            let vals: Vec<Dyn> = args.iter().map(|a| eval(a, ev)).collect();
            call(name, &vals, *ci, rx.as_ref(), *lang)
        }
        CScalar::Arith(op, l, r) => arith(*op, &eval(l, ev), &eval(r, ev)),
        CScalar::Neg(i) => match eval(i, ev).as_num() {
            Some(n) => Dyn::Num(-n),
            None => Dyn::Null,
        },
        CScalar::Cond(n) => Dyn::Bool(eval_expr(n, ev)),
        CScalar::List(items) => Dyn::List(items.iter().map(|a| eval(a, ev)).collect()),
        CScalar::Millis(ms) => Dyn::Num(*ms as f64),
    }
}

fn arith(op: ArithOp, l: &Dyn, r: &Dyn) -> Dyn {
    if op == ArithOp::Concat {
        return match (l.as_str(), r.as_str()) {
            (Some(a), Some(b)) => Dyn::Str(a + &b),
            _ => Dyn::Null,
        };
    }
    let (Some(a), Some(b)) = (l.as_num(), r.as_num()) else {
        return Dyn::Null;
    };
    Dyn::Num(match op {
        ArithOp::Add => a + b,
        ArithOp::Sub => a - b,
        ArithOp::Mul => a * b,
        ArithOp::Div if b != 0.0 => a / b,
        ArithOp::Mod if b != 0.0 => a % b,
        _ => return Dyn::Null,
    })
}

fn any_str(d: &Dyn, f: &mut dyn FnMut(&str) -> bool) -> bool {
    d.items()
        .into_iter()
        .any(|x| x.as_str().is_some_and(|s| f(&s)))
}

fn norm(s: &str, ci: bool) -> String {
    if ci {
        fold(s)
    } else {
        s.to_string()
    }
}

fn call(name: &str, a: &[Dyn], ci: bool, rx: Option<&Regex>, lang: Language) -> Dyn {
    let arg = |i: usize| a.get(i).cloned().unwrap_or(Dyn::Null);
    let s0 = || arg(0).as_str();
    let str_test = |f: fn(&str, &str) -> bool| {
        let needles: Vec<String> = a[1..]
            .iter()
            .flat_map(|d| {
                d.items()
                    .into_iter()
                    .filter_map(Dyn::as_str)
                    .collect::<Vec<_>>()
            })
            .map(|n| norm(&n, ci))
            .collect();
        Dyn::Bool(any_str(&arg(0), &mut |s| {
            let s = norm(s, ci);
            needles.iter().any(|n| f(&s, n))
        }))
    };
    match name {
        "startswith" if a.len() >= 2 => str_test(|s, n| s.starts_with(n)),
        "endswith" if a.len() >= 2 => str_test(|s, n| s.ends_with(n)),
        "stringcontains" | "contains" if a.len() >= 2 => str_test(|s, n| s.contains(n)),
        "wildcard" => match rx {
            Some(r) => Dyn::Bool(any_str(&arg(0), &mut |s| r.is_match(s))),
            None => {
                let pats: Vec<String> = a[1..].iter().filter_map(Dyn::as_str).collect();
                match wildcard_rx(&pats, ci) {
                    Ok(r) => Dyn::Bool(any_str(&arg(0), &mut |s| r.is_match(s))),
                    Err(_) => Dyn::Null,
                }
            }
        },
        "like" => match rx {
            Some(r) => Dyn::Bool(any_str(&arg(0), &mut |s| r.is_match(s))),
            None => Dyn::Null,
        },
        "match" => match rx {
            Some(r) => Dyn::Bool(any_str(&arg(0), &mut |s| r.is_match(s))),
            None => Dyn::Null,
        },
        "replace" => match (rx, s0(), arg(2).as_str()) {
            (Some(r), Some(s), Some(rep)) => Dyn::Str(r.replace_all(&s, rep.as_str()).into_owned()),
            _ => Dyn::Null,
        },
        "cidrmatch" => {
            // EQL: cidrmatch(ip, cidr...); SPL: cidrmatch(cidr, ip).
            let (ip, cidrs) = if lang == Language::Spl {
                (arg(1), vec![arg(0)])
            } else {
                (arg(0), a.get(1..).map(<[Dyn]>::to_vec).unwrap_or_default())
            };
            let blocks: Vec<Cidr> = cidrs
                .iter()
                .filter_map(|c| c.as_str())
                .filter_map(|c| Cidr::parse(&c))
                .collect();
            Dyn::Bool(any_str(&ip, &mut |s| blocks.iter().any(|b| b.contains(s))))
        }
        "length" | "len" => match arg(0) {
            Dyn::List(l) => Dyn::Num(l.len() as f64),
            d => d
                .as_str()
                .map_or(Dyn::Null, |s| Dyn::Num(s.chars().count() as f64)),
        },
        "mvcount" => match arg(0) {
            Dyn::List(l) => Dyn::Num(l.len() as f64),
            Dyn::Null => Dyn::Null,
            _ => Dyn::Num(1.0),
        },
        "lower" => s0().map_or(Dyn::Null, |s| Dyn::Str(s.to_lowercase())),
        "upper" => s0().map_or(Dyn::Null, |s| Dyn::Str(s.to_uppercase())),
        "trim" => s0().map_or(Dyn::Null, |s| Dyn::Str(s.trim().to_string())),
        "ltrim" => s0().map_or(Dyn::Null, |s| Dyn::Str(s.trim_start().to_string())),
        "rtrim" => s0().map_or(Dyn::Null, |s| Dyn::Str(s.trim_end().to_string())),
        "concat" => {
            let parts: Option<Vec<String>> = a.iter().map(Dyn::as_str).collect();
            parts.map_or(Dyn::Null, |p| Dyn::Str(p.concat()))
        }
        "string" | "tostring" => s0().map_or(Dyn::Null, Dyn::Str),
        "number" | "tonumber" => match (s0(), arg(1).as_num()) {
            (Some(s), Some(base)) => {
                i64::from_str_radix(s.trim().trim_start_matches("0x"), base as u32)
                    .map(|n| Dyn::Num(n as f64))
                    .unwrap_or(Dyn::Null)
            }
            (Some(s), None) => s.trim().parse().map(Dyn::Num).unwrap_or(Dyn::Null),
            _ => Dyn::Null,
        },
        "add" => arith(ArithOp::Add, &arg(0), &arg(1)),
        "subtract" => arith(ArithOp::Sub, &arg(0), &arg(1)),
        "multiply" => arith(ArithOp::Mul, &arg(0), &arg(1)),
        "divide" => arith(ArithOp::Div, &arg(0), &arg(1)),
        "modulo" => arith(ArithOp::Mod, &arg(0), &arg(1)),
        "abs" => arg(0).as_num().map_or(Dyn::Null, |n| Dyn::Num(n.abs())),
        "round" => match (arg(0).as_num(), arg(1).as_num()) {
            (Some(n), Some(d)) if d > 0.0 => {
                let f = 10f64.powi(d.min(15.0) as i32);
                Dyn::Num((n * f).round() / f)
            }
            (Some(n), _) => Dyn::Num(n.round()),
            _ => Dyn::Null,
        },
        "null" => Dyn::Null,
        // SPL times are epoch seconds.
        "relative_time" => match (arg(0).as_num(), arg(1).as_str()) {
            (Some(t), Some(spec)) => time::relative_millis((t * 1000.0) as i64, &spec)
                .map_or(Dyn::Null, |ms| Dyn::Num(ms as f64 / 1000.0)),
            _ => Dyn::Null,
        },
        "strftime" => match (arg(0).as_num(), arg(1).as_str()) {
            (Some(t), Some(fmt)) => Dyn::Str(time::strftime((t * 1000.0).round() as i64, &fmt)),
            _ => Dyn::Null,
        },
        "strptime" => match s0().and_then(|s| time::parse_millis(&s)) {
            Some(ms) => Dyn::Num(ms as f64 / 1000.0),
            None => Dyn::Null,
        },
        "floor" => arg(0).as_num().map_or(Dyn::Null, |n| Dyn::Num(n.floor())),
        "ceil" | "ceiling" => arg(0).as_num().map_or(Dyn::Null, |n| Dyn::Num(n.ceil())),
        "between" => match (s0(), arg(1).as_str(), arg(2).as_str()) {
            (Some(s), Some(l), Some(r)) => {
                let (hs, ln, rn) = (norm(&s, ci), norm(&l, ci), norm(&r, ci));
                let greedy = arg(3).truthy();
                match hs.find(&ln) {
                    Some(i) => {
                        let rest = &hs[i + ln.len()..];
                        let j = if greedy {
                            rest.rfind(&rn)
                        } else {
                            rest.find(&rn)
                        };
                        match j {
                            Some(j) if hs.len() == s.len() => {
                                Dyn::Str(s[i + ln.len()..i + ln.len() + j].to_string())
                            }
                            Some(j) => Dyn::Str(rest[..j].to_string()),
                            None => Dyn::Str(String::new()),
                        }
                    }
                    None => Dyn::Str(String::new()),
                }
            }
            _ => Dyn::Null,
        },
        "indexof" => match (s0(), arg(1).as_str()) {
            (Some(s), Some(n)) => {
                let start = arg(2).as_num().unwrap_or(0.0).max(0.0) as usize;
                let (hs, nn) = (norm(&s, ci), norm(&n, ci));
                match hs.get(start..).and_then(|t| t.find(&nn)) {
                    Some(i) => Dyn::Num((start + i) as f64),
                    None => Dyn::Null,
                }
            }
            _ => Dyn::Null,
        },
        "substring" | "substr" => match s0() {
            Some(s) => {
                let chars: Vec<char> = s.chars().collect();
                let n = chars.len() as i64;
                let idx = |x: f64| -> i64 {
                    let x = x as i64;
                    (if x < 0 { n + x } else { x }).clamp(0, n)
                };
                let (st, en) = if name == "substr" {
                    // SPL: 1-based start, then a length.
                    let st = arg(1)
                        .as_num()
                        .map_or(0, |x| if x > 0.0 { x as i64 - 1 } else { idx(x) })
                        .clamp(0, n);
                    let en = arg(2).as_num().map_or(n, |l| (st + l as i64).clamp(st, n));
                    (st, en)
                } else {
                    let st = idx(arg(1).as_num().unwrap_or(0.0));
                    let en = arg(2).as_num().map_or(n, idx);
                    (st, en.max(st))
                };
                Dyn::Str(chars[st as usize..en as usize].iter().collect())
            }
            None => Dyn::Null,
        },
        "isnull" => Dyn::Bool(matches!(arg(0), Dyn::Null)),
        "isnotnull" => Dyn::Bool(!matches!(arg(0), Dyn::Null)),
        "isnumber" => Dyn::Bool(matches!(arg(0), Dyn::Num(_))),
        "isstr" => Dyn::Bool(matches!(arg(0), Dyn::Str(_))),
        "not" => Dyn::Bool(!arg(0).truthy()),
        "coalesce" => a
            .iter()
            .find(|d| !matches!(d, Dyn::Null))
            .cloned()
            .unwrap_or(Dyn::Null),
        "if" => {
            if arg(0).truthy() {
                arg(1)
            } else {
                arg(2)
            }
        }
        "minute" | "hour" | "day" | "week" | "month" | "year" => {
            let ms = match arg(0) {
                Dyn::Str(s) => time::parse_millis(&s),
                Dyn::Num(n) => Some(n as i64),
                _ => None,
            };
            let Some(ms) = ms else { return Dyn::Null };
            let days = ms.div_euclid(86_400_000);
            let (y, m, d) = time::civil_from_days(days);
            Dyn::Num(match name {
                "minute" => (ms.rem_euclid(3_600_000) / 60_000) as f64,
                "hour" => (ms.rem_euclid(86_400_000) / 3_600_000) as f64,
                "day" => d as f64,
                "month" => m as f64,
                "year" => y as f64,
                // ISO week number.
                _ => {
                    let wd = (days + 3).rem_euclid(7); // Monday = 0
                    let thursday = days - wd + 3;
                    let (ty, _, _) = time::civil_from_days(thursday);
                    let jan1 = thursday - ordinal(ty, thursday);
                    ((thursday - jan1) / 7 + 1) as f64
                }
            })
        }
        _ => Dyn::Null,
    }
}

/// Days since 1 January of `year` for day number `days`.
fn ordinal(year: i64, days: i64) -> i64 {
    let (mut lo, mut hi) = (days - 366, days);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if time::civil_from_days(mid).0 < year {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    days - lo
}

fn cmp_one(l: &Dyn, op: CmpOp, r: &Dyn, case: Case) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (l, r) {
        (Dyn::Null, Dyn::Null) => Some(Ordering::Equal),
        (Dyn::Null, _) | (_, Dyn::Null) => return false,
        (Dyn::Bool(a), Dyn::Bool(b)) => Some(a.cmp(b)),
        (Dyn::Num(a), b) | (b, Dyn::Num(a)) if b.as_num().is_some() => {
            let b = b.as_num().unwrap_or(f64::NAN);
            if matches!(l, Dyn::Num(_)) {
                a.partial_cmp(&b)
            } else {
                b.partial_cmp(a)
            }
        }
        _ => match (l.as_str(), r.as_str()) {
            (Some(a), Some(b)) if case == Case::Insensitive => Some(fold(&a).cmp(&fold(&b))),
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => None,
        },
    };
    let Some(o) = ord else { return false };
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
    }
}

/// A comparison where either side may hold several values: true when any
/// pair compares (for `!=`, when no pair is equal and both sides have values).
pub fn compare_any(l: &Dyn, op: CmpOp, r: &Dyn, case: Case) -> bool {
    let (li, ri) = (l.items(), r.items());
    if op == CmpOp::Ne {
        if matches!(l, Dyn::Null) || matches!(r, Dyn::Null) {
            return false;
        }
        return !li
            .iter()
            .any(|a| ri.iter().any(|b| cmp_one(a, CmpOp::Eq, b, case)));
    }
    li.iter()
        .any(|a| ri.iter().any(|b| cmp_one(a, op, b, case)))
}
