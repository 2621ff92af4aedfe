//! The keys an Elastic rule file may hold. Anything else is a W0111 warning at
//! the key, so a typo (`severty`) does not pass unnoticed.

use super::Ctx;
use crate::diag::{codes, Diagnostic};
use crate::span::Span;
use toml_edit::TableLike;

pub const TOP: &[&str] = &["metadata", "rule", "transform"];

pub const METADATA: &[&str] = &[
    "bypass_bbr_timing",
    "comments",
    "creation_date",
    "deprecated_reason",
    "deprecation_date",
    "integration",
    "maturity",
    "min_stack_comments",
    "min_stack_version",
    "promotion",
    "query_schema_validation",
    "updated_date",
];

/// Kibana's rule schema as detection-rules writes it.
pub const RULE: &[&str] = &[
    "actions",
    "alert_suppression",
    "anomaly_threshold",
    "author",
    "building_block_type",
    "concurrent_searches",
    "data_view_id",
    "description",
    "enabled",
    "event_category_override",
    "exceptions_list",
    "false_positives",
    "filters",
    "from",
    "index",
    "interval",
    "investigation_fields",
    "items_per_search",
    "language",
    "license",
    "machine_learning_job_id",
    "max_signals",
    "meta",
    "name",
    "namespace",
    "new_terms",
    "note",
    "output_index",
    "query",
    "references",
    "related_integrations",
    "required_fields",
    "response_actions",
    "risk_score",
    "risk_score_mapping",
    "rule_id",
    "rule_name_override",
    "saved_id",
    "setup",
    "severity",
    "severity_mapping",
    "tags",
    "threat",
    "threat_filters",
    "threat_index",
    "threat_indicator_path",
    "threat_language",
    "threat_mapping",
    "threat_query",
    "threshold",
    "tiebreaker_field",
    "timeline_id",
    "timeline_title",
    "timestamp_override",
    "timestamp_override_fallback_disabled",
    "to",
    "type",
    "version",
];

pub fn check_unknown(cx: &mut Ctx, t: &dyn TableLike, known: &[&str], prefix: &str) {
    for (k, _) in t.iter() {
        if known.binary_search(&k).is_err() {
            let sp = t
                .key(k)
                .and_then(|k| k.span())
                .map(|r| Span::new(cx.file, r.start, r.end))
                .unwrap_or_default();
            let mut d =
                Diagnostic::warning(codes::UNKNOWN_KEY, format!("unknown key `{prefix}{k}`"))
                    .at(sp)
                    .label("not a key of Elastic's rule schema");
            if let Some(s) = suggest(k, known) {
                d = d.note(format!("did you mean `{prefix}{s}`?"));
            }
            cx.diags.push(d);
        }
    }
}

/// The known key closest to a misspelt one (edit distance ≤ 2).
fn suggest<'k>(k: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|c| (edit_distance(k, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lists_are_sorted_for_binary_search() {
        for list in [TOP, METADATA, RULE] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
    }

    #[test]
    fn suggests_close_keys() {
        assert_eq!(suggest("severty", RULE), Some("severity"));
        assert_eq!(suggest("zzzzzzzz", RULE), None);
    }
}
