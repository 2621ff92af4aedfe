//! Snapshots of the IR (as `siemc explain` prints it) of the project's own
//! Splunk detections in rules/splunk, under snapshots/. Review every new
//! snapshot before accepting it.

use siemc::driver::load_paths;
use siemc::ir::display::explain;
use std::path::PathBuf;

#[test]
fn splunk_rules_ir() {
    let run = load_paths(&[PathBuf::from("rules/splunk")]);
    assert_eq!(
        run.rules.len(),
        3,
        "macro files must not load as detections"
    );
    for l in &run.rules {
        let path = run.sm.get(l.file).path.clone();
        let name = PathBuf::from(&path)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let rule = l
            .rule
            .as_ref()
            .unwrap_or_else(|| panic!("{path} did not load: {:?}", l.diags));
        assert!(l.diags.is_empty(), "{path}: {:?}", l.diags);
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(format!("splunk__{name}"), explain(rule, Some(&run.sm)));
        });
    }
}
