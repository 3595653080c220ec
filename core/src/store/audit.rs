//! The audit log (`audit_log`, `audit_anchor`; see `crate::audit` for the chain).
//!
//! Records are appended one at a time, each after the one it names as previous: on
//! PostgreSQL under a transaction-scoped advisory lock of its own, on SQLite under the
//! one writer (the caller holds `Db::write_guard`). Retention deletes the oldest records
//! and keeps the last deleted record's `seq` and hash in `audit_anchor`, so the chain
//! still starts from a known hash and the next record continues it even when every
//! record was deleted.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dynsql::{Bind, Sql};
use super::paging::{self, Keyset};
use super::schema::{audit_anchor, audit_log};
use super::AnyConn;
use crate::audit::{Entry, Record};
use crate::error::CoreResult;

/// The key of the advisory lock that serializes appends on PostgreSQL (no directory
/// lock can take it: those are `hashtextextended` of a directory id, which this is not
/// the hash of in any plausible world; and it is only ever taken after them).
const AUDIT_LOCK: i64 = 0x5C16_A7D1_0000_0001;

/// The last record of the chain (or the anchor left by retention): `(seq, hash)`.
pub fn head(c: &mut AnyConn) -> CoreResult<Option<(i64, String)>> {
    let last = audit_log::table
        .order(audit_log::seq.desc())
        .select((audit_log::seq, audit_log::hash))
        .first::<(i64, String)>(c)
        .optional()?;
    if last.is_some() {
        return Ok(last);
    }
    anchor(c)
}

/// The anchor left by retention: the `seq` and hash of the last deleted record.
pub fn anchor(c: &mut AnyConn) -> CoreResult<Option<(i64, String)>> {
    Ok(audit_anchor::table
        .filter(audit_anchor::id.eq(1))
        .select((audit_anchor::seq, audit_anchor::hash))
        .first::<(i64, String)>(c)
        .optional()?)
}

fn lock(c: &mut AnyConn) -> CoreResult<()> {
    db_run!(c,
        pg(p) => {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({AUDIT_LOCK})")).execute(p)?;
        },
        sqlite(_) => {},
    );
    Ok(())
}

/// Append `entry` after the head of the chain. Call inside a transaction (on SQLite
/// holding the writer lock). Its id and time are taken under the lock, so that ids and
/// times follow the chain's order (on one clock).
pub fn append(c: &mut AnyConn, entry: &Entry) -> CoreResult<Record> {
    lock(c)?;
    let prev = head(c)?;
    let r = Record::next(
        prev.as_ref().map(|(s, h)| (*s, h.as_str())),
        entry,
        crate::ids::new_id(crate::audit::ID_PREFIX),
        crate::clock::now(),
    );
    diesel::insert_into(audit_log::table)
        .values(&r)
        .execute(c)?;
    Ok(r)
}

/// What `GET /audit_logs` selects.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// An actor's id, or an actor kind (`cli`, `system`, …).
    pub actor: Option<String>,
    pub action: Option<String>,
    /// A target's id.
    pub target: Option<String>,
    /// `at >= since`.
    pub since: Option<NaiveDateTime>,
    /// `at < until`.
    pub until: Option<NaiveDateTime>,
}

const COLUMNS: &str = "r.seq, r.id, r.at, r.actor_kind, r.actor_id, r.actor_name, \
    r.client_addr, r.user_agent, r.action, r.target_type, r.target_id, r.outcome, \
    r.details, r.prev_hash, r.hash";

/// A keyset page of records matching `f`, in the keyset's order of ids.
pub fn page(c: &mut AnyConn, f: &AuditFilter, k: &Keyset) -> CoreResult<Vec<Record>> {
    let mut q = Sql::raw(format!("SELECT {COLUMNS} FROM audit_log r WHERE 1 = 1"));
    if let Some(a) = &f.actor {
        q.push(" AND (r.actor_id = ")
            .text(a.clone())
            .push(" OR r.actor_kind = ")
            .text(a.clone())
            .push(")");
    }
    if let Some(a) = &f.action {
        q.push(" AND r.action = ").text(a.clone());
    }
    if let Some(t) = &f.target {
        q.push(" AND r.target_id = ").text(t.clone());
    }
    if let Some(t) = f.since {
        q.push(" AND r.at >= ").bind(Bind::Timestamp(t));
    }
    if let Some(t) = f.until {
        q.push(" AND r.at < ").bind(Bind::Timestamp(t));
    }
    Ok(paging::keyset_query(q, k).load(c)?)
}

/// Up to `limit` records after `seq`, in `seq` order (export, verification).
pub fn after_seq(c: &mut AnyConn, seq: i64, limit: i64) -> CoreResult<Vec<Record>> {
    Ok(audit_log::table
        .filter(audit_log::seq.gt(seq))
        .order(audit_log::seq.asc())
        .limit(limit)
        .select(Record::as_select())
        .load(c)?)
}

/// Delete the records older than `cutoff`, keeping the last deleted one's `seq` and
/// hash as the anchor. Call inside a transaction (on SQLite holding the writer lock).
/// Returns how many were deleted.
pub fn prune_before(c: &mut AnyConn, cutoff: NaiveDateTime) -> CoreResult<usize> {
    lock(c)?;
    // the newest record to delete (should it be the head, the anchor is what the next
    // append continues from)
    let last = audit_log::table
        .filter(audit_log::at.lt(cutoff))
        .order(audit_log::seq.desc())
        .select((audit_log::seq, audit_log::hash))
        .first::<(i64, String)>(c)
        .optional()?;
    let Some((seq, hash)) = last else {
        return Ok(0);
    };
    let n = diesel::delete(audit_log::table.filter(audit_log::seq.le(seq))).execute(c)?;
    diesel::delete(audit_anchor::table).execute(c)?;
    diesel::insert_into(audit_anchor::table)
        .values((
            audit_anchor::id.eq(1),
            audit_anchor::seq.eq(seq),
            audit_anchor::hash.eq(hash),
        ))
        .execute(c)?;
    Ok(n)
}
