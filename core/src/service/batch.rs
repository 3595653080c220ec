//! Read-ahead and write-behind for a batch of user writes (PostgreSQL).
//!
//! A write batch (`Core::commit_batch`) made only of writes to users — what an IdP's
//! bulk deactivation or full sync sends, many at once — reads the users it targets in
//! one query before its jobs run, and writes the users it created, the rows it updated
//! and the users it deleted in one statement each after, instead of a read and a write
//! per job: a batch of 16 PATCHes costs 6 round trips instead of 36, a batch of 16
//! creates 5 instead of 20, a batch of 16 DELETEs of users in no group 5 instead of 84.
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

use super::users::{self, NewUser, WithGroups};
use crate::error::CoreResult;
use crate::model::UserRow;
use crate::store::dynsql::Sql;
use crate::store::AnyConn;

#[derive(Default)]
struct Ctx {
    ahead: HashMap<String, WithGroups>,
    /// Users created, to insert.
    created: Vec<NewUser>,
    /// Updated user rows, to write back.
    behind: Vec<UserRow>,
    /// Deleted users, to delete with their index rows and memberships.
    deleted: Vec<String>,
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
pub(crate) fn start(ahead: HashMap<String, WithGroups>) -> Active {
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
pub(crate) fn forget(id: &str) {
    CTX.with(|c| {
        if let Some(ctx) = c.borrow_mut().as_mut() {
            ctx.ahead.remove(id);
        }
    })
}

/// The read-ahead copy of a user, once.
pub(crate) fn take_ahead(id: &str) -> Option<WithGroups> {
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
pub(crate) fn defer_delete(id: String) -> Option<String> {
    defer_into(id, |ctx| &mut ctx.deleted)
}

/// The created users deferred so far, taken out of the context (for a batch of creates
/// that writes them in its own statement, `Core::commit_creates`).
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
    users::delete_rows(c, &deleted)?;
    users::insert_users(c, &created)?;
    if !rows.is_empty() {
        update_rows(rows)?.execute(c)?;
    }
    Ok(())
}

/// `UPDATE … FROM unnest(…)` of whole user rows, by id: one statement text for any
/// number of rows (PostgreSQL; batches exist on PostgreSQL only).
fn update_rows(rows: Vec<UserRow>) -> diesel::QueryResult<Sql> {
    let mut q = Sql::raw(
        "UPDATE directory_users AS u SET user_name = v.user_name, user_name_ci = v.user_name_ci, \
         external_id = v.external_id, active = v.active, email_ci = v.email_ci, state = v.state, \
         version = v.version, scim = v.scim, normalized = v.normalized, updated_at = v.updated_at \
         FROM ",
    );
    q.unnest(users::user_columns(rows.iter())?).push(format!(
        " AS v({}) WHERE u.id = v.id",
        users::USER_INSERT_COLUMNS
    ));
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Dialect;

    fn row(id: &str, ext: Option<&str>) -> UserRow {
        let t = chrono::NaiveDateTime::default();
        UserRow {
            id: id.into(),
            directory_id: "d".into(),
            user_name: "U".into(),
            user_name_ci: "u".into(),
            external_id: ext.map(str::to_string),
            active: false,
            email_ci: None,
            state: "inactive".into(),
            version: 2,
            scim: "{}".into(),
            normalized: "{}".into(),
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn update_rows_has_one_statement_text_for_any_number_of_rows() {
        let one = update_rows(vec![row("a", Some("x"))]).unwrap_or_default();
        let two = update_rows(vec![row("a", Some("x")), row("b", None)]).unwrap_or_default();
        let sql = two.render(Dialect::Pg);
        assert_eq!(one.render(Dialect::Pg), sql, "prepared once");
        assert_eq!(two.bind_count(), 13, "one array per column");
        assert!(
            sql.contains("FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[]"),
            "{sql}"
        );
        assert!(sql.ends_with("WHERE u.id = v.id"), "{sql}");
    }

    #[test]
    fn without_context_nothing_is_deferred_or_read_ahead() {
        assert!(defer(row("a", None)).is_some());
        assert!(take_ahead("a").is_none());
        let active = start(HashMap::new());
        assert!(defer(row("a", None)).is_none());
        drop(active);
        assert!(
            defer(row("a", None)).is_some(),
            "the context ends with its guard"
        );
    }
}
