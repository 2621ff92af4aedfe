//! `siemc convert --to TARGET`: the contract every back-end shares.

use siemc::backend::{self, Options, Status, Target};
use siemc::diag::{render_text, to_json};
use siemc::driver::load_paths_with;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

pub struct Args {
    pub target: Target,
    pub json: bool,
    pub out: Option<PathBuf>,
    pub opts: Options,
    pub paths: Vec<PathBuf>,
    pub load: siemc::source::Options,
}

/// File extension of a target's output.
fn extension(target: Target, opts: &Options) -> &'static str {
    match (target, opts.flavor.as_deref()) {
        (Target::Sigma, _) => "yml",
        (Target::Kql, Some("sentinel-yaml")) => "yaml",
        (Target::Kql, _) => "kql",
        (Target::Rust, _) => "rs",
    }
}

/// The output path mirroring `input` (relative to the input root it was found under).
fn out_path(out: &Path, input: &str, roots: &[PathBuf], ext: &str, index: usize) -> PathBuf {
    let p = Path::new(input);
    let rel = roots
        .iter()
        .filter(|r| r.is_dir())
        .find_map(|r| p.strip_prefix(r).ok())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(p.file_name().unwrap_or_default()));
    let mut target = out.join(rel);
    let stem = target
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = if index == 0 {
        format!("{stem}.{ext}")
    } else {
        format!("{stem}.{index}.{ext}")
    };
    target.set_file_name(name);
    target
}

pub fn run(a: Args) -> i32 {
    let run = load_paths_with(&a.paths, &a.load);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut failed = false;
    let total = run.rules.len();
    let progress = total > 20 && std::io::stderr().is_terminal() && !a.json;
    let mut per_file: BTreeMap<u32, usize> = BTreeMap::new();
    // `--to rust` writes one module for the whole set, after the loop.
    let mut module_rules: Vec<&siemc::ir::Rule> = Vec::new();
    for (i, l) in run.rules.iter().enumerate() {
        if progress && i % 10 == 0 {
            let w = 30 * i / total.max(1);
            eprint!("\r[{}{}] {i}/{total}", "#".repeat(w), " ".repeat(30 - w));
        }
        let path = run.sm.get(l.file).path.clone();
        let index = {
            let n = per_file.entry(l.file.0).or_default();
            *n += 1;
            *n - 1
        };
        let (status, result) = match &l.rule {
            None => (Status::Error, None),
            Some(rule) => {
                let o = backend::convert(a.target, rule, &a.opts);
                (o.status, Some(o))
            }
        };
        *counts.entry(status.as_str()).or_default() += 1;
        if matches!(status, Status::Unsupported | Status::Error) {
            failed = true;
            let ds = result.as_ref().map(|o| &o.diagnostics).unwrap_or(&l.diags);
            for d in ds.iter().filter(|d| d.is_error()).take(1) {
                *reasons.entry(d.code.to_string()).or_default() += 1;
            }
        }
        if a.json {
            let (text, caveats, diags) = match &result {
                Some(o) => (
                    o.text.as_str(),
                    o.caveats
                        .iter()
                        .map(|c| serde_json::json!({"code": c.code, "message": c.message}))
                        .collect(),
                    o.diagnostics
                        .iter()
                        .chain(l.diags.iter())
                        .map(|d| to_json(d, &run.sm))
                        .collect::<Vec<_>>(),
                ),
                None => (
                    "",
                    Vec::new(),
                    l.diags.iter().map(|d| to_json(d, &run.sm)).collect(),
                ),
            };
            let v = serde_json::json!({
                "path": path, "rule_id": l.meta.id, "target": a.target.as_str(), "status": status.as_str(),
                "output": text, "caveats": caveats, "diagnostics": diags,
            });
            let _ = writeln!(out, "{v}");
            continue;
        }
        for d in l
            .diags
            .iter()
            .chain(result.iter().flat_map(|o| o.diagnostics.iter()))
        {
            eprint!("{}", render_text(d, &run.sm));
        }
        let Some(o) = result.filter(|o| !o.text.is_empty()) else {
            continue;
        };
        if a.target == Target::Rust {
            module_rules.extend(l.rule.as_ref());
            continue;
        }
        match &a.out {
            Some(dir) => {
                let p = out_path(dir, &path, &a.paths, extension(a.target, &a.opts), index);
                if let Some(parent) = p.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                if let Err(e) = std::fs::write(&p, &o.text) {
                    eprintln!("error: cannot write {}: {e}", p.display());
                    failed = true;
                }
            }
            None => {
                let _ = writeln!(out, "{}", o.text.trim_end());
                if a.target == Target::Sigma {
                    let _ = writeln!(out, "---");
                } else {
                    let _ = writeln!(out);
                }
            }
        }
    }
    if progress {
        eprint!("\r{}\r", " ".repeat(50));
    }
    if a.target == Target::Rust && !a.json && !module_rules.is_empty() {
        failed |= !write_module(&module_rules, a.out.as_deref(), &mut out);
    }
    for (p, d) in &run.file_errors {
        let _ = p;
        eprint!("{}", render_text(d, &run.sm));
        failed = true;
    }
    let _ = out.flush();
    let by_reason: Vec<String> = reasons.iter().map(|(r, n)| format!("{r}: {n}")).collect();
    eprintln!(
        "converted {} rules to {}: {} exact, {} approximate, {} refused, {} failed{}",
        total,
        a.target.as_str(),
        counts.get("exact").unwrap_or(&0),
        counts.get("approximate").unwrap_or(&0),
        counts.get("unsupported").unwrap_or(&0),
        counts.get("error").unwrap_or(&0),
        if by_reason.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_reason.join(", "))
        }
    );
    i32::from(failed)
}

/// `--to rust`: one module for every accepted rule, to `--out` (a `.rs`
/// file, or `rules.rs` in a folder) or stdout. False when it cannot be written.
fn write_module(rules: &[&siemc::ir::Rule], out: Option<&Path>, stdout: &mut dyn Write) -> bool {
    let (text, _) = backend::rust::module(rules);
    let Some(out) = out else {
        let _ = write!(stdout, "{text}");
        return true;
    };
    let p = if out.extension().is_some_and(|e| e == "rs") {
        out.to_path_buf()
    } else {
        out.join("rules.rs")
    };
    if let Some(parent) = p.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    match std::fs::write(&p, text) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", p.display());
            false
        }
    }
}
