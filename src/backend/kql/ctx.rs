//! The conversion context: the chosen table profile, field resolution
//! against the mapping and the Microsoft column schema, and the caveats and
//! refusals collected on the way.

use super::text::ident;
use crate::diag::{codes, Diagnostic};
use crate::ir::{Caveat, FieldRef, FieldScheme};
use crate::mapping::{KqlMapping, Profile, Target};
use crate::span::Span;
use std::collections::{BTreeMap, BTreeSet};

/// A resolved column expression and its Kusto type (`string`, `long`, ...).
#[derive(Debug, Clone)]
pub struct Col {
    pub text: String,
    pub ty: String,
}

impl Col {
    pub fn is_string(&self) -> bool {
        matches!(self.ty.as_str(), "string" | "guid")
    }
    pub fn is_dynamic(&self) -> bool {
        self.ty == "dynamic"
    }
    pub fn is_numeric(&self) -> bool {
        matches!(self.ty.as_str(), "long" | "int" | "real" | "decimal")
    }
}

/// Everything one table-level query needs while it is emitted.
pub struct Ctx<'m> {
    pub m: &'m KqlMapping,
    pub profile: &'m Profile,
    pub profile_name: String,
    pub time: String,
    pub lenient: bool,
    /// Columns of the table (from the schema).
    pub columns: BTreeMap<String, String>,
    /// Names defined by the pipeline (eval, aggregates, renames) with types.
    pub computed: BTreeMap<String, String>,
    /// The CIM dataset prefix (`All_Traffic.`) stripped from field names.
    pub cim_prefixes: Vec<String>,
    /// Preludes the emitted expressions need, by name.
    pub needs: BTreeSet<String>,
    /// After SPL `spath` over a `[{Name, Value}]` column: unknown raw
    /// fields are read from the `__params` bag.
    pub spath_bag: bool,
    pub caveats: Vec<Caveat>,
    pub diags: Vec<Diagnostic>,
    /// The rule's look-back window (Elastic `from`), for new-terms rules.
    pub window: Option<crate::ir::Duration>,
    /// Where mapping-level problems are reported.
    pub profile_span: Span,
    /// After an aggregation: the columns that still exist.
    pub available: Option<BTreeSet<String>>,
    /// The filter the table needs (the profile's, or the channels the rule
    /// names for a `channel_column` profile).
    pub filter: Option<String>,
}

impl<'m> Ctx<'m> {
    pub fn new(m: &'m KqlMapping, name: &str, family: &str, lenient: bool) -> Option<Ctx<'m>> {
        let profile = m.map.profiles.get(name)?;
        let columns = m.schema.columns(&profile.table)?.clone();
        let time = match (&profile.time_xdr, family) {
            (Some(t), "xdr") => t.clone(),
            _ => "TimeGenerated".to_string(),
        };
        let mut cx = Ctx {
            m,
            profile,
            profile_name: name.to_string(),
            time,
            lenient,
            columns,
            computed: BTreeMap::new(),
            cim_prefixes: Vec::new(),
            needs: BTreeSet::new(),
            spath_bag: false,
            caveats: Vec::new(),
            diags: Vec::new(),
            window: None,
            profile_span: Span::default(),
            available: None,
            filter: profile.filter.clone(),
        };
        if let Some(a) = &profile.approx {
            cx.caveat("table-approximation", a.clone(), None);
        }
        Some(cx)
    }

    /// The table reference (`DeviceProcessEvents`, `_Im_Dns()`).
    pub fn table_ref(&self) -> String {
        if self.profile.function {
            format!("{}()", self.profile.table)
        } else {
            self.profile.table.clone()
        }
    }

    pub fn caveat(&mut self, code: &str, message: impl Into<String>, span: Option<Span>) {
        let message = message.into();
        if !self.caveats.iter().any(|c| c.message == message) {
            self.caveats.push(Caveat {
                code: code.to_string(),
                message,
                span,
            });
        }
    }

    /// Refuse a construct the target cannot express (E0501).
    pub fn refuse(&mut self, span: Span, what: impl Into<String>, label: &str) {
        self.diags.push(
            Diagnostic::error(codes::REFUSED, what)
                .at(span)
                .label(label.to_string()),
        );
    }

    /// A prelude by name, from the profile or one of its field sets.
    pub fn prelude(&self, name: &str) -> Option<&'m str> {
        if let Some(p) = self.profile.preludes.get(name) {
            return Some(p);
        }
        self.profile
            .include
            .iter()
            .filter_map(|i| self.m.map.fieldsets.get(i))
            .find_map(|fs| fs.preludes.get(name).map(String::as_str))
    }

    fn scheme_key(s: FieldScheme) -> &'static str {
        match s {
            FieldScheme::Ecs => "ecs",
            FieldScheme::Cim => "cim",
            FieldScheme::Sigma => "sigma",
            FieldScheme::Raw | FieldScheme::Computed => "raw",
        }
    }

    /// Find the mapping target of `name` in the profile and its field sets.
    fn lookup(&self, scheme: &str, name: &str) -> Option<(&'m Target, String)> {
        let m = self.m;
        let sets = std::iter::once(&self.profile.fields)
            .chain(
                self.profile
                    .include
                    .iter()
                    .filter_map(|i| m.map.fieldsets.get(i).map(|f| &f.fields)),
            )
            .chain(std::iter::once(&m.map.common));
        let sets: Vec<_> = sets.collect();
        // Raw Windows event fields (Splunk XmlWinEventLog) carry the Sysmon /
        // EventData names the Sigma taxonomy uses.
        let schemes: &[&str] = if scheme == "raw" {
            &["raw", "sigma"]
        } else {
            &[scheme]
        };
        for sc in schemes {
            for set in &sets {
                if let Some(t) = set.get(*sc).and_then(|f| f.get(name)) {
                    return Some((t, String::new()));
                }
            }
        }
        for set in &sets {
            let Some(fields) = set.get(scheme) else {
                continue;
            };
            for (k, t) in fields {
                if let Some(prefix) = k.strip_suffix('*') {
                    if let Some(rest) = name.strip_prefix(prefix) {
                        if !rest.is_empty() {
                            return Some((t, rest.to_string()));
                        }
                    }
                }
            }
        }
        None
    }

    /// A column by name from the schema.
    fn column(&self, name: &str) -> Option<Col> {
        self.columns.get(name).map(|ty| Col {
            text: ident(name),
            ty: ty.clone(),
        })
    }

    /// Resolve a field to a column expression; unmapped fields are refused
    /// (E0401) or, under `--lenient`, read with `column_ifexists` and a caveat.
    pub fn field(&mut self, f: &FieldRef) -> Col {
        let stripped = self.strip_cim(f);
        for n in [f.name.as_str(), stripped.as_str()] {
            if let Some(ty) = self.computed.get(n) {
                return Col {
                    text: ident(n),
                    ty: ty.clone(),
                };
            }
        }
        let col = self.mapped(f);
        match &self.available {
            Some(avail) if !avail.contains(&col.text) => {
                self.caveat(
                    "dropped-by-aggregation",
                    format!(
                        "`{}` does not exist after the aggregation; read as empty, as the source would",
                        f.name
                    ),
                    Some(f.span),
                );
                let name = if col.text.contains('(') {
                    f.name.as_str()
                } else {
                    col.text.as_str()
                };
                Col {
                    text: format!("column_ifexists({}, \"\")", super::text::lit(name)),
                    ty: "string".into(),
                }
            }
            _ => col,
        }
    }

    /// The field name without a CIM data-model dataset prefix.
    pub fn strip_cim(&self, f: &FieldRef) -> String {
        if f.scheme == FieldScheme::Cim {
            for p in &self.cim_prefixes {
                if let Some(rest) = f.name.strip_prefix(p.as_str()) {
                    return rest.to_string();
                }
            }
        }
        f.name.clone()
    }

    fn mapped(&mut self, f: &FieldRef) -> Col {
        // A field-name pattern is refused unless the mapping names the
        // pattern itself (`a.*.b: {expr: ...}`).
        let named_pattern = f.name_pattern.is_some()
            && self
                .lookup(Self::scheme_key(f.scheme), &f.name)
                .is_some_and(|(_, rest)| rest.is_empty());
        if f.name_pattern.is_some() && !named_pattern {
            self.refuse(
                f.span,
                format!(
                    "the field-name pattern `{}` has no Kusto equivalent",
                    f.name
                ),
                "a wildcard in a field name",
            );
            return Col {
                text: ident(&f.name),
                ty: "string".into(),
            };
        }
        if f.scheme == FieldScheme::Computed {
            return Col {
                text: ident(&f.name),
                ty: "string".into(),
            };
        }
        let scheme = Self::scheme_key(f.scheme);
        let stripped = self.strip_cim(f);
        let name = stripped.as_str();
        if let Some((t, rest)) = self.lookup(scheme, name) {
            match t {
                Target::Column(c) if c == "$time" => {
                    return Col {
                        text: ident(&self.time),
                        ty: "datetime".into(),
                    }
                }
                // `prefix.*: "{1}"`: the rest of the name is a column when
                // the table has one by that name; otherwise unmapped.
                Target::Column(c) if c.contains("{1}") => {
                    if let Some(col) = self.column(&c.replace("{1}", &rest)) {
                        return col;
                    }
                }
                Target::Column(c) => {
                    if let Some(col) = self.column(c) {
                        return col;
                    }
                    self.diags.push(
                        Diagnostic::error(
                            codes::UNMAPPED_FIELD,
                            format!(
                                "the mapping sends `{}` to `{c}`, which {} does not have",
                                f.name, self.profile.table
                            ),
                        )
                        .at(f.span)
                        .note("a mapping-data problem: check the --mapping file against the table schema"),
                    );
                    return Col {
                        text: ident(c),
                        ty: "string".into(),
                    };
                }
                Target::Expr {
                    expr,
                    ty,
                    needs,
                    approx,
                } => {
                    if let Some(n) = needs {
                        self.needs.insert(n.clone());
                    }
                    if let Some(a) = approx {
                        self.caveat("field-approximation", a.clone(), Some(f.span));
                    }
                    let text = expr
                        .replace("{path}", &json_path(&rest))
                        .replace("{1}", &rest.replace('"', "\\\""));
                    return Col {
                        text,
                        ty: ty.clone(),
                    };
                }
            }
        }
        if self.profile.identity {
            if let Some(col) = self.column(name) {
                return col;
            }
        }
        if self.spath_bag && matches!(f.scheme, FieldScheme::Raw) {
            return Col {
                text: format!("tostring(__params[{}])", super::text::lit(name)),
                ty: "string".into(),
            };
        }
        let what = format!(
            "the field `{}` has no column in {} (mapping `{}`)",
            f.name, self.profile.table, self.profile_name
        );
        if self.lenient {
            self.caveat(
                "unmapped-field",
                format!("{what}; read with column_ifexists, empty where the table lacks it"),
                Some(f.span),
            );
        } else {
            self.diags.push(
                Diagnostic::error(codes::UNMAPPED_FIELD, what)
                    .at(f.span)
                    .label("no Kusto column for this field")
                    .note("add it to a --mapping file, or pass --lenient to read it with column_ifexists()"),
            );
        }
        Col {
            text: format!("column_ifexists({}, \"\")", super::text::lit(&f.name)),
            ty: "string".into(),
        }
    }
}

/// A dotted field-name rest as a Kusto dynamic path: `spec.hostPID` →
/// `["spec"]["hostPID"]` (SPL multivalue markers `{}` dropped).
fn json_path(rest: &str) -> String {
    rest.split('.')
        .map(|seg| format!("[{}]", super::text::lit(seg.trim_end_matches("{}"))))
        .collect()
}
