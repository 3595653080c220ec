//! The SCIM surface as the OpenAPI document (`/openapi.json`) describes it: the
//! resources of RFC 7643 (§4.1 User, §4.2 Group, §5 ServiceProviderConfig, §6
//! ResourceType, §7 Schema), the messages of RFC 7644 (§3.4.2 ListResponse, §3.4.3
//! SearchRequest, §3.5.2 PatchOp, §3.12 Error) and the list parameters of §3.4.2.
//! Resources carry more attributes than listed (extensions, what the IdP sent):
//! the objects here are open (JSON Schema: other members allowed).

#![allow(dead_code)] // read by the derives only

use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// `meta` of a resource (RFC 7643 §3.1).
#[derive(ToSchema)]
pub struct Meta {
    #[schema(rename = "resourceType")]
    resource_type: Option<String>,
    created: Option<String>,
    #[schema(rename = "lastModified")]
    last_modified: Option<String>,
    location: Option<String>,
    version: Option<String>,
}

/// A SCIM User (RFC 7643 §4.1) as the server answers it: `id` and `schemas` always,
/// the other attributes as stored (and as `attributes`/`excludedAttributes` project).
#[derive(ToSchema)]
pub struct User {
    schemas: Vec<String>,
    id: String,
    #[schema(rename = "externalId")]
    external_id: Option<String>,
    #[schema(rename = "userName")]
    user_name: Option<String>,
    active: Option<bool>,
    meta: Option<Meta>,
}

/// A SCIM User as sent by an IdP (RFC 7643 §4.1): `userName` is required.
#[derive(ToSchema)]
pub struct UserIn {
    schemas: Vec<String>,
    #[schema(rename = "userName")]
    user_name: String,
    #[schema(rename = "externalId")]
    external_id: Option<String>,
    active: Option<bool>,
    name: Option<Value>,
    emails: Option<Vec<Value>>,
}

/// A SCIM Group (RFC 7643 §4.2) as the server answers it.
#[derive(ToSchema)]
pub struct Group {
    schemas: Vec<String>,
    id: String,
    #[schema(rename = "displayName")]
    display_name: Option<String>,
    #[schema(rename = "externalId")]
    external_id: Option<String>,
    members: Option<Vec<Member>>,
    meta: Option<Meta>,
}

/// A member of a group (RFC 7643 §4.2).
#[derive(ToSchema)]
pub struct Member {
    value: String,
    display: Option<String>,
    #[schema(rename = "$ref")]
    reference: Option<String>,
    #[schema(rename = "type")]
    kind: Option<String>,
}

/// A SCIM Group as sent by an IdP: `displayName` is required.
#[derive(ToSchema)]
pub struct GroupIn {
    schemas: Vec<String>,
    #[schema(rename = "displayName")]
    display_name: String,
    #[schema(rename = "externalId")]
    external_id: Option<String>,
    members: Option<Vec<Value>>,
}

/// A ListResponse (RFC 7644 §3.4.2): of Users, Groups, ResourceTypes or Schemas.
#[derive(ToSchema)]
pub struct ListResponse {
    schemas: Vec<String>,
    #[schema(rename = "totalResults")]
    total_results: i64,
    #[schema(rename = "itemsPerPage")]
    items_per_page: Option<i64>,
    #[schema(rename = "startIndex")]
    start_index: Option<i64>,
    #[schema(rename = "Resources")]
    resources: Option<Vec<Value>>,
}

/// A SearchRequest (RFC 7644 §3.4.3), the body of `POST …/.search`.
#[derive(ToSchema)]
pub struct SearchRequest {
    schemas: Vec<String>,
    filter: Option<String>,
    #[schema(rename = "startIndex")]
    start_index: Option<i64>,
    count: Option<i64>,
    attributes: Option<Vec<String>>,
    #[schema(rename = "excludedAttributes")]
    excluded_attributes: Option<Vec<String>>,
    #[schema(rename = "sortBy")]
    sort_by: Option<String>,
    #[schema(rename = "sortOrder")]
    sort_order: Option<String>,
}

/// A PatchOp (RFC 7644 §3.5.2).
#[derive(ToSchema)]
pub struct PatchOp {
    schemas: Vec<String>,
    #[schema(rename = "Operations")]
    operations: Vec<PatchOperation>,
}

/// One operation of a PatchOp: `add`, `remove` or `replace` (any case, as IdPs send).
#[derive(ToSchema)]
pub struct PatchOperation {
    op: String,
    path: Option<String>,
    value: Option<Value>,
}

/// A BulkRequest (RFC 7644 §3.7); scimgate answers 501 (ServiceProviderConfig says
/// `bulk.supported: false`).
#[derive(ToSchema)]
pub struct BulkRequest {
    schemas: Vec<String>,
    #[schema(rename = "Operations")]
    operations: Vec<Value>,
}

/// A SCIM resource of discovery (ServiceProviderConfig, ResourceType, Schema).
#[derive(ToSchema)]
pub struct Discovery {
    schemas: Vec<String>,
}

/// A SCIM error (RFC 7644 §3.12), `application/scim+json`.
#[derive(ToSchema)]
#[schema(as = ScimError)]
pub struct Error {
    schemas: Vec<String>,
    /// The HTTP status as a string.
    status: String,
    #[schema(rename = "scimType")]
    scim_type: Option<String>,
    detail: Option<String>,
}

/// The list parameters of RFC 7644 §3.4.2.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A filter (§3.4.2.2), such as `userName eq "ada@example.com"`.
    filter: Option<String>,
    /// 1-based (§3.4.2.4).
    #[param(rename = "startIndex")]
    start_index: Option<i64>,
    count: Option<i64>,
    #[param(rename = "sortBy")]
    sort_by: Option<String>,
    /// `ascending` or `descending`.
    #[param(rename = "sortOrder")]
    sort_order: Option<String>,
    /// Comma-separated attribute names (§3.4.2.5).
    attributes: Option<String>,
    #[param(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

/// The projection of a single resource (RFC 7644 §3.4.2.5).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Projection {
    attributes: Option<String>,
    #[param(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}
