//! Webhook endpoints: a list with each endpoint's health (healthy, or failing since
//! when; the backlog; the last success), create (the signing secret shown once, with a
//! copy button), enable and disable, rotate the secret, delete with a confirmation;
//! an endpoint's page with its delivery attempts (keyset pages, newest first,
//! filtered by status). Everything goes through `core::service::webhooks`, as the
//! vendor API's `/webhook_endpoints` does (api/src/vendor/webhooks.rs), and every
//! change is audited as the vendor API audits it, with the operator as the actor.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::{blocking_ui, html, UiError};
use crate::login::{CsrfForm, DeleteForm};
use crate::pages::{
    DeliveryItem, EndpointItem, EndpointPage, EndpointsPage, EventChoice, Nav, StatusChoice,
};
use crate::session::Operator;
use crate::util::{see_other, when};
use crate::AdminUi;
use scimgate_core::audit::{Entry, Outcome};
use scimgate_core::events::ALL_EVENTS;
use scimgate_core::ids::{OrganizationId, PrefixedId, WebhookEndpointId};
use scimgate_core::service::audit;
use scimgate_core::service::webhooks::{self as svc, DeliveryQuery, EndpointChange};
use scimgate_core::wire_webhooks::Delivery;
use scimgate_core::Core;

/// Endpoints per page of the list (each reads its backlog for its health).
const ENDPOINTS: i64 = 25;
/// Delivery attempts per page.
const DELIVERIES: i64 = 50;
/// The overlap of a rotation from the admin UI: the vendor API's default (a day), in
/// which deliveries carry both signatures (WIRE-COMPAT.md §7).
const OVERLAP_SECONDS: i64 = 86_400;
/// The statuses of an attempt (`Delivery::status`).
const STATUSES: [(&str, &str); 4] = [
    ("delivered", "Delivered"),
    ("failed", "Failed (to be retried)"),
    ("gave_up", "Given up"),
    ("disabled", "Disabled the endpoint (410 Gone)"),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/webhooks", web::get().to(list))
        .route("/webhooks", web::post().to(create))
        .route("/webhooks/{id}", web::get().to(show))
        .route("/webhooks/{id}/status", web::post().to(set_status))
        .route("/webhooks/{id}/rotate", web::post().to(rotate))
        .route("/webhooks/{id}/delete", web::post().to(delete));
}

fn endpoint_id(s: &str) -> Result<WebhookEndpointId, UiError> {
    Ok(WebhookEndpointId::parse_or_not_found(s)?)
}

/// An endpoint as the pages show it, with its health.
fn item(core: &Core, row: &svc::Endpoint) -> Result<EndpointItem, UiError> {
    let h = svc::health(row, &svc::backlog(core, &row.id)?);
    Ok(EndpointItem {
        id: row.id.to_string(),
        url: row.endpoint_url.clone(),
        description: row.description.clone().unwrap_or_default(),
        organization_id: row
            .organization_id
            .as_ref()
            .map(|o| o.to_string())
            .unwrap_or_default(),
        enabled: row.status == "enabled",
        state: h.state,
        failing_since: row.failing_since.map(when),
        last_success: row.last_success_at.map(when),
        disabled_reason: h.disabled_reason.clone(),
        undelivered: h.undelivered,
        oldest_age: h
            .oldest_undelivered_age_seconds
            .map(|s| format!("{s:.0} s")),
        events: svc::events_of(row).join(", "),
        backlog: h
            .backlog
            .iter()
            .filter(|b| b.undelivered > 0 || b.last_error.is_some())
            .map(|b| {
                (
                    b.directory_id.to_string(),
                    b.undelivered,
                    b.last_error.clone().unwrap_or_default(),
                )
            })
            .collect(),
    })
}

/// The audit entry of a change of the endpoint `row`, as the vendor API writes it
/// (its secret never in it).
fn event_choices(checked: &[String]) -> Vec<EventChoice> {
    ALL_EVENTS
        .iter()
        .enumerate()
        .map(|(i, e)| EventChoice {
            id: format!("event-{i}"),
            name: e,
            checked: checked.iter().any(|c| c == e),
        })
        .collect()
}

#[derive(Deserialize)]
pub struct ListQuery {
    after: Option<String>,
}

fn list_page(
    core: &Core,
    op: &Operator,
    after: Option<WebhookEndpointId>,
    form: NewForm,
    error: Option<String>,
) -> Result<EndpointsPage, UiError> {
    let (rows, more) = svc::list_endpoints(core, after.as_ref(), ENDPOINTS)?;
    let endpoints = rows
        .iter()
        .map(|r| item(core, r))
        .collect::<Result<Vec<_>, _>>()?;
    let next = more
        .then(|| {
            rows.last()
                .map(|r| format!("/admin/webhooks?after={}", r.id))
        })
        .flatten();
    Ok(EndpointsPage {
        nav: Nav::of(op),
        endpoints,
        first_page: after.is_none(),
        next,
        events: event_choices(&form.events),
        url: form.url,
        description: form.description,
        organization_id: form.organization_id,
        error,
    })
}

pub async fn list(
    ui: web::Data<AdminUi>,
    op: Operator,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, UiError> {
    let after = match q.into_inner().after.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(a) => Some(WebhookEndpointId::parse(a).map_err(|_| {
            UiError::BadRequest("`after` is not a page cursor of this list".into())
        })?),
    };
    let core = ui.core.clone();
    // a fresh form ticks what the vendor API subscribes to by default
    let fresh = NewForm {
        events: svc::default_events(),
        ..NewForm::default()
    };
    let page = blocking_ui(move || list_page(&core, &op, after, fresh, None)).await?;
    html(&page)
}

/// The creation form as sent (its event checkboxes repeat `events`).
#[derive(Default)]
struct NewForm {
    csrf: String,
    url: String,
    description: String,
    organization_id: String,
    events: Vec<String>,
}

impl NewForm {
    fn of(pairs: Vec<(String, String)>) -> NewForm {
        let mut f = NewForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "endpoint_url" => f.url = v.trim().to_string(),
                "description" => f.description = v.trim().to_string(),
                "organization_id" => f.organization_id = v.trim().to_string(),
                "events" => f.events.push(v),
                _ => {}
            }
        }
        f
    }
}

/// Create an endpoint: its page shows the secret once. A refused URL, an empty event
/// list or an unknown organization: the list again with the form as sent and the
/// reason (400), nothing created.
pub async fn create(
    ui: web::Data<AdminUi>,
    op: Operator,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, UiError> {
    let f = NewForm::of(form.into_inner());
    op.check_csrf(&f.csrf)?;
    let core = ui.core.clone();
    let check = ui.webhook_url_check.clone();
    let made = blocking_ui(move || {
        let attempt = (|| -> Result<(svc::Endpoint, String), UiError> {
            let organization_id = match f.organization_id.as_str() {
                "" => None,
                o => Some(
                    OrganizationId::parse(o)
                        .map_err(|e| UiError::BadRequest(format!("the organization id: {e}")))?,
                ),
            };
            // the cheap checks before DNS
            let events = svc::check_events(&f.events)?;
            let endpoint_url = check(&f.url).map_err(UiError::BadRequest)?;
            let (row, secret) = svc::create_endpoint(
                &core,
                svc::NewEndpoint {
                    endpoint_url,
                    events: Some(events),
                    organization_id,
                    description: Some(f.description.clone()).filter(|d| !d.is_empty()),
                },
            )?;
            audit::note(
                &core,
                svc::audit_entry(&op.actor, "webhook_endpoint.created", &row),
            );
            Ok((row, secret))
        })();
        match attempt {
            Ok((row, secret)) => {
                endpoint_page(&core, &op, &row.id, Filter::default(), Some(secret))
                    .map(|p| Made::Endpoint(Box::new(p)))
            }
            Err(UiError::BadRequest(why)) | Err(UiError::NotFound(why)) => {
                list_page(&core, &op, None, f, Some(why)).map(|p| Made::Refused(Box::new(p)))
            }
            Err(e) => Err(e),
        }
    })
    .await?;
    match made {
        Made::Endpoint(p) => html(p.as_ref()),
        Made::Refused(p) => {
            let mut res = html(p.as_ref())?;
            *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
            Ok(res)
        }
    }
}

enum Made {
    Endpoint(Box<EndpointPage>),
    Refused(Box<EndpointsPage>),
}

/// The deliveries' filter and page.
#[derive(Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    status: String,
    /// `whd_<n>`: attempts older than this one
    before: Option<String>,
}

fn endpoint_page(
    core: &Core,
    op: &Operator,
    id: &WebhookEndpointId,
    f: Filter,
    secret: Option<String>,
) -> Result<EndpointPage, UiError> {
    let status = f.status.trim().to_string();
    if !status.is_empty() && !STATUSES.iter().any(|(s, _)| *s == status) {
        return Err(UiError::BadRequest(format!(
            "the status must be delivered, failed, gave_up or disabled, not {status:?}"
        )));
    }
    let before = match f.before.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => Some(
            b.strip_prefix("whd_")
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or_else(|| UiError::BadRequest(format!("`before`: {b:?} is no delivery id")))?,
        ),
    };
    let row = svc::get_endpoint(core, id)?;
    let mut rows = svc::deliveries(
        core,
        id,
        &DeliveryQuery {
            outcome: Some(status.clone()).filter(|s| !s.is_empty()),
            event: None,
            directory_id: None,
            range_start: None,
            range_end: None,
            before,
            limit: DELIVERIES + 1,
        },
    )?;
    let more = rows.len() as i64 > DELIVERIES;
    rows.truncate(DELIVERIES as usize);
    let deliveries: Vec<DeliveryItem> = rows
        .iter()
        .map(|r| {
            let d = Delivery::from(r);
            DeliveryItem {
                attempted_at: when(r.a.attempted_at),
                event: d.event,
                event_id: d.event_id,
                directory_id: d.directory_id.to_string(),
                attempt: d.attempt,
                status: d.status,
                status_code: d.status_code.map(|c| c.to_string()).unwrap_or_default(),
                latency_ms: d.latency_ms,
                error: d
                    .error_kind
                    .into_iter()
                    .chain(d.response_snippet)
                    .collect::<Vec<_>>()
                    .join(": "),
                id: d.id,
            }
        })
        .collect();
    let next = more
        .then(|| deliveries.last().map(|d| d.id.clone()))
        .flatten()
        .map(|c| {
            crate::util::link(
                &format!("/admin/webhooks/{id}"),
                &[("status", &status)],
                "before",
                &c,
            )
        });
    Ok(EndpointPage {
        nav: Nav::of(op),
        endpoint: item(core, &row)?,
        secret,
        statuses: STATUSES
            .iter()
            .map(|(v, l)| StatusChoice {
                value: v,
                label: l,
                selected: *v == status,
            })
            .collect(),
        status,
        paged: before.is_some(),
        deliveries,
        next,
    })
}

pub async fn show(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    q: web::Query<Filter>,
) -> Result<HttpResponse, UiError> {
    let id = endpoint_id(&path)?;
    let core = ui.core.clone();
    let q = q.into_inner();
    let page = blocking_ui(move || endpoint_page(&core, &op, &id, q, None)).await?;
    html(&page)
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
}

/// Enable (resuming where it stopped) or disable an endpoint.
pub async fn set_status(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let id = endpoint_id(&path)?;
    let enabled = match form.status.as_str() {
        "enabled" => true,
        "disabled" => false,
        other => {
            return Err(UiError::BadRequest(format!(
                "the status must be enabled or disabled, not {other:?}"
            )))
        }
    };
    let core = ui.core.clone();
    let id2 = id.clone();
    blocking_ui(move || {
        let row = svc::update_endpoint(
            &core,
            &id2,
            EndpointChange {
                enabled: Some(enabled),
                ..EndpointChange::default()
            },
        )?;
        audit::note(
            &core,
            svc::audit_entry(&op.actor, "webhook_endpoint.updated", &row),
        );
        Ok(())
    })
    .await?;
    Ok(see_other(&format!("/admin/webhooks/{id}")))
}

/// A new signing secret, shown once; the previous one keeps signing for a day.
pub async fn rotate(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let id = endpoint_id(&path)?;
    let core = ui.core.clone();
    let page = blocking_ui(move || {
        let (row, secret) =
            svc::rotate_secret(&core, &id, chrono::Duration::seconds(OVERLAP_SECONDS))?;
        let e = svc::audit_entry(&op.actor, "webhook_endpoint.secret_rotated", &row)
            .details(serde_json::json!({ "overlap_seconds": OVERLAP_SECONDS }));
        audit::note(&core, e);
        endpoint_page(&core, &op, &id, Filter::default(), Some(secret))
    })
    .await?;
    html(&page)
}

/// Delete an endpoint, if the form's confirmation box is ticked.
pub async fn delete(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let id = endpoint_id(&path)?;
    if form.confirm != "yes" {
        return Err(UiError::BadRequest(
            "tick “I understand” to delete this endpoint".into(),
        ));
    }
    let core = ui.core.clone();
    blocking_ui(move || {
        svc::delete_endpoint(&core, &id)?;
        let e = Entry::new(&op.actor, "webhook_endpoint.deleted", Outcome::Success)
            .target("webhook_endpoint", id.to_string());
        audit::note(&core, e);
        Ok(())
    })
    .await?;
    Ok(see_other("/admin/webhooks"))
}
