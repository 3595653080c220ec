//! In-memory value filter (RFC 7644 §3.4.2.2) over one element of a multi-valued attribute: the
//! `[…]` of a PATCH path such as `emails[type eq "work"]`.

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, ValFilter};
use scimgate_connectors::coerce_value;
use serde_json::Value;

use crate::scim::schema::get_ci;

/// In-memory evaluation of a value filter against one element of a multi-valued attribute (used for
/// `emails[type eq "work"]`). `caseexact_of(sub_attribute_name)` tells whether string comparisons on that
/// sub-attribute are case-exact (RFC 7643 §2.2 `caseExact`); otherwise they ignore case. Attribute names
/// match case-insensitively; `"True"`/`"false"` strings compare as booleans for boolean attributes
/// (`coerce_value`); strings that are both RFC 3339 date-times order chronologically.
pub fn matches(filter: &ValFilter, elem: &Value, caseexact_of: impl Fn(&str) -> bool) -> bool {
    eval(filter, elem, &caseexact_of)
}

fn eval(f: &ValFilter, elem: &Value, ce: &dyn Fn(&str) -> bool) -> bool {
    match f {
        ValFilter::Attr(AttrExp::Present(p)) => attr_of(elem, p).is_some_and(is_present),
        ValFilter::Attr(AttrExp::Comparison(p, op, expected)) => {
            let name = p.sub_attr.as_deref().unwrap_or(&p.name);
            compare(attr_of(elem, p), name, op, expected, ce(name))
        }
        ValFilter::Not(inner) => !eval(inner, elem, ce),
        ValFilter::And(items) => items.iter().all(|i| eval(i, elem, ce)),
        ValFilter::Or(items) => items.iter().any(|i| eval(i, elem, ce)),
    }
}

fn attr_of<'v>(elem: &'v Value, p: &AttrPath) -> Option<&'v Value> {
    match elem {
        Value::Object(m) => {
            let v = get_ci(m, &p.name)?;
            match &p.sub_attr {
                None => Some(v),
                Some(s) => v.as_object().and_then(|o| get_ci(o, s)),
            }
        }
        // Simple multi-valued attributes: `value` is the element itself.
        other if p.sub_attr.is_none() && p.name.eq_ignore_ascii_case("value") => Some(other),
        _ => None,
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(
    actual: Option<&Value>,
    name: &str,
    op: &CompareOp,
    expected: &CompValue,
    case_exact: bool,
) -> bool {
    let actual = actual.filter(|v| !v.is_null());
    match (actual, expected) {
        (None, CompValue::Null) => matches!(op, CompareOp::Eq),
        (None, _) => matches!(op, CompareOp::Ne),
        (Some(_), CompValue::Null) => matches!(op, CompareOp::Ne),
        (Some(Value::Array(items)), _) => items
            .iter()
            .any(|i| compare(Some(i), name, op, expected, case_exact)),
        (Some(v), CompValue::True | CompValue::False) => {
            let want = matches!(expected, CompValue::True);
            let got = match coerce_value(name, v.clone()) {
                Value::Bool(b) => Some(b),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
                _ => None,
            };
            match op {
                CompareOp::Eq => got == Some(want),
                CompareOp::Ne => got != Some(want),
                _ => false,
            }
        }
        (Some(Value::Number(a)), CompValue::Number(b)) => ordering_matches(
            op,
            a.as_f64()
                .zip(b.as_f64())
                .and_then(|(x, y)| x.partial_cmp(&y)),
        ),
        (Some(Value::String(a)), CompValue::Number(b)) => ordering_matches(
            op,
            a.trim()
                .parse::<f64>()
                .ok()
                .zip(b.as_f64())
                .and_then(|(x, y)| x.partial_cmp(&y)),
        ),
        (Some(Value::String(a)), CompValue::Str(b)) => compare_str(a, b, op, case_exact),
        (Some(Value::Bool(a)), CompValue::Str(b)) => compare_str(&a.to_string(), b, op, false),
        (Some(Value::Number(a)), CompValue::Str(b)) => compare_str(&a.to_string(), b, op, true),
        _ => false,
    }
}

fn compare_str(a: &str, b: &str, op: &CompareOp, case_exact: bool) -> bool {
    let (la, lb) = if case_exact {
        (a.to_string(), b.to_string())
    } else {
        (a.to_lowercase(), b.to_lowercase())
    };
    match op {
        CompareOp::Eq => la == lb,
        CompareOp::Ne => la != lb,
        CompareOp::Co => la.contains(&lb),
        CompareOp::Sw => la.starts_with(&lb),
        CompareOp::Ew => la.ends_with(&lb),
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
            let ord = match (
                chrono::DateTime::parse_from_rfc3339(a),
                chrono::DateTime::parse_from_rfc3339(b),
            ) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => la.cmp(&lb),
            };
            ordering_matches(op, Some(ord))
        }
    }
}

fn ordering_matches(op: &CompareOp, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match (op, ord) {
        (_, None) => matches!(op, CompareOp::Ne),
        (CompareOp::Eq, Some(o)) => o == Equal,
        (CompareOp::Ne, Some(o)) => o != Equal,
        (CompareOp::Gt, Some(o)) => o == Greater,
        (CompareOp::Ge, Some(o)) => o != Less,
        (CompareOp::Lt, Some(o)) => o == Less,
        (CompareOp::Le, Some(o)) => o != Greater,
        (CompareOp::Co | CompareOp::Sw | CompareOp::Ew, Some(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scim_v2::filter::PatchPath;
    use serde_json::json;

    fn parse_filter(path: &str) -> ValFilter {
        match path.parse::<PatchPath>() {
            Ok(PatchPath::Value(vp)) => vp.filter,
            other => panic!("not a value path: {other:?}"),
        }
    }

    fn m(filter: &str, elem: Value) -> bool {
        let f = parse_filter(&format!("x[{filter}]"));
        matches(&f, &elem, |n: &str| n == "exact")
    }

    #[test]
    fn matches_rfc7644_s3_4_2_2_operators() {
        let e = json!({"type": "Work", "value": "Bjensen@Example.com", "primary": "True", "n": 5,
            "exact": "AbC", "when": "2024-01-02T00:00:00Z", "tags": ["a", "b"], "empty": ""});
        assert!(m("type eq \"work\"", e.clone()));
        assert!(m("TYPE eq \"WORK\"", e.clone()));
        assert!(!m("exact eq \"abc\"", e.clone()));
        assert!(m("exact eq \"AbC\"", e.clone()));
        assert!(m("value co \"example\"", e.clone()));
        assert!(m("value sw \"bjensen\"", e.clone()));
        assert!(m("value ew \".COM\"", e.clone()));
        assert!(m("value ne \"x\"", e.clone()));
        assert!(m("primary eq true", e.clone()));
        assert!(!m("primary eq false", e.clone()));
        assert!(m("n gt 4 and n le 5", e.clone()));
        assert!(!m("n lt 5", e.clone()));
        assert!(m("when gt \"2023-12-31T23:00:00-05:00\"", e.clone()));
        assert!(!m("when lt \"2024-01-01T18:00:00-05:00\"", e.clone()));
        assert!(m("when lt \"2024-01-01T23:00:00-05:00\"", e.clone()));
        assert!(m("type pr", e.clone()));
        assert!(!m("empty pr", e.clone()));
        assert!(!m("missing pr", e.clone()));
        assert!(m("missing eq null", e.clone()));
        assert!(m("missing ne \"x\"", e.clone()));
        assert!(!m("missing eq \"x\"", e.clone()));
        assert!(m("type eq null or n eq 5", e.clone()));
        assert!(m("not (type eq \"home\")", e.clone()));
        assert!(m("tags eq \"b\"", e.clone()));
        assert!(!m("type eq 5", e.clone()));
        // simple multi-valued element: `value` is the element itself
        assert!(m("value eq \"A\"", json!("a")));
        assert!(!m("type eq \"a\"", json!("a")));
    }
}
