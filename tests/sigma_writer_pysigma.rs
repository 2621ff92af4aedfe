//! Every Sigma document siemc writes is accepted by pySigma: the project's
//! rules/, the seed rules and every convertible rule of the Elastic and
//! Splunk dev corpora are converted (with --lenient, so approximate rules
//! are checked too), written to a folder, and checked in one batch by
//! tests/pysigma/check.py (SigmaCollection.from_yaml + the offline
//! validators). Needs env SIEMC_PYSIGMA_PYTHON (a python with
//! tests/pysigma/requirements.txt installed; tests/pysigma/setup.sh makes
//! one); the corpora come from env SIEMC_CORPORA when set.

use siemc::backend::{self, Options, Status, Target};
use siemc::driver::load_paths;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn reason(d: &siemc::diag::Diagnostic) -> String {
    // `Sigma cannot express the `eventstats` stage: ...` → the part before `:`.
    let head = d.message.split(": ").next().unwrap_or(&d.message);
    let head: String = head.chars().take(90).collect();
    format!("{} {head}", d.code)
}

#[test]
fn written_sigma_is_accepted_by_pysigma() {
    let Ok(python) = std::env::var("SIEMC_PYSIGMA_PYTHON") else {
        eprintln!("SIEMC_PYSIGMA_PYTHON unset: skipping (tests/pysigma/setup.sh prints it)");
        return;
    };
    let mut roots = vec![
        PathBuf::from("rules"),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/seed")),
    ];
    if let Ok(c) = std::env::var("SIEMC_CORPORA") {
        roots.push(PathBuf::from(&c).join("elastic"));
        roots.push(PathBuf::from(&c).join("splunk"));
    }
    let roots: Vec<PathBuf> = roots.into_iter().filter(|r| r.exists()).collect();
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sigma_writer_pysigma");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    let opts = Options {
        lenient: true,
        ..Options::default()
    };
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    for root in &roots {
        let run = load_paths(std::slice::from_ref(root));
        for (i, l) in run.rules.iter().enumerate() {
            let path = run.sm.get(l.file).path.clone();
            let Some(rule) = &l.rule else {
                *counts.entry("not loaded").or_default() += 1;
                let r = l
                    .diags
                    .iter()
                    .find(|d| d.is_error())
                    .map(reason)
                    .unwrap_or_default();
                *reasons.entry(format!("not loaded: {r}")).or_default() += 1;
                continue;
            };
            let o = backend::convert(Target::Sigma, rule, &opts);
            match o.status {
                Status::Exact => *counts.entry("exact").or_default() += 1,
                Status::Approximate => *counts.entry("approximate").or_default() += 1,
                Status::Unsupported | Status::Error => {
                    *counts.entry("refused").or_default() += 1;
                    let r = o
                        .diagnostics
                        .iter()
                        .find(|d| d.is_error())
                        .map(reason)
                        .unwrap_or_default();
                    *reasons.entry(r).or_default() += 1;
                }
            }
            if o.status == Status::Approximate {
                for c in &o.caveats {
                    *reasons.entry(format!("caveat {}", c.code)).or_default() += 1;
                }
            }
            if !o.text.is_empty() {
                let name = format!("{:05}_{}.yml", written.len(), i);
                std::fs::write(out_dir.join(&name), &o.text).unwrap();
                written.insert(out_dir.join(&name).display().to_string(), path);
            }
        }
    }
    let total: usize = counts.values().sum();
    eprintln!(
        "sigma writer over {} roots: {total} rules: {counts:?}",
        roots.len()
    );
    let mut rs: Vec<_> = reasons.into_iter().collect();
    rs.sort_by_key(|r| std::cmp::Reverse(r.1));
    for (r, n) in rs.iter().take(40) {
        eprintln!("  {n:6}  {r}");
    }
    let out = Command::new(&python)
        .arg("tests/pysigma/check.py")
        .arg(&out_dir)
        .output()
        .expect("run check.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut bad = Vec::new();
    let mut checked = 0;
    let mut warnings: BTreeMap<String, usize> = BTreeMap::new();
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("check.py prints JSON lines");
        if let Some(s) = v.get("summary") {
            eprintln!("pysigma: skipped validators: {}", s["skipped"]);
            continue;
        }
        checked += 1;
        for w in v["warnings"].as_array().into_iter().flatten() {
            *warnings
                .entry(w["source"].as_str().unwrap_or("").to_string())
                .or_default() += 1;
        }
        if v["errors"].as_array().is_some_and(|e| !e.is_empty()) {
            let p = v["path"].as_str().unwrap_or("").to_string();
            bad.push(format!(
                "{} ({}): {}",
                p,
                written.get(&p).cloned().unwrap_or_default(),
                v["errors"]
            ));
        }
    }
    eprintln!(
        "pysigma checked {checked} files, {} with errors; warnings by validator: {warnings:?}",
        bad.len()
    );
    assert!(
        checked == written.len(),
        "check.py checked {checked} of {} files; stderr: {}",
        written.len(),
        String::from_utf8_lossy(&out.stderr)
    );
    for b in bad.iter().take(20) {
        eprintln!("REJECTED {b}");
    }
    assert!(
        bad.is_empty(),
        "{} written Sigma files were rejected by pySigma",
        bad.len()
    );
}
