//! `scimgate check`: the configuration validated and every dependency reached —
//! the database, its migrations, Redis, the key that seals secrets, the listen
//! address — one line per check (`ok` or `FAIL` and the reason), exit status 1 when
//! anything failed. Migrations are only counted, not applied; like `serve`, it creates
//! the embedded database's directory and the data directory's key file if missing.

use std::net::ToSocketAddrs;

use crate::config::Config;
use scimgate_core::ratelimit::Limiter;
use scimgate_core::secrets;
use scimgate_core::store::{redact_url, Db};

/// One line of the report.
struct Report {
    failed: bool,
}

impl Report {
    fn line(&mut self, ok: bool, what: &str, detail: impl std::fmt::Display) {
        self.failed |= !ok;
        println!("{} {what}: {detail}", if ok { "ok  " } else { "FAIL" });
    }
}

/// Run every check; `Ok(false)` when one failed.
pub fn run(cfg: anyhow::Result<Config>) -> bool {
    let mut r = Report { failed: false };
    let cfg = match cfg {
        Ok(c) => {
            r.line(true, "configuration", "every SCIMGATE_* variable is valid");
            c
        }
        Err(e) => {
            r.line(false, "configuration", format!("{e:#}"));
            return false;
        }
    };
    match cfg.listen.to_socket_addrs() {
        Ok(_) => r.line(true, "listen address", &cfg.listen),
        Err(e) => r.line(
            false,
            "listen address",
            format!("SCIMGATE_LISTEN={}: {e}", cfg.listen),
        ),
    }
    if let Some(key) = &cfg.bootstrap_api_key {
        match secrets::guessable(key, secrets::API_KEY_PREFIX) {
            _ if !key.starts_with(secrets::API_KEY_PREFIX) => r.line(
                false,
                "bootstrap API key",
                format!(
                    "SCIMGATE_BOOTSTRAP_API_KEY must start with {}",
                    secrets::API_KEY_PREFIX
                ),
            ),
            Some(why) => r.line(false, "bootstrap API key", format!("guessable: {why}")),
            None => r.line(true, "bootstrap API key", "not guessable"),
        }
    }
    match cfg.sealer() {
        Ok(s) => r.line(true, "secret key", format!("{:?}", s.source())),
        Err(e) => r.line(false, "secret key", format!("{e:#}")),
    }
    let db_name = redact_url(&cfg.database_url);
    match Db::connect_oneshot(&cfg.database_url) {
        Ok(db) => {
            r.line(true, "database", format!("{db_name} reachable"));
            match db.pending_migrations() {
                Ok(p) if p.is_empty() => r.line(true, "migrations", "up to date"),
                Ok(p) => r.line(
                    true,
                    "migrations",
                    format!(
                        "{} pending (the last: {}): serve or migrate applies them",
                        p.len(),
                        p.last().map_or("", String::as_str)
                    ),
                ),
                Err(e) => r.line(false, "migrations", e),
            }
        }
        Err(e) => r.line(false, "database", e),
    }
    match &cfg.redis_url {
        None => r.line(
            true,
            "redis",
            "not configured: notifications and limits stay in this process",
        ),
        Some(url) => {
            let reached = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| rt.block_on(Limiter::with_redis(url)).map(|_| ()));
            match reached {
                Ok(()) => r.line(true, "redis", format!("{} reachable", redact_url(url))),
                Err(e) => r.line(false, "redis", format!("{}: {e}", redact_url(url))),
            }
        }
    }
    !r.failed
}
