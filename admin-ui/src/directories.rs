//! Directories: create (pick the type), a directory's page (state, counts, SCIM URL,
//! tokens: create — shown once — list, revoke), delete with a typed confirmation.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::{blocking, html, UiError};
use crate::login::{CsrfForm, DeleteForm};
use crate::pages::{DirItem, DirectoryPage, Nav, TokenItem};
use crate::session::Operator;
use crate::util::{see_other, when};
use crate::AdminUi;
use scimgate_connectors::DirectoryType;
use scimgate_core::audit::{Entry, Outcome};
use scimgate_core::ids::{DirectoryId, OrganizationId, PrefixedId, TokenId};
use scimgate_core::service::{admin, audit, vendor_reads};
use scimgate_core::{Core, CoreError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/organizations/{id}/directories", web::post().to(create))
        .route("/directories/{id}", web::get().to(show))
        .route("/directories/{id}/tokens", web::post().to(new_token))
        .route(
            "/directories/{id}/tokens/{token}/revoke",
            web::post().to(revoke_token),
        )
        .route("/directories/{id}/delete", web::post().to(delete));
}

/// Everything a directory's page shows.
fn dir_page(
    core: &Core,
    op: &Operator,
    id: &DirectoryId,
    new_token: Option<String>,
) -> Result<DirectoryPage, CoreError> {
    let d = vendor_reads::get_directory(core, id)?;
    let org = admin::get_organization(core, &d.organization_id)?;
    let tokens = admin::list_tokens(core, id)?;
    let health = crate::health::of(core, &admin::get_directory(core, id)?)?;
    let m = d.metadata.as_ref();
    Ok(DirectoryPage {
        nav: Nav::of(op),
        dir: DirItem {
            id: d.id.to_string(),
            name: d.name.clone(),
            kind: d.dir_type.display_name(),
            state: d.state.to_string(),
            users: m.map(|m| m.users.active + m.users.inactive).unwrap_or(0),
            groups: m.map(|m| m.groups).unwrap_or(0),
        },
        org_id: org.id.to_string(),
        org_name: org.name,
        scim_url: core.scim_base(id),
        tokens: tokens
            .iter()
            .map(|t| TokenItem {
                id: t.id.to_string(),
                name: t.name.clone(),
                suffix: t.suffix.clone(),
                created_at: when(t.created_at),
                last_used: t.last_used_at.map(when).unwrap_or_else(|| "never".into()),
            })
            .collect(),
        new_token,
        health,
    })
}

async fn render_dir(
    ui: &AdminUi,
    op: Operator,
    id: DirectoryId,
    new_token: Option<String>,
) -> Result<HttpResponse, UiError> {
    let core = ui.core.clone();
    let page = blocking(move || dir_page(&core, &op, &id, new_token)).await?;
    html(&page)
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "type")]
    dir_type: String,
    #[serde(default)]
    name: String,
}

/// Create a directory: its page shows the first token once.
pub async fn create(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let org = OrganizationId::parse_or_not_found(&path)?;
    let dt = DirectoryType::parse(&form.dir_type).ok_or_else(|| {
        UiError::BadRequest(format!("{:?} is not a directory type", form.dir_type))
    })?;
    let name = Some(form.name.trim().to_string()).filter(|n| !n.is_empty());
    let core = ui.core.clone();
    let entry = Entry::new(&op.actor, "directory.created", Outcome::Success)
        .target_kind("directory")
        .details(serde_json::json!({ "organization_id": org.to_string(), "type": dt.as_str() }));
    let created = blocking(move || {
        audit::audited(
            &core,
            entry,
            || admin::create_directory(&core, &org, dt, name.as_deref()),
            |c| Some(c.directory.id.to_string()),
        )
    })
    .await?;
    render_dir(&ui, op, created.directory.id, Some(created.bearer_token)).await
}

pub async fn show(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let id = DirectoryId::parse_or_not_found(&path)?;
    render_dir(&ui, op, id, None).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

pub async fn new_token(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let id = DirectoryId::parse_or_not_found(&path)?;
    let core = ui.core.clone();
    let (id2, name) = (id.clone(), form.into_inner().name);
    let entry = Entry::new(&op.actor, "directory_token.created", Outcome::Success)
        .target_kind("directory_token")
        .details(serde_json::json!({ "directory_id": id.to_string() }));
    let secret = blocking(move || {
        let dir = admin::get_directory(&core, &id2)?;
        audit::audited(
            &core,
            entry,
            || admin::create_token(&core, &dir, &name),
            |(row, _)| Some(row.id.to_string()),
        )
        .map(|(_, s)| s)
    })
    .await?;
    render_dir(&ui, op, id, Some(secret)).await
}

pub async fn revoke_token(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let (d, t) = path.into_inner();
    let id = DirectoryId::parse_or_not_found(&d)?;
    let token = TokenId::parse_or_not_found(&t)?;
    let core = ui.core.clone();
    let id2 = id.clone();
    let entry = Entry::new(&op.actor, "directory_token.revoked", Outcome::Success)
        .target("directory_token", token.to_string())
        .details(serde_json::json!({ "directory_id": id.to_string() }));
    blocking(move || {
        let dir = admin::get_directory(&core, &id2)?;
        audit::audited(
            &core,
            entry,
            || admin::revoke_token(&core, &dir, &token),
            |_| None,
        )
    })
    .await?;
    Ok(see_other(&format!("/admin/directories/{id}")))
}

/// Delete a directory, if the form repeats its name.
pub async fn delete(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let id = DirectoryId::parse_or_not_found(&path)?;
    let core = ui.core.clone();
    let confirm = form.into_inner().confirm;
    let entry = Entry::new(&op.actor, "directory.deleted", Outcome::Success)
        .target("directory", id.to_string());
    let org = blocking(move || {
        let dir = admin::get_directory(&core, &id)?;
        let entry = entry.details(serde_json::json!({
            "organization_id": dir.organization_id.to_string(),
            "name": dir.name,
        }));
        // a mistyped confirmation is recorded too, as a failure
        let delete = || {
            if confirm.trim() != dir.name {
                return Err(CoreError::invalid_value(
                    "type the directory's exact name to delete it",
                ));
            }
            admin::delete_directory(&core, &id)
        };
        audit::audited(&core, entry, delete, |_| None).map(|d| d.organization_id)
    })
    .await?;
    Ok(see_other(&format!("/admin/organizations/{org}")))
}
