//! `scimgate serve`: build the core, start background tasks, run the HTTP server.

use std::sync::Arc;

use actix_web::dev::Service;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use tracing::Instrument;

use crate::client_addr::ClientAddr;
use crate::config::Config;
use crate::state::{AppState, Metrics};
use crate::{guard, ops, scim, vendor};
use scimgate_core::audit::{Actor, Entry, Outcome};
use scimgate_core::bus::Bus;
use scimgate_core::service::{api_keys, audit};
use scimgate_core::store::{redact_url, Db};
use scimgate_core::{maintenance, Core};

pub fn serve(cfg: Config) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.workers.max(1))
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(async move { run(cfg).await })
}

async fn run(cfg: Config) -> anyhow::Result<()> {
    // before the pool, which takes its metric handle when opened
    ops::install().context("installing the metrics exporter")?;
    let db =
        Db::connect(&cfg.database_url, cfg.db_pool_size).map_err(|e| anyhow::anyhow!("{e}"))?;
    let applied = db.migrate().map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(database = %redact_url(&cfg.database_url), migrations_applied = applied.len(), "database ready");
    let bus = match &cfg.redis_url {
        Some(url) => {
            let b = Bus::with_redis(url)
                .await
                .map_err(|e| anyhow::anyhow!("SCIMGATE_REDIS_URL: {e}"))?;
            tracing::info!(redis = %redact_url(url), "redis connected: cross-instance wake-ups and revocations");
            b
        }
        None => Bus::in_process(),
    };
    let sealer = cfg.sealer().context("SCIMGATE_SECRET_KEY")?;
    tracing::info!(source = ?sealer.source(), kid = sealer.current_kid(), "secrets at rest are sealed");
    let mut core = Core::new(db, bus, cfg.settings()).with_sealer(sealer);
    if let Some(url) = &cfg.redis_url {
        let limiter = scimgate_core::ratelimit::Limiter::with_redis(url)
            .await
            .map_err(|e| anyhow::anyhow!("SCIMGATE_REDIS_URL: {e}"))?
            .with_prefix(scimgate_core::ratelimit::Limiter::prefix_for_database(
                &cfg.database_url,
            ));
        core = core.with_limiter(limiter);
    }
    // the configured bootstrap key exists; one no longer configured is revoked
    let sync = api_keys::sync_bootstrap(&core, cfg.bootstrap_api_key.as_deref())
        .map_err(|e| anyhow::anyhow!("SCIMGATE_BOOTSTRAP_API_KEY: {e}"))?;
    if sync.created {
        tracing::info!("bootstrap API key created");
    }
    for id in &sync.revoked {
        tracing::info!(key_id = %id, "bootstrap API key no longer configured: revoked");
        audit::note(
            &core,
            Entry::new(&Actor::system(), "api_key.revoked", Outcome::Success)
                .target("api_key", id.to_string())
                .details(serde_json::json!({"reason": "no longer SCIMGATE_BOOTSTRAP_API_KEY"})),
        );
    }
    // cache invalidations from other instances, event retention, WAL checkpoints
    maintenance::spawn(&core);
    // webhook delivery workers (scimgate_webhooks)
    scimgate_webhooks::spawn(&core, cfg.webhooks.clone()).map_err(|e| anyhow::anyhow!(e))?;
    let admin_ui = Arc::new(
        scimgate_admin_ui::AdminUi::new(core.clone(), &cfg.public_url, |r| ClientAddr::of(r).0)
            .map_err(|e| anyhow::anyhow!(e))?
            .with_webhook_url_check({
                // the vendor API's policy (SCIMGATE_WEBHOOK_ALLOW_HTTP, …_ALLOW_PRIVATE)
                let policy = cfg.webhook_policy();
                Arc::new(move |url: &str| {
                    scimgate_webhooks::target::check_url(&policy, url).map_err(|e| e.0)
                })
            }),
    );
    let config = Arc::new(cfg.clone());
    let metrics = Arc::new(Metrics::default());
    let state = web::Data::new(AppState {
        core,
        config,
        metrics,
    });
    let listen = cfg.listen.clone();
    let trusted = web::Data::new(cfg.trusted_proxies.clone());
    // HSTS only where clients reach scimgate over https (RFC 6797 §7.2: never over http)
    let hsts = cfg.public_url.starts_with("https://");
    let server = HttpServer::new(move || {
        let st = state.clone();
        let timings = ops::RouteTimings::default();
        App::new()
            .app_data(state.clone())
            .app_data(trusted.clone())
            .app_data(web::Data::from(admin_ui.clone()))
            // The request span (method and path: never the query, which may carry
            // filter values, nor headers, which carry credentials; errors log themselves)
            // and the metrics. tracing-actix-web's root span did this, but matched the
            // route a second time per request for its `http.route` field: a regex walk
            // over the resources, a large share of a lookup's instructions under callgrind.
            // The duration histogram takes the route from the answered request
            // (ops::RouteTimings).
            .wrap_fn(move |req, srv| {
                let started = std::time::Instant::now();
                let m = st.metrics.clone();
                let st_req = st.clone();
                let timings = timings.clone();
                let span = tracing::info_span!(
                    "request",
                    method = %req.method(),
                    path = %req.path(),
                    client = tracing::field::Empty,
                    status = tracing::field::Empty,
                );
                if span.has_field("client") && !span.is_disabled() {
                    if let Some(ip) = ClientAddr::of(req.request()).0 {
                        span.record("client", tracing::field::display(ip));
                    }
                }
                let fut = span.in_scope(|| srv.call(req));
                let record = span.clone();
                async move {
                    let res = fut.await?;
                    let status = res.status().as_u16();
                    record.record("status", status);
                    m.record(status);
                    timings.observe(res.request(), started.elapsed());
                    if res.request().path().starts_with("/scim/") {
                        scim::health::observe(&st_req.core, &res);
                    }
                    Ok(res)
                }
                .instrument(span)
            })
            .wrap(actix_web::middleware::from_fn(guard::guard))
            .wrap(security_headers(hsts))
            .configure(ops::configure)
            .configure(crate::openapi::configure)
            .configure(scim::configure)
            .configure(vendor::configure)
            .configure(scimgate_admin_ui::configure(admin_ui.clone()))
            .default_service(web::to(guard::no_route))
    })
    .workers(cfg.workers.max(1))
    .backlog(2048)
    // abandoned long polls must not hold a shutdown for their whole wait
    .shutdown_timeout(5)
    .bind(&listen)
    .map_err(|e| anyhow::anyhow!("cannot listen on SCIMGATE_LISTEN={listen}: {e}"))?;
    tracing::info!(listen = %listen, public_url = %cfg.public_url, "scimgate listening");
    server.run().await.context("HTTP server")
}

/// Headers on every response: `X-Content-Type-Options: nosniff`, and HSTS when the
/// public URL is https. A handler's own value of either is kept.
fn security_headers(hsts: bool) -> actix_web::middleware::DefaultHeaders {
    let h = actix_web::middleware::DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff"));
    if hsts {
        h.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        h
    }
}
