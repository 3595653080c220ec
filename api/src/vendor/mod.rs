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
mod events;
mod mappings;
mod organizations;
mod params;
mod portal;
mod snapshot;
mod tokens;
mod webhooks;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/organizations", web::post().to(organizations::create))
        .route(
            "/portal/generate_link",
            web::post().to(portal::generate_link),
        )
        .route("/organizations", web::get().to(organizations::list))
        .route("/organizations/{id}", web::get().to(organizations::get))
        .route("/directories", web::post().to(directories::create))
        .route("/directories", web::get().to(directories::list))
        .route("/directories/{id}", web::get().to(directories::get))
        .route("/directories/{id}", web::delete().to(directories::delete))
        .route("/directories/{id}/tokens", web::post().to(tokens::create))
        .route("/directories/{id}/tokens", web::get().to(tokens::list))
        .route(
            "/directories/{id}/tokens/{token_id}",
            web::delete().to(tokens::revoke),
        )
        .route("/directory_users", web::get().to(directory_users::list))
        .route("/directory_users/{id}", web::get().to(directory_users::get))
        .route("/directory_groups", web::get().to(directory_groups::list))
        .route(
            "/directory_groups/{id}",
            web::get().to(directory_groups::get),
        )
        .route(
            "/directories/{id}/snapshot",
            web::get().to(snapshot::stream),
        )
        .route(
            "/directories/{id}/attribute_mappings",
            web::get().to(mappings::get_attributes),
        )
        .route(
            "/directories/{id}/attribute_mappings",
            web::put().to(mappings::set_attributes),
        )
        .route(
            "/organizations/{id}/role_mappings",
            web::post().to(mappings::create_role),
        )
        .route(
            "/organizations/{id}/role_mappings",
            web::get().to(mappings::list_roles),
        )
        .route(
            "/organizations/{id}/role_mappings/{mapping_id}",
            web::delete().to(mappings::delete_role),
        )
        .route(
            "/directory_users/{id}/roles/explain",
            web::get().to(mappings::explain_roles),
        )
        .route("/events", web::get().to(events::list))
        .route("/audit_logs", web::get().to(audit_logs::list))
        .route("/api_keys", web::get().to(api_keys::list))
        .route("/api_keys", web::post().to(api_keys::create))
        .route("/api_keys/{id}", web::delete().to(api_keys::revoke))
        .route("/webhook_endpoints", web::post().to(webhooks::create))
        .route("/webhook_endpoints", web::get().to(webhooks::list))
        .route("/webhook_endpoints/{id}", web::get().to(webhooks::get))
        .route("/webhook_endpoints/{id}", web::patch().to(webhooks::update))
        .route(
            "/webhook_endpoints/{id}",
            web::delete().to(webhooks::delete),
        )
        .route(
            "/webhook_endpoints/{id}/rotate_secret",
            web::post().to(webhooks::rotate_secret),
        )
        .route(
            "/webhook_endpoints/{id}/deliveries",
            web::get().to(webhooks::deliveries),
        )
        .route(
            "/webhook_endpoints/{id}/redeliver",
            web::post().to(webhooks::redeliver),
        );
}
