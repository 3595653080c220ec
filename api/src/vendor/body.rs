//! Vendor API request bodies, deserialized into each endpoint's struct on the way in.
//!
//! A body is read up to `SCIMGATE_MAX_BODY_BYTES` (413 `payload_too_large`), must be
//! a JSON object (an empty body is `{}`), and is then deserialized into `T`. Each body
//! struct is `try_from` [`Fields`], the object as sent, and checks its members in a
//! fixed order with the messages below, so a body with several faults always gets the
//! same 422, and a member's message names it.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::params::Invalid;
use crate::error::ApiError;
use crate::state::AppState;

/// A request body deserialized into `T`.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.config.max_body_bytes);
        let mut payload = payload.take();
        Box::pin(async move {
            let limit = limit.ok_or_else(|| {
                tracing::error!("the application state is missing");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "internal error",
                )
            })?;
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|e| ApiError::bad_request(format!("cannot read the body: {e}")))?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        format!("the body exceeds {limit} bytes"),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            let object = if body.is_empty() {
                Value::Object(Map::new())
            } else {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(v @ Value::Object(_)) => v,
                    Ok(_) => return Err(ApiError::bad_request("the body must be a JSON object")),
                    Err(e) => {
                        return Err(ApiError::bad_request(format!(
                            "the body is not valid JSON: {e}"
                        )))
                    }
                }
            };
            // a value deserializer's errors carry no position: the message is the check's
            serde_json::from_value::<T>(object)
                .map(Body)
                .map_err(|e| ApiError::bad_request(e.to_string()))
        })
    }
}

/// A body's members as sent, for a body struct's `try_from`.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct Fields(Map<String, Value>);

impl Fields {
    /// A member that is absent or null.
    pub fn get(&self, k: &str) -> Option<&Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }

    /// Whether the member is there at all, null or not.
    pub fn has(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }

    /// An optional string member, without NUL characters.
    pub fn text(&self, k: &str) -> Result<Option<String>, Invalid> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::String(s)) if s.contains('\0') => {
                Err(Invalid(format!("`{k}` must not contain NUL characters")))
            }
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Invalid(format!("`{k}` must be a string"))),
        }
    }

    /// A required string member, without NUL characters.
    pub fn required(&self, k: &str) -> Result<String, Invalid> {
        self.text(k)?
            .ok_or_else(|| Invalid(format!("`{k}` is required")))
    }
}
