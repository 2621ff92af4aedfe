//! Conversions of EQL text through the Sigma writer, checked on the output.

use crate::backend::{convert, Options, Status, Target};
use crate::ir::{Meta, Rule};
use crate::lang::{eql, Input};
use crate::span::{FileId, Origin, Span};

fn sigma(query: &str) -> crate::backend::Output {
    let origin = Origin::verbatim(FileId(0), 0);
    let c = eql::compile(&Input {
        text: query,
        origin: &origin,
    })
    .expect("the query compiles");
    let rule = Rule {
        meta: Meta {
            id: "t".into(),
            name: "t".into(),
            ..Meta::default()
        },
        query: Some(c.query),
        caveats: Vec::new(),
        span: Span::default(),
    };
    convert(
        Target::Sigma,
        &rule,
        &Options {
            lenient: true,
            ..Options::default()
        },
    )
}

#[test]
fn an_argument_becomes_a_command_line_substring_with_a_caveat() {
    let o = sigma(
        r#"process where event.type == "start" and host.os.type == "windows" and process.args : "-enc""#,
    );
    assert_eq!(o.status, Status::Approximate);
    assert!(
        o.text.contains("CommandLine|contains: '-enc'"),
        "{}",
        o.text
    );
    assert!(o
        .caveats
        .iter()
        .any(|c| c.code == "sigma-argument-as-commandline"));
}

#[test]
fn fields_whose_values_differ_stay_unmapped() {
    for (q, field) in [
        (
            r#"network where network.direction == "egress""#,
            "network.direction",
        ),
        (
            r#"registry where registry.key == "SOFTWARE\\x""#,
            "registry.key",
        ),
    ] {
        let o = sigma(q);
        assert!(
            o.caveats
                .iter()
                .any(|c| c.code == "sigma-unmapped-field" && c.message.contains(field)),
            "{q}: {:?}",
            o.caveats
        );
    }
}
