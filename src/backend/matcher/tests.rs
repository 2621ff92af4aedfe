//! Engine tests on hand-built IR.

use super::*;
use crate::ir::*;

fn sp() -> Span {
    Span::default()
}

fn field(name: &str, scheme: FieldScheme) -> FieldRef {
    FieldRef::new(name, scheme, sp())
}

fn m(name: &str, scheme: FieldScheme, vals: &[&str], case: Case, q: Quantifier) -> Expr {
    Expr::new(
        ExprKind::Match(Match {
            field: field(name, scheme),
            values: vals
                .iter()
                .map(|v| Value::Str(Pattern::parse_wildcards(v, true)))
                .collect(),
            quantifier: q,
            case,
            kind: MatchKind::Whole,
            array: ArrayMode::Any,
            span: sp(),
        }),
        sp(),
    )
}

pub fn rule(id: &str, lang: Language, filter: Expr, stages: Vec<Stage>) -> Rule {
    Rule {
        meta: Meta {
            id: id.into(),
            name: format!("rule {id}"),
            severity: Some(Severity::High),
            ..Meta::default()
        },
        query: Some(Query {
            language: lang,
            source: Source::default(),
            filter: Some(filter),
            stages,
            span: sp(),
        }),
        caveats: Vec::new(),
        span: sp(),
    }
}

fn run(rules: &[Rule], events: &[&str]) -> Vec<(usize, u64)> {
    let (mut e, refused) = Engine::compile(rules);
    assert!(refused.is_empty(), "{refused:?}");
    let mut out = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        for a in e.eval(ev.as_bytes(), i as u64).unwrap() {
            out.push((a.rule, a.event_index));
        }
    }
    for a in e.finish() {
        out.push((a.rule, a.event_index));
    }
    out
}

#[test]
fn sigma_style_match_on_evtx_and_flat_events() {
    let f = Expr::and(
        vec![
            m(
                "Image",
                FieldScheme::Sigma,
                &[r"*\cmd.exe"],
                Case::Insensitive,
                Quantifier::Any,
            ),
            m(
                "CommandLine",
                FieldScheme::Sigma,
                &["*/c*", "*whoami*"],
                Case::Insensitive,
                Quantifier::All,
            ),
        ],
        sp(),
    );
    let r = rule("a", Language::Sigma, f, vec![]);
    let evtx = r#"{"Event":{"System":{"EventID":1},"EventData":{"Image":"C:\\Windows\\CMD.exe","CommandLine":"cmd /c WHOAMI"}}}"#;
    let flat = r#"{"Image":"C:\\Windows\\cmd.exe","CommandLine":"cmd /c dir"}"#;
    assert_eq!(run(&[r], &[evtx, flat]), vec![(0, 0)]);
}

#[test]
fn eql_case_arrays_and_categories() {
    let f = m(
        "process.name",
        FieldScheme::Ecs,
        &["cmd.exe"],
        Case::Sensitive,
        Quantifier::Any,
    );
    let mut r = rule("b", Language::Eql, f, vec![]);
    r.query.as_mut().unwrap().source.categories = vec!["process".into()];
    let events = [
        r#"{"event":{"category":["process"]},"process":{"name":"cmd.exe"}}"#,
        r#"{"event":{"category":"process"},"process":{"name":"CMD.EXE"}}"#,
        r#"{"event.category":"network","process.name":"cmd.exe"}"#,
        r#"{"event.category":"process","process.name":["x","cmd.exe"]}"#,
    ];
    assert_eq!(run(&[r], &events), vec![(0, 0), (0, 3)]);
}

#[test]
fn numbers_and_numeric_strings() {
    let f = Expr::new(
        ExprKind::Match(Match {
            field: field("EventID", FieldScheme::Sigma),
            values: vec![Value::Num(Number::new("4688").unwrap())],
            quantifier: Quantifier::Any,
            case: Case::Insensitive,
            kind: MatchKind::Whole,
            array: ArrayMode::Any,
            span: sp(),
        }),
        sp(),
    );
    let r = rule("c", Language::Sigma, f, vec![]);
    let ev = [
        r#"{"EventID":4688}"#,
        r#"{"EventID":"4688"}"#,
        r#"{"EventID":46880}"#,
    ];
    assert_eq!(run(&[r], &ev), vec![(0, 0), (0, 1)]);
}

#[test]
fn sequence_by_key_with_maxspan_and_until() {
    let step = |v: &str| SeqStep {
        categories: vec![],
        filter: Some(m(
            "a",
            FieldScheme::Ecs,
            &[v],
            Case::Sensitive,
            Quantifier::Any,
        )),
        by: vec![],
        runs: 1,
        missing: false,
        span: sp(),
    };
    let seq = Sequence {
        by: vec![field("host", FieldScheme::Ecs)],
        maxspan: Duration::parse("5m"),
        steps: vec![step("x"), step("y")],
        until: Some(Box::new(step("stop"))),
    };
    let mut r = rule(
        "s",
        Language::Eql,
        Expr::new(ExprKind::Const(true), sp()),
        vec![Stage {
            kind: StageKind::Sequence(seq),
            span: sp(),
        }],
    );
    r.query.as_mut().unwrap().filter = None;
    let ev = [
        r#"{"@timestamp":"2024-01-01T00:00:00Z","host":"h1","a":"x"}"#,
        r#"{"@timestamp":"2024-01-01T00:01:00Z","host":"h2","a":"y"}"#,
        r#"{"@timestamp":"2024-01-01T00:02:00Z","host":"h1","a":"y"}"#,
        r#"{"@timestamp":"2024-01-01T00:03:00Z","host":"h2","a":"x"}"#,
        r#"{"@timestamp":"2024-01-01T00:09:00Z","host":"h2","a":"y"}"#,
        r#"{"@timestamp":"2024-01-01T00:10:00Z","host":"h3","a":"x"}"#,
        r#"{"@timestamp":"2024-01-01T00:10:01Z","host":"h3","a":"stop"}"#,
        r#"{"@timestamp":"2024-01-01T00:10:02Z","host":"h3","a":"y"}"#,
    ];
    assert_eq!(run(&[r], &ev), vec![(0, 2)]);
}

#[test]
fn threshold_with_cardinality() {
    let f = m(
        "event.action",
        FieldScheme::Ecs,
        &["logon-failed"],
        Case::Sensitive,
        Quantifier::Any,
    );
    let t = Threshold {
        fields: vec![field("user", FieldScheme::Ecs)],
        value: 3,
        cardinality: vec![(field("host", FieldScheme::Ecs), 2)],
    };
    let r = rule(
        "t",
        Language::Kuery,
        f,
        vec![Stage {
            kind: StageKind::Threshold(t),
            span: sp(),
        }],
    );
    let mut ev = Vec::new();
    for (u, h) in [
        ("a", "1"),
        ("a", "2"),
        ("a", "1"),
        ("b", "1"),
        ("b", "1"),
        ("b", "1"),
    ] {
        ev.push(format!(
            r#"{{"event.action":"logon-failed","user":"{u}","host":"{h}"}}"#
        ));
    }
    let refs: Vec<&str> = ev.iter().map(String::as_str).collect();
    let (mut e, _) = Engine::compile(&[r]);
    for (i, x) in refs.iter().enumerate() {
        e.eval(x.as_bytes(), i as u64).unwrap();
    }
    let out = e.finish();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].extra["group"]["user"], "a");
}

#[test]
fn bad_records_are_errors_not_panics() {
    let r = rule(
        "a",
        Language::Sigma,
        m(
            "x",
            FieldScheme::Sigma,
            &["*"],
            Case::Insensitive,
            Quantifier::Any,
        ),
        vec![],
    );
    let (mut e, _) = Engine::compile(&[r]);
    assert!(e.eval(b"{\"x\":", 0).is_err());
    assert!(e.eval(b"{\"x\":\"\xff\"}", 1).is_err());
    assert_eq!(e.eval(b"{\"x\":\"y\"}", 2).unwrap().len(), 1);
}

#[test]
fn refuses_backtracking_regex_by_name() {
    let f = Expr::new(
        ExprKind::Match(Match {
            field: field("x", FieldScheme::Sigma),
            values: vec![Value::Regex(Regex {
                pattern: "(?<=a)b".into(),
                flavor: RegexFlavor::Pcre,
                anchored: false,
                multiline: false,
                dot_all: false,
            })],
            quantifier: Quantifier::Any,
            case: Case::Sensitive,
            kind: MatchKind::Whole,
            array: ArrayMode::Any,
            span: sp(),
        }),
        sp(),
    );
    let (_, refused) = Engine::compile(&[rule("r", Language::Sigma, f, vec![])]);
    assert_eq!(refused.len(), 1);
    assert!(refused[0].message.contains("lookaround"));
}

/// Rules the literal index decides (`exact.rs`) give the verdicts of plain
/// evaluation, on ASCII values and (by falling back) on non-ASCII ones.
#[test]
fn index_decided_rules_agree_with_evaluation() {
    let s = FieldScheme::Sigma;
    let i = Case::Insensitive;
    let any = Quantifier::Any;
    let rules = [
        m("Image", s, &[r"*\cmd.exe", "*powershell*"], i, any),
        m("Image", s, &[r"C:\Windows\*"], i, any),
        m("CommandLine", s, &["whoami"], i, any),
        m("CommandLine", s, &["*-enc*", "*/c*"], i, Quantifier::All),
        Expr::and(
            vec![
                m("Image", s, &["*.exe"], i, any),
                Expr::not(m("CommandLine", s, &["* /c *"], i, any), sp()),
            ],
            sp(),
        ),
        // A windash-style non-ASCII dash: never in an ASCII value.
        m("CommandLine", s, &["*–enc*", "*-enc*"], i, any),
        // The Kelvin sign folds to ASCII `k`: not decided, still right.
        m("CommandLine", s, &["*\u{212A}ill*"], i, any),
    ];
    let rules: Vec<Rule> = rules
        .into_iter()
        .enumerate()
        .map(|(n, f)| rule(&n.to_string(), Language::Sigma, f, vec![]))
        .collect();
    let (e, _) = Engine::compile(&rules);
    assert_eq!(e.decided_rules(), 6, "every rule but the Kelvin one");
    let events = [
        r#"{"Image":"C:\\Windows\\System32\\CMD.EXE","CommandLine":"cmd /c whoami"}"#,
        r#"{"Image":"c:\\windows\\x.exe","CommandLine":"WHOAMI"}"#,
        r#"{"Image":"D:\\PowerShell\\pwsh.exe","CommandLine":"x -ENC y /C z"}"#,
        r#"{"Image":["a.exe","C:\\Windows\\cmd.exe"],"CommandLine":["-enc","/c"]}"#,
        r#"{"Image":"cmd.exe","CommandLine":"whoami "}"#,
        r#"{"Image":"C:\\Windows\\x.exe","CommandLine":"x –enc y"}"#,
        r#"{"Image":"C:\\Windows\\x.exe","CommandLine":"KILL \u212Aill"}"#,
        r#"{"Image":"ÄÖ\\cmd.exe","CommandLine":"whoami"}"#,
        r#"{"Image":1,"CommandLine":null}"#,
        // One of two `|all` values, each way round.
        r#"{"Image":"x","CommandLine":"p -enc q"}"#,
        r#"{"Image":"x","CommandLine":"p /c q"}"#,
        r#"{"Other":"cmd.exe"}"#,
    ];
    // One worker throughout: values seen before come from the memo of what
    // the automata found (`memo.rs`), whatever event they were seen in.
    let mut w = Worker::default();
    for (n, ev) in events.iter().chain(events.iter().rev()).enumerate() {
        let got: Vec<usize> = e
            .eval_shared(&mut w, ev.as_bytes(), n as u64)
            .unwrap()
            .iter()
            .map(|a| a.rule)
            .collect();
        let view = EventView::parse(&e.fields, ev).unwrap();
        let want: Vec<usize> = (0..e.rules.len())
            .filter(|&r| matches!(&e.rules[r].kind, Kind::Stateless(n) if pred::eval(n, &view)))
            .collect();
        assert_eq!(got, want, "event {n}: {ev}");
    }
}

/// When every rule has a Sysmon category, an event of another category is
/// dropped once its first fields tell so; the rest of it is still checked.
#[test]
fn events_of_other_categories_are_dropped_early_but_validated() {
    let f = m(
        "Image",
        FieldScheme::Sigma,
        &[r"*\cmd.exe"],
        Case::Insensitive,
        Quantifier::Any,
    );
    let mut r = rule("pc", Language::Sigma, f, vec![]);
    r.query.as_mut().unwrap().source.logsource = Some(LogSource {
        category: Some("process_creation".into()),
        ..LogSource::default()
    });
    let (e, _) = Engine::compile(&[r]);
    let ch = route::SYSMON_CHANNEL;
    let mut w = Worker::default();
    let mut run = |ev: &str| {
        e.eval_shared(&mut w, ev.as_bytes(), 0)
            .map(|a| a.len())
            .map_err(|_| ())
    };
    let img = r#""Image":"C:\\cmd.exe""#;
    assert_eq!(
        run(&format!(r#"{{"EventID":1,"Channel":"{ch}",{img}}}"#)),
        Ok(1)
    );
    assert_eq!(
        run(&format!(r#"{{"EventID":3,"Channel":"{ch}",{img}}}"#)),
        Ok(0)
    );
    // The category is decided after the Image was read: the same answers.
    assert_eq!(
        run(&format!(r#"{{{img},"EventID":1,"Channel":"{ch}"}}"#)),
        Ok(1)
    );
    assert_eq!(
        run(&format!(r#"{{{img},"Channel":"{ch}","EventID":3}}"#)),
        Ok(0)
    );
    // Not known to be Sysmon: every rule meets it.
    assert_eq!(run(&format!(r#"{{"EventID":3,{img}}}"#)), Ok(1));
    // A broken record is a bad record even after it was ruled out: keys
    // and values are still checked, at any depth.
    for broken in [
        r#""x":tru"#,
        r#""x" 1"#,
        r#""\q":1"#,
        r#""o":{"a":1,"b"}"#,
        r#""o":{"a\"#,
        r#""ok":1,"#,
    ] {
        assert_eq!(
            run(&format!(
                r#"{{"EventID":3,"Channel":"{ch}",{img},{broken}}}"#
            )),
            Err(()),
            "{broken}"
        );
    }
    assert_eq!(
        run(&format!(
            r#"{{"EventID":3,"Channel":"{ch}",{img},"o":{{"k\n":[1,{{"x":"\u00e9"}}]}}}}"#
        )),
        Ok(0)
    );
}

/// A stateless rule set reads an event's time only for its alerts; the
/// alert still carries it, from `eval` and `eval_shared` alike.
#[test]
fn alerts_of_stateless_rules_carry_the_event_time() {
    let r = rule(
        "t",
        Language::Sigma,
        m(
            "Image",
            FieldScheme::Sigma,
            &["*cmd.exe"],
            Case::Insensitive,
            Quantifier::Any,
        ),
        vec![],
    );
    let (mut e, refused) = Engine::compile(std::slice::from_ref(&r));
    assert!(refused.is_empty(), "{refused:?}");
    let hit = r#"{"@timestamp":"2024-01-02T03:04:05.006Z","Image":"C:\\Windows\\cmd.exe"}"#;
    let miss = r#"{"@timestamp":"2030-01-01T00:00:00Z","Image":"x.exe"}"#;
    let want = Some(1_704_164_645_006);
    assert!(e.eval(miss.as_bytes(), 0).unwrap().is_empty());
    let a = e.eval(hit.as_bytes(), 1).unwrap();
    assert_eq!(a.iter().map(|a| a.timestamp).collect::<Vec<_>>(), [want]);
    let mut w = Worker::default();
    let a = e.eval_shared(&mut w, hit.as_bytes(), 1).unwrap();
    assert_eq!(a.iter().map(|a| a.timestamp).collect::<Vec<_>>(), [want]);
}
