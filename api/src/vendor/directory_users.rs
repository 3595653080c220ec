//! `/directory_users` (WIRE-COMPAT.md §1, §5): list and get. The objects are core's
//! (`directory_user` with its `groups`), passed through as built.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::params::{PageQuery, Query};
use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::ids::{DirectoryUserId, PrefixedId};
use scimgate_core::service::vendor_reads::{self as reads, UserFilter};
use scimgate_core::wire;

/// `GET /directory_users?directory&group&idp_id&email` and the page.
#[derive(Debug, Deserialize)]
pub struct ListUsers {
    #[serde(flatten)]
    page: PageQuery,
    directory: Option<String>,
    group: Option<String>,
    idp_id: Option<String>,
    email: Option<String>,
}

#[utoipa::path(
    get,
    path = "/directory_users",
    operation_id = "directory_users_list",
    tag = "directory_users",
    summary = "List directory users",
    params(super::doc::PageParams, super::doc::UserFilter),
    responses((status = 200, description = "a page of users", body = scimgate_core::wire::List<scimgate_core::wire::DirectoryUser>))
)]
pub async fn list(
    state: web::Data<AppState>,
    q: Query<ListUsers>,
    key: ApiKey,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let (page, f) = (
        q.page.0,
        UserFilter {
            directory: q.directory,
            group: q.group,
            idp_id: q.idp_id,
            email: q.email,
            name: None,
            active: None,
        },
    );
    let v = exec::blocking(&state.core, key, move |core, _| {
        Ok(reads::list_users(core, &f, &page)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(wire::List::from(v)))
}

#[utoipa::path(
    get,
    path = "/directory_users/{id}",
    operation_id = "directory_users_get",
    tag = "directory_users",
    summary = "Get a directory user",
    params(("id" = String, Path, description = "a directory user id")),
    responses((status = 200, description = "the user with its groups", body = scimgate_core::wire::DirectoryUser))
)]
pub async fn get(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let v = exec::blocking(&state.core, key, move |core, _| {
        Ok(reads::get_user(
            core,
            &DirectoryUserId::parse_or_not_found(&id)?,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
