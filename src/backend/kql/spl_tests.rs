//! SPL through the Kusto back-end: sub-queries (`join`, `append`,
//! subsearch conditions), lookups (watchlists, `iplocation`), wildcard
//! renames, eval functions, and the refusals that remain.

use super::convert;
use crate::backend::{Options, Status};
use crate::ir::*;
use crate::span::{FileId, Origin, Span};

fn rule(spl: &str) -> Rule {
    let origin = Origin::verbatim(FileId(0), 0);
    let c = crate::lang::spl::compile(&crate::lang::Input {
        text: spl,
        origin: &origin,
    })
    .unwrap_or_else(|e| panic!("{spl}: {e:?}"));
    Rule {
        meta: Meta {
            id: "r1".into(),
            name: "test".into(),
            ..Meta::default()
        },
        query: Some(c.query),
        caveats: vec![],
        span: Span::new(FileId(0), 0, spl.len()),
    }
}

fn run(spl: &str) -> crate::backend::Output {
    convert(
        &rule(spl),
        &Options {
            lenient: true,
            schema: Some("xdr".into()),
            ..Options::default()
        },
    )
}

/// The query text without its header comments.
pub(super) fn kql(spl: &str) -> String {
    let o = run(spl);
    assert!(
        matches!(o.status, Status::Exact | Status::Approximate),
        "{spl}: {:?}",
        o.diagnostics
    );
    o.text
        .lines()
        .filter(|l| !l.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn caveats(spl: &str) -> Vec<String> {
    run(spl).caveats.iter().map(|c| c.code.clone()).collect()
}

/// The first error message.
pub(super) fn refused(spl: &str) -> String {
    let o = run(spl);
    assert!(
        !matches!(o.status, Status::Exact | Status::Approximate),
        "{spl} converted:\n{}",
        o.text
    );
    o.diagnostics
        .iter()
        .find(|d| d.is_error())
        .map(|d| d.message.clone())
        .unwrap_or_default()
}

const PROCS: &str = "| tstats count from datamodel=Endpoint.Processes by Processes.dest Processes.process_guid Processes.process_name | rename Processes.* as *";
const FILES: &str = "| tstats count from datamodel=Endpoint.Filesystem by Filesystem.file_name Filesystem.process_guid | rename Filesystem.* as *";

fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).collect()
}

#[test]
fn join_reads_the_sub_query_from_its_own_table() {
    let q = kql(&format!(
        "{PROCS} | join process_guid [{FILES}] | table dest process_name file_name"
    ));
    let l = lines(&q);
    assert_eq!(l[2], "| extend __k0 = tostring(process_guid)");
    assert_eq!(l[3], "| join kind=inner (DeviceFileEvents");
    assert_eq!(
        l[5],
        "| project __k0 = tostring(InitiatingProcessId), file_name = FileName, process_guid = InitiatingProcessId, ['count']"
    );
    // Rows without the key join nothing; max=1 keeps one row per key.
    assert_eq!(l[6], "| where isnotempty(__k0)");
    assert_eq!(l[7], "| summarize take_any(*) by __k0) on __k0");
    // overwrite=true: the sub-query's `count` replaces the row's.
    assert_eq!(l[8], "| extend ['count'] = count1");
    assert_eq!(l[9], "| project-away __k0, __k01, count1");
    assert_eq!(l[10], "| project DeviceName, FileName, file_name");
    assert!(caveats(&format!("{PROCS} | join process_guid [{FILES}]"))
        .contains(&"join-max".to_string()));
}

#[test]
fn outer_join_keeps_unmatched_rows_and_their_values() {
    let q = kql(&format!(
        "{PROCS} | join type=outer max=0 process_guid [{FILES}] | table dest file_name count"
    ));
    assert!(q.contains("| join kind=leftouter (DeviceFileEvents"), "{q}");
    assert!(q.contains("| extend __matched = true) on __k0"), "{q}");
    assert!(
        q.contains("| extend ['count'] = iff(isnotnull(__matched), count1, ['count'])"),
        "{q}"
    );
    assert!(!q.contains("take_any"), "max=0 keeps every match: {q}");
}

#[test]
fn append_is_a_union_under_the_spl_names() {
    let q = kql(&format!(
        "{PROCS} | append [{FILES}] | stats count by process_guid"
    ));
    let l = lines(&q);
    assert_eq!(l[2], "| union (DeviceFileEvents");
    assert_eq!(
        l[4],
        "| project file_name = FileName, process_guid = InitiatingProcessId, ['count'])"
    );
    assert_eq!(l[5], "| summarize ['count'] = count() by process_guid");
}

#[test]
fn subsearch_conditions_are_semi_and_anti_joins() {
    let q = kql("sourcetype=aws:cloudtrail eventName=ConsoleLogin [search sourcetype=aws:cloudtrail eventName=CreateUser | fields src_ip]");
    let l = lines(&q);
    assert_eq!(l[1], "| where EventName =~ \"ConsoleLogin\"");
    assert_eq!(l[2], "| extend __s0 = tolower(tostring(SourceIpAddress))");
    assert_eq!(l[3], "| join kind=leftsemi (AWSCloudTrail");
    assert_eq!(l[4], "| where EventName =~ \"CreateUser\"");
    assert_eq!(
        l[6],
        "| project __s0 = tolower(tostring(SourceIpAddress)), src_ip = SourceIpAddress"
    );
    assert_eq!(l[7], "| project __s0");
    assert_eq!(l[8], "| where isnotempty(__s0)) on __s0");
    assert_eq!(l[9], "| project-away __s0");
    let q = kql("sourcetype=aws:cloudtrail NOT [search sourcetype=aws:cloudtrail eventName=CreateUser | fields src_ip]");
    assert!(q.contains("| join kind=leftanti (AWSCloudTrail"), "{q}");
    // Under OR a subsearch is not a conjunct: still refused.
    let e = refused("sourcetype=aws:cloudtrail (eventName=x OR [search sourcetype=aws:cloudtrail | fields src_ip])");
    assert!(e.contains("subsearch used as a condition"), "{e}");
    // Returned whole events: the fields are unknown.
    let e = refused("sourcetype=aws:cloudtrail [search sourcetype=aws:cloudtrail eventName=x]");
    assert!(e.contains("returns whole events"), "{e}");
}

#[test]
fn lookups_read_watchlists() {
    let q = kql(&format!("{PROCS} | lookup is_windows_system_file filename as process_name OUTPUT is_windows_system_file | where is_windows_system_file!=\"true\""));
    let l = lines(&q);
    assert_eq!(l[2], "| extend __l0 = tostring(FileName)");
    assert_eq!(
        l[3],
        r#"| lookup kind=leftouter (_GetWatchlist("is_windows_system_file") | project __l0 = tostring(column_ifexists("filename", "")), __o0 = tostring(column_ifexists("is_windows_system_file", ""))) on __l0"#
    );
    assert_eq!(l[4], "| extend is_windows_system_file = __o0");
    assert_eq!(l[5], "| project-away __l0, __o0");
    assert_eq!(
        l[6],
        r#"| where isnotempty(is_windows_system_file) and not(is_windows_system_file == "true")"#
    );
    let e = refused(&format!("{PROCS} | lookup some_table process_name"));
    assert!(e.contains("without OUTPUT fields"), "{e}");
}

#[test]
fn iplocation_reads_kusto_geolocation() {
    let q =
        kql("sourcetype=aws:cloudtrail | iplocation prefix=src_ src_ip | table src_City src_lat");
    let l = lines(&q);
    assert_eq!(
        l[1],
        "| extend __geo = geo_info_from_ip_address(tostring(SourceIpAddress))"
    );
    assert_eq!(l[2], "| extend src_City = tostring(__geo.city), src_Country = tostring(__geo.country), src_Region = tostring(__geo.state), src_lat = toreal(__geo.latitude), src_lon = toreal(__geo.longitude)");
    assert_eq!(l[3], "| project-away __geo");
    assert!(caveats("sourcetype=aws:cloudtrail | iplocation src_ip")
        .contains(&"iplocation".to_string()));
}

#[test]
fn join_refusals_name_the_construct() {
    let e = refused(&format!("{PROCS} | join [{FILES}]"));
    assert!(e.contains("without join fields"), "{e}");
    let e = refused(&format!("{PROCS} | join max=3 process_guid [{FILES}]"));
    assert!(e.contains("max=3"), "{e}");
    let e = refused(&format!("{PROCS} | join dest [{FILES}]"));
    assert!(e.contains("join field `dest` is not among"), "{e}");
}

#[test]
fn eval_functions_with_argument_dependent_forms() {
    let w = |e: &str| {
        let q = kql(&format!("sourcetype=aws:cloudtrail | eval x={e} | table x"));
        q.lines()
            .find_map(|l| l.strip_prefix("| extend x = "))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        w("if(in(eventName, \"a\", userAgent), 1, 0)"),
        "iff((EventName in (\"a\", UserAgent)), todouble(1), todouble(0))"
    );
    assert_eq!(
        w("mvfind(eventName, \"^Get\")"),
        "iff(EventName matches regex @\"^Get\", 0, long(null))"
    );
    assert_eq!(
        w("mvappend(eventName, userAgent)"),
        "array_concat(iff(isempty(EventName), dynamic([]), pack_array(EventName)), iff(isempty(UserAgent), dynamic([]), pack_array(UserAgent)))"
    );
    assert_eq!(w("substr(eventName, 3)"), "substring(EventName, 2)");
    assert_eq!(
        w("substr(eventName, -4)"),
        "substring(EventName, max_of(strlen(EventName) - 4, 0))"
    );
    assert_eq!(w("trim(eventName, \"$\")"), "trim(@\"[\\$]+\", EventName)");
    assert_eq!(
        w("if(like(eventName, \"%\".userAgent.\"%\"), 1, 0)"),
        "iff((EventName contains_cs UserAgent), todouble(1), todouble(0))"
    );
    assert!(caveats(
        "sourcetype=aws:cloudtrail | eval x=if(like(eventName, \"%\".userAgent.\"%\"), 1, 0)"
    )
    .contains(&"like-computed-pattern".to_string()));
    let e = refused("sourcetype=aws:cloudtrail | eval x=mvfind(eventName, userAgent)");
    assert!(e.contains("computed regex"), "{e}");
}

#[test]
fn latest_is_the_value_of_the_latest_event() {
    let q = kql("sourcetype=aws:cloudtrail | stats latest(userAgent) as agent earliest(eventName) as first by src_ip");
    let l = lines(&q);
    assert_eq!(
        l[1],
        "| summarize (__at0, agent) = arg_max(iff(isnotempty(UserAgent), TimeGenerated, datetime(null)), UserAgent), (__at1, first) = arg_min(iff(isnotempty(EventName), TimeGenerated, datetime(null)), EventName) by SourceIpAddress"
    );
    assert_eq!(l[2], "| project-away __at0, __at1");
    // After an aggregation without the time there is no latest event.
    let e = refused("sourcetype=aws:cloudtrail | stats count by src_ip | stats latest(count) as c");
    assert!(e.contains("dropped the event time"), "{e}");
}

#[test]
fn wildcard_renames_compute_the_fields_read_later() {
    let q = kql(&format!(
        "{PROCS} | rename process* as parent_process* | table parent_process_name process_name"
    ));
    let l = lines(&q);
    assert_eq!(l[2], "| extend parent_process_name = FileName");
    // The old name is gone after the rename.
    assert_eq!(l[3], "| extend process_name = \"\"");
    assert_eq!(l[4], "| project parent_process_name, process_name");
    // A JSON column named by the prefix: its keys.
    let q = kql("sourcetype=aws:cloudtrail | rename requestParameters.* as * | table bucketName");
    assert!(
        q.contains("| extend bucketName = tostring(parse_json(RequestParameters)[\"bucketName\"])"),
        "{q}"
    );
    let e = refused("sourcetype=aws:cloudtrail | rename *a* as *b* | table x");
    assert!(e.contains("one `*` on each side"), "{e}");
}

#[test]
fn eql_substring_takes_start_and_end() {
    let origin = Origin::verbatim(FileId(0), 0);
    let text = r#"process where substring(process.name, 1, -4) == "md""#;
    let c = crate::lang::eql::compile(&crate::lang::Input {
        text,
        origin: &origin,
    })
    .expect("eql");
    let mut r = rule("sourcetype=x");
    r.query = Some(c.query);
    let o = convert(&r, &Options::default());
    assert!(
        o.text
            .contains("substring(FileName, 1, max_of((max_of(strlen(FileName) - 4, 0)) - (1), 0))"),
        "{}",
        o.text
    );
}

#[test]
fn addtotals_and_fromjson() {
    let q = kql(
        "sourcetype=aws:cloudtrail | eval a=1, b=2 | addtotals fieldname=Score a b | table Score",
    );
    assert!(
        q.contains("| extend Score = (coalesce(todouble(todouble(a)), todouble(0)) + coalesce(todouble(todouble(b)), todouble(0)))"),
        "{q}"
    );
    let e = refused("sourcetype=aws:cloudtrail | addtotals");
    assert!(e.contains("addtotals"), "{e}");
    let q = kql("sourcetype=aws:cloudtrail | fromjson requestParameters | table bucketName");
    let l = lines(&q);
    assert_eq!(
        l[1],
        "| extend __params = parse_json(tostring(RequestParameters))"
    );
    assert_eq!(
        l[2],
        "| project bucketName = tostring(__params[\"bucketName\"])"
    );
    assert!(
        caveats("sourcetype=aws:cloudtrail | fromjson requestParameters")
            .contains(&"fromjson".to_string())
    );
}
