//! `/directories/{id}/tokens`: a directory's SCIM bearer tokens (scimgate's
//! onboarding): create (the secret shown once), list (never the secret), revoke.

use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::json;

use super::body::{Body, Fields};
use super::params::{timestamp, Invalid};
use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::audit::{Entry, Outcome};
use scimgate_core::ids::{DirectoryId, PrefixedId, TokenId};
use scimgate_core::service::{admin, audit};
use scimgate_core::wire;

/// `POST /directories/{id}/tokens`: `{"name"?, "expires_at"?}` (default `token`,
/// never; `expires_at` an RFC 3339 timestamp in the future).
#[derive(Debug, Deserialize)]
#[serde(try_from = "Fields")]
pub struct NewToken {
    name: String,
    expires_at: Option<NaiveDateTime>,
}

impl TryFrom<Fields> for NewToken {
    type Error = Invalid;
    fn try_from(f: Fields) -> Result<Self, Invalid> {
        Ok(NewToken {
            name: f.text("name")?.unwrap_or_else(|| "token".into()),
            expires_at: timestamp("expires_at", f.text("expires_at")?.as_deref())?,
        })
    }
}

#[utoipa::path(
    post,
    path = "/directories/{id}/tokens",
    operation_id = "tokens_create",
    tag = "directories",
    summary = "Create a SCIM bearer token",
    params(("id" = String, Path, description = "a directory id")),
    request_body = super::doc::NewToken,
    responses((status = 201, description = "the token and its secret (shown once)", body = scimgate_core::wire::NewDirectoryToken))
)]
pub async fn create(
    state: web::Data<AppState>,
    key: ApiKey,
    body: Body<NewToken>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (id, NewToken { name, expires_at }) = (path.into_inner(), body.0);
    let created = exec::blocking(&state.core, key, move |core, caller| {
        let entry = Entry::new(&caller.actor, "directory_token.created", Outcome::Success)
            .target_kind("directory_token")
            .details(json!({"directory_id": id, "name": name}));
        let (dir, row, secret) = audit::audited(
            core,
            entry,
            || {
                let dir = admin::get_directory(core, &DirectoryId::parse_or_not_found(&id)?)?;
                let (row, secret) = admin::create_token_expiring(core, &dir, &name, expires_at)?;
                Ok((dir, row, secret))
            },
            |(_, row, _)| Some(row.id.to_string()),
        )?;
        Ok(wire::NewDirectoryToken {
            token: wire::DirectoryToken::from(&row),
            bearer_token: secret,
            scim_url: core.scim_base(&dir.id),
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

#[utoipa::path(
    get,
    path = "/directories/{id}/tokens",
    operation_id = "tokens_list",
    tag = "directories",
    summary = "List a directory's tokens",
    params(("id" = String, Path, description = "a directory id")),
    responses((status = 200, description = "every token of the directory (no secrets)", body = scimgate_core::wire::List<scimgate_core::wire::DirectoryToken>))
)]
pub async fn list(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let rows = exec::blocking(&state.core, key, move |core, _| {
        let dir = admin::get_directory(core, &DirectoryId::parse_or_not_found(&id)?)?;
        Ok(admin::list_tokens(core, &dir.id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(wire::List::whole(
        rows.iter().map(wire::DirectoryToken::from).collect(),
    )))
}

#[utoipa::path(
    delete,
    path = "/directories/{id}/tokens/{token_id}",
    operation_id = "tokens_revoke",
    tag = "directories",
    summary = "Revoke a SCIM bearer token",
    params(("id" = String, Path, description = "a directory id"), ("token_id" = String, Path, description = "a token id")),
    responses((status = 204, description = "revoked"))
)]
pub async fn revoke(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, token_id) = path.into_inner();
    exec::blocking(&state.core, key, move |core, caller| {
        let entry = Entry::new(&caller.actor, "directory_token.revoked", Outcome::Success)
            .target("directory_token", token_id.clone())
            .details(json!({"directory_id": id}));
        audit::audited(
            core,
            entry,
            || {
                let dir = admin::get_directory(core, &DirectoryId::parse_or_not_found(&id)?)?;
                admin::revoke_token(core, &dir, &TokenId::parse_or_not_found(&token_id)?)
            },
            |_| None,
        )?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
