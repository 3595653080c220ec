//! What core measures, recorded through the `metrics` facade: core installs no
//! exporter (the `scimgate` binary installs one and renders it on `/metrics`); without
//! one, as in core's tests and the one-shot commands, every record is a no-op. The
//! names, help texts and histogram buckets of core's series are here, so the exporter
//! and the places that record agree on them.

use chrono::NaiveDateTime;

/// Time to check out a pooled database connection (`store::Db`).
pub const POOL_WAIT: &str = "scimgate_db_pool_wait_seconds";
/// Writes per committed write batch (`service::group_commit`).
pub const BATCH_SIZE: &str = "scimgate_write_batch_size";
/// How far behind an event reader is: now − `created_at` of the oldest event of a page
/// read with `after` (`service::event_feed`).
pub const EVENT_LAG: &str = "scimgate_event_lag_seconds";

/// A free connection is taken in microseconds; a wait means the pool is too small for
/// the load (or the database is slow to hand connections back), up to the pool's
/// 10 s checkout timeout.
pub const POOL_WAIT_BUCKETS: &[f64] = &[
    0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0,
];
/// Powers of two: one write alone, up to the batches of a full sync.
pub const BATCH_SIZE_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
/// From a reader waiting in a long poll (milliseconds behind) to one a day behind.
pub const EVENT_LAG_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0,
];

/// Help texts of core's series (the installed exporter's `# HELP` lines).
pub fn describe() {
    metrics::describe_histogram!(
        POOL_WAIT,
        "Time to check out a pooled database connection, in seconds."
    );
    metrics::describe_histogram!(
        BATCH_SIZE,
        "SCIM writes per committed write batch (group commit per directory)."
    );
    metrics::describe_histogram!(
        EVENT_LAG,
        "Per event page read with `after` (GET /events, long polls included): now minus the creation time of the oldest event returned, in seconds."
    );
}

/// The pool-wait histogram's handle, taken once per pool: the exporter is installed
/// before the pool is opened, and a cached handle costs no registry lookup per checkout.
pub(crate) fn pool_wait() -> metrics::Histogram {
    metrics::histogram!(POOL_WAIT)
}

pub(crate) fn batch_committed(writes: usize) {
    metrics::histogram!(BATCH_SIZE).record(writes as f64);
}

/// A page of events read with `after` whose oldest event was created at `oldest`
/// (clocks of two instances may disagree a little: never below zero).
pub(crate) fn events_read_after(oldest: NaiveDateTime) {
    let lag = (crate::clock::now() - oldest).to_std().unwrap_or_default();
    metrics::histogram!(EVENT_LAG).record(lag);
}
