//! Events: a live list (the page polls a fragment every 2 s: one indexed read of the
//! newest 50 events per poll) with filters (directory, event type, time range).

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::{blocking, html, UiError};
use crate::pages::{EventItem, EventsFragment, EventsPage, Nav};
use crate::session::Operator;
use crate::util::when;
use crate::AdminUi;
use scimgate_core::events::{EventQuery, Order};
use scimgate_core::ids::{DirectoryId, PrefixedId};
use scimgate_core::model::EventRow;
use scimgate_core::service::event_feed;
use scimgate_core::{clock, Core, CoreError};

const PAGE: i64 = 50;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/events", web::get().to(page))
        .route("/events/fragment", web::get().to(fragment));
}

#[derive(Deserialize, Default, Clone)]
pub struct Filters {
    #[serde(default)]
    directory: String,
    #[serde(default)]
    event: String,
    /// RFC 3339
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
}

impl Filters {
    fn query_string(&self) -> String {
        let e = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "directory={}&event={}&since={}&until={}",
            e(&self.directory),
            e(&self.event),
            e(&self.since),
            e(&self.until)
        )
    }
}

/// What an event is about, in a few words.
pub fn summary(e: &EventRow) -> String {
    let v: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
    let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    if let (Some(u), Some(g)) = (v.get("user"), v.get("group")) {
        return format!(
            "{} in {}",
            s(u, "email").unwrap_or_default(),
            s(g, "name").unwrap_or_default()
        );
    }
    s(&v, "email")
        .or_else(|| s(&v, "name"))
        .or_else(|| s(&v, "id"))
        .unwrap_or_default()
}

pub fn items(rows: &[EventRow]) -> Vec<EventItem> {
    rows.iter()
        .map(|e| EventItem {
            id: e.id.to_string(),
            event: e.event.clone(),
            created_at: when(e.created_at),
            summary: summary(e),
        })
        .collect()
}

/// The newest events matching the filters.
fn newest(core: &Core, f: &Filters) -> Result<Vec<EventRow>, CoreError> {
    let directory = match f.directory.trim() {
        "" => None,
        d => Some(DirectoryId::parse_or_not_found(d)?.to_string()),
    };
    let time = |s: &str, name: &str| match s.trim() {
        "" => Ok(None),
        t => clock::parse_rfc3339(t).map(Some).ok_or_else(|| {
            CoreError::invalid_value(format!(
                "`{name}` must be an RFC 3339 time, like 2026-12-07T10:00:00Z"
            ))
        }),
    };
    let q = EventQuery {
        events: crate::util::split_list(&f.event),
        after: None,
        range_start: time(&f.since, "since")?,
        range_end: time(&f.until, "until")?,
        limit: PAGE,
        order: Order::Desc,
        organization_id: None,
        directory_id: directory,
    };
    Ok(event_feed::list(core, &q)?.0)
}

pub async fn page(
    ui: web::Data<AdminUi>,
    op: Operator,
    f: web::Query<Filters>,
) -> Result<HttpResponse, UiError> {
    let f = f.into_inner();
    let core = ui.core.clone();
    let f2 = f.clone();
    let rows = blocking(move || newest(&core, &f2)).await?;
    html(&EventsPage {
        nav: Nav::of(&op),
        poll_url: format!("/admin/events/fragment?{}", f.query_string()),
        directory: f.directory,
        event: f.event,
        since: f.since,
        until: f.until,
        events: items(&rows),
    })
}

pub async fn fragment(
    ui: web::Data<AdminUi>,
    _op: Operator,
    f: web::Query<Filters>,
) -> Result<HttpResponse, UiError> {
    let core = ui.core.clone();
    let f = f.into_inner();
    let rows = blocking(move || newest(&core, &f)).await?;
    html(&EventsFragment {
        events: items(&rows),
    })
}
