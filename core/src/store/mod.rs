//! Persistence: one diesel code base over SQLite (bundled, the embedded default) and
//! PostgreSQL, chosen at run time by the URL scheme (CRATE-NOTES.md §a).
//!
//! Every SQL text of scimgate lives here, one module per aggregate, each a set of
//! named functions over an [`AnyConn`]; what differs between the backends is written
//! with [`db_run!`] inside this module only. The services above call these functions
//! and never see a dialect.

/// Backend differences, written one way throughout `store` (after vaultwarden's
/// `db_run!`; in scope in every module of `store`, declared after it, and nowhere
/// else):
/// - `db_run!(x, pg => a, sqlite => b)` evaluates `a` on PostgreSQL and `b` on SQLite,
///   `x` being anything with a `dialect()` (an [`AnyConn`], a [`Db`], a [`Dialect`]);
/// - `db_run!(conn, pg(c) => a, sqlite(c) => b)` matches an [`AnyConn`], `c` bound to
///   the backend's own diesel connection;
/// - `db_run!(conn, |c| body)` runs the same `body` on either backend's connection.
macro_rules! db_run {
    ($on:expr, pg => $pg:expr, sqlite => $sqlite:expr $(,)?) => {
        match $on.dialect() {
            $crate::store::Dialect::Pg => $pg,
            $crate::store::Dialect::Sqlite => $sqlite,
        }
    };
    ($conn:expr, pg($p:pat) => $pg:expr, sqlite($s:pat) => $sqlite:expr $(,)?) => {
        match $conn {
            $crate::store::AnyConn::Pg($p) => $pg,
            $crate::store::AnyConn::Sqlite($s) => $sqlite,
        }
    };
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::AnyConn::Pg($c) => $body,
            $crate::store::AnyConn::Sqlite($c) => $body,
        }
    };
}

pub mod admin_ui;
pub mod audit;
pub mod credentials;
mod db;
pub mod directories;
pub mod dynsql;
pub mod events;
pub(crate) mod filter_sql;
pub mod groups;
#[cfg(test)]
mod list_page_plans;
pub mod memberships;
pub mod organizations;
pub mod paging;
pub mod role_mappings;
pub mod schema;
pub mod sync_health;
pub mod user_attrs;
pub mod users;
pub mod webhooks;

pub use db::{
    note_error, run_migrations, AnyManager, Db, PooledConn, WriteGuard, CHECKPOINT_WAIT_MS,
    CHECKPOINT_WAL_BYTES, PG_MIGRATIONS, SQLITE_MIGRATIONS,
};

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::error::{CoreError, CoreResult};
use crate::ids::DirectoryId;

#[derive(diesel::MultiConnection)]
pub enum AnyConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which SQL dialect a connection speaks (see [`db_run!`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Pg,
    Sqlite,
}

impl Dialect {
    /// Itself (so that [`db_run!`] takes a dialect as it takes a connection).
    pub fn dialect(self) -> Dialect {
        self
    }
}

impl AnyConn {
    pub fn dialect(&self) -> Dialect {
        db_run!(self, pg(_) => Dialect::Pg, sqlite(_) => Dialect::Sqlite)
    }
}

/// The backend named by a database URL.
pub fn dialect_of_url(url: &str) -> CoreResult<Dialect> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Dialect::Pg)
    } else if url.starts_with("sqlite://") || url.starts_with("sqlite:") {
        Ok(Dialect::Sqlite)
    } else {
        Err(CoreError::internal(format!(
            "unsupported database URL scheme (expected sqlite:// or postgres://): {}",
            redact_url(url)
        )))
    }
}

/// A URL with any password replaced, safe to log.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((creds, host)) = rest.split_once('@') {
            let user = creds.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}:***@{host}");
        }
    }
    url.to_string()
}

/// Whether an error is a unique constraint refusing a write (a taken name).
pub fn is_unique_violation(e: &CoreError) -> bool {
    matches!(
        e,
        CoreError::Db(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))
    )
}

thread_local! {
    static NO_WAIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static REFUSED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` on this thread without ever waiting: for reads run on an HTTP worker
/// thread, which must not block. Inside, `Db::conn` answers [`CoreError::WouldWait`]
/// when no pooled connection is free right now, and so does anything else that would
/// wait (a write, a token not in the cache); `None` then, whatever `f` made of that
/// error, and the caller runs the work again where it may wait.
pub fn without_waiting<T>(f: impl FnOnce() -> T) -> Option<T> {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            NO_WAIT.set(self.0);
        }
    }
    let _reset = Reset(NO_WAIT.replace(true));
    REFUSED.set(false);
    let out = f();
    (!REFUSED.replace(false)).then_some(out)
}

/// In [`without_waiting`]: refuse what would wait (the caller returns the error).
pub(crate) fn refuse_waiting(what: &'static str) -> Option<CoreError> {
    if NO_WAIT.get() {
        REFUSED.set(true);
        Some(CoreError::WouldWait(what))
    } else {
        None
    }
}

/// Take the per-directory write lock inside the current transaction (PostgreSQL).
/// An advisory lock assigns no transaction id, so a writer that waits here gets its
/// xid only after the previous writer of the directory committed: per-directory
/// apply order, seq order and txid order coincide (see events.rs).
pub fn lock_directory(conn: &mut AnyConn, directory_id: &DirectoryId) -> CoreResult<()> {
    db_run!(conn,
        pg => {
            // through dynsql so that the statement stays prepared
            let mut q = dynsql::Sql::raw("SELECT pg_advisory_xact_lock(hashtextextended(");
            q.text(directory_id).push(", 0))");
            q.execute(conn)?;
        },
        sqlite => {},
    );
    Ok(())
}

/// Run `f` in a transaction that holds the directory's write lock ([`lock_directory`]),
/// committing on `Ok` and rolling back on `Err`, like diesel's `transaction`. On
/// PostgreSQL `BEGIN` and the lock travel in one round trip: the directory id, one of
/// ours (`directory_` and base32), is written into the statement as a literal, which
/// is checked to hold nothing but ASCII letters, digits and `_` (else the lock is a
/// statement of its own, with the id bound).
pub fn directory_transaction<T>(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    f: impl FnOnce(&mut AnyConn) -> CoreResult<T>,
) -> CoreResult<T> {
    // (a `DirectoryId` read from the database is taken as stored: checked all the same)
    let literal_ok = !directory_id.as_str().is_empty()
        && directory_id
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let one_trip = db_run!(conn, pg => literal_ok, sqlite => false);
    if !one_trip {
        return conn.transaction(|c| {
            lock_directory(c, directory_id)?;
            f(c)
        });
    }
    let begin =
        format!("BEGIN; SELECT pg_advisory_xact_lock(hashtextextended('{directory_id}', 0))");
    transaction_opened_by(conn, &begin, f)
}

/// Run `f` in a transaction: on PostgreSQL one opened by `pg_begin` (`BEGIN` and what
/// goes with it, in one round trip), on SQLite a deferred one; committing on `Ok` and
/// rolling back on `Err`, like diesel's `transaction`.
fn transaction_opened_by<T>(
    conn: &mut AnyConn,
    pg_begin: &str,
    f: impl FnOnce(&mut AnyConn) -> CoreResult<T>,
) -> CoreResult<T> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    db_run!(conn,
        pg(pg) => {
            if let Err(e) = AnsiTransactionManager::begin_transaction_sql(pg, pg_begin) {
                // BEGIN may have run without the rest: leave no transaction open
                let _ = pg.batch_execute("ROLLBACK");
                return Err(e.into());
            }
        },
        sqlite(_) => {
            <AnyConn as Connection>::TransactionManager::begin_transaction(conn)?;
        },
    );
    match f(conn) {
        Ok(v) => {
            <AnyConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(v)
        }
        Err(e) => match <AnyConn as Connection>::TransactionManager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Run `f` in a savepoint of the current transaction (diesel's nested `transaction`):
/// released on `Ok`, rolled back to on `Err`, so a failing part changes nothing.
pub fn savepoint<T>(
    conn: &mut AnyConn,
    f: impl FnOnce(&mut AnyConn) -> CoreResult<T>,
) -> CoreResult<T> {
    conn.transaction(f)
}

/// Run `f` in one read-only snapshot: a REPEATABLE READ transaction on PostgreSQL, a
/// (WAL read) transaction on SQLite, so that every read of `f` sees the same state.
pub fn read_snapshot<T>(
    conn: &mut AnyConn,
    f: impl FnOnce(&mut AnyConn) -> CoreResult<T>,
) -> CoreResult<T> {
    use diesel::RunQueryDsl;
    db_run!(conn,
        pg => conn.transaction(|c| {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(c)?;
            f(c)
        }),
        sqlite => conn.transaction(f),
    )
}
