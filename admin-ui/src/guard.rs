//! Cross-site request forgery: every POST must come from the public URL's origin
//! (`Origin`, or `Referer` when a browser sent no `Origin`) and carry the form's CSRF
//! token (checked by each handler against its session: [`crate::session`]).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};

use crate::error::UiError;
use crate::AdminUi;

/// Whether a request's `Origin` (else `Referer`) is `origin`.
pub fn same_origin(req: &actix_web::HttpRequest, origin: &str) -> bool {
    if let Some(o) = req.headers().get(header::ORIGIN) {
        return o.to_str().is_ok_and(|o| o == origin);
    }
    req.headers()
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .is_some_and(|u| u.origin().ascii_serialization() == origin)
}

pub async fn origin_check(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let ok = req
            .app_data::<web::Data<AdminUi>>()
            .is_some_and(|ui| same_origin(req.request(), &ui.origin));
        if !ok {
            let e =
                UiError::Forbidden("this form was not sent from this site (Origin check)".into());
            return Ok(req.into_response(e.error_response()));
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Compare a form's CSRF token with the session's, in constant time.
pub fn check_csrf(expected: &str, got: &str) -> Result<(), UiError> {
    use subtle::ConstantTimeEq;
    if !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(got.as_bytes())) {
        Ok(())
    } else {
        Err(UiError::Forbidden(
            "the form's security token is missing or out of date".into(),
        ))
    }
}
