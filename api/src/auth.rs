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

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};

use crate::error::{ApiError, ScimError};
use crate::exec::Credential;
use scimgate_core::ids::DirectoryId;
use scimgate_core::model::DirectoryRow;
use scimgate_core::service::{self, admin, auth};
use scimgate_core::{Core, CoreError};

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
}

/// A vendor API request's key (`sk_…`), not yet verified.
#[derive(Clone)]
pub struct ApiKey(Option<String>);

impl FromRequest for ApiKey {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(ApiKey(bearer(req))))
    }
}

impl Credential for ApiKey {
    type Principal = auth::ApiKeyAuth;
    type Error = ApiError;

    /// Any failure, the database's included, is the same 401.
    fn verify(&self, core: &Core) -> Result<auth::ApiKeyAuth, ApiError> {
        let key = self.0.as_deref().ok_or_else(ApiError::unauthorized)?;
        auth::verify_api_key(core, key).map_err(|_| ApiError::unauthorized())
    }

    /// Only a missing key is known here: `verify_api_key` reads the database on a cache
    /// miss without asking whether it may wait, so a present key is verified on the
    /// blocking pool.
    fn verify_cached(&self, _: &Core) -> Option<Result<auth::ApiKeyAuth, ApiError>> {
        self.0.is_none().then(|| Err(ApiError::unauthorized()))
    }
}
