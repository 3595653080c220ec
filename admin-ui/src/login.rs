//! Login and logout of operators (email and password, argon2id).
//!
//! Failed logins are throttled per account and per client address
//! (`core::ratelimit::Limiter`, shared by every instance with Redis): past
//! [`ACCOUNT_RULE`] or [`ADDRESS_RULE`] failures the account or the address is locked
//! out for [`LOCKOUT`]; a locked-out login answers 429 with `Retry-After` (even with the
//! right password) and counts `scimgate_admin_login_throttled_total`.
//!
//! Audited: every login (`admin.login`, success or denied, with the email tried), each
//! lock-out it starts (`auth.locked_out`, the account or the address) and each logout
//! (`admin.logout`).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::error::{blocking, UiError};
use crate::pages::LoginPage;
use crate::session::{self, Claims, Operator, ADMIN_COOKIE, ADMIN_TTL};
use crate::AdminUi;
use scimgate_core::audit::{ActorKind, Entry, Outcome};
use scimgate_core::ratelimit::Rule;
use scimgate_core::service::admin_ui as svc;
use scimgate_core::service::audit;

/// Failed logins of one account before a lock-out.
pub const ACCOUNT_RULE: Rule = Rule::new(5, Duration::from_secs(15 * 60));
/// Failed logins from one client address before a lock-out.
pub const ADDRESS_RULE: Rule = Rule::new(20, Duration::from_secs(15 * 60));
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);
pub const THROTTLED: &str = "scimgate_admin_login_throttled_total";

const LOGIN_COOKIE: &str = "sg_login";

fn login_page(csrf: String, error: Option<String>, email: String) -> LoginPage {
    LoginPage { csrf, error, email }
}

fn render(status: actix_web::http::StatusCode, page: &LoginPage) -> Result<HttpResponse, UiError> {
    let mut res = crate::error::html(page)?;
    *res.status_mut() = status;
    Ok(res)
}

/// `GET /admin/login`: the form, with a fresh CSRF token in a cookie of its own.
pub async fn form(ui: web::Data<AdminUi>) -> Result<HttpResponse, UiError> {
    let csrf = session::random_token();
    let mut res = crate::error::html(&login_page(csrf.clone(), None, String::new()))?;
    let c = session::set_cookie(&ui, LOGIN_COOKIE, &csrf, "/admin/login", 3600);
    if let Ok(v) = header::HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

fn throttled(secs: u64, csrf: String, email: String) -> Result<HttpResponse, UiError> {
    metrics::counter!(THROTTLED).increment(1);
    let minutes = secs.div_ceil(60).max(1);
    let page = login_page(
        csrf,
        Some(format!(
            "Too many failed logins. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        )),
        email,
    );
    let mut res = render(actix_web::http::StatusCode::TOO_MANY_REQUESTS, &page)?;
    if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Ok(res)
}

fn ip_of(ui: &AdminUi, req: &HttpRequest) -> String {
    (ui.client_ip)(req)
        .map(|ip| ip.to_string())
        .unwrap_or_default()
}

/// `POST /admin/login`.
pub async fn submit(
    ui: web::Data<AdminUi>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, UiError> {
    let form = form.into_inner();
    let expected = session::cookie(&req, LOGIN_COOKIE).unwrap_or("");
    crate::guard::check_csrf(expected, &form.csrf)?;
    let csrf = expected.to_string();
    let email = form.email.trim().to_string();
    let limiter = ui.core.limiter();
    let account = format!("admin-login:account:{}", email.to_lowercase());
    let address = format!("admin-login:address:{}", ip_of(&ui, &req));
    for key in [&account, &address] {
        if let Some(left) = limiter.locked_for(key).await {
            return throttled(left.as_secs().max(1), csrf, email);
        }
    }
    let core = ui.core.clone();
    let (e2, p2) = (email.clone(), form.password);
    let found = blocking(move || svc::verify_login(&core, &e2, &p2)).await?;
    let anonymous = ui.actor(&req, ActorKind::Anonymous, None);
    let Some(admin) = found else {
        let a = limiter.fail(&account, ACCOUNT_RULE, LOCKOUT).await;
        let b = limiter.fail(&address, ADDRESS_RULE, LOCKOUT).await;
        let tried = serde_json::json!({ "email": email });
        audit::note_in_background(
            &ui.core,
            Entry::new(&anonymous, "admin.login", Outcome::Denied)
                .target_kind("admin_user")
                .details(tried),
        );
        for (locked, kind, rule, value) in [
            (a, "admin_account", ACCOUNT_RULE, email.to_lowercase()),
            (b, "client_address", ADDRESS_RULE, ip_of(&ui, &req)),
        ] {
            if locked {
                let entry = Entry::new(&anonymous, "auth.locked_out", Outcome::Denied)
                    .target(kind, value)
                    .details(serde_json::json!({
                        "surface": "admin_login",
                        "failures": rule.limit,
                        "window_seconds": rule.window.as_secs(),
                        "lockout_seconds": LOCKOUT.as_secs(),
                    }));
                audit::note_in_background(&ui.core, entry);
            }
        }
        if a || b {
            tracing::warn!("admin UI: failed logins locked out an account or a client address");
            return throttled(LOCKOUT.as_secs(), csrf, email);
        }
        let page = login_page(
            csrf,
            Some("That email and password do not match an active operator.".into()),
            email,
        );
        return render(actix_web::http::StatusCode::UNAUTHORIZED, &page);
    };
    let actor = ui
        .actor(&req, ActorKind::Admin, Some(admin.id.to_string()))
        .with_name(admin.email.clone());
    audit::note_in_background(
        &ui.core,
        Entry::new(&actor, "admin.login", Outcome::Success)
            .target("admin_user", admin.id.to_string()),
    );
    let claims = Claims::new("admin", admin.id.to_string(), ADMIN_TTL);
    let token = session::sign(&ui, &claims).await?;
    let mut res = HttpResponse::SeeOther();
    res.insert_header((header::LOCATION, "/admin"));
    res.append_header((
        header::SET_COOKIE,
        session::set_cookie(&ui, ADMIN_COOKIE, &token, "/admin", ADMIN_TTL),
    ));
    res.append_header((
        header::SET_COOKIE,
        session::set_cookie(&ui, LOGIN_COOKIE, "", "/admin/login", 0),
    ));
    Ok(res.finish())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// A deletion's form: the CSRF token and what confirms it (a typed name, a ticked box).
#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub confirm: String,
}

/// `POST /admin/logout`: the cookie is cleared (the token itself expires with its
/// 30 minutes).
pub async fn logout(
    ui: web::Data<AdminUi>,
    op: Operator,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let entry = Entry::new(&op.actor, "admin.logout", Outcome::Success);
    let entry = match &op.actor.id {
        Some(id) => entry.target("admin_user", id.clone()),
        None => entry,
    };
    audit::note_in_background(&ui.core, entry);
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .append_header((
            header::SET_COOKIE,
            session::set_cookie(&ui, ADMIN_COOKIE, "", "/admin", 0),
        ))
        .finish())
}
