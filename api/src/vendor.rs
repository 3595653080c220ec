//! The vendor API (`Authorization: Bearer sk_…`): WorkOS-compatible paths and shapes
//! (WIRE-COMPAT.md) plus scimgate's onboarding additions in the same style.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::AppState;
use scimgate_connectors::AttributeMapping;
use scimgate_core::clock;
use scimgate_core::events::{self, EventQuery, Order};
use scimgate_core::service::vendor_reads::{
    self as reads, DirectoryFilter, GroupFilter, Page, Paged, UserFilter,
};
use scimgate_core::service::{admin, auth, event_feed, roles, snapshot};
use scimgate_core::Core;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/organizations", web::post().to(create_organization))
        .route("/organizations", web::get().to(list_organizations))
        .route("/organizations/{id}", web::get().to(get_organization))
        .route("/directories", web::post().to(create_directory))
        .route("/directories", web::get().to(list_directories))
        .route("/directories/{id}", web::get().to(get_directory))
        .route("/directories/{id}", web::delete().to(delete_directory))
        .route("/directories/{id}/tokens", web::post().to(create_token))
        .route("/directories/{id}/tokens", web::get().to(list_tokens))
        .route(
            "/directories/{id}/tokens/{token_id}",
            web::delete().to(revoke_token),
        )
        .route("/directory_users", web::get().to(list_users))
        .route("/directory_users/{id}", web::get().to(get_user))
        .route("/directory_groups", web::get().to(list_groups))
        .route("/directory_groups/{id}", web::get().to(get_group))
        .route("/directories/{id}/snapshot", web::get().to(snapshot))
        .route(
            "/directories/{id}/attribute_mappings",
            web::get().to(get_attribute_mappings),
        )
        .route(
            "/directories/{id}/attribute_mappings",
            web::put().to(put_attribute_mappings),
        )
        .route(
            "/organizations/{id}/role_mappings",
            web::post().to(create_role_mapping),
        )
        .route(
            "/organizations/{id}/role_mappings",
            web::get().to(list_role_mappings),
        )
        .route(
            "/organizations/{id}/role_mappings/{mapping_id}",
            web::delete().to(delete_role_mapping),
        )
        .route(
            "/directory_users/{id}/roles/explain",
            web::get().to(explain_roles),
        )
        .route("/events", web::get().to(list_events));
}

/// Query parameters as a multimap, so that `events=a,b`, `events=a%2Cb`, repeated
/// `events[]=` and repeated `events=` are all understood (WIRE-COMPAT.md §1).
struct Params(HashMap<String, Vec<String>>);

impl Params {
    fn from(req: &HttpRequest) -> Params {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
            let k = k.trim_end_matches("[]").to_string();
            m.entry(k).or_default().push(v.into_owned());
        }
        Params(m)
    }
    fn one(&self, k: &str) -> Option<String> {
        self.0
            .get(k)
            .and_then(|v| v.last())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
    fn list(&self, k: &str) -> Vec<String> {
        self.0
            .get(k)
            .map(|vs| {
                vs.iter()
                    .flat_map(|v| v.split(','))
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
    fn int(&self, k: &str) -> Result<Option<i64>, ApiError> {
        match self.one(k) {
            None => Ok(None),
            Some(s) => s
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("`{k}` must be an integer"))),
        }
    }
    fn page(&self) -> Result<Page, ApiError> {
        Ok(Page::new(
            self.one("before"),
            self.one("after"),
            self.int("limit")?,
            self.one("order").as_deref(),
        )?)
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let h = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Authenticate with an API key and run `f` on the blocking pool.
async fn run<T, F>(state: &web::Data<AppState>, req: &HttpRequest, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Core) -> Result<T, ApiError> + Send + 'static,
{
    let key = bearer(req);
    let core = state.core.clone();
    web::block(move || {
        let key = key.ok_or_else(ApiError::unauthorized)?;
        auth::verify_api_key(&core, &key).map_err(|_| ApiError::unauthorized())?;
        f(&core)
    })
    .await?
}

fn list_json(p: Paged<Value>) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("object".into(), json!("list"));
    // moved in: `json!` would serialize the page into a new Value (a deep copy)
    o.insert("data".into(), Value::Array(p.data));
    o.insert(
        "list_metadata".into(),
        json!({"before": p.before, "after": p.after}),
    );
    Value::Object(o)
}

async fn read_body(
    state: &web::Data<AppState>,
    mut payload: web::Payload,
) -> Result<Value, ApiError> {
    let limit = state.config.max_body_bytes;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body exceeds {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    if body.is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::bad_request("the body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

fn str_field(v: &Value, k: &str) -> Result<Option<String>, ApiError> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.contains('\0') => Err(ApiError::bad_request(format!(
            "`{k}` must not contain NUL characters"
        ))),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(format!("`{k}` must be a string"))),
    }
}

fn required(v: &Value, k: &str) -> Result<String, ApiError> {
    str_field(v, k)?.ok_or_else(|| ApiError::bad_request(format!("`{k}` is required")))
}

async fn create_organization(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&state, payload).await?;
    let name = required(&body, "name")?;
    let mut domains = Vec::new();
    match body.get("domains") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for d in a {
                match d {
                    Value::String(s) => domains.push(s.clone()),
                    // WorkOS also accepts domain_data objects {domain, state}
                    Value::Object(o) => match o.get("domain").and_then(Value::as_str) {
                        Some(s) => domains.push(s.to_string()),
                        None => return Err(ApiError::bad_request("each domain needs a `domain`")),
                    },
                    _ => {
                        return Err(ApiError::bad_request(
                            "`domains` must be an array of strings",
                        ))
                    }
                }
            }
        }
        Some(_) => return Err(ApiError::bad_request("`domains` must be an array")),
    }
    if let Some(Value::Array(a)) = body.get("domain_data") {
        for d in a {
            if let Some(s) = d.get("domain").and_then(Value::as_str) {
                domains.push(s.to_string());
            }
        }
    }
    let org = run(&state, &req, move |core| {
        Ok(admin::create_organization(core, &name, &domains)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(org.to_json()))
}

async fn list_organizations(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let p = Params::from(&req);
    let page = p.page()?;
    let v = run(&state, &req, move |core| {
        Ok(reads::list_organizations(core, &page)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list_json(v)))
}

async fn get_organization(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let org = run(&state, &req, move |core| {
        Ok(admin::get_organization(core, &id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(org.to_json()))
}

async fn create_directory(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&state, payload).await?;
    let org = required(&body, "organization_id")?;
    let ty = required(&body, "type")?;
    let name = str_field(&body, "name")?;
    let created = run(&state, &req, move |core| {
        Ok(admin::create_directory(core, &org, &ty, name.as_deref())?)
    })
    .await?;
    Ok(HttpResponse::Created().json(created.to_json()))
}

async fn list_directories(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let p = Params::from(&req);
    let page = p.page()?;
    let f = DirectoryFilter {
        organization_id: p.one("organization_id"),
        search: p.one("search"),
        domain: p.one("domain"),
    };
    let v = run(&state, &req, move |core| {
        Ok(reads::list_directories(core, &f, &page)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list_json(v)))
}

async fn get_directory(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let v = run(&state, &req, move |core| {
        Ok(reads::get_directory(core, &id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn delete_directory(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    run(&state, &req, move |core| {
        Ok(admin::delete_directory(core, &id)?)
    })
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

async fn create_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&state, payload).await?;
    let id = path.into_inner();
    let name = str_field(&body, "name")?.unwrap_or_else(|| "token".into());
    let v = run(&state, &req, move |core| {
        let dir = admin::get_directory(core, &id)?;
        let (row, secret) = admin::create_token(core, &dir, &name)?;
        let mut v = row.to_json();
        if let Some(o) = v.as_object_mut() {
            o.insert("bearer_token".into(), json!(secret));
            o.insert("scim_url".into(), json!(core.scim_base(&dir.id)));
        }
        Ok(v)
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

async fn list_tokens(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let v = run(&state, &req, move |core| {
        admin::get_directory(core, &id)?;
        let rows = admin::list_tokens(core, &id)?;
        Ok(
            json!({"object": "list", "data": rows.iter().map(|t| t.to_json()).collect::<Vec<_>>(),
                  "list_metadata": {"before": null, "after": null}}),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn revoke_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, token_id) = path.into_inner();
    run(&state, &req, move |core| {
        let dir = admin::get_directory(core, &id)?;
        admin::revoke_token(core, &dir, &token_id)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list_users(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let p = Params::from(&req);
    let page = p.page()?;
    let f = UserFilter {
        directory: p.one("directory"),
        group: p.one("group"),
        idp_id: p.one("idp_id"),
        email: p.one("email"),
    };
    let v = run(&state, &req, move |core| {
        Ok(reads::list_users(core, &f, &page)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list_json(v)))
}

async fn get_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let v = run(&state, &req, move |core| Ok(reads::get_user(core, &id)?)).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn list_groups(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let p = Params::from(&req);
    let page = p.page()?;
    let f = GroupFilter {
        directory: p.one("directory"),
        user: p.one("user"),
    };
    let v = run(&state, &req, move |core| {
        Ok(reads::list_groups(core, &f, &page)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list_json(v)))
}

async fn get_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let v = run(&state, &req, move |core| Ok(reads::get_group(core, &id)?)).await?;
    Ok(HttpResponse::Ok().json(v))
}

fn parse_time(p: &Params, k: &str) -> Result<Option<chrono::NaiveDateTime>, ApiError> {
    match p.one(k) {
        None => Ok(None),
        Some(s) => clock::parse_rfc3339(&s)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("`{k}` must be an ISO 8601 date-time"))),
    }
}

/// `GET /events` (WIRE-COMPAT.md §1, §3), with scimgate's `directory_id` and the
/// long poll `wait=SECONDS` (≤ 30): answered as soon as a matching event exists.
async fn list_events(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let p = Params::from(&req);
    let names = p.list("events");
    for n in &names {
        if !events::ALL_EVENTS.contains(&n.as_str()) {
            return Err(ApiError::bad_request(format!("unknown event name {n:?}")));
        }
    }
    let limit = p.int("limit")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 100"));
    }
    // the events stream moves forward with `after`: `asc` (default) and `normal`
    // (WorkOS: "after fetches newer records") read it oldest first; `desc` newest first
    let order = match p.one("order").as_deref() {
        None | Some("asc") | Some("normal") => Order::Asc,
        Some("desc") => Order::Desc,
        Some(o) => {
            return Err(ApiError::bad_request(format!(
                "order must be asc, desc or normal, not {o:?}"
            )))
        }
    };
    if p.one("before").is_some() {
        return Err(ApiError::bad_request(
            "`before` is not supported on /events; page forward with `after` (or use order=desc)",
        ));
    }
    let wait = p.int("wait")?.unwrap_or(0);
    if !(0..=30).contains(&wait) {
        return Err(ApiError::bad_request(
            "wait must be between 0 and 30 seconds",
        ));
    }
    let q = EventQuery {
        events: names,
        after: p.one("after"),
        range_start: parse_time(&p, "range_start")?,
        range_end: parse_time(&p, "range_end")?,
        limit,
        order,
        organization_id: p.one("organization_id"),
        directory_id: p.one("directory_id"),
    };
    if q.range_start.is_some() && q.after.is_some() {
        return Err(ApiError::bad_request(
            "`range_start` and `after` are mutually exclusive",
        ));
    }
    // each read (the first, and each after a wake-up) authenticated as `run` does
    let key = bearer(&req);
    let authorized = move |core: &Core| -> Result<(), ApiError> {
        let key = key.clone().ok_or_else(ApiError::unauthorized)?;
        auth::verify_api_key(core, &key).map_err(|_| ApiError::unauthorized())?;
        Ok(())
    };
    let wait = Duration::from_secs(wait as u64);
    let (rows, after) = event_feed::wait_for(&state.core, q, wait, authorized).await?;
    // built as text: each event's stored JSON is spliced in, not re-parsed
    let mut body =
        String::with_capacity(rows.iter().map(|r| r.data.len() + 256).sum::<usize>() + 64);
    body.push_str("{\"object\":\"list\",\"data\":[");
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&r.to_json_string());
    }
    body.push_str("],\"list_metadata\":");
    body.push_str(&json!({ "after": after }).to_string());
    body.push('}');
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// `GET /directories/{id}/snapshot`: NDJSON, streamed with bounded memory. First line
/// `{"object":"snapshot","cursor":…}`, then `directory_user`, `directory_group` and
/// `directory_group_membership` lines, last `{"object":"snapshot_end",…}`. Continue
/// with `GET /events?directory_id=…&after=<cursor>`.
async fn snapshot(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    // authenticate and check the directory before the stream starts (errors get a status)
    let check = id.clone();
    run(&state, &req, move |core| {
        Ok(admin::get_directory(core, &check)?)
    })
    .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<web::Bytes>(64);
    let core = state.core.clone();
    tokio::task::spawn_blocking(move || {
        let res = snapshot::stream(&core, &id, |v| {
            let mut line = v.to_string().into_bytes();
            line.push(b'\n');
            tx.blocking_send(web::Bytes::from(line)).is_ok()
        });
        if let Err(e) = res {
            tracing::error!(error = %e, directory_id = %id, "snapshot failed");
            let line = format!(
                "{}\n",
                json!({"object": "error", "message": "snapshot failed; retry"})
            );
            let _ = tx.blocking_send(web::Bytes::from(line));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, actix_web::Error>(b), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(body))
}

fn mappings_json(m: &[AttributeMapping], defaults: bool) -> Value {
    json!({"object": "list", "data": m, "defaults": defaults, "list_metadata": {"before": null, "after": null}})
}

async fn get_attribute_mappings(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (m, d) = run(&state, &req, move |core| {
        Ok(admin::attribute_mappings(core, &id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(mappings_json(&m, d)))
}

/// Body: `{"mappings": [{"path": "urn:…:enterprise:2.0:User:department", "key": "department"}, …]}`;
/// `{"mappings": null}` restores the directory type's defaults.
async fn put_attribute_mappings(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&state, payload).await?;
    let mappings: Option<Vec<AttributeMapping>> = match body.get("mappings") {
        None => {
            return Err(ApiError::bad_request(
                "`mappings` is required (an array, or null for the defaults)",
            ))
        }
        Some(Value::Null) => None,
        Some(v) => Some(serde_json::from_value(v.clone()).map_err(|e| {
            ApiError::bad_request(format!("`mappings` must be an array of {{path, key}}: {e}"))
        })?),
    };
    let id = path.into_inner();
    let defaults = mappings.is_none();
    let m = run(&state, &req, move |core| {
        Ok(admin::set_attribute_mappings(core, &id, mappings)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(mappings_json(&m, defaults)))
}

async fn create_role_mapping(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&state, payload).await?;
    let group_id = required(&body, "group_id")?;
    let slug = required(&body, "role_slug")?;
    let priority = match body.get("priority") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .and_then(|p| i32::try_from(p).ok())
            .ok_or_else(|| ApiError::bad_request("`priority` must be an integer"))?,
    };
    let org = path.into_inner();
    let row = run(&state, &req, move |core| {
        admin::get_organization(core, &org)?;
        Ok(roles::create_mapping(
            core, &org, &group_id, &slug, priority,
        )?)
    })
    .await?;
    Ok(HttpResponse::Created().json(row.to_json()))
}

async fn list_role_mappings(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = path.into_inner();
    let rows = run(&state, &req, move |core| {
        admin::get_organization(core, &org)?;
        Ok(roles::list_mappings(core, &org)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(
        json!({"object": "list", "data": rows.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
        "list_metadata": {"before": null, "after": null}}),
    ))
}

async fn delete_role_mapping(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, id) = path.into_inner();
    run(&state, &req, move |core| {
        Ok(roles::delete_mapping(core, &org, &id)?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn explain_roles(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let v = run(&state, &req, move |core| Ok(roles::explain(core, &id)?)).await?;
    Ok(HttpResponse::Ok().json(v))
}
