//! SCIM Users of a directory: create, read, list, replace, patch, delete — each write
//! with its normalized events in the same transaction.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::directory_user::{self as du, diff, normalize_user, roles_of};
use super::list_paging::{page_bounds, scim_page, ListParams, Listed};
use super::user_write_batch;
use super::{Core, InactivePolicy, Scope, Write};
use crate::clock;
use crate::error::{CoreError, CoreResult, ScimType};
use crate::events::{self, EventSink};
use crate::ids::{DirectoryId, DirectoryUserId};
use crate::json;
use crate::model::{DirectoryRow, Ref, UserRow};
use crate::scim::filter;
use crate::scim::{index, patch, schema};
use crate::store::{self, memberships, user_attrs, AnyConn};
use scimgate_connectors::{normalize_patch, normalize_user_body, ResourceKind};

pub use crate::store::users::{UserKey, WithGroups};

/// 404 for a SCIM user (RFC 7644 §3.12): what a URL naming no user of the directory
/// gets, an id that is not even a user id included.
pub fn not_found(id: &str) -> CoreError {
    CoreError::not_found(format!("User {id} not found"))
}

// Every read of users settles a batch's deferred writes first (see `user_write_batch`).

pub fn find(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    id: &DirectoryUserId,
) -> CoreResult<Option<UserRow>> {
    user_write_batch::settle(conn)?;
    store::users::find_user(conn, directory_id, id)
}

/// A user and its groups in one round trip.
pub fn find_with_groups(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    key: UserKey<'_>,
) -> CoreResult<Option<WithGroups>> {
    user_write_batch::settle(c)?;
    store::users::find_user_with_groups(c, directory_id, key)
}

/// Several users of a directory and their groups, by id (one query per 500).
pub fn find_many_with_groups(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    ids: &[DirectoryUserId],
) -> CoreResult<HashMap<DirectoryUserId, WithGroups>> {
    user_write_batch::settle(c)?;
    store::users::find_users_with_groups(c, directory_id, ids)
}

/// The user a write targets, with its groups (in a batch, the read-ahead copy): 404
/// when absent, 412 when `If-Match` does not match.
fn find_for_write_with_groups(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    id: &DirectoryUserId,
    if_match: Option<&str>,
) -> CoreResult<WithGroups> {
    let found = match user_write_batch::take_ahead(id) {
        Some(f) => f,
        None => find_with_groups(c, directory_id, UserKey::Id(id))?
            .ok_or_else(|| not_found(id.as_str()))?,
    };
    Core::check_if_match(found.row.version, if_match)?;
    Ok(found)
}

/// The groups of users, as (user id, group), for the SCIM `groups` attribute of a
/// page of users.
pub fn groups_of(
    core: &Core,
    user_ids: &[DirectoryUserId],
) -> CoreResult<Vec<(DirectoryUserId, Ref)>> {
    let mut conn = core.db.conn()?;
    memberships::groups_of_users(&mut conn, user_ids)
}

fn doc_string<'a>(doc: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str)
}

fn active_of(doc: &Map<String, Value>) -> bool {
    doc.get("active").and_then(Value::as_bool).unwrap_or(true)
}

/// The primary email, lowercased, for the `(directory_id, email_ci)` index (not
/// indexed when too long for it).
fn email_ci(n: &Map<String, Value>) -> Option<String> {
    n.get("email")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
        .filter(|e| e.len() <= schema::MAX_IDENTIFIER_BYTES)
}

/// The key that makes a `userName` unique in its directory: case-insensitive (RFC 7643
/// §4.1.1 `caseExact: false`) and without leading or trailing white space, which some
/// IdPs send and which names the same person (`connectors/README.md`). The stored
/// `userName` keeps what the IdP sent.
pub(crate) fn user_name_key(user_name: &str) -> String {
    user_name.trim().to_lowercase()
}

fn map_unique(e: CoreError, user_name: &str) -> CoreError {
    if store::is_unique_violation(&e) {
        CoreError::uniqueness(format!(
            "userName {user_name:?} is already taken in this directory"
        ))
    } else {
        e
    }
}

/// Parse, normalize (connector) and canonicalize (schema) a User body.
fn canonical_body(dir: &DirectoryRow, body: Value) -> CoreResult<Map<String, Value>> {
    let body = normalize_user_body(dir.dir_type, body)?;
    let canon = schema::canonicalize(ResourceKind::User, body)?;
    Ok(canon.doc)
}

fn user_name_of(doc: &Map<String, Value>) -> CoreResult<String> {
    schema::check_identifiers(doc, &["userName", "externalId"])?;
    match doc_string(doc, "userName") {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => Err(CoreError::bad(
            ScimType::InvalidValue,
            "`userName` is required",
        )),
    }
}

fn taken(
    c: &mut AnyConn,
    dir_id: &DirectoryId,
    user_name_ci: &str,
    except: Option<&DirectoryUserId>,
) -> CoreResult<bool> {
    user_write_batch::settle(c)?;
    let holders = store::users::user_name_holders(c, user_name_ci)?;
    Ok(holders
        .iter()
        .any(|(id, d)| d == dir_id && Some(id) != except))
}

pub fn create(core: &Core, dir: &DirectoryRow, body: Value) -> CoreResult<UserRow> {
    core.run(prepare_create(core, dir, body)?)
}

/// [`create`], checked and prepared (no database work) but not yet run.
pub fn prepare_create(core: &Core, dir: &DirectoryRow, body: Value) -> CoreResult<Write<UserRow>> {
    let mut doc = canonical_body(dir, body)?;
    let user_name = user_name_of(&doc)?;
    let active = active_of(&doc);
    doc.insert("active".into(), Value::Bool(active));
    let id = DirectoryUserId::new();
    let now = clock::now();
    let normalized = normalize_user(dir, &mut doc, &[], active);
    let row = UserRow {
        id: id.clone(),
        directory_id: dir.id.clone(),
        user_name_ci: user_name_key(&user_name),
        user_name: user_name.clone(),
        external_id: doc_string(&doc, "externalId").map(str::to_string),
        active,
        email_ci: email_ci(&normalized),
        state: if active {
            "active".into()
        } else {
            "inactive".into()
        },
        version: 1,
        scim: json::text(&Value::Object(doc.clone())),
        normalized: json::text(&Value::Object(normalized)),
        created_at: now,
        updated_at: now,
    };
    let attrs = index::user_rows(&id, &dir.id, &doc);
    let policy = core.settings.inactive_users;
    let d = dir.clone();
    Ok(core.prepare(dir, Scope::User(None), move |c, sink| {
        let (dir, row) = (&d, &row);
        // the unique index (directory_id, user_name_ci) decides: one round trip less;
        // in a batch of user writes the insert joins the others' at its end
        if let Some(new) = user_write_batch::defer_insert((row.clone(), attrs.clone())) {
            store::users::insert_users(c, std::slice::from_ref(&new))
                .map_err(|e| map_unique(e, &user_name))?;
        }
        // Under the delete-inactive policy a user created inactive does not exist for the vendor.
        if active || policy == InactivePolicy::Keep {
            sink.emit_json(
                events::USER_CREATED,
                du::user_object_json(row, &dir.organization_id),
            );
        }
        Ok(row.clone())
    }))
}

/// A user and its groups.
pub fn get(core: &Core, dir: &DirectoryRow, id: &DirectoryUserId) -> CoreResult<WithGroups> {
    let mut conn = core.db.conn()?;
    find_with_groups(&mut conn, &dir.id, UserKey::Id(id))?.ok_or_else(|| not_found(id.as_str()))
}

pub fn list(core: &Core, dir: &DirectoryRow, p: &ListParams) -> CoreResult<Listed<UserRow>> {
    let (start, count) = page_bounds(core, p);
    let mut conn = core.db.conn()?;
    let parsed = match p.filter.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(f) => Some(filter::parse(f)?),
        None => None,
    };
    // Fast path: `userName eq "x"` (Okta / Entra before every create) on the unique index.
    if let Some(scim_v2::filter::Filter::Attr(scim_v2::filter::AttrExp::Comparison(
        path,
        scim_v2::filter::CompareOp::Eq,
        scim_v2::filter::CompValue::Str(v),
    ))) = &parsed
    {
        let core_uri = path
            .uri
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(schema::USER_SCHEMA));
        if core_uri && path.sub_attr.is_none() && path.name.eq_ignore_ascii_case("userName") {
            // the user and its groups in one round trip
            let found =
                find_with_groups(&mut conn, &dir.id, UserKey::UserNameCi(&user_name_key(v)))?;
            let total = i64::from(found.is_some());
            let mut groups = Vec::new();
            let row = found.map(|f| {
                groups.extend(f.groups.into_iter().map(|g| (f.row.id.clone(), g)));
                f.row
            });
            let rows = if start == 1 && count > 0 {
                row.into_iter().collect()
            } else {
                Vec::new()
            };
            return Ok(Listed {
                total,
                start_index: start,
                rows,
                groups: Some(groups),
            });
        }
    }
    let page = scim_page(ResourceKind::User, p, parsed.as_ref(), (start, count))?;
    let (total, rows) = store::users::list_page(&mut conn, &dir.id, &page)?;
    Ok(Listed {
        total,
        start_index: start,
        rows,
        groups: None,
    })
}

/// Apply a new document to an existing user: row, index, and the normalized diff
/// as events (no event when nothing normalized changed).
fn update_user(
    core: &Core,
    c: &mut AnyConn,
    sink: &mut EventSink,
    dir: &DirectoryRow,
    old: &UserRow,
    mut doc: Map<String, Value>,
) -> CoreResult<UserRow> {
    let user_name = user_name_of(&doc)?;
    let user_name_ci = user_name_key(&user_name);
    if user_name_ci != old.user_name_ci && taken(c, &dir.id, &user_name_ci, Some(&old.id))? {
        return Err(CoreError::uniqueness(format!(
            "userName {user_name:?} is already taken in this directory"
        )));
    }
    // `active` removed (RFC 7644 §3.5.2.2: unassigned) is not a reactivation: the
    // effective state stays what it was, and the representation omits it
    let active = match doc.get("active") {
        Some(Value::Bool(b)) => *b,
        _ => old.active,
    };
    let old_doc = du::user_doc(old);
    if old_doc == doc {
        return Ok(old.clone());
    }
    let old_norm = du::user_normalized(old);
    let roles = roles_of(&old_norm);
    let new_norm = normalize_user(dir, &mut doc, &roles, active);
    let prev = diff(&old_norm, &new_norm);
    let now = clock::now();
    let row = UserRow {
        id: old.id.clone(),
        directory_id: old.directory_id.clone(),
        user_name: user_name.clone(),
        user_name_ci,
        external_id: doc_string(&doc, "externalId").map(str::to_string),
        active,
        email_ci: email_ci(&new_norm),
        state: if active {
            "active".into()
        } else {
            "inactive".into()
        },
        version: old.version + 1,
        scim: json::text(&Value::Object(doc.clone())),
        normalized: json::text(&Value::Object(new_norm)),
        created_at: old.created_at,
        updated_at: now,
    };
    // in a batch of user writes the row is written back with the others at its end
    if let Some(row) = user_write_batch::defer(row.clone()) {
        store::users::update_user(c, &row).map_err(|e| map_unique(e, &row.user_name))?;
    }
    // the filter index changes only when an indexed attribute did (a deactivation
    // touches none: `active` is a column)
    let new_index = index::user_rows(&row.id, &dir.id, &doc);
    if new_index != index::user_rows(&old.id, &dir.id, &old_doc) {
        user_attrs::delete_user_attrs(c, &old.id)?;
        user_attrs::insert_user_attrs(c, &new_index)?;
    }
    emit_update(core, sink, dir, old, &row, prev);
    Ok(row)
}

/// The events of a user update: `updated` with the previous values, or, under the
/// delete-inactive policy, `deleted` / `created` when the user leaves / comes back.
fn emit_update(
    core: &Core,
    sink: &mut EventSink,
    dir: &DirectoryRow,
    old: &UserRow,
    row: &UserRow,
    prev: Map<String, Value>,
) {
    if !prev.is_empty() {
        let policy = core.settings.inactive_users;
        match (policy, old.active, row.active) {
            // delete-inactive policy (WorkOS default for new environments): a leaver is
            // deleted for the vendor, a returning user created again
            (InactivePolicy::Delete, true, false) => {
                sink.emit(
                    events::USER_DELETED,
                    du::user_object(row, &dir.organization_id),
                );
            }
            (InactivePolicy::Delete, false, true) => {
                sink.emit(
                    events::USER_CREATED,
                    du::user_object(row, &dir.organization_id),
                );
            }
            (InactivePolicy::Delete, false, false) => {}
            _ => sink.emit(
                events::USER_UPDATED,
                du::user_object(row, &dir.organization_id).with_previous(prev),
            ),
        }
    }
}

/// PUT (RFC 7644 §3.5.1) with the gateway's choices: an omitted `externalId` is kept
/// (IDP-QUIRKS OKTA-PUT-DROPS-EXTERNALID) and an omitted `active` is left unchanged
/// (OKTA-PUT-DEACTIVATE).
pub fn replace(
    core: &Core,
    dir: &DirectoryRow,
    id: &DirectoryUserId,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<WithGroups> {
    core.run(prepare_replace(core, dir, id, body, if_match)?)
}

/// [`replace`], checked and prepared (no database work) but not yet run.
pub fn prepare_replace(
    core: &Core,
    dir: &DirectoryRow,
    id: &DirectoryUserId,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<Write<WithGroups>> {
    Core::check_body_id(&body, id.as_str())?;
    let doc = canonical_body(dir, body)?;
    user_name_of(&doc)?;
    Ok(core.prepare_on(
        dir,
        Scope::User(Some(id.clone())),
        id,
        if_match,
        move |core, c, sink, dir, id, if_match| {
            let mut doc = doc.clone();
            let WithGroups { row: old, groups } =
                find_for_write_with_groups(c, &dir.id, id, if_match)?;
            let old_doc = du::user_doc(&old);
            if !doc.contains_key("externalId") {
                if let Some(x) = old_doc.get("externalId") {
                    doc.insert("externalId".into(), x.clone());
                }
            }
            if !doc.contains_key("active") {
                doc.insert("active".into(), Value::Bool(old.active));
            }
            let row = update_user(core, c, sink, dir, &old, doc)?;
            Ok(WithGroups { row, groups })
        },
    ))
}

pub fn patch(
    core: &Core,
    dir: &DirectoryRow,
    id: &DirectoryUserId,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<WithGroups> {
    core.run(prepare_patch(core, dir, id, body, if_match)?)
}

/// [`patch`], checked and prepared (no database work) but not yet run.
pub fn prepare_patch(
    core: &Core,
    dir: &DirectoryRow,
    id: &DirectoryUserId,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<Write<WithGroups>> {
    let ops = normalize_patch(dir.dir_type, ResourceKind::User, body)?;
    core.check_ops(&ops)?;
    Ok(core.prepare_on(
        dir,
        Scope::User(Some(id.clone())),
        id,
        if_match,
        move |core, c, sink, dir, id, if_match| {
            let WithGroups { row: old, groups } =
                find_for_write_with_groups(c, &dir.id, id, if_match)?;
            let mut doc = du::user_doc(&old);
            let outcome = patch::apply_patch(ResourceKind::User, id.as_str(), &mut doc, &ops)?;
            if !outcome.member_ops.is_empty() {
                return Err(CoreError::invalid_path("users have no `members`"));
            }
            let row = update_user(core, c, sink, dir, &old, doc)?;
            Ok(WithGroups { row, groups })
        },
    ))
}

pub fn delete(
    core: &Core,
    dir: &DirectoryRow,
    id: &DirectoryUserId,
    if_match: Option<&str>,
) -> CoreResult<()> {
    core.run(prepare_delete(core, dir, id, if_match))
}

/// [`delete`], prepared but not yet run.
pub fn prepare_delete(
    core: &Core,
    dir: &DirectoryRow,
    id: &DirectoryUserId,
    if_match: Option<&str>,
) -> Write<()> {
    let policy = core.settings.inactive_users;
    let scope = Scope::User(Some(id.clone()));
    core.prepare_on(
        dir,
        scope,
        id,
        if_match,
        move |_, c, sink, dir, id, if_match| {
            // the user and its groups in one read (in a batch, the read-ahead copy)
            let WithGroups { row: old, groups } =
                find_for_write_with_groups(c, &dir.id, id, if_match)?;
            let visible = old.active || policy == InactivePolicy::Keep;
            // DELETE = user_removed for each membership, then user.deleted (PRODUCT.md)
            if visible && !groups.is_empty() {
                let group_ids: Vec<String> = groups.into_iter().map(|g| g.id).collect();
                let user_obj = du::user_object_json(&old, &dir.organization_id);
                for g in store::groups::find_groups(c, &dir.id, &group_ids)? {
                    let group_obj = json::text(&du::group_object(&g, &dir.organization_id));
                    sink.emit_json(
                        events::GROUP_USER_REMOVED,
                        du::membership_payload_json(&dir.id, &user_obj, &group_obj),
                    );
                }
            }
            if let Some(id) = user_write_batch::defer_delete(old.id.clone()) {
                store::users::delete_users(c, &[id])?;
            }
            if visible {
                sink.emit(
                    events::USER_DELETED,
                    du::user_object(&old, &dir.organization_id),
                );
            }
            Ok(())
        },
    )
}

/// A directory's users in id order after `after` (keyset paging of whole directories).
pub(crate) fn page_after(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    after: Option<&DirectoryUserId>,
    limit: i64,
) -> CoreResult<Vec<UserRow>> {
    user_write_batch::settle(c)?;
    store::users::users_page_after(c, directory_id, after, limit)
}

/// Users of a directory by id, in the order given, skipping missing ones (see
/// `store::users::find_users`).
pub fn find_many<I: AsRef<str>>(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    ids: &[I],
) -> CoreResult<Vec<UserRow>> {
    user_write_batch::settle(c)?;
    store::users::find_users(c, directory_id, ids)
}

/// Re-derive every user's normalized fields (after the directory's attribute mappings
/// changed), emitting `dsync.user.updated` for each user whose meaning changed.
pub(crate) fn renormalize_all(
    core: &Core,
    c: &mut AnyConn,
    dir: &DirectoryRow,
    sink: &mut EventSink,
) -> CoreResult<()> {
    let keep = core.settings.inactive_users == InactivePolicy::Keep;
    let mut after: Option<DirectoryUserId> = None;
    loop {
        let rows = page_after(c, &dir.id, after.as_ref(), 500)?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id.clone());
        for u in rows {
            let old = du::user_normalized(&u);
            let roles = roles_of(&old);
            let new = normalize_user(dir, &mut du::user_doc(&u), &roles, u.active);
            let prev = diff(&old, &new);
            if prev.is_empty() {
                continue;
            }
            let now = clock::now();
            let row = UserRow {
                email_ci: email_ci(&new),
                normalized: json::text(&Value::Object(new)),
                updated_at: now,
                ..u
            };
            store::users::set_normalized_and_email(c, &row)?;
            if row.active || keep {
                sink.emit(
                    events::USER_UPDATED,
                    du::user_object(&row, &dir.organization_id).with_previous(prev),
                );
            }
        }
    }
    Ok(())
}
