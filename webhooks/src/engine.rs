//! The delivery workers of one `scimgate serve` process.
//!
//! A dispatcher task leases due cursors (`service::webhooks::claim`: an enabled
//! endpoint, an event past the cursor, no retry pending, no live lease; on
//! PostgreSQL `FOR UPDATE SKIP LOCKED`, so instances share the work) and starts one
//! task per leased cursor, at most `concurrency` at a time. A cursor's task sends its
//! directory's events after the cursor one at a time, in `seq` order, and moves the
//! cursor on each 2xx (compare-and-set, renewing the lease); a failure schedules a
//! retry with exponential backoff and full jitter and gives the lease back, so one
//! stuck (endpoint, directory) holds back no other. The dispatcher wakes on the
//! event bus (a commit here, or on another instance through Redis), when a retry is
//! due, and at least every `SWEEP` (commits on other instances without Redis; leases
//! of a killed instance, which expire).
//!
//! A task whose cursor has caught up keeps its lease for up to `LINGER`, waiting for
//! its directory's next commit on the bus, while free slots remain: a busy directory's
//! events then cost one read, one send and a share of one bookkeeping write each,
//! instead of a lease given back and taken again (two more writes and a read) per
//! commit. Endpoint changes (`Notice::Webhooks`: disabled, events, secret, deleted,
//! redelivery) and the directory's deletion end the wait, so the task never sends
//! with a stale endpoint past the notice.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{broadcast, Notify, Semaphore};

use crate::sign;
use crate::target::{Policy, Refused, Resolver};
use scimgate_core::bus::Notice;
use scimgate_core::model::EventRow;
use scimgate_core::service::webhooks::{self as svc, Next, Outcome, Target};
use scimgate_core::store::webhooks::CursorRow;
use scimgate_core::{clock, Core};

/// How often the dispatcher looks for due cursors without a wake-up.
const SWEEP: Duration = Duration::from_millis(500);
/// How long a caught-up task waits for its directory's next commit before giving its
/// lease back.
const LINGER: Duration = Duration::from_secs(1);
/// A task gives its lease back after this long even if its directory stays busy, so
/// that what it loaded once (the endpoint's URL, events, secrets and their overlap)
/// is loaded again.
const TASK_MAX: Duration = Duration::from_secs(30);
/// How often cursors are made for directories created since.
const ENSURE_EVERY: Duration = Duration::from_secs(2);
/// How often the health gauges are computed.
const HEALTH_EVERY: Duration = Duration::from_secs(10);
/// Events read per step of a cursor.
const BATCH: i64 = 100;
/// Delivered events recorded together at most this many …
const FLUSH_EVENTS: usize = 50;
/// … or this long after the first of them was acknowledged.
const FLUSH_AFTER: Duration = Duration::from_millis(20);
/// The most response body kept per attempt.
pub const SNIPPET_BYTES: usize = 1024;

/// Metric names (the `metrics` facade; rendered on `/metrics`).
pub const ATTEMPTS: &str = "scimgate_webhook_attempts_total";
pub const ATTEMPT_SECONDS: &str = "scimgate_webhook_attempt_seconds";
pub const DELIVERY_LAG: &str = "scimgate_webhook_delivery_lag_seconds";
pub const ENDPOINT_HEALTHY: &str = "scimgate_webhook_endpoint_healthy";
pub const BACKLOG: &str = "scimgate_webhook_backlog_events";
pub const OLDEST: &str = "scimgate_webhook_oldest_undelivered_seconds";

/// Help texts of the webhook series.
pub fn describe() {
    metrics::describe_counter!(
        ATTEMPTS,
        "Webhook delivery attempts by outcome (delivered, failed, gave_up, disabled)."
    );
    metrics::describe_histogram!(ATTEMPT_SECONDS, "Duration of a webhook delivery attempt.");
    metrics::describe_histogram!(
        DELIVERY_LAG,
        "From an event's commit to its webhook's 2xx, in seconds."
    );
    metrics::describe_gauge!(
        ENDPOINT_HEALTHY,
        "1 when the endpoint's last attempt succeeded (or none failed), 0 when failing or disabled."
    );
    metrics::describe_gauge!(
        BACKLOG,
        "Events past the endpoint's cursors (all directories)."
    );
    metrics::describe_gauge!(
        OLDEST,
        "Age of the endpoint's oldest undelivered event, in seconds (0: none)."
    );
}

/// `SCIMGATE_WEBHOOK_*` settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `SCIMGATE_WEBHOOK_MAX_ATTEMPTS` (12): attempts per event before it is given up.
    pub max_attempts: i32,
    /// `SCIMGATE_WEBHOOK_BACKOFF_BASE_MS` (120000): the first retry's delay bound;
    /// each later one doubles (full jitter: a uniform delay up to the bound).
    pub backoff_base: Duration,
    /// `SCIMGATE_WEBHOOK_TIMEOUT_MS` (10000): per attempt.
    pub timeout: Duration,
    pub policy: Policy,
    /// Cursors delivered at once by this process.
    pub concurrency: usize,
    /// Attempts are kept this many days (the event retention).
    pub attempt_retention_days: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_attempts: 12,
            backoff_base: Duration::from_millis(120_000),
            timeout: Duration::from_millis(10_000),
            policy: Policy::default(),
            concurrency: 64,
            attempt_retention_days: 30,
        }
    }
}

impl EngineConfig {
    /// How long a lease lasts without renewal: two attempts' timeouts and a margin
    /// (a killed instance's cursors are taken over after it).
    pub fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(5)
    }

    /// The delay before attempt `failed + 1`, `failed` attempts having failed.
    pub fn backoff(&self, failed: i32) -> Duration {
        let exp = failed.clamp(1, 30) as u32 - 1;
        let bound = self
            .backoff_base
            .saturating_mul(2u32.saturating_pow(exp))
            .min(Duration::from_secs(7 * 86_400));
        let ms = bound.as_millis() as u64;
        Duration::from_millis(rand::rng().random_range(0..=ms))
    }
}

struct Shared {
    core: Core,
    cfg: EngineConfig,
    client: reqwest::Client,
    owner: String,
    wake: Notify,
}

/// Start the workers on the current tokio runtime.
pub fn spawn(core: &Core, cfg: EngineConfig) -> Result<(), String> {
    describe();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(cfg.timeout)
        .connect_timeout(cfg.timeout)
        .user_agent(concat!("scimgate/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Resolver::shared(cfg.policy))
        .pool_max_idle_per_host(cfg.concurrency)
        .build()
        .map_err(|e| format!("webhook HTTP client: {e}"))?;
    let shared = Arc::new(Shared {
        core: core.clone(),
        owner: scimgate_core::ids::new_id("worker"),
        cfg,
        client,
        wake: Notify::new(),
    });
    // wake-ups: new events (a directory not seen yet gets its cursors first)
    let fresh = Arc::new(std::sync::Mutex::new(false));
    {
        let s = shared.clone();
        let fresh = fresh.clone();
        let mut rx = svc::notices(core);
        tokio::spawn(async move {
            let mut seen: HashSet<String> = HashSet::new();
            loop {
                match rx.recv().await {
                    Ok(Notice::Events { directory_id, .. }) => {
                        if seen.insert(directory_id.to_string()) {
                            *fresh.lock().unwrap_or_else(|p| p.into_inner()) = true;
                        }
                        s.wake.notify_one();
                    }
                    Ok(Notice::Webhooks) => s.wake.notify_one(),
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => s.wake.notify_one(),
                    Err(_) => break,
                }
            }
        });
    }
    tokio::spawn(dispatch(shared.clone(), fresh));
    tokio::spawn(health_gauges(shared));
    Ok(())
}

async fn blocking<T: Send + 'static>(
    s: &Arc<Shared>,
    f: impl FnOnce(&Core) -> scimgate_core::CoreResult<T> + Send + 'static,
) -> Result<T, String> {
    let core = s.core.clone();
    match tokio::task::spawn_blocking(move || f(&core)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

async fn dispatch(s: Arc<Shared>, fresh: Arc<std::sync::Mutex<bool>>) {
    let slots = Arc::new(Semaphore::new(s.cfg.concurrency.max(1)));
    let mut last_ensure: Option<Instant> = None;
    let mut last_prune: Option<Instant> = None;
    loop {
        let new_dir = std::mem::take(&mut *fresh.lock().unwrap_or_else(|p| p.into_inner()));
        if new_dir || last_ensure.is_none_or(|t| t.elapsed() >= ENSURE_EVERY) {
            last_ensure = Some(Instant::now());
            if let Err(e) = blocking(&s, svc::ensure_cursors).await {
                tracing::warn!(error = %e, "webhook cursors could not be created");
            }
        }
        if last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
            last_prune = Some(Instant::now());
            let days = s.cfg.attempt_retention_days;
            if let Err(e) = blocking(&s, move |c| svc::prune_attempts(c, days)).await {
                tracing::warn!(error = %e, "pruning webhook attempts failed");
            }
        }
        let free = slots.available_permits();
        let mut claimed = 0;
        if free > 0 {
            let (owner, lease) = (s.owner.clone(), s.cfg.lease());
            match blocking(&s, move |c| svc::claim(c, &owner, lease, free as i64)).await {
                Ok(cursors) => {
                    claimed = cursors.len();
                    for cursor in cursors {
                        let Ok(permit) = slots.clone().acquire_owned().await else {
                            return;
                        };
                        let (s, slots) = (s.clone(), slots.clone());
                        tokio::spawn(async move {
                            deliver(&s, &slots, cursor).await;
                            drop(permit);
                            // more may be due (this cursor's new events, others waiting)
                            s.wake.notify_one();
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming webhook cursors failed"),
            }
        }
        if claimed > 0 && claimed == free {
            continue;
        }
        let _ = tokio::time::timeout(SWEEP, s.wake.notified()).await;
    }
}

/// Deliver a leased cursor's events until none is left, a retry is scheduled, the
/// endpoint is disabled or the lease is lost.
async fn deliver(s: &Arc<Shared>, slots: &Semaphore, mut cursor: CursorRow) {
    // subscribed before the first read: no commit after it goes unseen while lingering
    let mut notices = svc::notices(&s.core);
    let ep = cursor.endpoint_id.clone();
    let target = match blocking(s, move |c| svc::target(c, &ep)).await {
        Ok(Some(t)) => t,
        Ok(None) => return release(s, &cursor).await,
        Err(e) => {
            // e.g. a secret sealed with a key this instance lacks: not in a loop
            tracing::warn!(error = %e, endpoint_id = %cursor.endpoint_id, "loading a webhook endpoint failed; trying again in 30 s");
            let (c2, owner) = (cursor.clone(), s.owner.clone());
            let wait = Duration::from_secs(30);
            if let Err(e) =
                blocking(s, move |c| svc::postpone(c, &c2, &owner, wait, "endpoint")).await
            {
                tracing::warn!(error = %e, "postponing a webhook cursor failed");
            }
            return;
        }
    };
    let url = match url::Url::parse(&target.url) {
        Ok(u) => u,
        Err(_) => return release(s, &cursor).await,
    };
    let started = Instant::now();
    loop {
        if started.elapsed() >= TASK_MAX || endpoints_changed(&mut notices) {
            return release(s, &cursor).await;
        }
        let c2 = cursor.clone();
        let events = match blocking(s, move |c| svc::next_events(c, &c2, BATCH)).await {
            Ok(ev) => ev,
            Err(e) => {
                tracing::warn!(error = %e, "reading events for webhooks failed");
                return release(s, &cursor).await;
            }
        };
        if events.is_empty() {
            if slots.available_permits() > 0 && linger(&mut notices, &cursor).await {
                continue;
            }
            return release(s, &cursor).await;
        }
        let mut skip: Option<i64> = None;
        // delivered events not yet recorded: recorded together (one transaction) every
        // FLUSH_EVENTS or FLUSH_AFTER, before a failure is handled and at the batch's end
        let mut done: Vec<(EventRow, Outcome)> = Vec::new();
        let mut since = Instant::now();
        for e in events {
            if !target.events.contains(&e.event) {
                skip = Some(e.seq);
                continue;
            }
            if let Some(to) = skip.take() {
                if !flush(s, &mut cursor, &mut done).await {
                    return;
                }
                let next = skip_to(s, &cursor, to).await;
                if !step(s, &mut cursor, next) {
                    return;
                }
            }
            let outcome = send(s, &target, &url, &e).await;
            if outcome.error_kind.is_none() {
                let lag = (clock::now() - e.created_at).to_std().unwrap_or_default();
                metrics::histogram!(DELIVERY_LAG).record(lag);
                metrics::counter!(ATTEMPTS, "outcome" => "delivered").increment(1);
                if done.is_empty() {
                    since = Instant::now();
                }
                done.push((e, outcome));
                if (done.len() >= FLUSH_EVENTS || since.elapsed() >= FLUSH_AFTER)
                    && !flush(s, &mut cursor, &mut done).await
                {
                    return;
                }
                continue;
            }
            if !flush(s, &mut cursor, &mut done).await {
                return;
            }
            let (c2, owner, cfg) = (cursor.clone(), s.owner.clone(), s.cfg.clone());
            let next = blocking(s, move |c| {
                let backoff = cfg.backoff(c2.attempts + 1);
                svc::record(
                    c,
                    &c2,
                    &owner,
                    &e,
                    &outcome,
                    cfg.max_attempts,
                    backoff,
                    cfg.lease(),
                )
            })
            .await;
            let next = match next {
                Ok(n) => n,
                Err(err) => {
                    tracing::warn!(error = %err, "recording a webhook attempt failed");
                    return release(s, &cursor).await;
                }
            };
            metrics::counter!(ATTEMPTS, "outcome" => outcome_label(&next)).increment(1);
            if !step(s, &mut cursor, Ok(next)) {
                return;
            }
        }
        if !flush(s, &mut cursor, &mut done).await {
            return;
        }
        if let Some(to) = skip {
            let next = skip_to(s, &cursor, to).await;
            if !step(s, &mut cursor, next) {
                return;
            }
        }
    }
}

/// Whether an endpoint changed since the last look (the notices so far drained).
fn endpoints_changed(notices: &mut broadcast::Receiver<Notice>) -> bool {
    let mut changed = false;
    loop {
        match notices.try_recv() {
            Ok(Notice::Webhooks) => changed = true,
            Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(_) => return changed,
        }
    }
}

/// Wait up to `LINGER` for a commit in the cursor's directory: whether one came (read
/// again, lease kept), or not (nothing came; the endpoint or directory changed).
async fn linger(notices: &mut broadcast::Receiver<Notice>, cursor: &CursorRow) -> bool {
    let deadline = tokio::time::Instant::now() + LINGER;
    loop {
        match tokio::time::timeout_at(deadline, notices.recv()).await {
            Err(_) => return false,
            Ok(Ok(Notice::Events { directory_id, .. })) if directory_id == cursor.directory_id => {
                return true
            }
            Ok(Ok(Notice::Webhooks)) => return false,
            Ok(Ok(Notice::DirectoryChanged { directory_id }))
                if directory_id == cursor.directory_id =>
            {
                return false
            }
            Ok(Ok(_)) => {}
            // missed some: read again to be sure
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => return true,
            Ok(Err(broadcast::error::RecvError::Closed)) => return false,
        }
    }
}

/// Record the delivered run and move the cursor past it; whether the task goes on.
async fn flush(
    s: &Arc<Shared>,
    cursor: &mut CursorRow,
    done: &mut Vec<(EventRow, Outcome)>,
) -> bool {
    if done.is_empty() {
        return true;
    }
    let run = std::mem::take(done);
    let (c2, owner, lease) = (cursor.clone(), s.owner.clone(), s.cfg.lease());
    let next = blocking(s, move |c| {
        svc::record_delivered(c, &c2, &owner, &run, lease)
    })
    .await;
    step(s, cursor, next)
}

fn outcome_label(n: &Next) -> &'static str {
    match n {
        Next::Advanced(_) => "gave_up",
        Next::RetryAt(_) => "failed",
        Next::Disabled => "disabled",
        Next::Lost => "lost_lease",
    }
}

async fn skip_to(s: &Arc<Shared>, cursor: &CursorRow, to: i64) -> Result<Next, String> {
    let (c2, owner, lease) = (cursor.clone(), s.owner.clone(), s.cfg.lease());
    blocking(s, move |c| svc::skip_to(c, &c2, &owner, to, lease)).await
}

/// Apply a cursor's next state; whether its task goes on.
fn step(s: &Arc<Shared>, cursor: &mut CursorRow, next: Result<Next, String>) -> bool {
    match next {
        Ok(Next::Advanced(seq)) => {
            cursor.delivered_seq = seq;
            cursor.attempts = 0;
            if cursor.replay_to.is_some_and(|r| seq >= r) {
                cursor.replay_to = None;
            }
            true
        }
        Ok(Next::RetryAt(at)) => {
            let wait = (at - clock::now()).to_std().unwrap_or_default();
            let s = s.clone();
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                s.wake.notify_one();
            });
            false
        }
        Ok(Next::Disabled) => false,
        Ok(Next::Lost) => {
            // rewound by a redelivery (or the lease expired): let the dispatcher
            // lease it again from where it now is
            let s = s.clone();
            let c = cursor.clone();
            tokio::spawn(async move { release(&s, &c).await });
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "moving a webhook cursor failed");
            let s = s.clone();
            let c = cursor.clone();
            tokio::spawn(async move { release(&s, &c).await });
            false
        }
    }
}

async fn release(s: &Arc<Shared>, cursor: &CursorRow) {
    let (c2, owner) = (cursor.clone(), s.owner.clone());
    if let Err(e) = blocking(s, move |c| svc::release(c, &c2, &owner)).await {
        tracing::warn!(error = %e, "releasing a webhook cursor failed");
    }
    s.wake.notify_one();
}

/// One attempt: POST the event as `GET /events` renders it, signed.
async fn send(s: &Arc<Shared>, target: &Target, url: &url::Url, e: &EventRow) -> Outcome {
    let started = Instant::now();
    let done = |status_code: Option<u16>, kind: Option<&str>, snippet: Option<String>| {
        let latency = started.elapsed();
        metrics::histogram!(ATTEMPT_SECONDS).record(latency);
        Outcome {
            status_code,
            latency_ms: latency.as_millis() as i64,
            error_kind: kind.map(str::to_string),
            response_snippet: snippet,
        }
    };
    if let Err(Refused(why)) = s.cfg.policy.check_literal(url) {
        return done(None, Some("refused_address"), Some(why));
    }
    let body = e.to_json_string();
    let t_ms = clock::now().and_utc().timestamp_millis();
    let mut req = s
        .client
        .post(url.clone())
        .header("Content-Type", "application/json");
    for (k, v) in sign::headers(&target.secrets, e.id.as_str(), t_ms, body.as_bytes()) {
        req = req.header(k, v);
    }
    match req.body(body).send().await {
        Ok(mut resp) => {
            let status = resp.status();
            let mut snippet: Vec<u8> = Vec::new();
            // the body up to SNIPPET_BYTES, within the attempt's timeout
            while snippet.len() < SNIPPET_BYTES {
                match resp.chunk().await {
                    Ok(Some(chunk)) => {
                        let take = (SNIPPET_BYTES - snippet.len()).min(chunk.len());
                        snippet.extend_from_slice(&chunk[..take]);
                    }
                    _ => break,
                }
            }
            let text =
                (!snippet.is_empty()).then(|| String::from_utf8_lossy(&snippet).into_owned());
            if status.is_success() {
                done(Some(status.as_u16()), None, text)
            } else {
                done(Some(status.as_u16()), Some("status"), text)
            }
        }
        Err(err) => {
            let kind = if err.is_timeout() {
                "timeout"
            } else if refused(&err) {
                "refused_address"
            } else if err.is_connect() {
                "connect"
            } else if err.is_redirect() {
                "redirect"
            } else {
                "request"
            };
            done(None, Some(kind), Some(error_chain(&err)))
        }
    }
}

fn refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<Refused>().is_some() {
            return true;
        }
        cur = e.source();
    }
    false
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out.chars().take(SNIPPET_BYTES).collect()
}

/// The health gauges of every endpoint, every `HEALTH_EVERY`.
async fn health_gauges(s: Arc<Shared>) {
    let mut tick = tokio::time::interval(HEALTH_EVERY);
    loop {
        tick.tick().await;
        let res = blocking(&s, |c| {
            let mut out = Vec::new();
            let mut after = None;
            loop {
                let (rows, more) = svc::list_endpoints(c, after.as_ref(), 100)?;
                for r in &rows {
                    let h = svc::health(r, &svc::backlog(c, &r.id)?);
                    out.push((r.id.to_string(), h));
                }
                after = rows.last().map(|r| r.id.clone());
                if !more {
                    break;
                }
            }
            Ok(out)
        })
        .await;
        match res {
            Ok(list) => {
                for (id, h) in list {
                    metrics::gauge!(ENDPOINT_HEALTHY, "endpoint_id" => id.clone())
                        .set(if h.healthy { 1.0 } else { 0.0 });
                    metrics::gauge!(BACKLOG, "endpoint_id" => id.clone()).set(h.undelivered as f64);
                    metrics::gauge!(OLDEST, "endpoint_id" => id)
                        .set(h.oldest_undelivered_age_seconds.unwrap_or(0.0));
                }
            }
            Err(e) => tracing::warn!(error = %e, "webhook health failed"),
        }
    }
}
