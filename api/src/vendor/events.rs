//! `GET /events` (WIRE-COMPAT.md §1, §3), with scimgate's `directory_id` and the long
//! poll `wait=SECONDS` (≤ 30): answered as soon as a matching event exists.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::params::{int, Invalid, Query};
use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec::Credential;
use crate::state::AppState;
use scimgate_core::clock;
use scimgate_core::events::{self, EventQuery, Order};
use scimgate_core::model::EventRow;
use scimgate_core::service::event_feed;
use scimgate_core::{wire, Core};

/// The parameters of `GET /events`, checked in this order.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawEvents")]
pub struct ListEvents {
    query: EventQuery,
    /// How long to wait for a first event (0–30 s).
    wait: Duration,
}

#[derive(Deserialize)]
struct RawEvents {
    /// `events=a,b`, `events=a%2Cb` or `events[]=a&events[]=b` (WIRE-COMPAT.md §1)
    #[serde(default)]
    events: Vec<String>,
    limit: Option<String>,
    order: Option<String>,
    before: Option<String>,
    wait: Option<String>,
    after: Option<String>,
    range_start: Option<String>,
    range_end: Option<String>,
    organization_id: Option<String>,
    directory_id: Option<String>,
}

impl TryFrom<RawEvents> for ListEvents {
    type Error = Invalid;
    fn try_from(r: RawEvents) -> Result<Self, Invalid> {
        if let Some(n) = r
            .events
            .iter()
            .find(|n| !events::ALL_EVENTS.contains(&n.as_str()))
        {
            return Err(Invalid(format!("unknown event name {n:?}")));
        }
        let limit = int("limit", r.limit.as_deref())?.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(Invalid("limit must be between 1 and 100".into()));
        }
        // the events stream moves forward with `after`: `asc` (default) and `normal`
        // (WorkOS: "after fetches newer records") read it oldest first; `desc` newest first
        let order = match r.order.as_deref() {
            None | Some("asc") | Some("normal") => Order::Asc,
            Some("desc") => Order::Desc,
            Some(o) => {
                return Err(Invalid(format!(
                    "order must be asc, desc or normal, not {o:?}"
                )))
            }
        };
        if r.before.is_some() {
            return Err(Invalid(
                "`before` is not supported on /events; page forward with `after` (or use order=desc)"
                    .into(),
            ));
        }
        let wait = int("wait", r.wait.as_deref())?.unwrap_or(0);
        if !(0..=30).contains(&wait) {
            return Err(Invalid("wait must be between 0 and 30 seconds".into()));
        }
        let query = EventQuery {
            events: r.events,
            after: r.after,
            range_start: time("range_start", r.range_start.as_deref())?,
            range_end: time("range_end", r.range_end.as_deref())?,
            limit,
            order,
            organization_id: r.organization_id,
            directory_id: r.directory_id,
        };
        if query.range_start.is_some() && query.after.is_some() {
            return Err(Invalid(
                "`range_start` and `after` are mutually exclusive".into(),
            ));
        }
        Ok(ListEvents {
            query,
            wait: Duration::from_secs(wait as u64),
        })
    }
}

fn time(name: &str, v: Option<&str>) -> Result<Option<chrono::NaiveDateTime>, Invalid> {
    v.map(|s| {
        clock::parse_rfc3339(s)
            .ok_or_else(|| Invalid(format!("`{name}` must be an ISO 8601 date-time")))
    })
    .transpose()
}

#[utoipa::path(
    get,
    path = "/events",
    operation_id = "events_list",
    tag = "events",
    summary = "List events (optionally a long poll)",
    params(super::doc::EventParams),
    responses((status = 200, description = "a page of events; `list_metadata` has only `after`", body = super::doc::EventList))
)]
pub async fn list(
    state: web::Data<AppState>,
    q: Query<ListEvents>,
    key: ApiKey,
) -> Result<HttpResponse, ApiError> {
    let ListEvents { query, wait: w } = q.0;
    let (rows, after) = wait(&state.core, &key, &query, w).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(list_text(&rows, after)))
}

/// The long poll (`event_feed::wait_for`): the first page of `q` that holds an event,
/// or the page read when `wait` is over (empty). The key is verified again with each
/// read, as a revocation may come during the wait.
pub async fn wait(
    core: &Core,
    key: &ApiKey,
    q: &EventQuery,
    wait: Duration,
) -> Result<(Vec<EventRow>, Option<String>), ApiError> {
    if let Some(Err(e)) = key.verify_cached(core) {
        return Err(e);
    }
    let key = key.clone();
    let check = move |core: &Core| key.verify(core).map(|_| ());
    event_feed::wait_for(core, q.clone(), wait, check).await
}

/// The event list (WIRE-COMPAT.md §1: `list_metadata` has only `after`) as text: each
/// event's stored JSON is spliced in (`EventRow::to_json_string`), not parsed again.
fn list_text(rows: &[EventRow], after: Option<String>) -> String {
    let mut body =
        String::with_capacity(rows.iter().map(|r| r.data.len() + 256).sum::<usize>() + 64);
    body.push_str("{\"object\":\"list\",\"data\":[");
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&r.to_json_string());
    }
    body.push_str("],\"list_metadata\":");
    body.push_str(
        &serde_json::to_string(&wire::EventListMetadata { after })
            .unwrap_or_else(|_| "{\"after\":null}".into()),
    );
    body.push('}');
    body
}
