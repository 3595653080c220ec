//! `/webhook_endpoints` (WIRE-COMPAT.md §1: `POST {endpoint_url, events[]}` → the
//! endpoint with its `secret`; `PATCH {endpoint_url?, status?, events[]?}`; `GET`,
//! `DELETE`), and scimgate's additions: `organization_id` and `description` on
//! create, `POST …/rotate_secret`, `GET …/deliveries`, `POST …/redeliver`, and the
//! endpoint's `health`. An `endpoint_url` refused by the target policy
//! (`scimgate_webhooks::target`) is a 400 `invalid_endpoint_url`; other faults of a
//! body are 422 (`super::body`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use super::body::{Body, Fields};
use super::params::{int, Invalid, Query};
use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::audit::{Entry, Outcome};
use scimgate_core::clock;
use scimgate_core::ids::{DirectoryId, EventId, OrganizationId, PrefixedId, WebhookEndpointId};
use scimgate_core::service::audit;
use scimgate_core::service::webhooks::{self as svc, DeliveryQuery, EndpointChange, Redeliver};
use scimgate_core::wire_webhooks::{Delivery, WebhookEndpoint};
use scimgate_core::Core;
use scimgate_webhooks::target;

/// A list of event names as sent (`events`): an array of strings.
fn event_list(f: &Fields) -> Result<Option<Vec<String>>, Invalid> {
    match f.get("events") {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(Invalid("`events` must be an array of event names".into())),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(Invalid("`events` must be an array of event names".into())),
    }
}

/// `POST /webhook_endpoints`.
#[derive(Debug, Deserialize)]
#[serde(try_from = "Fields")]
pub struct NewEndpoint {
    endpoint_url: String,
    events: Option<Vec<String>>,
    organization_id: Option<String>,
    description: Option<String>,
}

impl TryFrom<Fields> for NewEndpoint {
    type Error = Invalid;
    fn try_from(f: Fields) -> Result<Self, Invalid> {
        Ok(NewEndpoint {
            endpoint_url: f.required("endpoint_url")?,
            events: event_list(&f)?,
            organization_id: f.text("organization_id")?,
            description: f.text("description")?,
        })
    }
}

/// `PATCH /webhook_endpoints/{id}`.
#[derive(Debug, Deserialize)]
#[serde(try_from = "Fields")]
pub struct ChangeEndpoint {
    endpoint_url: Option<String>,
    events: Option<Vec<String>>,
    enabled: Option<bool>,
    description: Option<Option<String>>,
}

impl TryFrom<Fields> for ChangeEndpoint {
    type Error = Invalid;
    fn try_from(f: Fields) -> Result<Self, Invalid> {
        let enabled = match f.text("status")?.as_deref() {
            None => None,
            Some("enabled") => Some(true),
            Some("disabled") => Some(false),
            Some(other) => {
                return Err(Invalid(format!(
                    "`status` must be enabled or disabled, not {other:?}"
                )))
            }
        };
        Ok(ChangeEndpoint {
            endpoint_url: f.text("endpoint_url")?,
            events: event_list(&f)?,
            enabled,
            description: f
                .has("description")
                .then(|| f.text("description"))
                .transpose()?,
        })
    }
}

/// `POST /webhook_endpoints/{id}/rotate_secret`: `{overlap_seconds?}` (default a day,
/// at most a week) during which the previous secret signs too.
#[derive(Debug, Deserialize)]
#[serde(try_from = "Fields")]
pub struct Rotate {
    overlap_seconds: i64,
}

pub const DEFAULT_OVERLAP_SECONDS: i64 = 86_400;

impl TryFrom<Fields> for Rotate {
    type Error = Invalid;
    fn try_from(f: Fields) -> Result<Self, Invalid> {
        let overlap_seconds = match f.get("overlap_seconds") {
            None => DEFAULT_OVERLAP_SECONDS,
            Some(v) => v
                .as_i64()
                .filter(|n| (0..=7 * 86_400).contains(n))
                .ok_or_else(|| {
                    Invalid("`overlap_seconds` must be an integer from 0 to 604800".into())
                })?,
        };
        Ok(Rotate { overlap_seconds })
    }
}

/// `POST /webhook_endpoints/{id}/redeliver`: `{event_id}`, or any of `directory_id`,
/// `range_start`, `range_end` (ISO 8601).
#[derive(Debug, Deserialize)]
#[serde(try_from = "Fields")]
pub struct RedeliverBody(Redeliver);

impl TryFrom<Fields> for RedeliverBody {
    type Error = Invalid;
    fn try_from(f: Fields) -> Result<Self, Invalid> {
        let event = f.text("event_id")?;
        let directory = f.text("directory_id")?;
        let start = time("range_start", f.text("range_start")?.as_deref())?;
        let end = time("range_end", f.text("range_end")?.as_deref())?;
        match event {
            Some(e) => {
                if directory.is_some() || start.is_some() || end.is_some() {
                    return Err(Invalid(
                        "`event_id` names one event: send it alone, or use `directory_id`/`range_start`/`range_end`".into(),
                    ));
                }
                let id = EventId::parse(&e).map_err(|err| Invalid(format!("`event_id`: {err}")))?;
                Ok(RedeliverBody(Redeliver::Event(id)))
            }
            None if directory.is_none() && start.is_none() && end.is_none() => Err(Invalid(
                "name what to redeliver: `event_id`, or `directory_id` and/or `range_start`/`range_end`".into(),
            )),
            None => {
                let directory_id = directory
                    .map(|d| {
                        DirectoryId::parse(&d).map_err(|err| Invalid(format!("`directory_id`: {err}")))
                    })
                    .transpose()?;
                if let (Some(s), Some(e)) = (start, end) {
                    if s >= e {
                        return Err(Invalid("`range_start` must be before `range_end`".into()));
                    }
                }
                Ok(RedeliverBody(Redeliver::Range {
                    directory_id,
                    start,
                    end,
                }))
            }
        }
    }
}

fn time(name: &str, v: Option<&str>) -> Result<Option<chrono::NaiveDateTime>, Invalid> {
    v.map(|s| {
        clock::parse_rfc3339(s)
            .ok_or_else(|| Invalid(format!("`{name}` must be an ISO 8601 date-time")))
    })
    .transpose()
}

/// `GET /webhook_endpoints?limit&after`.
#[derive(Debug, Deserialize)]
pub struct ListParams {
    limit: Option<String>,
    after: Option<String>,
}

/// `GET /webhook_endpoints/{id}/deliveries?status&event&directory_id&range_start&range_end&limit&after`.
#[derive(Debug, Deserialize)]
pub struct DeliveryParams {
    status: Option<String>,
    event: Option<String>,
    directory_id: Option<String>,
    range_start: Option<String>,
    range_end: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

fn limit(v: Option<&str>) -> Result<i64, ApiError> {
    let n = int("limit", v)
        .map_err(|e| ApiError::bad_request(e.0))?
        .unwrap_or(10);
    if !(1..=100).contains(&n) {
        return Err(ApiError::bad_request("limit must be between 1 and 100"));
    }
    Ok(n)
}

fn refused(e: target::Refused) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_endpoint_url", e.0)
}

/// The URL checked against the policy (DNS included: on the blocking pool).
fn checked_url(state: &AppState, url: &str) -> Result<String, ApiError> {
    target::check_url(&state.config.webhook_policy(), url).map_err(refused)
}

fn endpoint_id(id: &str) -> Result<WebhookEndpointId, ApiError> {
    Ok(WebhookEndpointId::parse_or_not_found(id)?)
}

fn with_health(
    core: &Core,
    row: &svc::Endpoint,
    secret: Option<String>,
) -> Result<WebhookEndpoint, ApiError> {
    let h = svc::health(row, &svc::backlog(core, &row.id)?);
    Ok(WebhookEndpoint::new(row, secret, Some(h)))
}

/// The audit entry of a successful change of the endpoint `row` (its secret never in it).
#[utoipa::path(
    post,
    path = "/webhook_endpoints",
    operation_id = "webhooks_create",
    tag = "webhook_endpoints",
    summary = "Create a webhook endpoint",
    request_body = super::doc::NewEndpoint,
    responses((status = 201, description = "the endpoint with its `secret` (shown once)", body = scimgate_core::wire_webhooks::WebhookEndpoint), (status = 400, description = "the endpoint URL is refused (`invalid_endpoint_url`)", body = super::doc::Error))
)]
pub async fn create(
    state: web::Data<AppState>,
    key: ApiKey,
    body: Body<NewEndpoint>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let st = state.clone();
    let created = exec::blocking(&state.core, key, move |core, caller| {
        let organization_id = b
            .organization_id
            .map(|o| OrganizationId::parse_or_not_found(&o))
            .transpose()?;
        // the cheap checks before DNS
        if let Some(list) = &b.events {
            svc::check_events(list)?;
        }
        let endpoint_url = checked_url(&st, &b.endpoint_url)?;
        let (row, secret) = svc::create_endpoint(
            core,
            svc::NewEndpoint {
                endpoint_url,
                events: b.events,
                organization_id,
                description: b.description,
            },
        )?;
        audit::note(
            core,
            svc::audit_entry(&caller.actor, "webhook_endpoint.created", &row),
        );
        with_health(core, &row, Some(secret))
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

#[utoipa::path(
    get,
    path = "/webhook_endpoints",
    operation_id = "webhooks_list",
    tag = "webhook_endpoints",
    summary = "List webhook endpoints",
    params(super::doc::EndpointPage),
    responses((status = 200, description = "a page of endpoints with their health", body = scimgate_core::wire::List<scimgate_core::wire_webhooks::WebhookEndpoint>))
)]
pub async fn list(
    state: web::Data<AppState>,
    key: ApiKey,
    q: Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let n = limit(q.0.limit.as_deref())?;
    let after = q
        .0
        .after
        .map(|a| {
            WebhookEndpointId::parse(&a).map_err(|e| ApiError::bad_request(format!("`after`: {e}")))
        })
        .transpose()?;
    let page = exec::blocking(&state.core, key, move |core, _| {
        let (rows, more) = svc::list_endpoints(core, after.as_ref(), n)?;
        let data = rows
            .iter()
            .map(|r| with_health(core, r, None))
            .collect::<Result<Vec<_>, _>>()?;
        let after = if more {
            rows.last().map(|r| r.id.to_string())
        } else {
            None
        };
        Ok(serde_json::json!({
            "object": "list",
            "data": data,
            "list_metadata": {"before": null, "after": after},
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(
    get,
    path = "/webhook_endpoints/{id}",
    operation_id = "webhooks_get",
    tag = "webhook_endpoints",
    summary = "Get a webhook endpoint",
    params(("id" = String, Path, description = "a webhook endpoint id")),
    responses((status = 200, description = "the endpoint with its health", body = scimgate_core::wire_webhooks::WebhookEndpoint))
)]
pub async fn get(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let ep = exec::blocking(&state.core, key, move |core, _| {
        let row = svc::get_endpoint(core, &endpoint_id(&id)?)?;
        with_health(core, &row, None)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ep))
}

#[utoipa::path(
    patch,
    path = "/webhook_endpoints/{id}",
    operation_id = "webhooks_update",
    tag = "webhook_endpoints",
    summary = "Change a webhook endpoint",
    params(("id" = String, Path, description = "a webhook endpoint id")),
    request_body = super::doc::ChangeEndpoint,
    responses((status = 200, description = "the endpoint", body = scimgate_core::wire_webhooks::WebhookEndpoint), (status = 400, description = "the endpoint URL is refused (`invalid_endpoint_url`)", body = super::doc::Error))
)]
pub async fn update(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
    body: Body<ChangeEndpoint>,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (path.into_inner(), body.0);
    let st = state.clone();
    let ep = exec::blocking(&state.core, key, move |core, caller| {
        let id = endpoint_id(&id)?;
        svc::get_endpoint(core, &id)?;
        if let Some(list) = &b.events {
            svc::check_events(list)?;
        }
        let endpoint_url = b.endpoint_url.map(|u| checked_url(&st, &u)).transpose()?;
        let row = svc::update_endpoint(
            core,
            &id,
            EndpointChange {
                endpoint_url,
                events: b.events,
                enabled: b.enabled,
                description: b.description,
            },
        )?;
        audit::note(
            core,
            svc::audit_entry(&caller.actor, "webhook_endpoint.updated", &row),
        );
        with_health(core, &row, None)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ep))
}

#[utoipa::path(
    delete,
    path = "/webhook_endpoints/{id}",
    operation_id = "webhooks_delete",
    tag = "webhook_endpoints",
    summary = "Delete a webhook endpoint",
    params(("id" = String, Path, description = "a webhook endpoint id")),
    responses((status = 204, description = "deleted"))
)]
pub async fn delete(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    exec::blocking(&state.core, key, move |core, caller| {
        let id = endpoint_id(&id)?;
        svc::delete_endpoint(core, &id)?;
        let entry = Entry::new(&caller.actor, "webhook_endpoint.deleted", Outcome::Success)
            .target("webhook_endpoint", id.to_string());
        audit::note(core, entry);
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/webhook_endpoints/{id}/rotate_secret",
    operation_id = "webhooks_rotate_secret",
    tag = "webhook_endpoints",
    summary = "Rotate the signing secret",
    params(("id" = String, Path, description = "a webhook endpoint id")),
    request_body = super::doc::Rotate,
    responses((status = 200, description = "the endpoint with its new `secret` (shown once)", body = scimgate_core::wire_webhooks::WebhookEndpoint))
)]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
    body: Body<Rotate>,
) -> Result<HttpResponse, ApiError> {
    let (id, overlap) = (path.into_inner(), body.0.overlap_seconds);
    let ep = exec::blocking(&state.core, key, move |core, caller| {
        let (row, secret) =
            svc::rotate_secret(core, &endpoint_id(&id)?, chrono::Duration::seconds(overlap))?;
        let entry = svc::audit_entry(&caller.actor, "webhook_endpoint.secret_rotated", &row)
            .details(serde_json::json!({ "overlap_seconds": overlap }));
        audit::note(core, entry);
        with_health(core, &row, Some(secret))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ep))
}

#[utoipa::path(
    get,
    path = "/webhook_endpoints/{id}/deliveries",
    operation_id = "webhooks_deliveries",
    tag = "webhook_endpoints",
    summary = "Delivery attempts of an endpoint",
    params(("id" = String, Path, description = "a webhook endpoint id"), super::doc::DeliveryFilter),
    responses((status = 200, description = "a page of attempts, newest first", body = scimgate_core::wire::List<scimgate_core::wire_webhooks::Delivery>))
)]
pub async fn deliveries(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
    q: Query<DeliveryParams>,
) -> Result<HttpResponse, ApiError> {
    let (id, p) = (path.into_inner(), q.0);
    let bad = |e: Invalid| ApiError::bad_request(e.0);
    let n = limit(p.limit.as_deref())?;
    if let Some(s) = &p.status {
        if !["delivered", "failed", "gave_up", "disabled"].contains(&s.as_str()) {
            return Err(ApiError::bad_request(format!(
                "`status` must be delivered, failed, gave_up or disabled, not {s:?}"
            )));
        }
    }
    if let Some(e) = &p.event {
        if !scimgate_core::events::ALL_EVENTS.contains(&e.as_str()) {
            return Err(ApiError::bad_request(format!("unknown event name {e:?}")));
        }
    }
    let before = p
        .after
        .map(|a| {
            a.strip_prefix("whd_")
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or_else(|| ApiError::bad_request(format!("`after`: {a:?} is no delivery id")))
        })
        .transpose()?;
    let query = DeliveryQuery {
        outcome: p.status,
        event: p.event,
        directory_id: p
            .directory_id
            .map(|d| {
                DirectoryId::parse(&d)
                    .map_err(|e| ApiError::bad_request(format!("`directory_id`: {e}")))
            })
            .transpose()?,
        range_start: time("range_start", p.range_start.as_deref()).map_err(bad)?,
        range_end: time("range_end", p.range_end.as_deref()).map_err(bad)?,
        before,
        limit: n + 1,
    };
    let page = exec::blocking(&state.core, key, move |core, _| {
        let mut rows = svc::deliveries(core, &endpoint_id(&id)?, &query)?;
        let more = rows.len() as i64 > n;
        rows.truncate(n as usize);
        let data: Vec<Delivery> = rows.iter().map(Delivery::from).collect();
        let after = if more {
            data.last().map(|d| d.id.clone())
        } else {
            None
        };
        Ok(serde_json::json!({
            "object": "list",
            "data": data,
            "list_metadata": {"before": null, "after": after},
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(
    post,
    path = "/webhook_endpoints/{id}/redeliver",
    operation_id = "webhooks_redeliver",
    tag = "webhook_endpoints",
    summary = "Deliver events again, in order",
    params(("id" = String, Path, description = "a webhook endpoint id")),
    request_body = super::doc::Redeliver,
    responses((status = 202, description = "the cursors moved back", body = super::doc::Redelivery))
)]
pub async fn redeliver(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
    body: Body<RedeliverBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, what) = (path.into_inner(), body.0 .0);
    let moved = exec::blocking(&state.core, key, move |core, caller| {
        let id = endpoint_id(&id)?;
        let details = serde_json::json!({ "what": format!("{what:?}") });
        let moved = svc::redeliver(core, &id, what)?;
        let entry = Entry::new(
            &caller.actor,
            "webhook_endpoint.redelivered",
            Outcome::Success,
        )
        .target("webhook_endpoint", id.to_string())
        .details(details);
        audit::note(core, entry);
        Ok(moved)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({
        "object": "webhook_redelivery",
        "directories": moved,
    })))
}
