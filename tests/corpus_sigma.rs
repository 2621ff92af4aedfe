//! The SigmaHQ corpus: every file loads (no panic, metadata read), and at
//! least 99.5% of the rules under `rules*/` lower into the IR.
//! Reads the corpus root from `SIEMC_CORPORA`; skipped when unset.

use siemc::source::{sigma, Loaded};
use siemc::span::SourceMap;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
}

#[test]
fn sigma_corpus() {
    let Ok(root) = std::env::var("SIEMC_CORPORA") else {
        println!("SIEMC_CORPORA unset: skipping");
        return;
    };
    let root = Path::new(&root).join("sigma");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no files under {}", root.display());

    let mut sm = SourceMap::new();
    let ids: Vec<_> = files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("readable UTF-8");
            let rel = p.strip_prefix(&root).unwrap_or(p).display().to_string();
            sm.add(rel, text)
        })
        .collect();

    let t0 = Instant::now();
    let mut loaded: Vec<Loaded> = Vec::new();
    let mut recognised = 0;
    for id in &ids {
        if sigma::looks_like(&sm.get(*id).text) {
            recognised += 1;
        }
        loaded.extend(sigma::load(&sm, *id));
    }
    sigma::resolve(&mut loaded);
    let elapsed = t0.elapsed();

    let in_rules = |l: &Loaded| sm.get(l.file).path.starts_with("rules");
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let (mut rules, mut lowered, mut titled) = (0usize, 0usize, 0usize);
    for l in &loaded {
        if !l.meta.name.is_empty() {
            titled += 1;
        }
        if !in_rules(l) {
            for d in l.diags.iter().filter(|d| d.is_error()) {
                println!(
                    "  (outside rules*/) {}: {} {}",
                    sm.get(l.file).path,
                    d.code,
                    d.message
                );
            }
            continue;
        }
        rules += 1;
        if l.rule.is_some() && !l.has_errors() {
            lowered += 1;
        } else {
            for d in l.diags.iter().filter(|d| d.is_error()) {
                *reasons
                    .entry(format!("{} {}", d.code, d.message))
                    .or_default() += 1;
                println!("  {}: {} {}", sm.get(l.file).path, d.code, d.message);
            }
        }
    }
    let rate = lowered as f64 / rules.max(1) as f64;
    println!(
        "sigma corpus: {} files ({} recognised by content), {} documents ({} with a title); \
         rules*/: {}/{} lowered ({:.2}%); loaded in {:?}",
        files.len(),
        recognised,
        loaded.len(),
        titled,
        lowered,
        rules,
        rate * 100.0,
        elapsed
    );
    let mut top: Vec<_> = reasons.into_iter().collect();
    top.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (reason, n) in top.iter().take(10) {
        println!("  {n:5}  {reason}");
    }
    assert_eq!(recognised, files.len(), "every file is recognised as Sigma");
    assert!(titled >= files.len(), "every file's metadata is read");
    assert!(rate >= 0.995, "lowering rate {:.2}% < 99.5%", rate * 100.0);
}
