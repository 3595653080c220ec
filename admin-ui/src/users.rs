//! A directory's users (keyset pages, search by email) and groups; a user's page
//! (normalized fields, groups, roles with their explanation, custom and raw
//! attributes, events).

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::{blocking, html, UiError};
use crate::pages::{Nav, UserItem, UserPage, UsersPage};
use crate::session::Operator;
use crate::util::{pretty, text_of};
use crate::AdminUi;
use scimgate_core::events::{EventQuery, Order};
use scimgate_core::ids::{DirectoryId, DirectoryUserId, PrefixedId};
use scimgate_core::service::vendor_reads::{self, GroupFilter, Page, UserFilter};
use scimgate_core::service::{admin, event_feed, roles};
use scimgate_core::wire::DirectoryUser;
use scimgate_core::{Core, CoreError};

const PAGE: i64 = 50;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/directories/{id}/users", web::get().to(list))
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
    after: Option<String>,
}

fn users_page(
    core: &Core,
    op: &Operator,
    id: &DirectoryId,
    q: ListQuery,
) -> Result<UsersPage, CoreError> {
    let dir = admin::get_directory(core, id)?;
    let email = q.email.trim().to_string();
    let users = vendor_reads::list_users(
        core,
        &UserFilter {
            directory: Some(id.to_string()),
            group: None,
            idp_id: None,
            email: Some(email.clone()).filter(|e| !e.is_empty()),
        },
        &Page::new(None, q.after, Some(PAGE), Some("asc"))?,
    )?;
    let groups = vendor_reads::list_groups(
        core,
        &GroupFilter {
            directory: Some(id.to_string()),
            user: None,
        },
        &Page::new(None, None, Some(100), Some("asc"))?,
    )?;
    Ok(UsersPage {
        nav: Nav::of(op),
        dir_id: id.to_string(),
        dir_name: dir.name,
        email,
        users: users.data.iter().map(item).collect(),
        groups: groups
            .data
            .iter()
            .map(|g| (g.id.to_string(), text_of(&g.name)))
            .collect(),
        next: users.after,
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
    let page = blocking(move || users_page(&core, &op, &id, q)).await?;
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
