//! What a SCIM handler reads from its request besides the credential and the query:
//! the JSON body, `If-Match` and the resource id of the path.

use std::convert::Infallible;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde_json::Value;

use crate::error::ScimError;
use crate::state::AppState;
use scimgate_core::ids::{IdError, PrefixedId};
use scimgate_core::CoreError;

/// A SCIM request body: `application/scim+json` or `application/json` (RFC 7644 §3.1,
/// IDP-QUIRKS CONTENT-TYPE), at most `SCIMGATE_MAX_BODY_BYTES` (413 without reading
/// further), parsed as JSON.
///
/// It stays a `serde_json::Value` on purpose: a User, Group or PATCH body is an
/// open-ended document (extension schemas, custom attributes, each IdP's dialect) that
/// `connectors::normalize_*` and `core::scim::schema::canonicalize` turn into RFC
/// shapes; a typed struct here would reject or drop what they are there to accept.
pub struct Body(pub Value);

impl FromRequest for Body {
    type Error = ScimError;
    type Future = LocalBoxFuture<'static, Result<Self, ScimError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let checked = check_headers(req);
        let mut payload = payload.take();
        let req = req.clone();
        Box::pin(async move {
            let limit = checked?;
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ScimError::invalid_syntax(format!("cannot read the request body: {e}"))
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            if body.is_empty() {
                return Err(ScimError::invalid_syntax("the request body is empty"));
            }
            let value = serde_json::from_slice::<Value>(&body).map_err(|e| {
                ScimError::invalid_syntax(format!("the body is not valid JSON: {e}"))
            })?;
            // the IdP quirks the body shows, for the sync health once it is answered
            let quirks = scimgate_connectors::quirks::tolerated(&value);
            if !quirks.is_empty() {
                req.extensions_mut()
                    .insert(crate::scim::health::Tolerated(quirks));
            }
            Ok(Body(value))
        })
    }
}

/// The media type and the announced length, before any byte is read; the size limit.
fn check_headers(req: &HttpRequest) -> Result<usize, ScimError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !(mime == "application/scim+json" || mime == "application/json" || mime.is_empty()) {
            return Err(ScimError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                format!("Content-Type {mime:?} is not supported; use application/scim+json or application/json"),
            ));
        }
    }
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.config.max_body_bytes)
        .ok_or_else(|| {
            tracing::error!("the application state is missing");
            ScimError::new(StatusCode::INTERNAL_SERVER_ERROR, None, "internal error")
        })?;
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > limit {
            return Err(too_large(limit));
        }
    }
    Ok(limit)
}

fn too_large(limit: usize) -> ScimError {
    ScimError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        None,
        format!("the request body exceeds the limit of {limit} bytes"),
    )
}

/// The `If-Match` header (RFC 7644 §3.14), checked against the resource's version by
/// `core`.
pub struct IfMatch(pub Option<String>);

impl FromRequest for IfMatch {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IfMatch(
            req.headers()
                .get(header::IF_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        )))
    }
}

/// The `{id}` of `/Users/{id}` (a `DirectoryUserId`) and `/Groups/{id}` (a
/// `DirectoryGroupId`), parsed as the router matched it. Text that is no id of the
/// kind names no resource: [`ResourceId::or`] answers it as an unknown id, where the
/// request runs (after its credential, as the lookup of an unknown id).
pub struct ResourceId<T>(Result<T, IdError>);

impl<T: PrefixedId + 'static> FromRequest for ResourceId<T> {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(ResourceId(T::parse(
            req.match_info().get("id").unwrap_or_default(),
        ))))
    }
}

impl<T> ResourceId<T> {
    /// The id, or `not_found` of the text (`users::not_found`, `groups::not_found`)
    /// when it is no id of the kind.
    pub fn or(&self, not_found: fn(&str) -> CoreError) -> Result<&T, CoreError> {
        self.0.as_ref().map_err(|e| not_found(e.input()))
    }
}

/// The `{id}` of `/Schemas/{id}` (a schema URN), as the router matched it.
pub struct SchemaId(pub String);

impl FromRequest for SchemaId {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(SchemaId(
            req.match_info().get("id").unwrap_or_default().to_string(),
        )))
    }
}
