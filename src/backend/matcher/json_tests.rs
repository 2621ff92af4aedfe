//! Tests of the event parser (`json.rs`).

use super::*;

fn flat(s: &str) -> Vec<(String, Leaf<'_>)> {
    let mut out = Vec::new();
    parse_flat(s, &mut |p, l, _| out.push((p.to_string(), l))).unwrap();
    out
}

/// The leaves of `s` with strings decoded into an arena (the matcher's
/// way: strings of simple escapes take `strs::compact` there), as owned
/// text, or the error.
fn flat_in_arena(s: &str) -> Result<Vec<(String, Option<String>)>, ParseError> {
    let arena = Bump::new();
    let mut out = Vec::new();
    parse_routed_in(
        s,
        None,
        Some(&arena),
        &Cell::new(false),
        |_| Some(()),
        |p, (), l, _| out.push((p.to_string(), l.text().map(|t| t.into_owned()))),
    )?;
    Ok(out)
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let mut sp = Splitter::new(deep.as_bytes());
    let rec = String::from_utf8(sp.next_record().unwrap().result.unwrap()).unwrap();
    assert!(sp.next_record().is_none());
    let e = parse_flat(&rec, &mut |_, _, _| {}).unwrap_err();
    assert!(e.message.contains("deeper"), "{e:?}");
}

#[test]
fn nested_and_dotted_keys_share_paths() {
    let a = flat(r#"{"process":{"name":"x","args":["a","b"]},"process.pid":4}"#);
    let paths: Vec<&str> = a.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "process",
            "process.name",
            "process.args",
            "process.args",
            "process.pid"
        ]
    );
    assert_eq!(a[4].1, Leaf::Num("4"));
}

#[test]
fn stop_bytes_are_found_eight_at_a_time() {
    // Every position, every stop byte, after every kind of byte.
    for len in 0..20 {
        for at in 0..=len {
            for stop in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                for fill in [b'a', 0x7f, 0x80, 0xff, b' ', 0x21, 0x5b] {
                    let mut v = vec![fill; len];
                    if at < len {
                        v[at] = stop;
                    }
                    let want = v.iter().position(|&c| STOP[c as usize]);
                    assert_eq!(find_stop(&v), want, "{v:?}");
                }
            }
        }
    }
}

/// Strings built from escapes, plain and non-ASCII runs, stray quotes
/// and backslashes, control bytes and cut-off escapes, at every length
/// around the eight-byte steps: accepted and decoded as serde_json does.
#[test]
fn strings_agree_with_serde_json() {
    const PIECES: &[&str] = &[
        "a",
        "abcdefgh",
        "abcdefghijklmnop",
        "abcdefghijklmnopq",
        "é",
        "\\\\",
        "\\\"",
        "\\/",
        "\\n",
        "\\t",
        "\\u00e9",
        "\\u0041",
        "\\ud83d\\ude00",
        "\"",
        "\\",
        "\\x",
        "\u{1}",
        "\u{1f}",
        "\\u12",
        "\\u00zz",
        "\\u+041",
    ];
    let mut next = crate::backend::matcher::xorshift(0x9e37_79b9_7f4a_7c15_u64);
    for _ in 0..40_000 {
        let n = next() % 12;
        let body: String = (0..n)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        let rec = format!(r#"{{"p":"{body}","q":1}}"#);
        let want: Result<std::collections::HashMap<String, serde_json::Value>, _> =
            serde_json::from_str(&rec);
        let mut got = Vec::new();
        let r = parse_flat(&rec, &mut |p, l, _| got.push((p.to_string(), l)));
        // Decoded into an arena: the same leaves, or an error too.
        let texts = |g: &[(String, Leaf)]| -> Vec<(String, Option<String>)> {
            g.iter()
                .map(|(p, l)| (p.clone(), l.text().map(|t| t.into_owned())))
                .collect()
        };
        match flat_in_arena(&rec) {
            Ok(a) => assert_eq!(Ok(a), r.clone().map(|()| texts(&got)), "{rec}"),
            Err(e) => assert_eq!(Err(e), r.clone(), "{rec}"),
        }
        match want {
            Ok(w) => {
                assert!(r.is_ok(), "{rec}: {r:?}");
                let p = w["p"].as_str().unwrap();
                assert_eq!(got[0].1, Leaf::Str(p.to_string().into()), "{rec}");
                // Only validated (not decoded) when not wanted.
                let skip = parse_routed(&rec, |p| (p == "q").then_some(()), |_, _, _, _| {});
                assert!(skip.is_ok(), "{rec}");
            }
            // serde_json refuses a lone surrogate; here it is U+FFFD
            // (`escapes_decode`): not comparable.
            Err(e) if e.to_string().contains("surrogate") => {}
            Err(_) => {
                assert!(r.is_err(), "{rec} accepted as {got:?}");
                let skip = parse_routed(&rec, |p| (p == "q").then_some(()), |_, _, _, _| {});
                assert!(skip.is_err(), "{rec} accepted when skipped");
            }
        }
    }
}

/// The first leaf of `rec` (its member `p`) is the string serde_json
/// decodes there.
fn decodes_as_serde_json(rec: &str) {
    let want: std::collections::HashMap<String, String> = serde_json::from_str(rec).unwrap();
    assert_eq!(flat(rec)[0].1, Leaf::Str(want["p"].clone().into()), "{rec}");
    let in_arena = flat_in_arena(rec).unwrap();
    assert_eq!(in_arena[0].1.as_deref(), Some(want["p"].as_str()), "{rec}");
}

#[test]
fn escapes_decode() {
    let a = flat(r#"{"p":"C:\\Win\u0041\ud83d\ude00\"q"}"#);
    assert_eq!(a[0].1, Leaf::Str("C:\\WinA😀\"q".to_string().into()));
    // Every escape at the start, middle and end, and escapes in a row,
    // decoded as serde_json decodes them.
    for esc in [
        r"\\", r#"\""#, r"\/", r"\n", r"\t", r"\b", r"\f", r"\r", r"\u00e9",
    ] {
        for body in [
            format!("{esc}x"),
            format!("x{esc}y"),
            format!("xy{esc}"),
            format!("{esc}{esc}"),
            format!(r"C:{esc}Windows\\{esc}\\cmd.exe"),
        ] {
            decodes_as_serde_json(&format!(r#"{{"p":"{body}"}}"#));
        }
    }
    // Dozens of escapes of every kind in one string, between runs of
    // every length up to 20 bytes, at the record's end and before another
    // member.
    for run in 0..20 {
        let part = format!("{}\\\\{}\\u00e9\\\"\\ud83d\\ude00\\n", "x".repeat(run), "é");
        let body = part.repeat(9);
        for rec in [
            format!(r#"{{"p":"{body}"}}"#),
            format!(r#"{{"p":"{body}","q":"{}"}}"#, "y".repeat(run)),
        ] {
            decodes_as_serde_json(&rec);
        }
    }
    // Simple escapes only (`\\`, `\"`, `\/`): runs of every length up to
    // 40 bytes between them (the short ones moved 16 bytes at a time), the
    // string at the record's end or not; more of them than the fast path
    // notes (32), and a general escape after them.
    for run in 0..40 {
        let x = "x".repeat(run);
        for n in [1, 2, 5, 31, 32, 33, 70] {
            let body: String = (0..n)
                .map(|i| format!("{x}{}", [r"\\", r#"\""#, r"\/"][i % 3]))
                .collect();
            for tail in ["", "é", r"\n", r"\u00e9y"] {
                for rec in [
                    format!(r#"{{"p":"{body}{x}{tail}"}}"#),
                    format!(r#"{{"p":"{body}{tail}","q":"{x}"}}"#),
                ] {
                    decodes_as_serde_json(&rec);
                }
            }
        }
    }
    assert!(parse_flat(r#"{"a":1,}"#, &mut |_, _, _| {}).is_err());
    assert!(parse_flat(r#"{"a":01}"#, &mut |_, _, _| {}).is_err());
    assert!(parse_flat(r#"{"a":"x"} x"#, &mut |_, _, _| {}).is_err());
}

/// Random records for the agreement tests: objects of strings (escaped
/// or not), numbers, literals, containers and blanks.
const STRS: &[&str] = &[
    "",
    "a",
    "C:\\\\Windows\\\\x.exe",
    "q\\\"x",
    "\\u00e9",
    "\\ud83d\\ude00",
    "é",
    "\\n\\t",
    "{[,:]}",
    "\\/",
];
const NUMS: &[&str] = &["0", "-1", "12.5", "1e3", "-0.25E-2", "4294967296"];
const BLANKS: &[&str] = &["", "", "", " ", "\n", "\t ", "\r\n"];
fn value(next: &mut impl FnMut() -> u64, depth: u32, out: &mut String) {
    let r = next();
    let pick = |r: u64, xs: &[&'static str]| xs[(r >> 8) as usize % xs.len()];
    match if depth > 3 { r % 5 } else { r % 7 } {
        0 | 1 => {
            out.push('"');
            out.push_str(pick(r, STRS));
            out.push('"');
        }
        2 => out.push_str(pick(r, NUMS)),
        3 => out.push_str(pick(r, &["true", "false", "null"])),
        4 => out.push_str(pick(r, &["[]", "{}", "[ ]", "{ }"])),
        5 => object(next, depth + 1, out),
        _ => {
            out.push('[');
            for k in 0..(r >> 16) % 4 {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(pick(next(), BLANKS));
                value(next, depth + 1, out);
                out.push_str(pick(next(), BLANKS));
            }
            out.push(']');
        }
    }
}
fn object(next: &mut impl FnMut() -> u64, depth: u32, out: &mut String) {
    out.push('{');
    let n = next() % 5;
    for k in 0..n {
        if k > 0 {
            out.push(',');
        }
        let b = |r: u64| BLANKS[(r >> 8) as usize % BLANKS.len()];
        out.push_str(b(next()));
        // Unique keys, one of them escaped.
        if next() % 6 == 0 {
            out.push_str(&format!("\"k\\u0030{k}\""));
        } else {
            out.push_str(&format!("\"k{k}\""));
        }
        out.push_str(b(next()));
        out.push(':');
        out.push_str(b(next()));
        value(next, depth, out);
        out.push_str(b(next()));
    }
    out.push('}');
}

/// A random record (see [`object`]), whole for every third `n`, else with
/// one byte deleted, changed or inserted; `None` when that is not UTF-8.
fn record(next: &mut impl FnMut() -> u64, n: u32) -> Option<String> {
    let mut rec = String::new();
    object(next, 0, &mut rec);
    let mut bytes = rec.into_bytes();
    if n % 3 != 0 && !bytes.is_empty() {
        let at = next() as usize % bytes.len();
        let c = b"{}[]:,\"\\ x0-.e\x01tfn"[next() as usize % 18];
        match next() % 3 {
            0 => {
                bytes.remove(at);
            }
            1 => bytes[at] = c,
            _ => bytes.insert(at, c),
        }
    }
    String::from_utf8(bytes).ok()
}

/// Random records (nested objects and arrays, strings with escapes,
/// numbers, literals, blanks), whole and with one byte deleted, changed
/// or inserted: accepted exactly when serde_json accepts an object, with
/// the same leaves, and the leaves this parser does not want skipped
/// without changing the verdict.
#[test]
fn records_agree_with_serde_json() {
    let mut next = crate::backend::matcher::xorshift(0x5851_f42d_4c95_7f2d_u64);
    fn flatten(v: &serde_json::Value, path: &str, top: bool, out: &mut Vec<String>) {
        use serde_json::Value as V;
        match v {
            V::Object(m) => {
                if !top {
                    out.push(format!("{path}=object"));
                }
                for (k, x) in m {
                    let p = if top {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    flatten(x, &p, false, out);
                }
            }
            V::Array(xs) => xs.iter().for_each(|x| flatten(x, path, false, out)),
            V::String(t) => out.push(format!("{path}=s:{t}")),
            V::Number(n) => out.push(format!("{path}=n:{}", n.as_f64().unwrap_or(f64::NAN))),
            V::Bool(b) => out.push(format!("{path}=b:{b}")),
            V::Null => out.push(format!("{path}=null")),
        }
    }
    let ours = |rec: &str| -> Result<Vec<String>, ParseError> {
        let mut got = Vec::new();
        parse_flat(rec, &mut |p, l, _| {
            got.push(match l {
                Leaf::Str(t) => format!("{p}=s:{t}"),
                Leaf::Num(t) => format!("{p}=n:{}", t.parse::<f64>().unwrap_or(f64::NAN)),
                Leaf::Bool(b) => format!("{p}=b:{b}"),
                Leaf::Null => format!("{p}=null"),
                Leaf::Object => format!("{p}=object"),
            })
        })?;
        got.sort();
        Ok(got)
    };
    let (mut accepted, mut compared, mut refused) = (0, 0, 0);
    for n in 0..30_000 {
        let Some(rec) = record(&mut next, n) else {
            continue;
        };
        let want = serde_json::from_str::<serde_json::Value>(&rec);
        let got = ours(&rec);
        let skipped = parse_routed(&rec, |p| (p == "k1").then_some(()), |_, _, _, _| {});
        match want {
            Ok(v) if v.is_object() => {
                let mut w = Vec::new();
                flatten(&v, "", true, &mut w);
                w.sort();
                let Ok(g) = &got else {
                    panic!("{rec}: {got:?}");
                };
                // A key made twice by an edit is one in serde_json.
                if g.len() == w.len() {
                    assert_eq!(g, &w, "{rec}");
                    compared += 1;
                }
                assert!(skipped.is_ok(), "{rec}: skipping");
                accepted += 1;
            }
            // A lone surrogate (made by an edit) is U+FFFD here; a
            // number too large for an f64 is valid JSON, refused by
            // serde_json.
            Err(_)
                if got.as_ref().is_ok_and(|g| {
                    g.iter()
                        .any(|x| x.contains('\u{FFFD}') || x.ends_with("n:inf"))
                }) => {}
            _ => {
                assert!(got.is_err(), "{rec} accepted as {got:?}");
                assert!(skipped.is_err(), "{rec} accepted when skipped");
                let e = got.unwrap_err();
                assert!(e.offset <= rec.len(), "{rec}: {e:?}");
                refused += 1;
            }
        }
    }
    assert!(
        accepted > 10_000 && compared * 100 > accepted * 95 && refused > 5_000,
        "{accepted} {compared} {refused}"
    );
}

/// Once the caller has every leaf it wants, the rest of the record is
/// checked by its own loop (`json_rest.rs`): the same verdict and error as
/// the walk, and no second walk for a valid record (one with a `\u` escape
/// of a surrogate is left to the walk).
#[test]
fn the_rest_of_a_record_gets_the_walks_verdict() {
    let mut next = crate::backend::matcher::xorshift(0x2545_f491_4f6c_dd1d);
    let (mut rests, mut refused) = (0, 0);
    for n in 0..30_000 {
        let Some(rec) = record(&mut next, n) else {
            continue;
        };
        let walked = parse_routed(&rec, |_| Some(()), |_, (), _, _| {});
        // Enough after the `stop`-th leaf.
        let stop = next() % 4;
        let (enough, mut seen) = (Cell::new(false), 0);
        let before = RECHECKS.with(Cell::get);
        let rest = parse_routed_in(
            &rec,
            None,
            None,
            &enough,
            |_| Some(()),
            |_, (), _, _| {
                enough.set(enough.get() || seen == stop);
                seen += 1;
            },
        );
        let rechecked = RECHECKS.with(Cell::get) > before;
        assert_eq!(rest, walked, "{rec}");
        if rechecked {
            assert!(
                walked.is_err() || rec.contains("\\ud"),
                "{rec}: walked twice"
            );
            refused += 1;
        } else if enough.get() {
            rests += 1;
        }
    }
    assert!(rests > 5_000 && refused > 2_000, "{rests} {refused}");
}
