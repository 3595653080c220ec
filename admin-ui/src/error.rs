//! What a page answers when it cannot do what was asked: a short HTML page that says
//! what to do next, with the right status.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use scimgate_core::CoreError;

use crate::pages::ErrorPage;

#[derive(Debug)]
pub enum UiError {
    /// No valid session: a page is redirected to the login form.
    Login,
    /// Refused (CSRF, Origin, a session that ended for a POST).
    Forbidden(String),
    /// Too many failed logins: try again after this many seconds.
    TooMany(u64),
    BadRequest(String),
    NotFound(String),
    Internal(String),
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UiError::Login => f.write_str("log in first"),
            UiError::Forbidden(m)
            | UiError::BadRequest(m)
            | UiError::NotFound(m)
            | UiError::Internal(m) => f.write_str(m),
            UiError::TooMany(s) => write!(f, "too many attempts; retry in {s} s"),
        }
    }
}

impl From<CoreError> for UiError {
    fn from(e: CoreError) -> UiError {
        match e {
            CoreError::NotFound(m) => UiError::NotFound(m),
            CoreError::BadRequest { detail, .. } | CoreError::Conflict { detail, .. } => {
                UiError::BadRequest(detail)
            }
            other => {
                tracing::error!(error = %other, "admin UI: server error");
                UiError::Internal("something went wrong on the server".into())
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for UiError {
    fn from(_: actix_web::error::BlockingError) -> UiError {
        UiError::Internal("the server is shutting down".into())
    }
}

impl ResponseError for UiError {
    fn status_code(&self) -> StatusCode {
        match self {
            UiError::Login => StatusCode::SEE_OTHER,
            UiError::Forbidden(_) => StatusCode::FORBIDDEN,
            UiError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            UiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            UiError::NotFound(_) => StatusCode::NOT_FOUND,
            UiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let UiError::Login = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/admin/login"))
                .finish();
        }
        let (title, next) = match self {
            UiError::Forbidden(_) => (
                "Not allowed",
                "Reload the page you came from and try again; if your session ended, log in again.",
            ),
            UiError::TooMany(_) => ("Too many attempts", "Wait a few minutes, then try again."),
            UiError::BadRequest(_) => (
                "That did not work",
                "Go back, correct the form and send it again.",
            ),
            UiError::NotFound(_) => (
                "Not found",
                "It may have been deleted, or the link is wrong or expired.",
            ),
            _ => (
                "Server error",
                "Try again in a moment; if it persists, check the server's log.",
            ),
        };
        let page = ErrorPage {
            title,
            message: self.to_string(),
            next,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| "<!doctype html><title>Error</title>".into());
        let mut res = HttpResponse::build(self.status_code());
        res.content_type("text/html; charset=utf-8");
        if let UiError::TooMany(s) = self {
            res.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        res.body(body)
    }
}

/// Render a template to its HTML.
pub fn render(t: &impl Template) -> Result<String, UiError> {
    t.render()
        .map_err(|e| UiError::Internal(format!("template: {e}")))
}

/// Render a page.
pub fn html(t: &impl Template) -> Result<HttpResponse, UiError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(render(t)?))
}

/// Run blocking core work on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CoreError> + Send + 'static,
) -> Result<T, UiError> {
    Ok(actix_web::web::block(f).await??)
}

/// Run blocking work that answers a page's error itself (a 400 for a bad filter).
pub async fn blocking_ui<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, UiError> + Send + 'static,
) -> Result<T, UiError> {
    actix_web::web::block(f).await?
}
