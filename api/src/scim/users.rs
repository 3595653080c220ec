//! `/Users` (RFC 7644 §3.3–§3.6): list and `.search`, read, create, replace, patch,
//! delete. A lookup by `userName`, `externalId` or `id` (what IdPs send before every
//! create) and a read by id are point reads; creates, replaces, patches and deletes
//! are awaited writes (`crate::exec`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::query::{ListQuery, Projected};
use super::render::{self, Rendered};
use super::request::{Body, IfMatch, ResourceId};
use crate::auth::DirectoryToken;
use crate::error::ScimError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::ids::DirectoryUserId;
use scimgate_core::model::DirectoryRow;
use scimgate_core::scim::filter::is_point_lookup;
use scimgate_core::scim::resource::{list_response, list_response_text};
use scimgate_core::service::{users, Write};
use scimgate_core::{Core, CoreResult};
use serde_json::Value;

#[utoipa::path(
    get,
    path = "/scim/v2/{directory_id}/Users",
    operation_id = "scim_users_list",
    tag = "scim_users",
    summary = "List or filter users",
    params(("directory_id" = String, Path, description = "a directory id"), super::doc::ListParams),
    responses((status = 200, description = "a ListResponse of Users", body = super::doc::ListResponse, content_type = "application/scim+json"))
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
    path = "/scim/v2/{directory_id}/Users/.search",
    operation_id = "scim_users_search",
    tag = "scim_users",
    summary = "Search users",
    params(("directory_id" = String, Path, description = "a directory id")),
    request_body(content((super::doc::SearchRequest = "application/scim+json"), (super::doc::SearchRequest = "application/json"))),
    responses((status = 200, description = "a ListResponse of Users", body = super::doc::ListResponse, content_type = "application/scim+json"))
)]
pub async fn search(
    state: web::Data<AppState>,
    token: DirectoryToken,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    list_page(&state, token, ListQuery::from_search(&body.0)?).await
}

/// A page of users; a point lookup (`filter::is_point_lookup`) runs as a point read.
async fn list_page(
    state: &AppState,
    token: DirectoryToken,
    q: ListQuery,
) -> Result<HttpResponse, ScimError> {
    let ListQuery {
        params,
        projection: proj,
    } = q;
    let point = params.filter.as_deref().is_some_and(is_point_lookup);
    let job = move |core: &Core, dir: &DirectoryRow| -> Result<String, ScimError> {
        let listed = users::list(core, dir, &params)?;
        if !proj.is_identity() {
            let resources = render::users(core, dir, &listed.rows, listed.groups, &proj)?;
            let list = list_response(listed.total, listed.start_index, resources);
            return Ok(scimgate_core::json::text(&list));
        }
        // every attribute: each user spliced from its stored document
        let base = core.scim_base(&dir.id);
        let groups = render::user_groups(core, &listed.rows, listed.groups, &proj)?;
        let texts: Vec<String> = listed
            .rows
            .iter()
            .map(|r| render::user_text(r, &render::groups_of_user(&groups, &r.id), &proj, &base))
            .collect();
        Ok(list_response_text(listed.total, listed.start_index, &texts))
    };
    let body = if point {
        exec::point_read(&state.core, token, job).await?
    } else {
        exec::blocking(&state.core, token, job).await?
    };
    Ok(render::text(StatusCode::OK, body))
}

#[utoipa::path(
    get,
    path = "/scim/v2/{directory_id}/Users/{id}",
    operation_id = "scim_users_get",
    tag = "scim_users",
    summary = "Get a user",
    params(("directory_id" = String, Path, description = "a directory id"), ("id" = String, Path, description = "the resource id"), super::doc::Projection),
    responses((status = 200, description = "the User", body = super::doc::User, content_type = "application/scim+json"))
)]
pub async fn get(
    state: web::Data<AppState>,
    q: Projected,
    token: DirectoryToken,
    id: ResourceId<DirectoryUserId>,
) -> Result<HttpResponse, ScimError> {
    let proj = q.projection;
    exec::point_read(&state.core, token, move |core, dir| {
        let u = users::get(core, dir, id.or(users::not_found)?)?;
        render::user_response(core, dir, &u.row, &u.groups, &proj, StatusCode::OK)
    })
    .await
    .map(Rendered::into_response)
}

#[utoipa::path(
    post,
    path = "/scim/v2/{directory_id}/Users",
    operation_id = "scim_users_create",
    tag = "scim_users",
    summary = "Create a user",
    params(("directory_id" = String, Path, description = "a directory id"), super::doc::Projection),
    request_body(content((super::doc::UserIn = "application/scim+json"), (super::doc::UserIn = "application/json"))),
    responses((status = 201, description = "the User", body = super::doc::User, content_type = "application/scim+json"))
)]
pub async fn create(
    state: web::Data<AppState>,
    q: Projected,
    token: DirectoryToken,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    let proj = q.projection;
    exec::write(
        &state.core,
        token,
        move |core, dir| users::prepare_create(core, dir, body.0),
        move |core, dir, row| {
            render::user_response(core, dir, &row, &[], &proj, StatusCode::CREATED)
        },
    )
    .await
    .map(Rendered::into_response)
}

#[utoipa::path(
    put,
    path = "/scim/v2/{directory_id}/Users/{id}",
    operation_id = "scim_users_replace",
    tag = "scim_users",
    summary = "Replace a user",
    params(("directory_id" = String, Path, description = "a directory id"), ("id" = String, Path, description = "the resource id"), ("If-Match" = Option<String>, Header, description = "a version (ETag) the resource must have"), super::doc::Projection),
    request_body(content((super::doc::UserIn = "application/scim+json"), (super::doc::UserIn = "application/json"))),
    responses((status = 200, description = "the User", body = super::doc::User, content_type = "application/scim+json"))
)]
pub async fn replace(
    state: web::Data<AppState>,
    q: Projected,
    token: DirectoryToken,
    id: ResourceId<DirectoryUserId>,
    if_match: IfMatch,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    change(&state, q, token, id, if_match, body, users::prepare_replace).await
}

#[utoipa::path(
    patch,
    path = "/scim/v2/{directory_id}/Users/{id}",
    operation_id = "scim_users_patch",
    tag = "scim_users",
    summary = "Patch a user",
    params(("directory_id" = String, Path, description = "a directory id"), ("id" = String, Path, description = "the resource id"), ("If-Match" = Option<String>, Header, description = "a version (ETag) the resource must have"), super::doc::Projection),
    request_body(content((super::doc::PatchOp = "application/scim+json"), (super::doc::PatchOp = "application/json"))),
    responses((status = 200, description = "the User", body = super::doc::User, content_type = "application/scim+json"))
)]
pub async fn patch(
    state: web::Data<AppState>,
    q: Projected,
    token: DirectoryToken,
    id: ResourceId<DirectoryUserId>,
    if_match: IfMatch,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    change(&state, q, token, id, if_match, body, users::prepare_patch).await
}

/// What `users::prepare_replace` and `users::prepare_patch` are.
type PrepareChange = fn(
    &Core,
    &DirectoryRow,
    &DirectoryUserId,
    Value,
    Option<&str>,
) -> CoreResult<Write<users::WithGroups>>;

/// A PUT or PATCH of one user: an awaited write, answered with the user as written.
async fn change(
    state: &AppState,
    q: Projected,
    token: DirectoryToken,
    id: ResourceId<DirectoryUserId>,
    if_match: IfMatch,
    body: Body,
    prepare: PrepareChange,
) -> Result<HttpResponse, ScimError> {
    let (im, proj) = (if_match.0, q.projection);
    exec::write(
        &state.core,
        token,
        move |core, dir| prepare(core, dir, id.or(users::not_found)?, body.0, im.as_deref()),
        move |core, dir, u| {
            render::user_response(core, dir, &u.row, &u.groups, &proj, StatusCode::OK)
        },
    )
    .await
    .map(Rendered::into_response)
}

#[utoipa::path(
    delete,
    path = "/scim/v2/{directory_id}/Users/{id}",
    operation_id = "scim_users_delete",
    tag = "scim_users",
    summary = "Delete a user",
    params(("directory_id" = String, Path, description = "a directory id"), ("id" = String, Path, description = "the resource id"), ("If-Match" = Option<String>, Header, description = "a version (ETag) the resource must have")),
    responses((status = 204, description = "deleted"))
)]
pub async fn delete(
    state: web::Data<AppState>,
    token: DirectoryToken,
    id: ResourceId<DirectoryUserId>,
    if_match: IfMatch,
) -> Result<HttpResponse, ScimError> {
    let im = if_match.0;
    exec::write(
        &state.core,
        token,
        move |core, dir| {
            Ok(users::prepare_delete(
                core,
                dir,
                id.or(users::not_found)?,
                im.as_deref(),
            ))
        },
        |_, _, ()| Ok(()),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
