//! Operations endpoints: `/healthz` (alive), `/readyz` (database reachable),
//! `/metrics` (Prometheus text format).

use std::sync::atomic::Ordering;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
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

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let m = &state.metrics;
    let w = state.core.write_stats();
    let body = format!(
        "# HELP scimgate_http_requests_total HTTP requests handled.\n\
         # TYPE scimgate_http_requests_total counter\n\
         scimgate_http_requests_total {}\n\
         # HELP scimgate_http_responses_total HTTP responses by status class.\n\
         # TYPE scimgate_http_responses_total counter\n\
         scimgate_http_responses_total{{class=\"2xx\"}} {}\n\
         scimgate_http_responses_total{{class=\"4xx\"}} {}\n\
         scimgate_http_responses_total{{class=\"5xx\"}} {}\n\
         # HELP scimgate_write_batches_total Write batches of this instance by outcome: committed whole (optimistic), committed again with a savepoint per write after one failed (per_write), or nothing committed (uncommitted).\n\
         # TYPE scimgate_write_batches_total counter\n\
         scimgate_write_batches_total{{outcome=\"optimistic\"}} {}\n\
         scimgate_write_batches_total{{outcome=\"per_write\"}} {}\n\
         scimgate_write_batches_total{{outcome=\"uncommitted\"}} {}\n\
         # HELP scimgate_write_batch_writes_total SCIM writes committed or refused through write batches.\n\
         # TYPE scimgate_write_batch_writes_total counter\n\
         scimgate_write_batch_writes_total {}\n",
        m.requests.load(Ordering::Relaxed),
        m.responses_2xx.load(Ordering::Relaxed),
        m.responses_4xx.load(Ordering::Relaxed),
        m.responses_5xx.load(Ordering::Relaxed),
        w.optimistic.load(Ordering::Relaxed),
        w.per_write.load(Ordering::Relaxed),
        w.uncommitted.load(Ordering::Relaxed),
        w.writes.load(Ordering::Relaxed),
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}
