//! Rule metadata as Sigma keys: title, id, status, description, references,
//! author, date, modified, tags, falsepositives, level.

use super::mapping::Tables;
use super::uuid;
use super::yaml::Node;
use crate::ir::{AttackKind, Meta, SourceFormat};

/// The Sigma id of a rule (or of one of its parts, `#step1`): a Sigma rule
/// keeps its own; others get a UUIDv5 of their format and id.
pub fn rule_id(meta: &Meta, part: &str) -> String {
    if meta.format == SourceFormat::SigmaYaml && part.is_empty() && uuid::is_uuid(&meta.id) {
        return meta.id.to_ascii_lowercase();
    }
    let name = format!("siemc:{}:{}{part}", meta.format.as_str(), meta.id);
    uuid::v5(&uuid::NAMESPACE_URL, &name)
}

/// `YYYY-MM-DD` from `YYYY/MM/DD` or `YYYY-MM-DD` (with anything after).
pub fn date(s: &str) -> Option<String> {
    let d: String = s
        .trim()
        .chars()
        .take(10)
        .map(|c| if c == '/' { '-' } else { c })
        .collect();
    let ok = d.len() == 10
        && d.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    ok.then_some(d)
}

/// Whether a tag is in Sigma's `namespace.name` form.
fn sigma_tag(t: &str) -> bool {
    let Some((ns, name)) = t.split_once('.') else {
        return false;
    };
    let ok = |s: &str, dot: bool| {
        !s.is_empty()
            && s.chars().all(|c| {
                c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || c == '-'
                    || c == '_'
                    || (dot && c == '.')
            })
    };
    ok(ns, false) && ok(name, true)
}

pub fn tags(t: &Tables, meta: &Meta) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    if meta.format == SourceFormat::SigmaYaml {
        meta.tags
            .iter()
            .filter(|x| sigma_tag(x))
            .for_each(|x| push(x.clone()));
    }
    for a in meta.attack.iter().filter(|a| a.kind == AttackKind::Tactic) {
        let name = t
            .meta
            .tactics
            .get(&a.id.to_ascii_uppercase())
            .cloned()
            .unwrap_or_else(|| a.name.trim().to_ascii_lowercase().replace([' ', '_'], "-"));
        if !name.is_empty() {
            push(format!("attack.{name}"));
        }
    }
    for a in meta.attack.iter().filter(|a| a.kind != AttackKind::Tactic) {
        push(format!("attack.{}", a.id.to_ascii_lowercase()));
    }
    out.retain(|x| sigma_tag(x));
    out
}

/// Level from severity, or from the risk score.
pub fn level(t: &Tables, meta: &Meta) -> Option<String> {
    if let Some(s) = meta.severity {
        return Some(s.as_str().to_string());
    }
    let r = meta.risk_score?;
    t.meta
        .risk_levels
        .iter()
        .find(|(min, _)| r >= *min)
        .map(|(_, l)| l.clone())
}

pub fn status(t: &Tables, meta: &Meta) -> String {
    meta.status
        .as_deref()
        .and_then(|s| t.meta.statuses.get(&s.trim().to_ascii_lowercase()))
        .cloned()
        .unwrap_or_else(|| "experimental".into())
}

/// The metadata keys that come before `logsource` / `correlation`.
pub fn head(
    t: &Tables,
    meta: &Meta,
    title: &str,
    id: &str,
    name: Option<&str>,
    description: &str,
) -> Vec<(String, Node)> {
    let mut e: Vec<(String, Node)> = vec![
        ("title".into(), Node::str(title)),
        ("id".into(), Node::str(id)),
    ];
    if !meta.related.is_empty() && meta.format == SourceFormat::SigmaYaml {
        let rel = meta
            .related
            .iter()
            .map(|r| {
                Node::Map(vec![
                    ("id".into(), Node::str(&r.id)),
                    ("type".into(), Node::str(&r.kind)),
                ])
            })
            .collect();
        e.push(("related".into(), Node::List(rel)));
    }
    if let Some(n) = name {
        e.push(("name".into(), Node::str(n)));
    }
    e.push(("status".into(), Node::str(status(t, meta))));
    e.push(("description".into(), Node::str(description.trim_end())));
    if !meta.references.is_empty() {
        e.push((
            "references".into(),
            Node::List(meta.references.iter().map(Node::str).collect()),
        ));
    }
    let author = if meta.authors.is_empty() {
        "siemc".to_string()
    } else {
        meta.authors.join(", ")
    };
    e.push(("author".into(), Node::str(author)));
    // Sigma's `date` is the creation date; a source that only keeps its last
    // change (Splunk's `date:`) gives that as the best known date.
    let created = meta
        .created
        .as_deref()
        .or(meta.modified.as_deref())
        .and_then(date);
    if let Some(d) = &created {
        e.push(("date".into(), Node::raw(d.clone())));
        if let Some(m) = meta.modified.as_deref().and_then(date).filter(|m| m != d) {
            e.push(("modified".into(), Node::raw(m)));
        }
    }
    let tags = tags(t, meta);
    if !tags.is_empty() {
        e.push((
            "tags".into(),
            Node::List(tags.into_iter().map(Node::Str).collect()),
        ));
    }
    e
}

/// The keys after the detection.
pub fn tail(t: &Tables, meta: &Meta) -> Vec<(String, Node)> {
    let mut e = Vec::new();
    if meta.format == SourceFormat::SigmaYaml && !meta.fields.is_empty() {
        e.push((
            "fields".into(),
            Node::List(meta.fields.iter().map(Node::str).collect()),
        ));
    }
    let fps: Vec<Node> = meta
        .false_positives
        .iter()
        .filter(|f| !f.trim().is_empty())
        .map(|f| Node::str(f.trim()))
        .collect();
    if !fps.is_empty() {
        e.push(("falsepositives".into(), Node::List(fps)));
    }
    if let Some(l) = level(t, meta) {
        e.push(("level".into(), Node::str(l)));
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_tags() {
        assert_eq!(date("2020/12/15").as_deref(), Some("2020-12-15"));
        assert_eq!(date("2024-10-01T00:00").as_deref(), Some("2024-10-01"));
        assert_eq!(date("soon"), None);
        assert!(sigma_tag("attack.t1114.002"));
        assert!(sigma_tag("attack.command-and-control"));
        assert!(!sigma_tag("Domain: Endpoint"));
    }
}
