//! A directory's custom-attribute mappings (`/directories/{id}/attribute_mappings`)
//! and an organization's group → role mappings (`/organizations/{id}/role_mappings`,
//! `/directory_users/{id}/roles/explain`): scimgate's additions, in WorkOS style.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::body::{Body, Fields};
use super::params::Invalid;
use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec;
use crate::state::AppState;
use scimgate_connectors::AttributeMapping;
use scimgate_core::audit::{Entry, Outcome};
use scimgate_core::ids::{DirectoryId, DirectoryUserId, OrganizationId, PrefixedId, RoleMappingId};
use scimgate_core::service::{admin, audit, roles};
use scimgate_core::wire;

#[utoipa::path(
    get,
    path = "/directories/{id}/attribute_mappings",
    operation_id = "mappings_get_attributes",
    tag = "mappings",
    summary = "A directory's custom-attribute mappings",
    params(("id" = String, Path, description = "a directory id")),
    responses((status = 200, description = "the mappings in force", body = scimgate_core::wire::AttributeMappings))
)]
pub async fn get_attributes(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (m, defaults) = exec::blocking(&state.core, key, move |core, _| {
        Ok(admin::attribute_mappings(
            core,
            &DirectoryId::parse_or_not_found(&id)?,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(wire::AttributeMappings::new(m, defaults)))
}

/// `PUT /directories/{id}/attribute_mappings`: `{"mappings": [{"path":
/// "urn:…:enterprise:2.0:User:department", "key": "department"}, …]}`;
/// `{"mappings": null}` restores the directory type's defaults.
#[derive(Debug, Deserialize)]
#[serde(try_from = "Fields")]
pub struct SetAttributes {
    /// `None`: the type's defaults.
    mappings: Option<Vec<AttributeMapping>>,
}

impl TryFrom<Fields> for SetAttributes {
    type Error = Invalid;
    fn try_from(f: Fields) -> Result<Self, Invalid> {
        if !f.has("mappings") {
            return Err(Invalid(
                "`mappings` is required (an array, or null for the defaults)".into(),
            ));
        }
        let mappings = f
            .get("mappings")
            .map(|v| {
                serde_json::from_value(v.clone()).map_err(|e| {
                    Invalid(format!("`mappings` must be an array of {{path, key}}: {e}"))
                })
            })
            .transpose()?;
        Ok(SetAttributes { mappings })
    }
}

#[utoipa::path(
    put,
    path = "/directories/{id}/attribute_mappings",
    operation_id = "mappings_set_attributes",
    tag = "mappings",
    summary = "Set a directory's custom-attribute mappings",
    params(("id" = String, Path, description = "a directory id")),
    request_body = super::doc::SetAttributes,
    responses((status = 200, description = "the mappings in force", body = scimgate_core::wire::AttributeMappings))
)]
pub async fn set_attributes(
    state: web::Data<AppState>,
    key: ApiKey,
    body: Body<SetAttributes>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (id, mappings) = (path.into_inner(), body.0.mappings);
    let defaults = mappings.is_none();
    let m = exec::blocking(&state.core, key, move |core, caller| {
        let entry = Entry::new(
            &caller.actor,
            "attribute_mappings.updated",
            Outcome::Success,
        )
        .target("directory", id.clone())
        .details(json!({ "mappings": mappings }));
        Ok(audit::audited(
            core,
            entry,
            || {
                admin::set_attribute_mappings(
                    core,
                    &DirectoryId::parse_or_not_found(&id)?,
                    mappings,
                )
            },
            |_| None,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(wire::AttributeMappings::new(m, defaults)))
}

/// `POST /organizations/{id}/role_mappings`: `{"group_id", "role_slug", "priority"?}`
/// (an `i32`, default 0; the highest priority's role is a user's `role`).
#[derive(Debug, Deserialize)]
#[serde(try_from = "Fields")]
pub struct NewRoleMapping {
    group_id: String,
    role_slug: String,
    priority: i32,
}

impl TryFrom<Fields> for NewRoleMapping {
    type Error = Invalid;
    fn try_from(f: Fields) -> Result<Self, Invalid> {
        Ok(NewRoleMapping {
            group_id: f.required("group_id")?,
            role_slug: f.required("role_slug")?,
            priority: match f.get("priority") {
                None => 0,
                Some(v) => v
                    .as_i64()
                    .and_then(|p| i32::try_from(p).ok())
                    .ok_or_else(|| Invalid("`priority` must be an integer".into()))?,
            },
        })
    }
}

#[utoipa::path(
    post,
    path = "/organizations/{id}/role_mappings",
    operation_id = "mappings_create_role",
    tag = "mappings",
    summary = "Map a group to a role",
    params(("id" = String, Path, description = "an organization id")),
    request_body = super::doc::NewRoleMapping,
    responses((status = 201, description = "the role mapping", body = scimgate_core::wire::RoleMapping), (status = 409, description = "a conflict with an existing object", body = super::doc::Error))
)]
pub async fn create_role(
    state: web::Data<AppState>,
    key: ApiKey,
    body: Body<NewRoleMapping>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (org, m) = (path.into_inner(), body.0);
    let row = exec::blocking(&state.core, key, move |core, caller| {
        let entry = Entry::new(&caller.actor, "role_mapping.created", Outcome::Success)
            .target_kind("role_mapping")
            .details(json!({"organization_id": org, "group_id": m.group_id,
                "role_slug": m.role_slug, "priority": m.priority}));
        Ok(audit::audited(
            core,
            entry,
            || {
                let org =
                    admin::get_organization(core, &OrganizationId::parse_or_not_found(&org)?)?;
                roles::create_mapping(core, &org.id, &m.group_id, &m.role_slug, m.priority)
            },
            |r| Some(r.id.to_string()),
        )?)
    })
    .await?;
    Ok(HttpResponse::Created().json(wire::RoleMapping::from(&row)))
}

#[utoipa::path(
    get,
    path = "/organizations/{id}/role_mappings",
    operation_id = "mappings_list_roles",
    tag = "mappings",
    summary = "An organization's role mappings",
    params(("id" = String, Path, description = "an organization id")),
    responses((status = 200, description = "every role mapping of the organization", body = scimgate_core::wire::List<scimgate_core::wire::RoleMapping>))
)]
pub async fn list_roles(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = path.into_inner();
    let rows = exec::blocking(&state.core, key, move |core, _| {
        let org = admin::get_organization(core, &OrganizationId::parse_or_not_found(&org)?)?;
        Ok(roles::list_mappings(core, &org.id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(wire::List::whole(
        rows.iter().map(wire::RoleMapping::from).collect(),
    )))
}

#[utoipa::path(
    delete,
    path = "/organizations/{id}/role_mappings/{mapping_id}",
    operation_id = "mappings_delete_role",
    tag = "mappings",
    summary = "Delete a role mapping",
    params(("id" = String, Path, description = "an organization id"), ("mapping_id" = String, Path, description = "a role mapping id")),
    responses((status = 204, description = "deleted"))
)]
pub async fn delete_role(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, id) = path.into_inner();
    exec::blocking(&state.core, key, move |core, caller| {
        let entry = Entry::new(&caller.actor, "role_mapping.deleted", Outcome::Success)
            .target("role_mapping", id.clone())
            .details(json!({ "organization_id": org }));
        Ok(audit::audited(
            core,
            entry,
            || {
                // no mapping of that organization has that id: the organization or
                // the mapping named is unknown, or no id of its kind
                let id = RoleMappingId::parse_or_not_found(&id)?;
                let org = OrganizationId::parse(&org).map_err(|_| id.not_found())?;
                roles::delete_mapping(core, &org, &id)
            },
            |_| None,
        )?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /directory_users/{id}/roles/explain`: which group, through which mapping, gave
/// a user each role (core's `role_explanation`, passed through).
#[utoipa::path(
    get,
    path = "/directory_users/{id}/roles/explain",
    operation_id = "mappings_explain_roles",
    tag = "mappings",
    summary = "Why a user has its roles",
    params(("id" = String, Path, description = "a directory user id")),
    responses((status = 200, description = "the roles and the groups and mappings that grant them", body = scimgate_core::wire::RoleExplanation))
)]
pub async fn explain_roles(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let v = exec::blocking(&state.core, key, move |core, _| {
        Ok(roles::explain(
            core,
            &DirectoryUserId::parse_or_not_found(&id)?,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
