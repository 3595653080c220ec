//! The webhook objects of the vendor API as `Serialize` structs, in wire order: the
//! WorkOS webhook endpoint (WIRE-COMPAT.md §1 `POST /webhook_endpoints`, §7 "Webhook
//! endpoint object") with scimgate's `organization_id`, `description` and `health`,
//! and scimgate's delivery attempt.

use serde::Serialize;
use utoipa::ToSchema;

use crate::clock;
use crate::ids::{DirectoryId, OrganizationId, WebhookEndpointId};
use crate::store::webhooks::{AttemptRow, EndpointRow};

/// WIRE-COMPAT.md §7: `{object: "webhook_endpoint", id: "we_…", endpoint_url,
/// secret: "whsec_…", status: enabled|disabled, events[], created_at, updated_at}`;
/// the secret only on creation and rotation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookEndpoint {
    pub object: &'static str,
    pub id: WebhookEndpointId,
    pub endpoint_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub status: String,
    pub events: Vec<String>,
    pub organization_id: Option<OrganizationId>,
    pub description: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

impl WebhookEndpoint {
    pub fn new(row: &EndpointRow, secret: Option<String>, health: Option<Health>) -> Self {
        WebhookEndpoint {
            object: "webhook_endpoint",
            id: row.id.clone(),
            endpoint_url: row.endpoint_url.clone(),
            secret,
            status: row.status.clone(),
            events: crate::service::webhooks::events_of(row),
            organization_id: row.organization_id.clone(),
            description: row.description.clone(),
            created_at: clock::to_workos(row.created_at),
            updated_at: clock::to_workos(row.updated_at),
            health,
        }
    }
}

/// An endpoint's health: `healthy`, `failing` (since the first failed attempt after
/// the last success) or `disabled`; its backlog per directory.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    pub state: &'static str,
    pub healthy: bool,
    pub failing_since: Option<String>,
    pub last_success_at: Option<String>,
    pub disabled_reason: Option<String>,
    /// Events past the cursors, all directories (subscribed or not).
    pub undelivered: i64,
    pub oldest_undelivered_age_seconds: Option<f64>,
    pub backlog: Vec<Backlog>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Backlog {
    pub directory_id: DirectoryId,
    pub delivered_sequence: i64,
    pub undelivered: i64,
    pub oldest_undelivered_at: Option<String>,
    pub oldest_undelivered_age_seconds: Option<f64>,
    pub attempts: i32,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
}

/// One delivery attempt (`GET /webhook_endpoints/{id}/deliveries`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub object: &'static str,
    pub id: String,
    pub webhook_endpoint_id: WebhookEndpointId,
    pub event_id: String,
    pub event: String,
    pub directory_id: DirectoryId,
    pub sequence: i64,
    pub attempt: i32,
    /// delivered | failed (to be retried) | gave_up | disabled (410 Gone)
    pub status: String,
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub error_kind: Option<String>,
    pub response_snippet: Option<String>,
    pub attempted_at: String,
}

impl From<&AttemptRow> for Delivery {
    fn from(row: &AttemptRow) -> Self {
        let a = &row.a;
        Delivery {
            object: "webhook_delivery",
            id: format!("whd_{}", row.id),
            webhook_endpoint_id: a.endpoint_id.clone(),
            event_id: a.event_id.clone(),
            event: a.event.clone(),
            directory_id: a.directory_id.clone(),
            sequence: a.seq,
            attempt: a.attempt,
            status: a.outcome.clone(),
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            error_kind: a.error_kind.clone(),
            response_snippet: a.response_snippet.clone(),
            attempted_at: clock::to_workos(a.attempted_at),
        }
    }
}
