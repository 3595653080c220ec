//! A directory's users (keyset pages; searched by email, name and state) and groups
//! (keyset pages, searched by name); a group's page (its members, keyset pages); a
//! user's page (normalized fields, groups, roles with their explanation, custom and
//! raw attributes, events). Every read is `vendor_reads`', as the vendor API's.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::{blocking, blocking_ui, html, UiError};
use crate::pages::{GroupItem, GroupPage, GroupsPage, Nav, UserItem, UserPage, UsersPage};
use crate::session::Operator;
use crate::util::{link, pretty, text_of};
use crate::AdminUi;
use scimgate_core::events::{EventQuery, Order};
use scimgate_core::ids::{DirectoryGroupId, DirectoryId, DirectoryUserId, PrefixedId};
use scimgate_core::service::vendor_reads::{self, GroupFilter, Page, UserFilter};
use scimgate_core::service::{admin, event_feed, roles};
use scimgate_core::wire::DirectoryUser;
use scimgate_core::{Core, CoreError};

const PAGE: i64 = 50;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/directories/{id}/users", web::get().to(list))
        .route("/directories/{id}/groups", web::get().to(groups))
        .route("/groups/{id}", web::get().to(group))
        .route("/users/{id}", web::get().to(show));
}

fn item(u: &DirectoryUser) -> UserItem {
    let name = format!("{} {}", text_of(&u.first_name), text_of(&u.last_name))
        .trim()
        .to_string();
    UserItem {
        id: u.id.to_string(),
        email: Some(text_of(&u.email))
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| text_of(&u.username)),
        name: if name.is_empty() {
            text_of(&u.username)
        } else {
            name
        },
        state: text_of(&u.state),
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    /// `active`, `inactive`, or empty (both)
    #[serde(default)]
    state: String,
    before: Option<String>,
    after: Option<String>,
}

/// A page cursor from the query: an id of the listed kind, else a 400.
pub fn cursor<I: PrefixedId>(what: &str, v: Option<String>) -> Result<Option<String>, UiError> {
    match v.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => I::parse(c).map(|_| Some(c.to_string())).map_err(|_| {
            UiError::BadRequest(format!("`{what}` is not a page cursor of this list"))
        }),
    }
}

/// The keyset page of a list: at most [`PAGE`] rows from a cursor, in id order.
fn page_of(before: Option<String>, after: Option<String>) -> Result<Page, CoreError> {
    Page::new(before, after, Some(PAGE), Some("asc"))
}

fn users_page(
    core: &Core,
    op: &Operator,
    id: &DirectoryId,
    q: ListQuery,
) -> Result<UsersPage, UiError> {
    let email = q.email.trim().to_string();
    let name = q.name.trim().to_string();
    let active = match q.state.trim() {
        "" => None,
        "active" => Some(true),
        "inactive" => Some(false),
        other => {
            return Err(UiError::BadRequest(format!(
                "the state must be active or inactive, not {other:?}"
            )))
        }
    };
    if name.chars().count() > 256 || email.chars().count() > 320 {
        return Err(UiError::BadRequest(
            "the search is too long (a name up to 256 characters, an email up to 320)".into(),
        ));
    }
    let before = cursor::<DirectoryUserId>("before", q.before)?;
    let after = cursor::<DirectoryUserId>("after", q.after)?;
    let dir = admin::get_directory(core, id)?;
    let users = vendor_reads::list_users(
        core,
        &UserFilter {
            directory: Some(id.to_string()),
            group: None,
            idp_id: None,
            email: Some(email.clone()).filter(|e| !e.is_empty()),
            name: Some(name.clone()).filter(|n| !n.is_empty()),
            active,
        },
        &page_of(before, after)?,
    )?;
    let state = q.state.trim().to_string();
    let here = format!("/admin/directories/{id}/users");
    let filters = [
        ("email", email.as_str()),
        ("name", name.as_str()),
        ("state", state.as_str()),
    ];
    let prev = users.before.map(|c| link(&here, &filters, "before", &c));
    let next = users.after.map(|c| link(&here, &filters, "after", &c));
    Ok(UsersPage {
        nav: Nav::of(op),
        dir_id: id.to_string(),
        dir_name: dir.name,
        searched: !(email.is_empty() && name.is_empty() && state.is_empty()),
        email,
        name,
        state,
        users: users.data.iter().map(item).collect(),
        prev,
        next,
    })
}

pub async fn list(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, UiError> {
    let id = DirectoryId::parse_or_not_found(&path)?;
    let core = ui.core.clone();
    let q = q.into_inner();
    let page = blocking_ui(move || users_page(&core, &op, &id, q)).await?;
    html(&page)
}

#[derive(Deserialize)]
pub struct GroupsQuery {
    #[serde(default)]
    name: String,
    before: Option<String>,
    after: Option<String>,
}

fn groups_page(
    core: &Core,
    op: &Operator,
    id: &DirectoryId,
    q: GroupsQuery,
) -> Result<GroupsPage, UiError> {
    let name = q.name.trim().to_string();
    if name.chars().count() > 256 {
        return Err(UiError::BadRequest(
            "the search is too long (up to 256 characters)".into(),
        ));
    }
    let before = cursor::<DirectoryGroupId>("before", q.before)?;
    let after = cursor::<DirectoryGroupId>("after", q.after)?;
    let dir = admin::get_directory(core, id)?;
    let groups = vendor_reads::list_groups(
        core,
        &GroupFilter {
            directory: Some(id.to_string()),
            user: None,
            name: Some(name.clone()).filter(|n| !n.is_empty()),
        },
        &page_of(before, after)?,
    )?;
    let here = format!("/admin/directories/{id}/groups");
    let filters = [("name", name.as_str())];
    Ok(GroupsPage {
        nav: Nav::of(op),
        dir_id: id.to_string(),
        dir_name: dir.name,
        groups: groups
            .data
            .iter()
            .map(|g| GroupItem {
                id: g.id.to_string(),
                name: text_of(&g.name),
                idp_id: text_of(&g.idp_id),
            })
            .collect(),
        prev: groups.before.map(|c| link(&here, &filters, "before", &c)),
        next: groups.after.map(|c| link(&here, &filters, "after", &c)),
        name,
    })
}

pub async fn groups(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    q: web::Query<GroupsQuery>,
) -> Result<HttpResponse, UiError> {
    let id = DirectoryId::parse_or_not_found(&path)?;
    let core = ui.core.clone();
    let q = q.into_inner();
    let page = blocking_ui(move || groups_page(&core, &op, &id, q)).await?;
    html(&page)
}

#[derive(Deserialize)]
pub struct MembersQuery {
    before: Option<String>,
    after: Option<String>,
}

fn group_page(
    core: &Core,
    op: &Operator,
    id: &DirectoryGroupId,
    q: MembersQuery,
) -> Result<GroupPage, UiError> {
    let before = cursor::<DirectoryUserId>("before", q.before)?;
    let after = cursor::<DirectoryUserId>("after", q.after)?;
    let g = vendor_reads::get_group(core, id)?;
    let dir = admin::get_directory(core, &g.directory_id)?;
    // the members: the group's users, bound to its directory in SQL
    let members = vendor_reads::list_users(
        core,
        &UserFilter {
            directory: Some(g.directory_id.to_string()),
            group: Some(id.to_string()),
            ..UserFilter::default()
        },
        &page_of(before, after)?,
    )?;
    let here = format!("/admin/groups/{id}");
    Ok(GroupPage {
        nav: Nav::of(op),
        dir_id: g.directory_id.to_string(),
        dir_name: dir.name,
        group: GroupItem {
            id: g.id.to_string(),
            name: text_of(&g.name),
            idp_id: text_of(&g.idp_id),
        },
        created_at: g.created_at.clone(),
        members: members.data.iter().map(item).collect(),
        prev: members.before.map(|c| link(&here, &[], "before", &c)),
        next: members.after.map(|c| link(&here, &[], "after", &c)),
        raw: pretty(&g.raw_attributes),
    })
}

pub async fn group(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    q: web::Query<MembersQuery>,
) -> Result<HttpResponse, UiError> {
    let id = DirectoryGroupId::parse_or_not_found(&path)?;
    let core = ui.core.clone();
    let q = q.into_inner();
    let page = blocking_ui(move || group_page(&core, &op, &id, q)).await?;
    html(&page)
}

fn user_page(core: &Core, op: &Operator, id: &DirectoryUserId) -> Result<UserPage, CoreError> {
    let u = vendor_reads::get_user(core, id)?;
    let explained = roles::explain(core, id)?;
    // the user's events among its directory's newest 500
    let (rows, _) = event_feed::list(
        core,
        &EventQuery {
            events: Vec::new(),
            after: None,
            range_start: None,
            range_end: None,
            limit: 500,
            order: Order::Desc,
            organization_id: None,
            directory_id: Some(u.directory_id.to_string()),
        },
    )?;
    let uid = id.as_str();
    let mine: Vec<_> = rows
        .into_iter()
        .filter(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
            v.get("id").and_then(|x| x.as_str()) == Some(uid)
                || v.pointer("/user/id").and_then(|x| x.as_str()) == Some(uid)
        })
        .take(50)
        .collect();
    let whole = serde_json::to_value(&u).unwrap_or_default();
    let groups = whole
        .get("groups")
        .and_then(|g| g.as_array())
        .map(|gs| {
            gs.iter()
                .filter_map(|g| g.get("name").and_then(|n| n.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let fields = [
        ("Email", &u.email),
        ("First name", &u.first_name),
        ("Last name", &u.last_name),
        ("Username", &u.username),
        ("Job title", &u.job_title),
        ("State", &u.state),
        ("IdP id", &u.idp_id),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), text_of(v)))
    .collect();
    Ok(UserPage {
        nav: Nav::of(op),
        dir_id: u.directory_id.to_string(),
        user: item(&u),
        fields,
        groups,
        roles: pretty(&explained),
        custom: pretty(&u.custom_attributes),
        raw: pretty(&u.raw_attributes),
        events: crate::events::items(&mine),
    })
}

pub async fn show(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let id = DirectoryUserId::parse_or_not_found(&path)?;
    let core = ui.core.clone();
    let page = blocking(move || user_page(&core, &op, &id)).await?;
    html(&page)
}
