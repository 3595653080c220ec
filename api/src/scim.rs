//! The SCIM 2.0 service provider of each directory, `/scim/v2/{directory_id}/…`
//! (RFC 7644). Handlers are thin: read the request, run one `core` call in
//! `web::block`, render.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{ScimError, SCIM_CONTENT_TYPE};
use crate::state::AppState;
use scimgate_core::model::{DirectoryRow, GroupRow, UserRow};
use scimgate_core::scim::discovery::{self, SpConfigLimits};
use scimgate_core::scim::resource::{
    etag, list_response, list_response_text, render_group, render_user, render_user_text,
    Projection, Ref,
};
use scimgate_core::service::list_paging::{self, ListParams};
use scimgate_core::service::{self, admin, auth, groups, users, Write};
use scimgate_core::Core;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2/{directory_id}")
            // a query that does not parse (a repeated `count`, …) answers a SCIM error
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                ScimError::new(
                    StatusCode::BAD_REQUEST,
                    Some(scimgate_core::ScimType::InvalidValue),
                    format!("invalid query string: {e}"),
                )
                .into()
            }))
            .route("/Users", web::get().to(list_users))
            .route("/Users", web::post().to(create_user))
            .route("/Users/.search", web::post().to(search_users))
            .route("/Users/{id}", web::get().to(get_user))
            .route("/Users/{id}", web::put().to(replace_user))
            .route("/Users/{id}", web::patch().to(patch_user))
            .route("/Users/{id}", web::delete().to(delete_user))
            .route("/Groups", web::get().to(list_groups))
            .route("/Groups", web::post().to(create_group))
            .route("/Groups/.search", web::post().to(search_groups))
            .route("/Groups/{id}", web::get().to(get_group))
            .route("/Groups/{id}", web::put().to(replace_group))
            .route("/Groups/{id}", web::patch().to(patch_group))
            .route("/Groups/{id}", web::delete().to(delete_group))
            .route("/ServiceProviderConfig", web::get().to(sp_config))
            .route("/ResourceTypes", web::get().to(resource_types))
            .route("/ResourceTypes/{name}", web::get().to(resource_type))
            .route("/Schemas", web::get().to(schemas))
            .route("/Schemas/{id}", web::get().to(schema))
            .route("/Bulk", web::post().to(bulk))
            .route("/.search", web::post().to(root_search))
            .default_service(web::to(scim_not_found)),
    );
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let h = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = h.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(token.trim().to_string())
    } else {
        None
    }
}

fn path_dir(req: &HttpRequest) -> String {
    req.match_info()
        .get("directory_id")
        .unwrap_or_default()
        .to_string()
}

/// Authenticate and run `f` on the blocking pool; activate the directory on its first
/// successful request (`dsync.activated`).
async fn run<T, F>(state: &web::Data<AppState>, req: &HttpRequest, f: F) -> Result<T, ScimError>
where
    T: Send + 'static,
    F: FnOnce(&Core, &DirectoryRow) -> Result<T, ScimError> + Send + 'static,
{
    let token = bearer(req);
    let directory_id = path_dir(req);
    let core = state.core.clone();
    web::block(move || {
        let Some(token) = token else {
            return Err(ScimError::unauthorized());
        };
        let a = auth::verify_directory_token(&core, &token, &directory_id).map_err(auth_error)?;
        // the first authenticated request links the directory: dsync.activated comes
        // before any event of that request
        if a.directory.activated_at.is_none() {
            if let Err(e) = admin::activate(&core, &a.directory) {
                tracing::warn!(error = %e, directory_id = %a.directory.id, "activation failed");
            }
        }
        f(&core, &a.directory)
    })
    .await?
}

/// A failed token check as the SCIM answer: 401 for a wrong token, the error otherwise.
fn auth_error(e: scimgate_core::CoreError) -> ScimError {
    match e {
        scimgate_core::CoreError::Unauthorized(_) => ScimError::unauthorized(),
        other => other.into(),
    }
}

/// The directory a request's token opens, when that is known on this thread without
/// waiting (`service::without_waiting`: the token in the cache) and the directory is
/// activated; `None` when it is not (an uncached token, or the directory's first
/// request, whose activation writes), and the request goes through [`run`].
fn cached_directory(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Option<Result<DirectoryRow, ScimError>> {
    let token = bearer(req)?;
    let directory_id = path_dir(req);
    match service::without_waiting(|| {
        auth::verify_directory_token(&state.core, &token, &directory_id)
    })? {
        Ok(a) if a.directory.activated_at.is_some() => Some(Ok(a.directory)),
        Ok(_) => None,
        Err(e) => Some(Err(auth_error(e))),
    }
}

/// [`run`] for a point read (a user by id, a lookup by `userName`/`externalId`/`id`):
/// first on this HTTP worker, as long as nothing in it has to wait (the token is in
/// the cache, the directory is activated, a pooled connection is free right now; see
/// `store::without_waiting`). A point read takes about 0.1 ms; handing it to the
/// blocking pool and back costs two thread switches, which on a 2-core VM were a third
/// of the server's CPU per lookup. Whatever would have waited runs again through `run`.
async fn run_point_read<T, F>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    f: F,
) -> Result<T, ScimError>
where
    T: Send + 'static,
    F: Fn(&Core, &DirectoryRow) -> Result<T, ScimError> + Clone + Send + 'static,
{
    if let Some(dir) = cached_directory(state, req) {
        let dir = dir?;
        if let Some(done) = service::without_waiting(|| f(&state.core, &dir)) {
            return done;
        }
    }
    run(state, req, f).await
}

/// A write that answers from what it wrote: a user's create, replace, patch or
/// delete, and a group PATCH answered with 204. When the token is in the cache and the
/// directory activated, it is checked and prepared here on the HTTP worker (no
/// database work), committed by the directory's batch leader on the blocking pool
/// while this task awaits it (`Core::run_async`), and rendered here: no thread waits
/// for the commit. (Through `run`, each write held a blocking-pool thread that the
/// leader woke after the commit and that then woke the worker: thread switches that
/// cost the server more than the write's own work on a 2-core VM; 16 concurrent
/// member removals cost the server 656 µs each that way, 388 µs this way.) Otherwise
/// the whole write goes through `run`, as do the writes whose answer reads more
/// (a group's members).
async fn run_write<T, O, P, R>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    prepare: P,
    render: R,
) -> Result<O, ScimError>
where
    T: Send + 'static,
    O: Send + 'static,
    P: FnOnce(&Core, &DirectoryRow) -> Result<Write<T>, scimgate_core::CoreError> + Send + 'static,
    R: FnOnce(&Core, &DirectoryRow, T) -> Result<O, ScimError> + Send + 'static,
{
    if let (Some(dir), Ok(rt)) = (
        cached_directory(state, req),
        tokio::runtime::Handle::try_current(),
    ) {
        let dir = dir?;
        let core = &state.core;
        let done = core.run_async(prepare(core, &dir)?, rt).await?;
        return render(core, &dir, done);
    }
    run(state, req, move |core, dir| {
        let done = core.run(prepare(core, dir)?)?;
        render(core, dir, done)
    })
    .await
}

fn scim_json(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE))
        .body(scimgate_core::json::text(body))
}

/// A rendered resource, built on the blocking pool and turned into a response after
/// (an `HttpResponse` is not `Send`).
struct Rendered {
    status: StatusCode,
    /// JSON text
    body: Option<String>,
    version: i64,
    location: Option<String>,
}

impl Rendered {
    fn into_response(self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        r.insert_header((header::ETAG, etag(self.version)));
        if let Some(l) = self.location {
            r.insert_header((header::LOCATION, l));
        }
        match self.body {
            Some(b) => {
                r.insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE));
                r.body(b)
            }
            None => r.finish(),
        }
    }
}

/// Read a JSON body: `application/scim+json` or `application/json` (RFC 7644 §3.1,
/// IDP-QUIRKS CONTENT-TYPE), capped at the configured size (413 without reading further).
async fn read_json(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<Value, ScimError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !(mime == "application/scim+json" || mime == "application/json" || mime.is_empty()) {
            return Err(ScimError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                format!("Content-Type {mime:?} is not supported; use application/scim+json or application/json"),
            ));
        }
    }
    let limit = state.config.max_body_bytes;
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > limit {
            return Err(too_large(limit));
        }
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ScimError::invalid_syntax(format!("cannot read the request body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    if body.is_empty() {
        return Err(ScimError::invalid_syntax("the request body is empty"));
    }
    serde_json::from_slice::<Value>(&body)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))
}

fn too_large(limit: usize) -> ScimError {
    ScimError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        None,
        format!("the request body exceeds the limit of {limit} bytes"),
    )
}

fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    filter: Option<String>,
    #[serde(rename = "startIndex")]
    start_index: Option<String>,
    count: Option<String>,
    #[serde(rename = "sortBy")]
    sort_by: Option<String>,
    #[serde(rename = "sortOrder")]
    sort_order: Option<String>,
    attributes: Option<String>,
    #[serde(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

fn int_param(name: &str, v: Option<&str>) -> Result<Option<i64>, ScimError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
            ScimError::new(
                StatusCode::BAD_REQUEST,
                Some(scimgate_core::ScimType::InvalidValue),
                format!("{name} must be an integer, got {s:?}"),
            )
        }),
    }
}

impl ListQuery {
    fn params(&self) -> Result<ListParams, ScimError> {
        Ok(ListParams {
            filter: self.filter.clone(),
            start_index: int_param("startIndex", self.start_index.as_deref())?,
            count: int_param("count", self.count.as_deref())?,
            sort_by: self.sort_by.clone(),
            sort_order: self.sort_order.clone(),
        })
    }
    fn projection(&self) -> Projection {
        Projection::parse(
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )
    }
}

/// `POST …/.search` body (RFC 7644 §3.4.3).
fn search_query(v: &Value) -> Result<ListQuery, ScimError> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let n = |k: &str| {
        v.get(k).and_then(|x| {
            x.as_i64()
                .map(|i| i.to_string())
                .or_else(|| x.as_str().map(str::to_string))
        })
    };
    let list = |k: &str| match v.get(k) {
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    Ok(ListQuery {
        filter: s("filter"),
        start_index: n("startIndex"),
        count: n("count"),
        sort_by: s("sortBy"),
        sort_order: s("sortOrder"),
        attributes: list("attributes"),
        excluded_attributes: list("excludedAttributes"),
    })
}

/// The groups of listed users, as (user id, group): read with the users, or now when
/// the projection returns `groups`.
fn user_groups(
    core: &Core,
    rows: &[UserRow],
    prefetched: Option<Vec<(String, Ref)>>,
    proj: &Projection,
) -> Result<Vec<(String, Ref)>, ScimError> {
    Ok(if let Some(g) = prefetched {
        g
    } else if proj.wants("groups") && !rows.is_empty() {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        users::groups_of(core, &ids)?
    } else {
        Vec::new()
    })
}

fn groups_of_user(groups: &[(String, Ref)], user_id: &str) -> Vec<Ref> {
    groups
        .iter()
        .filter(|(u, _)| u == user_id)
        .map(|(_, g)| g.clone())
        .collect()
}

fn render_users(
    core: &Core,
    dir: &DirectoryRow,
    rows: &[UserRow],
    prefetched: Option<Vec<(String, Ref)>>,
    proj: &Projection,
) -> Result<Vec<Value>, ScimError> {
    let base = core.scim_base(&dir.id);
    let groups = user_groups(core, rows, prefetched, proj)?;
    Ok(rows
        .iter()
        .map(|r| proj.apply(render_user(r, Some(&groups_of_user(&groups, &r.id)), &base)))
        .collect())
}

/// One user as response text: spliced from its stored document when every attribute
/// is returned (`render_user_text`), else the rendered and projected `Value`.
fn user_text(row: &UserRow, groups: &[Ref], proj: &Projection, base: &str) -> String {
    if proj.is_identity() {
        if let Some(t) = render_user_text(row, Some(groups), base) {
            return t;
        }
    }
    scimgate_core::json::text(&proj.apply(render_user(row, Some(groups), base)))
}

fn render_one_group(
    core: &Core,
    dir: &DirectoryRow,
    row: &GroupRow,
    proj: &Projection,
) -> Result<Value, ScimError> {
    let base = core.scim_base(&dir.id);
    let members = if proj.wants("members") {
        Some(groups::members_of(core, &row.id)?)
    } else {
        None
    };
    Ok(proj.apply(render_group(row, members.as_deref(), &base)))
}

/// A page of groups, with their members (when projected) read for the whole page at
/// once rather than per group.
fn render_groups(
    core: &Core,
    dir: &DirectoryRow,
    rows: &[GroupRow],
    proj: &Projection,
) -> Result<Vec<Value>, ScimError> {
    let mut members = if proj.wants("members") && !rows.is_empty() {
        let ids: Vec<String> = rows.iter().map(|g| g.id.clone()).collect();
        Some(groups::members_of_many(core, &ids)?)
    } else {
        None
    };
    let base = core.scim_base(&dir.id);
    Ok(rows
        .iter()
        .map(|g| {
            let mine = members
                .as_mut()
                .map(|m| m.remove(&g.id).unwrap_or_default());
            proj.apply(render_group(g, mine.as_deref(), &base))
        })
        .collect())
}

async fn list_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ScimError> {
    do_list_users(state, req, q.into_inner()).await
}

async fn search_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let body = read_json(&state, &req, payload).await?;
    do_list_users(state, req, search_query(&body)?).await
}

async fn do_list_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: ListQuery,
) -> Result<HttpResponse, ScimError> {
    let params = q.params()?;
    let proj = q.projection();
    let point = params
        .filter
        .as_deref()
        .is_some_and(scimgate_core::scim::filter::is_point_lookup);
    let job = move |core: &Core, dir: &DirectoryRow| -> Result<String, ScimError> {
        let listed = users::list(core, dir, &params)?;
        if !proj.is_identity() {
            let resources = render_users(core, dir, &listed.rows, listed.groups, &proj)?;
            let list = list_response(listed.total, listed.start_index, resources);
            return Ok(scimgate_core::json::text(&list));
        }
        // every attribute: each user spliced from its stored document
        let base = core.scim_base(&dir.id);
        let groups = user_groups(core, &listed.rows, listed.groups, &proj)?;
        let texts: Vec<String> = listed
            .rows
            .iter()
            .map(|r| user_text(r, &groups_of_user(&groups, &r.id), &proj, &base))
            .collect();
        Ok(list_response_text(listed.total, listed.start_index, &texts))
    };
    let body = if point {
        run_point_read(&state, &req, job).await?
    } else {
        run(&state, &req, job).await?
    };
    Ok(HttpResponse::build(StatusCode::OK)
        .insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE))
        .body(body))
}

#[derive(Debug, Deserialize, Default)]
pub struct ProjQuery {
    attributes: Option<String>,
    #[serde(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

impl ProjQuery {
    fn projection(&self) -> Projection {
        Projection::parse(
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )
    }
}

/// One user as a response; `groups` are the user's groups (a user just created has none).
fn user_response(
    core: &Core,
    dir: &DirectoryRow,
    row: &UserRow,
    groups: &[Ref],
    proj: &Projection,
    status: StatusCode,
) -> Result<Rendered, ScimError> {
    let base = core.scim_base(&dir.id);
    let body = user_text(row, groups, proj, &base);
    let loc = (status == StatusCode::CREATED).then(|| format!("{base}/Users/{}", row.id));
    Ok(Rendered {
        status,
        body: Some(body),
        version: row.version,
        location: loc,
    })
}

fn group_response(
    core: &Core,
    dir: &DirectoryRow,
    row: &GroupRow,
    proj: &Projection,
    status: StatusCode,
) -> Result<Rendered, ScimError> {
    let v = render_one_group(core, dir, row, proj)?;
    let loc = (status == StatusCode::CREATED)
        .then(|| format!("{}/Groups/{}", core.scim_base(&dir.id), row.id));
    Ok(Rendered {
        status,
        body: Some(scimgate_core::json::text(&v)),
        version: row.version,
        location: loc,
    })
}

fn id_of(req: &HttpRequest) -> String {
    req.match_info().get("id").unwrap_or_default().to_string()
}

async fn get_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ProjQuery>,
) -> Result<HttpResponse, ScimError> {
    let id = id_of(&req);
    let proj = q.projection();
    run_point_read(&state, &req, move |core, dir| {
        let u = users::get(core, dir, &id)?;
        user_response(core, dir, &u.row, &u.groups, &proj, StatusCode::OK)
    })
    .await
    .map(Rendered::into_response)
}

async fn create_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ProjQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let body = read_json(&state, &req, payload).await?;
    let proj = q.projection();
    run_write(
        &state,
        &req,
        move |core, dir| users::prepare_create(core, dir, body),
        move |core, dir, row| user_response(core, dir, &row, &[], &proj, StatusCode::CREATED),
    )
    .await
    .map(Rendered::into_response)
}

async fn replace_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ProjQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let body = read_json(&state, &req, payload).await?;
    let id = id_of(&req);
    let im = if_match(&req);
    let proj = q.projection();
    run_write(
        &state,
        &req,
        move |core, dir| users::prepare_replace(core, dir, &id, body, im.as_deref()),
        move |core, dir, u| user_response(core, dir, &u.row, &u.groups, &proj, StatusCode::OK),
    )
    .await
    .map(Rendered::into_response)
}

async fn patch_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ProjQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let body = read_json(&state, &req, payload).await?;
    let id = id_of(&req);
    let im = if_match(&req);
    let proj = q.projection();
    run_write(
        &state,
        &req,
        move |core, dir| users::prepare_patch(core, dir, &id, body, im.as_deref()),
        move |core, dir, u| user_response(core, dir, &u.row, &u.groups, &proj, StatusCode::OK),
    )
    .await
    .map(Rendered::into_response)
}

async fn delete_user(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let id = id_of(&req);
    let im = if_match(&req);
    run_write(
        &state,
        &req,
        move |core, dir| Ok(users::prepare_delete(core, dir, &id, im.as_deref())),
        |_, _, ()| Ok(()),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list_groups(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ScimError> {
    do_list_groups(state, req, q.into_inner()).await
}

async fn search_groups(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let body = read_json(&state, &req, payload).await?;
    do_list_groups(state, req, search_query(&body)?).await
}

async fn do_list_groups(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: ListQuery,
) -> Result<HttpResponse, ScimError> {
    let params = q.params()?;
    let proj = q.projection();
    let body = run(&state, &req, move |core, dir| {
        let listed = groups::list(core, dir, &params)?;
        let resources = render_groups(core, dir, &listed.rows, &proj)?;
        Ok(list_response(listed.total, listed.start_index, resources))
    })
    .await?;
    Ok(scim_json(StatusCode::OK, &body))
}

async fn get_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ProjQuery>,
) -> Result<HttpResponse, ScimError> {
    let id = id_of(&req);
    let proj = q.projection();
    run(&state, &req, move |core, dir| {
        let row = groups::get(core, dir, &id)?;
        group_response(core, dir, &row, &proj, StatusCode::OK)
    })
    .await
    .map(Rendered::into_response)
}

async fn create_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ProjQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let body = read_json(&state, &req, payload).await?;
    let proj = q.projection();
    run(&state, &req, move |core, dir| {
        let row = groups::create(core, dir, body)?;
        group_response(core, dir, &row, &proj, StatusCode::CREATED)
    })
    .await
    .map(Rendered::into_response)
}

async fn replace_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ProjQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let body = read_json(&state, &req, payload).await?;
    let id = id_of(&req);
    let im = if_match(&req);
    let proj = q.projection();
    run(&state, &req, move |core, dir| {
        let row = groups::replace(core, dir, &id, body, im.as_deref())?;
        group_response(core, dir, &row, &proj, StatusCode::OK)
    })
    .await
    .map(Rendered::into_response)
}

/// Group PATCH answers 204 unless attributes are asked for (RFC 7644 §3.5.2 allows
/// either; Entra asks for 204 and a member list is never sent back by default, so the
/// cost of a PATCH does not grow with the group).
async fn patch_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ProjQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let body = read_json(&state, &req, payload).await?;
    let id = id_of(&req);
    let im = if_match(&req);
    let wants_body = q.attributes.is_some() || q.excluded_attributes.is_some();
    let proj = q.projection();
    if !wants_body {
        // nothing to read back for a 204: the write alone, awaited (see `run_write`)
        return run_write(
            &state,
            &req,
            move |core, dir| groups::prepare_patch(core, dir, &id, body, im.as_deref()),
            |_, _, row| {
                Ok(Rendered {
                    status: StatusCode::NO_CONTENT,
                    body: None,
                    version: row.version,
                    location: None,
                })
            },
        )
        .await
        .map(Rendered::into_response);
    }
    run(&state, &req, move |core, dir| {
        let row = groups::patch(core, dir, &id, body, im.as_deref())?;
        group_response(core, dir, &row, &proj, StatusCode::OK)
    })
    .await
    .map(Rendered::into_response)
}

async fn delete_group(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let id = id_of(&req);
    let im = if_match(&req);
    run(&state, &req, move |core, dir| {
        Ok(groups::delete(core, dir, &id, im.as_deref())?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn limits(state: &AppState) -> SpConfigLimits {
    SpConfigLimits {
        max_results: state.config.max_page_size as u32,
        max_operations: state.core.settings().max_patch_ops as u32,
        max_payload_size: state.config.max_body_bytes as u64,
        filter_max_terms: scimgate_core::scim::filter::MAX_FILTER_TERMS as u32,
    }
}

async fn sp_config(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let l = limits(&state);
    let v = run(&state, &req, move |core, dir| {
        Ok(discovery::service_provider_config(
            &core.scim_base(&dir.id),
            &l,
        ))
    })
    .await?;
    Ok(scim_json(StatusCode::OK, &v))
}

async fn resource_types(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let v = run(&state, &req, move |core, dir| {
        Ok(discovery::resource_types(&core.scim_base(&dir.id)))
    })
    .await?;
    Ok(scim_json(StatusCode::OK, &v))
}

async fn resource_type(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let name = req.match_info().get("name").unwrap_or_default().to_string();
    let v = run(&state, &req, move |core, dir| {
        discovery::resource_type(&core.scim_base(&dir.id), &name)
            .ok_or_else(|| ScimError::not_found(format!("resource type {name:?} not found")))
    })
    .await?;
    Ok(scim_json(StatusCode::OK, &v))
}

async fn schemas(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ScimError> {
    let v = run(&state, &req, move |core, dir| {
        Ok(discovery::schemas(&core.scim_base(&dir.id)))
    })
    .await?;
    Ok(scim_json(StatusCode::OK, &v))
}

async fn schema(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ScimError> {
    let id = req.match_info().get("id").unwrap_or_default().to_string();
    let v = run(&state, &req, move |core, dir| {
        discovery::schema(&core.scim_base(&dir.id), &id)
            .ok_or_else(|| ScimError::not_found(format!("schema {id:?} not found")))
    })
    .await?;
    Ok(scim_json(StatusCode::OK, &v))
}

/// Bulk is not offered (ServiceProviderConfig says `bulk.supported: false`).
async fn bulk(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ScimError> {
    run(&state, &req, |_, _| Ok(())).await?;
    Err(ScimError::new(
        StatusCode::NOT_IMPLEMENTED,
        None,
        "Bulk operations are not supported",
    ))
}

/// `POST {base}/.search` (RFC 7644 §3.4.3): Users then Groups, each type answering the
/// filter it understands (an attribute one type lacks matches none of its resources);
/// `startIndex`/`count` run over the concatenation, `totalResults` is the sum.
async fn root_search(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let body = read_json(&state, &req, payload).await?;
    let q = search_query(&body)?;
    let params = q.params()?;
    let proj = q.projection();
    let body = run(&state, &req, move |core, dir| {
        let (start, count) = list_paging::page_bounds(core, &params);
        let only_total = |p: &ListParams| ListParams {
            start_index: Some(1),
            count: Some(0),
            ..p.clone()
        };
        let tu = users::list(core, dir, &only_total(&params));
        let tg = groups::list(core, dir, &only_total(&params));
        let (total_u, total_g) = match (tu, tg) {
            (Err(e), Err(_)) => return Err(e.into()),
            (u, g) => (
                u.map(|l| l.total).unwrap_or(0),
                g.map(|l| l.total).unwrap_or(0),
            ),
        };
        let mut resources = Vec::new();
        if count > 0 && start <= total_u {
            let l = users::list(
                core,
                dir,
                &ListParams {
                    start_index: Some(start),
                    count: Some(count),
                    ..params.clone()
                },
            )?;
            resources.extend(render_users(core, dir, &l.rows, l.groups, &proj)?);
        }
        let left = count - resources.len() as i64;
        if left > 0 && start + (resources.len() as i64) <= total_u + total_g {
            let gstart = (start - total_u).max(1);
            let l = groups::list(
                core,
                dir,
                &ListParams {
                    start_index: Some(gstart),
                    count: Some(left),
                    ..params.clone()
                },
            )?;
            resources.extend(render_groups(core, dir, &l.rows, &proj)?);
        }
        Ok(list_response(total_u + total_g, start, resources))
    })
    .await?;
    Ok(scim_json(StatusCode::OK, &body))
}

/// Unknown paths and methods under a SCIM base answer SCIM errors (PRODUCT.md: every
/// 4xx on SCIM paths carries an RFC 7644 §3.12 body).
async fn scim_not_found(req: HttpRequest) -> Result<HttpResponse, ScimError> {
    let path = req.path().to_string();
    let known = [
        "/Users",
        "/Groups",
        "/ServiceProviderConfig",
        "/ResourceTypes",
        "/Schemas",
        "/Bulk",
    ];
    if known.iter().any(|k| path.contains(k)) {
        return Err(ScimError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            format!("method {} is not allowed on {path}", req.method()),
        ));
    }
    Err(ScimError::not_found(format!("no SCIM endpoint at {path}")))
}
