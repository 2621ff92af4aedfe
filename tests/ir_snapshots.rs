//! Snapshots of the IR (as `siemc explain` prints it) of the project's own
//! rules under rules/<platform>/, in snapshots/<platform>__<file>.snap.
//! Review every new snapshot before accepting it.

use siemc::driver::load_paths;
use siemc::ir::display::explain;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn snapshot_rules(platform: &str, expected: usize) {
    let run = load_paths(&[PathBuf::from("rules").join(platform)]);
    assert_eq!(
        run.rules.len(),
        expected,
        "rules/{platform} (macro files must not load as rules)"
    );
    let mut docs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in &run.rules {
        let path = run.sm.get(l.file).path.clone();
        let rule = l
            .rule
            .as_ref()
            .unwrap_or_else(|| panic!("{path} did not load: {:?}", l.diags));
        assert!(l.diags.is_empty(), "{path}: {:?}", l.diags);
        let stem = PathBuf::from(&path)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        docs.entry(stem)
            .or_default()
            .push(explain(rule, Some(&run.sm)));
    }
    for (stem, texts) in docs {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(format!("{platform}__{stem}"), texts.join("\n"));
        });
    }
}

#[test]
fn elastic_rules_ir() {
    snapshot_rules("elastic", 6);
}

#[test]
fn splunk_rules_ir() {
    snapshot_rules("splunk", 3);
}

#[test]
fn sigma_rules_ir() {
    snapshot_rules("sigma", 6);
}
