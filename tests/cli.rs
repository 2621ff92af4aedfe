//! The command line as users run it: exit codes, output shapes, options.

use std::process::Command;

fn siemc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_siemc"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_exit_codes() {
    let (code, _, err) = siemc(&["check", "rules"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("with errors"), "summary line: {err}");
    let (code, out, _) = siemc(&[
        "check",
        "tests/cases/elastic-broken/eql_unclosed_string.toml",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("error[E0203]"), "{out}");
    assert!(
        out.contains("--> tests/cases/elastic-broken/eql_unclosed_string.toml:10:31"),
        "{out}"
    );
    let (code, _, _) = siemc(&["check", "--format", "yaml", "rules"]);
    assert_eq!(code, 2, "usage error");
    let (code, _, _) = siemc(&["check", "no/such/path"]);
    assert_eq!(code, 1);
}

#[test]
fn check_json_is_one_object_per_rule() {
    let (code, out, _) = siemc(&[
        "check",
        "--format",
        "json",
        "tests/cases/elastic-broken/kuery_unclosed_paren.toml",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["status"], "error");
    assert_eq!(v["format"], "elastic");
    assert_eq!(v["language"], "kuery");
    let d = &v["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some("E0203"), Some(9), Some(23))
    );
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "path",
            "rule_id",
            "name",
            "format",
            "language",
            "status",
            "diagnostics"
        ]
    );
}

#[test]
fn check_sarif_has_results_with_regions() {
    let (_, out, _) = siemc(&[
        "check",
        "--format",
        "sarif",
        "tests/cases/elastic-broken/unknown_language.toml",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "E0107");
    assert_eq!(r["level"], "error");
    let region = &r["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(7), Some(12))
    );
    assert!(v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == "E0107"));
}

#[test]
fn macros_option_supplies_definitions() {
    let dir = std::env::temp_dir().join(format!("siemc-macros-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        "rules/splunk/o365_mailbox_rights_delegation.yml",
        dir.join("d.yml"),
    )
    .unwrap();
    let d = dir.to_string_lossy().into_owned();
    let (code, out, _) = siemc(&["check", &d]);
    assert_eq!(code, 1, "no macros/ folder above the copy: {out}");
    assert!(out.contains("E0109"));
    let (code, _, err) = siemc(&["check", "--macros", "rules/splunk/macros", &d]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn explain_prints_semantics() {
    let (code, out, _) = siemc(&[
        "explain",
        "rules/elastic/collection_mailbox_export_via_powershell.toml",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("match process.name<ecs> any of [\"powershell.exe\""),
        "{out}"
    );
    assert!(out.contains("(nocase, whole, array:any)"));
    let (_, out, _) = siemc(&[
        "explain",
        "--format",
        "json",
        "rules/elastic/collection_mailbox_export_via_powershell.toml",
    ]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["meta"]["id"], "4242b3b0-cdff-4101-bf70-1f026c60d3d3");
}

#[test]
fn convert_mapping_file_extends_the_field_map() {
    let rule = "rules/elastic/collection_o365_mailbox_permission_grant.toml";
    let (code, out, _) = siemc(&["convert", "--to", "sigma", "--format", "json", rule]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(code, 1, "strict refuses the unmapped field");
    assert_eq!(v["status"], "unsupported");
    assert!(v["caveats"].to_string().contains("event.outcome"), "{v}");
    let (code, out, err) = siemc(&[
        "convert",
        "--to",
        "sigma",
        "--format",
        "json",
        "--mapping",
        "tests/cases/mapping/sigma-outcome.yml",
        rule,
    ]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (code, v["status"].as_str()),
        (0, Some("exact")),
        "{v} {err}"
    );
    assert!(
        v["output"]
            .as_str()
            .unwrap()
            .contains("ResultStatus|cased: success"),
        "{v}"
    );
}

/// `siemc match` with the mailbox-export rule on `threads` threads.
fn mailbox_match(threads: &str) -> [&str; 6] {
    [
        "match",
        "--quiet",
        "--threads",
        threads,
        "--rules",
        "rules/sigma/proc_creation_win_mailbox_export_powershell.yml",
    ]
}

/// A fresh temporary directory for a test, and the mailbox rule's events.
fn mailbox_events(test: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("siemc-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read_to_string(
        "rules/sigma/proc_creation_win_mailbox_export_powershell.events.ndjson",
    )
    .unwrap();
    (dir, good)
}

/// Stateless rule sets run on several threads: the output (alerts, event
/// indexes, bad-record reports, in input order) is the same as on one.
#[test]
fn match_on_threads_gives_the_same_output_in_order() {
    let (dir, good) = mailbox_events("threads");
    // Enough records for many batches, with bad ones between them.
    let mut big = String::new();
    for i in 0..3000 {
        big.push_str(&good);
        if i % 700 == 0 {
            big.push_str("{\"truncated\": \n");
            big.push_str("not json\n");
        }
    }
    let a = dir.join("a.ndjson");
    let b = dir.join("b.ndjson");
    std::fs::write(&a, &big).unwrap();
    std::fs::write(&b, &good).unwrap();
    let missing = dir.join("missing.ndjson");
    let run = |threads: &str| {
        let mut args = mailbox_match(threads).to_vec();
        args.extend([
            "--events",
            a.to_str().unwrap(),
            missing.to_str().unwrap(),
            b.to_str().unwrap(),
        ]);
        siemc(&args)
    };
    let (c1, out1, err1) = run("1");
    let (c4, out4, err4) = run("4");
    assert_eq!(c1, 1, "an unreadable input is an error: {err1}");
    assert_eq!(c4, 1);
    let alerts = out1.lines().count();
    assert!(alerts > 3000, "{alerts} alerts");
    assert_eq!(out1, out4);
    // Everything but the throughput figures is the same.
    let strip = |e: &str| {
        e.lines()
            .map(|l| l.split(" bad records,").next().unwrap_or(l).to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&err1), strip(&err4));
    assert!(err4.contains("bad record"), "{err4}");
    assert!(err4.contains("cannot read"), "{err4}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A followed log (`tail -f | siemc match`): an event's alert comes out
/// while the input is still open, on one thread and on several.
#[test]
fn match_alerts_on_a_live_stream_before_the_input_ends() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let events = std::fs::read_to_string(
        "rules/sigma/proc_creation_win_mailbox_export_powershell.events.ndjson",
    )
    .unwrap();
    let first = events.lines().next().unwrap();
    for threads in ["1", "2"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_siemc"))
            .args(mailbox_match(threads))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{first}").unwrap();
        stdin.flush().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let got = rx.recv_timeout(std::time::Duration::from_secs(60));
        drop(stdin);
        let _ = child.wait();
        let line = got.expect("no alert while the input was open");
        assert!(line.contains("\"event_index\":0"), "{threads}: {line}");
    }
}

/// A pretty-printed record (objects one after another, as evtx dumps
/// write them) alerts as one NDJSON line: its line breaks become spaces,
/// and the event in the alert is the record as read.
#[test]
fn match_writes_a_multi_line_record_as_one_line() {
    let (dir, good) = mailbox_events("pretty");
    let first: serde_json::Value = serde_json::from_str(good.lines().next().unwrap()).unwrap();
    let pretty = serde_json::to_string_pretty(&first).unwrap();
    assert!(pretty.contains('\n'));
    let events = dir.join("pretty.json");
    // Line ends of three kinds.
    let crlf = pretty.replace('\n', "\r\n");
    let cr = pretty.replace('\n', "\r");
    std::fs::write(&events, format!("{crlf}\r\n{pretty}\n{cr}\r")).unwrap();
    let mut args = mailbox_match("1").to_vec();
    args.extend(["--events", events.to_str().unwrap()]);
    let (code, out, err) = siemc(&args);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for l in lines {
        assert!(!l.contains('\r'), "{l:?}");
        let alert: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(alert["event"], first, "{l}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
