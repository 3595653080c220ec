//! Each directory's sync health: requests and rejections per hour with the last
//! request's time (`directory_sync_hours`), and its last rejected requests with their
//! reason (`directory_sync_rejections`). Written by `service::sync_health`'s periodic
//! flush, never inside a SCIM transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dynsql::{Bind, Sql};
use super::schema::{directory_sync_hours, directory_sync_rejections};
use super::AnyConn;
use crate::error::CoreResult;
use crate::ids::DirectoryId;

/// What one flush adds to a directory's hour.
#[derive(Debug, Clone)]
pub struct HourDelta {
    pub directory_id: DirectoryId,
    pub hour: NaiveDateTime,
    pub requests: i64,
    pub rejections: i64,
    pub last_request_at: NaiveDateTime,
}

/// A rejected request.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = directory_sync_rejections)]
pub struct RejectionRow {
    pub id: String,
    pub directory_id: DirectoryId,
    pub at: NaiveDateTime,
    pub method: String,
    pub status: i32,
    pub reason: String,
}

/// Add a delta to its hour (for a directory that exists: requests naming any other
/// id are not kept).
pub fn add_hour(c: &mut AnyConn, d: &HourDelta) -> CoreResult<()> {
    let mut q = Sql::raw(
        "INSERT INTO directory_sync_hours (directory_id, hour, requests, rejections, last_request_at) \
         SELECT d.id, ",
    );
    q.bind(Bind::Timestamp(d.hour))
        .push(", ")
        .bind(Bind::BigInt(d.requests))
        .push(", ")
        .bind(Bind::BigInt(d.rejections))
        .push(", ")
        .bind(Bind::Timestamp(d.last_request_at))
        .push(" FROM directories d WHERE d.id = ")
        .text(d.directory_id.as_str())
        .push(
            " ON CONFLICT (directory_id, hour) DO UPDATE SET \
             requests = directory_sync_hours.requests + excluded.requests, \
             rejections = directory_sync_hours.rejections + excluded.rejections, \
             last_request_at = CASE WHEN excluded.last_request_at > directory_sync_hours.last_request_at \
             THEN excluded.last_request_at ELSE directory_sync_hours.last_request_at END",
        );
    q.execute(c)?;
    Ok(())
}

/// Keep a rejection (of a directory that exists), and only the directory's newest
/// `keep`.
pub fn add_rejection(c: &mut AnyConn, r: &RejectionRow, keep: i64) -> CoreResult<()> {
    let mut q = Sql::raw(
        "INSERT INTO directory_sync_rejections (id, directory_id, at, method, status, reason) SELECT ",
    );
    q.text(r.id.clone())
        .push(", d.id, ")
        .bind(Bind::Timestamp(r.at))
        .push(", ")
        .text(r.method.clone())
        .push(", ")
        .bind(Bind::BigInt(i64::from(r.status)))
        .push(", ")
        .text(r.reason.clone())
        .push(" FROM directories d WHERE d.id = ")
        .text(r.directory_id.as_str());
    q.execute(c)?;
    let mut del = Sql::raw("DELETE FROM directory_sync_rejections WHERE directory_id = ");
    del.text(r.directory_id.as_str())
        .push(" AND id NOT IN (SELECT id FROM directory_sync_rejections WHERE directory_id = ")
        .text(r.directory_id.as_str())
        .push(" ORDER BY id DESC LIMIT ")
        .bind(Bind::BigInt(keep))
        .push(")");
    del.execute(c)?;
    Ok(())
}

/// Requests and rejections since `since`, and the last request's time.
pub fn totals_since(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    since: NaiveDateTime,
) -> CoreResult<(i64, i64)> {
    let rows: Vec<(i64, i64)> = directory_sync_hours::table
        .filter(directory_sync_hours::directory_id.eq(directory_id))
        .filter(directory_sync_hours::hour.ge(since))
        .select((
            directory_sync_hours::requests,
            directory_sync_hours::rejections,
        ))
        .load(c)?;
    Ok(rows.iter().fold((0, 0), |(a, b), (r, j)| (a + r, b + j)))
}

/// The time of a directory's last request ever recorded.
pub fn last_request(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
) -> CoreResult<Option<NaiveDateTime>> {
    Ok(directory_sync_hours::table
        .filter(directory_sync_hours::directory_id.eq(directory_id))
        .order(directory_sync_hours::hour.desc())
        .select(directory_sync_hours::last_request_at)
        .first(c)
        .optional()?)
}

/// A directory's newest rejections.
pub fn rejections(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    limit: i64,
) -> CoreResult<Vec<RejectionRow>> {
    Ok(directory_sync_rejections::table
        .filter(directory_sync_rejections::directory_id.eq(directory_id))
        .order(directory_sync_rejections::id.desc())
        .limit(limit)
        .select(RejectionRow::as_select())
        .load(c)?)
}
