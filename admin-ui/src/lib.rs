//! The admin UI (`/admin`, for the vendor's operators) and the setup portal
//! (`/portal`, for a customer's IT admin): server-rendered pages (askama templates,
//! checked at compile time), one stylesheet and one small script embedded in the
//! binary. Mounted by the api crate (`configure`); every read and write goes through
//! `scimgate_core` services, never SQL.
//!
//! Security rules, each tested in `api/tests/admin_http`:
//! * a session is a short-lived HS256 JWT in an `HttpOnly`, `SameSite=Lax` cookie
//!   (`Secure` when the public URL is https), signed with keys kept sealed in the
//!   database and rotated by `kid` ([`session`]);
//! * every POST needs the public URL's `Origin` (or `Referer`) and the form's CSRF
//!   token ([`guard`]);
//! * failed logins are throttled per account and per client address (429, counted in
//!   `scimgate_admin_login_throttled_total`) ([`login`]);
//! * every page carries a CSP without inline script, `frame-ancestors 'none'`,
//!   `nosniff` ([`headers`]).

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::{web, HttpRequest};
use scimgate_core::Core;

mod api_keys;
mod assets;
mod audit_log;
mod directories;
mod error;
mod events;
mod guard;
mod headers;
mod health;
mod login;
mod orgs;
mod pages;
pub mod portal;
mod session;
mod users;
mod util;
mod webhooks;

pub use error::UiError;

/// How the api crate tells the client address of a request (trusted proxies applied).
pub type ClientIp = fn(&HttpRequest) -> Option<IpAddr>;

/// How the api crate checks a webhook `endpoint_url` against its target policy
/// (`scimgate_webhooks::target::check_url`: https unless allowed, no private
/// addresses unless allowed; resolves DNS, so called on the blocking pool): the URL to
/// store, or why it is refused.
pub type UrlCheck = Arc<dyn Fn(&str) -> Result<String, String> + Send + Sync>;

/// What the pages need: the core, where the server is reached, the key ring.
pub struct AdminUi {
    pub(crate) core: Core,
    /// `SCIMGATE_PUBLIC_URL` without a trailing `/` (setup links).
    pub(crate) public_url: String,
    /// `scheme://host[:port]` of `SCIMGATE_PUBLIC_URL`: the one `Origin` POSTs may have.
    pub(crate) origin: String,
    /// Cookies are `Secure` when the public URL is https.
    pub(crate) secure: bool,
    pub(crate) client_ip: ClientIp,
    pub(crate) keys: session::KeyRing,
    pub(crate) webhook_url_check: UrlCheck,
}

impl AdminUi {
    pub fn new(core: Core, public_url: &str, client_ip: ClientIp) -> Result<AdminUi, String> {
        let u = url::Url::parse(public_url).map_err(|e| format!("SCIMGATE_PUBLIC_URL: {e}"))?;
        let origin = u.origin().ascii_serialization();
        Ok(AdminUi {
            core,
            public_url: public_url.trim_end_matches('/').to_string(),
            secure: u.scheme() == "https",
            origin,
            client_ip,
            keys: session::KeyRing::default(),
            webhook_url_check: Arc::new(|_| {
                Err("this server checks no webhook URLs: endpoints cannot be created here".into())
            }),
        })
    }

    /// Check webhook endpoint URLs with `check` (the server's target policy).
    pub fn with_webhook_url_check(mut self, check: UrlCheck) -> AdminUi {
        self.webhook_url_check = check;
        self
    }
}

/// Register `/admin` (with its assets) and `/portal`.
pub fn configure(ui: Arc<AdminUi>) -> impl FnOnce(&mut web::ServiceConfig) {
    let portal = portal::configure(ui.clone());
    let data = web::Data::from(ui);
    move |cfg: &mut web::ServiceConfig| {
        portal(cfg);
        cfg.service(
            web::scope("/admin")
                .app_data(data)
                .wrap(actix_web::middleware::from_fn(session::admin_session))
                .wrap(actix_web::middleware::from_fn(guard::origin_check))
                .wrap(headers::security_headers())
                .route("/assets/app.css", web::get().to(assets::css))
                .route("/assets/app.js", web::get().to(assets::js))
                .route("/login", web::get().to(login::form))
                .route("/login", web::post().to(login::submit))
                .route("/logout", web::post().to(login::logout))
                .route("", web::get().to(orgs::home))
                .route("/", web::get().to(orgs::home))
                .configure(orgs::configure)
                .configure(directories::configure)
                .configure(users::configure)
                .configure(events::configure)
                .configure(webhooks::configure)
                .configure(api_keys::configure)
                .configure(audit_log::configure),
        );
    }
}

impl AdminUi {
    /// The audit actor of a request: `kind` with `id`, from the request's client address
    /// (trusted proxies applied) and user agent.
    pub(crate) fn actor(
        &self,
        req: &HttpRequest,
        kind: scimgate_core::audit::ActorKind,
        id: Option<String>,
    ) -> scimgate_core::audit::Actor {
        let ua = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        scimgate_core::audit::Actor::new(kind, id)
            .from_request((self.client_ip)(req).map(|ip| ip.to_string()), ua)
    }
}
