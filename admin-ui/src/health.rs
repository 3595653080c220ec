//! A directory's sync health as the pages show it, with each rejection explained in
//! plain language for the IT admin.

use scimgate_core::model::DirectoryRow;
use scimgate_core::service::sync_health;
use scimgate_core::{Core, CoreResult};

use crate::util::when;

pub struct Rejection {
    pub at: String,
    pub method: String,
    pub status: i32,
    pub explained: String,
}

pub struct Health {
    pub last_request: Option<String>,
    pub requests_24h: i64,
    pub rejections_24h: i64,
    pub stale: bool,
    pub rejections: Vec<Rejection>,
}

/// What a rejected request means, and what to do about it.
pub fn explain(status: i32, reason: &str) -> String {
    let what = match status {
        401 => "Your identity provider's token was refused: it is wrong or was revoked. Paste the current token into your identity provider.".to_string(),
        404 => format!("Your identity provider referred to something that does not exist in this directory ({reason})."),
        409 => format!("Your identity provider tried to create something that already exists ({reason})."),
        412 => "Your identity provider sent an outdated version of a resource; it will retry with the current one.".to_string(),
        413 => "Your identity provider sent a request that is too large; send fewer changes at a time.".to_string(),
        400 | 422 => format!("Your identity provider sent something we could not accept: {reason}."),
        429 | 503 => "Your identity provider sent requests too fast; it retries on its own.".to_string(),
        s if s >= 500 => "The request failed on our side; your identity provider retries on its own.".to_string(),
        _ => reason.to_string(),
    };
    what
}

pub fn of(core: &Core, dir: &DirectoryRow) -> CoreResult<Health> {
    let h = sync_health::health(core, dir)?;
    Ok(Health {
        last_request: h.last_request.map(when),
        requests_24h: h.requests_24h,
        rejections_24h: h.rejections_24h,
        stale: h.stale,
        rejections: h
            .rejections
            .iter()
            .map(|r| Rejection {
                at: when(r.at),
                method: r.method.clone(),
                status: r.status,
                explained: explain(r.status, &r.reason),
            })
            .collect(),
    })
}
