//! What an API key may do: its scopes. A vendor API route requires one scope
//! (`api::auth` names it per route); a key holding `admin` may do everything.
//!
//! Stored space-separated in `api_keys.scopes`; keys made before scopes existed hold
//! all of them (migration `api_key_scopes`).

use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `GET /events` (and its long poll).
    EventsRead,
    /// Reads of organizations, directories, users, groups, tokens, mappings, snapshots.
    DirectoriesRead,
    /// Creating, changing and deleting organizations, directories, tokens, mappings.
    DirectoriesWrite,
    /// Setup links for customers' IT admins (`/portal/…`).
    PortalWrite,
    /// API keys, the audit log, webhook endpoints; and everything else.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::EventsRead,
        Scope::DirectoriesRead,
        Scope::DirectoriesWrite,
        Scope::PortalWrite,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::EventsRead => "events:read",
            Scope::DirectoriesRead => "directories:read",
            Scope::DirectoriesWrite => "directories:write",
            Scope::PortalWrite => "portal:write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    pub fn all() -> Scopes {
        Scopes::of(&Scope::ALL)
    }

    pub fn of(scopes: &[Scope]) -> Scopes {
        Scopes(scopes.iter().fold(0, |b, s| b | s.bit()))
    }

    /// Whether these scopes allow what `required` guards (`admin` allows everything).
    pub fn allow(self, required: Scope) -> bool {
        self.0 & (required.bit() | Scope::Admin.bit()) != 0
    }

    pub fn contains(self, s: Scope) -> bool {
        self.0 & s.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Scope names as given by a caller: every one known, at least one.
    pub fn parse_names<S: AsRef<str>>(names: &[S]) -> CoreResult<Scopes> {
        let mut out = Scopes::default();
        for n in names {
            let n = n.as_ref().trim();
            let s = Scope::parse(n).ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                CoreError::invalid_value(format!(
                    "unknown scope {n:?}; scopes are {}",
                    known.join(", ")
                ))
            })?;
            out.0 |= s.bit();
        }
        if out.is_empty() {
            return Err(CoreError::invalid_value(
                "an API key needs at least one scope",
            ));
        }
        Ok(out)
    }

    /// The stored form (space-separated, in a fixed order).
    pub fn to_stored(self) -> String {
        self.names().join(" ")
    }

    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Scope::as_str).collect()
    }

    /// The stored form read back; an unknown name (a newer version's scope) is ignored.
    pub fn from_stored(s: &str) -> Scopes {
        Scopes(
            s.split_whitespace()
                .filter_map(Scope::parse)
                .fold(0, |b, s| b | s.bit()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_admin_allows_everything() {
        let s = Scopes::parse_names(&["events:read", " directories:read "]).unwrap_or_default();
        assert_eq!(s.to_stored(), "events:read directories:read");
        assert_eq!(Scopes::from_stored(&s.to_stored()), s);
        assert!(s.allow(Scope::EventsRead));
        assert!(!s.allow(Scope::DirectoriesWrite));
        assert!(!s.allow(Scope::Admin));
        let a = Scopes::of(&[Scope::Admin]);
        assert!(Scope::ALL.iter().all(|x| a.allow(*x)));
        assert!(Scopes::parse_names(&["events:write"]).is_err());
        assert!(Scopes::parse_names::<&str>(&[]).is_err());
        assert_eq!(
            Scopes::from_stored(
                "events:read directories:read directories:write portal:write admin"
            ),
            Scopes::all()
        );
    }
}
