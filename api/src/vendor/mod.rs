//! The vendor API (`Authorization: Bearer sk_…`): WorkOS-compatible paths and shapes
//! (WIRE-COMPAT.md) plus scimgate's onboarding additions in the same style, one file
//! per resource. Handlers are thin: extract (`params`: the query string; `body`: the
//! request body; `crate::auth::ApiKey`), one `core` call run by `crate::exec`, answer
//! with the `scimgate_core::wire` shapes (or core's objects as built).

use actix_web::web;

mod api_keys;
mod audit_logs;
mod body;
mod directories;
mod directory_groups;
mod directory_users;
pub mod doc;
mod events;
mod mappings;
mod organizations;
mod params;
mod portal;
mod snapshot;
mod tokens;
mod webhooks;

crate::routes::route_table! {
    post "/organizations" => organizations::create,
    post "/portal/generate_link" => portal::generate_link,
    get "/organizations" => organizations::list,
    get "/organizations/{id}" => organizations::get,
    post "/directories" => directories::create,
    get "/directories" => directories::list,
    get "/directories/{id}" => directories::get,
    delete "/directories/{id}" => directories::delete,
    post "/directories/{id}/tokens" => tokens::create,
    get "/directories/{id}/tokens" => tokens::list,
    delete "/directories/{id}/tokens/{token_id}" => tokens::revoke,
    get "/directory_users" => directory_users::list,
    get "/directory_users/{id}" => directory_users::get,
    get "/directory_groups" => directory_groups::list,
    get "/directory_groups/{id}" => directory_groups::get,
    get "/directories/{id}/snapshot" => snapshot::stream,
    get "/directories/{id}/attribute_mappings" => mappings::get_attributes,
    put "/directories/{id}/attribute_mappings" => mappings::set_attributes,
    post "/organizations/{id}/role_mappings" => mappings::create_role,
    get "/organizations/{id}/role_mappings" => mappings::list_roles,
    delete "/organizations/{id}/role_mappings/{mapping_id}" => mappings::delete_role,
    get "/directory_users/{id}/roles/explain" => mappings::explain_roles,
    get "/events" => events::list,
    get "/audit_logs" => audit_logs::list,
    get "/api_keys" => api_keys::list,
    post "/api_keys" => api_keys::create,
    delete "/api_keys/{id}" => api_keys::revoke,
    post "/webhook_endpoints" => webhooks::create,
    get "/webhook_endpoints" => webhooks::list,
    get "/webhook_endpoints/{id}" => webhooks::get,
    patch "/webhook_endpoints/{id}" => webhooks::update,
    delete "/webhook_endpoints/{id}" => webhooks::delete,
    post "/webhook_endpoints/{id}/rotate_secret" => webhooks::rotate_secret,
    get "/webhook_endpoints/{id}/deliveries" => webhooks::deliveries,
    post "/webhook_endpoints/{id}/redeliver" => webhooks::redeliver,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    register(cfg);
}
