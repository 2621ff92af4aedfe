//! Decoding string values embedded in TOML and YAML while keeping a map from
//! every decoded byte back to the file ([`Origin`]).

use crate::span::{FileId, Origin};

/// Decode the raw TOML string token `raw` (quotes included) that starts at
/// `file_offset`. Returns the text and its origin, or `None` when `raw` is not
/// a string token this decoder knows.
pub fn decode_toml_string(file: FileId, raw: &str, file_offset: usize) -> Option<(String, Origin)> {
    let (delim, basic) = if raw.starts_with("'''") {
        ("'''", false)
    } else if raw.starts_with("\"\"\"") {
        ("\"\"\"", true)
    } else if raw.starts_with('\'') {
        ("'", false)
    } else if raw.starts_with('"') {
        ("\"", true)
    } else {
        return None;
    };
    if raw.len() < 2 * delim.len() || !raw.ends_with(delim) {
        return None;
    }
    let multi = delim.len() == 3;
    let mut start = delim.len();
    let body_end = raw.len() - delim.len();
    // A newline right after the opening delimiter of a multi-line string is trimmed.
    if multi {
        if raw[start..].starts_with("\r\n") {
            start += 2;
        } else if raw[start..].starts_with('\n') {
            start += 1;
        }
    }
    let body = &raw[start..body_end];
    let base = file_offset + start;
    if !basic {
        return Some((body.to_string(), Origin::verbatim(file, base)));
    }
    let mut out = String::with_capacity(body.len());
    let mut segments: Vec<(u32, u32)> = vec![(0, base as u32)];
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < body.len() {
        if bytes[i] != b'\\' {
            let next = body[i..].find('\\').map(|n| i + n).unwrap_or(body.len());
            out.push_str(&body[i..next]);
            i = next;
            continue;
        }
        // an escape: decoded text at out.len() comes from file offset base+i
        let esc = bytes.get(i + 1).copied()?;
        let (decoded, used): (Option<char>, usize) = match esc {
            b'n' => (Some('\n'), 2),
            b't' => (Some('\t'), 2),
            b'r' => (Some('\r'), 2),
            b'b' => (Some('\u{8}'), 2),
            b'f' => (Some('\u{c}'), 2),
            b'e' => (Some('\u{1b}'), 2),
            b'"' => (Some('"'), 2),
            b'\\' => (Some('\\'), 2),
            b'u' | b'U' => {
                let n = if esc == b'u' { 4 } else { 8 };
                let hex = body.get(i + 2..i + 2 + n)?;
                (
                    Some(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?),
                    2 + n,
                )
            }
            b'x' => {
                let hex = body.get(i + 2..i + 4)?;
                (Some(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?), 4)
            }
            b' ' | b'\t' | b'\n' | b'\r' if multi => {
                // line-ending backslash: skip whitespace and newlines
                let rest = &body[i + 1..];
                let skip = rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len();
                (None, 1 + skip)
            }
            _ => return None,
        };
        if let Some(c) = decoded {
            segments.push((out.len() as u32, (base + i) as u32));
            out.push(c);
        }
        i += used;
        segments.push((out.len() as u32, (base + i) as u32));
    }
    segments.dedup_by_key(|s| s.0);
    Some((out, Origin::from_segments(file, segments)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_multiline_skips_first_newline() {
        let raw = "'''\nabc'''";
        let (t, o) = decode_toml_string(FileId(0), raw, 10).unwrap();
        assert_eq!(t, "abc");
        assert_eq!(o.map(0), 14);
    }

    #[test]
    fn basic_string_escapes_map_back() {
        let raw = r#""a\"b\\c""#; // text a"b\c
        let (t, o) = decode_toml_string(FileId(0), raw, 0).unwrap();
        assert_eq!(t, "a\"b\\c");
        assert_eq!(o.map(0), 1); // a
        assert_eq!(o.map(1), 2); // \"
        assert_eq!(o.map(2), 4); // b
        assert_eq!(o.map(3), 5); // \\
        assert_eq!(o.map(4), 7); // c
    }
}
