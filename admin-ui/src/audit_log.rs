//! The audit log: newest first, keyset pages (cursors over record ids, as
//! `GET /audit_logs`), filtered by actor (an actor's id or kind), action, target and a
//! time range; read through `core::service::audit::list`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::{blocking_ui, html, UiError};
use crate::pages::{AuditItem, AuditPage, Nav};
use crate::session::Operator;
use crate::util::{link, when};
use crate::AdminUi;
use scimgate_core::service::audit::{self, AuditFilter};
use scimgate_core::service::list_paging::Page;
use scimgate_core::{clock, Core};

const PAGE: i64 = 50;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(page));
}

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    /// RFC 3339, inclusive
    #[serde(default)]
    since: String,
    /// RFC 3339, exclusive
    #[serde(default)]
    until: String,
    before: Option<String>,
    after: Option<String>,
}

/// A record id as a page cursor (`audit_` and letters or digits), else a 400.
fn cursor(name: &str, v: Option<String>) -> Result<Option<String>, UiError> {
    match v.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => {
            let ok = c
                .strip_prefix(scimgate_core::audit::ID_PREFIX)
                .and_then(|r| r.strip_prefix('_'))
                .is_some_and(|r| !r.is_empty() && r.chars().all(|ch| ch.is_ascii_alphanumeric()));
            if ok {
                Ok(Some(c.to_string()))
            } else {
                Err(UiError::BadRequest(format!(
                    "`{name}` is not a page cursor of the audit log"
                )))
            }
        }
    }
}

fn time(s: &str, what: &str) -> Result<Option<chrono::NaiveDateTime>, UiError> {
    match s {
        "" => Ok(None),
        t => clock::parse_rfc3339(t).map(Some).ok_or_else(|| {
            UiError::BadRequest(format!(
                "“{what}” must be an RFC 3339 time, like 2026-12-07T10:00:00Z"
            ))
        }),
    }
}

fn audit_page(core: &Core, op: &Operator, f: Filters) -> Result<AuditPage, UiError> {
    let (actor, action, target) = (
        f.actor.trim().to_string(),
        f.action.trim().to_string(),
        f.target.trim().to_string(),
    );
    let (since, until) = (f.since.trim().to_string(), f.until.trim().to_string());
    if [&actor, &action, &target]
        .iter()
        .any(|s| s.chars().count() > 256)
    {
        return Err(UiError::BadRequest(
            "a filter is too long (up to 256 characters)".into(),
        ));
    }
    let filter = AuditFilter {
        actor: Some(actor.clone()).filter(|s| !s.is_empty()),
        action: Some(action.clone()).filter(|s| !s.is_empty()),
        target: Some(target.clone()).filter(|s| !s.is_empty()),
        since: time(&since, "since")?,
        until: time(&until, "until")?,
    };
    let page = Page::new(
        cursor("before", f.before)?,
        cursor("after", f.after)?,
        Some(PAGE),
        None, // newest first (WorkOS's default order)
    )?;
    let rows = audit::list(core, &filter, &page)?;
    let filters = [
        ("actor", actor.as_str()),
        ("action", action.as_str()),
        ("target", target.as_str()),
        ("since", since.as_str()),
        ("until", until.as_str()),
    ];
    let searched = filters.iter().any(|(_, v)| !v.is_empty());
    Ok(AuditPage {
        nav: Nav::of(op),
        records: rows
            .data
            .iter()
            .map(|r| AuditItem {
                at: when(r.at),
                actor: match (&r.actor_name, &r.actor_id) {
                    (Some(n), _) => format!("{} {n}", r.actor_kind),
                    (None, Some(i)) => format!("{} {i}", r.actor_kind),
                    (None, None) => r.actor_kind.clone(),
                },
                actor_id: r.actor_id.clone().unwrap_or_default(),
                client: r.client_addr.clone().unwrap_or_default(),
                action: r.action.clone(),
                target: match (&r.target_type, &r.target_id) {
                    (Some(k), Some(i)) => format!("{k} {i}"),
                    (Some(k), None) => k.clone(),
                    (None, Some(i)) => i.clone(),
                    (None, None) => String::new(),
                },
                outcome: r.outcome.clone(),
                details: match serde_json::from_str::<serde_json::Value>(&r.details) {
                    Ok(serde_json::Value::Object(m)) if m.is_empty() => String::new(),
                    Ok(v) => crate::util::pretty(&v),
                    Err(_) => r.details.clone(),
                },
            })
            .collect(),
        prev: rows
            .before
            .map(|c| link("/admin/audit", &filters, "before", &c)),
        next: rows
            .after
            .map(|c| link("/admin/audit", &filters, "after", &c)),
        searched,
        actor,
        action,
        target,
        since,
        until,
    })
}

pub async fn page(
    ui: web::Data<AdminUi>,
    op: Operator,
    f: web::Query<Filters>,
) -> Result<HttpResponse, UiError> {
    let core = ui.core.clone();
    let f = f.into_inner();
    let p = blocking_ui(move || audit_page(&core, &op, f)).await?;
    html(&p)
}
