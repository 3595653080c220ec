//! Read-ahead and write-behind for a batch of user writes (PostgreSQL).
//!
//! A write batch (`Core::commit_batch`) made only of writes to users — what an IdP's
//! bulk deactivation or full sync sends, many at once — reads the users it targets in
//! one query before its jobs run, and writes the users it created, the rows it updated
//! and the users it deleted in one statement each after, instead of a read and a write
//! per job: a batch of 16 PATCHes costs 6 round trips instead of 36, a batch of 16
//! creates 5 instead of 20, a batch of 16 DELETEs of users in no group 5 instead of 84.
//! (A batch made only of creates takes one round trip: `group_commit::commit_creates`.)
//!
//! The context lives in a thread local of the thread that commits the batch, set for
//! the duration of the optimistic attempt only. Its rules keep every job's view exact:
//! - a read-ahead user is handed out once ([`take_ahead`]), and only to the first job
//!   of that user ([`forget`]); a later job of the same user reads the database;
//! - every read of users goes through [`settle`] first, which writes back the deferred
//!   rows, so no job ever sees a row older than the batch's own changes;
//! - a deferred row that would break a constraint (two renames to one `userName`, a
//!   create of a name a deferred rename still holds) fails the optimistic attempt,
//!   and the batch is re-run job by job without this context (see `commit_batch`),
//!   where each write meets the constraint alone.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::error::CoreResult;
use crate::ids::DirectoryUserId;
use crate::model::UserRow;
use crate::store::users::{self as stored, NewUser, WithGroups};
use crate::store::AnyConn;

#[derive(Default)]
struct Ctx {
    ahead: HashMap<DirectoryUserId, WithGroups>,
    /// Users created, to insert.
    created: Vec<NewUser>,
    /// Updated user rows, to write back.
    behind: Vec<UserRow>,
    /// Deleted users, to delete with their index rows and memberships.
    deleted: Vec<DirectoryUserId>,
}

thread_local! {
    static CTX: RefCell<Option<Ctx>> = const { RefCell::new(None) };
}

/// The context of one batch attempt; dropping it ends the context.
pub(crate) struct Active(());

impl Drop for Active {
    fn drop(&mut self) {
        CTX.with(|c| *c.borrow_mut() = None);
    }
}

/// Start a batch context with the users read ahead.
pub(crate) fn start(ahead: HashMap<DirectoryUserId, WithGroups>) -> Active {
    CTX.with(|c| {
        *c.borrow_mut() = Some(Ctx {
            ahead,
            created: Vec::new(),
            behind: Vec::new(),
            deleted: Vec::new(),
        })
    });
    Active(())
}

/// Forget the read-ahead copy of a user: called after each job of the user, which may
/// have changed or deleted it by paths that do not take the copy.
pub(crate) fn forget(id: &DirectoryUserId) {
    CTX.with(|c| {
        if let Some(ctx) = c.borrow_mut().as_mut() {
            ctx.ahead.remove(id);
        }
    })
}

/// The read-ahead copy of a user, once.
pub(crate) fn take_ahead(id: &DirectoryUserId) -> Option<WithGroups> {
    CTX.with(|c| c.borrow_mut().as_mut().and_then(|ctx| ctx.ahead.remove(id)))
}

/// Defer `v` into one of the context's lists: `None` when deferred, `v` back when
/// there is no batch context (the caller writes it now).
fn defer_into<T>(v: T, list: impl FnOnce(&mut Ctx) -> &mut Vec<T>) -> Option<T> {
    CTX.with(|c| match c.borrow_mut().as_mut() {
        Some(ctx) => {
            list(ctx).push(v);
            None
        }
        None => Some(v),
    })
}

/// Defer the update of a user row to the end of the batch (see [`defer_into`]).
pub(crate) fn defer(row: UserRow) -> Option<UserRow> {
    defer_into(row, |ctx| &mut ctx.behind)
}

/// Defer the insert of a created user to the end of the batch (see [`defer_into`]).
pub(crate) fn defer_insert(user: NewUser) -> Option<NewUser> {
    defer_into(user, |ctx| &mut ctx.created)
}

/// Defer the deletion of a user (its row, index rows and memberships) to the end of
/// the batch (see [`defer_into`]).
pub(crate) fn defer_delete(id: DirectoryUserId) -> Option<DirectoryUserId> {
    defer_into(id, |ctx| &mut ctx.deleted)
}

/// The created users deferred so far, taken out of the context (for a batch of creates
/// that writes them in its own statement, `group_commit::commit_creates`).
pub(crate) fn take_created() -> Vec<NewUser> {
    CTX.with(|c| {
        c.borrow_mut()
            .as_mut()
            .map(|ctx| std::mem::take(&mut ctx.created))
            .unwrap_or_default()
    })
}

/// Write the deferred users: the deleted ones deleted, the created ones inserted, the
/// updated rows written back (a statement each, in that order: a userName a deleted
/// user held is free for a create or a rename of the same batch); a no-op without any.
/// Called before any read of users inside a batch, and at the end of the batch.
pub(crate) fn settle(c: &mut AnyConn) -> CoreResult<()> {
    let (deleted, created, rows) = CTX.with(|cx| {
        cx.borrow_mut()
            .as_mut()
            .map(|ctx| {
                (
                    std::mem::take(&mut ctx.deleted),
                    std::mem::take(&mut ctx.created),
                    std::mem::take(&mut ctx.behind),
                )
            })
            .unwrap_or_default()
    });
    stored::delete_users(c, &deleted)?;
    stored::insert_users(c, &created)?;
    stored::update_users(c, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> UserRow {
        UserRow::fixture("{}", "{}", 2)
    }

    #[test]
    fn without_context_nothing_is_deferred_or_read_ahead() {
        assert!(defer(row()).is_some());
        assert!(take_ahead(&DirectoryUserId::new()).is_none());
        let active = start(HashMap::new());
        assert!(defer(row()).is_none());
        drop(active);
        assert!(defer(row()).is_some(), "the context ends with its guard");
    }
}
