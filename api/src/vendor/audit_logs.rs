//! `GET /audit_logs`: the audit log (`scimgate_core::audit`), newest first, in the
//! WorkOS list envelope with `before`/`after` cursors (WIRE-COMPAT.md §1), filtered by
//! `actor` (an actor's id or kind), `action`, `target` (a target's id) and a time
//! range (`range_start` inclusive, `range_end` exclusive, RFC 3339 timestamps as in
//! WorkOS's audit log exports).

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::params::{timestamp, Invalid, PageQuery, Query};
use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::service::audit::{self, AuditFilter};
use scimgate_core::wire;

/// `GET /audit_logs?actor&action&target&range_start&range_end` and the page.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawList")]
pub struct ListAudit {
    page: PageQuery,
    filter: AuditFilter,
}

#[derive(Deserialize)]
struct RawList {
    #[serde(flatten)]
    page: PageQuery,
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    range_start: Option<String>,
    range_end: Option<String>,
}

impl TryFrom<RawList> for ListAudit {
    type Error = Invalid;
    fn try_from(r: RawList) -> Result<Self, Invalid> {
        let since = timestamp("range_start", r.range_start.as_deref())?;
        let until = timestamp("range_end", r.range_end.as_deref())?;
        Ok(ListAudit {
            page: r.page,
            filter: AuditFilter {
                actor: r.actor,
                action: r.action,
                target: r.target,
                since,
                until,
            },
        })
    }
}

#[utoipa::path(
    get,
    path = "/audit_logs",
    operation_id = "audit_logs_list",
    tag = "audit_logs",
    summary = "List audit log records",
    params(super::doc::PageParams, super::doc::AuditFilter),
    responses((status = 200, description = "a page of records", body = scimgate_core::wire::List<scimgate_core::audit::WireRecord>))
)]
pub async fn list(
    state: web::Data<AppState>,
    q: Query<ListAudit>,
    key: ApiKey,
) -> Result<HttpResponse, ApiError> {
    let ListAudit { page, filter } = q.0;
    let v = exec::blocking(&state.core, key, move |core, _| {
        Ok(audit::list(core, &filter, &page.0)?)
    })
    .await?;
    let body = wire::List {
        object: wire::Object::List,
        data: v.data.iter().map(|r| r.wire()).collect(),
        list_metadata: wire::ListMetadata {
            before: v.before,
            after: v.after,
        },
    };
    Ok(HttpResponse::Ok().json(body))
}
