//! Operations endpoints: `/healthz` (alive), `/readyz` (database reachable),
//! `/metrics` (Prometheus text format, rendered by `metrics-exporter-prometheus` from
//! the process's `metrics` registry); and the request-duration histogram that the
//! server's middleware records per route ([`RouteTimings`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use crate::state::AppState;
use scimgate_core::telemetry;

const HTTP_DURATION: &str = "scimgate_http_request_duration_seconds";
/// From a point read to the 30 s of the longest long poll.
const HTTP_DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// The `route` of a request that no route matched: never its path, which anyone can
/// make up (one series per path sent).
const UNMATCHED: &str = "unmatched";

/// The exporter's handle: the `metrics` recorder is the process's, and so is this.
static EXPORTER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Install the Prometheus exporter as the process's `metrics` recorder. It must come
/// before anything takes a metric handle (one taken earlier records nowhere), so
/// before the database pool is opened. Histogram samples are kept raw until they are
/// drained into buckets, by a scrape or by the upkeep here every 5 s, so that memory
/// stays flat when nobody scrapes.
pub fn install() -> anyhow::Result<()> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), HTTP_DURATION_BUCKETS)?
        .set_buckets_for_metric(
            Matcher::Full(telemetry::POOL_WAIT.into()),
            telemetry::POOL_WAIT_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full(telemetry::BATCH_SIZE.into()),
            telemetry::BATCH_SIZE_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full(telemetry::EVENT_LAG.into()),
            telemetry::EVENT_LAG_BUCKETS,
        )?
        .install_recorder()?;
    metrics::describe_counter!("scimgate_http_requests_total", "HTTP requests handled.");
    metrics::describe_counter!(
        "scimgate_http_responses_total",
        "HTTP responses by status class."
    );
    metrics::describe_counter!(
        "scimgate_write_batches_total",
        "Write batches of this instance by outcome: committed whole (optimistic), committed again with a savepoint per write after one failed (per_write), or nothing committed (uncommitted)."
    );
    metrics::describe_counter!(
        "scimgate_write_batch_writes_total",
        "SCIM writes committed or refused through write batches."
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        "Time from a request's arrival to its response's head, in seconds, by surface and matched route pattern."
    );
    telemetry::describe();
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    EXPORTER
        .set(handle)
        .map_err(|_| anyhow::anyhow!("the metrics exporter is installed twice"))
}

/// The request-duration histograms of one HTTP worker (each worker builds its own
/// `App`, so no lock): one handle per route, taken from the registry on the route's
/// first request. The route is `HttpRequest::match_pattern` of the answered request:
/// actix-web keeps the path through its resource tree that routing took, so this
/// walks that path (no second match of the URL against the routes) and allocates the
/// pattern's text; only a request that matched no route is matched again.
#[derive(Clone, Default)]
pub struct RouteTimings(Rc<RefCell<HashMap<String, metrics::Histogram>>>);

impl RouteTimings {
    pub fn observe(&self, req: &HttpRequest, elapsed: Duration) {
        let pattern = req.match_pattern();
        // keys: a pattern (it starts with '/') or, unmatched, the surface's name
        let (surface, route, key) = match pattern.as_deref() {
            Some(p) => (surface(p), p, p),
            None => {
                let s = surface(req.path());
                (s, UNMATCHED, s)
            }
        };
        let mut handles = self.0.borrow_mut();
        if let Some(h) = handles.get(key) {
            h.record(elapsed);
            return;
        }
        let h =
            metrics::histogram!(HTTP_DURATION, "surface" => surface, "route" => route.to_string());
        h.record(elapsed);
        handles.insert(key.to_string(), h);
    }
}

/// The surface a route pattern (or an unmatched path) belongs to.
fn surface(path: &str) -> &'static str {
    if path.starts_with("/scim/") {
        "scim"
    } else if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        "ops"
    } else if path == "/admin" || path.starts_with("/admin/") {
        "admin"
    } else {
        "vendor"
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // load balancers probe with HEAD: answered as GET, without the body
    cfg.route("/healthz", web::get().to(healthz))
        .route("/healthz", web::head().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/readyz", web::head().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let core = state.core.clone();
    let ok = web::block(move || core.ping()).await.unwrap_or(false);
    if ok {
        HttpResponse::Ok().json(json!({"status": "ready", "database": "ok"}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({"status": "unavailable", "database": "unreachable"}))
    }
}

/// The counters that existed before the exporter are still counted where they were
/// (plain atomics: the server's `Metrics`, core's `WriteStats`, which core's tests
/// read) and copied into the registry when scraped, with the names, labels and
/// meaning they always had; everything else is recorded into the registry directly.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let m = &state.metrics;
    let w = state.core.write_stats();
    let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    metrics::counter!("scimgate_http_requests_total").absolute(get(&m.requests));
    for (class, c) in [
        ("2xx", &m.responses_2xx),
        ("4xx", &m.responses_4xx),
        ("5xx", &m.responses_5xx),
    ] {
        metrics::counter!("scimgate_http_responses_total", "class" => class).absolute(get(c));
    }
    for (outcome, c) in [
        ("optimistic", &w.optimistic),
        ("per_write", &w.per_write),
        ("uncommitted", &w.uncommitted),
    ] {
        metrics::counter!("scimgate_write_batches_total", "outcome" => outcome).absolute(get(c));
    }
    metrics::counter!("scimgate_write_batch_writes_total").absolute(get(&w.writes));
    let body = EXPORTER.get().map(|h| h.render()).unwrap_or_default();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}
