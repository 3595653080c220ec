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
pub mod doc;
mod groups;
pub mod health;
mod query;
mod render;
mod request;
mod search;
mod users;

/// The base of every directory's SCIM service provider.
pub const BASE: &str = "/scim/v2/{directory_id}";

crate::routes::route_table! {
    get "/Users" => users::list,
    post "/Users" => users::create,
    post "/Users/.search" => users::search,
    get "/Users/{id}" => users::get,
    put "/Users/{id}" => users::replace,
    patch "/Users/{id}" => users::patch,
    delete "/Users/{id}" => users::delete,
    get "/Groups" => groups::list,
    post "/Groups" => groups::create,
    post "/Groups/.search" => groups::search,
    get "/Groups/{id}" => groups::get,
    put "/Groups/{id}" => groups::replace,
    patch "/Groups/{id}" => groups::patch,
    delete "/Groups/{id}" => groups::delete,
    get "/ServiceProviderConfig" => discovery::service_provider_config,
    get "/ResourceTypes" => discovery::resource_types,
    get "/ResourceTypes/{name}" => discovery::resource_type,
    get "/Schemas" => discovery::schemas,
    get "/Schemas/{id}" => discovery::schema,
    post "/Bulk" => bulk::bulk,
    post "/.search" => search::root,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(register(web::scope(BASE)).default_service(web::to(not_found)));
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
