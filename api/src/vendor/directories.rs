//! `/directories` (WIRE-COMPAT.md §1, §4): create (scimgate's onboarding), list, get,
//! delete.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::body::{Body, Fields};
use super::params::{Invalid, PageQuery, Query};
use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::audit::{Entry, Outcome};
use scimgate_core::ids::{DirectoryId, PrefixedId};
use scimgate_core::service::vendor_reads::{self as reads, DirectoryFilter};
use scimgate_core::service::{admin, audit};
use scimgate_core::wire;

/// `POST /directories`: `{"organization_id", "type", "name"?}`.
#[derive(Debug, Deserialize)]
#[serde(try_from = "Fields")]
pub struct NewDirectory {
    organization_id: String,
    dir_type: String,
    name: Option<String>,
}

impl TryFrom<Fields> for NewDirectory {
    type Error = Invalid;
    fn try_from(f: Fields) -> Result<Self, Invalid> {
        Ok(NewDirectory {
            organization_id: f.required("organization_id")?,
            dir_type: f.required("type")?,
            name: f.text("name")?,
        })
    }
}

#[utoipa::path(
    post,
    path = "/directories",
    operation_id = "directories_create",
    tag = "directories",
    summary = "Create a directory with its first SCIM token",
    request_body = super::doc::NewDirectory,
    responses((status = 201, description = "the directory, its SCIM base URL and its bearer token (shown once)", body = scimgate_core::wire::CreatedDirectory), (status = 409, description = "a conflict with an existing object", body = super::doc::Error))
)]
pub async fn create(
    state: web::Data<AppState>,
    key: ApiKey,
    body: Body<NewDirectory>,
) -> Result<HttpResponse, ApiError> {
    let NewDirectory {
        organization_id,
        dir_type,
        name,
    } = body.0;
    let created = exec::blocking(&state.core, key, move |core, caller| {
        let entry = Entry::new(&caller.actor, "directory.created", Outcome::Success)
            .target_kind("directory")
            .details(json!({"organization_id": organization_id, "type": dir_type}));
        Ok(audit::audited(
            core,
            entry,
            || {
                let (org, dt) = admin::directory_request(&organization_id, &dir_type)?;
                admin::create_directory(core, &org, dt, name.as_deref())
            },
            |c| Some(c.directory.id.to_string()),
        )?)
    })
    .await?;
    Ok(HttpResponse::Created().json(wire::CreatedDirectory::from(&created)))
}

/// `GET /directories?organization_id&search&domain` and the page.
#[derive(Debug, Deserialize)]
pub struct ListDirectories {
    #[serde(flatten)]
    page: PageQuery,
    organization_id: Option<String>,
    search: Option<String>,
    domain: Option<String>,
}

#[utoipa::path(
    get,
    path = "/directories",
    operation_id = "directories_list",
    tag = "directories",
    summary = "List directories",
    params(super::doc::PageParams, super::doc::DirectoryFilter),
    responses((status = 200, description = "a page of directories", body = scimgate_core::wire::List<scimgate_core::wire::Directory>))
)]
pub async fn list(
    state: web::Data<AppState>,
    q: Query<ListDirectories>,
    key: ApiKey,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let (page, f) = (
        q.page.0,
        DirectoryFilter {
            organization_id: q.organization_id,
            search: q.search,
            domain: q.domain,
        },
    );
    let v = exec::blocking(&state.core, key, move |core, _| {
        Ok(reads::list_directories(core, &f, &page)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(wire::List::from(v)))
}

#[utoipa::path(
    get,
    path = "/directories/{id}",
    operation_id = "directories_get",
    tag = "directories",
    summary = "Get a directory",
    params(("id" = String, Path, description = "a directory id")),
    responses((status = 200, description = "the directory with its user and group counts", body = scimgate_core::wire::Directory))
)]
pub async fn get(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let v = exec::blocking(&state.core, key, move |core, _| {
        Ok(reads::get_directory(
            core,
            &DirectoryId::parse_or_not_found(&id)?,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `DELETE /directories/{id}`: 202; `dsync.deleted` is the directory's last event.
#[utoipa::path(
    delete,
    path = "/directories/{id}",
    operation_id = "directories_delete",
    tag = "directories",
    summary = "Delete a directory",
    params(("id" = String, Path, description = "a directory id")),
    responses((status = 202, description = "deletion accepted"))
)]
pub async fn delete(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    exec::blocking(&state.core, key, move |core, caller| {
        let entry = Entry::new(&caller.actor, "directory.deleted", Outcome::Success)
            .target("directory", id.clone());
        Ok(audit::audited(
            core,
            entry,
            || admin::delete_directory(core, &DirectoryId::parse_or_not_found(&id)?),
            |_| None,
        )?)
    })
    .await?;
    Ok(HttpResponse::Accepted().finish())
}
