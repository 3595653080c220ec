//! What every finished SCIM request tells the admin UI's sync health
//! (`scimgate_core::service::sync_health`): counted in memory, flushed in the
//! background, never inside the request's transaction.

use actix_web::dev::ServiceResponse;
use actix_web::http::Method;
use actix_web::HttpMessage;

use scimgate_core::ids::DirectoryId;
use scimgate_core::Core;

/// The reason of a refused SCIM request (set by `ScimError::error_response`).
#[derive(Debug, Clone)]
pub struct Rejection(pub String);

/// The tolerated IdP quirks of a request's body (set by `request::Body`).
#[derive(Debug, Clone)]
pub struct Tolerated(pub Vec<scimgate_connectors::quirks::Tolerated>);

/// Count a SCIM response for its directory. A 4xx or 5xx is a rejection, except a
/// GET's 404 (an IdP looking up a resource before creating it); an accepted request
/// whose body showed tolerated quirks notes each of them.
pub fn observe<B>(core: &Core, res: &ServiceResponse<B>) {
    let req = res.request();
    let Some(dir) = req
        .match_info()
        .get("directory_id")
        .and_then(|d| DirectoryId::parse(d).ok())
    else {
        return;
    };
    let status = res.status();
    let rejected = (status.is_client_error() || status.is_server_error())
        && !(req.method() == Method::GET && status.as_u16() == 404);
    let reason = rejected.then(|| {
        res.response()
            .extensions()
            .get::<Rejection>()
            .map(|r| r.0.clone())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string())
    });
    if !rejected {
        if let Some(t) = req.extensions().get::<Tolerated>() {
            for q in &t.0 {
                core.sync_health().accepted(
                    &dir,
                    req.method().as_str(),
                    status.as_u16(),
                    q.code,
                    &q.note,
                );
            }
        }
    }
    core.sync_health()
        .record(dir, req.method().as_str(), status.as_u16(), reason);
}
