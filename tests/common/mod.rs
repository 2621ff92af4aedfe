//! Helpers shared by the integration tests (each test crate uses a part).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The corpus root from `SIEMC_CORPORA`, or `None` after printing the skip notice.
pub fn corpora(test: &str) -> Option<PathBuf> {
    match std::env::var("SIEMC_CORPORA") {
        Ok(r) => Some(PathBuf::from(r)),
        Err(_) => {
            println!("SIEMC_CORPORA unset: skipping {test}");
            None
        }
    }
}

/// Files under `dir` (recursively) whose extension is one of `exts`, sorted.
pub fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    fn walk(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, exts, out);
            } else if p
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| exts.contains(&x))
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, exts, &mut out);
    out.sort();
    out
}

/// `(path, language, query)` of every rule of the Elastic corpus whose
/// language is one of `languages`, read with the `toml` crate (independently
/// of siemc's own loader).
pub fn elastic_queries(root: &Path, languages: &[&str]) -> Vec<(PathBuf, String, String)> {
    files(&root.join("elastic"), &["toml"])
        .into_iter()
        .filter_map(|p| {
            let doc: toml::Table = std::fs::read_to_string(&p).ok()?.parse().ok()?;
            let rule = doc.get("rule")?.as_table()?;
            let lang = rule.get("language")?.as_str()?.to_string();
            let query = rule.get("query")?.as_str()?.to_string();
            languages
                .contains(&lang.as_str())
                .then_some((p, lang, query))
        })
        .collect()
}

/// Whether a JSON string is a serialized span (`"12..34"`). Spans inside
/// tuple variants (`Lit(value, span)`) serialize as such strings; a string
/// value of that exact shape would be taken for one too.
fn is_span(s: &str) -> bool {
    s.split_once("..").is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
    })
}

/// JSON of an IR value with every span removed.
pub fn span_free<T: serde::Serialize>(x: &T) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("span");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => {
                a.retain(|x| !x.as_str().is_some_and(is_span));
                a.iter_mut().for_each(strip);
            }
            _ => {}
        }
    }
    let mut v = serde_json::to_value(x).expect("the IR serializes");
    strip(&mut v);
    v
}

/// A sample text for a wildcard pattern (`*` empty, `?` one letter `x`).
pub fn sample(parts: &[siemc::ir::Part]) -> String {
    use siemc::ir::Part;
    parts
        .iter()
        .map(|p| match p {
            Part::Lit(l) => l.as_str(),
            Part::AnyChar => "x",
            _ => "",
        })
        .collect()
}

/// Insert `v` at a dotted path as nested objects (the first value wins).
pub fn insert_path(
    obj: &mut serde_json::Map<String, serde_json::Value>,
    path: &str,
    v: serde_json::Value,
) {
    match path.split_once('.') {
        Some((head, rest)) => {
            let child = obj
                .entry(head.to_string())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
            if let serde_json::Value::Object(m) = child {
                insert_path(m, rest, v);
            }
        }
        None => {
            obj.entry(path.to_string()).or_insert(v);
        }
    }
}

/// Run `program script` with `input` as JSON on stdin (written from another
/// thread, so a large input cannot deadlock against the child's output) and
/// parse its stdout as JSON.
pub fn run_json<I: serde::Serialize, O: serde::de::DeserializeOwned>(
    program: &str,
    script: &Path,
    input: &I,
) -> O {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(program)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let input = serde_json::to_vec(input).expect("the input serializes");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("the script runs");
    writer
        .join()
        .expect("writer thread")
        .expect("write the input");
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        out.status
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}
