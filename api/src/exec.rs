//! How a request runs, for both surfaces: the one place that decides between the HTTP
//! worker and the blocking pool.
//!
//! * [`blocking`]: the credential verified and the work done in one call on the
//!   blocking pool (`web::block`); the default for anything that may wait.
//! * [`point_read`]: a read of one resource (a user by id, a lookup by
//!   `userName`/`externalId`/`id`) on the HTTP worker itself, inside
//!   `service::without_waiting`, as long as nothing in it has to wait (the token is in
//!   the cache, the directory is activated, a pooled connection is free right now);
//!   whatever would have waited (`CoreError::WouldWait`) runs again through the pool.
//!   Handing a read this short to the blocking pool and back costs two thread
//!   switches, which on a 2-core VM were a large share of the server's CPU per lookup
//!   (docs/BENCHMARKS.md).
//! * [`write`]: a write that answers from what it wrote, prepared on the worker (no
//!   database work), committed by the directory's batch leader on the blocking pool
//!   while this task awaits it (`Core::run_async`), and rendered on the worker: no
//!   thread waits for the commit. Through the pool, each write held a thread that the
//!   leader woke after the commit and that then woke the worker, which cost the server
//!   more than the write's own work on a 2-core VM.
//!
//! A missing or cached credential is answered on the worker; an uncached one is
//! verified on the pool within the same call as the work (no extra hop).
//!
//! Limits (`Core::limiter`, `Settings::limits`), decided on the worker without a
//! thread: a credential known from the cache counts one request of its directory or
//! key (429 past the rate); a credential that would be looked up in the database is
//! first checked against the lock-outs of its client address and its prefix (429,
//! no database work); every refused credential (401) counts a failure of both, and
//! the failure that starts a lock-out is audited (`auth.locked_out`).

use std::time::Duration;

use actix_web::error::BlockingError;
use actix_web::web;
use scimgate_core::audit::Actor;
use scimgate_core::ratelimit::Rule;
use scimgate_core::service::auth_limits::{self, FailureKey};
use scimgate_core::service::{self, Write};
use scimgate_core::{Core, CoreError};

/// A request's credential (see `crate::auth`), verified where the request runs.
pub trait Credential: Clone + Send + 'static {
    /// What a verified credential opens (a directory for a directory token).
    type Principal: Send + 'static;
    /// Its surface's error.
    type Error: From<CoreError> + From<BlockingError> + Send + 'static;

    /// Verify on a thread that may wait (it may read the database, or write).
    fn verify(&self, core: &Core) -> Result<Self::Principal, Self::Error>;

    /// Verify on the HTTP worker without waiting: `None` when that would wait, and
    /// [`Credential::verify`] runs on the blocking pool instead.
    fn verify_cached(&self, core: &Core) -> Option<Result<Self::Principal, Self::Error>>;

    /// What counts this credential's failures, as `(kind, value)`: its client address
    /// and its prefix; nothing when no credential was presented.
    fn failure_keys(&self) -> Vec<FailureKey>;

    /// The limiter key and rule counting a verified principal's requests, if limited.
    fn rate_key(&self, core: &Core, principal: &Self::Principal) -> Option<(String, Rule)>;

    /// Whether `e` refuses the credential itself (a 401), which counts as a failure.
    fn is_refusal(e: &Self::Error) -> bool;

    /// The 429 of a caller locked out or past its rate, for `retry_after`.
    fn too_many(retry_after: Duration, detail: &str) -> Self::Error;

    /// Who failed, for the audit record of a lock-out.
    fn anonymous(&self) -> Actor;
}

/// Before any work, on the worker: the principal if the cache knows it (and it is
/// within its rate); `None` when it must be verified on the pool and the caller is not
/// locked out; `Err` if refused now.
async fn admit<C: Credential>(core: &Core, cred: &C) -> Result<Option<C::Principal>, C::Error> {
    match cred.verify_cached(core) {
        Some(Ok(p)) => {
            if let Some((key, rule)) = cred.rate_key(core, &p) {
                let d = core.limiter().hit(&key, rule).await;
                if !d.allowed {
                    return Err(C::too_many(
                        d.reset_in,
                        "request rate limit exceeded; retry after the Retry-After delay",
                    ));
                }
            }
            Ok(Some(p))
        }
        Some(Err(e)) => {
            failed(core, cred, &e).await;
            Err(e)
        }
        None => match auth_limits::locked_for(core, &cred.failure_keys()).await {
            Some(left) => Err(C::too_many(
                left,
                "too many failed authentications; retry after the Retry-After delay",
            )),
            None => Ok(None),
        },
    }
}

/// Count a refused credential against its address and prefix (`auth_limits`).
async fn failed<C: Credential>(core: &Core, cred: &C, e: &C::Error) {
    if C::is_refusal(e) {
        auth_limits::failed(core, &cred.failure_keys(), &cred.anonymous()).await;
    }
}

/// On the blocking pool: verify the credential unless `principal` is already known,
/// then run `f`, in one call.
async fn on_pool<C, T, F>(
    core: &Core,
    cred: C,
    principal: Option<C::Principal>,
    f: F,
) -> Result<T, C::Error>
where
    C: Credential,
    T: Send + 'static,
    F: FnOnce(&Core, &C::Principal) -> Result<T, C::Error> + Send + 'static,
{
    // only an uncached credential's failure is counted here (a cached one's by `admit`)
    let counted = principal.is_none().then(|| cred.clone());
    let c = core.clone();
    let res = web::block(move || {
        let p = match principal {
            Some(p) => p,
            None => cred.verify(&c)?,
        };
        f(&c, &p)
    })
    .await
    .map_err(C::Error::from)
    .and_then(|r| r);
    if let (Err(e), Some(cred)) = (&res, &counted) {
        failed(core, cred, e).await;
    }
    res
}

/// Run `f` on the blocking pool, the credential verified first.
pub async fn blocking<C, T, F>(core: &Core, cred: C, f: F) -> Result<T, C::Error>
where
    C: Credential,
    T: Send + 'static,
    F: FnOnce(&Core, &C::Principal) -> Result<T, C::Error> + Send + 'static,
{
    let principal = admit(core, &cred).await?;
    on_pool(core, cred, principal, f).await
}

/// Run the point read `f` on this HTTP worker if nothing in it has to wait, else on
/// the blocking pool (see the module's notes).
pub async fn point_read<C, T, F>(core: &Core, cred: C, f: F) -> Result<T, C::Error>
where
    C: Credential,
    T: Send + 'static,
    F: Fn(&Core, &C::Principal) -> Result<T, C::Error> + Send + 'static,
{
    let principal = admit(core, &cred).await?;
    if let Some(p) = &principal {
        if let Some(done) = service::without_waiting(|| f(core, p)) {
            return done;
        }
    }
    on_pool(core, cred, principal, f).await
}

/// Run a write that answers from what it wrote: `prepare` it and `render` its result
/// on this HTTP worker and await its commit, when the credential is known here;
/// otherwise all of it on the blocking pool, waiting there for the commit.
pub async fn write<C, T, O, P, R>(
    core: &Core,
    cred: C,
    prepare: P,
    render: R,
) -> Result<O, C::Error>
where
    C: Credential,
    T: Send + 'static,
    O: Send + 'static,
    P: FnOnce(&Core, &C::Principal) -> Result<Write<T>, CoreError> + Send + 'static,
    R: FnOnce(&Core, &C::Principal, T) -> Result<O, C::Error> + Send + 'static,
{
    let principal = admit(core, &cred).await?;
    if let (Some(p), Ok(rt)) = (&principal, tokio::runtime::Handle::try_current()) {
        let done = core.run_async(prepare(core, p)?, rt).await?;
        return render(core, p, done);
    }
    on_pool(core, cred, principal, move |core, p| {
        let done = core.run(prepare(core, p)?)?;
        render(core, p, done)
    })
    .await
}
