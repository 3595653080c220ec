//! Test support shared by the workspace's test suites: a fresh database per test.
//!
//! Without configuration a test gets a new SQLite file in a temporary directory. With
//! `SCIMGATE_TEST_DATABASE_URL=postgres://…` it gets a new PostgreSQL database (created
//! on that server, dropped afterwards); an unreachable server fails the test loudly
//! rather than silently falling back to SQLite.

use diesel::connection::SimpleConnection;
use diesel::Connection;
use tempfile::TempDir;

use crate::store::Db;

pub const TEST_DATABASE_URL: &str = "SCIMGATE_TEST_DATABASE_URL";
pub const TEST_REDIS_URL: &str = "SCIMGATE_TEST_REDIS_URL";

/// A database for one test; dropped (PostgreSQL) or deleted (SQLite) with the value.
pub struct TestDatabase {
    pub url: String,
    admin_url: Option<String>,
    name: Option<String>,
    _dir: Option<TempDir>,
}

/// The configured PostgreSQL server for tests, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL)
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// The configured Redis for tests, if any.
pub fn redis_url() -> Option<String> {
    std::env::var(TEST_REDIS_URL)
        .ok()
        .filter(|s| !s.trim().is_empty())
}

fn with_database(url: &str, db: &str) -> String {
    // replace the path component (database name), keep the query
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestDatabase {
    /// A fresh database on the configured backend.
    ///
    /// # Panics
    /// When `SCIMGATE_TEST_DATABASE_URL` is set but its server cannot be reached.
    #[allow(clippy::expect_used, clippy::panic)]
    pub fn new() -> TestDatabase {
        match postgres_url() {
            Some(admin) => Self::postgres(&admin),
            None => Self::sqlite(),
        }
    }

    /// A fresh SQLite database regardless of configuration.
    #[allow(clippy::expect_used)]
    pub fn sqlite() -> TestDatabase {
        let dir = TempDir::with_prefix("scimgate-test-").expect("temp dir");
        let url = format!("sqlite://{}/test.db", dir.path().display());
        TestDatabase {
            url,
            admin_url: None,
            name: None,
            _dir: Some(dir),
        }
    }

    #[allow(clippy::panic)]
    pub fn postgres(admin: &str) -> TestDatabase {
        let name = format!("scimgate_t_{}", crate::ids::new_id("db").to_lowercase());
        let mut conn = diesel::PgConnection::establish(admin).unwrap_or_else(|e| {
            panic!("{TEST_DATABASE_URL} is set but PostgreSQL is unreachable ({e}); unset it to test on SQLite only")
        });
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        TestDatabase {
            url: with_database(admin, &name),
            admin_url: Some(admin.to_string()),
            name: Some(name),
            _dir: None,
        }
    }

    /// The database URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn is_postgres(&self) -> bool {
        self.admin_url.is_some()
    }

    /// A migrated pool on this database.
    #[allow(clippy::expect_used)]
    pub fn db(&self) -> Db {
        // no idle reserve: nothing may still be connecting when the test process exits
        let db = Db::connect_with(&self.url, 8, 0).expect("connect test database");
        db.migrate().expect("migrate test database");
        db
    }
}

/// Change the action of audit record `seq` behind the chain's back (tamper-evidence
/// tests of the command line, which has no SQL of its own).
pub fn tamper_audit_record(db: &Db, seq: i64, action: &str) -> crate::CoreResult<()> {
    use crate::store::schema::audit_log;
    use diesel::prelude::*;
    let mut conn = db.conn()?;
    diesel::update(audit_log::table.filter(audit_log::seq.eq(seq)))
        .set(audit_log::action.eq(action))
        .execute(&mut conn)?;
    Ok(())
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let (Some(admin), Some(name)) = (&self.admin_url, &self.name) {
            if let Ok(mut c) = diesel::PgConnection::establish(admin) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
