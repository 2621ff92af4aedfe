//! Log-source → table choices of the Kusto back-end for the sources added
//! from Microsoft's table references (GCPAuditLogs, AKSAudit, OktaV2_CL,
//! GitHubAuditLogsV2_CL, MicrosoftGraphActivityLogs, AADUserRiskEvents,
//! Syslog, Event, SecurityEvent): one small rule per source, asserting the
//! table, a translated field and the caveats that mark approximations.

use siemc::backend::{convert, Options, Status, Target};
use siemc::driver::load_paths;

fn kuery_toml(index: &str, query: &str) -> String {
    format!(
        "[metadata]\ncreation_date = \"2026/01/01\"\nmaturity = \"production\"\nupdated_date = \"2026/01/01\"\n\n[rule]\nauthor = [\"siemc\"]\ndescription = \"d\"\nfrom = \"now-9m\"\nindex = [\"{index}\"]\nlanguage = \"kuery\"\nlicense = \"Apache-2.0\"\nname = \"n\"\nrisk_score = 21\nrule_id = \"00000000-0000-0000-0000-000000000000\"\nseverity = \"low\"\ntype = \"query\"\nquery = '''\n{query}\n'''\n"
    )
}

fn spl_yaml(search: &str) -> String {
    let search = search.replace('\'', "''");
    format!(
        "name: n\nid: 00000000-0000-0000-0000-000000000001\nversion: 1\ndate: '2026-01-01'\nauthor: siemc\nstatus: experimental\ntype: TTP\ndescription: d\ndata_source: []\nsearch: '{search}'\nhow_to_implement: n/a\nknown_false_positives: n/a\nreferences: []\ntags:\n  analytic_story: []\n  asset_type: Endpoint\n  confidence: 50\n  impact: 50\n  message: m\n  mitre_attack_id: [T1059]\n  observable: []\n  product: [Splunk Enterprise]\n  required_fields: []\n  risk_score: 25\n  security_domain: endpoint\n"
    )
}

/// Converts one rule file leniently for the xdr schema; returns the status
/// and the text.
fn kql(ext: &str, text: &str) -> (Status, String) {
    let dir = std::env::temp_dir().join(format!(
        "siemc-kql-sources-{}-{}",
        std::process::id(),
        text.len()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("rule.{ext}"));
    std::fs::write(&path, text).unwrap();
    let run = load_paths(&[path]);
    let _ = std::fs::remove_dir_all(&dir);
    let rule = run.rules[0].rule.as_ref().expect("the rule loads");
    let o = convert(
        Target::Kql,
        rule,
        &Options {
            lenient: true,
            schema: Some("xdr".into()),
            ..Options::default()
        },
    );
    (o.status, o.text)
}

fn query_lines(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn gcp_audit_reads_gcpauditlogs() {
    let (st, t) = kql(
        "toml",
        &kuery_toml(
            "logs-gcp.audit-*",
            "event.dataset:gcp.audit and event.action:\"google.iam.admin.v1.CreateServiceAccountKey\" and gcp.audit.request.spec.hostPID:true",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("GCPAuditLogs"), "{t}");
    assert!(q.contains("MethodName =="), "{t}");
    assert!(q.contains(r#"Request["spec"]["hostPID"]"#), "{t}");
    assert!(!q.contains("event.dataset"), "{t}");
    assert_eq!(st, Status::Approximate, "{t}");
}

#[test]
fn kubernetes_audit_reads_aksaudit_with_a_caveat() {
    let (st, t) = kql(
        "toml",
        &kuery_toml(
            "logs-kubernetes.audit_logs-*",
            "kubernetes.audit.verb:create and kubernetes.audit.objectRef.resource:pods",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("AKSAudit"), "{t}");
    assert!(
        q.contains("Verb") && q.contains(r#"ObjectRef["resource"]"#),
        "{t}"
    );
    assert!(t.contains("Azure Kubernetes Service clusters only"), "{t}");
    assert_eq!(st, Status::Approximate);
}

#[test]
fn okta_system_reads_oktav2() {
    let (_, t) = kql(
        "toml",
        &kuery_toml(
            "logs-okta.system*",
            "event.dataset:okta.system and okta.event_type:user.mfa.factor.deactivate",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("OktaV2_CL"), "{t}");
    assert!(q.contains("EventOriginalType"), "{t}");
}

#[test]
fn github_audit_reads_the_connector_table() {
    let (st, t) = kql(
        "toml",
        &kuery_toml(
            "logs-github.audit-*",
            "event.dataset:github.audit and event.action:\"repo.access\" and github.repository_public:true",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("GitHubAuditLogsV2_CL"), "{t}");
    assert!(q.contains("Action ==") && q.contains("PublicRepo"), "{t}");
    assert_eq!(st, Status::Exact, "{t}");
}

#[test]
fn graph_activity_and_identity_protection() {
    let (_, t) = kql(
        "toml",
        &kuery_toml(
            "logs-azure.graphactivitylogs-*",
            "event.dataset:azure.graphactivitylogs and http.request.method:GET",
        ),
    );
    assert!(
        query_lines(&t).starts_with("MicrosoftGraphActivityLogs"),
        "{t}"
    );
    assert!(t.contains("RequestMethod"), "{t}");
    let (_, t) = kql(
        "toml",
        &kuery_toml(
            "logs-azure.identity_protection-*",
            "event.dataset:azure.identity_protection and azure.identityprotection.properties.risk_state:atRisk",
        ),
    );
    assert!(query_lines(&t).starts_with("AADUserRiskEvents"), "{t}");
    assert!(t.contains("RiskState"), "{t}");
}

#[test]
fn syslog_dataset_reads_syslog() {
    let (_, t) = kql(
        "toml",
        &kuery_toml(
            "logs-system.syslog-*",
            "event.dataset:system.syslog and process.name:kernel and message:*segfault*",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("Syslog"), "{t}");
    assert!(
        q.contains("ProcessName") && q.contains("SyslogMessage"),
        "{t}"
    );
}

#[test]
fn windows_security_fields_infer_securityevent() {
    // No index pattern or category names the source: the winlog.* fields do.
    let (st, t) = kql(
        "toml",
        &kuery_toml(
            "winlogbeat-*",
            "event.code:4662 and winlog.event_data.AccessMask:0x100",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("SecurityEvent"), "{t}");
    assert!(q.contains("AccessMask"), "{t}");
    assert!(t.contains("inferred from the winlog.* fields"), "{t}");
    assert_eq!(st, Status::Approximate);
}

#[test]
fn powershell_script_blocks_read_event_data() {
    let (st, t) = kql(
        "yml",
        &spl_yaml("EventCode=4104 ScriptBlockText=\"*FromBase64String*\""),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("Event"), "{t}");
    assert!(
        q.contains(r#"EventLog == "Microsoft-Windows-PowerShell/Operational""#),
        "{t}"
    );
    assert!(q.contains(r#"tostring(EventID) =~ "4104""#), "{t}");
    assert!(q.contains(r#"<Data Name=\"ScriptBlockText\">"#), "{t}");
    assert!(t.contains("EventData XML with a regular expression"), "{t}");
    assert_eq!(st, Status::Approximate);
}

#[test]
fn linux_auditd_reads_syslog_messages() {
    let (st, t) = kql(
        "yml",
        &spl_yaml("sourcetype=linux:audit type=SYSCALL comm=curl"),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("Syslog"), "{t}");
    assert!(q.contains("SyslogMessage"), "{t}");
    assert!(t.contains("audisp syslog plugin"), "{t}");
    assert_eq!(st, Status::Approximate);
}

#[test]
fn sysmon_process_access_reads_event() {
    let (_, t) = kql(
        "yml",
        &spl_yaml("sourcetype=XmlWinEventLog:Microsoft-Windows-Sysmon/Operational EventCode=10 TargetImage=*lsass.exe"),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("Event"), "{t}");
    assert!(q.contains(r#"Source == "Microsoft-Windows-Sysmon""#), "{t}");
    assert!(q.contains(r#"<Data Name=\"TargetImage\">"#), "{t}");
}

#[test]
fn google_workspace_admin_reads_googleworkspacereports() {
    let (st, t) = kql(
        "toml",
        &kuery_toml(
            "logs-google_workspace.admin-*",
            "data_stream.dataset:google_workspace.admin and event.action:ASSIGN_ROLE and google_workspace.admin.role.name:*_ADMIN_ROLE and google_workspace.admin.privilege.name:x",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("GoogleWorkspaceReports"), "{t}");
    assert!(q.contains(r#"EventMessage == "ASSIGN_ROLE""#), "{t}");
    assert!(q.contains("RoleName"), "{t}");
    // The data set is the report name, not a stored column.
    assert!(
        q.contains(r#"strcat("google_workspace.", IdApplicationName)"#),
        "{t}"
    );
    // A parameter without a column is read from the raw events JSON.
    assert!(q.contains("EventOriginalMessage"), "{t}");
    assert!(t.contains("raw events JSON"), "{t}");
    assert_eq!(st, Status::Approximate, "{t}");
}

#[test]
fn google_workspace_device_set_is_the_mobile_report() {
    let (_, t) = kql(
        "toml",
        &kuery_toml(
            "logs-google_workspace.device-*",
            "data_stream.dataset:google_workspace.device and google_workspace.device.account_state:REGISTERED",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("GoogleWorkspaceReports"), "{t}");
    assert!(q.contains(r#"IdApplicationName == "mobile""#), "{t}");
    assert!(q.contains(r#"AccountState == "REGISTERED""#), "{t}");
}

#[test]
fn splunk_gws_login_sourcetype_filters_the_login_report() {
    let (st, t) = kql(
        "yml",
        &spl_yaml("sourcetype=gws:reports:login event.name=login_failure | stats count by actor.email, src_ip"),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("GoogleWorkspaceReports"), "{t}");
    assert!(q.contains(r#"IdApplicationName == "login""#), "{t}");
    assert!(q.contains(r#"EventMessage =~ "login_failure""#), "{t}");
    assert!(q.contains("by ActorEmail, SrcIpAddr"), "{t}");
    assert!(matches!(st, Status::Exact | Status::Approximate), "{t}");
}

#[test]
fn fortigate_reads_cef_commonsecuritylog_with_a_caveat() {
    let (st, t) = kql(
        "toml",
        &kuery_toml(
            "logs-fortinet_fortigate.*",
            "data_stream.dataset: \"fortinet_fortigate.log\" and event.code: \"0100044547\" and fortinet.firewall.cfgpath: \"system.admin\"",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("CommonSecurityLog"), "{t}");
    assert!(q.contains(r#"DeviceVendor == "Fortinet""#), "{t}");
    // The CEF signature id (DeviceEventClassID) is only the last 5 digits
    // of the logid; the full logid is the FTNTFGTlogid extension.
    assert!(
        q.contains(
            r#"extract(@'(?:^|;)FTNTFGTlogid=([^;]*)', 1, AdditionalExtensions) == "0100044547""#
        ),
        "{t}"
    );
    assert!(q.contains("FTNTFGTcfgpath="), "{t}");
    assert!(t.contains("caveat (table-approximation)"), "{t}");
    assert_eq!(st, Status::Approximate, "{t}");
}

#[test]
fn windows_security_index_names_securityevent_and_its_actions() {
    let toml = kuery_toml("logs-system.security*", "x")
        .replace("language = \"kuery\"", "language = \"eql\"")
        .replace("type = \"query\"", "type = \"eql\"")
        .replace(
            "\nx\n",
            "\niam where event.action == \"added-member-to-group\" and group.name : \"Domain Admins\"\n",
        );
    let (st, t) = kql("toml", &toml);
    let q = query_lines(&t);
    assert!(q.starts_with("SecurityEvent"), "{t}");
    assert!(
        q.contains(r#"EventID in (4728, 4732, 4756), "added-member-to-group""#),
        "{t}"
    );
    assert!(q.contains("TargetUserName"), "{t}");
    assert_eq!(st, Status::Approximate, "{t}");
}

fn eql_toml(index: &str, query: &str) -> String {
    kuery_toml(index, "x")
        .replace("language = \"kuery\"", "language = \"eql\"")
        .replace("type = \"query\"", "type = \"eql\"")
        .replace("\nx\n", &format!("\n{query}\n"))
}

#[test]
fn elastic_defend_and_endgame_alerts_read_defender_alert_evidence() {
    let (st, t) = kql(
        "toml",
        &kuery_toml(
            "logs-endpoint.alerts-*",
            "event.kind : alert and event.code : malicious_file and host.name : \"h1\"",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("AlertEvidence"), "{t}");
    assert!(
        q.contains(r#"ServiceSource has "Defender for Endpoint""#),
        "{t}"
    );
    assert!(
        q.contains(r#"Categories has "Malware", "malicious_file""#),
        "{t}"
    );
    assert!(q.contains(r#"DeviceName == "h1""#), "{t}");
    assert!(t.contains("caveat (table-approximation)"), "{t}");
    assert_eq!(st, Status::Approximate, "{t}");

    let (st, t) = kql(
        "toml",
        &kuery_toml(
            "endgame-*",
            "event.kind:alert and event.module:endgame and endgame.metadata.type:detection and event.action:cred_theft_event",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("AlertEvidence"), "{t}");
    assert!(
        q.contains(r#"Categories has "CredentialAccess", "cred_theft_event""#),
        "{t}"
    );
    assert!(!t.contains("unmapped-field"), "{t}");
    assert_eq!(st, Status::Approximate, "{t}");
}

#[test]
fn kibana_alerts_read_sentinel_security_alert() {
    let (st, t) = kql(
        "toml",
        &kuery_toml(
            ".alerts-security.*",
            "kibana.alert.rule.name:\"Some rule\" and kibana.alert.risk_score > 21",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("SecurityAlert"), "{t}");
    assert!(q.contains(r#"AlertName == "Some rule""#), "{t}");
    assert!(q.contains(r#"AlertSeverity =~ "Medium", 47"#), "{t}");
    assert_eq!(st, Status::Approximate, "{t}");
}

#[test]
fn linux_auth_log_reads_syslog_with_elastic_categorization() {
    let (st, t) = kql(
        "toml",
        &eql_toml(
            "logs-system.auth-*",
            "iam where host.os.type == \"linux\" and event.type == \"user\" and event.type == \"creation\" and event.outcome == \"success\"",
        ),
    );
    let q = query_lines(&t);
    assert!(q.starts_with("Syslog"), "{t}");
    assert!(q.contains(r#"Facility in ("auth", "authpriv")"#), "{t}");
    assert!(
        q.contains(r#"ProcessName == "useradd", dynamic(["user", "creation"])"#),
        "{t}"
    );
    assert!(!t.contains("unmapped-field"), "{t}");
    assert_eq!(st, Status::Approximate, "{t}");
}
