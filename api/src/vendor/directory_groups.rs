//! `/directory_groups` (WIRE-COMPAT.md §1, §6): list and get. The objects are core's
//! (`directory_group`), passed through as built.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::params::{PageQuery, Query};
use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::ids::{DirectoryGroupId, PrefixedId};
use scimgate_core::service::vendor_reads::{self as reads, GroupFilter};
use scimgate_core::wire;

/// `GET /directory_groups?directory&user` and the page.
#[derive(Debug, Deserialize)]
pub struct ListGroups {
    #[serde(flatten)]
    page: PageQuery,
    directory: Option<String>,
    user: Option<String>,
}

#[utoipa::path(
    get,
    path = "/directory_groups",
    operation_id = "directory_groups_list",
    tag = "directory_groups",
    summary = "List directory groups",
    params(super::doc::PageParams, super::doc::GroupFilter),
    responses((status = 200, description = "a page of groups", body = scimgate_core::wire::List<scimgate_core::wire::DirectoryGroup>))
)]
pub async fn list(
    state: web::Data<AppState>,
    q: Query<ListGroups>,
    key: ApiKey,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let (page, f) = (
        q.page.0,
        GroupFilter {
            directory: q.directory,
            user: q.user,
            name: None,
        },
    );
    let v = exec::blocking(&state.core, key, move |core, _| {
        Ok(reads::list_groups(core, &f, &page)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(wire::List::from(v)))
}

#[utoipa::path(
    get,
    path = "/directory_groups/{id}",
    operation_id = "directory_groups_get",
    tag = "directory_groups",
    summary = "Get a directory group",
    params(("id" = String, Path, description = "a directory group id")),
    responses((status = 200, description = "the group", body = scimgate_core::wire::DirectoryGroup))
)]
pub async fn get(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let v = exec::blocking(&state.core, key, move |core, _| {
        Ok(reads::get_group(
            core,
            &DirectoryGroupId::parse_or_not_found(&id)?,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
