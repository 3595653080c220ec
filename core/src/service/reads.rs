//! The vendor read API (WorkOS `GET /directories`, `/directory_users`,
//! `/directory_groups`) with WorkOS cursor pagination (WIRE-COMPAT.md §1): keyset
//! pagination on the prefixed ULID ids, so page 10,000 costs what page 1 costs.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::Value;

use super::directory_user as du;
use super::users::USER_COLUMNS;
use super::{Core, InactivePolicy};
use crate::error::{CoreError, CoreResult};
use crate::model::{DirectoryRow, GroupRow, OrganizationRow, UserRow};
use crate::store::dynsql::{Bind, Sql};
use crate::store::schema::{directories, directory_groups, organizations};
use crate::store::AnyConn;

/// WorkOS `order`: `desc` (default), `asc`, or `normal` ("descending with reversed
/// cursor semantics where before fetches older records and after fetches newer").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    Desc,
    Asc,
    Normal,
}

impl ListOrder {
    pub fn parse(s: Option<&str>) -> CoreResult<ListOrder> {
        match s.map(str::trim) {
            None | Some("") | Some("desc") => Ok(ListOrder::Desc),
            Some("asc") => Ok(ListOrder::Asc),
            Some("normal") => Ok(ListOrder::Normal),
            Some(other) => Err(CoreError::invalid_value(format!(
                "order must be one of asc, desc, normal; got {other:?}"
            ))),
        }
    }
    fn display_desc(self) -> bool {
        !matches!(self, ListOrder::Asc)
    }
    /// Whether `after=X` selects ids greater than X.
    fn after_is_greater(self) -> bool {
        !matches!(self, ListOrder::Desc)
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub before: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
    pub order: ListOrder,
}

impl Page {
    pub fn new(
        before: Option<String>,
        after: Option<String>,
        limit: Option<i64>,
        order: Option<&str>,
    ) -> CoreResult<Page> {
        let limit = limit.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(CoreError::invalid_value("limit must be between 1 and 100"));
        }
        if before.is_some() && after.is_some() {
            return Err(CoreError::invalid_value(
                "pass either `before` or `after`, not both",
            ));
        }
        Ok(Page {
            before: before.filter(|s| !s.is_empty()),
            after: after.filter(|s| !s.is_empty()),
            limit,
            order: ListOrder::parse(order)?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub data: Vec<T>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Which way a keyset page reads ids, and from where.
pub(crate) struct Travel {
    /// ascending ids
    up: bool,
    cursor: Option<String>,
    /// the page lies on the `after` side of the cursor (or of the start)
    after_side: bool,
}

/// The statement of a keyset page over `base` (`SELECT … FROM t r WHERE …`): one row
/// more than the page, to tell whether more follow.
pub(crate) fn keyset_query(base: Sql, page: &Page) -> (Sql, Travel) {
    let agt = page.order.after_is_greater();
    let t = match (&page.after, &page.before) {
        (Some(a), _) => Travel {
            up: agt,
            cursor: Some(a.clone()),
            after_side: true,
        },
        (None, Some(b)) => Travel {
            up: !agt,
            cursor: Some(b.clone()),
            after_side: false,
        },
        // no cursor: start from the beginning of the display order
        (None, None) => Travel {
            up: !page.order.display_desc(),
            cursor: None,
            after_side: page.order.display_desc() != agt,
        },
    };
    let mut q = base;
    if let Some(c) = &t.cursor {
        q.push(if t.up { " AND r.id > " } else { " AND r.id < " })
            .text(c.clone());
    }
    q.push(if t.up {
        " ORDER BY r.id ASC"
    } else {
        " ORDER BY r.id DESC"
    });
    q.push(" LIMIT ").bind(Bind::BigInt(page.limit + 1));
    (q, t)
}

/// Run a keyset page over `base` (`SELECT … FROM t r WHERE …`) ordered by `r.id`.
fn keyset<T>(
    conn: &mut AnyConn,
    base: Sql,
    id_of: impl Fn(&T) -> String,
    page: &Page,
) -> CoreResult<Paged<T>>
where
    T: diesel::QueryableByName<diesel::pg::Pg>
        + diesel::QueryableByName<diesel::sqlite::Sqlite>
        + 'static,
{
    let agt = page.order.after_is_greater();
    let (
        q,
        Travel {
            up: travel_up,
            cursor,
            after_side,
        },
    ) = keyset_query(base, page);
    let mut rows: Vec<T> = q.load(conn)?;
    let has_more = rows.len() as i64 > page.limit;
    rows.truncate(page.limit as usize);
    // display order
    let display_up = !page.order.display_desc();
    if display_up != travel_up {
        rows.reverse();
    }
    let ids: Vec<String> = rows.iter().map(&id_of).collect();
    let max = ids.iter().max().cloned();
    let min = ids.iter().min().cloned();
    let (after_extreme, before_extreme) = if agt { (max, min) } else { (min, max) };
    let more_after = if after_side {
        has_more
    } else {
        !rows.is_empty() && cursor.is_some()
    };
    let more_before = if after_side {
        cursor.is_some() && !rows.is_empty()
    } else {
        has_more
    };
    Ok(Paged {
        after: if more_after { after_extreme } else { None },
        before: if more_before { before_extreme } else { None },
        data: rows,
    })
}

const DIRECTORY_COLUMNS: &str = "r.id, r.organization_id, r.name, r.dir_type, r.state, r.last_seq, r.activated_at, r.attribute_mappings, r.created_at, r.updated_at";

#[derive(diesel::QueryableByName)]
#[diesel(table_name = directories)]
struct DirRow {
    #[diesel(embed)]
    inner: DirectoryRowByName,
}

#[derive(diesel::QueryableByName, Clone)]
#[diesel(table_name = directories)]
struct DirectoryRowByName {
    id: String,
    organization_id: String,
    name: String,
    dir_type: String,
    state: String,
    last_seq: i64,
    activated_at: Option<chrono::NaiveDateTime>,
    attribute_mappings: Option<String>,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

impl From<DirectoryRowByName> for DirectoryRow {
    fn from(d: DirectoryRowByName) -> Self {
        DirectoryRow {
            id: d.id,
            organization_id: d.organization_id,
            name: d.name,
            dir_type: d.dir_type,
            state: d.state,
            last_seq: d.last_seq,
            activated_at: d.activated_at,
            attribute_mappings: d.attribute_mappings,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DirectoryFilter {
    pub organization_id: Option<String>,
    pub search: Option<String>,
    pub domain: Option<String>,
}

pub fn list_directories(core: &Core, f: &DirectoryFilter, page: &Page) -> CoreResult<Paged<Value>> {
    let mut conn = core.db.conn()?;
    let mut q = Sql::raw(format!(
        "SELECT {DIRECTORY_COLUMNS} FROM directories r WHERE 1 = 1"
    ));
    if let Some(o) = &f.organization_id {
        q.push(" AND r.organization_id = ").text(o.clone());
    }
    if let Some(s) = f.search.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND LOWER(r.name) LIKE ")
            .text(format!(
                "%{}%",
                crate::store::dynsql::like_escape(&s.to_lowercase())
            ))
            .push(" ESCAPE '\\'");
    }
    if let Some(d) = f.domain.as_deref().filter(|s| !s.is_empty()) {
        // organizations.domains is a JSON array of lower-case names
        q.push(" AND r.organization_id IN (SELECT o.id FROM organizations o WHERE o.domains LIKE ")
            .text(format!(
                "%\"{}\"%",
                crate::store::dynsql::like_escape(&d.to_lowercase())
            ))
            .push(" ESCAPE '\\')");
    }
    let p: Paged<DirRow> = keyset(&mut conn, q, |d: &DirRow| d.inner.id.clone(), page)?;
    let mut data = Vec::with_capacity(p.data.len());
    for d in p.data {
        let dir: DirectoryRow = d.inner.into();
        data.push(directory_json(&mut conn, &dir)?);
    }
    Ok(Paged {
        data,
        before: p.before,
        after: p.after,
    })
}

pub fn directory_json(conn: &mut AnyConn, dir: &DirectoryRow) -> CoreResult<Value> {
    let org: Option<OrganizationRow> = organizations::table
        .filter(organizations::id.eq(&dir.organization_id))
        .select(OrganizationRow::as_select())
        .first(conn)
        .optional()?;
    let counts = super::admin::directory_counts(conn, &dir.id)?;
    Ok(dir.to_json(org.as_ref(), Some(counts)))
}

pub fn get_directory(core: &Core, id: &str) -> CoreResult<Value> {
    let mut conn = core.db.conn()?;
    let dir = super::admin::find_directory(&mut conn, id)?
        .ok_or_else(|| CoreError::not_found(format!("directory {id} not found")))?;
    directory_json(&mut conn, &dir)
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub directory: Option<String>,
    pub group: Option<String>,
    pub idp_id: Option<String>,
    pub email: Option<String>,
}

fn org_of(conn: &mut AnyConn, directory_id: &str) -> CoreResult<String> {
    Ok(directories::table
        .filter(directories::id.eq(directory_id))
        .select(directories::organization_id)
        .first::<String>(conn)
        .optional()?
        .unwrap_or_default())
}

/// Each `directory_user` with its `groups` (WorkOS `DirectoryUserWithGroups`), in the
/// rows' order: the memberships of all of them in one query, their groups in another,
/// and each directory's organization once.
fn users_with_groups(conn: &mut AnyConn, rows: &[UserRow]) -> CoreResult<Vec<Value>> {
    #[derive(diesel::QueryableByName)]
    struct Member {
        #[diesel(sql_type = diesel::sql_types::Text)]
        member_id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        group_id: String,
    }
    let dialect = conn.dialect();
    let ids: Vec<String> = rows.iter().map(|u| u.id.clone()).collect();
    let mut of_user: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut q = Sql::raw("SELECT m.member_id, m.group_id FROM memberships m WHERE ");
        super::users::id_in(&mut q, dialect, "m.member_id", chunk);
        q.push(" ORDER BY m.member_id, m.group_id");
        for m in q.load::<Member>(conn)? {
            of_user.entry(m.member_id).or_default().push(m.group_id);
        }
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
        let found = super::groups::find_many(conn, d, &gids)?;
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
        let o = org_of(conn, directory_id)?;
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
    let (q, in_id_order) = users_query(core, f);
    crate::store::list_reads(&mut conn, in_id_order, |c| {
        let p: Paged<UserRow> = keyset(c, q, |u: &UserRow| u.id.clone(), page)?;
        Ok(Paged {
            data: users_with_groups(c, &p.data)?,
            before: p.before,
            after: p.after,
        })
    })
}

/// The users `f` selects (`SELECT … FROM directory_users r WHERE …`, for [`keyset`]),
/// and whether they are a directory's users in id order: then its `(directory_id, id)`
/// index yields them unsorted (see `store::list_reads`).
pub(crate) fn users_query(core: &Core, f: &UserFilter) -> (Sql, bool) {
    let mut q = Sql::raw(format!(
        "SELECT {USER_COLUMNS} FROM directory_users r WHERE 1 = 1"
    ));
    if let Some(d) = &f.directory {
        q.push(" AND r.directory_id = ").text(d.clone());
    }
    if let Some(g) = &f.group {
        q.push(" AND r.id IN (SELECT m.member_id FROM memberships m WHERE m.group_id = ")
            .text(g.clone())
            .push(")");
    }
    if let Some(e) = &f.email {
        q.push(" AND r.email_ci = ").text(e.to_lowercase());
    }
    if let Some(i) = &f.idp_id {
        q.push(" AND r.external_id = ").text(i.clone());
    }
    if core.settings.inactive_users == InactivePolicy::Delete {
        q.push(" AND r.active = ").bind(Bind::Bool(true));
    }
    let in_id_order =
        f.directory.is_some() && f.group.is_none() && f.email.is_none() && f.idp_id.is_none();
    (q, in_id_order)
}

pub fn get_user(core: &Core, id: &str) -> CoreResult<Value> {
    let mut conn = core.db.conn()?;
    let u: Option<UserRow> = crate::store::schema::directory_users::table
        .filter(crate::store::schema::directory_users::id.eq(id))
        .select(UserRow::as_select())
        .first(&mut conn)
        .optional()?;
    let u = u
        .filter(|u| u.active || core.settings.inactive_users == InactivePolicy::Keep)
        .ok_or_else(|| CoreError::not_found(format!("directory user {id} not found")))?;
    users_with_groups(&mut conn, std::slice::from_ref(&u))?
        .pop()
        .ok_or_else(|| CoreError::internal("the user's object was not rendered"))
}

#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    pub directory: Option<String>,
    pub user: Option<String>,
}

const GROUP_COLUMNS: &str = "r.id, r.directory_id, r.display_name, r.display_name_ci, r.external_id, r.version, r.scim, r.normalized, r.created_at, r.updated_at";

pub fn list_groups(core: &Core, f: &GroupFilter, page: &Page) -> CoreResult<Paged<Value>> {
    if f.directory.is_none() && f.user.is_none() {
        return Err(CoreError::invalid_value("pass `directory` or `user`"));
    }
    let mut conn = core.db.conn()?;
    let (q, in_id_order) = groups_query(f);
    crate::store::list_reads(&mut conn, in_id_order, |c| {
        let p: Paged<GroupRow> = keyset(c, q, |g: &GroupRow| g.id.clone(), page)?;
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

/// The groups `f` selects (`SELECT … FROM directory_groups r WHERE …`, for
/// [`keyset`]), and whether they are a directory's groups in id order (as
/// [`users_query`]).
pub(crate) fn groups_query(f: &GroupFilter) -> (Sql, bool) {
    let mut q = Sql::raw(format!(
        "SELECT {GROUP_COLUMNS} FROM directory_groups r WHERE 1 = 1"
    ));
    if let Some(d) = &f.directory {
        q.push(" AND r.directory_id = ").text(d.clone());
    }
    if let Some(u) = &f.user {
        q.push(" AND r.id IN (SELECT m.group_id FROM memberships m WHERE m.member_id = ")
            .text(u.clone())
            .push(")");
    }
    (q, f.directory.is_some() && f.user.is_none())
}

pub fn get_group(core: &Core, id: &str) -> CoreResult<Value> {
    let mut conn = core.db.conn()?;
    let g: Option<GroupRow> = directory_groups::table
        .filter(directory_groups::id.eq(id))
        .select(GroupRow::as_select())
        .first(&mut conn)
        .optional()?;
    let g = g.ok_or_else(|| CoreError::not_found(format!("directory group {id} not found")))?;
    let org = org_of(&mut conn, &g.directory_id)?;
    Ok(du::group_object(&g, &org))
}

pub fn list_organizations(core: &Core, page: &Page) -> CoreResult<Paged<Value>> {
    let mut conn = core.db.conn()?;
    let q = Sql::raw("SELECT r.id, r.name, r.domains, r.created_at, r.updated_at FROM organizations r WHERE 1 = 1");
    let p: Paged<OrgByName> = keyset(&mut conn, q, |o: &OrgByName| o.id.clone(), page)?;
    Ok(Paged {
        data: p
            .data
            .into_iter()
            .map(|o| {
                OrganizationRow {
                    id: o.id,
                    name: o.name,
                    domains: o.domains,
                    created_at: o.created_at,
                    updated_at: o.updated_at,
                }
                .to_json()
            })
            .collect(),
        before: p.before,
        after: p.after,
    })
}

#[derive(diesel::QueryableByName)]
#[diesel(table_name = organizations)]
struct OrgByName {
    id: String,
    name: String,
    domains: String,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}
