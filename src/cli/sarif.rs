//! SARIF 2.1.0, the shape GitHub code scanning accepts
//! (<https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning>).

use serde_json::{json, Value};
use siemc::diag::{codes, Diagnostic, Severity};
use siemc::span::SourceMap;

pub fn report(diags: &[(&Diagnostic, Option<&str>)], sm: &SourceMap) -> Value {
    let rules: Vec<Value> = codes::ALL
        .iter()
        .map(|(c, doc)| json!({"id": c.0, "name": c.0, "shortDescription": {"text": doc}}))
        .collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|(d, path)| {
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            };
            let mut r = json!({
                "ruleId": d.code.0,
                "level": level,
                "message": {"text": d.message},
            });
            let uri = d.span.map(|s| sm.get(s.file).path.as_str()).or(*path);
            if let Some(uri) = uri {
                let uri = uri.trim_start_matches("./");
                let mut loc = json!({"physicalLocation": {"artifactLocation": {"uri": uri}}});
                if let Some(s) = d.span {
                    let p = sm.resolve(s);
                    loc["physicalLocation"]["region"] = json!({
                        "startLine": p.line, "startColumn": p.column,
                        "endLine": p.end_line, "endColumn": p.end_column.max(if p.end_line == p.line { p.column + 1 } else { 1 }),
                    });
                }
                r["locations"] = json!([loc]);
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "siemc",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/siemc/siemc",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
