//! Sigma regression events: every rule of the corpus that names a folder of
//! `sigma-regression/` (its `regression_tests_path`) must give exactly the
//! folder's `match_count` matches (at least one where none is given) on the
//! folder's events, passed as upstream has them.

use siemc::backend::matcher::json::Splitter;
use siemc::backend::matcher::Engine;
use siemc::driver::load_paths;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml") {
            out.push(p);
        }
    }
}

/// Events files where more events satisfy the rule, by the Sigma
/// specification, than `match_count` says (every extra match was checked by
/// hand: e.g. three `procdump*.exe` drops for a rule listing all three).
/// Upstream's runner only checks that the rule fires (>= 1), which these pass.
const OVERCOUNTED_UPSTREAM: &[&str] = &[
    "file_event_win_anydesk_artefact.yml",
    "file_event_win_cred_dump_tools_dropped_files.yml",
    "registry_set_change_security_zones.yml",
    "registry_set_disable_administrative_share.yml",
];

#[test]
fn sigma_regression_events() {
    let Ok(root) = std::env::var("SIEMC_CORPORA") else {
        println!("SIEMC_CORPORA unset: skipping");
        return;
    };
    let root = PathBuf::from(root);
    let mut files = Vec::new();
    walk(&root.join("sigma"), &mut files);
    files.sort();
    let (mut pass, mut fail, mut missing) = (0, 0, 0);
    let mut failures = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Some(line) = text
            .lines()
            .find(|l| l.starts_with("regression_tests_path:"))
        else {
            continue;
        };
        let rel = line["regression_tests_path:".len()..].trim();
        let rel = rel.strip_prefix("regression_data/").unwrap_or(rel);
        let info_path = root.join("sigma-regression").join(rel);
        let Ok(info) = std::fs::read_to_string(&info_path) else {
            missing += 1;
            continue;
        };
        let info: serde_yaml::Value = serde_yaml::from_str(&info).expect("info.yml");
        let folder = info_path.parent().unwrap_or(Path::new("."));
        let run = load_paths(std::slice::from_ref(&f));
        let rules: Vec<_> = run.rules.iter().filter_map(|l| l.rule.clone()).collect();
        let (mut engine, refused) = Engine::compile(&rules);
        let name = f.display().to_string();
        if !refused.is_empty() || engine.is_empty() {
            fail += 1;
            failures.push(format!(
                "{name}: not runnable: {:?}",
                refused.first().map(|r| &r.message)
            ));
            continue;
        }
        for t in info["regression_tests_info"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let evtx = t["path"].as_str().unwrap_or_default();
            let stem = Path::new(evtx)
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let events = folder.join(format!("{stem}.json"));
            let Ok(bytes) = std::fs::read(&events) else {
                missing += 1;
                continue;
            };
            let mut sp = Splitter::new(bytes.as_slice());
            let mut n = 0u64;
            let mut i = 0;
            while let Some(r) = sp.next_record() {
                let raw = r.result.expect("regression events are valid JSON");
                n += engine.eval(&raw, i).expect("valid event").len() as u64;
                i += 1;
            }
            n += engine.finish().len() as u64;
            let known = OVERCOUNTED_UPSTREAM.iter().any(|k| name.ends_with(k));
            let ok = match t["match_count"].as_u64() {
                Some(want) if known && n > want => {
                    println!("  NOTE {name}: {n} matches where match_count says {want} (listed upstream inconsistency)");
                    true
                }
                Some(want) => n == want,
                None => n >= 1,
            };
            if ok {
                pass += 1;
            } else {
                fail += 1;
                failures.push(format!(
                    "{name}: {n} matches, want {:?} ({} events)",
                    t["match_count"].as_u64(),
                    i
                ));
            }
        }
    }
    println!("sigma regression: {pass} pass, {fail} fail, {missing} folders/events not in this corpus share");
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert!(pass > 0);
    assert_eq!(fail, 0, "every regression rule must give its match_count");
}
