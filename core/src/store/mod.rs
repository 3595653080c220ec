//! Persistence: one diesel code base over SQLite (bundled, the embedded default) and
//! PostgreSQL, chosen at run time by the URL scheme (CRATE-NOTES.md §a).

pub mod dynsql;
pub mod schema;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{CoreError, CoreResult};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum AnyConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which SQL dialect a connection speaks; used where the text of a query differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Pg,
    Sqlite,
}

impl AnyConn {
    pub fn dialect(&self) -> Dialect {
        match self {
            AnyConn::Pg(_) => Dialect::Pg,
            AnyConn::Sqlite(_) => Dialect::Sqlite,
        }
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

/// How long a SQLite statement waits for a lock held by another connection.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

/// How long the checkpoint waits for readers before it gives up until the next one
/// (it holds the writers meanwhile, see [`Db::checkpoint`]).
pub const CHECKPOINT_WAIT_MS: u32 = 20;

/// A WAL this large is checkpointed without waiting for the next second. At 4,000
/// creates/s SQLite writes ~190 MB of WAL per second (~12 pages per create). Each
/// checkpoint copies every page written since the last one, once: the rarer they
/// are, the less they copy (a checkpoint at every 4 MB, about every 100 ms at that
/// rate, cost ~13 % of create throughput).
pub const CHECKPOINT_WAL_BYTES: u64 = 128 << 20;

/// SQLite's own checkpoint, run inside a commit, only if the WAL outgrows what the
/// background checkpoint keeps it to (pages: 256 MB at 4 KB). At the default 8192
/// pages it ran every ~170 ms at 4,000 creates/s and held the writers ~30 ms.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 65_536;

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// r2d2 manager that dispatches on the URL scheme instead of the derive's
/// try-each-backend `establish` (which hides the real error).
#[derive(Debug, Clone)]
pub struct AnyManager {
    url: String,
    dialect: Dialect,
}

impl ManageConnection for AnyManager {
    type Connection = AnyConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConn, r2d2::Error> {
        match self.dialect {
            Dialect::Pg => {
                let mut c = diesel::PgConnection::establish(&self.url)
                    .map_err(r2d2::Error::ConnectionError)?;
                // Statements stay prepared and PostgreSQL may keep one generic plan per
                // statement, made from the statistics of the moment: those of a table
                // that was empty seconds ago, during a directory's first sync. So that
                // such a plan cannot go wrong as the table grows, every hot statement
                // names a key that exactly one index serves (see the `users_username_dir`
                // migration and `find_many`), and sequential scans are ruled out: every
                // statement of scimgate is served by an index, and a sequential scan
                // chosen over a few rows would read the whole table per request once
                // it holds thousands. (Planning every statement for its parameters,
                // `plan_cache_mode = force_custom_plan`, did the same at 15-40 % of
                // the throughput of the lookup, create and membership workloads.)
                c.batch_execute("SET TIME ZONE 'UTC'; SET enable_seqscan = off")
                    .map_err(r2d2::Error::QueryError)?;
                Ok(AnyConn::Pg(c))
            }
            Dialect::Sqlite => {
                let mut c = diesel::SqliteConnection::establish(sqlite_path(&self.url))
                    .map_err(r2d2::Error::ConnectionError)?;
                // synchronous=FULL: in WAL mode the WAL is synced at each commit, so an
                // acknowledged write survives a power loss or an OS crash too; NORMAL
                // keeps it across a crash of the process only ("may roll back following
                // a power loss or system crash", https://www.sqlite.org/pragma.html#pragma_synchronous).
                // A write batch (`Core::commit_batch`) is one commit, so one sync serves
                // every write of the batch.
                c.batch_execute(&format!(
                    "PRAGMA journal_mode=WAL; PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}; \
                     PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-4000; \
                     PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES};",
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(AnyConn::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// Called when a connection goes back to the pool: a connection left inside a
    /// transaction is dropped, and while connections are suspect (see [`note_error`])
    /// so is one that no longer answers.
    fn has_broken(&self, conn: &mut AnyConn) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken() || (suspect() && conn.batch_execute("SELECT 1").is_err())
    }
}

/// Connection validation. Testing every connection on checkout (r2d2's default) costs a
/// round trip per request; instead, as HikariCP does, a connection is tested on checkout
/// only when the pool has been idle for a while (a database restarted while nobody was
/// looking) or while connections are suspect, that is, for `SUSPECT_FOR` after any
/// query failed because its connection was lost. Under load a restart then costs the
/// requests that were in flight, and the pool heals without further failures.
const IDLE_BEFORE_VALIDATION: Duration = Duration::from_secs(1);
const SUSPECT_FOR: Duration = Duration::from_secs(10);

fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}

/// Until when (ms since `epoch`) connections are suspect; 0 = never.
static SUSPECT_UNTIL_MS: AtomicU64 = AtomicU64::new(0);

fn suspect() -> bool {
    let until = SUSPECT_UNTIL_MS.load(Ordering::Relaxed);
    until != 0 && now_ms() < until
}

fn mark_suspect() {
    SUSPECT_UNTIL_MS.store(now_ms() + SUSPECT_FOR.as_millis() as u64, Ordering::Relaxed);
}

/// Record a query error: one that means the connection is gone makes every pool
/// validate its connections for a while.
pub fn note_error(e: &diesel::result::Error) {
    use diesel::result::{DatabaseErrorKind, Error};
    if matches!(
        e,
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        ) | Error::BrokenTransactionManager
    ) {
        mark_suspect();
    }
}

pub type PooledConn = r2d2::PooledConnection<AnyManager>;

/// The database: a connection pool plus, for SQLite, the process-wide writer lock
/// (SQLite has one writer; taking the lock in process avoids SQLITE_BUSY upgrades).
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<AnyManager>,
    dialect: Dialect,
    sqlite_writer: Arc<Mutex<()>>,
    /// SQLite: the WAL file.
    wal_path: Option<Arc<str>>,
    /// When a connection was last checked out (ms since `epoch`).
    last_checkout_ms: Arc<AtomicU64>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("dialect", &self.dialect)
            .finish()
    }
}

/// Held for the duration of a write transaction on SQLite; a no-op on PostgreSQL.
pub struct WriteGuard<'a>(#[allow(dead_code)] Option<MutexGuard<'a, ()>>);

impl Db {
    /// Open a pool for `url` (`sqlite://path` or `postgres://…`). For SQLite the parent
    /// directory of the file is created.
    pub fn connect(url: &str, max_size: u32) -> CoreResult<Db> {
        Self::connect_with(url, max_size, 1)
    }

    /// A pool that keeps no idle connection in reserve: for one-shot commands, so no
    /// background thread is still opening a connection when the process exits (libpq
    /// and OpenSSL tear down at exit; a connect racing with that can crash).
    pub fn connect_oneshot(url: &str) -> CoreResult<Db> {
        Self::connect_with(url, 2, 0)
    }

    pub fn connect_with(url: &str, max_size: u32, min_idle: u32) -> CoreResult<Db> {
        let dialect = dialect_of_url(url)?;
        if dialect == Dialect::Sqlite {
            let path = std::path::Path::new(sqlite_path(url));
            if let Some(parent) = path.parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        CoreError::internal(format!(
                            "cannot create data directory {}: {e}",
                            parent.display()
                        ))
                    })?;
                }
            }
        }
        let manager = AnyManager {
            url: url.to_string(),
            dialect,
        };
        let pool = r2d2::Pool::builder()
            .max_size(max_size.max(1))
            .min_idle(Some(min_idle.min(max_size.max(1))))
            .connection_timeout(Duration::from_secs(10))
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| CoreError::Pool(format!("cannot connect to {}: {e}", redact_url(url))))?;
        Ok(Db {
            pool,
            dialect,
            sqlite_writer: Arc::new(Mutex::new(())),
            wal_path: (dialect == Dialect::Sqlite)
                .then(|| Arc::from(format!("{}-wal", sqlite_path(url)))),
            last_checkout_ms: Arc::new(AtomicU64::new(0)),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A connection from the pool, tested first when the pool was idle or connections
    /// are suspect (see [`IDLE_BEFORE_VALIDATION`]); a dead one is dropped and the next
    /// one tried.
    pub fn conn(&self) -> CoreResult<PooledConn> {
        let now = now_ms();
        let last = self.last_checkout_ms.swap(now, Ordering::Relaxed);
        let mut validate =
            now.saturating_sub(last) >= IDLE_BEFORE_VALIDATION.as_millis() as u64 || suspect();
        // every pooled connection may be dead (a restarted database): try each once,
        // then one freshly opened
        for _ in 0..=self.pool.max_size() {
            let mut c = self.get()?;
            if !validate {
                return Ok(c);
            }
            match c.batch_execute("SELECT 1") {
                Ok(()) => return Ok(c),
                Err(e) => {
                    tracing::warn!(error = %e, "dropping a pooled database connection that no longer answers");
                    mark_suspect();
                    validate = true;
                    drop(c); // has_broken sees the failed test and closes it
                }
            }
        }
        self.get()
    }

    /// A pooled connection: waiting for one to be free, or, in [`without_waiting`],
    /// only one free right now.
    fn get(&self) -> CoreResult<PooledConn> {
        if NO_WAIT.get() {
            return match self.pool.try_get() {
                Some(c) => Ok(c),
                None => Err(refuse_waiting("no pooled connection is free")
                    .unwrap_or_else(|| CoreError::internal("no pooled connection"))),
            };
        }
        Ok(self.pool.get()?)
    }

    /// Serialize writers on SQLite (in process). PostgreSQL serializes per directory
    /// with advisory locks inside the transaction instead.
    pub fn write_guard(&self) -> WriteGuard<'_> {
        match self.dialect {
            Dialect::Sqlite => WriteGuard(Some(
                self.sqlite_writer
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            )),
            Dialect::Pg => WriteGuard(None),
        }
    }

    /// Apply pending migrations. On PostgreSQL an advisory lock keeps concurrent
    /// instances from migrating at the same time.
    pub fn migrate(&self) -> CoreResult<Vec<String>> {
        let mut conn = self.conn()?;
        run_migrations(&mut conn)
    }

    /// SQLite: copy the WAL back into the database file; `serve` calls it every
    /// second, or sooner once the WAL holds [`CHECKPOINT_WAL_BYTES`]. First PASSIVE,
    /// beside the writers; then TRUNCATE holding the writer lock, which copies only
    /// the frames written meanwhile and starts the WAL over. Under a steady stream of
    /// writes and reads, PASSIVE alone never let the WAL start over: it grew to the
    /// automatic checkpoint, which then ran inside a commit and held every writer
    /// for ~30 ms (see [`WAL_AUTOCHECKPOINT_PAGES`]). TRUNCATE waits for readers
    /// still reading frames of the WAL, at most [`CHECKPOINT_WAIT_MS`]: a long read
    /// makes it give up until the next time rather than hold the writers. A no-op on
    /// PostgreSQL.
    pub fn checkpoint(&self) -> CoreResult<()> {
        if self.dialect == Dialect::Sqlite {
            self.conn()?
                .batch_execute("PRAGMA wal_checkpoint(PASSIVE)")?;
            // the writer lock first, then a connection: the order of every writer
            let _writers = self.write_guard();
            let mut c = self.conn()?;
            c.batch_execute(&format!("PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}"))?;
            let done = c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)");
            c.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))?;
            done?;
        }
        Ok(())
    }

    /// SQLite: whether the WAL file is larger than `bytes` (false on PostgreSQL, or
    /// when it cannot be read).
    pub fn wal_larger_than(&self, bytes: u64) -> bool {
        self.wal_path
            .as_deref()
            .and_then(|p| std::fs::metadata(p).ok())
            .is_some_and(|m| m.len() > bytes)
    }

    /// Returns true when the database answers.
    pub fn ping(&self) -> bool {
        match self.pool.get() {
            Ok(mut c) => c.batch_execute("SELECT 1").is_ok(),
            Err(_) => false,
        }
    }
}

const MIGRATION_LOCK_KEY: i64 = 0x5C1_6A7E;

pub fn run_migrations(conn: &mut AnyConn) -> CoreResult<Vec<String>> {
    let map = |e: Box<dyn std::error::Error + Send + Sync>| {
        CoreError::internal(format!("migration failed: {e}"))
    };
    match conn {
        AnyConn::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let res = c
                .run_pending_migrations(PG_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            res.map_err(map)
        }
        AnyConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect())
            .map_err(map),
    }
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
pub fn lock_directory(conn: &mut AnyConn, directory_id: &str) -> CoreResult<()> {
    if conn.dialect() == Dialect::Pg {
        // through dynsql so that the statement stays prepared
        let mut q = dynsql::Sql::raw("SELECT pg_advisory_xact_lock(hashtextextended(");
        q.text(directory_id.to_string()).push(", 0))");
        q.execute(conn)?;
    }
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
    directory_id: &str,
    f: impl FnOnce(&mut AnyConn) -> CoreResult<T>,
) -> CoreResult<T> {
    let literal_ok = !directory_id.is_empty()
        && directory_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if conn.dialect() != Dialect::Pg || !literal_ok {
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
    if let AnyConn::Pg(pg) = conn {
        if let Err(e) = AnsiTransactionManager::begin_transaction_sql(pg, pg_begin) {
            // BEGIN may have run without the rest: leave no transaction open
            let _ = pg.batch_execute("ROLLBACK");
            return Err(e.into());
        }
    } else {
        <AnyConn as Connection>::TransactionManager::begin_transaction(conn)?;
    }
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

/// Run the reads of one list page (`totalResults` and the rows).
///
/// `in_id_order`: the page is a directory's rows in id order, which its
/// `(directory_id, id)` index yields without sorting. The reads then run in one
/// read-only snapshot (a REPEATABLE READ transaction on PostgreSQL, a read transaction
/// on SQLite), so that the count agrees with the page, and PostgreSQL is told not to
/// sort (`SET LOCAL enable_sort = off`) so that it reads the index in order whatever
/// its statistics say. Otherwise an estimate made before the table was analyzed, or
/// one of a prepared statement's generic plan (the average directory's share of the
/// table), under-counts a large directory: PostgreSQL then fetches every row of the
/// directory through another index and sorts them, wide documents included. At 50,000
/// users that was 141 ms per page of 100, with a 36 MB sort spilled to disk, against
/// 18 ms in index order (docs/BENCHMARKS.md, "Eighth session").
///
/// Other pages (a filter, a `sortBy`) keep the planner's choice and run as they are:
/// a filtered list is also how IdPs look a resource up (`externalId eq …`,
/// `displayName eq …`), and a transaction would cost those two more round trips.
pub fn list_reads<T>(
    conn: &mut AnyConn,
    in_id_order: bool,
    f: impl FnOnce(&mut AnyConn) -> CoreResult<T>,
) -> CoreResult<T> {
    if !in_id_order {
        return f(conn);
    }
    transaction_opened_by(
        conn,
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL enable_sort = off",
        f,
    )
}
