//! SCIM responses: users and groups rendered (RFC 7643 §3.1 `meta`, ETags, `Location`)
//! and projected, one resource or a page of them.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::Value;

use crate::error::{ScimError, SCIM_CONTENT_TYPE};
use scimgate_core::ids::{DirectoryGroupId, DirectoryUserId};
use scimgate_core::model::{DirectoryRow, GroupRow, UserRow};
use scimgate_core::scim::resource::{
    etag, render_group, render_user, render_user_text, Projection, Ref,
};
use scimgate_core::service::{groups, users};
use scimgate_core::Core;

/// A SCIM JSON response.
pub fn json(status: StatusCode, body: &Value) -> HttpResponse {
    text(status, scimgate_core::json::text(body))
}

/// A SCIM response of JSON text.
pub fn text(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE))
        .body(body)
}

/// A rendered resource, built wherever the request ran and turned into a response on
/// the worker (an `HttpResponse` is not `Send`).
pub struct Rendered {
    pub status: StatusCode,
    /// JSON text
    pub body: Option<String>,
    pub version: i64,
    pub location: Option<String>,
}

impl Rendered {
    pub fn into_response(self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        r.insert_header((header::ETAG, etag(self.version)));
        if let Some(l) = self.location {
            r.insert_header((header::LOCATION, l));
        }
        match self.body {
            Some(b) => {
                r.insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE));
                r.body(b)
            }
            None => r.finish(),
        }
    }
}

/// The groups of `rows` (users), as (user id, group).
pub fn groups_for(core: &Core, rows: &[UserRow]) -> Result<Vec<(DirectoryUserId, Ref)>, ScimError> {
    let ids: Vec<DirectoryUserId> = rows.iter().map(|r| r.id.clone()).collect();
    Ok(users::groups_of(core, &ids)?)
}

/// The members of one group.
pub fn members_of(core: &Core, group_id: &DirectoryGroupId) -> Result<Vec<Ref>, ScimError> {
    Ok(groups::members_of(core, group_id)?)
}

/// The members of a page of groups, by group id, in one read.
pub fn members_for(
    core: &Core,
    rows: &[GroupRow],
) -> Result<std::collections::HashMap<DirectoryGroupId, Vec<Ref>>, ScimError> {
    let ids: Vec<DirectoryGroupId> = rows.iter().map(|g| g.id.clone()).collect();
    Ok(groups::members_of_many(core, &ids)?)
}

/// The groups of listed users, as (user id, group): read with the users, or now when
/// the projection returns `groups`.
pub fn user_groups(
    core: &Core,
    rows: &[UserRow],
    prefetched: Option<Vec<(DirectoryUserId, Ref)>>,
    proj: &Projection,
) -> Result<Vec<(DirectoryUserId, Ref)>, ScimError> {
    Ok(if let Some(g) = prefetched {
        g
    } else if proj.wants("groups") && !rows.is_empty() {
        groups_for(core, rows)?
    } else {
        Vec::new()
    })
}

pub fn groups_of_user(groups: &[(DirectoryUserId, Ref)], user_id: &DirectoryUserId) -> Vec<Ref> {
    groups
        .iter()
        .filter(|(u, _)| u == user_id)
        .map(|(_, g)| g.clone())
        .collect()
}

/// A page of users as projected values.
pub fn users(
    core: &Core,
    dir: &DirectoryRow,
    rows: &[UserRow],
    prefetched: Option<Vec<(DirectoryUserId, Ref)>>,
    proj: &Projection,
) -> Result<Vec<Value>, ScimError> {
    let base = core.scim_base(&dir.id);
    let groups = user_groups(core, rows, prefetched, proj)?;
    Ok(rows
        .iter()
        .map(|r| proj.apply(render_user(r, Some(&groups_of_user(&groups, &r.id)), &base)))
        .collect())
}

/// One user as response text: spliced from its stored document when every attribute
/// is returned (`render_user_text`), else the rendered and projected `Value`.
pub fn user_text(row: &UserRow, groups: &[Ref], proj: &Projection, base: &str) -> String {
    if proj.is_identity() {
        if let Some(t) = render_user_text(row, Some(groups), base) {
            return t;
        }
    }
    scimgate_core::json::text(&proj.apply(render_user(row, Some(groups), base)))
}

/// A page of groups, with their members (when projected) read for the whole page at
/// once rather than per group.
pub fn groups(
    core: &Core,
    dir: &DirectoryRow,
    rows: &[GroupRow],
    proj: &Projection,
) -> Result<Vec<Value>, ScimError> {
    let mut members = if proj.wants("members") && !rows.is_empty() {
        Some(members_for(core, rows)?)
    } else {
        None
    };
    let base = core.scim_base(&dir.id);
    Ok(rows
        .iter()
        .map(|g| {
            let mine = members
                .as_mut()
                .map(|m| m.remove(&g.id).unwrap_or_default());
            proj.apply(render_group(g, mine.as_deref(), &base))
        })
        .collect())
}

/// One user as a response; `groups` are the user's groups (a user just created has none).
pub fn user_response(
    core: &Core,
    dir: &DirectoryRow,
    row: &UserRow,
    groups: &[Ref],
    proj: &Projection,
    status: StatusCode,
) -> Result<Rendered, ScimError> {
    let base = core.scim_base(&dir.id);
    let body = user_text(row, groups, proj, &base);
    let loc = (status == StatusCode::CREATED).then(|| format!("{base}/Users/{}", row.id));
    Ok(Rendered {
        status,
        body: Some(body),
        version: row.version,
        location: loc,
    })
}

/// One group as a response, with its members when projected.
pub fn group_response(
    core: &Core,
    dir: &DirectoryRow,
    row: &GroupRow,
    proj: &Projection,
    status: StatusCode,
) -> Result<Rendered, ScimError> {
    let base = core.scim_base(&dir.id);
    let members = if proj.wants("members") {
        Some(members_of(core, &row.id)?)
    } else {
        None
    };
    let v = proj.apply(render_group(row, members.as_deref(), &base));
    let loc = (status == StatusCode::CREATED).then(|| format!("{base}/Groups/{}", row.id));
    Ok(Rendered {
        status,
        body: Some(scimgate_core::json::text(&v)),
        version: row.version,
        location: loc,
    })
}
