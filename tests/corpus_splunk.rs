//! The Splunk security_content corpus through loader, macro expansion, SPL
//! parser and lowering: counts, the top failure reasons, and the rates issue 3
//! requires (≥ 98% of searches lower without error, 100% load metadata).

use siemc::diag::Severity;
use siemc::driver::load_paths;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[test]
fn splunk_corpus_loads_and_lowers() {
    let Ok(root) = std::env::var("SIEMC_CORPORA") else {
        println!("SIEMC_CORPORA unset: skipping the Splunk corpus test");
        return;
    };
    let dir = PathBuf::from(root).join("splunk").join("detections");
    let t = std::time::Instant::now();
    let run = load_paths(&[dir]);
    let elapsed = t.elapsed();
    assert!(run.file_errors.is_empty(), "{:?}", run.file_errors);
    let total = run.rules.len();
    let mut ok = 0;
    let mut no_meta = Vec::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut warnings: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples: BTreeMap<String, String> = BTreeMap::new();
    for l in &run.rules {
        if l.meta.id.is_empty() || l.meta.name.is_empty() {
            no_meta.push(run.sm.get(l.file).path.clone());
        }
        for d in l.diags.iter().filter(|d| d.severity == Severity::Warning) {
            *warnings
                .entry(format!("{} {}", d.code, d.message))
                .or_default() += 1;
        }
        let errors: Vec<_> = l.diags.iter().filter(|d| d.is_error()).collect();
        if errors.is_empty() && l.rule.is_some() {
            ok += 1;
            continue;
        }
        for d in errors {
            let key = format!(
                "{} {}",
                d.code,
                d.message.chars().take(80).collect::<String>()
            );
            let path = run.sm.get(l.file).path.clone();
            let pos = d.span.map(|s| run.sm.resolve(s));
            examples.entry(key.clone()).or_insert_with(|| {
                format!(
                    "{path}:{}",
                    pos.map(|p| format!("{}:{}", p.line, p.column))
                        .unwrap_or_default()
                )
            });
            *reasons.entry(key).or_default() += 1;
        }
    }
    let rate = 100.0 * ok as f64 / total.max(1) as f64;
    println!("Splunk corpus: {total} detections, {ok} lowered without error ({rate:.1}%), in {elapsed:?}");
    let mut top: Vec<_> = reasons.into_iter().collect();
    top.sort_by_key(|t| std::cmp::Reverse(t.1));
    println!("top failure reasons:");
    for (r, n) in top.iter().take(20) {
        println!("  {n:>4}  {r}   (e.g. {})", examples[r]);
    }
    let mut topw: Vec<_> = warnings.into_iter().collect();
    topw.sort_by_key(|t| std::cmp::Reverse(t.1));
    println!("top warnings:");
    for (r, n) in topw.iter().take(15) {
        println!("  {n:>4}  {r}");
    }
    assert!(
        total >= 1200,
        "expected the 1,200 detections, found {total}"
    );
    assert!(no_meta.is_empty(), "metadata not loaded: {no_meta:?}");
    assert!(rate >= 98.0, "only {rate:.1}% of searches lowered");
}
