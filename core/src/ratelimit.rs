//! Counting limits shared by every instance: failed authentications, lock-outs and
//! request rates.
//!
//! With Redis configured each decision is one atomic round trip at most (a Lua script:
//! `INCRBY` of the window's counter with its expiry, or the lock-outs' remaining
//! time), so instances share counts and lock-outs; a lock-out an instance has seen is
//! remembered there until it ends, and request rates are flushed to Redis in batches
//! ([`Limiter::rate`]). Without Redis the counts live in this process (the embedded
//! single-instance default).
//!
//! Windows are fixed: a key's counter starts with its first hit and expires `window`
//! later. A caller past the limit is told how long until the window ends
//! (`Retry-After`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

/// A limit: at most `limit` hits per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub limit: u32,
    pub window: Duration,
}

impl Rule {
    pub const fn new(limit: u32, window: Duration) -> Rule {
        Rule { limit, window }
    }
}

/// The limits scimgate applies (configured by `SCIMGATE_AUTH_FAILURES_PER_MINUTE`,
/// `SCIMGATE_AUTH_LOCKOUT_SECONDS`, `SCIMGATE_SCIM_REQUESTS_PER_MINUTE`,
/// `SCIMGATE_API_REQUESTS_PER_MINUTE`; see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failed authentications per client address and per credential prefix.
    pub auth_failures: Rule,
    /// How long a client address or credential prefix past `auth_failures` is refused.
    pub lockout: Duration,
    /// Requests per directory on the SCIM surface (`None`: unlimited).
    pub scim_per_directory: Option<Rule>,
    /// Requests per API key on the vendor API (`None`: unlimited).
    pub api_per_key: Option<Rule>,
}

impl Default for Limits {
    /// 20 failures a minute lock out for 5 minutes; 300,000 SCIM requests a minute per
    /// directory (5,000 a second: an IdP's full sync runs far below it, a storm is held
    /// to it) and 60,000 vendor requests a minute per key.
    fn default() -> Limits {
        const MINUTE: Duration = Duration::from_secs(60);
        Limits {
            auth_failures: Rule::new(20, MINUTE),
            lockout: Duration::from_secs(300),
            scim_per_directory: Some(Rule::new(300_000, MINUTE)),
            api_per_key: Some(Rule::new(60_000, MINUTE)),
        }
    }
}

/// The answer to a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether this hit is within the limit.
    pub allowed: bool,
    /// Hits in the current window, this one included.
    pub count: u64,
    /// Until the window ends (the `Retry-After` of a refused hit).
    pub reset_in: Duration,
}

/// Where the counters live.
enum Backend {
    Local(Mutex<Local>),
    Redis(ConnectionManager),
}

#[derive(Default)]
struct Local {
    counters: HashMap<String, (u64, Instant)>,
    /// Hits since the expired entries were last swept.
    since_sweep: u32,
}

const SWEEP_EVERY: u32 = 4096;

impl Local {
    fn hit(&mut self, key: &str, n: u64, window: Duration) -> (u64, Duration) {
        let now = Instant::now();
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP_EVERY {
            self.since_sweep = 0;
            self.counters.retain(|_, (_, until)| *until > now);
        }
        let e = self
            .counters
            .entry(key.to_string())
            .or_insert((0, now + window));
        if e.1 <= now {
            *e = (0, now + window);
        }
        e.0 += n;
        (e.0, e.1.saturating_duration_since(now))
    }

    fn remaining(&self, key: &str) -> Option<Duration> {
        let now = Instant::now();
        self.counters
            .get(key)
            .filter(|(_, until)| *until > now)
            .map(|(_, until)| until.saturating_duration_since(now))
    }

    fn set(&mut self, key: &str, dur: Duration) {
        self.counters
            .insert(key.to_string(), (1, Instant::now() + dur));
    }
}

/// `INCRBY` a window's counter, starting its expiry with the first hit; returns the
/// count and the milliseconds left.
const HIT_SCRIPT: &str = r"
local c = redis.call('INCRBY', KEYS[1], ARGV[1])
if c == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
return {c, ttl}
";

/// Shared counters (see the module documentation).
pub struct Limiter {
    backend: Backend,
    prefix: String,
    hit_script: redis::Script,
    /// Request rates counted here between their flushes to Redis ([`Limiter::rate`]).
    batched: std::sync::Arc<Mutex<HashMap<String, Batch>>>,
    /// With Redis: the lock-outs this instance has seen (set here or read from
    /// Redis), by key, until they end. A lock-out only ends when its time is up, so
    /// a refusal needs no round trip once its lock-out is known: a flood from a
    /// locked-out address costs the server no Redis traffic.
    known_locks: Mutex<HashMap<String, Instant>>,
}

/// Lock-outs remembered at most ([`Limiter::known_locks`]; past it, the ended ones are
/// dropped, and all of them if none has ended).
const MAX_KNOWN_LOCKS: usize = 100_000;

/// How often at most a request rate's hits counted here are added to Redis's count.
const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// A request rate's count as this instance knows it between flushes.
#[derive(Debug)]
struct Batch {
    /// Hits counted here and not yet sent to Redis.
    pending: u64,
    /// Hits sent to Redis by the flush under way.
    inflight: u64,
    /// Redis's count at the last flush (every instance's hits).
    shared: u64,
    /// When Redis's window ends, as of the last flush.
    resets_at: Instant,
    flushing: bool,
    flushed_at: Instant,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("redis", &matches!(self.backend, Backend::Redis(_)))
            .finish()
    }
}

impl Limiter {
    /// Counters in this process.
    pub fn in_process() -> Limiter {
        Limiter {
            backend: Backend::Local(Mutex::new(Local::default())),
            prefix: "scimgate:rl:".into(),
            hit_script: redis::Script::new(HIT_SCRIPT),
            batched: Default::default(),
            known_locks: Default::default(),
        }
    }

    /// Counters in Redis, shared by every instance using the same Redis.
    pub async fn with_redis(url: &str) -> Result<Limiter, String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        let manager = client
            .get_connection_manager()
            .await
            .map_err(|e| format!("cannot connect to Redis: {e}"))?;
        Ok(Limiter {
            backend: Backend::Redis(manager),
            prefix: "scimgate:rl:".into(),
            hit_script: redis::Script::new(HIT_SCRIPT),
            batched: Default::default(),
            known_locks: Default::default(),
        })
    }

    /// The key prefix of one deployment: instances on the same database share their
    /// counters in Redis, and deployments (or test runs) sharing a Redis do not.
    pub fn prefix_for_database(database_url: &str) -> String {
        let h = crate::secrets::hash(&crate::store::redact_url(database_url));
        format!("scimgate:rl:{}:", &h[..12])
    }

    /// Keys under another prefix (tests share one Redis).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Limiter {
        self.prefix = prefix.into();
        self
    }

    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Redis(_))
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Count `n` hits of `key` under `rule`. A Redis error allows the hit (limits must
    /// not take the service down with Redis) and is logged.
    pub async fn hit_n(&self, key: &str, n: u64, rule: Rule) -> Decision {
        let window_ms = rule.window.as_millis().max(1) as u64;
        let (count, left) = match &self.backend {
            Backend::Local(m) => {
                m.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .hit(&self.key(key), n, rule.window)
            }
            Backend::Redis(cm) => {
                let mut cm = cm.clone();
                let res: redis::RedisResult<(u64, i64)> = self
                    .hit_script
                    .key(self.key(key))
                    .arg(n)
                    .arg(window_ms)
                    .invoke_async(&mut cm)
                    .await;
                match res {
                    Ok((c, ttl)) => (c, Duration::from_millis(ttl.max(0) as u64)),
                    Err(e) => {
                        tracing::warn!(error = %e, "rate limit check failed; allowing the request");
                        return Decision {
                            allowed: true,
                            count: 0,
                            reset_in: Duration::ZERO,
                        };
                    }
                }
            }
        };
        Decision {
            allowed: count <= u64::from(rule.limit),
            count,
            reset_in: left,
        }
    }

    /// Count one hit of `key` under `rule`.
    pub async fn hit(&self, key: &str, rule: Rule) -> Decision {
        self.hit_n(key, 1, rule).await
    }

    /// Count one request of `key` under a request-rate `rule`, deciding without a
    /// round trip: in process, as [`Limiter::hit`]; with Redis, the hits are counted
    /// here and added to Redis's count at most every 50 ms per key (in a task of their
    /// own), and a request is judged by Redis's last count (every instance's) plus the
    /// hits counted here since. The shared count may lag by 50 ms of traffic per
    /// instance: right for request rates, which are about storms; failed
    /// authentications and lock-outs stay exact ([`Limiter::fail`]).
    pub async fn rate(self: &std::sync::Arc<Self>, key: &str, rule: Rule) -> Decision {
        if !self.is_shared() {
            return self.hit(key, rule).await;
        }
        let now = Instant::now();
        let (decision, flush) = {
            let mut m = self.batched.lock().unwrap_or_else(|p| p.into_inner());
            let b = m.entry(key.to_string()).or_insert_with(|| Batch {
                pending: 0,
                inflight: 0,
                shared: 0,
                resets_at: now + rule.window,
                flushing: false,
                flushed_at: now - FLUSH_EVERY,
            });
            if b.resets_at <= now {
                b.shared = 0;
                b.resets_at = now + rule.window;
            }
            b.pending += 1;
            let count = b.shared + b.inflight + b.pending;
            let flush =
                (!b.flushing && now.duration_since(b.flushed_at) >= FLUSH_EVERY).then(|| {
                    b.flushing = true;
                    b.inflight = std::mem::take(&mut b.pending);
                    b.inflight
                });
            let d = Decision {
                allowed: count <= u64::from(rule.limit),
                count,
                reset_in: b.resets_at.saturating_duration_since(now),
            };
            (d, flush)
        };
        if let Some(n) = flush {
            let (me, key) = (self.clone(), key.to_string());
            tokio::spawn(async move {
                let d = me.hit_n(&key, n, rule).await;
                let mut m = me.batched.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(b) = m.get_mut(&key) {
                    let at = Instant::now();
                    // a Redis error (count 0) keeps what was known
                    if d.count > 0 {
                        b.shared = d.count;
                        b.resets_at = at + d.reset_in;
                    } else {
                        b.pending += n;
                    }
                    b.inflight = 0;
                    b.flushing = false;
                    b.flushed_at = at;
                }
                if m.len() > 100_000 {
                    m.retain(|_, b| b.resets_at > Instant::now() || b.pending > 0);
                }
            });
        }
        decision
    }

    /// How long `key` stays locked out, if it is.
    pub async fn locked_for(&self, key: &str) -> Option<Duration> {
        self.longest_lock(std::slice::from_ref(&key)).await
    }

    /// How long the longest lock-out among `keys` still lasts, if any is locked out:
    /// with Redis, from the lock-outs this instance knows, else one round trip for
    /// them all (and then known here too).
    pub async fn longest_lock(&self, keys: &[&str]) -> Option<Duration> {
        let ks: Vec<String> = keys
            .iter()
            .map(|k| self.key(&format!("lock:{k}")))
            .collect();
        match &self.backend {
            Backend::Local(m) => {
                let g = m.lock().unwrap_or_else(|p| p.into_inner());
                ks.iter().filter_map(|k| g.remaining(k)).max()
            }
            Backend::Redis(cm) => {
                let now = Instant::now();
                let known = {
                    let g = self.known_locks.lock().unwrap_or_else(|p| p.into_inner());
                    ks.iter()
                        .filter_map(|k| {
                            g.get(k).and_then(|until| until.checked_duration_since(now))
                        })
                        .filter(|left| !left.is_zero())
                        .max()
                };
                if known.is_some() {
                    return known;
                }
                let mut pipe = redis::pipe();
                for k in &ks {
                    pipe.cmd("PTTL").arg(k);
                }
                let mut cm = cm.clone();
                let ttls: redis::RedisResult<Vec<i64>> = pipe.query_async(&mut cm).await;
                match ttls {
                    Ok(ttls) => {
                        let mut longest = None;
                        for (k, ms) in ks.into_iter().zip(ttls) {
                            if ms > 0 {
                                let left = Duration::from_millis(ms as u64);
                                self.know_lock(k, now + left);
                                longest = longest.max(Some(left));
                            }
                        }
                        longest
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "lock-out check failed; allowing the request");
                        None
                    }
                }
            }
        }
    }

    /// Remember that the (prefixed) key `k` is locked out until `until`.
    fn know_lock(&self, k: String, until: Instant) {
        let mut g = self.known_locks.lock().unwrap_or_else(|p| p.into_inner());
        if g.len() >= MAX_KNOWN_LOCKS && !g.contains_key(&k) {
            let now = Instant::now();
            g.retain(|_, u| *u > now);
            if g.len() >= MAX_KNOWN_LOCKS {
                g.clear();
            }
        }
        g.insert(k, until);
    }

    /// Lock `key` out for `dur`.
    pub async fn lock_out(&self, key: &str, dur: Duration) {
        let k = self.key(&format!("lock:{key}"));
        match &self.backend {
            Backend::Local(m) => m.lock().unwrap_or_else(|p| p.into_inner()).set(&k, dur),
            Backend::Redis(cm) => {
                let mut cm = cm.clone();
                let res: redis::RedisResult<()> = redis::cmd("SET")
                    .arg(&k)
                    .arg(1)
                    .arg("PX")
                    .arg(dur.as_millis().max(1) as u64)
                    .query_async(&mut cm)
                    .await;
                match res {
                    Ok(()) => self.know_lock(k, Instant::now() + dur),
                    Err(e) => tracing::warn!(error = %e, "cannot record a lock-out in Redis"),
                }
            }
        }
    }

    /// Record a failure of `key`: past `rule.limit` failures within `rule.window`, the
    /// key is locked out for `lockout`. Returns `true` when this failure started the
    /// lock-out (to audit it once).
    pub async fn fail(&self, key: &str, rule: Rule, lockout: Duration) -> bool {
        let d = self.hit(&format!("fail:{key}"), rule).await;
        if d.count == u64::from(rule.limit) + 1 {
            self.lock_out(key, lockout).await;
            return true;
        }
        if !d.allowed && self.locked_for(key).await.is_none() {
            // the lock-out expired while failures went on within the window
            self.lock_out(key, lockout).await;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_counts_refuse_past_the_limit_until_the_window_ends() {
        let l = Limiter::in_process();
        let rule = Rule::new(3, Duration::from_millis(200));
        for i in 1..=3 {
            let d = l.hit("k", rule).await;
            assert!(d.allowed, "{i}");
            assert_eq!(d.count, i);
        }
        let d = l.hit("k", rule).await;
        assert!(!d.allowed);
        assert!(d.reset_in <= Duration::from_millis(200));
        assert!(l.hit("other", rule).await.allowed);
        tokio::time::sleep(Duration::from_millis(220)).await;
        assert!(l.hit("k", rule).await.allowed);
    }

    #[tokio::test]
    async fn the_longest_lock_out_among_keys_is_answered() {
        let l = Limiter::in_process();
        assert!(l.longest_lock(&["a", "b"]).await.is_none());
        l.lock_out("a", Duration::from_secs(2)).await;
        l.lock_out("b", Duration::from_secs(4)).await;
        let left = l.longest_lock(&["a", "b", "c"]).await;
        assert!(
            left.is_some_and(|d| d > Duration::from_secs(2) && d <= Duration::from_secs(4)),
            "{left:?}"
        );
        assert!(l.longest_lock(&["c"]).await.is_none());
    }

    #[tokio::test]
    async fn failures_past_the_threshold_lock_out_once() {
        let l = Limiter::in_process();
        let rule = Rule::new(2, Duration::from_secs(60));
        let lock = Duration::from_millis(150);
        assert!(!l.fail("ip:1", rule, lock).await);
        assert!(!l.fail("ip:1", rule, lock).await);
        assert!(l.locked_for("ip:1").await.is_none());
        assert!(l.fail("ip:1", rule, lock).await);
        assert!(l.locked_for("ip:1").await.is_some());
        assert!(!l.fail("ip:1", rule, lock).await);
        tokio::time::sleep(Duration::from_millis(170)).await;
        // failures went on within the window: a further failure locks out again
        assert!(l.locked_for("ip:1").await.is_none());
        assert!(!l.fail("ip:1", rule, lock).await);
        assert!(l.locked_for("ip:1").await.is_some());
    }

    #[tokio::test]
    async fn batched_rates_are_shared_by_two_limiters_within_a_flush() {
        let Some(url) = crate::testing::redis_url() else {
            assert!(
                crate::testing::postgres_url().is_none(),
                "SCIMGATE_TEST_DATABASE_URL is set: SCIMGATE_TEST_REDIS_URL must be set too"
            );
            // in process: the exact count
            let l = std::sync::Arc::new(Limiter::in_process());
            let rule = Rule::new(2, Duration::from_secs(5));
            assert!(l.rate("r", rule).await.allowed);
            assert!(l.rate("r", rule).await.allowed);
            assert!(!l.rate("r", rule).await.allowed);
            return;
        };
        let prefix = format!("scimgate:test:{}:", crate::ids::new_id("rl"));
        let (Ok(a), Ok(b)) = (
            Limiter::with_redis(&url).await,
            Limiter::with_redis(&url).await,
        ) else {
            panic!("cannot connect to {url}");
        };
        let a = std::sync::Arc::new(a.with_prefix(prefix.clone()));
        let b = std::sync::Arc::new(b.with_prefix(prefix));
        let rule = Rule::new(10, Duration::from_secs(10));
        // A's 6 hits: decided here at once, flushed to Redis
        for _ in 0..6 {
            assert!(a.rate("dir", rule).await.allowed);
        }
        tokio::time::sleep(FLUSH_EVERY * 6).await;
        assert!(a.rate("dir", rule).await.allowed); // flushes the rest
        tokio::time::sleep(FLUSH_EVERY * 6).await;
        // B learns A's 7 hits at its first flush, then refuses past 10 in all
        assert!(b.rate("dir", rule).await.allowed);
        tokio::time::sleep(FLUSH_EVERY * 6).await;
        let mut allowed = 0;
        for _ in 0..5 {
            if b.rate("dir", rule).await.allowed {
                allowed += 1;
            }
        }
        assert_eq!(
            allowed, 2,
            "7 of A's + 1 of B's before: 2 more fit under 10"
        );
    }

    #[tokio::test]
    async fn redis_counts_and_lock_outs_are_shared_by_two_limiters() {
        // The SQLite run (no test variables) has no Redis; the PostgreSQL + Redis run
        // requires it (as the HTTP tests of cross-instance revocation do).
        let Some(url) = crate::testing::redis_url() else {
            assert!(
                crate::testing::postgres_url().is_none(),
                "SCIMGATE_TEST_DATABASE_URL is set: SCIMGATE_TEST_REDIS_URL must be set too"
            );
            return;
        };
        let prefix = format!("scimgate:test:{}:", crate::ids::new_id("rl"));
        let (Ok(a), Ok(b)) = (
            Limiter::with_redis(&url).await,
            Limiter::with_redis(&url).await,
        ) else {
            panic!("cannot connect to {url}");
        };
        let (a, b) = (a.with_prefix(prefix.clone()), b.with_prefix(prefix.clone()));
        assert!(a.is_shared());
        let rule = Rule::new(3, Duration::from_secs(5));
        assert!(a.hit("dir", rule).await.allowed);
        assert!(b.hit("dir", rule).await.allowed);
        assert!(a.hit("dir", rule).await.allowed);
        let d = b.hit("dir", rule).await;
        assert!(!d.allowed);
        assert_eq!(d.count, 4);
        assert!(d.reset_in > Duration::ZERO && d.reset_in <= Duration::from_secs(5));
        // a lock-out decided on one is seen on the other
        let fail = Rule::new(1, Duration::from_secs(5));
        assert!(!a.fail("ip:9", fail, Duration::from_secs(3)).await);
        assert!(b.fail("ip:9", fail, Duration::from_secs(3)).await);
        assert!(a.locked_for("ip:9").await.is_some());

        // once seen, a lock-out is answered from memory until it ends: with its key
        // gone from Redis, A and B (which set it) still refuse without a round trip,
        // and an instance that never saw it reads Redis
        let Ok(mut r) = redis::Client::open(url.as_str()).and_then(|c| c.get_connection()) else {
            panic!("cannot connect to {url}");
        };
        let gone: i64 = redis::cmd("DEL")
            .arg(format!("{prefix}lock:ip:9"))
            .query(&mut r)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(gone, 1, "the lock-out was in Redis");
        let left = a.longest_lock(&["nobody", "ip:9"]).await;
        assert!(
            left.is_some_and(|l| l <= Duration::from_secs(3)),
            "{left:?}"
        );
        assert!(b.locked_for("ip:9").await.is_some());
        let Ok(c) = Limiter::with_redis(&url).await else {
            panic!("cannot connect to {url}");
        };
        let c = c.with_prefix(prefix);
        assert!(c.longest_lock(&["nobody", "ip:9"]).await.is_none());
        // several keys in one round trip: the longest lock-out among them
        c.lock_out("ip:1", Duration::from_secs(2)).await;
        b.lock_out("ip:2", Duration::from_secs(4)).await;
        let left = a.longest_lock(&["ip:1", "ip:2", "nobody"]).await;
        assert!(
            left.is_some_and(|l| l > Duration::from_secs(2) && l <= Duration::from_secs(4)),
            "{left:?}"
        );
    }
}
