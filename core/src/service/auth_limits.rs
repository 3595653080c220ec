//! Failed authentications, counted per client address and per credential prefix (or
//! login name): past `Settings::limits.auth_failures` within its window the key is
//! locked out for `limits.lockout`, and the failure that starts a lock-out is audited
//! (`auth.locked_out`). Counted by `Core::limiter` (Redis across instances). Every
//! check of a directory token or an API key uses these (`api::exec`), and so does the
//! opening of a setup link (a link that is tampered, expired, used or revoked counts a
//! failure of the client address: `scimgate_admin_ui::portal::start`). Admin logins
//! keep their own, stricter throttle (`scimgate_admin_ui::login`).

use std::time::Duration;

use serde_json::json;

use super::{audit, Core};
use crate::audit::{Actor, Entry, Outcome};

/// What a failure is counted against: `(kind, value)`, e.g. `("client_address",
/// "203.0.113.9")`, `("credential_prefix", "sgd_1a2b3c")`.
pub type FailureKey = (&'static str, String);

fn limiter_key(kind: &str, value: &str) -> String {
    format!("auth:{kind}:{value}")
}

/// How long the longest lock-out among `keys` still lasts, if any is locked out: the
/// caller gets 429 with this as `Retry-After`, before any credential lookup.
/// One Redis round trip at most for all of them, none once a lock-out of one is known
/// to this instance (`Limiter::longest_lock`).
pub async fn locked_for(core: &Core, keys: &[FailureKey]) -> Option<Duration> {
    let keys: Vec<String> = keys.iter().map(|(k, v)| limiter_key(k, v)).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    core.limiter().longest_lock(&keys).await
}

/// Count a failed authentication against each key; a lock-out it starts is logged and
/// audited (in the background) with `actor` (anonymous, with the client address).
pub async fn failed(core: &Core, keys: &[FailureKey], actor: &Actor) {
    let limits = core.settings().limits;
    for (kind, value) in keys {
        let started = core
            .limiter()
            .fail(
                &limiter_key(kind, value),
                limits.auth_failures,
                limits.lockout,
            )
            .await;
        if started {
            tracing::warn!(kind, value = %value, "authentication lock-out");
            let entry = Entry::new(actor, "auth.locked_out", Outcome::Denied)
                .target(kind, value.clone())
                .details(json!({
                    "failures": limits.auth_failures.limit,
                    "window_seconds": limits.auth_failures.window.as_secs(),
                    "lockout_seconds": limits.lockout.as_secs(),
                }));
            audit::note_in_background(core, entry);
        }
    }
}
