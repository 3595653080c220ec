//! SCIM Groups of a directory. Membership changes never load more than the members a
//! request names (a PATCH adding 100 members costs the same in a group of 100 or of
//! 50,000); a PUT or `replace members` becomes the exact membership diff.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::directory_user::{self as du, diff, normalize_group};
use super::list_paging::{page_bounds, scim_page, ListParams, Listed};
use super::{roles, users, Core, InactivePolicy, Scope, Write};
use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::events::{self, EventSink};
use crate::ids::{DirectoryGroupId, DirectoryId, DirectoryUserId};
use crate::json;
use crate::model::{DirectoryRow, GroupRow, MembershipRow, Ref, UserRow};
use crate::scim::patch::{self, MemberOp};
use crate::scim::schema::{self, MemberRef};
use crate::store::memberships::{self, Bump};
use crate::store::{self, AnyConn};
use scimgate_connectors::{normalize_group_body, normalize_patch, ResourceKind};

/// 404 for a SCIM group (RFC 7644 §3.12): what a URL naming no group of the directory
/// gets, an id that is not even a group id included.
pub fn not_found(id: &str) -> CoreError {
    CoreError::not_found(format!("Group {id} not found"))
}

pub fn find(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    id: &DirectoryGroupId,
) -> CoreResult<Option<GroupRow>> {
    store::groups::find_group(conn, directory_id, id)
}

/// The resource a write targets: 404 when absent, 412 when `If-Match` does not match.
/// Read with it, in the same round trip: whether the directory's organization maps any
/// group to a role (if not, membership changes need no role re-evaluation).
fn find_for_write(
    c: &mut AnyConn,
    dir: &DirectoryRow,
    id: &DirectoryGroupId,
    if_match: Option<&str>,
) -> CoreResult<(GroupRow, bool)> {
    let found = store::groups::find_group_and_any_role_mapping(c, &dir.organization_id, id)?;
    // by primary key only (see `users::find_many`); another directory's group is none
    let (row, mapped) = found
        .filter(|(g, _)| g.directory_id == dir.id)
        .ok_or_else(|| not_found(id.as_str()))?;
    Core::check_if_match(row.version, if_match)?;
    Ok((row, mapped))
}

/// Groups of a directory by id, in id order (by primary key only, as `users::find_many`).
pub fn find_many<I: AsRef<str>>(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    ids: &[I],
) -> CoreResult<Vec<GroupRow>> {
    store::groups::find_groups(c, directory_id, ids)
}

/// The members of several groups (a list page), by group, each as [`members_of`]
/// gives them (one query per member type for the whole page).
pub fn members_of_many(
    core: &Core,
    group_ids: &[DirectoryGroupId],
) -> CoreResult<HashMap<DirectoryGroupId, Vec<Ref>>> {
    let mut conn = core.db.conn()?;
    memberships::members_of_groups(&mut conn, group_ids)
}

/// Members of a group, users then groups, each in id order.
pub fn members_of(core: &Core, group_id: &DirectoryGroupId) -> CoreResult<Vec<Ref>> {
    let mut conn = core.db.conn()?;
    memberships::members_of_group(&mut conn, group_id)
}

fn display_name_of(doc: &Map<String, Value>) -> CoreResult<String> {
    schema::check_identifiers(doc, &["displayName", "externalId"])?;
    match doc.get("displayName").and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => Err(CoreError::invalid_value("`displayName` is required")),
    }
}

fn canonical_body(dir: &DirectoryRow, body: Value) -> CoreResult<schema::Canonical> {
    let body = normalize_group_body(dir.dir_type, body)?;
    schema::canonicalize(ResourceKind::Group, body)
}

/// Resolve member references: every id must be a user or group of this directory
/// (PRODUCT.md: otherwise 400 invalidValue and nothing of the request is applied).
/// Both are keyed by the id as a member reference names it (text).
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
    self_id: &DirectoryGroupId,
) -> CoreResult<Resolved> {
    let rest: Vec<String> = uniq
        .iter()
        .filter(|r| !users.contains_key(*r))
        .cloned()
        .collect();
    let mut groups = HashSet::new();
    if !rest.is_empty() {
        for g in find_many(c, &dir.id, &rest)? {
            groups.insert(g.id.into_string());
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
    if groups.contains(self_id.as_str()) {
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
    self_id: &DirectoryGroupId,
) -> CoreResult<Resolved> {
    let uniq = distinct_ids(refs)?;
    let users: HashMap<String, UserRow> = users::find_many(c, &dir.id, &uniq)?
        .into_iter()
        .map(|u| (String::from(&u.id), u))
        .collect();
    resolve_rest(c, dir, &uniq, users, self_id)
}

/// Resolve the members an add names and which of them are members already, reading
/// the users and their membership of the group in one query (a primary-key probe of
/// `memberships` per user, whatever the group's size).
fn resolve_for_add(
    c: &mut AnyConn,
    dir: &DirectoryRow,
    group_id: &DirectoryGroupId,
    refs: &[String],
) -> CoreResult<(Resolved, HashSet<String>)> {
    let uniq = distinct_ids(refs)?;
    let mut users = HashMap::with_capacity(uniq.len());
    let mut existing = HashSet::new();
    // by primary key only (see `users::find_many`); another directory's user is none
    for (user, member) in store::users::find_users_with_membership(c, group_id, &uniq)? {
        if user.directory_id != dir.id {
            continue;
        }
        if member {
            existing.insert(String::from(&user.id));
        }
        users.insert(String::from(&user.id), user);
    }
    let resolved = resolve_rest(c, dir, &uniq, users, group_id)?;
    // nested groups: their membership probed as before
    if !resolved.groups.is_empty() {
        let gids: Vec<String> = resolved.groups.iter().cloned().collect();
        existing.extend(memberships::existing_members(c, group_id, &gids)?);
    }
    Ok((resolved, existing))
}

struct MemberCtx<'a> {
    core: &'a Core,
    dir: &'a DirectoryRow,
    group: GroupRow,
    changed: bool,
    /// Users whose memberships changed (their roles are re-evaluated at the end).
    touched: Vec<DirectoryUserId>,
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
            Some(true) => roles::recompute(self.core, c, self.dir, &self.touched, sink, true),
            None => roles::recompute(self.core, c, self.dir, &self.touched, sink, false),
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
                    self.changed |= memberships::set_display(c, &self.group.id, &r.value, d)?;
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
        memberships::insert_memberships(c, &rows, bump)?;
        if bumping {
            self.bumped_at = Some(now);
        }
        self.changed = true;
        // the users among the new members (the others are groups)
        let added: Vec<&UserRow> = rows
            .iter()
            .filter_map(|r| resolved.users.get(&r.member_id))
            .collect();
        self.touched.extend(added.iter().map(|u| u.id.clone()));
        let visible = added.into_iter().filter(|u| self.visible(u));
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
        let (mut gone, bumped) = memberships::delete_members(c, &self.group.id, &ids, bump)?;
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
        memberships::member_ids(c, &self.group.id)
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
        id: DirectoryGroupId::new(),
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
        refuse_clash(c, &row, None)?;
        store::groups::insert_group(c, &row)?;
        sink.emit(
            events::GROUP_CREATED,
            du::group_object(&row, &dir.organization_id),
        );
        let mut ctx = MemberCtx::new(core, dir, row.clone());
        ctx.add(c, sink, members.clone())?;
        roles::recompute(ctx.core, c, ctx.dir, &ctx.touched, sink, false)?;
        Ok(row)
    }))
}

pub fn get(core: &Core, dir: &DirectoryRow, id: &DirectoryGroupId) -> CoreResult<GroupRow> {
    let mut conn = core.db.conn()?;
    find(&mut conn, &dir.id, id)?.ok_or_else(|| not_found(id.as_str()))
}

pub fn list(core: &Core, dir: &DirectoryRow, p: &ListParams) -> CoreResult<Listed<GroupRow>> {
    let (start, count) = page_bounds(core, p);
    let mut conn = core.db.conn()?;
    let page = scim_page(ResourceKind::Group, p, None, (start, count))?;
    let (total, rows) = store::groups::list_page(&mut conn, &dir.id, &page)?;
    Ok(Listed {
        total,
        start_index: start,
        rows,
        groups: None,
    })
}

/// A group's `displayName` (case-insensitive) and `externalId` are unique within its
/// directory, for every directory type: 409 `uniqueness` (RFC 7644 §3.3). An IdP that
/// retries `POST /Groups` after a timeout gets the 409, not a second group (Entra
/// requires unique display names; a repeated `externalId` is the same group for every
/// IdP; `connectors/README.md`). Checked under the directory's write lock.
fn refuse_clash(
    c: &mut AnyConn,
    row: &GroupRow,
    except: Option<&DirectoryGroupId>,
) -> CoreResult<()> {
    let clash = store::groups::clashing_group(
        c,
        &row.directory_id,
        &row.display_name_ci,
        row.external_id.as_deref(),
        except,
    )?;
    match clash {
        None => Ok(()),
        Some(g) if g.display_name_ci == row.display_name_ci => Err(CoreError::uniqueness(format!(
            "a group with displayName {:?} already exists in this directory (id {})",
            g.display_name, g.id
        ))),
        Some(g) => Err(CoreError::uniqueness(format!(
            "a group with externalId {:?} already exists in this directory (id {})",
            row.external_id.as_deref().unwrap_or_default(),
            g.id
        ))),
    }
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
    if row.display_name_ci != old.display_name_ci || row.external_id != old.external_id {
        refuse_clash(c, &row, Some(&old.id))?;
    }
    store::groups::update_group(c, &row)?;
    if !prev.is_empty() {
        sink.emit(
            events::GROUP_UPDATED,
            du::group_object(&row, &dir.organization_id).with_previous(prev),
        );
    }
    Ok(row)
}

/// PUT: attributes replaced; `members` present → exact membership diff (GROUP-PUT-REPLACE);
/// `members` absent → membership left as is (the gateway never wipes a group by omission).
pub fn replace(
    core: &Core,
    dir: &DirectoryRow,
    id: &DirectoryGroupId,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<GroupRow> {
    core.run(prepare_replace(core, dir, id, body, if_match)?)
}

/// [`replace`], checked and prepared (no database work) but not yet run.
pub fn prepare_replace(
    core: &Core,
    dir: &DirectoryRow,
    id: &DirectoryGroupId,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<Write<GroupRow>> {
    Core::check_body_id(&body, id.as_str())?;
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
            store::groups::set_group_version(c, &g.id, g.version, g.updated_at)?;
        }
    }
    Ok(g)
}

pub fn patch(
    core: &Core,
    dir: &DirectoryRow,
    id: &DirectoryGroupId,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<GroupRow> {
    core.run(prepare_patch(core, dir, id, body, if_match)?)
}

/// [`patch`], checked and prepared (no database work) but not yet run.
pub fn prepare_patch(
    core: &Core,
    dir: &DirectoryRow,
    id: &DirectoryGroupId,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<Write<GroupRow>> {
    let ops = normalize_patch(dir.dir_type, ResourceKind::Group, body)?;
    core.check_ops(&ops)?;
    Ok(core.prepare_on(
        dir,
        Scope::Other,
        id,
        if_match,
        move |core, c, sink, dir, id, if_match| {
            let (old, mapped) = find_for_write(c, dir, id, if_match)?;
            let mut doc = du::group_doc(&old);
            let outcome = patch::apply_patch(ResourceKind::Group, id.as_str(), &mut doc, &ops)?;
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
pub fn delete(
    core: &Core,
    dir: &DirectoryRow,
    id: &DirectoryGroupId,
    if_match: Option<&str>,
) -> CoreResult<()> {
    core.run(prepare_delete(core, dir, id, if_match))
}

/// [`delete`], prepared but not yet run.
pub fn prepare_delete(
    core: &Core,
    dir: &DirectoryRow,
    id: &DirectoryGroupId,
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
            // it may itself be a member of other groups (nested groups), and its role
            // mappings grant nothing any more: both go with it
            store::groups::delete_group(c, &old.id)?;
            sink.emit(
                events::GROUP_DELETED,
                du::group_object(&old, &dir.organization_id),
            );
            roles::recompute(ctx.core, c, ctx.dir, &ctx.touched, sink, true)?;
            Ok(())
        },
    )
}
