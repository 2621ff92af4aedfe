//! The mapping data (embedded YAML under `data/`): logsources and field
//! names into the Sigma taxonomy. Code here only reads the tables.

use crate::ir::{FieldRef, FieldScheme};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const FIELDS: &str = include_str!("data/fields.yml");
const LOGSOURCES: &str = include_str!("data/logsources.yml");
const META: &str = include_str!("data/meta.yml");

/// How a value is rewritten when its field maps onto a Sigma field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// A file name compared as the end of a full path (`\name`).
    Basename,
    /// An extension compared as the end of a path (`.ext`).
    Extension,
    /// One argument of an argument list compared as part of the command line.
    Argument,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Target {
    Name(String),
    Full {
        field: String,
        transform: Option<Transform>,
    },
}

#[derive(Debug, Deserialize)]
struct Prefix {
    prefix: String,
    product: String,
}

#[derive(Debug, Deserialize)]
struct FieldData {
    ecs: BTreeMap<String, Target>,
    cim: BTreeMap<String, Target>,
    prefixes: Vec<Prefix>,
    overrides: BTreeMap<String, BTreeMap<String, Target>>,
}

/// Parts of a logsource one signal states.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Part {
    pub category: Option<String>,
    pub product: Option<String>,
    pub service: Option<String>,
    /// The category is narrower than the source unless a conjunct
    /// `field: one of values` restricts the events the same way.
    #[serde(default)]
    pub narrower_unless: BTreeMap<String, Vec<String>>,
    /// The events carry the Sigma logsource's own field names.
    #[serde(default)]
    pub native_fields: bool,
}

#[derive(Debug, Deserialize)]
pub struct LogsourceData {
    pub eql_categories: BTreeMap<String, Part>,
    pub fields: BTreeMap<String, BTreeMap<String, Part>>,
    pub implied: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    pub indexes: BTreeMap<String, Part>,
    pub datamodels: BTreeMap<String, Part>,
    pub sourcetypes: BTreeMap<String, Part>,
}

#[derive(Debug, Deserialize)]
pub struct MetaData {
    pub tactics: BTreeMap<String, String>,
    pub statuses: BTreeMap<String, String>,
    pub risk_levels: Vec<(f64, String)>,
}

pub struct Tables {
    fields: FieldData,
    pub logsources: LogsourceData,
    pub meta: MetaData,
}

/// A user mapping file (`--mapping FILE`): entries that extend or replace
/// the embedded ones, in the same shape as `data/fields.yml` and
/// `data/logsources.yml` (every section optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Overlay {
    #[serde(default)]
    ecs: BTreeMap<String, Target>,
    #[serde(default)]
    cim: BTreeMap<String, Target>,
    #[serde(default)]
    overrides: BTreeMap<String, BTreeMap<String, Target>>,
    #[serde(default)]
    eql_categories: BTreeMap<String, Part>,
    #[serde(default)]
    indexes: BTreeMap<String, Part>,
    #[serde(default)]
    datamodels: BTreeMap<String, Part>,
    #[serde(default)]
    sourcetypes: BTreeMap<String, Part>,
}

/// The tables for a run: the embedded ones (a parse error there is a build
/// defect the unit tests catch; it is reported, not panicked on), or those with a user mapping
/// file laid over them (read once per file and process).
pub fn tables_for(file: Option<&std::path::Path>) -> Result<std::sync::Arc<Tables>, String> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    type Cache = Mutex<HashMap<Option<std::path::PathBuf>, Arc<Tables>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = file.map(std::path::Path::to_path_buf);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(t) = cache.lock().map_err(|e| e.to_string())?.get(&key) {
        return Ok(t.clone());
    }
    let e = |what: &str, err: serde_yaml::Error| format!("mapping data {what}: {err}");
    let mut t = Tables {
        fields: serde_yaml::from_str(FIELDS).map_err(|x| e("fields.yml", x))?,
        logsources: serde_yaml::from_str(LOGSOURCES).map_err(|x| e("logsources.yml", x))?,
        meta: serde_yaml::from_str(META).map_err(|x| e("meta.yml", x))?,
    };
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|x| format!("cannot read the mapping file {}: {x}", path.display()))?;
        let o: Overlay =
            serde_yaml::from_str(&text).map_err(|x| e(&path.display().to_string(), x))?;
        t.fields.ecs.extend(o.ecs);
        t.fields.cim.extend(o.cim);
        for (k, v) in o.overrides {
            t.fields.overrides.entry(k).or_default().extend(v);
        }
        t.logsources.eql_categories.extend(o.eql_categories);
        t.logsources.indexes.extend(o.indexes);
        t.logsources.datamodels.extend(o.datamodels);
        t.logsources.sourcetypes.extend(o.sourcetypes);
    }
    let t = Arc::new(t);
    cache
        .lock()
        .map_err(|e| e.to_string())?
        .insert(key, t.clone());
    Ok(t)
}

/// A logsource as chosen for a rule, with what it tells the field mapping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Logsource {
    pub category: Option<String>,
    pub product: Option<String>,
    pub service: Option<String>,
    pub native_fields: bool,
}

/// Where a source field lands in Sigma.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub name: String,
    pub transform: Option<Transform>,
    /// False when no table knows the field and the name is kept as written.
    pub known: bool,
}

impl Tables {
    /// The Sigma name of `f` under logsource `ls`.
    pub fn field(&self, f: &FieldRef, ls: &Logsource) -> Mapped {
        let name = f.name.as_str();
        let keep = |known| Mapped {
            name: name.to_string(),
            transform: None,
            known,
        };
        let from = |t: &Target| match t {
            Target::Name(n) => Mapped {
                name: n.clone(),
                transform: None,
                known: true,
            },
            Target::Full { field, transform } => Mapped {
                name: field.clone(),
                transform: *transform,
                known: true,
            },
        };
        if f.scheme == FieldScheme::Sigma {
            return keep(true);
        }
        // CIM names lose their data-model prefix (`Processes.process_name`).
        let base = match f.scheme {
            FieldScheme::Cim | FieldScheme::Raw => name.rsplit_once('.').map_or(name, |(_, b)| b),
            _ => name,
        };
        let mut keys = Vec::new();
        if let Some(c) = &ls.category {
            keys.push(c.clone());
        }
        if let (Some(p), Some(s)) = (&ls.product, &ls.service) {
            keys.push(format!("{p}/{s}"));
        }
        if let Some(p) = &ls.product {
            keys.push(p.clone());
        }
        for k in &keys {
            if let Some(t) = self.fields.overrides.get(k).and_then(|m| m.get(base)) {
                return from(t);
            }
        }
        let table = match f.scheme {
            FieldScheme::Ecs => Some(&self.fields.ecs),
            FieldScheme::Cim => Some(&self.fields.cim),
            FieldScheme::Raw if !ls.native_fields => Some(&self.fields.cim),
            _ => None,
        };
        if let Some(t) = table.and_then(|t| t.get(base)) {
            return from(t);
        }
        if f.scheme == FieldScheme::Ecs {
            for p in &self.fields.prefixes {
                if let Some(rest) = name.strip_prefix(p.prefix.as_str()) {
                    if ls.product.as_deref() == Some(p.product.as_str()) && !rest.is_empty() {
                        return Mapped {
                            name: rest.to_string(),
                            transform: None,
                            known: true,
                        };
                    }
                }
            }
        }
        if f.scheme == FieldScheme::Raw && ls.native_fields {
            return keep(true);
        }
        keep(false)
    }

    /// The part an Elastic index pattern states (matched on the text before `*`).
    pub fn index(&self, pattern: &str) -> Option<&Part> {
        let stem = pattern.split('*').next().unwrap_or(pattern);
        let stem = stem.trim_end_matches(['-', '.']);
        self.logsources
            .indexes
            .iter()
            .filter(|(k, _)| {
                let k = k.trim_end_matches(['-', '.']);
                stem == k
                    || stem.starts_with(&format!("{k}-"))
                    || stem.starts_with(&format!("{k}."))
            })
            .max_by_key(|(k, _)| k.len())
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

    #[test]
    fn tables_parse_and_map() {
        let t = tables_for(None).unwrap();
        let win = Logsource {
            category: Some("process_creation".into()),
            product: Some("windows".into()),
            ..Default::default()
        };
        let f = |n: &str, s| FieldRef::new(n, s, Span::default());
        let m = t.field(&f("process.name", FieldScheme::Ecs), &win);
        assert_eq!(
            (m.name.as_str(), m.transform),
            ("Image", Some(Transform::Basename))
        );
        let m = t.field(&f("Processes.process", FieldScheme::Cim), &win);
        assert_eq!(m.name, "CommandLine");
        let m = t.field(&f("no.such.field", FieldScheme::Ecs), &win);
        assert!(!m.known);
        let fw = Logsource {
            category: Some("firewall".into()),
            ..Default::default()
        };
        assert_eq!(
            t.field(&f("destination.ip", FieldScheme::Ecs), &fw).name,
            "dst_ip"
        );
        let m365 = Logsource {
            product: Some("m365".into()),
            service: Some("audit".into()),
            ..Default::default()
        };
        assert_eq!(
            t.field(
                &f("o365.audit.Parameters.AccessRights", FieldScheme::Ecs),
                &m365
            )
            .name,
            "Parameters.AccessRights"
        );
        assert_eq!(
            t.field(&f("event.action", FieldScheme::Ecs), &m365).name,
            "Operation"
        );
        assert_eq!(t.meta.tactics["TA0009"], "collection");
        assert!(t.index("logs-endpoint.events.process-*").is_some());
        assert_eq!(
            t.index("winlogbeat-*").and_then(|p| p.product.as_deref()),
            Some("windows")
        );
        assert!(t.index("logs-unknown-*").is_none());
    }
}
