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
