//! Sessions: an HS256 JWT (`jsonwebtoken`) in a cookie. The signing keys live in the
//! database, sealed (`scimgate_core::service::admin_ui::session_keys`), so every
//! instance shares them; the newest signs, each token names its key (`kid`), and older
//! keys keep opening until every session they signed has expired, so a rotation logs
//! nobody out.
//!
//! * operators: cookie `sg_admin` (path `/admin`), 30 minutes, renewed on use once
//!   half of it has passed; the operator is read again on every request (a disabled
//!   operator, or one whose password was reset, is out at once);
//! * the setup portal: cookie `sg_setup` (path `/portal`), 1 hour, renewed on use,
//!   scoped to one organization.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpRequest, ResponseError};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::{blocking, UiError};
use crate::AdminUi;
use scimgate_core::audit::{Actor, ActorKind};
use scimgate_core::ids::AdminUserId;
use scimgate_core::service::admin_ui::{self as svc, SessionKey};

pub const ADMIN_COOKIE: &str = "sg_admin";
pub const ADMIN_TTL: i64 = 30 * 60;
pub const SETUP_COOKIE: &str = "sg_setup";
pub const SETUP_TTL: i64 = 60 * 60;

/// The claims of a session token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// `admin` or `setup`: a token of one kind is never accepted as the other.
    pub typ: String,
    /// The operator's id, or the organization of a setup session.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The CSRF token the session's forms must carry.
    pub csrf: String,
    /// A setup session's directory, once the IT admin picked an IdP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// When the operator logged in (milliseconds since the epoch; a password reset
    /// after it ends the session).
    #[serde(default)]
    pub auth: i64,
    /// A setup session's link (its `success_url`), or a link token's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Claims {
    pub fn new(typ: &str, sub: String, ttl: i64) -> Claims {
        let now = chrono::Utc::now();
        Claims {
            typ: typ.into(),
            sub,
            auth: now.timestamp_millis(),
            iat: now.timestamp(),
            exp: now.timestamp() + ttl,
            csrf: random_token(),
            dir: None,
            link: None,
        }
    }

    /// The same session for `ttl` more seconds (same CSRF token: open forms stay valid).
    pub fn renewed(&self, ttl: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iat: self.iat,
            exp: now + ttl,
            ..self.clone()
        }
    }
}

pub fn random_token() -> String {
    let mut b = [0u8; 24];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The signing keys, cached for a minute (and read again, at most every second, when
/// a token names a key not in the cache: another instance rotated).
#[derive(Default)]
pub struct KeyRing(RwLock<Option<(Instant, Vec<SessionKey>)>>);

impl KeyRing {
    fn cached(&self, kid: Option<&str>) -> Option<Vec<SessionKey>> {
        let g = self.0.read().unwrap_or_else(|p| p.into_inner());
        let (at, keys) = g.as_ref()?;
        let age = at.elapsed();
        let fresh = age < Duration::from_secs(60);
        let has = kid.is_none_or(|k| keys.iter().any(|x| x.kid == k));
        (fresh && (has || age < Duration::from_secs(1))).then(|| keys.clone())
    }

    pub async fn keys(&self, ui: &AdminUi, kid: Option<&str>) -> Result<Vec<SessionKey>, UiError> {
        if let Some(k) = self.cached(kid) {
            return Ok(k);
        }
        let core = ui.core.clone();
        let keys = blocking(move || svc::session_keys(&core)).await?;
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }
}

/// Sign claims with the newest key.
pub async fn sign(ui: &AdminUi, claims: &Claims) -> Result<String, UiError> {
    let keys = ui.keys.keys(ui, None).await?;
    let key = keys
        .first()
        .ok_or_else(|| UiError::Internal("no session signing key".into()))?;
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&h, claims, &EncodingKey::from_secret(&key.secret))
        .map_err(|e| UiError::Internal(format!("signing a session: {e}")))
}

/// The claims of a valid (signed by a known key, unexpired, of kind `typ`) token.
pub async fn verify(ui: &AdminUi, token: &str, typ: &str) -> Result<Option<Claims>, UiError> {
    let Ok(h) = jsonwebtoken::decode_header(token) else {
        return Ok(None);
    };
    let (Some(kid), Algorithm::HS256) = (h.kid, h.alg) else {
        return Ok(None);
    };
    let keys = ui.keys.keys(ui, Some(&kid)).await?;
    let Some(key) = keys.iter().find(|k| k.kid == kid) else {
        return Ok(None);
    };
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "iat", "sub"]);
    match jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&key.secret), &v) {
        Ok(d) if d.claims.typ == typ => Ok(Some(d.claims)),
        _ => Ok(None),
    }
}

/// A cookie's value in the request.
pub fn cookie<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for a session cookie (`max_age` 0 clears it).
pub fn set_cookie(ui: &AdminUi, name: &str, value: &str, path: &str, max_age: i64) -> String {
    let secure = if ui.secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// The logged-in operator of a request (put there by [`admin_session`]).
#[derive(Debug, Clone)]
pub struct Operator {
    pub email: String,
    pub csrf: String,
    /// Who acts, for the audit log: the operator (kind `admin`, the admin user's id,
    /// the email as the name) with the request's client address and user agent.
    pub actor: Actor,
}

impl Operator {
    pub fn check_csrf(&self, got: &str) -> Result<(), UiError> {
        crate::guard::check_csrf(&self.csrf, got)
    }
}

impl FromRequest for Operator {
    type Error = UiError;
    type Future = std::future::Ready<Result<Operator, UiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Operator>()
                .cloned()
                .ok_or(UiError::Login),
        )
    }
}

/// The operator of a request's session cookie, and the renewed cookie if it is due.
async fn operator_of(
    ui: &AdminUi,
    req: &HttpRequest,
) -> Result<Option<(Operator, Option<String>)>, UiError> {
    let Some(token) = cookie(req, ADMIN_COOKIE) else {
        return Ok(None);
    };
    let Some(claims) = verify(ui, token, "admin").await? else {
        return Ok(None);
    };
    let Ok(id) = AdminUserId::parse(&claims.sub) else {
        return Ok(None);
    };
    let core = ui.core.clone();
    let (id2, auth) = (id.clone(), claims.auth);
    let Some(row) = blocking(move || svc::session_operator(&core, &id2, auth)).await? else {
        return Ok(None);
    };
    let now = chrono::Utc::now().timestamp();
    let renew = if claims.exp - now < ADMIN_TTL / 2 {
        let t = sign(ui, &claims.renewed(ADMIN_TTL)).await?;
        Some(set_cookie(ui, ADMIN_COOKIE, &t, "/admin", ADMIN_TTL))
    } else {
        None
    };
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let actor = Actor::new(ActorKind::Admin, Some(row.id.to_string()))
        .with_name(row.email.clone())
        .from_request((ui.client_ip)(req).map(|ip| ip.to_string()), agent);
    Ok(Some((
        Operator {
            email: row.email,
            csrf: claims.csrf,
            actor,
        },
        renew,
    )))
}

/// Every `/admin` path but the login form and the assets needs an operator's session:
/// a page without one is redirected to the login form, anything else is refused.
pub async fn admin_session(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let path = req.path();
    if path == "/admin/login" || path.starts_with("/admin/assets/") {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(ui) = req.app_data::<web::Data<AdminUi>>().cloned() else {
        let e = UiError::Internal("admin UI not configured".into());
        return Ok(req.into_response(e.error_response()));
    };
    let found = match operator_of(&ui, req.request()).await {
        Ok(f) => f,
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    let Some((op, renew)) = found else {
        let e = if matches!(*req.method(), Method::GET | Method::HEAD) {
            UiError::Login
        } else {
            UiError::Forbidden("your session has ended: log in again".into())
        };
        return Ok(req.into_response(e.error_response()));
    };
    req.extensions_mut().insert(op);
    let mut res = next.call(req).await?.map_into_boxed_body();
    if let Some(c) = renew.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}
