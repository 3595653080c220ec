//! The vendor read API (WorkOS `GET /directories`, `/directory_users`,
//! `/directory_groups`, `/organizations`) with WorkOS cursor pagination
//! (`list_paging::Page`, WIRE-COMPAT.md §1).

use std::collections::HashMap;

use super::directory_user as du;
use super::{Core, InactivePolicy};
use crate::error::{CoreError, CoreResult};
use crate::ids::{DirectoryGroupId, DirectoryId, DirectoryUserId, OrganizationId, PrefixedId};
use crate::model::{DirectoryRow, GroupRow, UserRow};
use crate::store::paging::list_reads;
use crate::store::{self, directories, memberships, organizations, AnyConn};
use crate::wire;

pub use super::list_paging::{ListOrder, Page, Paged};
pub use crate::store::directories::DirectoryFilter;
pub use crate::store::groups::GroupFilter;
pub use crate::store::users::UserFilter;

pub fn list_directories(
    core: &Core,
    f: &DirectoryFilter,
    page: &Page,
) -> CoreResult<Paged<wire::Directory>> {
    let mut conn = core.db.conn()?;
    let travel = page.travel();
    let rows = directories::directories_page(&mut conn, f, &travel.keyset(page))?;
    let p: Paged<DirectoryRow> = travel.page(rows, page, |d| String::from(&d.id));
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

fn directory_json(conn: &mut AnyConn, dir: &DirectoryRow) -> CoreResult<wire::Directory> {
    let org = organizations::find_organization(conn, &dir.organization_id)?;
    let counts = directories::user_and_group_counts(conn, &dir.id)?;
    Ok(wire::Directory::new(dir, org.as_ref(), Some(counts)))
}

pub fn get_directory(core: &Core, id: &DirectoryId) -> CoreResult<wire::Directory> {
    let mut conn = core.db.conn()?;
    let dir = directories::find_directory(&mut conn, id)?.ok_or_else(|| id.not_found())?;
    directory_json(&mut conn, &dir)
}

/// Each `directory_user` with its `groups` (WorkOS `DirectoryUserWithGroups`), in the
/// rows' order: the memberships of all of them in one query, their groups in another,
/// and each directory's organization once. A user whose directory is gone by the
/// time its organization is read (deleted meanwhile, with its users) is left out.
fn users_with_groups(conn: &mut AnyConn, rows: &[UserRow]) -> CoreResult<Vec<wire::DirectoryUser>> {
    let ids: Vec<DirectoryUserId> = rows.iter().map(|u| u.id.clone()).collect();
    let mut of_user: HashMap<DirectoryUserId, Vec<DirectoryGroupId>> = HashMap::new();
    for (member_id, group_id) in memberships::group_ids_of_users(conn, &ids)? {
        of_user.entry(member_id).or_default().push(group_id);
    }
    // the groups by directory, as `groups::find_many` reads them (a page holds one
    // directory's users; any number is handled)
    let mut groups: HashMap<DirectoryGroupId, GroupRow> = HashMap::new();
    let mut directories: Vec<&DirectoryId> = rows.iter().map(|u| &u.directory_id).collect();
    directories.sort_unstable();
    directories.dedup();
    for d in directories {
        let mut gids: Vec<DirectoryGroupId> = rows
            .iter()
            .filter(|u| &u.directory_id == d)
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
        let Some(org) = orgs.of(conn, &u.directory_id)? else {
            continue;
        };
        let mine = of_user.get(&u.id).map(Vec::as_slice).unwrap_or_default();
        let objects = mine
            .iter()
            .filter_map(|gid| groups.get(gid))
            // a membership never crosses directories; checked all the same
            .filter(|g| g.directory_id == u.directory_id)
            .map(|g| du::group_object(g, &org))
            .collect();
        out.push(wire::DirectoryUser {
            groups: Some(objects),
            ..du::user_object(u, &org)
        });
    }
    Ok(out)
}

/// Organization ids by directory, each read once per request (`None`: the directory
/// is gone).
#[derive(Default)]
struct Orgs(HashMap<DirectoryId, Option<OrganizationId>>);

impl Orgs {
    fn of(
        &mut self,
        conn: &mut AnyConn,
        directory_id: &DirectoryId,
    ) -> CoreResult<Option<OrganizationId>> {
        if let Some(o) = self.0.get(directory_id) {
            return Ok(o.clone());
        }
        let o = directories::organization_of(conn, directory_id)?;
        self.0.insert(directory_id.clone(), o.clone());
        Ok(o)
    }
}

pub fn list_users(
    core: &Core,
    f: &UserFilter,
    page: &Page,
) -> CoreResult<Paged<wire::DirectoryUser>> {
    if f.directory.is_none() && f.group.is_none() {
        return Err(CoreError::invalid_value("pass `directory` or `group`"));
    }
    if (f.idp_id.is_some() || f.email.is_some() || f.name.is_some() || f.active.is_some())
        && f.directory.is_none()
    {
        return Err(CoreError::invalid_value(
            "`idp_id`, `email`, a name and a state require `directory`",
        ));
    }
    let mut conn = core.db.conn()?;
    let active_only = core.settings.inactive_users == InactivePolicy::Delete;
    let words = store::users::name_words(&mut conn, f)?;
    list_reads(&mut conn, f.in_id_order(&words), |c| {
        let travel = page.travel();
        let rows = store::users::users_page(c, f, &words, active_only, &travel.keyset(page))?;
        let p: Paged<UserRow> = travel.page(rows, page, |u| String::from(&u.id));
        Ok(Paged {
            data: users_with_groups(c, &p.data)?,
            before: p.before,
            after: p.after,
        })
    })
}

pub fn get_user(core: &Core, id: &DirectoryUserId) -> CoreResult<wire::DirectoryUser> {
    let mut conn = core.db.conn()?;
    let u = store::users::find_user_by_id(&mut conn, id)?;
    let u = u
        .filter(|u| u.active || core.settings.inactive_users == InactivePolicy::Keep)
        .ok_or_else(|| id.not_found())?;
    // none when its directory went meanwhile (and the user with it)
    users_with_groups(&mut conn, std::slice::from_ref(&u))?
        .pop()
        .ok_or_else(|| id.not_found())
}

pub fn list_groups(
    core: &Core,
    f: &GroupFilter,
    page: &Page,
) -> CoreResult<Paged<wire::DirectoryGroup>> {
    if f.directory.is_none() && f.user.is_none() {
        return Err(CoreError::invalid_value("pass `directory` or `user`"));
    }
    if f.name.is_some() && f.directory.is_none() {
        return Err(CoreError::invalid_value(
            "a name search requires `directory`",
        ));
    }
    let mut conn = core.db.conn()?;
    list_reads(&mut conn, f.in_id_order(), |c| {
        let travel = page.travel();
        let rows = store::groups::groups_page(c, f, &travel.keyset(page))?;
        let p: Paged<GroupRow> = travel.page(rows, page, |g| String::from(&g.id));
        let mut orgs = Orgs::default();
        let mut data = Vec::with_capacity(p.data.len());
        for g in &p.data {
            // a group whose directory went meanwhile went with it
            if let Some(org) = orgs.of(c, &g.directory_id)? {
                data.push(du::group_object(g, &org));
            }
        }
        Ok(Paged {
            data,
            before: p.before,
            after: p.after,
        })
    })
}

pub fn get_group(core: &Core, id: &DirectoryGroupId) -> CoreResult<wire::DirectoryGroup> {
    let mut conn = core.db.conn()?;
    let g = store::groups::find_group_by_id(&mut conn, id)?;
    let g = g.ok_or_else(|| id.not_found())?;
    // none when its directory went meanwhile (and the group with it)
    let org =
        directories::organization_of(&mut conn, &g.directory_id)?.ok_or_else(|| id.not_found())?;
    Ok(du::group_object(&g, &org))
}

pub fn list_organizations(core: &Core, page: &Page) -> CoreResult<Paged<wire::Organization>> {
    let mut conn = core.db.conn()?;
    let travel = page.travel();
    let rows = organizations::organizations_page(&mut conn, &travel.keyset(page))?;
    let p = travel.page(rows, page, |o| String::from(&o.id));
    Ok(Paged {
        data: p.data.iter().map(wire::Organization::from).collect(),
        before: p.before,
        after: p.after,
    })
}
