//! `/Groups` (RFC 7644 §3.3–§3.6). Groups, whose members can be many, and their
//! pages run on the blocking pool; a PATCH answered with 204 is an awaited write
//! (`crate::exec`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::query::{ListQuery, Projected};
use super::render::{self, Rendered};
use super::request::{Body, IfMatch, ResourceId};
use crate::auth::DirectoryToken;
use crate::error::ScimError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::ids::DirectoryGroupId;
use scimgate_core::model::{DirectoryRow, GroupRow};
use scimgate_core::scim::resource::list_response;
use scimgate_core::service::groups;
use scimgate_core::{Core, CoreResult};
use serde_json::Value;

#[utoipa::path(
    get,
    path = "/scim/v2/{directory_id}/Groups",
    operation_id = "scim_groups_list",
    tag = "scim_groups",
    summary = "List or filter groups",
    params(("directory_id" = String, Path, description = "a directory id"), super::doc::ListParams),
    responses((status = 200, description = "a ListResponse of Groups", body = super::doc::ListResponse, content_type = "application/scim+json"))
)]
pub async fn list(
    state: web::Data<AppState>,
    q: ListQuery,
    token: DirectoryToken,
) -> Result<HttpResponse, ScimError> {
    list_page(&state, token, q).await
}

#[utoipa::path(
    post,
    path = "/scim/v2/{directory_id}/Groups/.search",
    operation_id = "scim_groups_search",
    tag = "scim_groups",
    summary = "Search groups",
    params(("directory_id" = String, Path, description = "a directory id")),
    request_body(content((super::doc::SearchRequest = "application/scim+json"), (super::doc::SearchRequest = "application/json"))),
    responses((status = 200, description = "a ListResponse of Groups", body = super::doc::ListResponse, content_type = "application/scim+json"))
)]
pub async fn search(
    state: web::Data<AppState>,
    token: DirectoryToken,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    list_page(&state, token, ListQuery::from_search(&body.0)?).await
}

async fn list_page(
    state: &AppState,
    token: DirectoryToken,
    q: ListQuery,
) -> Result<HttpResponse, ScimError> {
    let ListQuery {
        params,
        projection: proj,
    } = q;
    let body = exec::blocking(&state.core, token, move |core, dir| {
        let listed = groups::list(core, dir, &params)?;
        let resources = render::groups(core, dir, &listed.rows, &proj)?;
        Ok(list_response(listed.total, listed.start_index, resources))
    })
    .await?;
    Ok(render::json(StatusCode::OK, &body))
}

#[utoipa::path(
    get,
    path = "/scim/v2/{directory_id}/Groups/{id}",
    operation_id = "scim_groups_get",
    tag = "scim_groups",
    summary = "Get a group",
    params(("directory_id" = String, Path, description = "a directory id"), ("id" = String, Path, description = "the resource id"), super::doc::Projection),
    responses((status = 200, description = "the Group", body = super::doc::Group, content_type = "application/scim+json"))
)]
pub async fn get(
    state: web::Data<AppState>,
    q: Projected,
    token: DirectoryToken,
    id: ResourceId<DirectoryGroupId>,
) -> Result<HttpResponse, ScimError> {
    let proj = q.projection;
    exec::blocking(&state.core, token, move |core, dir| {
        let row = groups::get(core, dir, id.or(groups::not_found)?)?;
        render::group_response(core, dir, &row, &proj, StatusCode::OK)
    })
    .await
    .map(Rendered::into_response)
}

#[utoipa::path(
    post,
    path = "/scim/v2/{directory_id}/Groups",
    operation_id = "scim_groups_create",
    tag = "scim_groups",
    summary = "Create a group",
    params(("directory_id" = String, Path, description = "a directory id"), super::doc::Projection),
    request_body(content((super::doc::GroupIn = "application/scim+json"), (super::doc::GroupIn = "application/json"))),
    responses((status = 201, description = "the Group", body = super::doc::Group, content_type = "application/scim+json"))
)]
pub async fn create(
    state: web::Data<AppState>,
    q: Projected,
    token: DirectoryToken,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    let proj = q.projection;
    exec::blocking(&state.core, token, move |core, dir| {
        let row = groups::create(core, dir, body.0)?;
        render::group_response(core, dir, &row, &proj, StatusCode::CREATED)
    })
    .await
    .map(Rendered::into_response)
}

#[utoipa::path(
    put,
    path = "/scim/v2/{directory_id}/Groups/{id}",
    operation_id = "scim_groups_replace",
    tag = "scim_groups",
    summary = "Replace a group",
    params(("directory_id" = String, Path, description = "a directory id"), ("id" = String, Path, description = "the resource id"), ("If-Match" = Option<String>, Header, description = "a version (ETag) the resource must have"), super::doc::Projection),
    request_body(content((super::doc::GroupIn = "application/scim+json"), (super::doc::GroupIn = "application/json"))),
    responses((status = 200, description = "the Group", body = super::doc::Group, content_type = "application/scim+json"))
)]
pub async fn replace(
    state: web::Data<AppState>,
    q: Projected,
    token: DirectoryToken,
    id: ResourceId<DirectoryGroupId>,
    if_match: IfMatch,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    change(&state, q, token, id, if_match, body, groups::replace).await
}

/// What `groups::replace` and `groups::patch` are.
type Change =
    fn(&Core, &DirectoryRow, &DirectoryGroupId, Value, Option<&str>) -> CoreResult<GroupRow>;

/// A PUT, or a PATCH that asks for the group back: on the blocking pool, answered with
/// the group as written (its members read again when projected).
async fn change(
    state: &AppState,
    q: Projected,
    token: DirectoryToken,
    id: ResourceId<DirectoryGroupId>,
    if_match: IfMatch,
    body: Body,
    apply: Change,
) -> Result<HttpResponse, ScimError> {
    let (im, proj) = (if_match.0, q.projection);
    exec::blocking(&state.core, token, move |core, dir| {
        let row = apply(core, dir, id.or(groups::not_found)?, body.0, im.as_deref())?;
        render::group_response(core, dir, &row, &proj, StatusCode::OK)
    })
    .await
    .map(Rendered::into_response)
}

/// Group PATCH answers 204 unless attributes are asked for (RFC 7644 §3.5.2 allows
/// either; Entra asks for 204 and a member list is never sent back by default, so the
/// cost of a PATCH does not grow with the group).
#[utoipa::path(
    patch,
    path = "/scim/v2/{directory_id}/Groups/{id}",
    operation_id = "scim_groups_patch",
    tag = "scim_groups",
    summary = "Patch a group (204 unless attributes are asked for)",
    params(("directory_id" = String, Path, description = "a directory id"), ("id" = String, Path, description = "the resource id"), ("If-Match" = Option<String>, Header, description = "a version (ETag) the resource must have"), super::doc::Projection),
    request_body(content((super::doc::PatchOp = "application/scim+json"), (super::doc::PatchOp = "application/json"))),
    responses((status = 200, description = "the Group (when `attributes` or `excludedAttributes` is given)", body = super::doc::Group, content_type = "application/scim+json"), (status = 204, description = "patched"))
)]
pub async fn patch(
    state: web::Data<AppState>,
    q: Projected,
    token: DirectoryToken,
    id: ResourceId<DirectoryGroupId>,
    if_match: IfMatch,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    if q.asked {
        return change(&state, q, token, id, if_match, body, groups::patch).await;
    }
    // nothing to read back for a 204: the write alone, awaited
    let im = if_match.0;
    exec::write(
        &state.core,
        token,
        move |core, dir| {
            groups::prepare_patch(core, dir, id.or(groups::not_found)?, body.0, im.as_deref())
        },
        |_, _, row| {
            Ok(Rendered {
                status: StatusCode::NO_CONTENT,
                body: None,
                version: row.version,
                location: None,
            })
        },
    )
    .await
    .map(Rendered::into_response)
}

#[utoipa::path(
    delete,
    path = "/scim/v2/{directory_id}/Groups/{id}",
    operation_id = "scim_groups_delete",
    tag = "scim_groups",
    summary = "Delete a group",
    params(("directory_id" = String, Path, description = "a directory id"), ("id" = String, Path, description = "the resource id"), ("If-Match" = Option<String>, Header, description = "a version (ETag) the resource must have")),
    responses((status = 204, description = "deleted"))
)]
pub async fn delete(
    state: web::Data<AppState>,
    token: DirectoryToken,
    id: ResourceId<DirectoryGroupId>,
    if_match: IfMatch,
) -> Result<HttpResponse, ScimError> {
    let im = if_match.0;
    exec::blocking(&state.core, token, move |core, dir| {
        Ok(groups::delete(
            core,
            dir,
            id.or(groups::not_found)?,
            im.as_deref(),
        )?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
