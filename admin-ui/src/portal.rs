//! The setup portal for a customer's IT admin (`/portal`), reached through a setup
//! link (`POST /portal/generate_link` on the vendor API, or an operator's page).
//!
//! * A link is `/portal/start?token=…`: a JWT (kind `link`, signed like sessions)
//!   naming a `setup_links` row; it must be opened within 5 minutes and only once
//!   (the row is used up by the opening, in one statement). Opening it is a POST from
//!   the page the link shows, so a link previewer's GET does not use it up.
//! * Opening starts a setup session: cookie `sg_setup` (path `/portal`), 1 hour,
//!   renewed on use, scoped to the link's organization and, once an IdP is picked, to
//!   the directory made for it. No portal route takes an id from the request: every
//!   id comes from the session, so a session cannot name another organization.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::error::{blocking, html, render, UiError};
use crate::pages::{
    PortalDone, PortalPick, PortalSetup, PortalStart, PortalStatus, PortalStatusFragment,
    TypeOption,
};
use crate::session::{self, Claims, SETUP_COOKIE, SETUP_TTL};
use crate::AdminUi;
use scimgate_connectors::{setup::setup_steps, DirectoryType};
use scimgate_core::audit::{Actor, ActorKind, Entry, Outcome};
use scimgate_core::ids::{DirectoryId, OrganizationId, PrefixedId};
use scimgate_core::service::admin_ui as svc;
use scimgate_core::service::{admin, audit, auth_limits, vendor_reads};
use scimgate_core::store::admin_ui::SetupLinkRow;
use scimgate_core::{Core, CoreError};

const LINK_TTL: i64 = 5 * 60;

/// The IdPs as the portal offers them: the most common first, any SCIM 2.0 client last.
const PICK_ORDER: [DirectoryType; 9] = [
    DirectoryType::Okta,
    DirectoryType::Azure,
    DirectoryType::JumpCloud,
    DirectoryType::PingFederate,
    DirectoryType::OneLogin,
    DirectoryType::Rippling,
    DirectoryType::CyberArk,
    DirectoryType::SailPoint,
    DirectoryType::Generic,
];

/// The URL of a setup link.
pub async fn link_url(ui: &AdminUi, row: &SetupLinkRow) -> Result<String, UiError> {
    let mut c = Claims::new("link", row.organization_id.to_string(), LINK_TTL);
    c.exp = row.expires_at.and_utc().timestamp();
    c.link = Some(row.id.clone());
    let token = session::sign(ui, &c).await?;
    Ok(format!("{}/portal/start?token={token}", ui.public_url))
}

/// The URL of a setup link, for the vendor API's `POST /portal/generate_link`.
pub async fn link_for(ui: &AdminUi, row: &SetupLinkRow) -> Result<String, CoreError> {
    link_url(ui, row)
        .await
        .map_err(|e| CoreError::internal(e.to_string()))
}

pub fn configure(ui: std::sync::Arc<AdminUi>) -> impl FnOnce(&mut web::ServiceConfig) {
    let data = web::Data::from(ui);
    move |cfg: &mut web::ServiceConfig| {
        cfg.service(
            web::scope("/portal")
                .app_data(data)
                .wrap(actix_web::middleware::from_fn(crate::guard::origin_check))
                .wrap(crate::headers::security_headers())
                .route("/start", web::get().to(start_page))
                .route("/start", web::post().to(start))
                .route("", web::get().to(home))
                .route("/", web::get().to(home))
                .route("/idp", web::post().to(pick))
                .route("/status", web::get().to(status))
                .route("/rotate", web::post().to(rotate))
                .route("/finish", web::post().to(finish))
                .route("/done", web::get().to(done)),
        );
    }
}

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    token: String,
}

fn gone() -> UiError {
    UiError::NotFound(
        "This setup link is expired, was already used, or is not valid. Ask your vendor for a new one.".into(),
    )
}

/// `GET /portal/start?token=…`: a page with one button (does not use the link up).
pub async fn start_page(
    ui: web::Data<AdminUi>,
    q: web::Query<StartQuery>,
) -> Result<HttpResponse, UiError> {
    if session::verify(&ui, &q.token, "link").await?.is_none() {
        return Err(gone());
    }
    html(&PortalStart {
        token: q.into_inner().token,
    })
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    token: String,
}

/// The audit actor of a setup session: the link it was opened with names it.
fn setup_actor(ui: &AdminUi, req: &HttpRequest, claims: &Claims) -> Actor {
    ui.actor(req, ActorKind::SetupSession, claims.link.clone())
        .with_name(claims.sub.clone())
}

/// `POST /portal/start`: use the link up and start a setup session. A link that is
/// not valid (tampered, expired, used, revoked) counts a failed authentication of the
/// client address (`service::auth_limits`, shared with tokens and API keys): past the
/// limit the address gets 429 with `Retry-After`, and the lock-out is audited.
pub async fn start(
    ui: web::Data<AdminUi>,
    req: HttpRequest,
    form: web::Form<StartForm>,
) -> Result<HttpResponse, UiError> {
    let ip = (ui.client_ip)(&req)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let keys = [("client_address", ip)];
    if let Some(left) = auth_limits::locked_for(&ui.core, &keys).await {
        return Err(UiError::TooMany(left.as_secs().max(1)));
    }
    let opened = match session::verify(&ui, &form.token, "link").await? {
        Some(claims) => {
            let link = claims.link.clone();
            let org = OrganizationId::parse(&claims.sub).ok();
            let core = ui.core.clone();
            match (link, org) {
                (Some(link_id), Some(org)) => {
                    blocking(move || svc::open_setup_link(&core, &org, &link_id))
                        .await
                        .ok()
                        .map(|row| (row, claims))
                }
                _ => None,
            }
        }
        None => None,
    };
    let Some((row, link_claims)) = opened else {
        let anonymous = ui.actor(&req, ActorKind::Anonymous, None);
        auth_limits::failed(&ui.core, &keys, &anonymous).await;
        return Err(gone());
    };
    audit::note_in_background(
        &ui.core,
        Entry::new(
            &setup_actor(&ui, &req, &link_claims),
            "setup_session.started",
            Outcome::Success,
        )
        .target("organization", row.organization_id.to_string()),
    );
    let mut s = Claims::new("setup", row.organization_id.to_string(), SETUP_TTL);
    s.link = Some(row.id);
    let token = session::sign(&ui, &s).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/portal"))
        .append_header((
            header::SET_COOKIE,
            session::set_cookie(&ui, SETUP_COOKIE, &token, "/portal", SETUP_TTL),
        ))
        .finish())
}

/// A request's setup session: the claims, and the renewed cookie.
struct Setup {
    claims: Claims,
    org: OrganizationId,
    cookie: String,
}

async fn setup_of(ui: &AdminUi, req: &HttpRequest) -> Result<Setup, UiError> {
    let none = || {
        UiError::Forbidden(
            "No setup session: open the setup link your vendor sent you (links work once, for 5 minutes).".into(),
        )
    };
    let token = session::cookie(req, SETUP_COOKIE).ok_or_else(none)?;
    let claims = session::verify(ui, token, "setup")
        .await?
        .ok_or_else(none)?;
    let org = OrganizationId::parse(&claims.sub).map_err(|_| none())?;
    let renewed = claims.renewed(SETUP_TTL);
    let t = session::sign(ui, &renewed).await?;
    Ok(Setup {
        claims,
        org,
        cookie: session::set_cookie(ui, SETUP_COOKIE, &t, "/portal", SETUP_TTL),
    })
}

fn with_cookie(mut res: HttpResponse, cookie: &str) -> HttpResponse {
    if let Ok(v) = header::HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The session's directory, checked to belong to the session's organization.
fn session_dir(
    core: &Core,
    s_org: &OrganizationId,
    dir: Option<&str>,
) -> Result<Option<DirectoryId>, CoreError> {
    let Some(d) = dir else { return Ok(None) };
    let id = DirectoryId::parse_or_not_found(d)?;
    let row = admin::get_directory(core, &id)?;
    if &row.organization_id != s_org {
        return Err(id.not_found());
    }
    Ok(Some(id))
}

/// The session's directory, which must have been picked.
fn picked_dir(
    core: &Core,
    s_org: &OrganizationId,
    dir: Option<&str>,
) -> Result<DirectoryId, CoreError> {
    session_dir(core, s_org, dir)?
        .ok_or_else(|| CoreError::not_found("pick an identity provider first"))
}

fn status_of(
    core: &Core,
    org: &OrganizationId,
    dir: &DirectoryId,
) -> Result<PortalStatus, CoreError> {
    let d = vendor_reads::get_directory(core, dir)?;
    if &d.organization_id != org {
        return Err(dir.not_found());
    }
    let row = admin::get_directory(core, dir)?;
    let h = crate::health::of(core, &row)?;
    let m = d.metadata.as_ref();
    Ok(PortalStatus {
        connected: row.activated_at.is_some(),
        users: m.map(|m| m.users.active + m.users.inactive).unwrap_or(0),
        groups: m.map(|m| m.groups).unwrap_or(0),
        last_request: h.last_request,
        errors: h
            .rejections
            .into_iter()
            .take(5)
            .map(|r| format!("{}: {}", r.at, r.explained))
            .collect(),
    })
}

fn setup_page(
    core: &Core,
    s: &Setup,
    dir: &DirectoryId,
    token: Option<String>,
) -> Result<PortalSetup, CoreError> {
    let d = admin::get_directory(core, dir)?;
    Ok(PortalSetup {
        csrf: s.claims.csrf.clone(),
        idp: d.dir_type.display_name(),
        steps: setup_steps(d.dir_type)
            .iter()
            .map(|s| s.to_string())
            .collect(),
        scim_url: core.scim_base(dir),
        token,
        status: status_of(core, &s.org, dir)?,
    })
}

/// `GET /portal`: pick an IdP, or that IdP's steps and the live status.
pub async fn home(ui: web::Data<AdminUi>, req: HttpRequest) -> Result<HttpResponse, UiError> {
    let s = setup_of(&ui, &req).await?;
    let core = ui.core.clone();
    let (org, dir) = (s.org.clone(), s.claims.dir.clone());
    let dir = blocking(move || session_dir(&core, &org, dir.as_deref())).await?;
    let res = match dir {
        None => {
            let core = ui.core.clone();
            let org = s.org.clone();
            let org_name = blocking(move || admin::get_organization(&core, &org))
                .await?
                .name;
            html(&PortalPick {
                csrf: s.claims.csrf.clone(),
                org_name,
                types: PICK_ORDER
                    .iter()
                    .map(|t| TypeOption {
                        value: t.as_str(),
                        label: t.display_name(),
                    })
                    .collect(),
            })?
        }
        Some(dir) => {
            let core = ui.core.clone();
            let page = blocking(move || setup_page(&core, &s, &dir, None).map(|p| (p, s))).await?;
            return Ok(with_cookie(html(&page.0)?, &page.1.cookie));
        }
    };
    Ok(with_cookie(res, &s.cookie))
}

#[derive(Deserialize)]
pub struct PickForm {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "type")]
    dir_type: String,
}

/// `POST /portal/idp`: make the directory for the picked IdP; its token is shown once.
pub async fn pick(
    ui: web::Data<AdminUi>,
    req: HttpRequest,
    form: web::Form<PickForm>,
) -> Result<HttpResponse, UiError> {
    let s = setup_of(&ui, &req).await?;
    crate::guard::check_csrf(&s.claims.csrf, &form.csrf)?;
    if s.claims.dir.is_some() {
        return Err(UiError::BadRequest(
            "An identity provider is already set up in this session; rotate its token instead."
                .into(),
        ));
    }
    let dt = DirectoryType::parse(&form.dir_type).ok_or_else(|| {
        UiError::BadRequest(format!(
            "{:?} is not an identity provider we know",
            form.dir_type
        ))
    })?;
    let core = ui.core.clone();
    let org = s.org.clone();
    let entry = Entry::new(
        &setup_actor(&ui, &req, &s.claims),
        "directory.created",
        Outcome::Success,
    )
    .target_kind("directory")
    .details(serde_json::json!({ "organization_id": org.to_string(), "type": dt.as_str() }));
    let created = blocking(move || {
        audit::audited(
            &core,
            entry,
            || admin::create_directory(&core, &org, dt, None),
            |c| Some(c.directory.id.to_string()),
        )
    })
    .await?;
    let mut claims = s.claims.clone();
    claims.dir = Some(created.directory.id.to_string());
    let t = session::sign(&ui, &claims.renewed(SETUP_TTL)).await?;
    let s = Setup {
        claims,
        org: s.org,
        cookie: session::set_cookie(&ui, SETUP_COOKIE, &t, "/portal", SETUP_TTL),
    };
    let core = ui.core.clone();
    let dir = created.directory.id;
    let secret = created.bearer_token;
    let (page, s) =
        blocking(move || setup_page(&core, &s, &dir, Some(secret)).map(|p| (p, s))).await?;
    Ok(with_cookie(html(&page)?, &s.cookie))
}

/// `GET /portal/status` query: `seen`, the version (`ETag`) of the panel the page shows;
/// `wait`, how many seconds (at most [`MAX_WAIT`]) to hold the request until the panel
/// differs from it.
#[derive(Deserialize)]
pub struct StatusQuery {
    #[serde(default)]
    seen: Option<String>,
    #[serde(default)]
    wait: Option<u64>,
}

/// The longest a status request is held.
const MAX_WAIT: u64 = 25;
/// Renders of one held status request are at least this far apart: one read of the
/// directory's status per open page per second, however busy its sync.
const RENDER_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// `GET /portal/status`: the live status panel, with its version as `ETag`. With
/// `wait` and `seen`, a long poll: the answer comes as soon as the panel differs from
/// the one the page shows, woken by the directory's commits (`Notice::Events`), its
/// activation (`Notice::DirectoryChanged`) and its sync-health flushes
/// (`Notice::Health`, every 500 ms while its IdP sends requests), on any instance
/// through Redis; else after `wait` seconds.
pub async fn status(
    ui: web::Data<AdminUi>,
    req: HttpRequest,
    q: web::Query<StatusQuery>,
) -> Result<HttpResponse, UiError> {
    use scimgate_core::bus::Notice;
    use tokio::sync::broadcast::error::RecvError;

    let s = setup_of(&ui, &req).await?;
    let wait = std::time::Duration::from_secs(q.wait.unwrap_or(0).min(MAX_WAIT));
    let deadline = tokio::time::Instant::now() + wait;
    // subscribed before the first read: a change after it wakes the wait
    let mut rx = ui.core.bus().subscribe();
    loop {
        let rendered_at = tokio::time::Instant::now();
        let core = ui.core.clone();
        let (org, dir) = (s.org.clone(), s.claims.dir.clone());
        let (dir, st) = blocking(move || {
            let dir = picked_dir(&core, &org, dir.as_deref())?;
            let st = status_of(&core, &org, &dir)?;
            Ok((dir, st))
        })
        .await?;
        let body = render(&PortalStatusFragment { status: st })?;
        let version = format!("\"{}\"", &scimgate_core::secrets::hash(&body)[..16]);
        if q.seen.as_deref() != Some(version.as_str()) || rendered_at >= deadline {
            let res = HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::ETAG, version))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(body);
            return Ok(with_cookie(res, &s.cookie));
        }
        // unchanged: wait for a notice of this directory (or the deadline)
        let woken = async {
            loop {
                match rx.recv().await {
                    Ok(
                        Notice::Events { directory_id, .. }
                        | Notice::DirectoryChanged { directory_id }
                        | Notice::Health { directory_id },
                    ) if directory_id == dir => return,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => return,
                    // no bus: the deadline answers
                    Err(RecvError::Closed) => std::future::pending::<()>().await,
                }
            }
        };
        if tokio::time::timeout_at(deadline, woken).await.is_err() {
            continue; // the deadline: the last render is the answer
        }
        tokio::time::sleep_until((rendered_at + RENDER_EVERY).min(deadline)).await;
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /portal/rotate`: revoke the directory's tokens and show a new one once.
pub async fn rotate(
    ui: web::Data<AdminUi>,
    req: HttpRequest,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, UiError> {
    let s = setup_of(&ui, &req).await?;
    crate::guard::check_csrf(&s.claims.csrf, &form.csrf)?;
    let core = ui.core.clone();
    let (org, dir) = (s.org.clone(), s.claims.dir.clone());
    let actor = setup_actor(&ui, &req, &s.claims);
    let (page, s) = blocking(move || {
        let dir = picked_dir(&core, &org, dir.as_deref())?;
        let row = admin::get_directory(&core, &dir)?;
        let entry = Entry::new(&actor, "directory_token.rotated", Outcome::Success)
            .target("directory", dir.to_string());
        let secret = audit::audited(
            &core,
            entry,
            || {
                for t in admin::list_tokens(&core, &dir)? {
                    admin::revoke_token(&core, &row, &t.id)?;
                }
                admin::create_token(&core, &row, "setup portal").map(|(_, secret)| secret)
            },
            |_| None,
        )?;
        setup_page(&core, &s, &dir, Some(secret)).map(|p| (p, s))
    })
    .await?;
    Ok(with_cookie(html(&page)?, &s.cookie))
}

/// `POST /portal/finish`: end the session; back to the vendor's `success_url` (or
/// `return_url`). The page sends the browser on with a refresh and a link rather than
/// a redirect: the setup page's CSP allows forms to post to this site only
/// (`form-action 'self'`), which Chromium applies to a POST's redirect too.
pub async fn finish(
    ui: web::Data<AdminUi>,
    req: HttpRequest,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, UiError> {
    let s = setup_of(&ui, &req).await?;
    crate::guard::check_csrf(&s.claims.csrf, &form.csrf)?;
    let core = ui.core.clone();
    let link = s.claims.link.clone().unwrap_or_default();
    let org = s.org.clone();
    audit::note_in_background(
        &ui.core,
        Entry::new(
            &setup_actor(&ui, &req, &s.claims),
            "setup_session.finished",
            Outcome::Success,
        )
        .target("organization", org.to_string()),
    );
    let to = blocking(move || svc::setup_link_of(&core, &org, &link)).await?;
    let next = to.and_then(|l| l.success_url.or(l.return_url));
    Ok(with_cookie(
        html(&PortalDone { next })?,
        &session::set_cookie(&ui, SETUP_COOKIE, "", "/portal", 0),
    ))
}

pub async fn done() -> Result<HttpResponse, UiError> {
    html(&PortalDone { next: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portal_offers_every_directory_type_once() {
        for t in DirectoryType::all() {
            assert_eq!(PICK_ORDER.iter().filter(|p| *p == t).count(), 1, "{t}");
        }
        assert_eq!(PICK_ORDER.len(), DirectoryType::all().len());
    }
}
