//! The audit log: an append-only, tamper-evident record of every privileged action
//! (keys, tokens, organizations, directories, mappings, webhook endpoints, setup links,
//! logins and lock-outs), by whom, from where, and with what outcome.
//!
//! Tamper evidence: each record carries `hash = SHA-256(prev_hash ‖ its canonical
//! form)`, where `prev_hash` is the previous record's hash (64 zeros for the first
//! record ever). Records are appended one at a time under a lock (see
//! `store::audit::append`), so the chain is a total order; changing, removing or
//! inserting a record breaks every later link, which [`verify`] reports. Retention
//! (`SCIMGATE_AUDIT_RETENTION_DAYS`) removes the oldest records: the first remaining
//! record's `prev_hash` then anchors the chain (verification reports it).

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock;

/// The prefix of a record's id (`audit_…`).
pub const ID_PREFIX: &str = "audit";

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A vendor API key (`id` = the key's id).
    ApiKey,
    /// An operator of the admin UI (`id` = the admin user's id).
    Admin,
    /// A customer's IT admin in a setup session (`id` = the setup session's id).
    SetupSession,
    /// The command line on the server (`id` = none, `name` = the OS user if known).
    Cli,
    /// scimgate itself (retention, lock-outs decided by the rate limiter).
    System,
    /// Somebody not authenticated (a failed login, a bogus token).
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::ApiKey => "api_key",
            ActorKind::Admin => "admin",
            ActorKind::SetupSession => "setup_session",
            ActorKind::Cli => "cli",
            ActorKind::System => "system",
            ActorKind::Anonymous => "anonymous",
        }
    }

    pub fn parse(s: &str) -> Option<ActorKind> {
        Some(match s {
            "api_key" => ActorKind::ApiKey,
            "admin" => ActorKind::Admin,
            "setup_session" => ActorKind::SetupSession,
            "cli" => ActorKind::Cli,
            "system" => ActorKind::System,
            "anonymous" => ActorKind::Anonymous,
            _ => return None,
        })
    }
}

/// The actor of an action, with where the request came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<String>,
    pub name: Option<String>,
    /// The client address (see `SCIMGATE_TRUSTED_PROXIES`).
    pub client_addr: Option<String>,
    /// The request's `User-Agent`, cut to 256 characters.
    pub user_agent: Option<String>,
}

const MAX_USER_AGENT: usize = 256;

impl Actor {
    pub fn new(kind: ActorKind, id: Option<String>) -> Actor {
        Actor {
            kind,
            id,
            name: None,
            client_addr: None,
            user_agent: None,
        }
    }

    pub fn cli() -> Actor {
        let mut a = Actor::new(ActorKind::Cli, None);
        a.name = std::env::var("USER").ok().filter(|u| !u.is_empty());
        a
    }

    pub fn system() -> Actor {
        Actor::new(ActorKind::System, None)
    }

    pub fn with_name(mut self, name: impl Into<String>) -> Actor {
        self.name = Some(name.into());
        self
    }

    /// Where the request came from; the user agent is cut to 256 characters.
    pub fn from_request(mut self, client_addr: Option<String>, user_agent: Option<&str>) -> Actor {
        self.client_addr = client_addr;
        self.user_agent = user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect());
        self
    }
}

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Refused: bad credentials, missing scope, lock-out.
    Denied,
    /// Attempted and failed (bad input, a conflict).
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Some(match s {
            "success" => Outcome::Success,
            "denied" => Outcome::Denied,
            "failure" => Outcome::Failure,
            _ => return None,
        })
    }
}

/// An action to record (the store gives it its sequence number, id, time and hashes).
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor: Actor,
    /// `<object>.<verb>`, e.g. `api_key.created`, `directory.deleted`, `admin.login`,
    /// `auth.locked_out`.
    pub action: String,
    /// The kind of object acted on (`api_key`, `directory`, …), if any.
    pub target_type: Option<String>,
    /// Its id (never a secret).
    pub target_id: Option<String>,
    pub outcome: Outcome,
    /// Further facts as a JSON object (never a secret).
    pub details: serde_json::Value,
}

impl Entry {
    pub fn new(actor: &Actor, action: impl Into<String>, outcome: Outcome) -> Entry {
        Entry {
            actor: actor.clone(),
            action: action.into(),
            target_type: None,
            target_id: None,
            outcome,
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn target(mut self, kind: &str, id: impl Into<String>) -> Entry {
        self.target_type = Some(kind.to_string());
        self.target_id = Some(id.into());
        self
    }

    /// The kind of the target, whose id is known once the action is done.
    pub fn target_kind(mut self, kind: &str) -> Entry {
        self.target_type = Some(kind.to_string());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Entry {
        self.details = details;
        self
    }
}

/// A stored record, as the chain covers it (a row of `audit_log`).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    diesel::Queryable,
    diesel::Selectable,
    diesel::Insertable,
    diesel::QueryableByName,
)]
#[diesel(table_name = crate::store::schema::audit_log)]
pub struct Record {
    pub seq: i64,
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub outcome: String,
    /// JSON text.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Record {
    /// The record `entry` becomes after the record `prev` (`None`: the first one).
    pub fn next(prev: Option<(i64, &str)>, entry: &Entry, id: String, at: NaiveDateTime) -> Record {
        let (seq, prev_hash) = match prev {
            Some((seq, hash)) => (seq + 1, hash.to_string()),
            None => (1, GENESIS.to_string()),
        };
        let mut r = Record {
            seq,
            id,
            at,
            actor_kind: entry.actor.kind.as_str().to_string(),
            actor_id: entry.actor.id.clone(),
            actor_name: entry.actor.name.clone(),
            client_addr: entry.actor.client_addr.clone(),
            user_agent: entry.actor.user_agent.clone(),
            action: entry.action.clone(),
            target_type: entry.target_type.clone(),
            target_id: entry.target_id.clone(),
            outcome: entry.outcome.as_str().to_string(),
            details: crate::json::text(&entry.details),
            prev_hash,
            hash: String::new(),
        };
        r.hash = r.compute_hash();
        r
    }

    /// `SHA-256(prev_hash ‖ canonical form)`, hex. The canonical form is a JSON array
    /// of every field but the hash, in a fixed order, times in microseconds: a JSON
    /// string escapes every separator, so no two records share a form.
    pub fn compute_hash(&self) -> String {
        let form = serde_json::json!([
            self.seq,
            self.id,
            clock::to_scim(self.at),
            self.actor_kind,
            self.actor_id,
            self.actor_name,
            self.client_addr,
            self.user_agent,
            self.action,
            self.target_type,
            self.target_id,
            self.outcome,
            self.details,
        ]);
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(form.to_string().as_bytes());
        hex::encode(h.finalize())
    }

    /// The WorkOS-style object of `GET /audit_logs` and `scimgate audit export`.
    pub fn wire(&self) -> WireRecord<'_> {
        WireRecord {
            object: "audit_log_entry",
            id: &self.id,
            sequence: self.seq,
            occurred_at: clock::to_workos(self.at),
            actor: WireActor {
                kind: &self.actor_kind,
                id: self.actor_id.as_deref(),
                name: self.actor_name.as_deref(),
                client_address: self.client_addr.as_deref(),
                user_agent: self.user_agent.as_deref(),
            },
            action: &self.action,
            target: WireTarget {
                kind: self.target_type.as_deref(),
                id: self.target_id.as_deref(),
            },
            outcome: &self.outcome,
            details: serde_json::from_str(&self.details).unwrap_or(serde_json::Value::Null),
            prev_hash: &self.prev_hash,
            hash: &self.hash,
        }
    }

    /// [`Record::wire`] as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.wire()).unwrap_or(serde_json::Value::Null)
    }
}

/// A record on the wire (`GET /audit_logs`, NDJSON export), in this field order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WireRecord<'a> {
    pub object: &'static str,
    pub id: &'a str,
    pub sequence: i64,
    pub occurred_at: String,
    pub actor: WireActor<'a>,
    pub action: &'a str,
    pub target: WireTarget<'a>,
    pub outcome: &'a str,
    pub details: serde_json::Value,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WireActor<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub client_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WireTarget<'a> {
    #[serde(rename = "type")]
    pub kind: Option<&'a str>,
    pub id: Option<&'a str>,
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every link holds. `anchor`: the `prev_hash` of the first record checked
    /// ([`GENESIS`] unless retention removed older records).
    Intact { records: u64, anchor: String },
    /// The first broken link: the record at `seq` (its hash does not match its
    /// contents, or its `prev_hash` is not the hash of the record before it, or a
    /// sequence number is missing).
    Broken { seq: i64, reason: String },
}

/// Verify a chain, fed in `seq` order, in batches (`Verifier::feed`), so a long log
/// is checked without holding it in memory.
#[derive(Debug, Default)]
pub struct Verifier {
    last: Option<(i64, String)>,
    anchor: Option<String>,
    records: u64,
    broken: Option<(i64, String)>,
}

impl Verifier {
    pub fn new() -> Verifier {
        Verifier::default()
    }

    /// Check the next records; once a link is broken, the rest is ignored.
    pub fn feed<'a>(&mut self, records: impl IntoIterator<Item = &'a Record>) {
        for r in records {
            if self.broken.is_some() {
                return;
            }
            self.records += 1;
            match &self.last {
                None => self.anchor = Some(r.prev_hash.clone()),
                Some((seq, hash)) => {
                    if r.seq != seq + 1 {
                        self.broken = Some((
                            r.seq,
                            format!("record {} follows record {seq}: records are missing", r.seq),
                        ));
                        return;
                    }
                    if &r.prev_hash != hash {
                        self.broken = Some((
                            r.seq,
                            format!(
                                "its prev_hash is not the hash of record {seq} (changed or removed)"
                            ),
                        ));
                        return;
                    }
                }
            }
            if r.compute_hash() != r.hash {
                self.broken = Some((r.seq, "its contents do not match its hash".to_string()));
                return;
            }
            self.last = Some((r.seq, r.hash.clone()));
        }
    }

    /// A verifier of a chain that continues from `anchor` (the `seq` and hash of the
    /// last record removed by retention), or from [`GENESIS`] before record 1: a first
    /// record that does not follow it is a broken link (records removed from the head
    /// by anything but retention).
    pub fn from_anchor(anchor: Option<(i64, String)>) -> Verifier {
        let (seq, hash) = anchor.unwrap_or((0, GENESIS.to_string()));
        Verifier {
            last: Some((seq, hash.clone())),
            anchor: Some(hash),
            records: 0,
            broken: None,
        }
    }

    /// The seq after which the next batch starts.
    pub fn last_seq(&self) -> i64 {
        self.last.as_ref().map(|(s, _)| *s).unwrap_or(0)
    }

    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    pub fn verdict(self) -> Verdict {
        match self.broken {
            Some((seq, reason)) => Verdict::Broken { seq, reason },
            None => Verdict::Intact {
                records: self.records,
                anchor: self.anchor.unwrap_or_else(|| GENESIS.to_string()),
            },
        }
    }
}

/// Verify records given in `seq` order.
pub fn verify(records: &[Record]) -> Verdict {
    let mut v = Verifier::new();
    v.feed(records);
    v.verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<Record> {
        let actor = Actor::new(ActorKind::ApiKey, Some("key_1".into()))
            .from_request(Some("203.0.113.9".into()), Some("curl/8"));
        let mut out: Vec<Record> = Vec::new();
        for i in 0..n {
            let e = Entry::new(&actor, "directory.created", Outcome::Success)
                .target("directory", format!("directory_{i}"))
                .details(serde_json::json!({"name": format!("d{i}")}));
            let prev = out.last().map(|r| (r.seq, r.hash.as_str()));
            out.push(Record::next(prev, &e, format!("audit_{i}"), clock::now()));
        }
        out
    }

    #[test]
    fn an_untouched_chain_verifies_from_genesis() {
        let c = chain(5);
        assert_eq!(c[0].prev_hash, GENESIS);
        assert_eq!(c[4].seq, 5);
        assert_eq!(
            verify(&c),
            Verdict::Intact {
                records: 5,
                anchor: GENESIS.into()
            }
        );
    }

    #[test]
    fn a_changed_field_breaks_its_own_link() {
        for field in 0..4 {
            let mut c = chain(5);
            match field {
                0 => c[2].outcome = "denied".into(),
                1 => c[2].client_addr = Some("198.51.100.1".into()),
                2 => c[2].details = "{}".into(),
                _ => c[2].at += chrono::Duration::microseconds(1),
            }
            assert!(
                matches!(verify(&c), Verdict::Broken { seq: 3, .. }),
                "field {field}"
            );
        }
    }

    #[test]
    fn a_rehashed_change_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].action = "directory.deleted".into();
        c[2].hash = c[2].compute_hash();
        assert!(matches!(verify(&c), Verdict::Broken { seq: 4, .. }));
    }

    #[test]
    fn a_removed_record_is_reported() {
        let mut c = chain(5);
        c.remove(2);
        match verify(&c) {
            Verdict::Broken { seq, reason } => {
                assert_eq!(seq, 4);
                assert!(reason.contains("missing"), "{reason}");
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn a_pruned_head_anchors_the_chain() {
        let c = chain(5);
        let anchor = c[1].hash.clone();
        assert_eq!(verify(&c[2..]), Verdict::Intact { records: 3, anchor });
    }

    #[test]
    fn a_chain_must_follow_its_anchor() {
        let c = chain(5);
        let mut v = Verifier::from_anchor(None);
        v.feed(&c);
        assert!(matches!(v.verdict(), Verdict::Intact { records: 5, .. }));
        // the head removed without retention's anchor
        let mut v = Verifier::from_anchor(None);
        v.feed(&c[2..]);
        assert!(matches!(v.verdict(), Verdict::Broken { seq: 3, .. }));
        // retention's anchor
        let mut v = Verifier::from_anchor(Some((2, c[1].hash.clone())));
        v.feed(&c[2..]);
        assert_eq!(
            v.verdict(),
            Verdict::Intact {
                records: 3,
                anchor: c[1].hash.clone()
            }
        );
        let mut v = Verifier::from_anchor(Some((2, GENESIS.to_string())));
        v.feed(&c[2..]);
        assert!(matches!(v.verdict(), Verdict::Broken { seq: 3, .. }));
    }

    #[test]
    fn the_user_agent_is_cut() {
        let a = Actor::new(ActorKind::Admin, None).from_request(None, Some(&"x".repeat(1000)));
        assert_eq!(a.user_agent.map(|u| u.len()), Some(256));
    }
}
