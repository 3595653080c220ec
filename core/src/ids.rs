//! Prefixed ULID identifiers, WorkOS style (`directory_01H…`, `event_01H…`).

use std::sync::Mutex;

static GEN: Mutex<Option<ulid::Generator>> = Mutex::new(None);

/// A new id with the given prefix (`"directory_user"` → `directory_user_01J…`).
/// ULIDs from one process are strictly increasing.
pub fn new_id(prefix: &str) -> String {
    let ulid = {
        let mut guard = GEN.lock().unwrap_or_else(|p| p.into_inner());
        let g = guard.get_or_insert_with(ulid::Generator::new);
        g.generate().unwrap_or_else(|_| ulid::Ulid::new())
    };
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
}
