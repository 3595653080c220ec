//! Each directory's sync health for the admin UI and the setup portal: when the IdP
//! last called, how many of its requests were answered and rejected over the last
//! 24 hours, its last rejected requests with their reason, and whether a directory
//! that used to sync has gone silent ("stale"), and the IdP quirks its accepted
//! requests showed (noted among the rejections with their success status).
//!
//! Recording is kept off the SCIM transactions: a finished SCIM request is counted in
//! memory ([`SyncHealth::record`]: a mutex and a map entry), and `maintenance` flushes
//! the counts every second, one statement per directory hour and per rejection, into
//! `store::sync_health`. A crash loses at most the last second of counts.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{Duration, NaiveDateTime, Timelike};
use diesel::Connection;

use super::Core;
use crate::clock;
use crate::error::CoreResult;
use crate::ids::DirectoryId;
use crate::model::DirectoryRow;
use crate::store::sync_health::{self as store, HourDelta, RejectionRow};

/// Rejections kept per directory.
pub const KEEP_REJECTIONS: i64 = 20;
/// Directories held in memory between two flushes (requests naming more distinct
/// directory ids than this within a second are not counted).
const MAX_PENDING: usize = 10_000;
/// A directory silent this long after it synced is stale.
pub fn stale_after() -> Duration {
    Duration::hours(24)
}

#[derive(Default)]
struct Pending {
    hours: HashMap<NaiveDateTime, (i64, i64, NaiveDateTime)>,
    rejections: Vec<RejectionRow>,
}

impl Pending {
    /// Keep a request among the directory's last [`KEEP_REJECTIONS`] (the oldest goes),
    /// with its reason cut at 500 characters.
    fn keep(
        &mut self,
        directory_id: &DirectoryId,
        at: NaiveDateTime,
        method: &str,
        status: u16,
        reason: &str,
    ) {
        if self.rejections.len() as i64 >= KEEP_REJECTIONS {
            self.rejections.remove(0);
        }
        self.rejections.push(RejectionRow {
            id: crate::ids::new_id("sync_rejection"),
            directory_id: directory_id.clone(),
            at,
            method: method.to_string(),
            status: i32::from(status),
            reason: reason.chars().take(500).collect(),
        });
    }
}

/// Counts of SCIM requests not yet flushed.
#[derive(Default)]
pub struct SyncHealth {
    pending: Mutex<HashMap<DirectoryId, Pending>>,
    /// The tolerated quirks already noted per directory by this instance: each is
    /// noted once, so that an IdP sending one on every request does not push its
    /// directory's real rejections out of the last [`KEEP_REJECTIONS`].
    noted: Mutex<HashSet<(DirectoryId, &'static str)>>,
}

/// Quirks remembered as noted (past this, the memory starts again).
const MAX_NOTED: usize = 100_000;

fn hour_of(t: NaiveDateTime) -> NaiveDateTime {
    t.date().and_hms_opt(t.hour(), 0, 0).unwrap_or(t)
}

impl SyncHealth {
    /// Count one SCIM request of a directory; a `rejection` (its reason) when it was
    /// refused.
    pub fn record(
        &self,
        directory_id: DirectoryId,
        method: &str,
        status: u16,
        rejection: Option<String>,
    ) {
        let now = clock::now();
        let mut g = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if g.len() >= MAX_PENDING && !g.contains_key(&directory_id) {
            return;
        }
        let p = g.entry(directory_id.clone()).or_default();
        let h = p.hours.entry(hour_of(now)).or_insert((0, 0, now));
        h.0 += 1;
        h.2 = now;
        if let Some(reason) = rejection {
            h.1 += 1;
            p.keep(&directory_id, now, method, status, &reason);
        }
    }

    /// Note that an accepted request of a directory showed a tolerated IdP quirk
    /// (`code`, an IDP-QUIRKS id; `note`, what it means in plain language): kept among
    /// the directory's last rejections with the request's (success) status, once per
    /// quirk and instance. Not a rejection: the 24-hour rejection count is unchanged.
    pub fn accepted(
        &self,
        directory_id: &DirectoryId,
        method: &str,
        status: u16,
        code: &'static str,
        note: &str,
    ) {
        {
            let mut noted = self.noted.lock().unwrap_or_else(|p| p.into_inner());
            if noted.len() >= MAX_NOTED {
                noted.clear();
            }
            if !noted.insert((directory_id.clone(), code)) {
                return;
            }
        }
        let mut g = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if g.len() >= MAX_PENDING && !g.contains_key(directory_id) {
            return;
        }
        g.entry(directory_id.clone()).or_default().keep(
            directory_id,
            clock::now(),
            method,
            status,
            note,
        );
    }

    /// Whether anything waits to be flushed.
    pub fn is_empty(&self) -> bool {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// Write what was counted since the last flush; how many directories it touched.
    pub fn flush(&self, core: &Core) -> CoreResult<usize> {
        let taken = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        if taken.is_empty() {
            return Ok(0);
        }
        let _g = core.db.write_guard(); // SQLite: the one writer
        let mut conn = core.db.conn()?;
        // one transaction: a reader sees a flush's counts and rejections together
        conn.transaction::<_, crate::error::CoreError, _>(|conn| flush_into(conn, &taken))?;
        for directory_id in taken.keys() {
            core.bus.publish(crate::bus::Notice::Health {
                directory_id: directory_id.clone(),
            });
        }
        Ok(taken.len())
    }
}

fn flush_into(
    conn: &mut crate::store::AnyConn,
    taken: &HashMap<DirectoryId, Pending>,
) -> CoreResult<()> {
    for (dir, p) in taken {
        for (hour, (requests, rejections, last)) in &p.hours {
            store::add_hour(
                conn,
                &HourDelta {
                    directory_id: dir.clone(),
                    hour: *hour,
                    requests: *requests,
                    rejections: *rejections,
                    last_request_at: *last,
                },
            )?;
        }
        for r in &p.rejections {
            store::add_rejection(conn, r, KEEP_REJECTIONS)?;
        }
    }
    Ok(())
}

/// A directory's sync health.
#[derive(Debug, Clone)]
pub struct Health {
    pub last_request: Option<NaiveDateTime>,
    pub requests_24h: i64,
    pub rejections_24h: i64,
    /// Newest first.
    pub rejections: Vec<RejectionRow>,
    /// It synced once (it is active) and has been silent for [`stale_after`].
    pub stale: bool,
}

/// A directory's sync health as flushed (up to a second behind).
pub fn health(core: &Core, dir: &DirectoryRow) -> CoreResult<Health> {
    let now = clock::now();
    let mut conn = core.db.conn()?;
    let (requests_24h, rejections_24h) =
        store::totals_since(&mut conn, &dir.id, hour_of(now - Duration::hours(23)))?;
    let last_request = store::last_request(&mut conn, &dir.id)?;
    let rejections = store::rejections(&mut conn, &dir.id, KEEP_REJECTIONS)?;
    let stale = dir.activated_at.is_some() && last_request.is_none_or(|t| t < now - stale_after());
    Ok(Health {
        last_request,
        requests_24h,
        rejections_24h,
        rejections,
        stale,
    })
}
