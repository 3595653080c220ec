//! UTC timestamps truncated to microseconds (PostgreSQL's precision; CRATE-NOTES.md §a).

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// WorkOS wire form: `2026-01-15T12:00:00.000Z` (milliseconds, `Z`).
pub fn to_workos(t: NaiveDateTime) -> String {
    iso(t, 3).unwrap_or_else(|| t.and_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// SCIM `meta` form (RFC 7643 §2.3.5 xsd:dateTime), microseconds kept so that
/// `meta.lastModified` round-trips into filters.
pub fn to_scim(t: NaiveDateTime) -> String {
    iso(t, 6).unwrap_or_else(|| t.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// `%Y-%m-%dT%H:%M:%S` and `digits` (3 or 6) of the fraction, truncated, then `Z`,
/// written digit by digit: chrono parses its format string on every call, which was
/// a tenth of the server's work in a membership PATCH (two timestamps per user
/// object, 100 user objects). `None` where chrono's output has another shape (a year
/// outside 0–9999, a leap second), which then formats it.
fn iso(t: NaiveDateTime, digits: u32) -> Option<String> {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 || digits > 9 {
        return None;
    }
    fn put(out: &mut String, sep: Option<char>, v: u32, width: u32) {
        out.extend(sep);
        for k in (0..width).rev() {
            out.push(char::from(b'0' + ((v / 10u32.pow(k)) % 10) as u8));
        }
    }
    let mut out = String::with_capacity(28);
    put(&mut out, None, year, 4);
    put(&mut out, Some('-'), t.month(), 2);
    put(&mut out, Some('-'), t.day(), 2);
    put(&mut out, Some('T'), t.hour(), 2);
    put(&mut out, Some(':'), t.minute(), 2);
    put(&mut out, Some(':'), t.second(), 2);
    put(&mut out, Some('.'), nanos / 10u32.pow(9 - digits), digits);
    out.push('Z');
    Some(out)
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

    /// The hand-written formatter writes what chrono's format strings write, fast path
    /// and fallback alike (years outside 0–9999, a leap second).
    #[test]
    fn formats_are_chronos() {
        use chrono::{NaiveDate, NaiveTime};
        let dates = [
            (2026, 11, 26),
            (1, 1, 1),
            (0, 2, 29),
            (9999, 12, 31),
            (10000, 1, 1),
            (-5, 3, 4),
        ];
        let times = [
            (0, 0, 0, 0),
            (23, 59, 59, 999_999_999),
            (1, 2, 3, 456_789_012),
            (12, 0, 5, 7_000),
            (23, 59, 59, 1_500_000_000),
        ];
        for (y, m, d) in dates {
            for (h, mi, sec, n) in times {
                let (Some(date), Some(time)) = (
                    NaiveDate::from_ymd_opt(y, m, d),
                    NaiveTime::from_hms_nano_opt(h, mi, sec, n),
                ) else {
                    panic!("not a date-time: {y}-{m}-{d} {h}:{mi}:{sec}.{n}")
                };
                let t = date.and_time(time);
                let u = t.and_utc();
                assert_eq!(
                    to_workos(t),
                    u.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                    "{t:?}"
                );
                assert_eq!(
                    to_scim(t),
                    u.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                    "{t:?}"
                );
            }
        }
    }
}
