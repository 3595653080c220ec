//! The SCIM 2.0 service provider of each directory, `/scim/v2/{directory_id}/…`
//! (RFC 7644), one file per resource: `users`, `groups`, `search` (the root
//! `/.search`), `discovery` (`/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`),
//! `bulk`. Handlers are thin: extract (`request`: the body, `If-Match`, the resource
//! id; `query`: list and projection parameters; `crate::auth::DirectoryToken`), one
//! `core` call run by `crate::exec`, render (`render`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};

use crate::error::ScimError;

mod bulk;
mod discovery;
mod groups;
pub mod health;
mod query;
mod render;
mod request;
mod search;
mod users;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2/{directory_id}")
            .route("/Users", web::get().to(users::list))
            .route("/Users", web::post().to(users::create))
            .route("/Users/.search", web::post().to(users::search))
            .route("/Users/{id}", web::get().to(users::get))
            .route("/Users/{id}", web::put().to(users::replace))
            .route("/Users/{id}", web::patch().to(users::patch))
            .route("/Users/{id}", web::delete().to(users::delete))
            .route("/Groups", web::get().to(groups::list))
            .route("/Groups", web::post().to(groups::create))
            .route("/Groups/.search", web::post().to(groups::search))
            .route("/Groups/{id}", web::get().to(groups::get))
            .route("/Groups/{id}", web::put().to(groups::replace))
            .route("/Groups/{id}", web::patch().to(groups::patch))
            .route("/Groups/{id}", web::delete().to(groups::delete))
            .route(
                "/ServiceProviderConfig",
                web::get().to(discovery::service_provider_config),
            )
            .route("/ResourceTypes", web::get().to(discovery::resource_types))
            .route(
                "/ResourceTypes/{name}",
                web::get().to(discovery::resource_type),
            )
            .route("/Schemas", web::get().to(discovery::schemas))
            .route("/Schemas/{id}", web::get().to(discovery::schema))
            .route("/Bulk", web::post().to(bulk::bulk))
            .route("/.search", web::post().to(search::root))
            .default_service(web::to(not_found)),
    );
}

/// Unknown paths and methods under a SCIM base answer SCIM errors (PRODUCT.md: every
/// 4xx on SCIM paths carries an RFC 7644 §3.12 body).
async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ScimError> {
    let path = req.path().to_string();
    let known = [
        "/Users",
        "/Groups",
        "/ServiceProviderConfig",
        "/ResourceTypes",
        "/Schemas",
        "/Bulk",
    ];
    if known.iter().any(|k| path.contains(k)) {
        return Err(ScimError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            format!("method {} is not allowed on {path}", req.method()),
        ));
    }
    Err(ScimError::not_found(format!("no SCIM endpoint at {path}")))
}
