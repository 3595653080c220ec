//! A consistent snapshot of a directory handed off to an exact event cursor
//! (PRODUCT.md "Where we go beyond every peer" #2).
//!
//! Everything is read in one read transaction (REPEATABLE READ on PostgreSQL, a WAL
//! read snapshot on SQLite): the directory's `last_seq`, the id of its event with that
//! sequence (the cursor), then users, groups and memberships page by page. The state
//! returned is exactly the state after event `cursor`, so a consumer loads it and
//! continues with `GET /events?directory_id=…&after=cursor`, missing and doubling
//! nothing. Items are handed to `emit` as they are read: memory stays bounded
//! whatever the directory's size.

use serde_json::json;

use super::directory_user as du;
use super::{Core, InactivePolicy};
use crate::clock;
use crate::error::CoreResult;
use crate::ids::{DirectoryGroupId, DirectoryId, DirectoryUserId, PrefixedId};
use crate::json;
use crate::model::DirectoryRow;
use crate::store::{self, AnyConn};

const PAGE: i64 = 1000;

/// Stream a snapshot as JSON objects, each as text: a header, the items, a trailer.
/// `emit` returns false to stop early (the client went away).
pub fn stream(
    core: &Core,
    directory_id: &DirectoryId,
    mut emit: impl FnMut(String) -> bool,
) -> CoreResult<()> {
    let mut conn = core.db.conn()?;
    let keep_inactive = core.settings.inactive_users == InactivePolicy::Keep;
    let mut run = |c: &mut AnyConn| -> CoreResult<()> {
        let dir: DirectoryRow = store::directories::find_directory(c, directory_id)?
            .ok_or_else(|| directory_id.not_found())?;
        let cursor = crate::events::id_at_seq(c, &dir.id, dir.last_seq)?;
        let header = json!({
            "object": "snapshot",
            "directory_id": dir.id,
            "organization_id": dir.organization_id,
            "cursor": cursor,
            "sequence": dir.last_seq,
            "created_at": clock::to_workos(clock::now()),
        });
        if !emit(json::text(&header)) {
            return Ok(());
        }
        let org = dir.organization_id.clone();
        let (mut n_users, mut n_groups, mut n_members) = (0u64, 0u64, 0u64);
        let mut after: Option<DirectoryUserId> = None;
        loop {
            let rows = super::users::page_after(c, &dir.id, after.as_ref(), PAGE)?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            for u in rows.iter().filter(|u| keep_inactive || u.active) {
                n_users += 1;
                if !emit(json::text(&du::user_object(u, &org))) {
                    return Ok(());
                }
            }
        }
        let mut after: Option<DirectoryGroupId> = None;
        loop {
            let rows = store::groups::groups_page_after(c, &dir.id, after.as_ref(), PAGE)?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            for g in &rows {
                n_groups += 1;
                if !emit(json::text(&du::group_object(g, &org))) {
                    return Ok(());
                }
            }
        }
        let (mut ag, mut am) = (String::new(), String::new());
        loop {
            let rows = store::memberships::memberships_page_after(c, &dir.id, (&ag, &am), PAGE)?;
            let Some(last) = rows.last() else { break };
            ag = String::from(&last.0);
            am = last.1.clone();
            for (g, m, t) in &rows {
                n_members += 1;
                let item = if t == "Group" {
                    json!({"object": "directory_group_membership", "group_id": g, "member_group_id": m})
                } else {
                    json!({"object": "directory_group_membership", "group_id": g, "user_id": m})
                };
                if !emit(json::text(&item)) {
                    return Ok(());
                }
            }
        }
        emit(json::text(&json!({
            "object": "snapshot_end",
            "directory_id": dir.id,
            "cursor": cursor,
            "sequence": dir.last_seq,
            "users": n_users,
            "groups": n_groups,
            "memberships": n_members,
        })));
        Ok(())
    };
    // one consistent snapshot for every page
    store::read_snapshot(&mut conn, |c| run(c))
}
