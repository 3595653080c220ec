//! `/directories/{id}/tokens`: a directory's SCIM bearer tokens (scimgate's
//! onboarding): create (the secret shown once), list (never the secret), revoke.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::body::{Body, Fields};
use super::params::Invalid;
use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::ids::{DirectoryId, PrefixedId, TokenId};
use scimgate_core::service::admin;
use scimgate_core::wire;

/// `POST /directories/{id}/tokens`: `{"name"?}` (default `token`).
#[derive(Debug, Deserialize)]
#[serde(try_from = "Fields")]
pub struct NewToken {
    name: String,
}

impl TryFrom<Fields> for NewToken {
    type Error = Invalid;
    fn try_from(f: Fields) -> Result<Self, Invalid> {
        Ok(NewToken {
            name: f.text("name")?.unwrap_or_else(|| "token".into()),
        })
    }
}

pub async fn create(
    state: web::Data<AppState>,
    key: ApiKey,
    body: Body<NewToken>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = (path.into_inner(), body.0.name);
    let created = exec::blocking(&state.core, key, move |core, _| {
        let dir = admin::get_directory(core, &DirectoryId::parse_or_not_found(&id)?)?;
        let (row, secret) = admin::create_token(core, &dir, &name)?;
        Ok(wire::NewDirectoryToken {
            token: wire::DirectoryToken::from(&row),
            bearer_token: secret,
            scim_url: core.scim_base(&dir.id),
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

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

pub async fn revoke(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, token_id) = path.into_inner();
    exec::blocking(&state.core, key, move |core, _| {
        let dir = admin::get_directory(core, &DirectoryId::parse_or_not_found(&id)?)?;
        admin::revoke_token(core, &dir, &TokenId::parse_or_not_found(&token_id)?)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
