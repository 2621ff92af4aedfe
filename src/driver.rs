//! Running the front half of the pipeline over files and folders: discover
//! rule files, read them (in parallel), load and lower every rule.

use crate::diag::{codes, Diagnostic};
use crate::ir::SourceFormat;
use crate::source::{self, Loaded};
use crate::span::{FileId, SourceFile, SourceMap, Span};
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

/// Rule files under `dir`, in path order: each folder's entries sorted by
/// name, sub-folders walked in place (the order sorting whole paths would
/// give, without comparing paths component by component).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        // A symbolic link counts as what it points to.
        let is_dir = match e.file_type() {
            Ok(t) if t.is_symlink() => p.is_dir(),
            Ok(t) => t.is_dir(),
            Err(_) => p.is_dir(),
        };
        if is_dir {
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

/// A file as read (and recognised) on a loading thread.
enum Read {
    Text(SourceFile, Option<SourceFormat>),
    /// The text read lossily, and the offset of the first invalid byte.
    BadUtf8(SourceFile, Option<SourceFormat>, usize),
    Io(String),
    /// Found in a folder and of no known format: not a rule, not reported.
    Skip,
}

/// Load every rule under `paths`.
pub fn load_paths(paths: &[PathBuf]) -> Run {
    load_paths_with(paths, &source::Options::default())
}

/// Load every rule under `paths` with loader options (`--macros DIR`).
pub fn load_paths_with(paths: &[PathBuf], opts: &source::Options) -> Run {
    let (files, mut file_errors) = discover(paths);
    // Reading, recognising the format and indexing lines happen on every
    // core; files are numbered in path order afterwards.
    let read: Vec<(String, Read)> = files
        .into_par_iter()
        .map(|(p, explicit)| {
            let path = p.display().to_string();
            let r = match std::fs::read(&p) {
                Err(e) => Read::Io(e.to_string()),
                Ok(bytes) => {
                    let (text, bad_at) = match String::from_utf8(bytes) {
                        Ok(s) => (s, None),
                        Err(e) => {
                            let at = e.utf8_error().valid_up_to();
                            (String::from_utf8_lossy(e.as_bytes()).into_owned(), Some(at))
                        }
                    };
                    let fmt = source::detect(&p, &text);
                    if fmt.is_none() && !explicit {
                        Read::Skip
                    } else {
                        let file = SourceFile::new(path.clone(), text);
                        match bad_at {
                            None => Read::Text(file, fmt),
                            Some(at) => Read::BadUtf8(file, fmt, at),
                        }
                    }
                }
            };
            (path, r)
        })
        .collect();
    let mut sm = SourceMap::new();
    let mut jobs: Vec<(FileId, SourceFormat)> = Vec::new();
    let mut rules = Vec::new();
    for (path, r) in read {
        match r {
            Read::Skip => {}
            Read::Io(e) => file_errors.push((
                path.clone(),
                Diagnostic::error(codes::IO_ERROR, format!("cannot read {path}: {e}")),
            )),
            Read::BadUtf8(file, fmt, at) => {
                // Register the lossy text so the error renders with a source line.
                let id = sm.add_file(file);
                let mut l = Loaded::new(id, fmt.unwrap_or(SourceFormat::ElasticToml));
                l.diags.push(
                    Diagnostic::error(codes::INVALID_UTF8, "the file is not valid UTF-8")
                        .at(Span::new(id, at, at + 1))
                        .label("invalid byte sequence here"),
                );
                rules.push(l);
            }
            Read::Text(file, Some(fmt)) => {
                let id = sm.add_file(file);
                jobs.push((id, fmt));
            }
            // Named explicitly (a folder's unknown files are skipped above).
            Read::Text(file, None) => {
                let id = sm.add_file(file);
                let mut l = Loaded::new(id, SourceFormat::ElasticToml);
                l.diags.push(
                    Diagnostic::error(codes::NOT_A_RULE, format!("{path} is not a rule of a known format"))
                        .note("siemc reads Elastic detection-rules TOML, Splunk security_content YAML and Sigma YAML"),
                );
                rules.push(l);
            }
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
    // Reserved once: a loaded rule is large (~1.6 KB), and growing the
    // vector step by step copied them all again at each step.
    rules.reserve(loaded.iter().map(Vec::len).sum());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Walking each folder in name order gives the order of sorting whole
    /// paths, which compare by component: the folder `a` and its files come
    /// before `a b.yaml`, `a-b.yml` and `a.yml` (byte order of the whole
    /// strings would put `a b.yaml` first). Hidden entries are skipped,
    /// only rule extensions are kept.
    #[test]
    fn walk_order_is_sorted_path_order() {
        let root = std::env::temp_dir().join(format!("siemc-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let files = [
            "a.yml",
            "a/x.yml",
            "a/b/y.toml",
            "a-b.yml",
            "a b.yaml",
            "ab/z.yml",
            "B.yml",
            "a/.hidden.yml",
            ".git/c.yml",
            "notes.txt",
            "z/0.yml",
        ];
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "x").unwrap();
        }
        let (found, errors) = discover(std::slice::from_ref(&root));
        assert!(errors.is_empty());
        let got: Vec<PathBuf> = found.into_iter().map(|(p, _)| p).collect();
        let mut want: Vec<PathBuf> = files
            .iter()
            .filter(|f| !f.contains("/.") && !f.starts_with('.') && !f.ends_with(".txt"))
            .map(|f| root.join(f))
            .collect();
        want.sort();
        assert_eq!(got, want);
        let _ = std::fs::remove_dir_all(&root);
    }

    /// A folder's files of no known format are skipped without a word; the
    /// same files named on their own are reported (not a rule, or not
    /// UTF-8 at the bad byte); nothing else is lost beside them.
    #[test]
    fn unknown_files_are_skipped_in_folders_and_reported_when_named() {
        let root = std::env::temp_dir().join(format!("siemc-skip-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let notes = root.join("notes.yml");
        let binary = root.join("blob.yml");
        std::fs::write(&notes, "just: some\nyaml: here\n").unwrap();
        std::fs::write(&binary, [b'a', b':', b' ', 0xC3, 0x28, b'\n']).unwrap();
        std::fs::write(
            root.join("rule.yml"),
            "title: t\nlogsource:\n    product: x\ndetection:\n    sel:\n        A: 1\n    condition: sel\n",
        )
        .unwrap();
        let codes_of = |run: &Run| -> Vec<codes::Code> {
            run.rules
                .iter()
                .flat_map(|l| l.diags.iter().map(|d| d.code))
                .collect()
        };
        let run = load_paths(std::slice::from_ref(&root));
        assert!(run.file_errors.is_empty());
        assert_eq!(run.rules.len(), 1, "only the rule");
        assert!(run.rules[0].rule.is_some() && codes_of(&run).is_empty());
        assert_eq!(
            run.sm.get(run.rules[0].file).path,
            root.join("rule.yml").display().to_string()
        );
        let run = load_paths(&[notes, binary]);
        assert_eq!(codes_of(&run), [codes::NOT_A_RULE, codes::INVALID_UTF8]);
        let _ = std::fs::remove_dir_all(&root);
    }
}
