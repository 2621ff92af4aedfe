//! The Elastic corpus through the whole front half (loader, parsers, lowering):
//! counts by language, the top failure reasons, and the rates issue 2 requires.

use siemc::driver::load_paths;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[test]
fn elastic_corpus_loads_and_lowers() {
    let Ok(root) = std::env::var("SIEMC_CORPORA") else {
        println!("SIEMC_CORPORA unset: skipping the Elastic corpus test");
        return;
    };
    let run = load_paths(&[PathBuf::from(root).join("elastic")]);
    assert!(run.file_errors.is_empty(), "{:?}", run.file_errors);
    let mut by_lang: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut no_meta = Vec::new();
    for l in &run.rules {
        let lang = match (l.language, l.meta.rule_type.as_deref()) {
            (Some(x), _) => x.as_str().to_string(),
            (None, Some(t)) => t.to_string(),
            (None, None) => "unknown".into(),
        };
        let e = by_lang.entry(lang).or_default();
        e.0 += 1;
        let errors: Vec<_> = l.diags.iter().filter(|d| d.is_error()).collect();
        if errors.is_empty() && l.rule.is_some() {
            e.1 += 1;
        } else {
            for d in errors {
                *reasons
                    .entry(format!(
                        "{} {}",
                        d.code,
                        d.message.chars().take(70).collect::<String>()
                    ))
                    .or_default() += 1;
            }
            if l.meta.id.is_empty() || l.meta.name.is_empty() {
                no_meta.push(run.sm.get(l.file).path.clone());
            }
        }
    }
    println!("Elastic corpus: {} rule files", run.rules.len());
    for (lang, (n, ok)) in &by_lang {
        println!(
            "  {lang:<18} {ok:>5} / {n:<5} ({:.1}%)",
            100.0 * *ok as f64 / *n as f64
        );
    }
    let mut top: Vec<_> = reasons.into_iter().collect();
    top.sort_by_key(|t| std::cmp::Reverse(t.1));
    for (r, n) in top.iter().take(15) {
        println!("  {n:>4}  {r}");
    }
    assert!(run.rules.len() >= 1500);
    assert!(no_meta.is_empty(), "metadata not loaded: {no_meta:?}");
    let rate = |l: &str| {
        by_lang
            .get(l)
            .map(|(n, ok)| *ok as f64 / *n as f64)
            .unwrap_or(0.0)
    };
    assert_eq!(rate("eql"), 1.0, "every EQL rule must lower");
    assert_eq!(rate("kuery"), 1.0, "every kuery rule must lower");
    assert!(rate("esql") >= 0.98, "ES|QL below 98%");
    assert_eq!(
        rate("machine_learning"),
        1.0,
        "every machine_learning rule must load"
    );
}
