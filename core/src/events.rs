//! The event log: every SCIM write records its normalized events in the same
//! transaction as the change.
//!
//! Order and completeness. Writes to one directory are serialized (an advisory lock on
//! PostgreSQL, the in-process writer lock on SQLite) and each event gets the next
//! per-directory `seq` under that lock, so `seq` is the apply order and a visible seq
//! implies every lower seq of that directory is committed.
//!
//! Across directories a plain auto-increment id is not enough: ids are taken before
//! commit, so a reader could pass a lower id that commits later. On PostgreSQL every
//! event row records its writing transaction id (`txid`, `pg_current_xact_id()`), and
//! the global order is `(txid, gid)`. A reader only returns rows with
//! `txid < xmin(current snapshot)`: every transaction below the snapshot's xmin has
//! finished, and any transaction that commits later has a larger txid, so the set
//! of returned rows below the cursor can never grow. Because a writer takes the
//! directory's advisory lock before its first write (and an advisory lock assigns no
//! txid), a directory's later writer always has a larger txid than its earlier ones:
//! the global order respects every directory's `seq`. On SQLite (one writer at a
//! time) `txid` is 0 and `gid` is already the commit order.

use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::ids::{DirectoryId, EventId, OrganizationId};
use crate::model::EventRow;
use crate::store::events::{self as rows, At, NewRow};
use crate::store::users::NewUser;
use crate::store::{self, AnyConn};

pub use crate::store::events::{EventQuery, Order, COMPACT_MAX};

pub const USER_CREATED: &str = "dsync.user.created";
pub const USER_UPDATED: &str = "dsync.user.updated";
pub const USER_DELETED: &str = "dsync.user.deleted";
pub const GROUP_CREATED: &str = "dsync.group.created";
pub const GROUP_UPDATED: &str = "dsync.group.updated";
pub const GROUP_DELETED: &str = "dsync.group.deleted";
pub const GROUP_USER_ADDED: &str = "dsync.group.user_added";
pub const GROUP_USER_REMOVED: &str = "dsync.group.user_removed";
pub const DIRECTORY_ACTIVATED: &str = "dsync.activated";
pub const DIRECTORY_DELETED: &str = "dsync.deleted";
pub const TOKEN_CREATED: &str = "dsync.token.created";
pub const TOKEN_REVOKED: &str = "dsync.token.revoked";

pub const ALL_EVENTS: &[&str] = &[
    DIRECTORY_ACTIVATED,
    DIRECTORY_DELETED,
    USER_CREATED,
    USER_UPDATED,
    USER_DELETED,
    GROUP_CREATED,
    GROUP_UPDATED,
    GROUP_DELETED,
    GROUP_USER_ADDED,
    GROUP_USER_REMOVED,
    TOKEN_CREATED,
    TOKEN_REVOKED,
];

/// Events collected during one write transaction, appended at its end.
#[derive(Debug, Default)]
pub struct EventSink {
    /// Each event's name and serialized `data`.
    pending: Vec<(&'static str, String)>,
}

impl EventSink {
    pub fn new() -> Self {
        Self::default()
    }
    /// Emit an event whose `data` is a JSON object (a `wire` struct or a value).
    pub fn emit(&mut self, event: &'static str, data: impl serde::Serialize) {
        self.pending.push((event, crate::json::text(&data)));
    }
    /// Emit an event whose `data` is already serialized (a JSON object).
    pub fn emit_json(&mut self, event: &'static str, data: String) {
        self.pending.push((event, data));
    }
    pub fn extend(&mut self, other: EventSink) {
        self.pending.extend(other.pending);
    }
    pub fn len(&self) -> usize {
        self.pending.len()
    }
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// What a committed write produced, for notifications.
#[derive(Debug, Clone)]
pub struct Appended {
    pub directory_id: DirectoryId,
    pub organization_id: OrganizationId,
    pub last_seq: i64,
    pub count: usize,
}

/// The sink's events as rows, in order: consecutive membership events of one kind
/// share a row (up to [`COMPACT_MAX`]); every other event has its own.
fn rows_of(pending: Vec<(&'static str, String)>) -> Vec<NewRow> {
    /// The run of `n` events ending before offset `end`, as one row.
    fn flush(out: &mut Vec<NewRow>, run: &mut Vec<String>, event: &'static str, end: usize) {
        let n = run.len();
        let data = match n {
            0 => return,
            1 => run.pop().unwrap_or_default(),
            _ => {
                let mut d =
                    String::with_capacity(run.iter().map(|x| x.len() + 1).sum::<usize>() + 1);
                d.push('[');
                for (i, x) in run.drain(..).enumerate() {
                    if i > 0 {
                        d.push(',');
                    }
                    d.push_str(&x);
                }
                d.push(']');
                d
            }
        };
        out.push(NewRow {
            id: EventId::new_run(n),
            event,
            data,
            off: end - n,
            n,
        });
    }
    let compactable = |e: &str| e == GROUP_USER_ADDED || e == GROUP_USER_REMOVED;
    let total = pending.len();
    let mut out: Vec<NewRow> = Vec::with_capacity(total);
    let mut run: Vec<String> = Vec::new();
    let mut run_event: &'static str = "";
    for (off, (event, data)) in pending.into_iter().enumerate() {
        if !(compactable(event) && event == run_event && run.len() < COMPACT_MAX) {
            flush(&mut out, &mut run, run_event, off);
        }
        if compactable(event) {
            run_event = event;
            run.push(data);
        } else {
            out.push(NewRow {
                id: EventId::new(),
                event,
                data,
                off,
                n: 1,
            });
        }
    }
    flush(&mut out, &mut run, run_event, total);
    out
}

/// Append the sink's events for a directory; must run inside the directory's write
/// transaction (after `store::lock_directory`).
pub fn append(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    organization_id: &OrganizationId,
    sink: EventSink,
) -> CoreResult<Appended> {
    let n = sink.pending.len();
    if n == 0 {
        return Ok(Appended {
            directory_id: directory_id.clone(),
            organization_id: organization_id.clone(),
            last_seq: 0,
            count: 0,
        });
    }
    let now = clock::now();
    let last = rows::append(
        conn,
        directory_id,
        organization_id,
        n,
        rows_of(sink.pending),
        now,
    )?;
    Ok(Appended {
        directory_id: directory_id.clone(),
        organization_id: organization_id.clone(),
        last_seq: last,
        count: n,
    })
}

/// Append a batch's events together with the users it created, in one statement run
/// on its own that takes the directory's lock itself (`store::events::append_with_users`).
/// PostgreSQL only; at least one event.
pub(crate) fn append_with_users(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    organization_id: &OrganizationId,
    sink: EventSink,
    created: &[NewUser],
) -> CoreResult<Appended> {
    let count = sink.pending.len();
    let last = rows::append_with_users(
        conn,
        directory_id,
        organization_id,
        count,
        rows_of(sink.pending),
        clock::now(),
        created,
    )?;
    Ok(Appended {
        directory_id: directory_id.clone(),
        organization_id: organization_id.clone(),
        last_seq: last,
        count,
    })
}

/// The events a row holds, in order: itself when it holds one, else one per element
/// of its `data` array, with the ids and seqs that follow the row's.
pub fn expand(row: EventRow) -> CoreResult<Vec<EventRow>> {
    if row.n <= 1 {
        return Ok(vec![row]);
    }
    let bad = |what: &str| CoreError::internal(format!("event row {}: {what}", row.id));
    let items: Vec<&serde_json::value::RawValue> =
        serde_json::from_str(&row.data).map_err(|e| bad(&e.to_string()))?;
    if items.len() != row.n as usize {
        return Err(bad("its data does not hold n events"));
    }
    items
        .iter()
        .enumerate()
        .map(|(k, d)| {
            Ok(EventRow {
                gid: row.gid,
                id: row
                    .id
                    .offset(k as u64)
                    .ok_or_else(|| bad("its id is no ULID"))?,
                txid: row.txid,
                directory_id: row.directory_id.clone(),
                organization_id: row.organization_id.clone(),
                seq: row.seq + k as i64,
                event: row.event.clone(),
                data: d.get().to_string(),
                created_at: row.created_at,
                n: 1,
            })
        })
        .collect()
}

/// One page of events and the cursor to continue after (`list_metadata.after`).
pub fn list(conn: &mut AnyConn, q: &EventQuery) -> CoreResult<(Vec<EventRow>, Option<String>)> {
    let unknown = |after: &str| {
        CoreError::BadRequest {
        scim_type: None,
        detail: format!(
            "unknown cursor `after={after}`: no such event (it may be older than the retention period)"
        ),
    }
    };
    let cursor = match &q.after {
        None => None,
        Some(after) => {
            // a cursor that is no event id names no event
            let id = EventId::parse(after).map_err(|_| unknown(after))?;
            Some(rows::locate(conn, &id)?.ok_or_else(|| unknown(after))?)
        }
    };
    // A directory-scoped stream is ordered by seq, everything else by (txid, gid)
    // below the xmin horizon (see the module's documentation).
    let by_seq = q.by_seq();
    let asc = q.order == Order::Asc;
    // the cursor's event: its seq, and its row's place in the global order
    let at = cursor.as_ref().map(|(c, k)| At {
        seq: c.seq + k,
        txid: c.txid,
        gid: c.gid,
    });
    if let Some((c, _)) = &cursor {
        if by_seq && q.directory_id.as_ref().is_none_or(|d| c.directory_id != *d) {
            return Err(CoreError::BadRequest {
                scim_type: None,
                detail: "cursor `after` belongs to another directory".into(),
            });
        }
    }
    let limit = q.limit.clamp(1, 100) as usize;
    let found = rows::rows_after(conn, q, at, limit as i64 + 1)?;
    let mut out: Vec<EventRow> = Vec::with_capacity(limit);
    'rows: for row in found {
        let mut events = expand(row)?;
        if !asc {
            events.reverse();
        }
        for e in events {
            // within the cursor's row (or stream), only the events past it
            let past = match at {
                Some(At { seq, gid, .. }) if by_seq || e.gid == gid => {
                    if asc {
                        e.seq > seq
                    } else {
                        e.seq < seq
                    }
                }
                _ => true,
            };
            if past {
                out.push(e);
                if out.len() == limit {
                    break 'rows;
                }
            }
        }
    }
    // `after` always names the last returned event, so a consumer can resume even
    // at the head of the stream (WorkOS returns the last id as well).
    let after = out
        .last()
        .map(|r| String::from(&r.id))
        .or_else(|| q.after.clone());
    Ok((out, after))
}

/// Delete events older than `days` (retention); 0 keeps everything.
pub fn prune(conn: &mut AnyConn, days: u32) -> CoreResult<usize> {
    if days == 0 {
        return Ok(0);
    }
    let cutoff = clock::now() - chrono::Duration::days(i64::from(days));
    rows::delete_before(conn, cutoff)
}

/// The directory's current last sequence number.
pub fn last_seq(conn: &mut AnyConn, directory_id: &DirectoryId) -> CoreResult<Option<i64>> {
    store::directories::last_seq(conn, directory_id)
}

/// The id of the newest event of a directory (a cursor for `after=`), if any.
pub fn latest_event_id(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
) -> CoreResult<Option<EventId>> {
    let newest = rows::newest_row(conn, directory_id)?;
    Ok(newest.and_then(|(id, n)| id.offset(u64::try_from(n - 1).unwrap_or(0))))
}

/// The id of a directory's event of sequence number `seq`, if it is kept.
pub fn id_at_seq(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    seq: i64,
) -> CoreResult<Option<EventId>> {
    let row = rows::row_at_seq(conn, directory_id, seq)?;
    Ok(row.and_then(|(id, first, n)| {
        let k = seq - first;
        if k < i64::from(n) {
            id.offset(u64::try_from(k).ok()?)
        } else {
            None
        }
    }))
}

pub fn get(conn: &mut AnyConn, id: &EventId) -> CoreResult<Option<EventRow>> {
    let Some((c, k)) = rows::locate(conn, id)? else {
        return Ok(None);
    };
    match rows::find_row(conn, &c.id)? {
        Some(r) => Ok(expand(r)?.into_iter().nth(k as usize)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_membership_events_of_one_kind_share_a_row() {
        let d = |s: &str| format!("{{\"k\":\"{s}\"}}");
        let mut pending: Vec<(&'static str, String)> = vec![
            (USER_CREATED, d("c")),
            (GROUP_USER_ADDED, d("a1")),
            (GROUP_USER_ADDED, d("a2")),
            (GROUP_USER_REMOVED, d("r1")),
            (GROUP_USER_REMOVED, d("r2")),
            (GROUP_USER_ADDED, d("a3")),
            (USER_UPDATED, d("u")),
        ];
        pending.extend((0..COMPACT_MAX + 1).map(|i| (GROUP_USER_ADDED, d(&i.to_string()))));
        let rows = rows_of(pending);
        let shape: Vec<(&str, usize, usize)> = rows.iter().map(|r| (r.event, r.off, r.n)).collect();
        assert_eq!(
            shape,
            vec![
                (USER_CREATED, 0, 1),
                (GROUP_USER_ADDED, 1, 2),
                (GROUP_USER_REMOVED, 3, 2),
                (GROUP_USER_ADDED, 5, 1),
                (USER_UPDATED, 6, 1),
                (GROUP_USER_ADDED, 7, COMPACT_MAX),
                (GROUP_USER_ADDED, 7 + COMPACT_MAX, 1),
            ]
        );
        assert_eq!(rows[1].data, "[{\"k\":\"a1\"},{\"k\":\"a2\"}]");
        assert_eq!(rows[3].data, "{\"k\":\"a3\"}");
        // ids of a shared row are its first id's offsets, before the next row's id
        let last = rows[5].id.offset(COMPACT_MAX as u64 - 1);
        assert!(
            last.as_ref()
                .is_some_and(|l| &rows[5].id < l && l < &rows[6].id),
            "{last:?}"
        );
    }
}
