//! The connection pool: connections opened per backend with their session settings,
//! tested only when the pool idled or lost one, the SQLite writer lock and WAL
//! checkpoints, and the embedded migrations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::{dialect_of_url, redact_url, refuse_waiting, AnyConn, Dialect, NO_WAIT};
use crate::error::{CoreError, CoreResult};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// How long a SQLite statement waits for a lock held by another connection.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

/// How long the checkpoint waits for readers before it gives up until the next one
/// (it holds the writers meanwhile, see [`Db::checkpoint`]).
pub const CHECKPOINT_WAIT_MS: u32 = 20;

/// A WAL this large is checkpointed without waiting for the next second. A create
/// writes about a dozen pages of WAL. Each checkpoint copies every page written since
/// the last one, once: the rarer they are, the less they copy (checkpoints at every
/// 4 MB cost a noticeable share of create throughput; docs/BENCHMARKS.md).
pub const CHECKPOINT_WAL_BYTES: u64 = 128 << 20;

/// SQLite's own checkpoint, run inside a commit, only if the WAL outgrows what the
/// background checkpoint keeps it to (pages: 256 MB at 4 KB). At the default 8192
/// pages it ran several times a second under a stream of creates, each time holding
/// every writer.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 65_536;

/// The WAL file is kept at its size when a checkpoint starts it over (see
/// [`Db::checkpoint`]), and cut down to this only when an unusual burst (a long read
/// that held checkpoints back) grew it beyond: twice what a checkpoint lets it reach.
const WAL_SIZE_LIMIT_BYTES: u64 = 2 * CHECKPOINT_WAL_BYTES;

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
        db_run!(self.dialect,
            pg => {
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
                // `plan_cache_mode = force_custom_plan`, did the same at a fraction of
                // the throughput of the lookup, create and membership workloads.)
                c.batch_execute("SET TIME ZONE 'UTC'; SET enable_seqscan = off")
                    .map_err(r2d2::Error::QueryError)?;
                Ok(AnyConn::Pg(c))
            },
            sqlite => {
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
                     PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}; \
                     PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES};",
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(AnyConn::Sqlite(c))
            },
        )
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
    /// Time to check out a connection (`telemetry::POOL_WAIT`).
    pool_wait: metrics::Histogram,
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
        if db_run!(dialect, pg => false, sqlite => true) {
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
        // one connection first: an unreachable or refusing database is one clear error
        // now, not the pool's retries for its whole connection timeout
        let probe = manager
            .connect()
            .map_err(|e| CoreError::Pool(format!("cannot connect to {}: {e}", redact_url(url))))?;
        drop(probe);
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
            wal_path: db_run!(dialect,
                pg => None,
                sqlite => Some(Arc::from(format!("{}-wal", sqlite_path(url)))),
            ),
            last_checkout_ms: Arc::new(AtomicU64::new(0)),
            pool_wait: crate::telemetry::pool_wait(),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Whether a batch of user writes can read its users ahead and write them back
    /// in one statement each, and a batch of creates be one statement of its own
    /// (`service::group_commit`): statements that bind whole columns as arrays and
    /// chain writes in data-modifying CTEs, which PostgreSQL has; SQLite writes row by
    /// row.
    pub fn writes_batches_in_bulk(&self) -> bool {
        db_run!(self.dialect, pg => true, sqlite => false)
    }

    /// Whether the process checkpoints the database's WAL ([`Db::checkpoint`]):
    /// SQLite.
    pub fn needs_checkpoints(&self) -> bool {
        self.wal_path.is_some()
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
    /// Each checkout's time is recorded (a refusal to wait is not a checkout).
    fn get(&self) -> CoreResult<PooledConn> {
        let started = Instant::now();
        if NO_WAIT.get() {
            return match self.pool.try_get() {
                Some(c) => {
                    self.pool_wait.record(started.elapsed());
                    Ok(c)
                }
                None => Err(refuse_waiting("no pooled connection is free")
                    .unwrap_or_else(|| CoreError::internal("no pooled connection"))),
            };
        }
        let c = self.pool.get();
        self.pool_wait.record(started.elapsed());
        Ok(c?)
    }

    /// Serialize writers on SQLite (in process). PostgreSQL serializes per directory
    /// with advisory locks inside the transaction instead.
    pub fn write_guard(&self) -> WriteGuard<'_> {
        db_run!(self.dialect,
            pg => WriteGuard(None),
            sqlite => WriteGuard(Some(
                self.sqlite_writer
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            )),
        )
    }

    /// Apply pending migrations. On PostgreSQL an advisory lock keeps concurrent
    /// instances from migrating at the same time.
    pub fn migrate(&self) -> CoreResult<Vec<String>> {
        let mut conn = self.conn()?;
        run_migrations(&mut conn)
    }

    /// The migrations this build holds that the database has not applied yet
    /// (`scimgate check`); nothing is applied.
    pub fn pending_migrations(&self) -> CoreResult<Vec<String>> {
        let mut conn = self.conn()?;
        let map = |e: Box<dyn std::error::Error + Send + Sync>| {
            CoreError::internal(format!("cannot read the applied migrations: {e}"))
        };
        db_run!(&mut *conn,
            pg(c) => c
                .pending_migrations(PG_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.name().to_string()).collect())
                .map_err(map),
            sqlite(c) => c
                .pending_migrations(SQLITE_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.name().to_string()).collect())
                .map_err(map),
        )
    }

    /// SQLite: copy the WAL back into the database file; `serve` calls it every
    /// second, or sooner once the WAL holds [`CHECKPOINT_WAL_BYTES`]. First PASSIVE,
    /// beside the writers; then RESTART holding the writer lock, which copies only
    /// the frames written meanwhile and starts the WAL over. Under a steady stream of
    /// writes and reads, PASSIVE alone never let the WAL start over: it grew to the
    /// automatic checkpoint, which then ran inside a commit and held every writer
    /// (see [`WAL_AUTOCHECKPOINT_PAGES`]). RESTART waits for readers still reading
    /// frames of the WAL, at most [`CHECKPOINT_WAIT_MS`]: a long read makes it give
    /// up until the next time rather than hold the writers. A no-op on PostgreSQL.
    ///
    /// RESTART, not TRUNCATE: both sync the database file and start the WAL over, so
    /// what an acknowledged commit wrote is as durable either way (every commit still
    /// syncs the WAL, `synchronous=FULL`). TRUNCATE also cut the WAL file to zero
    /// bytes and synced that, under the writer lock, and the writes that followed
    /// grew the file again, so each of their syncs had the file's size to record as
    /// well: that held every writer at each checkpoint and was the long tail of
    /// SQLite's write latency. RESTART overwrites the file from its start instead
    /// (docs/BENCHMARKS.md, "SQLite checkpoints").
    pub fn checkpoint(&self) -> CoreResult<()> {
        if db_run!(self.dialect, pg => false, sqlite => true) {
            self.conn()?
                .batch_execute("PRAGMA wal_checkpoint(PASSIVE)")?;
            // the writer lock first, then a connection: the order of every writer
            let _writers = self.write_guard();
            let mut c = self.conn()?;
            c.batch_execute(&format!("PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}"))?;
            let done = c.batch_execute("PRAGMA wal_checkpoint(RESTART)");
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
    db_run!(conn,
        pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let res = c
                .run_pending_migrations(PG_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            res.map_err(map)
        },
        sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect())
            .map_err(map),
    )
}
