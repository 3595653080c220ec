//! The vendor API's request bodies and query strings as the OpenAPI document
//! (`/openapi.json`) describes them. The handlers read bodies and queries through
//! their own checked structs (`super::body`, `super::params`: one fixed order of
//! checks, a 422 naming the member); these structs only describe what is accepted.
//! The response objects are `scimgate_core::wire`'s own `ToSchema` derives.

#![allow(dead_code)] // read by the derives only

use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// `order` of a WorkOS list: `desc` (the default), `asc`, or `normal` (as `desc`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
    Normal,
}

/// A WorkOS list page (WIRE-COMPAT.md §1).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// A cursor: the page before this id.
    before: Option<String>,
    /// A cursor: the page after this id.
    after: Option<String>,
    /// Page size, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    #[param(inline)]
    order: Option<Order>,
}

/// `GET /directories`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryFilter {
    organization_id: Option<String>,
    /// Part of the directory's name.
    search: Option<String>,
    domain: Option<String>,
}

/// `GET /directory_users`: `directory` or `group` is required.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    directory: Option<String>,
    group: Option<String>,
    idp_id: Option<String>,
    email: Option<String>,
}

/// `GET /directory_groups`: `directory` or `user` is required.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupFilter {
    directory: Option<String>,
    user: Option<String>,
}

/// `GET /events` (WIRE-COMPAT.md §1, §3).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Event names (`dsync.user.created`, …), comma-separated or repeated (`events[]=`).
    events: Option<Vec<String>>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    #[param(inline)]
    order: Option<Order>,
    before: Option<String>,
    /// A cursor: an event id (or a snapshot's cursor).
    after: Option<String>,
    /// RFC 3339.
    #[param(format = DateTime)]
    range_start: Option<String>,
    /// RFC 3339.
    #[param(format = DateTime)]
    range_end: Option<String>,
    organization_id: Option<String>,
    directory_id: Option<String>,
    /// Long poll: wait up to this many seconds for a first event.
    #[param(minimum = 0, maximum = 30)]
    wait: Option<i64>,
}

/// `GET /audit_logs`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// An actor id (an API key's `key_…`, an operator, `system`, …).
    actor: Option<String>,
    /// An action such as `api_key.created`.
    action: Option<String>,
    /// A target id.
    target: Option<String>,
    /// RFC 3339.
    #[param(format = DateTime)]
    range_start: Option<String>,
    /// RFC 3339.
    #[param(format = DateTime)]
    range_end: Option<String>,
}

/// `GET /webhook_endpoints`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EndpointPage {
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// A cursor: an endpoint id.
    after: Option<String>,
}

/// `GET /webhook_endpoints/{id}/deliveries`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// `succeeded` or `failed`.
    status: Option<String>,
    /// An event name.
    event: Option<String>,
    directory_id: Option<String>,
    /// RFC 3339.
    #[param(format = DateTime)]
    range_start: Option<String>,
    /// RFC 3339.
    #[param(format = DateTime)]
    range_end: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// A cursor: a delivery id.
    after: Option<String>,
}

/// `POST /organizations`.
#[derive(ToSchema)]
pub struct NewOrganization {
    name: String,
    /// Domains as strings, or WorkOS `domain_data` objects (`{"domain"}`).
    domains: Option<Vec<Value>>,
    domain_data: Option<Vec<Value>>,
}

/// The WorkOS SCIM directory types (`scimgate_connectors::DirectoryType`).
#[derive(ToSchema)]
pub enum DirectoryType {
    #[schema(rename = "azure scim v2.0")]
    Azure,
    #[schema(rename = "cyberark scim v2.0")]
    CyberArk,
    #[schema(rename = "generic scim v2.0")]
    Generic,
    #[schema(rename = "jump cloud scim v2.0")]
    JumpCloud,
    #[schema(rename = "okta scim v2.0")]
    Okta,
    #[schema(rename = "onelogin scim v2.0")]
    OneLogin,
    #[schema(rename = "pingfederate scim v2.0")]
    PingFederate,
    #[schema(rename = "rippling scim v2.0")]
    Rippling,
    #[schema(rename = "sailpoint scim v2.0")]
    SailPoint,
}

/// `POST /directories`.
#[derive(ToSchema)]
pub struct NewDirectory {
    organization_id: String,
    #[schema(rename = "type", inline)]
    dir_type: DirectoryType,
    name: Option<String>,
}

/// `POST /directories/{id}/tokens`.
#[derive(ToSchema)]
pub struct NewToken {
    /// Default `token`.
    name: Option<String>,
    /// RFC 3339, in the future; none: never expires.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

/// One custom-attribute mapping: the value at SCIM `path` becomes `custom_attributes[key]`.
#[derive(ToSchema)]
pub struct AttributeMappingIn {
    path: String,
    key: String,
}

/// `PUT /directories/{id}/attribute_mappings`: `mappings: null` restores the defaults.
#[derive(ToSchema)]
pub struct SetAttributes {
    mappings: Option<Vec<AttributeMappingIn>>,
}

/// `POST /organizations/{id}/role_mappings`.
#[derive(ToSchema)]
pub struct NewRoleMapping {
    group_id: String,
    role_slug: String,
    /// Higher wins when a user's groups grant several roles.
    priority: Option<i32>,
}

/// A scope of an API key (`scimgate_core::scope::Scope`).
#[derive(ToSchema)]
pub enum Scope {
    #[schema(rename = "events:read")]
    EventsRead,
    #[schema(rename = "directories:read")]
    DirectoriesRead,
    #[schema(rename = "directories:write")]
    DirectoriesWrite,
    #[schema(rename = "portal:write")]
    PortalWrite,
    #[schema(rename = "admin")]
    Admin,
}

/// `POST /api_keys`.
#[derive(ToSchema)]
pub struct NewApiKey {
    name: String,
    /// At least one.
    #[schema(inline, min_items = 1)]
    scopes: Vec<Scope>,
    /// RFC 3339, in the future.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

/// `POST /portal/generate_link`.
#[derive(ToSchema)]
pub struct GenerateLink {
    /// An organization id.
    organization: String,
    #[schema(inline)]
    intent: Intent,
    return_url: Option<String>,
    success_url: Option<String>,
}

/// What a setup link sets up: directory sync only.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Intent {
    Dsync,
}

/// The answer of `POST /portal/generate_link`.
#[derive(ToSchema)]
pub struct PortalLink {
    link: String,
}

/// `POST /webhook_endpoints`.
#[derive(ToSchema)]
pub struct NewEndpoint {
    /// `https://` (or `http://` when `SCIMGATE_WEBHOOK_ALLOW_HTTP=true`), not to a private address.
    endpoint_url: String,
    /// Event names; by default WorkOS's `dsync.*` types.
    events: Option<Vec<String>>,
    organization_id: Option<String>,
    description: Option<String>,
}

/// `PATCH /webhook_endpoints/{id}`.
#[derive(ToSchema)]
pub struct ChangeEndpoint {
    endpoint_url: Option<String>,
    events: Option<Vec<String>>,
    #[schema(inline)]
    status: Option<EndpointStatus>,
    description: Option<String>,
}

/// Whether an endpoint is sent events.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum EndpointStatus {
    Enabled,
    Disabled,
}

/// `POST /webhook_endpoints/{id}/rotate_secret`.
#[derive(ToSchema)]
pub struct Rotate {
    /// How long the previous secret signs too: 0 to 604800 seconds (default 86400).
    #[schema(minimum = 0, maximum = 604800)]
    overlap_seconds: Option<i64>,
}

/// `POST /webhook_endpoints/{id}/redeliver`: `event_id` alone, or any of `directory_id`,
/// `range_start`, `range_end`.
#[derive(ToSchema)]
pub struct Redeliver {
    event_id: Option<String>,
    directory_id: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    range_start: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    range_end: Option<String>,
}

/// The answer of `POST /webhook_endpoints/{id}/redeliver`.
#[derive(ToSchema)]
pub struct Redelivery {
    /// `webhook_redelivery`.
    object: String,
    /// How many directories' cursors were moved back.
    directories: i64,
}

/// The vendor API's error body (WorkOS style).
#[derive(ToSchema)]
pub struct Error {
    /// A machine-readable code: `invalid_request_parameters`, `entity_not_found`,
    /// `unauthorized`, `forbidden`, `conflict`, `rate_limit_exceeded`, …
    code: String,
    message: String,
}

/// The answer of `GET /events` (WIRE-COMPAT.md §1: `list_metadata` has only `after`).
#[derive(ToSchema)]
pub struct EventList {
    /// `list`.
    object: String,
    data: Vec<scimgate_core::wire::Event<'static>>,
    list_metadata: scimgate_core::wire::EventListMetadata,
}
