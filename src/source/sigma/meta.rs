//! Sigma rule metadata into [`Meta`]: title, id, status, description,
//! references, author, dates, tags (with ATT&CK), level, falsepositives,
//! fields, related, name, license, logsource.

use crate::ir::{Attack, AttackKind, LogSource, Meta, Related, Severity, SourceFormat};
use crate::source::yaml::YamlNode;

/// The ATT&CK tactics by the names Sigma tags use (`attack.<tactic>`).
const TACTICS: &[(&str, &str)] = &[
    ("reconnaissance", "TA0043"),
    ("resource_development", "TA0042"),
    ("initial_access", "TA0001"),
    ("execution", "TA0002"),
    ("persistence", "TA0003"),
    ("privilege_escalation", "TA0004"),
    ("defense_evasion", "TA0005"),
    ("credential_access", "TA0006"),
    ("discovery", "TA0007"),
    ("lateral_movement", "TA0008"),
    ("collection", "TA0009"),
    ("command_and_control", "TA0011"),
    ("exfiltration", "TA0010"),
    ("impact", "TA0040"),
];

/// An ATT&CK reference from a Sigma tag: `attack.t1059.001`,
/// `attack.execution`; groups (`attack.g0016`) and software (`attack.s0002`)
/// stay tags only.
pub fn attack_of_tag(tag: &str) -> Option<Attack> {
    let rest = tag.strip_prefix("attack.")?.to_ascii_lowercase();
    if let Some(num) = rest.strip_prefix('t') {
        let (base, sub) = num.split_once('.').unwrap_or((num, ""));
        if base.len() == 4 && base.bytes().all(|b| b.is_ascii_digit()) {
            let valid_sub =
                sub.is_empty() || (sub.len() == 3 && sub.bytes().all(|b| b.is_ascii_digit()));
            if valid_sub {
                return Some(Attack {
                    kind: if sub.is_empty() {
                        AttackKind::Technique
                    } else {
                        AttackKind::Subtechnique
                    },
                    id: format!("T{}", num.to_ascii_uppercase()),
                    name: String::new(),
                });
            }
        }
    }
    let name = rest.replace('-', "_");
    TACTICS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, id)| Attack {
            kind: AttackKind::Tactic,
            id: id.to_string(),
            name: n.to_string(),
        })
}

fn text(doc: &YamlNode, key: &str) -> Option<String> {
    doc.get(key).and_then(YamlNode::as_str).map(str::to_string)
}

fn list(doc: &YamlNode, key: &str) -> Vec<String> {
    doc.get(key)
        .map(|n| n.as_str_list().into_iter().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The metadata of one Sigma document.
pub fn read_meta(doc: &YamlNode) -> Meta {
    let tags = list(doc, "tags");
    let authors = text(doc, "author")
        .map(|a| {
            a.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let related = doc
        .get("related")
        .and_then(YamlNode::as_seq)
        .map(|items| {
            items
                .iter()
                .filter_map(|r| {
                    Some(Related {
                        id: r.get("id")?.as_str()?.to_string(),
                        kind: r
                            .get("type")
                            .and_then(YamlNode::as_str)
                            .unwrap_or("")
                            .to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut settings = std::collections::BTreeMap::new();
    for key in ["taxonomy", "scope"] {
        let v = list(doc, key);
        if !v.is_empty() {
            settings.insert(key.to_string(), v.join(", "));
        }
    }
    Meta {
        id: text(doc, "id").unwrap_or_default(),
        name: text(doc, "title").unwrap_or_default(),
        description: text(doc, "description").unwrap_or_default(),
        authors,
        severity: text(doc, "level").as_deref().and_then(Severity::parse),
        status: text(doc, "status"),
        attack: tags.iter().filter_map(|t| attack_of_tag(t)).collect(),
        tags,
        references: list(doc, "references"),
        false_positives: list(doc, "falsepositives"),
        created: text(doc, "date"),
        modified: text(doc, "modified"),
        license: text(doc, "license"),
        related,
        fields: list(doc, "fields"),
        handle: text(doc, "name"),
        format: SourceFormat::SigmaYaml,
        settings,
        span: doc.span,
        ..Meta::default()
    }
}

/// The `logsource:` of a rule or filter.
pub fn read_logsource(doc: &YamlNode) -> Option<LogSource> {
    let ls = doc.get("logsource")?;
    let get = |k| ls.get(k).and_then(YamlNode::as_str).map(str::to_string);
    Some(LogSource {
        category: get("category"),
        product: get("product"),
        service: get("service"),
        definition: get("definition"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_tags() {
        let t = attack_of_tag("attack.t1059.001").unwrap();
        assert_eq!(
            (t.kind, t.id.as_str()),
            (AttackKind::Subtechnique, "T1059.001")
        );
        let t = attack_of_tag("attack.t1059").unwrap();
        assert_eq!((t.kind, t.id.as_str()), (AttackKind::Technique, "T1059"));
        let t = attack_of_tag("attack.defense-evasion").unwrap();
        assert_eq!((t.kind, t.id.as_str()), (AttackKind::Tactic, "TA0005"));
        assert!(attack_of_tag("attack.g0016").is_none());
        assert!(attack_of_tag("cve.2021-44228").is_none());
    }
}
