//! The audit log as the rest of scimgate uses it: [`record`] an action (who, from
//! where, what, on what, with what outcome), list records for `GET /audit_logs`,
//! export them as NDJSON, verify the chain, and prune past retention
//! (`SCIMGATE_AUDIT_RETENTION_DAYS`). The chain itself is `crate::audit`'s; its SQL is
//! `store::audit`'s.
//!
//! A record is appended in a transaction of its own, under the audit lock (PostgreSQL)
//! or the one writer (SQLite), after the action it records: the actions audited are
//! rare operator actions, never SCIM writes, so no SCIM write pays for it.

use diesel::Connection;

use super::list_paging::{Page, Paged};
use super::Core;
use crate::audit::{Entry, Outcome, Record, Verdict, Verifier};
use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::store;
pub use crate::store::audit::AuditFilter;

/// Records read per batch by [`export`] and [`verify`].
const BATCH: i64 = 1000;

/// Append `entry` to the audit log.
pub fn record(core: &Core, entry: Entry) -> CoreResult<Record> {
    let _g = core.db.write_guard(); // SQLite: the one writer
    let mut conn = core.db.conn()?;
    conn.transaction(|c| store::audit::append(c, &entry))
}

/// [`record`], an error logged rather than returned: for an action that already took
/// effect, whose caller must learn that it did.
pub fn note(core: &Core, entry: Entry) {
    let action = entry.action.clone();
    if let Err(e) = record(core, entry) {
        tracing::error!(error = %e, action = %action, "cannot write the audit record");
    }
}

/// [`note`] on the blocking pool of the current tokio runtime (from async code: a
/// lock-out decided on an HTTP worker), else right here.
pub fn note_in_background(core: &Core, entry: Entry) {
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            let core = core.clone();
            rt.spawn_blocking(move || note(&core, entry));
        }
        Err(_) => note(core, entry),
    }
}

/// Record the outcome of an action that returned `res`: success, or failure with the
/// error's message (a refused credential: denied). The entry's target is kept.
pub fn note_result<T>(core: &Core, entry: Entry, res: &CoreResult<T>) {
    let entry = match res {
        Ok(_) => entry,
        Err(e) => {
            let mut entry = entry;
            entry.outcome = match e {
                CoreError::Unauthorized(_) => Outcome::Denied,
                _ => Outcome::Failure,
            };
            let mut details = match entry.details {
                serde_json::Value::Object(m) => m,
                _ => serde_json::Map::new(),
            };
            details.insert("error".into(), serde_json::Value::String(e.to_string()));
            entry.details = serde_json::Value::Object(details);
            entry
        }
    };
    note(core, entry);
}

/// Run the action `f` and record its outcome: on success the target's id is
/// `target_of` its result when the entry did not name one yet.
pub fn audited<T>(
    core: &Core,
    entry: Entry,
    f: impl FnOnce() -> CoreResult<T>,
    target_of: impl FnOnce(&T) -> Option<String>,
) -> CoreResult<T> {
    let res = f();
    let mut entry = entry;
    if let (Ok(v), None) = (&res, &entry.target_id) {
        entry.target_id = target_of(v);
    }
    note_result(core, entry, &res);
    res
}

/// A page of records for `GET /audit_logs` (WorkOS cursors over record ids).
pub fn list(core: &Core, f: &AuditFilter, page: &Page) -> CoreResult<Paged<Record>> {
    if let (Some(a), Some(b)) = (f.since, f.until) {
        if a >= b {
            return Err(CoreError::invalid_value(
                "the time range is empty: `range_start` must be before `range_end`",
            ));
        }
    }
    let mut conn = core.db.conn()?;
    let travel = page.travel();
    let rows = store::audit::page(&mut conn, f, &travel.keyset(page))?;
    Ok(travel.page(rows, page, |r| r.id.clone()))
}

/// Write every record as NDJSON (the objects of `GET /audit_logs`, in chain order);
/// returns how many.
pub fn export(core: &Core, out: &mut dyn std::io::Write) -> CoreResult<u64> {
    let mut conn = core.db.conn()?;
    let (mut after, mut n) = (0, 0u64);
    loop {
        let rows = store::audit::after_seq(&mut conn, after, BATCH)?;
        let Some(last) = rows.last() else {
            return Ok(n);
        };
        after = last.seq;
        for r in &rows {
            let line = crate::json::text(&r.wire());
            writeln!(out, "{line}").map_err(|e| CoreError::internal(format!("writing: {e}")))?;
            n += 1;
        }
    }
}

/// Check every link of the chain, from retention's anchor (or the genesis hash).
pub fn verify(core: &Core) -> CoreResult<Verdict> {
    let mut conn = core.db.conn()?;
    let anchor = store::audit::anchor(&mut conn)?;
    let mut v = Verifier::from_anchor(anchor);
    loop {
        let rows = store::audit::after_seq(&mut conn, v.last_seq(), BATCH)?;
        if rows.is_empty() {
            break;
        }
        v.feed(&rows);
        if v.is_broken() {
            break;
        }
    }
    Ok(v.verdict())
}

/// Delete the records older than `days` (0 keeps them forever), keeping the anchor.
pub fn prune(core: &Core, days: u32) -> CoreResult<usize> {
    if days == 0 {
        return Ok(0);
    }
    let cutoff = clock::now() - chrono::Duration::days(i64::from(days));
    let _g = core.db.write_guard(); // SQLite: the one writer
    let mut conn = core.db.conn()?;
    conn.transaction(|c| store::audit::prune_before(c, cutoff))
}
