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

use actix_web::error::BlockingError;
use actix_web::web;

use scimgate_core::service::{self, Write};
use scimgate_core::{Core, CoreError};

/// A request's credential (see `crate::auth`), verified where the request runs.
pub trait Credential: Send + 'static {
    /// What a verified credential opens (a directory for a directory token).
    type Principal: Send + 'static;
    /// Its surface's error.
    type Error: From<CoreError> + From<BlockingError> + Send + 'static;

    /// Verify on a thread that may wait (it may read the database, or write).
    fn verify(&self, core: &Core) -> Result<Self::Principal, Self::Error>;

    /// Verify on the HTTP worker without waiting: `None` when that would wait, and
    /// [`Credential::verify`] runs on the blocking pool instead.
    fn verify_cached(&self, core: &Core) -> Option<Result<Self::Principal, Self::Error>>;
}

/// The principal if the worker knows it now; `Err` if the credential is refused now.
fn known<C: Credential>(cred: &C, core: &Core) -> Result<Option<C::Principal>, C::Error> {
    cred.verify_cached(core).transpose()
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
    let core = core.clone();
    web::block(move || {
        let p = match principal {
            Some(p) => p,
            None => cred.verify(&core)?,
        };
        f(&core, &p)
    })
    .await?
}

/// Run `f` on the blocking pool, the credential verified first.
pub async fn blocking<C, T, F>(core: &Core, cred: C, f: F) -> Result<T, C::Error>
where
    C: Credential,
    T: Send + 'static,
    F: FnOnce(&Core, &C::Principal) -> Result<T, C::Error> + Send + 'static,
{
    let principal = known(&cred, core)?;
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
    let principal = known(&cred, core)?;
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
    let principal = known(&cred, core)?;
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
