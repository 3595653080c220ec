//! `/Bulk` (RFC 7644 §3.7) is not offered: `ServiceProviderConfig` says
//! `bulk.supported: false`. The request is still authenticated first, so a wrong token
//! gets its 401 and a directory's first request activates it, as on any SCIM path.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::auth::DirectoryToken;
use crate::error::ScimError;
use crate::exec;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/scim/v2/{directory_id}/Bulk",
    operation_id = "scim_bulk_bulk",
    tag = "scim_bulk",
    summary = "Bulk operations (not supported)",
    params(("directory_id" = String, Path, description = "a directory id")),
    request_body(content((super::doc::BulkRequest = "application/scim+json"), (super::doc::BulkRequest = "application/json"))),
    responses((status = 501, description = "Bulk is not supported", body = super::doc::Error, content_type = "application/scim+json"))
)]
pub async fn bulk(
    state: web::Data<AppState>,
    token: DirectoryToken,
) -> Result<HttpResponse, ScimError> {
    exec::blocking(&state.core, token, |_, _| Ok(())).await?;
    Err(ScimError::new(
        StatusCode::NOT_IMPLEMENTED,
        None,
        "Bulk operations are not supported",
    ))
}
