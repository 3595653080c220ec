//! The credentials of the two surfaces as extractors, from one `Authorization: Bearer`
//! parser ([`bearer`]): a directory token on `/scim/v2/{directory_id}/…`
//! ([`DirectoryToken`]) and an API key on the vendor API ([`ApiKey`]).
//!
//! Extracting a credential never fails and verifies nothing yet. A request's query and
//! body are checked first, so their errors come before a 401 as they always did, and
//! a token revoked while a body uploads is refused. `exec` verifies the credential
//! where the request runs ([`crate::exec::Credential`]): on the HTTP worker when that
//! needs no waiting (a directory token in the cache), else on the blocking pool in the
//! same call as the request's work, so verifying adds no thread hop.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::IpAddr;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{FromRequest, HttpRequest};

use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ScimError};
use crate::exec::Credential;
use scimgate_core::audit::{Actor, ActorKind, Entry, Outcome};
use scimgate_core::ids::DirectoryId;
use scimgate_core::model::DirectoryRow;
use scimgate_core::ratelimit::Rule;
use scimgate_core::scope::Scope;
use scimgate_core::service::{self, admin, audit, auth};
use scimgate_core::{Core, CoreError};
use serde_json::json;

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750
/// §2.1), trimmed; `None` without one.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let h = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// A SCIM request's directory token and the directory its URL names, not yet verified.
/// A token of another directory gets the same 401 as a wrong token, and so does any
/// token on a URL whose directory id is no directory id (`None`).
#[derive(Clone)]
pub struct DirectoryToken {
    token: Option<String>,
    directory_id: Option<DirectoryId>,
    client: Option<IpAddr>,
}

impl FromRequest for DirectoryToken {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(DirectoryToken {
            token: bearer(req),
            directory_id: DirectoryId::parse(
                req.match_info().get("directory_id").unwrap_or_default(),
            )
            .ok(),
            client: ClientAddr::of(req).0,
        }))
    }
}

/// A failed token check as the SCIM answer: 401 for a wrong token, the error otherwise.
fn scim_auth_error(e: CoreError) -> ScimError {
    match e {
        CoreError::Unauthorized(_) => ScimError::unauthorized(),
        other => other.into(),
    }
}

impl Credential for DirectoryToken {
    type Principal = DirectoryRow;
    type Error = ScimError;

    /// The token checked (from the cache, else the database) and, on the directory's
    /// first successful request, the directory activated: `dsync.activated` comes
    /// before any event of that request.
    fn verify(&self, core: &Core) -> Result<DirectoryRow, ScimError> {
        let (Some(token), Some(directory_id)) = (self.token.as_deref(), &self.directory_id) else {
            return Err(ScimError::unauthorized());
        };
        let a = auth::verify_directory_token(core, token, directory_id).map_err(scim_auth_error)?;
        if a.directory.activated_at.is_none() {
            if let Err(e) = admin::activate(core, &a.directory) {
                tracing::warn!(error = %e, directory_id = %a.directory.id, "activation failed");
            }
        }
        Ok(a.directory)
    }

    /// Known without waiting (`service::without_waiting`) when the token is in the
    /// cache and the directory is activated; an uncached token, or a directory's first
    /// request (whose activation writes), is left to [`Credential::verify`].
    fn verify_cached(&self, core: &Core) -> Option<Result<DirectoryRow, ScimError>> {
        let (Some(token), Some(directory_id)) = (self.token.as_deref(), &self.directory_id) else {
            return Some(Err(ScimError::unauthorized()));
        };
        match service::without_waiting(|| auth::verify_directory_token(core, token, directory_id))?
        {
            Ok(a) if a.directory.activated_at.is_some() => Some(Ok(a.directory)),
            Ok(_) => None,
            Err(e) => Some(Err(scim_auth_error(e))),
        }
    }

    fn failure_keys(&self) -> Vec<(&'static str, String)> {
        failure_keys(self.token.as_deref(), self.client)
    }

    /// Requests per directory (`SCIMGATE_SCIM_REQUESTS_PER_MINUTE`).
    fn rate_key(&self, core: &Core, dir: &DirectoryRow) -> Option<(String, Rule)> {
        let rule = core.settings().limits.scim_per_directory?;
        Some((format!("scim:{}", dir.id), rule))
    }

    fn is_refusal(e: &ScimError) -> bool {
        e.status == StatusCode::UNAUTHORIZED
    }

    fn too_many(retry_after: Duration, detail: &str) -> ScimError {
        ScimError::too_many_requests(retry_after, detail)
    }

    fn anonymous(&self) -> Actor {
        anonymous(self.client, None)
    }
}

/// The characters of a presented credential that name it in failure counts and
/// lock-outs: its prefix and 6 more (24 bits of a 256-bit secret).
const CREDENTIAL_PREFIX_CHARS: usize = 10;

/// A presented credential's failure counters: its client address and its prefix.
fn failure_keys(token: Option<&str>, client: Option<IpAddr>) -> Vec<(&'static str, String)> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Vec::new();
    };
    let mut keys = Vec::with_capacity(2);
    if let Some(ip) = client {
        keys.push(("client_address", ip.to_string()));
    }
    keys.push((
        "credential_prefix",
        token.chars().take(CREDENTIAL_PREFIX_CHARS).collect(),
    ));
    keys
}

fn anonymous(client: Option<IpAddr>, user_agent: Option<&str>) -> Actor {
    Actor::new(ActorKind::Anonymous, None).from_request(client.map(|ip| ip.to_string()), user_agent)
}

/// The scope a vendor API route requires, by method and matched route pattern
/// (`crate::vendor::configure`): `/events` needs `events:read`; reads of
/// organizations, directories, users, groups, tokens and mappings need
/// `directories:read`, their writes `directories:write`; `/portal/…` needs
/// `portal:write`; everything else (`/api_keys`, `/audit_logs`, webhook endpoints, a
/// route not named here) needs `admin`.
pub fn required_scope(method: &Method, pattern: Option<&str>) -> Scope {
    let Some(p) = pattern else {
        return Scope::Admin;
    };
    let read = matches!(*method, Method::GET | Method::HEAD);
    let directory_data = [
        "/organizations",
        "/directories",
        "/directory_users",
        "/directory_groups",
    ]
    .iter()
    .any(|prefix| p == *prefix || p.starts_with(&format!("{prefix}/")));
    if p == "/events" {
        Scope::EventsRead
    } else if p.starts_with("/portal/") {
        Scope::PortalWrite
    } else if directory_data && read {
        Scope::DirectoriesRead
    } else if directory_data {
        Scope::DirectoriesWrite
    } else {
        Scope::Admin
    }
}

/// A vendor API request's key (`sk_…`), not yet verified, with the scope its route
/// requires and where the request came from (for the audit log).
#[derive(Clone)]
pub struct ApiKey {
    key: Option<String>,
    required: Scope,
    route: String,
    client: Option<IpAddr>,
    user_agent: Option<String>,
}

impl FromRequest for ApiKey {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pattern = req.match_pattern();
        ready(Ok(ApiKey {
            key: bearer(req),
            required: required_scope(req.method(), pattern.as_deref()),
            route: format!("{} {}", req.method(), pattern.as_deref().unwrap_or("")),
            client: ClientAddr::of(req).0,
            user_agent: req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        }))
    }
}

/// A verified API key and who it is for the audit log.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key: auth::ApiKeyAuth,
    pub actor: Actor,
}

impl ApiKey {
    /// A verified key as the caller, if its scopes allow the route; a refusal is
    /// audited (in the background: this may run on the HTTP worker).
    fn admit(&self, core: &Core, key: auth::ApiKeyAuth) -> Result<Caller, ApiError> {
        let actor = Actor::new(ActorKind::ApiKey, Some(key.key_id.to_string()))
            .with_name(key.name.clone())
            .from_request(
                self.client.map(|ip| ip.to_string()),
                self.user_agent.as_deref(),
            );
        if key.scopes.allow(self.required) {
            return Ok(Caller { key, actor });
        }
        let entry = Entry::new(&actor, "api_key.scope_denied", Outcome::Denied)
            .target("api_key", key.key_id.to_string())
            .details(json!({"required": self.required.as_str(), "route": self.route}));
        audit::note_in_background(core, entry);
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this API key lacks the `{}` scope", self.required.as_str()),
        ))
    }
}

impl Credential for ApiKey {
    type Principal = Caller;
    type Error = ApiError;

    /// Any failure, the database's included, is the same 401; a key without the
    /// route's scope is a 403.
    fn verify(&self, core: &Core) -> Result<Caller, ApiError> {
        let key = self.key.as_deref().ok_or_else(ApiError::unauthorized)?;
        let key = auth::verify_api_key(core, key).map_err(|_| ApiError::unauthorized())?;
        self.admit(core, key)
    }

    /// Known without waiting when the key is in the cache (or missing).
    fn verify_cached(&self, core: &Core) -> Option<Result<Caller, ApiError>> {
        let Some(key) = self.key.as_deref() else {
            return Some(Err(ApiError::unauthorized()));
        };
        match service::without_waiting(|| auth::verify_api_key(core, key))? {
            Ok(k) => Some(self.admit(core, k)),
            Err(_) => Some(Err(ApiError::unauthorized())),
        }
    }

    fn failure_keys(&self) -> Vec<(&'static str, String)> {
        failure_keys(self.key.as_deref(), self.client)
    }

    /// Requests per key (`SCIMGATE_API_REQUESTS_PER_MINUTE`).
    fn rate_key(&self, core: &Core, caller: &Caller) -> Option<(String, Rule)> {
        let rule = core.settings().limits.api_per_key?;
        Some((format!("api:{}", caller.key.key_id), rule))
    }

    fn is_refusal(e: &ApiError) -> bool {
        e.status == StatusCode::UNAUTHORIZED
    }

    fn too_many(retry_after: Duration, detail: &str) -> ApiError {
        ApiError::too_many_requests(retry_after, detail)
    }

    fn anonymous(&self) -> Actor {
        anonymous(self.client, self.user_agent.as_deref())
    }
}
