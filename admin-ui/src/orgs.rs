//! Organizations: list and search, create, a organization's page (domains,
//! directories, setup links).

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::{blocking, html, UiError};
use crate::login::CsrfForm;
use crate::pages::{DirItem, LinkItem, Nav, OrgItem, OrgPage, OrgsPage, TypeOption};
use crate::session::Operator;
use crate::util::{see_other, split_list, when};
use crate::AdminUi;
use scimgate_connectors::DirectoryType;
use scimgate_core::audit::{Entry, Outcome};
use scimgate_core::ids::{OrganizationId, PrefixedId};
use scimgate_core::model::OrganizationRow;
use scimgate_core::service::admin_ui as svc;
use scimgate_core::service::vendor_reads::{self, DirectoryFilter, Page};
use scimgate_core::service::{admin, audit};
use scimgate_core::{clock, Core};

const PAGE: i64 = 50;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/organizations", web::post().to(create))
        .route("/organizations/{id}", web::get().to(show))
        .route("/organizations/{id}/domains", web::post().to(domains))
        .route("/organizations/{id}/setup_links", web::post().to(new_link))
        .route(
            "/organizations/{id}/setup_links/{link}/revoke",
            web::post().to(revoke_link),
        );
}

fn item(o: &OrganizationRow) -> OrgItem {
    OrgItem {
        id: o.id.to_string(),
        name: o.name.clone(),
        domains: o.domain_list().join(", "),
        created_at: when(o.created_at),
    }
}

#[derive(Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    q: String,
    after: Option<String>,
}

/// `GET /admin`: the organizations, searchable by name, 50 a page.
pub async fn home(
    ui: web::Data<AdminUi>,
    op: Operator,
    q: web::Query<HomeQuery>,
) -> Result<HttpResponse, UiError> {
    let q = q.into_inner();
    let after = match q.after.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => Some(OrganizationId::parse_or_not_found(a)?),
        None => None,
    };
    let core = ui.core.clone();
    let text = q.q.clone();
    let rows =
        blocking(move || svc::search_organizations(&core, &text, after.as_ref(), PAGE)).await?;
    let next = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|o| o.id.to_string()))
        .flatten();
    html(&OrgsPage {
        nav: Nav::of(&op),
        q: q.q,
        orgs: rows.iter().map(item).collect(),
        next,
    })
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    domains: String,
}

pub async fn create(
    ui: web::Data<AdminUi>,
    op: Operator,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let core = ui.core.clone();
    let domains = split_list(&f.domains);
    let entry = Entry::new(&op.actor, "organization.created", Outcome::Success)
        .target_kind("organization")
        .details(serde_json::json!({ "name": f.name, "domains": domains }));
    let org = blocking(move || {
        audit::audited(
            &core,
            entry,
            || admin::create_organization(&core, &f.name, &domains),
            |o| Some(o.id.to_string()),
        )
    })
    .await?;
    Ok(see_other(&format!("/admin/organizations/{}", org.id)))
}

fn link_status(l: &scimgate_core::store::admin_ui::SetupLinkRow) -> (&'static str, bool) {
    if l.revoked_at.is_some() {
        ("revoked", false)
    } else if l.used_at.is_some() {
        ("opened", false)
    } else if l.expires_at <= clock::now() {
        ("expired", false)
    } else {
        ("waiting to be opened", true)
    }
}

/// Everything an organization's page shows.
fn org_page(
    core: &Core,
    op: &Operator,
    id: &OrganizationId,
    new_link: Option<String>,
) -> Result<OrgPage, scimgate_core::CoreError> {
    let org = admin::get_organization(core, id)?;
    let dirs = vendor_reads::list_directories(
        core,
        &DirectoryFilter {
            organization_id: Some(id.to_string()),
            search: None,
            domain: None,
        },
        &Page::new(None, None, Some(100), Some("asc"))?,
    )?;
    let links = svc::setup_links_of(core, id)?;
    Ok(OrgPage {
        nav: Nav::of(op),
        domains_text: org.domain_list().join(", "),
        org: item(&org),
        directories: dirs
            .data
            .iter()
            .map(|d| {
                let m = d.metadata.as_ref();
                DirItem {
                    id: d.id.to_string(),
                    name: d.name.clone(),
                    kind: d.dir_type.display_name(),
                    state: d.state.to_string(),
                    users: m.map(|m| m.users.active + m.users.inactive).unwrap_or(0),
                    groups: m.map(|m| m.groups).unwrap_or(0),
                }
            })
            .collect(),
        types: DirectoryType::all()
            .iter()
            .map(|t| TypeOption {
                value: t.as_str(),
                label: t.display_name(),
            })
            .collect(),
        links: links
            .iter()
            .map(|l| {
                let (status, open) = link_status(l);
                LinkItem {
                    id: l.id.clone(),
                    created_at: when(l.created_at),
                    status,
                    open,
                }
            })
            .collect(),
        new_link,
    })
}

async fn render_org(
    ui: &AdminUi,
    op: Operator,
    id: OrganizationId,
    new_link: Option<String>,
) -> Result<HttpResponse, UiError> {
    let core = ui.core.clone();
    let page = blocking(move || org_page(&core, &op, &id, new_link)).await?;
    html(&page)
}

pub async fn show(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let id = OrganizationId::parse_or_not_found(&path)?;
    render_org(&ui, op, id, None).await
}

#[derive(Deserialize)]
pub struct DomainsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    domains: String,
}

pub async fn domains(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    form: web::Form<DomainsForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let id = OrganizationId::parse_or_not_found(&path)?;
    let core = ui.core.clone();
    let (id2, ds) = (id.clone(), split_list(&form.domains));
    let entry = Entry::new(&op.actor, "organization.updated", Outcome::Success)
        .target("organization", id.to_string())
        .details(serde_json::json!({ "domains": ds }));
    blocking(move || {
        audit::audited(
            &core,
            entry,
            || svc::set_organization_domains(&core, &id2, &ds),
            |_| None,
        )
    })
    .await?;
    Ok(see_other(&format!("/admin/organizations/{id}")))
}

/// Generate a setup link: the page shows it once.
pub async fn new_link(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let id = OrganizationId::parse_or_not_found(&path)?;
    let core = ui.core.clone();
    let id2 = id.clone();
    let entry = Entry::new(&op.actor, "setup_link.created", Outcome::Success)
        .target_kind("setup_link")
        .details(serde_json::json!({ "organization_id": id.to_string() }));
    let row = blocking(move || {
        audit::audited(
            &core,
            entry,
            || svc::create_setup_link(&core, &id2, None, None),
            |l| Some(l.id.clone()),
        )
    })
    .await?;
    let link = crate::portal::link_url(&ui, &row).await?;
    render_org(&ui, op, id, Some(link)).await
}

pub async fn revoke_link(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let (org, link) = path.into_inner();
    let id = OrganizationId::parse_or_not_found(&org)?;
    let core = ui.core.clone();
    let id2 = id.clone();
    let entry = Entry::new(&op.actor, "setup_link.revoked", Outcome::Success)
        .target("setup_link", link.clone())
        .details(serde_json::json!({ "organization_id": id.to_string() }));
    blocking(move || {
        audit::audited(
            &core,
            entry,
            || svc::revoke_setup_link(&core, &id2, &link),
            |_| None,
        )
    })
    .await?;
    Ok(see_other(&format!("/admin/organizations/{id}")))
}
