//! `/api_keys` (an `admin`-scope key): the vendor API's keys, with least privilege.
//! Create (`{"name", "scopes": [...], "expires_at"?}`; the key shown once), list
//! (never the key), revoke (refused at once on every instance).

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::{Body, Fields};
use super::params::{timestamp, Invalid};
use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec;
use crate::state::AppState;
use chrono::NaiveDateTime;
use scimgate_core::audit::{Entry, Outcome};
use scimgate_core::ids::{ApiKeyId, PrefixedId};
use scimgate_core::scope::Scopes;
use scimgate_core::service::{api_keys, audit};
use scimgate_core::wire;
use scimgate_core::wire_api_key as keys_wire;

/// `POST /api_keys`: `{"name", "scopes": ["events:read", …], "expires_at"?}`.
#[derive(Debug, Deserialize)]
#[serde(try_from = "Fields")]
pub struct NewKey {
    name: String,
    scopes: Scopes,
    expires_at: Option<NaiveDateTime>,
}

impl TryFrom<Fields> for NewKey {
    type Error = Invalid;
    fn try_from(f: Fields) -> Result<Self, Invalid> {
        let name = f.required("name")?;
        let names: Vec<String> = match f.get("scopes") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| Invalid("`scopes` must be an array of strings".into()))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(Invalid("`scopes` must be an array of strings".into())),
            None => return Err(Invalid("`scopes` is required".into())),
        };
        let scopes = Scopes::parse_names(&names)?;
        let expires_at = timestamp("expires_at", f.text("expires_at")?.as_deref())?;
        Ok(NewKey {
            name,
            scopes,
            expires_at,
        })
    }
}

#[utoipa::path(
    post,
    path = "/api_keys",
    operation_id = "api_keys_create",
    tag = "api_keys",
    summary = "Create an API key",
    request_body = super::doc::NewApiKey,
    responses((status = 201, description = "the key and its secret (shown once)", body = scimgate_core::wire_api_key::NewApiKey))
)]
pub async fn create(
    state: web::Data<AppState>,
    key: ApiKey,
    body: Body<NewKey>,
) -> Result<HttpResponse, ApiError> {
    let NewKey {
        name,
        scopes,
        expires_at,
    } = body.0;
    let created = exec::blocking(&state.core, key, move |core, caller| {
        let entry = Entry::new(&caller.actor, "api_key.created", Outcome::Success)
            .target_kind("api_key")
            .details(json!({"name": name, "scopes": scopes.names()}));
        let (row, secret) = audit::audited(
            core,
            entry,
            || api_keys::create(core, &name, scopes, expires_at),
            |(row, _)| Some(row.id.to_string()),
        )?;
        Ok(keys_wire::NewApiKey {
            key: keys_wire::ApiKey::from(&row),
            api_key: secret,
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

#[utoipa::path(
    get,
    path = "/api_keys",
    operation_id = "api_keys_list",
    tag = "api_keys",
    summary = "List API keys",
    responses((status = 200, description = "every key (no secrets)", body = scimgate_core::wire::List<scimgate_core::wire_api_key::ApiKey>))
)]
pub async fn list(state: web::Data<AppState>, key: ApiKey) -> Result<HttpResponse, ApiError> {
    let rows = exec::blocking(&state.core, key, move |core, _| Ok(api_keys::list(core)?)).await?;
    Ok(HttpResponse::Ok().json(wire::List::whole(
        rows.iter().map(keys_wire::ApiKey::from).collect(),
    )))
}

#[utoipa::path(
    delete,
    path = "/api_keys/{id}",
    operation_id = "api_keys_revoke",
    tag = "api_keys",
    summary = "Revoke an API key",
    params(("id" = String, Path, description = "an API key id")),
    responses((status = 204, description = "revoked"))
)]
pub async fn revoke(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    exec::blocking(&state.core, key, move |core, caller| {
        let entry = Entry::new(&caller.actor, "api_key.revoked", Outcome::Success)
            .target("api_key", id.clone());
        audit::audited(
            core,
            entry,
            || api_keys::revoke(core, &ApiKeyId::parse_or_not_found(&id)?),
            |_| None,
        )?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
