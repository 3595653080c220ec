//! The vendor API (`Authorization: Bearer sk_…`): WorkOS-compatible paths and shapes
//! (WIRE-COMPAT.md) plus scimgate's onboarding additions in the same style, one file
//! per resource. Handlers are thin: extract (`params`: the query string; `body`: the
//! request body; `crate::auth::ApiKey`), one `core` call run by `crate::exec`, answer
//! with the `scimgate_core::wire` shapes (or core's objects as built).

use actix_web::web;

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
        .route("/events", web::get().to(events::list));
}
