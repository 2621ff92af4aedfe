//! Sigma values: string escapes and wildcards, and the value modifiers
//! (`field|contains|all`), applied left to right as the specification says.
//! Encoding modifiers (`base64`, `base64offset`, `utf16*`, `wide`,
//! `windash`) expand into the exact alternative values the specification
//! defines; type modifiers (`re`, `cidr`, `fieldref`, `lt`, `exists`, ...)
//! turn a value into the matching IR construct.

use crate::ir::{CmpOp, Number, Part, Pattern};

/// A value modifier, by its Sigma name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Exists,
    Cased,
    Neq,
    Windash,
    Re,
    ReIgnoreCase,
    ReMultiline,
    ReDotAll,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Cidr,
    Expand,
    FieldRef,
    Cmp(CmpOp),
    Time(TimeUnit),
}

/// The part of a timestamp the time modifiers compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl TimeUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Minute => "minute",
            TimeUnit::Hour => "hour",
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
            TimeUnit::Month => "month",
            TimeUnit::Year => "year",
        }
    }
}

impl Modifier {
    /// A modifier by name (the spellings pySigma accepts as well).
    pub fn parse(name: &str) -> Option<Modifier> {
        Some(match name {
            "contains" => Modifier::Contains,
            "startswith" => Modifier::StartsWith,
            "endswith" => Modifier::EndsWith,
            "all" => Modifier::All,
            "exists" => Modifier::Exists,
            "cased" => Modifier::Cased,
            "neq" => Modifier::Neq,
            "windash" => Modifier::Windash,
            "re" => Modifier::Re,
            "i" | "ignorecase" => Modifier::ReIgnoreCase,
            "m" | "multiline" => Modifier::ReMultiline,
            "s" | "dotall" => Modifier::ReDotAll,
            "base64" => Modifier::Base64,
            "base64offset" => Modifier::Base64Offset,
            "utf16le" | "wide" => Modifier::Utf16Le,
            "utf16be" => Modifier::Utf16Be,
            "utf16" => Modifier::Utf16,
            "cidr" => Modifier::Cidr,
            "expand" => Modifier::Expand,
            "fieldref" => Modifier::FieldRef,
            "lt" => Modifier::Cmp(CmpOp::Lt),
            "lte" => Modifier::Cmp(CmpOp::Le),
            "gt" => Modifier::Cmp(CmpOp::Gt),
            "gte" => Modifier::Cmp(CmpOp::Ge),
            "minute" => Modifier::Time(TimeUnit::Minute),
            "hour" => Modifier::Time(TimeUnit::Hour),
            "day" => Modifier::Time(TimeUnit::Day),
            "week" => Modifier::Time(TimeUnit::Week),
            "month" => Modifier::Time(TimeUnit::Month),
            "year" => Modifier::Time(TimeUnit::Year),
            _ => return None,
        })
    }
}

/// A value as YAML gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw<'a> {
    Str(&'a str),
    /// A plain scalar that reads as a number (kept as written).
    Num(&'a str),
    Bool(bool),
    Null,
}

/// A value on its way through the modifiers.
#[derive(Debug, Clone, PartialEq)]
pub enum SVal {
    Str(Vec<Part>),
    Num(Number),
    Bool(bool),
    /// `null`: the field is missing or null.
    Null,
    Regex {
        pattern: String,
        ignore_case: bool,
        multiline: bool,
        dot_all: bool,
    },
    Cidr(String),
    /// `|fieldref`, with `contains`/`startswith`/`endswith` applied.
    FieldRef {
        name: String,
        starts: bool,
        ends: bool,
    },
    /// `|lt`, `|gte`, ... and the time modifiers: `unit(field) op number`.
    Cmp {
        op: CmpOp,
        value: Number,
        unit: Option<TimeUnit>,
    },
    Exists(bool),
}

/// Why a modifier could not apply (the caller adds the position).
pub type ModError = String;

/// Parse a Sigma string: `*` any run, `?` one character, `\` escapes `*`, `?`
/// and `\` (and `%` with `|expand`); before any other character a backslash
/// is literal. With `expand`, `%name%` is a placeholder.
pub fn parse_string(s: &str, expand: bool) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut chars = s.char_indices().peekable();
    let flush = |lit: &mut String, parts: &mut Vec<Part>| {
        if !lit.is_empty() {
            parts.push(Part::Lit(std::mem::take(lit)));
        }
    };
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&(_, n)) if matches!(n, '*' | '?' | '\\') || (expand && n == '%') => {
                    lit.push(n);
                    chars.next();
                }
                _ => lit.push('\\'),
            },
            '*' => {
                flush(&mut lit, &mut parts);
                parts.push(Part::AnyRun);
            }
            '?' => {
                flush(&mut lit, &mut parts);
                parts.push(Part::AnyChar);
            }
            '%' if expand => {
                let rest = &s[i + 1..];
                let name_len = rest
                    .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
                    .unwrap_or(rest.len());
                if name_len > 0 && rest[name_len..].starts_with('%') {
                    flush(&mut lit, &mut parts);
                    parts.push(Part::Placeholder(rest[..name_len].to_string()));
                    for _ in 0..=rest[..name_len].chars().count() {
                        chars.next();
                    }
                } else {
                    lit.push('%');
                }
            }
            _ => lit.push(c),
        }
    }
    flush(&mut lit, &mut parts);
    Pattern::from_parts(parts).0
}

/// The first value of a detection item, before modifiers that change values.
/// `re`, `cidr`, `exists` and `fieldref` read the value as written, so they
/// must come first (as in pySigma).
pub fn initial(raw: &Raw, first: Option<Modifier>, expand: bool) -> Result<SVal, ModError> {
    let text = match raw {
        Raw::Str(s) | Raw::Num(s) => Some(*s),
        _ => None,
    };
    match (first, raw) {
        (Some(Modifier::Re), _) => text
            .map(|t| SVal::Regex {
                pattern: t.to_string(),
                ignore_case: false,
                multiline: false,
                dot_all: false,
            })
            .ok_or_else(|| "`re` needs a string value".to_string()),
        (Some(Modifier::Cidr), _) => match text {
            Some(t) if valid_cidr(t) => Ok(SVal::Cidr(t.to_string())),
            _ => Err("`cidr` needs an IPv4 or IPv6 network such as `10.0.0.0/8`".to_string()),
        },
        (Some(Modifier::Exists), Raw::Bool(b)) => Ok(SVal::Exists(*b)),
        (Some(Modifier::Exists), _) => Err("`exists` needs `true` or `false`".to_string()),
        (_, Raw::Str(s)) => Ok(SVal::Str(parse_string(s, expand))),
        (_, Raw::Num(s)) => Number::new(s)
            .map(SVal::Num)
            .ok_or_else(|| format!("`{s}` is not a number")),
        (_, Raw::Bool(b)) => Ok(SVal::Bool(*b)),
        (_, Raw::Null) => Ok(SVal::Null),
    }
}

fn valid_cidr(t: &str) -> bool {
    let (addr, bits) = t.split_once('/').unwrap_or((t, ""));
    let v4 = addr.parse::<std::net::Ipv4Addr>().is_ok();
    let v6 = addr.parse::<std::net::Ipv6Addr>().is_ok();
    let max = if v4 { 32 } else { 128 };
    (v4 || v6) && (bits.is_empty() || bits.parse::<u32>().is_ok_and(|b| b <= max))
}

/// A number given where a string is needed becomes its text.
fn as_string(v: SVal) -> SVal {
    match v {
        SVal::Num(n) => SVal::Str(vec![Part::Lit(n.text)]),
        v => v,
    }
}

/// Apply one value-changing modifier to one alternative; the result may be
/// several alternatives (`windash`, `base64offset`). Flags (`all`, `cased`,
/// `neq`, `expand`) and the modifiers handled by [`initial`] are no-ops here.
pub fn apply(m: Modifier, v: SVal, utf16_applied: bool) -> Result<Vec<SVal>, ModError> {
    use Modifier as M;
    let v = match m {
        M::Contains
        | M::StartsWith
        | M::EndsWith
        | M::Windash
        | M::Base64
        | M::Base64Offset
        | M::Utf16Le
        | M::Utf16Be
        | M::Utf16 => as_string(v),
        _ => v,
    };
    let one = |v| Ok(vec![v]);
    match (m, v) {
        (M::All | M::Cased | M::Neq | M::Expand, v) => one(v),
        (
            M::Re | M::Cidr | M::Exists,
            v @ (SVal::Regex { .. } | SVal::Cidr(_) | SVal::Exists(_)),
        ) => one(v),
        (M::Contains | M::StartsWith | M::EndsWith, SVal::Str(mut parts)) => {
            if m != M::EndsWith && parts.last() != Some(&Part::AnyRun) {
                parts.push(Part::AnyRun);
            }
            if m != M::StartsWith && parts.first() != Some(&Part::AnyRun) {
                parts.insert(0, Part::AnyRun);
            }
            one(SVal::Str(parts))
        }
        // A Sigma regex is an unanchored search already.
        (M::Contains | M::StartsWith | M::EndsWith, v @ SVal::Regex { .. }) => one(v),
        (M::Contains | M::StartsWith | M::EndsWith, SVal::FieldRef { name, starts, ends }) => {
            one(SVal::FieldRef {
                name,
                starts: starts || m != M::EndsWith,
                ends: ends || m != M::StartsWith,
            })
        }
        (
            M::ReIgnoreCase | M::ReMultiline | M::ReDotAll,
            SVal::Regex {
                pattern,
                ignore_case,
                multiline,
                dot_all,
            },
        ) => one(SVal::Regex {
            pattern,
            ignore_case: ignore_case || m == M::ReIgnoreCase,
            multiline: multiline || m == M::ReMultiline,
            dot_all: dot_all || m == M::ReDotAll,
        }),
        (M::Windash, SVal::Str(parts)) => {
            windash(&parts).map(|alts| alts.into_iter().map(SVal::Str).collect())
        }
        (M::Base64, SVal::Str(parts)) => {
            let data = plain_bytes(&parts, utf16_applied, "base64")?;
            one(SVal::Str(vec![Part::Lit(base64(&data))]))
        }
        (M::Base64Offset, SVal::Str(parts)) => {
            let data = plain_bytes(&parts, utf16_applied, "base64offset")?;
            Ok(base64_offsets(&data)
                .into_iter()
                .map(|s| SVal::Str(vec![Part::Lit(s)]))
                .collect())
        }
        (M::Utf16Le | M::Utf16Be | M::Utf16, SVal::Str(parts)) => {
            let mut out = Vec::with_capacity(parts.len() + 1);
            if m == M::Utf16 {
                out.push(Part::Lit("\u{feff}".to_string()));
            }
            for p in parts {
                out.push(match p {
                    Part::Lit(s) => Part::Lit(utf16(&s, m == M::Utf16Be)?),
                    p => p,
                });
            }
            one(SVal::Str(Pattern::from_parts(out).0))
        }
        (M::FieldRef, SVal::Str(parts)) => match Pattern(parts).as_literal() {
            Some(name) if !name.is_empty() => one(SVal::FieldRef {
                name: name.to_string(),
                starts: false,
                ends: false,
            }),
            _ => Err("`fieldref` needs a plain field name without wildcards".to_string()),
        },
        (M::Cmp(op), v) => match number_of(&v) {
            Some(value) => one(SVal::Cmp {
                op,
                value,
                unit: None,
            }),
            None => match v {
                SVal::Cmp { value, unit, .. } => one(SVal::Cmp { op, value, unit }),
                _ => Err(format!("`{}` needs a number", cmp_name(op))),
            },
        },
        (M::Time(unit), v) => match number_of(&v) {
            Some(value) => one(SVal::Cmp {
                op: CmpOp::Eq,
                value,
                unit: Some(unit),
            }),
            None => match v {
                SVal::Cmp { op, value, .. } => one(SVal::Cmp {
                    op,
                    value,
                    unit: Some(unit),
                }),
                _ => Err(format!("`{}` needs a number", unit.as_str())),
            },
        },
        (M::Re | M::Cidr | M::Exists, _) => Err(format!(
            "`{}` only applies to an unmodified value (write it first)",
            name_of(m)
        )),
        (m, v) => Err(format!(
            "`{}` does not apply to {}",
            name_of(m),
            describe(&v)
        )),
    }
}

fn number_of(v: &SVal) -> Option<Number> {
    match v {
        SVal::Num(n) => Some(n.clone()),
        SVal::Str(parts) => Pattern(parts.clone())
            .as_literal()
            .and_then(|s| Number::new(s.trim())),
        _ => None,
    }
}

fn cmp_name(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Lt => "lt",
        CmpOp::Le => "lte",
        CmpOp::Gt => "gt",
        CmpOp::Ge => "gte",
        CmpOp::Eq => "eq",
        CmpOp::Ne => "neq",
    }
}

/// The Sigma name of a modifier (for messages).
pub fn name_of(m: Modifier) -> &'static str {
    use Modifier as M;
    match m {
        M::Contains => "contains",
        M::StartsWith => "startswith",
        M::EndsWith => "endswith",
        M::All => "all",
        M::Exists => "exists",
        M::Cased => "cased",
        M::Neq => "neq",
        M::Windash => "windash",
        M::Re => "re",
        M::ReIgnoreCase => "i",
        M::ReMultiline => "m",
        M::ReDotAll => "s",
        M::Base64 => "base64",
        M::Base64Offset => "base64offset",
        M::Utf16Le => "utf16le",
        M::Utf16Be => "utf16be",
        M::Utf16 => "utf16",
        M::Cidr => "cidr",
        M::Expand => "expand",
        M::FieldRef => "fieldref",
        M::Cmp(op) => cmp_name(op),
        M::Time(u) => u.as_str(),
    }
}

fn describe(v: &SVal) -> &'static str {
    match v {
        SVal::Str(_) => "a string",
        SVal::Num(_) => "a number",
        SVal::Bool(_) => "a boolean",
        SVal::Null => "`null`",
        SVal::Regex { .. } => "a regular expression",
        SVal::Cidr(_) => "a CIDR network",
        SVal::FieldRef { .. } => "a field reference",
        SVal::Cmp { .. } => "a comparison",
        SVal::Exists(_) => "an existence test",
    }
}

/// The bytes an encoding modifier encodes: the value's UTF-8, with the
/// UTF-16 byte order mark written as `FF FE` after `|utf16` (pySigma does so).
fn plain_bytes(parts: &[Part], utf16_applied: bool, what: &str) -> Result<Vec<u8>, ModError> {
    let Some(text) = Pattern(parts.to_vec()).as_literal().map(str::to_string) else {
        return Err(format!("`{what}` cannot encode wildcards or placeholders"));
    };
    let mut data = text.into_bytes();
    let bom = "\u{feff}".as_bytes();
    if utf16_applied && data.starts_with(bom) {
        data.splice(0..bom.len(), [0xff, 0xfe]);
    }
    Ok(data)
}

/// UTF-16 code units as characters: `c` → `c\0` (LE) or `\0c` (BE). Only
/// ASCII has an exact text form (as in pySigma).
fn utf16(s: &str, big_endian: bool) -> Result<String, ModError> {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if !c.is_ascii() {
            return Err(format!(
                "UTF-16 encoding is only exact for ASCII text; `{c}` is not ASCII"
            ));
        }
        if big_endian {
            out.push('\0');
            out.push(c);
        } else {
            out.push(c);
            out.push('\0');
        }
    }
    Ok(out)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard Base64 with padding.
pub fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The three encodings of `data` at byte offsets 0, 1 and 2 of a Base64
/// stream, without the characters that depend on the neighbouring bytes
/// (the specification's and pySigma's `base64offset`).
pub fn base64_offsets(data: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut shifted = vec![b' '; i];
            shifted.extend_from_slice(data);
            let enc = base64(&shifted);
            let cut = END[(data.len() + i) % 3];
            let end = enc.len().saturating_sub(cut);
            enc.get(START[i]..end).unwrap_or("").to_string()
        })
        .collect()
}

/// The dash characters `windash` makes interchangeable.
pub const WINDASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
const MAX_WINDASH_VARIANTS: usize = 5usize.pow(6);

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every variant of the value with each `-` or `/` that starts a word after a
/// non-word character (pySigma's `\B[-/]\b`) replaced by each of
/// [`WINDASHES`]; other dashes stay.
pub fn windash(parts: &[Part]) -> Result<Vec<Vec<Part>>, ModError> {
    // Positions (part index, char index) of the dashes that vary.
    let mut sites = Vec::new();
    for (pi, p) in parts.iter().enumerate() {
        if let Part::Lit(s) = p {
            let chars: Vec<char> = s.chars().collect();
            for (ci, c) in chars.iter().enumerate() {
                let before_ok = ci == 0 || !is_word(chars[ci - 1]);
                let after_ok = chars.get(ci + 1).is_some_and(|n| is_word(*n));
                if matches!(c, '-' | '/') && before_ok && after_ok {
                    sites.push((pi, ci));
                }
            }
        }
    }
    let count = 5usize
        .checked_pow(sites.len() as u32)
        .filter(|n| *n <= MAX_WINDASH_VARIANTS)
        .ok_or_else(|| {
            format!("`windash` would expand to more than {MAX_WINDASH_VARIANTS} values")
        })?;
    let mut out = Vec::with_capacity(count);
    for combo in 0..count {
        let mut variant: Vec<Vec<char>> = parts
            .iter()
            .map(|p| match p {
                Part::Lit(s) => s.chars().collect(),
                _ => Vec::new(),
            })
            .collect();
        let mut k = combo;
        for (pi, ci) in &sites {
            variant[*pi][*ci] = WINDASHES[k % 5];
            k /= 5;
        }
        out.push(
            parts
                .iter()
                .zip(variant)
                .map(|(p, chars)| match p {
                    Part::Lit(_) => Part::Lit(chars.into_iter().collect()),
                    p => p.clone(),
                })
                .collect(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Part {
        Part::Lit(s.to_string())
    }

    #[test]
    fn escapes_follow_sigma_rules() {
        // `\*` `\?` `\\` escape; a backslash before anything else is literal.
        assert_eq!(
            parse_string(r"C:\Windows\*", false),
            vec![lit(r"C:\Windows*")]
        );
        assert_eq!(parse_string(r"a\?b", false), vec![lit("a?b")]);
        assert_eq!(
            parse_string(r"C:\\*", false),
            vec![lit(r"C:\"), Part::AnyRun]
        );
        assert_eq!(parse_string(r"x\", false), vec![lit(r"x\")]);
        assert_eq!(
            parse_string("*a?b*", false),
            vec![
                Part::AnyRun,
                lit("a"),
                Part::AnyChar,
                lit("b"),
                Part::AnyRun
            ]
        );
        assert_eq!(parse_string("", false), Vec::<Part>::new());
    }

    #[test]
    fn placeholders_only_with_expand() {
        assert_eq!(parse_string("%Servers%", false), vec![lit("%Servers%")]);
        assert_eq!(
            parse_string(r"\%plain%name%", true),
            vec![lit("%plain"), Part::Placeholder("name".into())]
        );
        assert_eq!(
            parse_string("%DC-MACHINE-NAME%$", true),
            vec![Part::Placeholder("DC-MACHINE-NAME".into()), lit("$")]
        );
    }

    #[test]
    fn base64_matches_reference_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn base64offset_gives_three_shifted_encodings() {
        // pySigma: `/bin/sh` → L2Jpbi9za, 9iaW4vc2, vYmluL3No
        assert_eq!(
            base64_offsets(b"/bin/sh"),
            vec!["L2Jpbi9za", "9iaW4vc2", "vYmluL3No"]
        );
    }

    #[test]
    fn windash_varies_only_leading_dashes() {
        let v = windash(&[lit("-foo-bar /x")]).unwrap();
        assert_eq!(v.len(), 25);
        assert_eq!(v[0], vec![lit("-foo-bar -x")]);
        assert!(v.contains(&vec![lit("/foo-bar /x")]));
        assert!(v.contains(&vec![lit("\u{2015}foo-bar \u{2013}x")]));
        assert_eq!(windash(&[lit("a-b")]).unwrap(), vec![vec![lit("a-b")]]);
    }

    #[test]
    fn utf16_variants() {
        let s = |m| apply(m, SVal::Str(vec![lit("cmd")]), false).unwrap();
        assert_eq!(
            s(Modifier::Utf16Le),
            vec![SVal::Str(vec![lit("c\0m\0d\0")])]
        );
        assert_eq!(
            s(Modifier::Utf16Be),
            vec![SVal::Str(vec![lit("\0c\0m\0d")])]
        );
        assert_eq!(
            s(Modifier::Utf16),
            vec![SVal::Str(vec![lit("\u{feff}c\0m\0d\0")])]
        );
        // utf16 then base64: the byte order mark is FF FE.
        let enc = apply(Modifier::Base64, s(Modifier::Utf16).remove(0), true).unwrap();
        assert_eq!(
            enc,
            vec![SVal::Str(vec![lit(&base64(b"\xff\xfec\0m\0d\0"))])]
        );
        assert!(apply(Modifier::Utf16Le, SVal::Str(vec![lit("é")]), false).is_err());
    }
}
