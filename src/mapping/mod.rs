//! Field and table maps as data. The embedded files under `data/` are the
//! defaults; `--mapping FILE` replaces the table/field map (same layout as
//! `data/kql.yml`). Each data file names its sources in a header comment.
//!
//! - `kql.yml`: log sources → Kusto tables / ASIM parsers, fields → columns.
//! - `kql-functions.yml`: source-language functions → Kusto spellings.
//! - `kusto-schema.json`: the columns and types of the target tables and ASIM
//!   functions, from Microsoft's documentation; every emitted column is
//!   checked against it.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

/// What a field maps to.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Target {
    /// A column of the table (checked against the schema).
    Column(String),
    /// A computed expression; `{1}` stands for the rest of a `prefix.*` key.
    Expr {
        expr: String,
        #[serde(rename = "type", default = "string_type")]
        ty: String,
        /// A prelude (by name) the expression needs.
        #[serde(default)]
        needs: Option<String>,
        /// Set when the expression is only close to the source field.
        #[serde(default)]
        approx: Option<String>,
    },
}

fn string_type() -> String {
    "string".into()
}

/// Field maps per naming scheme (`ecs`, `sigma`, `cim`, `raw`).
pub type FieldSet = BTreeMap<String, BTreeMap<String, Target>>;

#[derive(Debug, Clone, Deserialize, Default)]
pub struct FieldSetDef {
    #[serde(default)]
    pub preludes: BTreeMap<String, String>,
    #[serde(flatten)]
    pub fields: FieldSet,
}

/// One target table (or ASIM parser) with its field map.
#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    pub table: String,
    /// Time column on Defender XDR (`Timestamp`); `TimeGenerated` otherwise.
    #[serde(default)]
    pub time_xdr: Option<String>,
    /// A fixed filter the profile adds (`ActionType == "FileModified"`).
    #[serde(default)]
    pub filter: Option<String>,
    /// The column holding the Windows event log channel: the profile's
    /// filter is then the channels the rule names (`source=WinEventLog:X`).
    #[serde(default)]
    pub channel_column: Option<String>,
    /// An ASIM parser function rather than a table.
    #[serde(default)]
    pub function: bool,
    /// Set when the table only approximates the log source (a caveat
    /// attached to every query that reads it).
    #[serde(default)]
    pub approx: Option<String>,
    /// A field named like a column of the table is that column.
    #[serde(default)]
    pub identity: bool,
    /// Source conditions every row of the table satisfies.
    #[serde(default)]
    pub implies: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub include: Vec<String>,
    /// Named pipeline steps that field expressions may need.
    #[serde(default)]
    pub preludes: BTreeMap<String, String>,
    /// Columns holding `[{Name, Value}]` JSON that SPL `spath` unpacks, with
    /// the prelude that turns them into the `__params` bag.
    #[serde(default)]
    pub spath: BTreeMap<String, String>,
    /// Fields holding JSON whose keys the table's columns already hold
    /// (Azure platform logs' `properties.log`): SPL `spath input=F` over
    /// them adds nothing.
    #[serde(default)]
    pub parsed: Vec<String>,
    #[serde(default)]
    pub fields: FieldSet,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SourceRule {
    pub when: BTreeMap<String, String>,
    /// A caveat the choice carries (a table inferred from field names).
    #[serde(default)]
    pub caveat: Option<String>,
    /// Profile per family (`xdr`, `sentinel`, `asim`).
    #[serde(flatten)]
    pub targets: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MapFile {
    pub schemas: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub common: FieldSet,
    pub sources: Vec<SourceRule>,
    #[serde(default)]
    pub fieldsets: BTreeMap<String, FieldSetDef>,
    pub profiles: BTreeMap<String, Profile>,
    #[serde(default)]
    pub cim_datasets: Vec<String>,
    #[serde(default)]
    pub connectors: BTreeMap<String, String>,
    #[serde(default)]
    pub tactics: BTreeMap<String, String>,
    /// ECS fields Elastic maps as analyzed `text`: a kuery value matches
    /// terms of them, not the whole value.
    #[serde(default)]
    pub analyzed: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FuncDef {
    #[serde(default)]
    pub kql: Option<String>,
    #[serde(default)]
    pub cs: Option<String>,
    #[serde(default)]
    pub ci: Option<String>,
    /// The spelling for an odd number of arguments (`case` with a default).
    #[serde(default)]
    pub odd: Option<String>,
    pub arity: (usize, i64),
    #[serde(default)]
    pub approx: Option<String>,
    /// Argument positions holding a regex (translated to RE2).
    #[serde(default)]
    pub regex_args: Vec<usize>,
    /// Argument positions that must be dynamic arrays.
    #[serde(default)]
    pub dyn_args: Vec<usize>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SchemaFunction {
    pub params: String,
    pub columns: BTreeMap<String, String>,
}

/// Column types of the target tables and functions.
#[derive(Debug, Clone, Deserialize)]
pub struct KustoSchema {
    pub tables: BTreeMap<String, BTreeMap<String, String>>,
    pub functions: BTreeMap<String, SchemaFunction>,
}

impl KustoSchema {
    /// The columns of a table or ASIM function.
    pub fn columns(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.tables
            .get(name)
            .or_else(|| self.functions.get(name).map(|f| &f.columns))
    }
}

/// Everything the Kusto back-end reads from data.
#[derive(Debug, Clone)]
pub struct KqlMapping {
    pub map: MapFile,
    pub functions: BTreeMap<String, FuncDef>,
    pub schema: KustoSchema,
}

const MAP: &str = include_str!("data/kql.yml");
const FUNCTIONS: &str = include_str!("data/kql-functions.yml");
/// Kusto schema data; exposed for the external validator test.
pub const KUSTO_SCHEMA: &str = include_str!("data/kusto-schema.json");

fn yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let mut v: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    v.apply_merge().map_err(|e| e.to_string())?;
    serde_yaml::from_value(v).map_err(|e| e.to_string())
}

impl KqlMapping {
    fn build(map_text: &str) -> Result<KqlMapping, String> {
        Ok(KqlMapping {
            map: yaml(map_text)?,
            functions: yaml(FUNCTIONS)?,
            schema: serde_json::from_str(KUSTO_SCHEMA).map_err(|e| e.to_string())?,
        })
    }

    /// The embedded mapping (parsed once).
    pub fn embedded() -> &'static KqlMapping {
        static M: OnceLock<KqlMapping> = OnceLock::new();
        M.get_or_init(|| match KqlMapping::build(MAP) {
            Ok(m) => m,
            // The embedded data is checked by a unit test; a broken build of
            // it is a bug in siemc, not in the user's input.
            Err(e) => panic!("embedded mapping data/kql.yml is invalid: {e}"),
        })
    }

    /// A mapping file given with `--mapping`.
    pub fn from_file(path: &Path) -> Result<KqlMapping, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        KqlMapping::build(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every profile names a known table, every column target exists in it,
    /// every include and source target resolves.
    #[test]
    fn embedded_data_is_consistent() {
        let m = KqlMapping::embedded();
        let mut problems = Vec::new();
        for (name, p) in &m.map.profiles {
            let Some(cols) = m.schema.columns(&p.table) else {
                problems.push(format!("{name}: unknown table {}", p.table));
                continue;
            };
            let mut sets: Vec<&FieldSet> = vec![&p.fields];
            for inc in &p.include {
                match m.map.fieldsets.get(inc) {
                    Some(fs) => sets.push(&fs.fields),
                    None => problems.push(format!("{name}: unknown fieldset {inc}")),
                }
            }
            for set in sets {
                for (scheme, fields) in set {
                    for (f, t) in fields {
                        if let Target::Column(c) = t {
                            if c != "$time" && !c.contains("{1}") && !cols.contains_key(c) {
                                problems
                                    .push(format!("{name}: {scheme} {f} -> {c}: no such column"));
                            }
                        }
                    }
                }
            }
        }
        for s in &m.map.sources {
            for p in s.targets.values() {
                if !m.map.profiles.contains_key(p) {
                    problems.push(format!("source {:?}: unknown profile {p}", s.when));
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(m.functions.contains_key("cidrmatch") || m.functions.contains_key("concat"));
    }
}
