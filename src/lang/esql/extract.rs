//! The output columns of DISSECT and GROK patterns.
//! DISSECT: <https://www.elastic.co/docs/reference/query-languages/esql/esql-process-data-with-dissect-grok>

/// Output names of a DISSECT pattern: `%{name}`, `%{+name}` (appended to
/// `name`), `%{name->}` (padding). `%{}` and `%{?name}` are skipped; the
/// reference keys `%{*name}` / `%{&name}` name their column from the data,
/// so they are returned in the second list.
pub fn dissect_outputs(pattern: &str) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::new();
    let mut dynamic = Vec::new();
    let mut rest = pattern;
    while let Some(i) = rest.find("%{") {
        let body = &rest[i + 2..];
        let Some(j) = body.find('}') else { break };
        let key = body[..j].trim_end_matches("->");
        let key = key.split('/').next().unwrap_or(key);
        rest = &body[j + 1..];
        let (modifier, name) = match key.chars().next() {
            Some(c @ ('+' | '?' | '*' | '&')) => (Some(c), &key[1..]),
            _ => (None, key),
        };
        if name.is_empty() || modifier == Some('?') {
            continue;
        }
        if matches!(modifier, Some('*' | '&')) {
            dynamic.push(name.to_string());
            continue;
        }
        push_unique(&mut out, name);
    }
    (out, dynamic)
}

/// Output names of a GROK pattern: `%{SYNTAX:name}`, `%{SYNTAX:name:type}`
/// and regex named groups `(?<name>...)`; `%{SYNTAX}` alone captures nothing.
pub fn grok_outputs(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(i) = rest.find("%{") {
        let body = &rest[i + 2..];
        let Some(j) = body.find('}') else { break };
        let mut parts = body[..j].split(':');
        rest = &body[j + 1..];
        if let (Some(_), Some(name)) = (parts.next(), parts.next()) {
            if !name.is_empty() {
                push_unique(&mut out, name);
            }
        }
    }
    for open in ["(?<", "(?P<"] {
        let mut rest = pattern;
        while let Some(i) = rest.find(open) {
            let body = &rest[i + open.len()..];
            let Some(j) = body.find('>') else { break };
            push_unique(&mut out, &body[..j]);
            rest = &body[j + 1..];
        }
    }
    out
}

fn push_unique(out: &mut Vec<String>, name: &str) {
    if !out.iter().any(|n| n == name) {
        out.push(name.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dissect_keys() {
        let (out, dynamic) = dissect_outputs("%{a} %{+a} %{?skip} %{} %{b->} %{*k}=%{&k} %{c/2}");
        assert_eq!(out, vec!["a", "b", "c"]);
        assert_eq!(dynamic, vec!["k", "k"]);
    }

    #[test]
    fn grok_names() {
        let out = grok_outputs(r"%{IP:client.ip} %{WORD} %{NUMBER:bytes:int} (?<user>\w+)");
        assert_eq!(out, vec!["client.ip", "bytes", "user"]);
    }
}
