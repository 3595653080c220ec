//! `/organizations`: scimgate's onboarding of a vendor's customers, in WorkOS style.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::{Body, Fields};
use super::params::{Invalid, PageQuery, Query};
use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::audit::{Entry, Outcome};
use scimgate_core::ids::{OrganizationId, PrefixedId};
use scimgate_core::service::{admin, audit, vendor_reads as reads};
use scimgate_core::wire;

/// `POST /organizations`: `{"name", "domains": ["acme.test" | {"domain"}, …],
/// "domain_data": [{"domain"}, …]}`.
#[derive(Debug, Deserialize)]
#[serde(try_from = "Fields")]
pub struct NewOrganization {
    name: String,
    domains: Vec<String>,
}

impl TryFrom<Fields> for NewOrganization {
    type Error = Invalid;
    fn try_from(f: Fields) -> Result<Self, Invalid> {
        let name = f.required("name")?;
        let mut domains = Vec::new();
        match f.get("domains") {
            None => {}
            Some(Value::Array(a)) => {
                for d in a {
                    match d {
                        Value::String(s) => domains.push(s.clone()),
                        // WorkOS also accepts domain_data objects {domain, state}
                        Value::Object(o) => match o.get("domain").and_then(Value::as_str) {
                            Some(s) => domains.push(s.to_string()),
                            None => return Err(Invalid("each domain needs a `domain`".into())),
                        },
                        _ => return Err(Invalid("`domains` must be an array of strings".into())),
                    }
                }
            }
            Some(_) => return Err(Invalid("`domains` must be an array".into())),
        }
        if let Some(Value::Array(a)) = f.get("domain_data") {
            for d in a {
                if let Some(s) = d.get("domain").and_then(Value::as_str) {
                    domains.push(s.to_string());
                }
            }
        }
        Ok(NewOrganization { name, domains })
    }
}

#[utoipa::path(
    post,
    path = "/organizations",
    operation_id = "organizations_create",
    tag = "organizations",
    summary = "Create an organization",
    request_body = super::doc::NewOrganization,
    responses((status = 201, description = "the organization", body = scimgate_core::wire::Organization), (status = 409, description = "a conflict with an existing object", body = super::doc::Error))
)]
pub async fn create(
    state: web::Data<AppState>,
    key: ApiKey,
    body: Body<NewOrganization>,
) -> Result<HttpResponse, ApiError> {
    let NewOrganization { name, domains } = body.0;
    let org = exec::blocking(&state.core, key, move |core, caller| {
        let entry = Entry::new(&caller.actor, "organization.created", Outcome::Success)
            .target_kind("organization")
            .details(json!({"name": name, "domains": domains}));
        Ok(audit::audited(
            core,
            entry,
            || admin::create_organization(core, &name, &domains),
            |o| Some(o.id.to_string()),
        )?)
    })
    .await?;
    Ok(HttpResponse::Created().json(wire::Organization::from(&org)))
}

#[derive(Debug, Deserialize)]
pub struct ListOrganizations {
    #[serde(flatten)]
    page: PageQuery,
}

#[utoipa::path(
    get,
    path = "/organizations",
    operation_id = "organizations_list",
    tag = "organizations",
    summary = "List organizations",
    params(super::doc::PageParams),
    responses((status = 200, description = "a page of organizations", body = scimgate_core::wire::List<scimgate_core::wire::Organization>))
)]
pub async fn list(
    state: web::Data<AppState>,
    q: Query<ListOrganizations>,
    key: ApiKey,
) -> Result<HttpResponse, ApiError> {
    let page = q.0.page.0;
    let v = exec::blocking(&state.core, key, move |core, _| {
        Ok(reads::list_organizations(core, &page)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(wire::List::from(v)))
}

#[utoipa::path(
    get,
    path = "/organizations/{id}",
    operation_id = "organizations_get",
    tag = "organizations",
    summary = "Get an organization",
    params(("id" = String, Path, description = "an organization id")),
    responses((status = 200, description = "the organization", body = scimgate_core::wire::Organization))
)]
pub async fn get(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let org = exec::blocking(&state.core, key, move |core, _| {
        Ok(admin::get_organization(
            core,
            &OrganizationId::parse_or_not_found(&id)?,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(wire::Organization::from(&org)))
}
