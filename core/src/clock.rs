//! UTC timestamps truncated to microseconds (PostgreSQL's precision; CRATE-NOTES.md §a).

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// WorkOS wire form: `2026-01-15T12:00:00.000Z` (milliseconds, `Z`).
pub fn to_workos(t: NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// SCIM `meta` form (RFC 7643 §2.3.5 xsd:dateTime), microseconds kept so that
/// `meta.lastModified` round-trips into filters.
pub fn to_scim(t: NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parse an RFC 3339 date-time into UTC.
pub fn parse_rfc3339(s: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc).naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn formats_round_trip() {
        let t = now();
        assert_eq!(parse_rfc3339(&to_scim(t)), Some(t));
        assert!(to_workos(t).ends_with('Z'));
        assert_eq!(to_workos(t).len(), 24);
    }
}
