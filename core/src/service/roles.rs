//! Group → role mapping (issue: "Group → role mapping"): per organization, a directory
//! group grants a role slug with a priority. A user carries `roles` (every granted
//! slug, highest priority first) and `role` (the first). Whenever memberships or
//! mappings change, the affected users are re-evaluated and those whose roles changed
//! get `dsync.user.updated` with `previous_attributes.role/roles`.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use super::directory_user::{self as du, diff, roles_of};
use super::{users, Core, InactivePolicy};
use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::events::{self, EventSink};
use crate::ids::{DirectoryGroupId, DirectoryUserId, OrganizationId, PrefixedId, RoleMappingId};
use crate::model::{DirectoryRow, GroupRow, RoleMappingRow, UserRow};
use crate::store::role_mappings::{self as mappings, Grant};
use crate::store::{self, AnyConn};
use crate::wire;

fn check_slug(s: &str) -> CoreResult<String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(s.to_string())
    } else {
        Err(CoreError::invalid_value(format!(
            "role slug {s:?} must be 1–64 characters of a-z, 0-9, '-' or '_', starting with a letter or digit"
        )))
    }
}

/// Roles in order: highest priority first, then slug.
fn order_roles(grants: &[Grant]) -> Vec<String> {
    let mut best: BTreeMap<&str, i32> = BTreeMap::new();
    for g in grants {
        let e = best.entry(&g.slug).or_insert(g.priority);
        if g.priority > *e {
            *e = g.priority;
        }
    }
    let mut v: Vec<(&str, i32)> = best.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.into_iter().map(|(s, _)| s.to_string()).collect()
}

fn grants_for(
    c: &mut AnyConn,
    organization_id: &OrganizationId,
    user_ids: &[DirectoryUserId],
) -> CoreResult<HashMap<DirectoryUserId, Vec<Grant>>> {
    let mut out: HashMap<DirectoryUserId, Vec<Grant>> = HashMap::new();
    for g in mappings::grants_of_users(c, organization_id, user_ids)? {
        out.entry(g.user_id.clone()).or_default().push(g);
    }
    Ok(out)
}

/// Re-evaluate the roles of `user_ids` (members whose groups changed) and emit
/// `dsync.user.updated` for those whose roles changed. Unless `force`d (a mapping was
/// just removed), an organization without mappings costs one indexed lookup.
pub(crate) fn recompute(
    core: &Core,
    c: &mut AnyConn,
    dir: &DirectoryRow,
    user_ids: &[DirectoryUserId],
    sink: &mut EventSink,
    force: bool,
) -> CoreResult<()> {
    if user_ids.is_empty() {
        return Ok(());
    }
    if !force && !mappings::any_role_mapping(c, &dir.organization_id)? {
        return Ok(());
    }
    let grants = grants_for(c, &dir.organization_id, user_ids)?;
    let users: Vec<UserRow> = users::find_many(c, &dir.id, user_ids)?;
    let keep = core.settings.inactive_users == InactivePolicy::Keep;
    for u in users {
        let old = du::user_normalized(&u);
        let now_roles = grants
            .get(&u.id)
            .map(|g| order_roles(g))
            .unwrap_or_default();
        if roles_of(&old) == now_roles {
            continue;
        }
        let mut new = old.clone();
        new.remove("role");
        new.remove("roles");
        if let Some(first) = now_roles.first() {
            new.insert("role".into(), json!({ "slug": first }));
            new.insert(
                "roles".into(),
                Value::Array(now_roles.iter().map(|r| json!({ "slug": r })).collect()),
            );
        }
        let prev = diff(&old, &new);
        let now = clock::now();
        let normalized = Value::Object(new).to_string();
        store::users::set_normalized(c, &u.id, &normalized, now)?;
        let row = UserRow {
            normalized,
            updated_at: now,
            ..u
        };
        if row.active || keep {
            sink.emit(
                events::USER_UPDATED,
                du::user_object(&row, &dir.organization_id).with_previous(prev),
            );
        }
    }
    Ok(())
}

fn group_with_dir(
    core: &Core,
    organization_id: &OrganizationId,
    group_id: &DirectoryGroupId,
) -> CoreResult<(GroupRow, DirectoryRow)> {
    let mut conn = core.db.conn()?;
    let g: GroupRow = store::groups::find_group_by_id(&mut conn, group_id)?
        .ok_or_else(|| no_such_group(group_id.as_str()))?;
    let d = store::directories::find_directory(&mut conn, &g.directory_id)?
        .ok_or_else(|| no_such_group(group_id.as_str()))?;
    if &d.organization_id != organization_id {
        return Err(CoreError::invalid_value(format!(
            "group {:?} does not belong to organization {:?}",
            group_id.as_str(),
            organization_id.as_str()
        )));
    }
    Ok((g, d))
}

fn no_such_group(id: &str) -> CoreError {
    CoreError::invalid_value(format!("group {id:?} does not exist"))
}

/// Map the group a request names (`group_id` as sent) to a role: the slug is checked
/// first, then the group (an id that is malformed names no group, as one that does
/// not exist).
pub fn create_mapping(
    core: &Core,
    organization_id: &OrganizationId,
    group_id: &str,
    role_slug: &str,
    priority: i32,
) -> CoreResult<RoleMappingRow> {
    let slug = check_slug(role_slug)?;
    let group_id = DirectoryGroupId::parse(group_id).map_err(|e| no_such_group(e.input()))?;
    let (g, dir) = group_with_dir(core, organization_id, &group_id)?;
    let row = RoleMappingRow {
        id: RoleMappingId::new(),
        organization_id: organization_id.clone(),
        group_id: g.id.clone(),
        role_slug: slug,
        priority,
        created_at: clock::now(),
    };
    let (core2, d, r) = (core.clone(), dir.clone(), row.clone());
    core.write(&dir, move |c, sink| {
        if mappings::mapping_exists(c, &r.organization_id, &r.group_id, &r.role_slug)? {
            return Err(CoreError::Conflict {
                scim_type: None,
                detail: format!("group {} already grants role {:?}", r.group_id, r.role_slug),
            });
        }
        mappings::insert_mapping(c, &r)?;
        let users = store::memberships::user_member_ids(c, &r.group_id)?;
        recompute(&core2, c, &d, &users, sink, false)
    })?;
    Ok(row)
}

pub fn list_mappings(
    core: &Core,
    organization_id: &OrganizationId,
) -> CoreResult<Vec<RoleMappingRow>> {
    let mut conn = core.db.conn()?;
    mappings::mappings_of(&mut conn, organization_id)
}

pub fn delete_mapping(
    core: &Core,
    organization_id: &OrganizationId,
    mapping_id: &RoleMappingId,
) -> CoreResult<()> {
    let row: RoleMappingRow = {
        let mut conn = core.db.conn()?;
        mappings::find_mapping(&mut conn, organization_id, mapping_id)?
            .ok_or_else(|| mapping_id.not_found())?
    };
    let dir = match group_with_dir(core, organization_id, &row.group_id) {
        Ok((_, d)) => d,
        Err(_) => {
            // the group is gone: nobody holds the role through it any more
            let _g = core.db.write_guard(); // SQLite: the one writer
            let mut conn = core.db.conn()?;
            mappings::delete_mapping(&mut conn, &row.id)?;
            return Ok(());
        }
    };
    let (core2, d) = (core.clone(), dir.clone());
    core.write(&dir, move |c, sink| {
        mappings::delete_mapping(c, &row.id)?;
        let users = store::memberships::user_member_ids(c, &row.group_id)?;
        recompute(&core2, c, &d, &users, sink, true)
    })
}

/// Which group (through which mapping) gave which role to a user.
pub fn explain(core: &Core, user_id: &DirectoryUserId) -> CoreResult<wire::RoleExplanation> {
    let mut conn = core.db.conn()?;
    let u: UserRow =
        store::users::find_user_by_id(&mut conn, user_id)?.ok_or_else(|| user_id.not_found())?;
    let dir = store::directories::find_directory(&mut conn, &u.directory_id)?
        .ok_or_else(|| user_id.not_found())?;
    let grants = grants_for(&mut conn, &dir.organization_id, std::slice::from_ref(&u.id))?
        .remove(&u.id)
        .unwrap_or_default();
    let order = order_roles(&grants);
    let group_ids: Vec<DirectoryGroupId> = grants.iter().map(|g| g.group_id.clone()).collect();
    let names: HashMap<DirectoryGroupId, String> =
        store::groups::find_groups(&mut conn, &dir.id, &group_ids)?
            .into_iter()
            .map(|g| (g.id, g.display_name))
            .collect();
    let roles = order
        .iter()
        .map(|slug| {
            let mut by: Vec<&Grant> = grants.iter().filter(|g| &g.slug == slug).collect();
            by.sort_by(|a, b| {
                b.priority
                    .cmp(&a.priority)
                    .then(a.group_id.cmp(&b.group_id))
            });
            wire::ExplainedRole {
                slug: slug.clone(),
                priority: by.first().map(|g| g.priority),
                granted_by: by
                    .iter()
                    .map(|g| wire::RoleGrant {
                        group_id: g.group_id.clone(),
                        group_name: names.get(&g.group_id).cloned(),
                        role_mapping_id: g.mapping_id.clone(),
                        priority: g.priority,
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(wire::RoleExplanation {
        object: wire::Object::RoleExplanation,
        directory_user_id: u.id,
        organization_id: dir.organization_id,
        role: order.first().map(|s| wire::Role { slug: s.clone() }),
        roles,
        rule: "each mapped group a user belongs to grants its role; `role` is the granted role with the highest priority",
    })
}
