//! Configuration from `SCIMGATE_*` environment variables (../shared/docs/PRODUCT.md "Command line
//! and configuration"). Every setting is optional; with none set, scimgate runs embedded:
//! SQLite under `./data/`, in-process notifications, listening on 127.0.0.1:8080.

use std::env;

use anyhow::{bail, Context};
use scimgate_core::ratelimit::{Limits, Rule};
use scimgate_core::seal::Sealer;
use scimgate_core::{InactivePolicy, Settings};

use crate::client_addr::TrustedProxies;

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub listen: String,
    pub public_url: String,
    pub data_dir: String,
    pub bootstrap_api_key: Option<String>,
    pub log_json: bool,
    pub max_body_bytes: usize,
    pub max_page_size: i64,
    pub inactive_users: InactivePolicy,
    pub event_retention_days: u32,
    /// `SCIMGATE_AUDIT_RETENTION_DAYS`: audit records older than this are pruned (0: never).
    pub audit_retention_days: u32,
    /// Rate limits and lock-outs (`SCIMGATE_AUTH_FAILURES_PER_MINUTE`,
    /// `SCIMGATE_AUTH_LOCKOUT_SECONDS`, `SCIMGATE_SCIM_REQUESTS_PER_MINUTE`,
    /// `SCIMGATE_API_REQUESTS_PER_MINUTE`).
    pub limits: Limits,
    pub db_pool_size: u32,
    pub workers: usize,
    /// `SCIMGATE_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// `SCIMGATE_SECRET_KEY`: the keys that seal secrets at rest (`core::seal`).
    pub secret_key: Option<String>,
    /// `SCIMGATE_WEBHOOK_*`: delivery and target policy (`scimgate_webhooks`).
    pub webhooks: scimgate_webhooks::EngineConfig,
}

impl std::fmt::Debug for Config {
    // secrets and credentials never reach logs
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field(
                "database_url",
                &scimgate_core::store::redact_url(&self.database_url),
            )
            .field(
                "redis_url",
                &self
                    .redis_url
                    .as_deref()
                    .map(scimgate_core::store::redact_url),
            )
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field(
                "bootstrap_api_key",
                &self.bootstrap_api_key.as_ref().map(|_| "***"),
            )
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_page_size", &self.max_page_size)
            .field("inactive_users", &self.inactive_users)
            .field("event_retention_days", &self.event_retention_days)
            .field("audit_retention_days", &self.audit_retention_days)
            .field("limits", &self.limits)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .finish()
    }
}

fn var(name: &str) -> Option<String> {
    env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn parsed<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<T>()
            .map_err(|e| anyhow::anyhow!("{name}={v:?} is not valid: {e}")),
    }
}

/// The rate limits of the environment (defaults: `Limits::default`); a request limit
/// of 0 turns it off.
fn limits() -> anyhow::Result<Limits> {
    let d = Limits::default();
    let minute = std::time::Duration::from_secs(60);
    let per_minute = |name: &str, default: Option<Rule>| -> anyhow::Result<Option<Rule>> {
        let n: u32 = parsed(name, default.map_or(0, |r| r.limit))?;
        Ok((n > 0).then(|| Rule::new(n, minute)))
    };
    let failures: u32 = parsed("SCIMGATE_AUTH_FAILURES_PER_MINUTE", d.auth_failures.limit)?;
    if failures == 0 {
        bail!("SCIMGATE_AUTH_FAILURES_PER_MINUTE must be at least 1");
    }
    let lockout: u64 = parsed("SCIMGATE_AUTH_LOCKOUT_SECONDS", d.lockout.as_secs())?;
    if lockout == 0 {
        bail!("SCIMGATE_AUTH_LOCKOUT_SECONDS must be at least 1");
    }
    Ok(Limits {
        auth_failures: Rule::new(failures, minute),
        lockout: std::time::Duration::from_secs(lockout),
        scim_per_directory: per_minute("SCIMGATE_SCIM_REQUESTS_PER_MINUTE", d.scim_per_directory)?,
        api_per_key: per_minute("SCIMGATE_API_REQUESTS_PER_MINUTE", d.api_per_key)?,
    })
}

impl Config {
    pub fn from_env() -> anyhow::Result<Config> {
        let data_dir = var("SCIMGATE_DATA_DIR").unwrap_or_else(|| "./data".into());
        let database_url = var("SCIMGATE_DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/scimgate.db", data_dir.trim_end_matches('/')));
        scimgate_core::store::dialect_of_url(&database_url)
            .map_err(|e| anyhow::anyhow!("SCIMGATE_DATABASE_URL: {e}"))?;
        let listen = var("SCIMGATE_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".into());
        let public_url = var("SCIMGATE_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("SCIMGATE_PUBLIC_URL must start with http:// or https://");
        }
        let inactive_users = match var("SCIMGATE_INACTIVE_USERS").as_deref() {
            None | Some("keep") => InactivePolicy::Keep,
            Some("delete") => InactivePolicy::Delete,
            Some(other) => bail!("SCIMGATE_INACTIVE_USERS must be keep or delete, not {other:?}"),
        };
        let max_page_size: i64 = parsed("SCIMGATE_MAX_PAGE_SIZE", 1000)?;
        if !(1..=10_000).contains(&max_page_size) {
            bail!("SCIMGATE_MAX_PAGE_SIZE must be between 1 and 10000");
        }
        let max_body_bytes: usize = parsed("SCIMGATE_MAX_BODY_BYTES", 1024 * 1024)?;
        if max_body_bytes < 1024 {
            bail!("SCIMGATE_MAX_BODY_BYTES must be at least 1024");
        }
        let trusted_proxies =
            TrustedProxies::parse(&var("SCIMGATE_TRUSTED_PROXIES").unwrap_or_default())
                .map_err(|e| anyhow::anyhow!("SCIMGATE_TRUSTED_PROXIES: {e}"))?;
        let limits = limits()?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Ok::<Config, anyhow::Error>(Config {
            redis_url: var("SCIMGATE_REDIS_URL"),
            public_url,
            bootstrap_api_key: var("SCIMGATE_BOOTSTRAP_API_KEY"),
            log_json: var("SCIMGATE_LOG_FORMAT").is_some_and(|v| v.eq_ignore_ascii_case("json")),
            max_body_bytes,
            max_page_size,
            inactive_users,
            event_retention_days: parsed("SCIMGATE_EVENT_RETENTION_DAYS", 30)?,
            audit_retention_days: parsed("SCIMGATE_AUDIT_RETENTION_DAYS", 365)?,
            limits,
            db_pool_size: parsed(
                "SCIMGATE_DB_POOL_SIZE",
                if database_url.starts_with("sqlite") {
                    8
                } else {
                    16
                },
            )?,
            workers: parsed("SCIMGATE_WORKERS", cores.max(1))?,
            trusted_proxies,
            secret_key: var("SCIMGATE_SECRET_KEY"),
            webhooks: webhook_settings(parsed("SCIMGATE_EVENT_RETENTION_DAYS", 30)?)?,
            database_url,
            listen,
            data_dir,
        })
        .context("reading configuration")
    }

    /// The keys that seal secrets at rest: `SCIMGATE_SECRET_KEY`, or the data
    /// directory's key file (created on first use).
    pub fn sealer(&self) -> anyhow::Result<Sealer> {
        Sealer::configure(
            self.secret_key.as_deref(),
            std::path::Path::new(&self.data_dir),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Where webhooks may go (`SCIMGATE_WEBHOOK_ALLOW_HTTP`, `…_ALLOW_PRIVATE`).
    pub fn webhook_policy(&self) -> scimgate_webhooks::Policy {
        self.webhooks.policy
    }

    pub fn settings(&self) -> Settings {
        Settings {
            public_url: self.public_url.clone(),
            max_page_size: self.max_page_size,
            inactive_users: self.inactive_users,
            event_retention_days: self.event_retention_days,
            audit_retention_days: self.audit_retention_days,
            limits: self.limits,
            ..Settings::default()
        }
    }
}

/// `SCIMGATE_WEBHOOK_MAX_ATTEMPTS` (12), `SCIMGATE_WEBHOOK_BACKOFF_BASE_MS` (120000),
/// `SCIMGATE_WEBHOOK_TIMEOUT_MS` (10000), `SCIMGATE_WEBHOOK_ALLOW_HTTP`,
/// `SCIMGATE_WEBHOOK_ALLOW_PRIVATE` (false), `SCIMGATE_WEBHOOK_CONCURRENCY` (64).
fn webhook_settings(retention_days: u32) -> anyhow::Result<scimgate_webhooks::EngineConfig> {
    let d = scimgate_webhooks::EngineConfig::default();
    let flag = |name: &str| -> anyhow::Result<bool> {
        match var(name).as_deref() {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(v) => bail!("{name} must be true or false, not {v:?}"),
        }
    };
    let max_attempts: i32 = parsed("SCIMGATE_WEBHOOK_MAX_ATTEMPTS", d.max_attempts)?;
    if !(1..=100).contains(&max_attempts) {
        bail!("SCIMGATE_WEBHOOK_MAX_ATTEMPTS must be between 1 and 100");
    }
    let base: u64 = parsed(
        "SCIMGATE_WEBHOOK_BACKOFF_BASE_MS",
        d.backoff_base.as_millis() as u64,
    )?;
    let timeout: u64 = parsed("SCIMGATE_WEBHOOK_TIMEOUT_MS", d.timeout.as_millis() as u64)?;
    if !(100..=120_000).contains(&timeout) {
        bail!("SCIMGATE_WEBHOOK_TIMEOUT_MS must be between 100 and 120000");
    }
    let concurrency: usize = parsed("SCIMGATE_WEBHOOK_CONCURRENCY", d.concurrency)?;
    if !(1..=1024).contains(&concurrency) {
        bail!("SCIMGATE_WEBHOOK_CONCURRENCY must be between 1 and 1024");
    }
    Ok(scimgate_webhooks::EngineConfig {
        max_attempts,
        backoff_base: std::time::Duration::from_millis(base),
        timeout: std::time::Duration::from_millis(timeout),
        policy: scimgate_webhooks::Policy {
            allow_http: flag("SCIMGATE_WEBHOOK_ALLOW_HTTP")?,
            allow_private: flag("SCIMGATE_WEBHOOK_ALLOW_PRIVATE")?,
        },
        concurrency,
        attempt_retention_days: retention_days,
    })
}
