//! Value and field helpers shared by the two Elastic query-string front-ends
//! (kuery and Lucene): the typing of literal values, field references that may
//! be name patterns, and the caveats both record.

use crate::ir::{
    Case, Caveat, CmpOp, Compare, Expr, ExprKind, FieldRef, FieldScheme, Keyword, MatchKind,
    Number, Part, Pattern, Quantifier, Scalar, Value,
};
use crate::span::Span;

/// `-?digits(.digits)?`: the numbers a query writes bare.
pub(crate) fn is_number(text: &str) -> bool {
    let t = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// An IPv4 or IPv6 block with a prefix length (`10.0.0.0/8`, `FC00::/7`).
pub(crate) fn is_cidr(text: &str) -> bool {
    let Some((addr, bits)) = text.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

/// The typed value of a literal of a field value position.
///
/// A wildcard makes a pattern. Otherwise a CIDR block is [`Value::Cidr`]
/// (Elasticsearch reads it so on `ip` fields, and rules write it for those);
/// when `bare` (unquoted) `true`/`false` are booleans and numbers
/// [`Value::Num`] (the text is kept: on a keyword field the matcher compares it
/// as a string, on a numeric field by value — Elasticsearch coerces the query
/// value to the mapped type either way). Everything else is a literal string.
pub(crate) fn typed_value(parts: &[Part], bare: bool) -> Value {
    let pattern = Pattern::from_parts(parts.iter().cloned());
    let Some(text) = pattern.as_literal() else {
        return Value::Str(pattern);
    };
    if is_cidr(text) {
        return Value::Cidr(text.to_string());
    }
    if bare {
        match text {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
        if is_number(text) {
            if let Some(n) = Number::new(text) {
                return Value::Num(n);
            }
        }
    }
    Value::Str(pattern)
}

/// A bound of a range or comparison: a number when it reads as one, else the
/// string as written (dates, date math such as `now-1d`, IPs).
pub(crate) fn bound_value(text: &str) -> Value {
    if is_number(text) {
        if let Some(n) = Number::new(text) {
            return Value::Num(n);
        }
    }
    Value::Str(Pattern::literal(text))
}

/// A field reference from name parts; wildcards make a name pattern.
pub(crate) fn field_ref(parts: Vec<Part>, span: Span) -> FieldRef {
    let pattern = Pattern::from_parts(parts);
    match pattern.as_literal() {
        Some(name) => FieldRef::new(name, FieldScheme::Ecs, span),
        None => FieldRef::pattern(pattern, FieldScheme::Ecs, span),
    }
}

/// A free-text search over every field (`default_field` `*`).
pub(crate) fn free_text(value: Value, span: Span) -> Expr {
    Expr::new(
        ExprKind::Keyword(Keyword {
            values: vec![value],
            quantifier: Quantifier::Any,
            case: Case::Insensitive,
            kind: MatchKind::Term,
        }),
        span,
    )
}

/// Adds a caveat once per code.
pub(crate) fn caveat_once(caveats: &mut Vec<Caveat>, code: &str, message: &str, span: Span) {
    if caveats.iter().all(|c| c.code != code) {
        caveats.push(Caveat {
            code: code.to_string(),
            message: message.to_string(),
            span: Some(span),
        });
    }
}

/// The free-text caveat both languages record.
pub(crate) const FREE_TEXT: &str = "a value without a field searches every field; on analyzed \
    text fields that is a case-insensitive match of its terms, on keyword fields an exact \
    match: it is kept as a case-insensitive term search";

/// `field op value` as a [`Compare`] (case-sensitive when both are strings).
pub(crate) fn compare(f: FieldRef, op: CmpOp, value: Value, vspan: Span, span: Span) -> Expr {
    Expr::new(
        ExprKind::Compare(Compare {
            left: Scalar::Field(f),
            op,
            right: Scalar::Lit(value, vspan),
            case: Case::Sensitive,
            span,
        }),
        span,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_cidrs() {
        assert!(is_number("4624") && is_number("-1.5") && is_number("0"));
        assert!(!is_number("1.") && !is_number(".5") && !is_number("1e3") && !is_number("-"));
        assert!(is_cidr("10.0.0.0/8") && is_cidr("FC00::/7"));
        assert!(!is_cidr("10.0.0.0/33") && !is_cidr("/bin/sh") && !is_cidr("10.0.0.0"));
        assert_eq!(
            typed_value(&[Part::Lit("4624".into())], false),
            Value::Str(Pattern::literal("4624"))
        );
        assert!(matches!(
            typed_value(&[Part::Lit("4624".into())], true),
            Value::Num(n) if n.text == "4624"
        ));
    }
}
