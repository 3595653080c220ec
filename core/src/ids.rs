//! Prefixed ULID identifiers, WorkOS style (`directory_01H…`, `event_01H…`).

use std::sync::Mutex;

static GEN: Mutex<Option<ulid::Generator>> = Mutex::new(None);

/// A new id with the given prefix (`"directory_user"` → `directory_user_01J…`).
/// ULIDs from one process are strictly increasing.
pub fn new_id(prefix: &str) -> String {
    new_ids(prefix, 1)
}

/// The first of `k` consecutive ids (`k` ≥ 1): the others are [`offset`] 1 to `k − 1`
/// from it, and no later id of this process falls among them (the generator steps
/// past them: in the same millisecond it increments, in a later one the time part
/// is larger).
pub fn new_ids(prefix: &str, k: usize) -> String {
    let ulid = {
        let mut guard = GEN.lock().unwrap_or_else(|p| p.into_inner());
        let g = guard.get_or_insert_with(ulid::Generator::new);
        let first = g.generate().unwrap_or_else(|_| ulid::Ulid::new());
        for _ in 1..k {
            let _ = g.generate();
        }
        first
    };
    with_prefix(prefix, ulid)
}

/// The id `k` after `id` (its ULID plus `k`, same prefix); `None` when `id` is not
/// a prefixed ULID or the sum overflows.
pub fn offset(id: &str, k: u64) -> Option<String> {
    let (prefix, u) = split(id)?;
    let v = u.0.checked_add(u128::from(k))?;
    Some(with_prefix(prefix, ulid::Ulid(v)))
}

/// How far `id` is after `base` (both of one prefix): `offset(base, d) == id`.
pub fn distance(base: &str, id: &str) -> Option<u64> {
    let ((p, a), (q, b)) = (split(base)?, split(id)?);
    if p != q {
        return None;
    }
    u64::try_from(b.0.checked_sub(a.0)?).ok()
}

fn split(id: &str) -> Option<(&str, ulid::Ulid)> {
    let (prefix, u) = id.rsplit_once('_')?;
    let u = ulid::Ulid::from_string(u).ok()?;
    Some((prefix, u))
}

fn with_prefix(prefix: &str, ulid: ulid::Ulid) -> String {
    let mut buf = [0u8; ulid::ULID_LEN];
    let mut id = String::with_capacity(prefix.len() + 1 + ulid::ULID_LEN);
    id.push_str(prefix);
    id.push('_');
    id.push_str(ulid.array_to_str(&mut buf));
    id
}

pub const ORGANIZATION: &str = "org";
pub const DIRECTORY: &str = "directory";
pub const DIRECTORY_USER: &str = "directory_user";
pub const DIRECTORY_GROUP: &str = "directory_group";
pub const DIRECTORY_TOKEN: &str = "directory_token";
pub const EVENT: &str = "event";
pub const API_KEY: &str = "key";
pub const ROLE_MAPPING: &str = "role_mapping";
pub const ADMIN_USER: &str = "admin_user";

/// True when `id` looks like an id of that prefix (cheap shape check, not existence).
pub fn has_prefix(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 1 + 26
        && id.starts_with(prefix)
        && id.as_bytes().get(prefix.len()) == Some(&b'_')
        && id[prefix.len() + 1..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ids_are_prefixed_and_increasing() {
        let a = new_id(DIRECTORY_USER);
        let b = new_id(DIRECTORY_USER);
        assert!(a.starts_with("directory_user_"));
        assert!(has_prefix(&a, DIRECTORY_USER));
        assert!(!has_prefix(&a, DIRECTORY));
        assert!(a < b);
        let u = &b["directory_user_".len()..];
        assert_eq!(
            u.parse::<ulid::Ulid>().map(|x| x.to_string()).as_deref(),
            Ok(u)
        );
    }

    #[test]
    fn consecutive_ids_are_offsets_and_stay_reserved() {
        let first = new_ids(EVENT, 100);
        let next = new_id(EVENT);
        let last = offset(&first, 99).unwrap_or_default();
        assert!(has_prefix(&last, EVENT), "{last}");
        assert!(first < last && last < next, "{first} {last} {next}");
        assert_eq!(distance(&first, &last), Some(99));
        assert_eq!(distance(&first, &first), Some(0));
        assert_eq!(distance(&last, &first), None);
        assert_eq!(distance(&first, &new_id(DIRECTORY)), None);
        assert_eq!(offset("event_notaulid", 1), None);
        // Crockford base32 carries: ...Z + 1 = ...10
        let z = format!("event_{}", "0".repeat(25) + "Z");
        assert_eq!(
            offset(&z, 1),
            Some(format!("event_{}", "0".repeat(24) + "10"))
        );
    }
}
