//! Discovery (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`,
//! authenticated like every SCIM path (a directory's first request may be one).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::render;
use crate::auth::DirectoryToken;
use crate::error::ScimError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::scim::discovery::{self, SpConfigLimits};

/// What `/ServiceProviderConfig` announces: this server's configured limits.
fn limits(state: &AppState) -> SpConfigLimits {
    SpConfigLimits {
        max_results: state.config.max_page_size as u32,
        max_operations: state.core.settings().max_patch_ops as u32,
        max_payload_size: state.config.max_body_bytes as u64,
        filter_max_terms: scimgate_core::scim::filter::MAX_FILTER_TERMS as u32,
    }
}

#[utoipa::path(
    get,
    path = "/scim/v2/{directory_id}/ServiceProviderConfig",
    operation_id = "scim_discovery_service_provider_config",
    tag = "scim_discovery",
    summary = "The service provider configuration",
    params(("directory_id" = String, Path, description = "a directory id")),
    responses((status = 200, description = "RFC 7643 §5", body = super::doc::Discovery, content_type = "application/scim+json"))
)]
pub async fn service_provider_config(
    state: web::Data<AppState>,
    token: DirectoryToken,
) -> Result<HttpResponse, ScimError> {
    let l = limits(&state);
    let v = exec::blocking(&state.core, token, move |core, dir| {
        Ok(discovery::service_provider_config(
            &core.scim_base(&dir.id),
            &l,
        ))
    })
    .await?;
    Ok(render::json(StatusCode::OK, &v))
}

#[utoipa::path(
    get,
    path = "/scim/v2/{directory_id}/ResourceTypes",
    operation_id = "scim_discovery_resource_types",
    tag = "scim_discovery",
    summary = "The resource types",
    params(("directory_id" = String, Path, description = "a directory id")),
    responses((status = 200, description = "a ListResponse of ResourceTypes", body = super::doc::ListResponse, content_type = "application/scim+json"))
)]
pub async fn resource_types(
    state: web::Data<AppState>,
    token: DirectoryToken,
) -> Result<HttpResponse, ScimError> {
    let v = exec::blocking(&state.core, token, move |core, dir| {
        Ok(discovery::resource_types(&core.scim_base(&dir.id)))
    })
    .await?;
    Ok(render::json(StatusCode::OK, &v))
}

#[utoipa::path(
    get,
    path = "/scim/v2/{directory_id}/ResourceTypes/{name}",
    operation_id = "scim_discovery_resource_type",
    tag = "scim_discovery",
    summary = "A resource type",
    params(("directory_id" = String, Path, description = "a directory id"), ("name" = String, Path, description = "`User` or `Group`")),
    responses((status = 200, description = "RFC 7643 §6", body = super::doc::Discovery, content_type = "application/scim+json"))
)]
pub async fn resource_type(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: DirectoryToken,
) -> Result<HttpResponse, ScimError> {
    let name = req.match_info().get("name").unwrap_or_default().to_string();
    let v = exec::blocking(&state.core, token, move |core, dir| {
        discovery::resource_type(&core.scim_base(&dir.id), &name)
            .ok_or_else(|| ScimError::not_found(format!("resource type {name:?} not found")))
    })
    .await?;
    Ok(render::json(StatusCode::OK, &v))
}

#[utoipa::path(
    get,
    path = "/scim/v2/{directory_id}/Schemas",
    operation_id = "scim_discovery_schemas",
    tag = "scim_discovery",
    summary = "The schemas",
    params(("directory_id" = String, Path, description = "a directory id")),
    responses((status = 200, description = "a ListResponse of Schemas", body = super::doc::ListResponse, content_type = "application/scim+json"))
)]
pub async fn schemas(
    state: web::Data<AppState>,
    token: DirectoryToken,
) -> Result<HttpResponse, ScimError> {
    let v = exec::blocking(&state.core, token, move |core, dir| {
        Ok(discovery::schemas(&core.scim_base(&dir.id)))
    })
    .await?;
    Ok(render::json(StatusCode::OK, &v))
}

#[utoipa::path(
    get,
    path = "/scim/v2/{directory_id}/Schemas/{id}",
    operation_id = "scim_discovery_schema",
    tag = "scim_discovery",
    summary = "A schema",
    params(("directory_id" = String, Path, description = "a directory id"), ("id" = String, Path, description = "a schema URN")),
    responses((status = 200, description = "RFC 7643 §7", body = super::doc::Discovery, content_type = "application/scim+json"))
)]
pub async fn schema(
    state: web::Data<AppState>,
    token: DirectoryToken,
    id: super::request::SchemaId,
) -> Result<HttpResponse, ScimError> {
    let id = id.0;
    let v = exec::blocking(&state.core, token, move |core, dir| {
        discovery::schema(&core.scim_base(&dir.id), &id)
            .ok_or_else(|| ScimError::not_found(format!("schema {id:?} not found")))
    })
    .await?;
    Ok(render::json(StatusCode::OK, &v))
}
