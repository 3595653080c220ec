//! `POST /portal/generate_link` (WIRE-COMPAT.md §1): a setup link for an
//! organization's IT admin, `{"link"}`, valid 5 minutes, single use. Only the `dsync`
//! intent exists in scimgate. The portal itself is `scimgate_admin_ui::portal`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::body::{Body, Fields};
use super::params::Invalid;
use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec;
use crate::state::AppState;
use scimgate_admin_ui::AdminUi;
use scimgate_core::audit::{Entry, Outcome};
use scimgate_core::ids::{OrganizationId, PrefixedId};
use scimgate_core::service::{admin_ui, audit};

/// `{"organization": "org_…", "intent": "dsync", "return_url"?, "success_url"?}`
/// (`it_contact_emails` is accepted and ignored: scimgate sends no email).
#[derive(Debug, Deserialize)]
#[serde(try_from = "Fields")]
pub struct GenerateLink {
    organization: String,
    return_url: Option<String>,
    success_url: Option<String>,
}

impl TryFrom<Fields> for GenerateLink {
    type Error = Invalid;
    fn try_from(f: Fields) -> Result<Self, Invalid> {
        let organization = f.required("organization")?;
        match f.required("intent")?.as_str() {
            "dsync" => {}
            other => {
                return Err(Invalid(format!(
                    "intent {other:?} is not supported: scimgate's portal sets up directory sync (`dsync`) only"
                )))
            }
        }
        Ok(GenerateLink {
            organization,
            return_url: f.text("return_url")?,
            success_url: f.text("success_url")?,
        })
    }
}

#[utoipa::path(
    post,
    path = "/portal/generate_link",
    operation_id = "portal_generate_link",
    tag = "portal",
    summary = "Generate a setup link for an organization",
    request_body = super::doc::GenerateLink,
    responses((status = 201, description = "the link", body = super::doc::PortalLink))
)]
pub async fn generate_link(
    state: web::Data<AppState>,
    ui: web::Data<AdminUi>,
    key: ApiKey,
    body: Body<GenerateLink>,
) -> Result<HttpResponse, ApiError> {
    let GenerateLink {
        organization,
        return_url,
        success_url,
    } = body.0;
    let row = exec::blocking(&state.core, key, move |core, caller| {
        let org = OrganizationId::parse_or_not_found(&organization)?;
        let row =
            admin_ui::create_setup_link(core, &org, return_url.as_deref(), success_url.as_deref())?;
        // the link's token is not in the record: only which organization it opens
        let entry = Entry::new(&caller.actor, "setup_link.created", Outcome::Success)
            .target("organization", org.to_string());
        audit::note(core, entry);
        Ok(row)
    })
    .await?;
    let link = scimgate_admin_ui::portal::link_for(&ui, &row).await?;
    Ok(HttpResponse::Created().json(json!({ "link": link })))
}
