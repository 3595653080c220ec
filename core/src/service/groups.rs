//! SCIM Groups of a directory. Membership changes never load more than the members a
//! request names (a PATCH adding 100 members costs the same in a group of 100 or of
//! 50,000); a PUT or `replace members` becomes the exact membership diff.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::directory_user::{self as du, diff, normalize_group, with_previous};
use super::users::{
    self, check_body_id, page_bounds, sort_order_desc, ListParams, ListStatements, Listed,
};
use super::{Core, InactivePolicy, Scope, Write};
use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::events::{self, EventSink};
use crate::ids;
use crate::json;
use crate::model::{DirectoryRow, GroupRow, MembershipRow, UserRow};
use crate::scim::filter::{self, Translator};
use crate::scim::patch::{self, MemberOp};
use crate::scim::resource::Ref;
use crate::scim::schema::{self, MemberRef};
use crate::store::dynsql::{self, Bind, Sql};
use crate::store::schema::{directory_groups, directory_users, memberships, role_mappings};
use crate::store::{AnyConn, Dialect};
use scimgate_connectors::{normalize_group_body, normalize_patch, ResourceKind};

fn not_found(id: &str) -> CoreError {
    CoreError::not_found(format!("Group {id} not found"))
}

pub fn find(conn: &mut AnyConn, directory_id: &str, id: &str) -> CoreResult<Option<GroupRow>> {
    Ok(directory_groups::table
        .filter(directory_groups::id.eq(id))
        .filter(directory_groups::directory_id.eq(directory_id))
        .select(GroupRow::as_select())
        .first(conn)
        .optional()?)
}

/// The resource a write targets: 404 when absent, 412 when `If-Match` does not match.
/// Read with it, in the same round trip: whether the directory's organization maps any
/// group to a role (if not, membership changes need no role re-evaluation).
fn find_for_write(
    c: &mut AnyConn,
    dir: &DirectoryRow,
    id: &str,
    if_match: Option<&str>,
) -> CoreResult<(GroupRow, bool)> {
    let found: Option<(GroupRow, bool)> = directory_groups::table
        .filter(directory_groups::id.eq(id))
        .select((
            GroupRow::as_select(),
            diesel::dsl::exists(
                role_mappings::table
                    .filter(role_mappings::organization_id.eq(&dir.organization_id)),
            ),
        ))
        .first(c)
        .optional()?;
    // by primary key only (see `users::find_many`); another directory's group is none
    let (row, mapped) = found
        .filter(|(g, _)| g.directory_id == dir.id)
        .ok_or_else(|| not_found(id))?;
    Core::check_if_match(row.version, if_match)?;
    Ok((row, mapped))
}

/// Groups of a directory by id, in id order (by primary key only, as `users::find_many`).
pub fn find_many(c: &mut AnyConn, directory_id: &str, ids: &[String]) -> CoreResult<Vec<GroupRow>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<GroupRow> = directory_groups::table
            .filter(directory_groups::id.eq_any(chunk))
            .order(directory_groups::id.asc())
            .select(GroupRow::as_select())
            .load(c)?;
        out.extend(rows.into_iter().filter(|g| g.directory_id == directory_id));
    }
    Ok(out)
}

/// Each member type with the scalar subquery that reads a member's name by primary key.
const MEMBER_NAMES: [(&str, &str); 2] = [
    (
        "User",
        "(SELECT x.user_name FROM directory_users x WHERE x.id = m.member_id)",
    ),
    (
        "Group",
        "(SELECT x.display_name FROM directory_groups x WHERE x.id = m.member_id)",
    ),
];

/// A membership as the member lists read it.
#[derive(diesel::QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    group_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    member_id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    display: Option<String>,
}

impl MemberRow {
    /// The group and the member's reference. `display`: what the client set for the
    /// member, else the user's userName / the group's displayName; a member that no
    /// longer exists is none.
    fn into_ref(self, kind: &'static str) -> Option<(String, Ref)> {
        let n = self.name?;
        Some((
            self.group_id,
            Ref {
                id: self.member_id,
                display: Some(self.display.unwrap_or(n)),
                kind,
            },
        ))
    }
}

/// The members of several groups (a list page), by group, each as [`members_of`]
/// gives them: one query per member type for the whole page instead of two per group.
pub fn members_of_many(
    conn: &mut AnyConn,
    group_ids: &[String],
) -> CoreResult<HashMap<String, Vec<Ref>>> {
    let dialect = conn.dialect();
    let mut out: HashMap<String, Vec<Ref>> = HashMap::new();
    for chunk in group_ids.chunks(500) {
        for (kind, name) in MEMBER_NAMES {
            let mut q = Sql::raw(format!(
                "SELECT m.group_id, m.member_id, {name} AS name, m.display FROM memberships m WHERE "
            ));
            users::id_in(&mut q, dialect, "m.group_id", chunk);
            q.push(" AND m.member_type = ")
                .text(kind)
                .push(" ORDER BY m.group_id, m.member_id");
            for (g, r) in q
                .load::<MemberRow>(conn)?
                .into_iter()
                .filter_map(|r| r.into_ref(kind))
            {
                out.entry(g).or_default().push(r);
            }
        }
    }
    Ok(out)
}

/// Members of a group, users then groups, each in id order. Each member's name is read
/// by primary key per membership, in the group's own index order: as a join, a plan
/// made before the tables had statistics could hash every user of every directory to
/// render one small group.
pub fn members_of(conn: &mut AnyConn, group_id: &str) -> CoreResult<Vec<Ref>> {
    let mut out = Vec::new();
    for (kind, name) in MEMBER_NAMES {
        let mut q = Sql::raw(format!(
            "SELECT m.group_id, m.member_id, {name} AS name, m.display FROM memberships m WHERE m.group_id = "
        ));
        q.text(group_id)
            .push(" AND m.member_type = ")
            .text(kind)
            .push(" ORDER BY m.member_id");
        out.extend(
            q.load::<MemberRow>(conn)?
                .into_iter()
                .filter_map(|r| r.into_ref(kind).map(|(_, r)| r)),
        );
    }
    Ok(out)
}

fn display_name_of(doc: &Map<String, Value>) -> CoreResult<String> {
    schema::check_identifiers(doc, &["displayName", "externalId"])?;
    match doc.get("displayName").and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => Err(CoreError::invalid_value("`displayName` is required")),
    }
}

fn canonical_body(dir: &DirectoryRow, body: Value) -> CoreResult<schema::Canonical> {
    let body = normalize_group_body(dir.dir_type(), body)?;
    schema::canonicalize(ResourceKind::Group, body)
}

/// Resolve member references: every id must be a user or group of this directory
/// (PRODUCT.md: otherwise 400 invalidValue and nothing of the request is applied).
struct Resolved {
    users: HashMap<String, UserRow>,
    groups: HashSet<String>,
}

/// The distinct ids of member references, in order; an empty id is invalid.
fn distinct_ids(refs: &[String]) -> CoreResult<Vec<String>> {
    let mut uniq: Vec<String> = Vec::with_capacity(refs.len());
    let mut seen = HashSet::new();
    for r in refs {
        if r.trim().is_empty() {
            return Err(CoreError::invalid_value(
                "a member `value` must be a non-empty id",
            ));
        }
        if seen.insert(r.as_str()) {
            uniq.push(r.clone());
        }
    }
    Ok(uniq)
}

/// With the users among `uniq` already found: the rest must be groups of this
/// directory, and not the group itself.
fn resolve_rest(
    c: &mut AnyConn,
    dir: &DirectoryRow,
    uniq: &[String],
    users: HashMap<String, UserRow>,
    self_id: &str,
) -> CoreResult<Resolved> {
    let rest: Vec<String> = uniq
        .iter()
        .filter(|r| !users.contains_key(*r))
        .cloned()
        .collect();
    let mut groups = HashSet::new();
    if !rest.is_empty() {
        for g in find_many(c, &dir.id, &rest)? {
            groups.insert(g.id);
        }
    }
    if let Some(missing) = uniq
        .iter()
        .find(|r| !users.contains_key(*r) && !groups.contains(*r))
    {
        return Err(CoreError::invalid_value(format!(
            "member {missing:?} is not a user or group of this directory"
        )));
    }
    if groups.contains(self_id) {
        return Err(CoreError::invalid_value(
            "a group cannot be a member of itself",
        ));
    }
    Ok(Resolved { users, groups })
}

fn resolve_members(
    c: &mut AnyConn,
    dir: &DirectoryRow,
    refs: &[String],
    self_id: &str,
) -> CoreResult<Resolved> {
    let uniq = distinct_ids(refs)?;
    let users: HashMap<String, UserRow> = users::find_many(c, &dir.id, &uniq)?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect();
    resolve_rest(c, dir, &uniq, users, self_id)
}

/// `ids` padded to the next power of two by repeating the last one, so that the
/// statements listing them come in a few shapes that stay prepared (repeating an id
/// changes nothing in an `IN` list or a probe whose rows are collected into a set).
pub(crate) fn padded(ids: &[String]) -> impl Iterator<Item = &String> {
    let pad = ids.len().next_power_of_two() - ids.len();
    ids.iter().chain(
        ids.last()
            .into_iter()
            .flat_map(move |l| std::iter::repeat_n(l, pad)),
    )
}

/// Resolve the members an add names and which of them are members already, reading
/// the users and their membership of the group in one query (a primary-key probe of
/// `memberships` per user, whatever the group's size).
fn resolve_for_add(
    c: &mut AnyConn,
    dir: &DirectoryRow,
    group_id: &str,
    refs: &[String],
) -> CoreResult<(Resolved, HashSet<String>)> {
    let uniq = distinct_ids(refs)?;
    let mut users = HashMap::with_capacity(uniq.len());
    let mut existing = HashSet::new();
    let dialect = c.dialect();
    for chunk in uniq.chunks(500) {
        let mut q = Sql::raw(format!("SELECT {}, ", users::USER_COLUMNS));
        match dialect {
            // A LATERAL `LIMIT 1` cannot be turned into a hashed subplan, which would
            // read every membership of the group per PATCH (as `EXISTS` did under a
            // plan kept from when the group was small): one primary-key probe per user.
            Dialect::Pg => q
                .push("m.x IS NOT NULL AS member FROM directory_users r LEFT JOIN LATERAL (SELECT 1 AS x FROM memberships m WHERE m.group_id = ")
                .text(group_id.to_string())
                .push(" AND m.member_id = r.id LIMIT 1) AS m ON true WHERE "),
            Dialect::Sqlite => q
                .push("EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = ")
                .text(group_id.to_string())
                .push(" AND m.member_id = r.id) AS member FROM directory_users r WHERE "),
        };
        users::id_in(&mut q, dialect, "r.id", chunk);
        // by primary key only (see `users::find_many`); another directory's user is none
        let rows =
            q.load_rows::<(directory_users::SqlType, diesel::sql_types::Bool), (UserRow, bool)>(c)?;
        for (user, member) in rows {
            if user.directory_id != dir.id {
                continue;
            }
            if member {
                existing.insert(user.id.clone());
            }
            users.insert(user.id.clone(), user);
        }
    }
    let resolved = resolve_rest(c, dir, &uniq, users, group_id)?;
    // nested groups: their membership probed as before
    if !resolved.groups.is_empty() {
        let gids: Vec<String> = resolved.groups.iter().cloned().collect();
        existing.extend(existing_members(c, group_id, &gids)?);
    }
    Ok((resolved, existing))
}

#[derive(diesel::QueryableByName)]
struct MemberIdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    member_id: String,
}

/// The named members of a group that exist, as one probe of the primary key per id,
/// whatever the group's size. On PostgreSQL the probes are forced by a LATERAL
/// `LIMIT 1` subquery: with `group_id = ? AND member_id IN (…)` and statistics not yet
/// caught up with a group that just grew, the planner scans the whole group (a
/// 100-member PATCH on a 50,000-member group took 66 ms instead of 9 ms). `select` is
/// the projected column list of the matching `memberships` row `m`.
fn members_probe(dialect: Dialect, group_id: &str, ids: &[String], select: &str) -> Sql {
    match dialect {
        Dialect::Pg => {
            let mut q = Sql::raw(format!("SELECT {select} FROM "));
            q.unnest(vec![dynsql::Column::Text(ids.to_vec())]);
            q.push(" AS v(id) CROSS JOIN LATERAL (SELECT m.member_id, m.ctid FROM memberships m WHERE m.group_id = ")
                .text(group_id.to_string())
                .push(" AND m.member_id = v.id LIMIT 1) AS m");
            q
        }
        Dialect::Sqlite => {
            let mut q = Sql::raw(format!(
                "SELECT {select} FROM memberships m WHERE m.group_id = "
            ));
            q.text(group_id.to_string())
                .push(" AND m.member_id IN (")
                .list(padded(ids))
                .push(")");
            q
        }
    }
}

fn existing_members(
    c: &mut AnyConn,
    group_id: &str,
    ids: &[String],
) -> CoreResult<HashSet<String>> {
    let mut out = HashSet::new();
    let dialect = c.dialect();
    for chunk in ids.chunks(500) {
        let rows: Vec<MemberIdRow> =
            members_probe(dialect, group_id, chunk, "m.member_id").load(c)?;
        out.extend(rows.into_iter().map(|r| r.member_id));
    }
    Ok(out)
}

/// Delete the named memberships of a group (same probing as `members_probe`) and
/// return the ids of the members deleted. With `bump`, the group's version is set in
/// the same statement on PostgreSQL when a member was deleted (a data-modifying
/// `WITH`, as `insert_memberships`); the returned flag says whether it was. SQLite
/// leaves the version to the caller.
fn delete_members(
    c: &mut AnyConn,
    group_id: &str,
    ids: &[String],
    bump: Option<Bump<'_>>,
) -> CoreResult<(Vec<String>, bool)> {
    let dialect = c.dialect();
    let mut gone = Vec::new();
    let mut bumped = false;
    for chunk in ids.chunks(500) {
        let q = match dialect {
            Dialect::Pg => {
                let mut q = Sql::raw("WITH d AS (DELETE FROM memberships WHERE ctid IN (");
                q.append(members_probe(dialect, group_id, chunk, "m.ctid"))
                    .push(") RETURNING member_id)");
                if let (Some(b), false) = (&bump, bumped) {
                    q.push(", ");
                    b.cte(&mut q, " AND EXISTS (SELECT 1 FROM d)");
                }
                q.push(" SELECT member_id FROM d");
                q
            }
            Dialect::Sqlite => {
                let mut q = Sql::raw("DELETE FROM memberships WHERE rowid IN (");
                q.append(members_probe(dialect, group_id, chunk, "m.rowid"))
                    .push(") RETURNING member_id");
                q
            }
        };
        let rows: Vec<MemberIdRow> = q.load(c)?;
        if dialect == Dialect::Pg && bump.is_some() && !rows.is_empty() {
            bumped = true;
        }
        gone.extend(rows.into_iter().map(|r| r.member_id));
    }
    Ok((gone, bumped))
}

/// The values of a membership row, in the order of `MEMBERSHIP_COLUMNS`.
fn membership_values(r: &MembershipRow) -> [Option<Bind>; 6] {
    [
        Some(Bind::Text(r.group_id.clone())),
        Some(Bind::Text(r.member_id.clone())),
        Some(Bind::Text(r.directory_id.clone())),
        Some(Bind::Text(r.member_type.clone())),
        Some(Bind::Timestamp(r.created_at)),
        r.display.clone().map(Bind::Text),
    ]
}

const MEMBERSHIP_COLUMNS: &str =
    "group_id, member_id, directory_id, member_type, created_at, display";

/// A group's new version and modification time, written with a change of its members.
struct Bump<'a> {
    group_id: &'a str,
    version: i64,
    at: NaiveDateTime,
}

impl Bump<'_> {
    /// The PostgreSQL CTE `bump AS (UPDATE directory_groups … WHERE id = … <and>)`.
    fn cte(&self, q: &mut Sql, and: &str) {
        q.push("bump AS (UPDATE directory_groups SET version = ")
            .bind(Bind::BigInt(self.version))
            .push(", updated_at = ")
            .bind(Bind::Timestamp(self.at))
            .push(" WHERE id = ")
            .text(self.group_id)
            .push(and)
            .push(")");
    }
}

/// Insert membership rows and, with `bump`, set the group's version in the same
/// statement on PostgreSQL (a data-modifying `WITH`: one round trip less per
/// membership PATCH), in a statement of its own on SQLite.
fn insert_memberships(
    c: &mut AnyConn,
    rows: &[MembershipRow],
    bump: Option<Bump<'_>>,
) -> CoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    if c.dialect() == Dialect::Pg {
        // one statement text for any number of rows (see `Sql::unnest`)
        let text = || dynsql::Column::Text(vec![]);
        let columns = dynsql::Column::transpose(
            rows.iter().map(membership_values),
            [
                text(),
                text(),
                text(),
                text(),
                dynsql::Column::Timestamp(vec![]),
                dynsql::Column::OptText(vec![]),
            ],
        )?;
        let mut q = Sql::raw("");
        if let Some(b) = bump {
            q.push("WITH ");
            b.cte(&mut q, "");
            q.push(" ");
        }
        q.push(format!(
            "INSERT INTO memberships ({MEMBERSHIP_COLUMNS}) SELECT * FROM "
        ));
        q.unnest(columns);
        q.execute(c)?;
        return Ok(());
    }
    if let Some(b) = bump {
        set_version(c, b.group_id, b.version, b.at)?;
    }
    for chunk in rows.chunks(500) {
        let mut q = Sql::raw(format!(
            "INSERT INTO memberships ({MEMBERSHIP_COLUMNS}) VALUES "
        ));
        for (i, r) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.tuple(membership_values(r), "NULL");
        }
        q.execute(c)?;
    }
    Ok(())
}

struct MemberCtx<'a> {
    core: &'a Core,
    dir: &'a DirectoryRow,
    group: GroupRow,
    changed: bool,
    /// Users whose memberships changed (their roles are re-evaluated at the end).
    touched: Vec<String>,
    /// Whether the organization maps any group to a role, when known.
    mapped: Option<bool>,
    /// When the group's version was bumped along with an insert of members.
    bumped_at: Option<NaiveDateTime>,
}

impl<'a> MemberCtx<'a> {
    fn new(core: &'a Core, dir: &'a DirectoryRow, group: GroupRow) -> Self {
        MemberCtx {
            core,
            dir,
            group,
            changed: false,
            touched: Vec::new(),
            mapped: None,
            bumped_at: None,
        }
    }

    fn mapped(self, mapped: bool) -> Self {
        MemberCtx {
            mapped: Some(mapped),
            ..self
        }
    }

    /// Re-evaluate the roles of the touched users, unless no group of the organization
    /// maps to a role.
    fn recompute_roles(&self, c: &mut AnyConn, sink: &mut EventSink) -> CoreResult<()> {
        match self.mapped {
            Some(false) => Ok(()),
            // known to have mappings: `force` skips asking again
            Some(true) => {
                super::roles::recompute(self.core, c, self.dir, &self.touched, sink, true)
            }
            None => super::roles::recompute(self.core, c, self.dir, &self.touched, sink, false),
        }
    }

    fn visible(&self, u: &UserRow) -> bool {
        u.active || self.core.settings.inactive_users == InactivePolicy::Keep
    }

    fn add(
        &mut self,
        c: &mut AnyConn,
        sink: &mut EventSink,
        refs: Vec<MemberRef>,
    ) -> CoreResult<()> {
        if refs.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = refs.iter().map(|r| r.value.clone()).collect();
        let (resolved, existing) = resolve_for_add(c, self.dir, &self.group.id, &ids)?;
        let now = clock::now();
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        for r in refs {
            if existing.contains(&r.value) {
                // IDEMPOTENT-MEMBERSHIP: re-adding a member is a no-op, but a `display`
                // the client sets is kept (RFC 7643 §4.2, immutable once written)
                if let Some(d) = &r.display {
                    let n = diesel::update(
                        memberships::table
                            .filter(memberships::group_id.eq(&self.group.id))
                            .filter(memberships::member_id.eq(&r.value))
                            .filter(
                                memberships::display
                                    .is_null()
                                    .or(memberships::display.ne(d)),
                            ),
                    )
                    .set(memberships::display.eq(d))
                    .execute(c)?;
                    self.changed |= n > 0;
                }
                continue;
            }
            if !seen.insert(r.value.clone()) {
                continue;
            }
            let kind = if resolved.groups.contains(&r.value) {
                "Group"
            } else {
                "User"
            };
            rows.push(MembershipRow {
                group_id: self.group.id.clone(),
                member_id: r.value,
                directory_id: self.dir.id.clone(),
                member_type: kind.into(),
                created_at: now,
                display: r.display,
            });
        }
        if rows.is_empty() {
            return Ok(());
        }
        // the group's version changes with its members (bumped once per PATCH)
        let bump = self.bumped_at.is_none().then(|| Bump {
            group_id: &self.group.id,
            version: self.group.version + 1,
            at: now,
        });
        let bumping = bump.is_some();
        insert_memberships(c, &rows, bump)?;
        if bumping {
            self.bumped_at = Some(now);
        }
        self.changed = true;
        self.touched.extend(
            rows.iter()
                .filter(|r| r.member_type == "User")
                .map(|r| r.member_id.clone()),
        );
        let visible = rows
            .iter()
            .filter_map(|r| resolved.users.get(&r.member_id))
            .filter(|u| self.visible(u));
        self.emit_membership(sink, events::GROUP_USER_ADDED, visible);
        Ok(())
    }

    /// One membership event per user; the group object is serialized once and every
    /// payload spliced from serialized objects (a PATCH may name thousands of members).
    fn emit_membership<'u>(
        &self,
        sink: &mut EventSink,
        event: &'static str,
        users: impl Iterator<Item = &'u UserRow>,
    ) {
        let org = &self.dir.organization_id;
        let gobj = json::text(&du::group_object(&self.group, org));
        for u in users {
            let user = du::user_object_json(u, org);
            sink.emit_json(
                event,
                du::membership_payload_json(&self.dir.id, &user, &gobj),
            );
        }
    }

    fn remove(
        &mut self,
        c: &mut AnyConn,
        sink: &mut EventSink,
        ids: Vec<String>,
    ) -> CoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        // removing a non-member (or an unknown id) is a successful no-op (IdPs retry)
        let now = clock::now();
        let bump = self.bumped_at.is_none().then(|| Bump {
            group_id: &self.group.id,
            version: self.group.version + 1,
            at: now,
        });
        let (mut gone, bumped) = delete_members(c, &self.group.id, &ids, bump)?;
        if bumped {
            self.bumped_at = Some(now);
        }
        gone.sort();
        gone.dedup();
        if gone.is_empty() {
            return Ok(());
        }
        let user_rows = users::find_many(c, &self.dir.id, &gone)?;
        self.changed = true;
        self.touched.extend(user_rows.iter().map(|u| u.id.clone()));
        let visible = user_rows.iter().filter(|u| self.visible(u));
        self.emit_membership(sink, events::GROUP_USER_REMOVED, visible);
        Ok(())
    }

    fn all_member_ids(&self, c: &mut AnyConn) -> CoreResult<Vec<String>> {
        Ok(memberships::table
            .filter(memberships::group_id.eq(&self.group.id))
            .order(memberships::member_id.asc())
            .select(memberships::member_id)
            .load(c)?)
    }

    fn replace(
        &mut self,
        c: &mut AnyConn,
        sink: &mut EventSink,
        refs: Vec<MemberRef>,
    ) -> CoreResult<()> {
        // validate first: an unknown id rejects the whole request
        let ids: Vec<String> = refs.iter().map(|r| r.value.clone()).collect();
        resolve_members(c, self.dir, &ids, &self.group.id)?;
        let current = self.all_member_ids(c)?;
        let want: HashSet<&String> = ids.iter().collect();
        let to_remove: Vec<String> = current
            .iter()
            .filter(|m| !want.contains(m))
            .cloned()
            .collect();
        self.remove(c, sink, to_remove)?;
        // new members are added; kept members only take a `display` the client sends
        self.add(c, sink, refs)
    }

    fn apply(&mut self, c: &mut AnyConn, sink: &mut EventSink, op: MemberOp) -> CoreResult<()> {
        let max = self.core.settings.max_members_per_write;
        let check = |n: usize| {
            if n > max {
                Err(CoreError::too_many(format!(
                    "{n} members in one operation; at most {max} are allowed"
                )))
            } else {
                Ok(())
            }
        };
        match op {
            MemberOp::Add(refs) => {
                check(refs.len())?;
                self.add(c, sink, refs)
            }
            MemberOp::Remove(ids) => {
                check(ids.len())?;
                self.remove(c, sink, ids)
            }
            MemberOp::RemoveAll => {
                let all = self.all_member_ids(c)?;
                self.remove(c, sink, all)
            }
            MemberOp::Replace(refs) => {
                check(refs.len())?;
                self.replace(c, sink, refs)
            }
        }
    }
}

pub fn create(core: &Core, dir: &DirectoryRow, body: Value) -> CoreResult<GroupRow> {
    core.run(prepare_create(core, dir, body)?)
}

/// [`create`], checked and prepared (no database work) but not yet run.
pub fn prepare_create(core: &Core, dir: &DirectoryRow, body: Value) -> CoreResult<Write<GroupRow>> {
    let canon = canonical_body(dir, body)?;
    let doc = canon.doc;
    let name = display_name_of(&doc)?;
    let members = canon.members.unwrap_or_default();
    if members.len() > core.settings.max_members_per_write {
        return Err(CoreError::too_many("too many members in one request"));
    }
    let now = clock::now();
    let row = GroupRow {
        id: ids::new_id(ids::DIRECTORY_GROUP),
        directory_id: dir.id.clone(),
        display_name_ci: name.to_lowercase(),
        display_name: name,
        external_id: doc
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::to_string),
        version: 1,
        scim: json::text(&Value::Object(doc.clone())),
        normalized: json::text(&Value::Object(normalize_group(dir, &doc))),
        created_at: now,
        updated_at: now,
    };
    let (core2, d, r) = (core.clone(), dir.clone(), row);
    Ok(core.prepare(dir, Scope::Other, move |c, sink| {
        let (core, dir, row) = (&core2, &d, r.clone());
        diesel::insert_into(directory_groups::table)
            .values(&row)
            .execute(c)?;
        sink.emit(
            events::GROUP_CREATED,
            du::group_object(&row, &dir.organization_id),
        );
        let mut ctx = MemberCtx::new(core, dir, row.clone());
        ctx.add(c, sink, members.clone())?;
        super::roles::recompute(ctx.core, c, ctx.dir, &ctx.touched, sink, false)?;
        Ok(row)
    }))
}

pub fn get(core: &Core, dir: &DirectoryRow, id: &str) -> CoreResult<GroupRow> {
    let mut conn = core.db.conn()?;
    find(&mut conn, &dir.id, id)?.ok_or_else(|| not_found(id))
}

const GROUP_COLUMNS: &str = "r.id, r.directory_id, r.display_name, r.display_name_ci, r.external_id, r.version, r.scim, r.normalized, r.created_at, r.updated_at";

pub fn list(core: &Core, dir: &DirectoryRow, p: &ListParams) -> CoreResult<Listed<GroupRow>> {
    let (start, count) = page_bounds(core, p);
    let mut conn = core.db.conn()?;
    let st = list_statements(conn.dialect(), dir, p, (start, count))?;
    users::run_list(&mut conn, st, |q, c| q.load(c))
}

/// [`ListStatements`] for a page of a directory's groups (`start`, `count`: see
/// [`page_bounds`]).
pub(crate) fn list_statements(
    dialect: crate::store::Dialect,
    dir: &DirectoryRow,
    p: &ListParams,
    (start, count): (i64, i64),
) -> CoreResult<ListStatements> {
    let mut wher = Sql::raw(" FROM directory_groups r WHERE r.directory_id = ");
    wher.text(dir.id.clone());
    let filtered = p.filter.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(f) = filtered {
        let parsed = filter::parse(f)?;
        let t = Translator::new(ResourceKind::Group, dialect, &dir.id);
        wher.push(" AND (").append(t.translate(&parsed)?).push(")");
    }
    let mut cq = Sql::raw("SELECT COUNT(*) AS n");
    cq.append(wher.clone());
    let mut q = Sql::raw(format!("SELECT {GROUP_COLUMNS}"));
    q.append(wher);
    let desc = sort_order_desc(p)?;
    let dir_s = if desc { "DESC" } else { "ASC" };
    let coll = match dialect {
        crate::store::Dialect::Pg => " COLLATE \"C\"",
        crate::store::Dialect::Sqlite => "",
    };
    let sorted = p
        .sort_by
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    let in_id_order = filtered.is_none() && sorted.is_none();
    match sorted {
        None => {
            q.push(" ORDER BY r.id ASC");
        }
        Some(sb) => {
            let sb = sb
                .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:group:")
                .unwrap_or(&sb)
                .to_string();
            let key = match sb.as_str() {
                "id" => "r.id".to_string(),
                "displayname" => format!("r.display_name_ci{coll}"),
                "externalid" => format!("r.external_id{coll}"),
                "meta.created" => "r.created_at".into(),
                "meta.lastmodified" => "r.updated_at".into(),
                _ => {
                    return Err(CoreError::invalid_value(format!(
                        "cannot sort Groups by {sb:?}"
                    )))
                }
            };
            q.push(format!(
                " ORDER BY CASE WHEN {key} IS NULL THEN 1 ELSE 0 END, {key} {dir_s}, r.id ASC"
            ));
        }
    }
    q.push(" LIMIT ")
        .bind(Bind::BigInt(count))
        .push(" OFFSET ")
        .bind(Bind::BigInt(start - 1));
    Ok(ListStatements {
        count: cq,
        page: q,
        start,
        limit: count,
        in_id_order,
    })
}

/// Write the group's new document (rename → `dsync.group.updated` with the old name;
/// no event when nothing normalized changed: Okta re-sends renames on every push).
fn update_group(
    c: &mut AnyConn,
    sink: &mut EventSink,
    dir: &DirectoryRow,
    old: &GroupRow,
    doc: Map<String, Value>,
    members_changed: bool,
) -> CoreResult<GroupRow> {
    let name = display_name_of(&doc)?;
    let old_doc = du::group_doc(old);
    if old_doc == doc && !members_changed {
        return Ok(old.clone());
    }
    let old_norm = match serde_json::from_str::<Value>(&old.normalized) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let new_norm = normalize_group(dir, &doc);
    let prev = diff(&old_norm, &new_norm);
    let row = GroupRow {
        id: old.id.clone(),
        directory_id: old.directory_id.clone(),
        display_name_ci: name.to_lowercase(),
        display_name: name,
        external_id: doc
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::to_string),
        version: old.version + 1,
        scim: json::text(&Value::Object(doc)),
        normalized: json::text(&Value::Object(new_norm)),
        created_at: old.created_at,
        updated_at: clock::now(),
    };
    Sql::update_by_id(
        "directory_groups",
        [
            ("display_name", Some(Bind::Text(row.display_name.clone()))),
            (
                "display_name_ci",
                Some(Bind::Text(row.display_name_ci.clone())),
            ),
            ("external_id", row.external_id.clone().map(Bind::Text)),
            ("version", Some(Bind::BigInt(row.version))),
            ("scim", Some(Bind::Text(row.scim.clone()))),
            ("normalized", Some(Bind::Text(row.normalized.clone()))),
            ("updated_at", Some(Bind::Timestamp(row.updated_at))),
        ],
        &row.id,
    )
    .execute(c)?;
    if !prev.is_empty() {
        sink.emit(
            events::GROUP_UPDATED,
            with_previous(du::group_object(&row, &dir.organization_id), prev),
        );
    }
    Ok(row)
}

/// PUT: attributes replaced; `members` present → exact membership diff (GROUP-PUT-REPLACE);
/// `members` absent → membership left as is (the gateway never wipes a group by omission).
pub fn replace(
    core: &Core,
    dir: &DirectoryRow,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<GroupRow> {
    core.run(prepare_replace(core, dir, id, body, if_match)?)
}

/// [`replace`], checked and prepared (no database work) but not yet run.
pub fn prepare_replace(
    core: &Core,
    dir: &DirectoryRow,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<Write<GroupRow>> {
    check_body_id(&body, id)?;
    let canon = canonical_body(dir, body)?;
    let doc = canon.doc;
    display_name_of(&doc)?;
    Ok(core.prepare_on(
        dir,
        Scope::Other,
        id,
        if_match,
        move |core, c, sink, dir, id, if_match| {
            let mut doc = doc.clone();
            let (old, mapped) = find_for_write(c, dir, id, if_match)?;
            if !doc.contains_key("externalId") {
                if let Some(x) = du::group_doc(&old).get("externalId") {
                    doc.insert("externalId".into(), x.clone());
                }
            }
            // rename first, then the membership diff (events carry the new group name)
            let updated = update_group(c, sink, dir, &old, doc, false)?;
            let mut ctx = MemberCtx::new(core, dir, updated).mapped(mapped);
            if let Some(ms) = canon.members.clone() {
                ctx.apply(c, sink, MemberOp::Replace(ms))?;
            }
            bump_if_members_changed(c, sink, ctx)
        },
    ))
}

/// After membership changes: re-evaluate the touched users' roles and bump the group's
/// version (its `members` changed).
fn bump_if_members_changed(
    c: &mut AnyConn,
    sink: &mut EventSink,
    ctx: MemberCtx<'_>,
) -> CoreResult<GroupRow> {
    ctx.recompute_roles(c, sink)?;
    if !ctx.changed {
        return Ok(ctx.group);
    }
    let mut g = ctx.group;
    g.version += 1;
    match ctx.bumped_at {
        // written with the inserted members
        Some(at) => g.updated_at = at,
        None => {
            g.updated_at = clock::now();
            set_version(c, &g.id, g.version, g.updated_at)?;
        }
    }
    Ok(g)
}

/// Set a group's version and modification time (one prepared statement, see
/// `Sql::update_by_id`).
fn set_version(c: &mut AnyConn, group_id: &str, version: i64, at: NaiveDateTime) -> CoreResult<()> {
    Sql::update_by_id(
        "directory_groups",
        [
            ("version", Some(Bind::BigInt(version))),
            ("updated_at", Some(Bind::Timestamp(at))),
        ],
        group_id,
    )
    .execute(c)?;
    Ok(())
}

pub fn patch(
    core: &Core,
    dir: &DirectoryRow,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<GroupRow> {
    core.run(prepare_patch(core, dir, id, body, if_match)?)
}

/// [`patch`], checked and prepared (no database work) but not yet run.
pub fn prepare_patch(
    core: &Core,
    dir: &DirectoryRow,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<Write<GroupRow>> {
    let ops = normalize_patch(dir.dir_type(), ResourceKind::Group, body)?;
    core.check_ops(&ops)?;
    Ok(core.prepare_on(
        dir,
        Scope::Other,
        id,
        if_match,
        move |core, c, sink, dir, id, if_match| {
            let (old, mapped) = find_for_write(c, dir, id, if_match)?;
            let mut doc = du::group_doc(&old);
            let outcome = patch::apply_patch(ResourceKind::Group, id, &mut doc, &ops)?;
            let updated = update_group(c, sink, dir, &old, doc, false)?;
            let mut ctx = MemberCtx::new(core, dir, updated).mapped(mapped);
            for op in outcome.member_ops {
                ctx.apply(c, sink, op)?;
            }
            bump_if_members_changed(c, sink, ctx)
        },
    ))
}

/// DELETE: `dsync.group.user_removed` for each remaining member, then `dsync.group.deleted`.
pub fn delete(core: &Core, dir: &DirectoryRow, id: &str, if_match: Option<&str>) -> CoreResult<()> {
    core.run(prepare_delete(core, dir, id, if_match))
}

/// [`delete`], prepared but not yet run.
pub fn prepare_delete(
    core: &Core,
    dir: &DirectoryRow,
    id: &str,
    if_match: Option<&str>,
) -> Write<()> {
    core.prepare_on(
        dir,
        Scope::Other,
        id,
        if_match,
        move |core, c, sink, dir, id, if_match| {
            let (old, _) = find_for_write(c, dir, id, if_match)?;
            let mut ctx = MemberCtx::new(core, dir, old.clone());
            let all = ctx.all_member_ids(c)?;
            ctx.remove(c, sink, all)?;
            // it may itself be a member of other groups (nested groups)
            diesel::delete(memberships::table.filter(memberships::member_id.eq(&old.id)))
                .execute(c)?;
            // its role mappings grant nothing any more
            diesel::delete(role_mappings::table.filter(role_mappings::group_id.eq(&old.id)))
                .execute(c)?;
            diesel::delete(directory_groups::table.filter(directory_groups::id.eq(&old.id)))
                .execute(c)?;
            sink.emit(
                events::GROUP_DELETED,
                du::group_object(&old, &dir.organization_id),
            );
            super::roles::recompute(ctx.core, c, ctx.dir, &ctx.touched, sink, true)?;
            Ok(())
        },
    )
}

/// Every user id that is a member of a group (for `GET /directory_users?group=`).
pub fn member_count(conn: &mut AnyConn, group_id: &str) -> CoreResult<i64> {
    Ok(memberships::table
        .filter(memberships::group_id.eq(group_id))
        .count()
        .get_result(conn)?)
}
