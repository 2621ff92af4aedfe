//! Running the front half of the pipeline over files and folders: discover
//! rule files, read them (in parallel), load and lower every rule.

use crate::diag::{codes, Diagnostic};
use crate::ir::SourceFormat;
use crate::source::{self, Loaded};
use crate::span::{FileId, SourceMap, Span};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Every rule of a run, with the files they came from.
pub struct Run {
    pub sm: SourceMap,
    pub rules: Vec<Loaded>,
    /// Problems with files that could not be read as rules at all.
    pub file_errors: Vec<FileError>,
}

/// A problem with a path that is not a rule: the path and the diagnostic.
pub type FileError = (String, Diagnostic);

/// Candidate files under the given paths, sorted, each with whether it was
/// named explicitly (always a candidate) or found in a folder (by extension).
pub fn discover(paths: &[PathBuf]) -> (Vec<(PathBuf, bool)>, Vec<FileError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found);
            found.sort();
            out.extend(found.into_iter().map(|f| (f, false)));
        } else if p.exists() {
            out.push((p.clone(), true));
        } else {
            errors.push((
                p.display().to_string(),
                Diagnostic::error(
                    codes::IO_ERROR,
                    format!("{}: no such file or folder", p.display()),
                ),
            ));
        }
    }
    (out, errors)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("toml" | "yml" | "yaml")
        ) {
            out.push(p);
        }
    }
}

/// Stack size of the loading threads.
const PARSER_STACK: usize = 64 << 20;

enum Read {
    Text(String),
    BadUtf8(String, usize),
    Io(String),
}

/// Load every rule under `paths`.
pub fn load_paths(paths: &[PathBuf]) -> Run {
    load_paths_with(paths, &source::Options::default())
}

/// Load every rule under `paths` with loader options (`--macros DIR`).
pub fn load_paths_with(paths: &[PathBuf], opts: &source::Options) -> Run {
    let (files, mut file_errors) = discover(paths);
    let read: Vec<(PathBuf, bool, Read)> = files
        .into_par_iter()
        .map(|(p, explicit)| {
            let r = match std::fs::read(&p) {
                Err(e) => Read::Io(e.to_string()),
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(s) => Read::Text(s),
                    Err(e) => {
                        let at = e.utf8_error().valid_up_to();
                        Read::BadUtf8(String::from_utf8_lossy(e.as_bytes()).into_owned(), at)
                    }
                },
            };
            (p, explicit, r)
        })
        .collect();
    let mut sm = SourceMap::new();
    let mut jobs: Vec<(FileId, SourceFormat)> = Vec::new();
    let mut rules = Vec::new();
    for (p, explicit, r) in read {
        let path = p.display().to_string();
        match r {
            Read::Io(e) => file_errors.push((
                path.clone(),
                Diagnostic::error(codes::IO_ERROR, format!("cannot read {path}: {e}")),
            )),
            Read::BadUtf8(lossy, at) => {
                // Register the lossy text so the error renders with a source line.
                let fmt = source::detect(&p, &lossy);
                if fmt.is_none() && !explicit {
                    continue;
                }
                let id = sm.add(path, lossy);
                let mut l = Loaded::new(id, fmt.unwrap_or(SourceFormat::ElasticToml));
                l.diags.push(
                    Diagnostic::error(codes::INVALID_UTF8, "the file is not valid UTF-8")
                        .at(Span::new(id, at, at + 1))
                        .label("invalid byte sequence here"),
                );
                rules.push(l);
            }
            Read::Text(text) => match source::detect(&p, &text) {
                Some(fmt) => {
                    let id = sm.add(path, text);
                    jobs.push((id, fmt));
                }
                None if explicit => {
                    let id = sm.add(path.clone(), text);
                    let mut l = Loaded::new(id, SourceFormat::ElasticToml);
                    l.diags.push(
                        Diagnostic::error(codes::NOT_A_RULE, format!("{path} is not a rule of a known format"))
                            .note("siemc reads Elastic detection-rules TOML, Splunk security_content YAML and Sigma YAML"),
                    );
                    rules.push(l);
                }
                None => {}
            },
        }
    }
    let load_all = || -> Vec<Vec<Loaded>> {
        jobs.par_iter()
            .map(|(id, fmt)| source::load(&sm, *id, *fmt, opts))
            .collect()
    };
    // Recursive-descent parsers need more stack than rayon's default 2 MiB at
    // MAX_DEPTH in debug builds; a pool with roomy stacks keeps E0205 the
    // answer to absurd nesting, not a stack overflow.
    let loaded = match rayon::ThreadPoolBuilder::new()
        .stack_size(PARSER_STACK)
        .build()
    {
        Ok(pool) => pool.install(load_all),
        Err(_) => load_all(),
    };
    rules.extend(loaded.into_iter().flatten());
    rules.sort_by_key(|l| l.file);
    // Sigma filters and correlations may name rules of other files.
    source::sigma::resolve(&mut rules);
    Run {
        sm,
        rules,
        file_errors,
    }
}
