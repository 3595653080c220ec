//! The vendor read API (WorkOS `GET /directories`, `/directory_users`,
//! `/directory_groups`, `/organizations`) with WorkOS cursor pagination
//! (`list_paging::Page`, WIRE-COMPAT.md §1).

use std::collections::HashMap;

use serde_json::Value;

use super::directory_user as du;
use super::{Core, InactivePolicy};
use crate::error::{CoreError, CoreResult};
use crate::model::{DirectoryRow, GroupRow, UserRow};
use crate::store::paging::list_reads;
use crate::store::{self, directories, memberships, organizations, AnyConn};

pub use super::list_paging::{ListOrder, Page, Paged};
pub use crate::store::directories::DirectoryFilter;
pub use crate::store::groups::GroupFilter;
pub use crate::store::users::UserFilter;

pub fn list_directories(core: &Core, f: &DirectoryFilter, page: &Page) -> CoreResult<Paged<Value>> {
    let mut conn = core.db.conn()?;
    let travel = page.travel();
    let rows = directories::directories_page(&mut conn, f, &travel.keyset(page))?;
    let p: Paged<DirectoryRow> = travel.page(rows, page, |d| d.id.clone());
    let mut data = Vec::with_capacity(p.data.len());
    for dir in p.data {
        data.push(directory_json(&mut conn, &dir)?);
    }
    Ok(Paged {
        data,
        before: p.before,
        after: p.after,
    })
}

fn directory_json(conn: &mut AnyConn, dir: &DirectoryRow) -> CoreResult<Value> {
    let org = organizations::find_organization(conn, &dir.organization_id)?;
    let counts = directories::user_and_group_counts(conn, &dir.id)?;
    Ok(dir.to_json(org.as_ref(), Some(counts)))
}

pub fn get_directory(core: &Core, id: &str) -> CoreResult<Value> {
    let mut conn = core.db.conn()?;
    let dir = directories::find_directory(&mut conn, id)?
        .ok_or_else(|| CoreError::not_found(format!("directory {id} not found")))?;
    directory_json(&mut conn, &dir)
}

/// Each `directory_user` with its `groups` (WorkOS `DirectoryUserWithGroups`), in the
/// rows' order: the memberships of all of them in one query, their groups in another,
/// and each directory's organization once.
fn users_with_groups(conn: &mut AnyConn, rows: &[UserRow]) -> CoreResult<Vec<Value>> {
    let ids: Vec<String> = rows.iter().map(|u| u.id.clone()).collect();
    let mut of_user: HashMap<String, Vec<String>> = HashMap::new();
    for (member_id, group_id) in memberships::group_ids_of_users(conn, &ids)? {
        of_user.entry(member_id).or_default().push(group_id);
    }
    // the groups by directory, as `groups::find_many` reads them (a page holds one
    // directory's users; any number is handled)
    let mut groups: HashMap<String, GroupRow> = HashMap::new();
    let mut directories: Vec<&str> = rows.iter().map(|u| u.directory_id.as_str()).collect();
    directories.sort_unstable();
    directories.dedup();
    for d in directories {
        let mut gids: Vec<String> = rows
            .iter()
            .filter(|u| u.directory_id == d)
            .filter_map(|u| of_user.get(&u.id))
            .flatten()
            .cloned()
            .collect();
        gids.sort_unstable();
        gids.dedup();
        let found = store::groups::find_groups(conn, d, &gids)?;
        groups.extend(found.into_iter().map(|g| (g.id.clone(), g)));
    }
    let mut orgs = Orgs::default();
    let mut out = Vec::with_capacity(rows.len());
    for u in rows {
        let org = orgs.of(conn, &u.directory_id)?;
        let mut v = du::user_object(u, &org);
        let mine = of_user.get(&u.id).map(Vec::as_slice).unwrap_or_default();
        let objects = mine
            .iter()
            .filter_map(|gid| groups.get(gid))
            // a membership never crosses directories; checked all the same
            .filter(|g| g.directory_id == u.directory_id)
            .map(|g| du::group_object(g, &org))
            .collect();
        if let Some(o) = v.as_object_mut() {
            o.insert("groups".into(), Value::Array(objects));
        }
        out.push(v);
    }
    Ok(out)
}

/// Organization ids by directory, each read once per request.
#[derive(Default)]
struct Orgs(HashMap<String, String>);

impl Orgs {
    fn of(&mut self, conn: &mut AnyConn, directory_id: &str) -> CoreResult<String> {
        if let Some(o) = self.0.get(directory_id) {
            return Ok(o.clone());
        }
        let o = directories::organization_of(conn, directory_id)?;
        self.0.insert(directory_id.to_string(), o.clone());
        Ok(o)
    }
}

pub fn list_users(core: &Core, f: &UserFilter, page: &Page) -> CoreResult<Paged<Value>> {
    if f.directory.is_none() && f.group.is_none() {
        return Err(CoreError::invalid_value("pass `directory` or `group`"));
    }
    if (f.idp_id.is_some() || f.email.is_some()) && f.directory.is_none() {
        return Err(CoreError::invalid_value(
            "`idp_id` and `email` require `directory`",
        ));
    }
    let mut conn = core.db.conn()?;
    let active_only = core.settings.inactive_users == InactivePolicy::Delete;
    list_reads(&mut conn, f.in_id_order(), |c| {
        let travel = page.travel();
        let rows = store::users::users_page(c, f, active_only, &travel.keyset(page))?;
        let p: Paged<UserRow> = travel.page(rows, page, |u| u.id.clone());
        Ok(Paged {
            data: users_with_groups(c, &p.data)?,
            before: p.before,
            after: p.after,
        })
    })
}

pub fn get_user(core: &Core, id: &str) -> CoreResult<Value> {
    let mut conn = core.db.conn()?;
    let u = store::users::find_user_by_id(&mut conn, id)?;
    let u = u
        .filter(|u| u.active || core.settings.inactive_users == InactivePolicy::Keep)
        .ok_or_else(|| CoreError::not_found(format!("directory user {id} not found")))?;
    users_with_groups(&mut conn, std::slice::from_ref(&u))?
        .pop()
        .ok_or_else(|| CoreError::internal("the user's object was not rendered"))
}

pub fn list_groups(core: &Core, f: &GroupFilter, page: &Page) -> CoreResult<Paged<Value>> {
    if f.directory.is_none() && f.user.is_none() {
        return Err(CoreError::invalid_value("pass `directory` or `user`"));
    }
    let mut conn = core.db.conn()?;
    list_reads(&mut conn, f.in_id_order(), |c| {
        let travel = page.travel();
        let rows = store::groups::groups_page(c, f, &travel.keyset(page))?;
        let p: Paged<GroupRow> = travel.page(rows, page, |g| g.id.clone());
        let mut orgs = Orgs::default();
        let mut data = Vec::with_capacity(p.data.len());
        for g in &p.data {
            let org = orgs.of(c, &g.directory_id)?;
            data.push(du::group_object(g, &org));
        }
        Ok(Paged {
            data,
            before: p.before,
            after: p.after,
        })
    })
}

pub fn get_group(core: &Core, id: &str) -> CoreResult<Value> {
    let mut conn = core.db.conn()?;
    let g = store::groups::find_group_by_id(&mut conn, id)?;
    let g = g.ok_or_else(|| CoreError::not_found(format!("directory group {id} not found")))?;
    let org = directories::organization_of(&mut conn, &g.directory_id)?;
    Ok(du::group_object(&g, &org))
}

pub fn list_organizations(core: &Core, page: &Page) -> CoreResult<Paged<Value>> {
    let mut conn = core.db.conn()?;
    let travel = page.travel();
    let rows = organizations::organizations_page(&mut conn, &travel.keyset(page))?;
    let p = travel.page(rows, page, |o| o.id.clone());
    Ok(Paged {
        data: p.data.iter().map(|o| o.to_json()).collect(),
        before: p.before,
        after: p.after,
    })
}
