//! SPL through the Kusto back-end: sources named by `source=` and field
//! values, `inputlookup` rows, times compared with strings.

use super::spl_tests::{caveats, kql, refused};

#[test]
fn inputlookup_reads_a_watchlist() {
    let q = kql("| inputlookup seen_users.csv | stats min(firstTime) as first by user");
    assert!(q.starts_with("_GetWatchlist(\"seen_users\")"), "{q}");
    assert!(
        q.contains("by user = tostring(column_ifexists(\"user\", \"\"))"),
        "{q}"
    );
    assert!(caveats("| inputlookup seen_users | table user").contains(&"watchlist".to_string()));
    // As a subsearch condition.
    let q = kql("sourcetype=\"WinEventLog:Security\" [| inputlookup admins | fields user]");
    assert!(
        q.contains("join kind=leftsemi (_GetWatchlist(\"admins\")"),
        "{q}"
    );
    // Filters and row windows on the lookup are refused by name.
    assert!(refused("| inputlookup admins where user=a").contains("filter"));
    assert!(refused("| inputlookup max=10 admins").contains("`max`"));
}

#[test]
fn numeric_strings_against_times_are_epoch_seconds() {
    let spl = "sourcetype=\"WinEventLog:Security\" | lookup seen user OUTPUT firstSeen | where firstSeen > relative_time(now(), \"-24h@h\")";
    let q = kql(spl);
    assert!(
        q.contains("unixtime_seconds_todatetime(todouble(firstSeen)) > bin(now() - 1d, 1h)"),
        "{q}"
    );
    assert!(caveats(spl).contains(&"epoch-string".to_string()));
    let q = kql("sourcetype=\"WinEventLog:Security\" | where _time > \"1700000000\"");
    assert!(
        q.contains("TimeGenerated > unixtime_seconds_todatetime(1700000000)"),
        "{q}"
    );
    // Text is compared as text by SPL: no Kusto form.
    assert!(
        refused("sourcetype=\"WinEventLog:Security\" | where _time > \"yesterday\"")
            .contains("not a number")
    );
}

#[test]
fn sources_and_field_values_pick_tables() {
    // `source=` lifted out of the filter still names the table.
    let q = kql("source=kubernetes verb=create | table verb");
    assert!(q.starts_with("AKSAudit"), "{q}");
    // AKS resource logs from a storage account: `category=kube-audit`
    // refines the sourcetype; `spath input=properties.log` adds nothing.
    let q = kql("sourcetype=mscs:storage:blob:json category=kube-audit | spath input=properties.log | search verb=create | table verb properties.pod");
    assert_eq!(
        q,
        "AKSAudit\n| where Verb =~ \"create\"\n| project Verb, PodName"
    );
    // The field value alone names nothing.
    assert!(
        refused("sourcetype=mscs:storage:blob:json category=other | table a")
            .contains("sourcetype=mscs:storage:blob:json")
    );
}

#[test]
fn windows_channels_read_the_event_table() {
    let q = kql("source=\"WinEventLog:Microsoft-Windows-Windows Defender/Operational\" EventCode=1121 | table Path");
    assert!(
        q.starts_with("Event\n| where EventLog =~ \"microsoft-windows-windows defender/operational\"\n| where tostring(EventID) =~ \"1121\""),
        "{q}"
    );
    // Several channels (and a wildcard one) are ORed.
    let q =
        kql("(source=\"WinEventLog:A/Operational\" OR source=\"XmlWinEventLog:B/*\") | table x");
    assert!(
        q.contains("where (EventLog =~ \"a/operational\" or EventLog startswith \"b/\")"),
        "{q}"
    );
    // Security events are never in Event.
    assert!(kql("source=\"WinEventLog:Security\" | table x").starts_with("SecurityEvent"));
}

#[test]
fn transaction_sessions() {
    let spl = "sourcetype=\"WinEventLog:Security\" | transaction TargetUserName startswith=(EventCode=4720) endswith=(EventCode=4726) maxspan=1h | where duration < 60";
    let q = kql(spl);
    for part in [
        "extend __tk0 = tostring(TargetUserName), __ts = (tostring(EventID) =~ \"4720\"), __te = (tostring(EventID) =~ \"4726\")",
        "sort by __tk0 asc, TimeGenerated asc",
        "row_window_session(TimeGenerated, 1h, 1h, __tk0 != prev(__tk0) or __ts or coalesce(prev(__te), false))",
        "summarize arg_min(TimeGenerated, *), eventcount = count(), __tlast = max(TimeGenerated), __tstarts = countif(__ts), __tends = countif(__te) by __tk0, __tx",
        "where __tstarts > 0 and __tends > 0",
        "extend duration = (__tlast - TimeGenerated) / 1s",
        "where duration < 60",
    ] {
        assert!(q.contains(part), "{part}\n{q}");
    }
    assert!(caveats(spl).contains(&"transaction".to_string()));
    assert!(
        refused("sourcetype=\"WinEventLog:Security\" | transaction user keepevicted=true")
            .contains("keepevicted")
    );
    assert!(
        refused("sourcetype=\"WinEventLog:Security\" | transaction user startswith=\"x\"")
            .contains("condition")
    );
}

#[test]
fn dropping_fields_by_pattern() {
    let q =
        kql("sourcetype=\"WinEventLog:Security\" | eval req_a=1, req_b=2, keep=3 | fields - req_*");
    assert!(q.ends_with("| project-away req_a, req_b"), "{q}");
}

#[test]
fn concatenation_is_text() {
    let q = kql("sourcetype=\"WinEventLog:Security\" | eval t=case(EventCode=1, \"id \".TargetUserName) | table t");
    assert!(
        q.contains("t = case((EventID == 1), strcat(\"id \", TargetUserName), \"\")"),
        "{q}"
    );
}
