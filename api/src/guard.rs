//! Request hygiene in front of every route: URLs that name nothing, request bodies
//! nobody reads, routes that do not exist. Each answer has the shape of its surface
//! (RFC 7644 §3.12 errors under `/scim/`, `{"code","message"}` elsewhere).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::http::{ConnectionType, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::error::{ApiError, ScimError};
use scimgate_core::ScimType;

fn is_scim(path: &str) -> bool {
    path.starts_with("/scim/")
}

/// A request body that no handler is going to read: on a method without one, or
/// rejected before it was read. Left in the connection, a large chunked body stalls
/// the next request on it (actix-web #2632), so such a connection is closed.
fn body_left_unread(req: &HttpRequest, status: StatusCode) -> bool {
    let has_body = req.headers().contains_key(TRANSFER_ENCODING)
        || req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let reads_body = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH);
    has_body && (!reads_body || status.is_client_error() || status.is_server_error())
}

/// The longest request target (path and query) a route is given. Past it, up to the
/// HTTP layer's own limit (65,534 bytes, answered by actix with an empty 400 before
/// any middleware), the client gets 414 with its surface's error body (RFC 9110
/// §15.5.15; a SCIM client a RFC 7644 §3.12 body). Filters are capped at 4,096
/// characters, so no valid request comes near it.
pub const MAX_REQUEST_TARGET: usize = 16 * 1024;

/// The middleware: a URL holding a NUL (`%00`) is rejected before routing (no stored
/// id or value holds one, and PostgreSQL text cannot), and so is a request target
/// past [`MAX_REQUEST_TARGET`]; a connection whose request body was left unread is
/// closed after the response.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let uri = req.uri().to_string();
    let refusal = if uri.len() > MAX_REQUEST_TARGET {
        Some((
            StatusCode::URI_TOO_LONG,
            None,
            format!("the request target is longer than {MAX_REQUEST_TARGET} bytes"),
        ))
    } else if uri.contains("%00") || uri.contains('\0') {
        Some((
            StatusCode::BAD_REQUEST,
            Some(ScimType::InvalidValue),
            "the request URL contains a NUL character".to_string(),
        ))
    } else {
        None
    };
    if let Some((status, scim_type, detail)) = refusal {
        let res = if is_scim(req.path()) {
            ScimError::new(status, scim_type, detail).error_response()
        } else if status == StatusCode::BAD_REQUEST {
            ApiError::bad_request(detail).error_response()
        } else {
            ApiError::new(status, "request_target_too_long", detail).error_response()
        };
        return Ok(req.into_response(res).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    if body_left_unread(res.request(), res.status()) {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(res.map_into_left_body())
}

/// Any route that does not exist: a SCIM 404 under `/scim/`, else a vendor 404.
pub async fn no_route(req: HttpRequest) -> HttpResponse {
    let detail = format!("no route for {} {}", req.method(), req.path());
    if is_scim(req.path()) {
        ScimError::not_found(detail).error_response()
    } else {
        ApiError::not_found(detail).error_response()
    }
}
