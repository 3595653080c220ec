//! `POST {base}/.search` (RFC 7644 §3.4.3): Users then Groups, each type answering the
//! filter it understands (an attribute one type lacks matches none of its resources);
//! `startIndex`/`count` run over the concatenation, `totalResults` is the sum.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::query::ListQuery;
use super::render;
use super::request::Body;
use crate::auth::DirectoryToken;
use crate::error::ScimError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::scim::resource::list_response;
use scimgate_core::service::list_paging::ListParams;
use scimgate_core::service::{groups, users};

#[utoipa::path(
    post,
    path = "/scim/v2/{directory_id}/.search",
    operation_id = "scim_search_root",
    tag = "scim_search",
    summary = "Search users and groups",
    params(("directory_id" = String, Path, description = "a directory id")),
    request_body(content((super::doc::SearchRequest = "application/scim+json"), (super::doc::SearchRequest = "application/json"))),
    responses((status = 200, description = "a ListResponse of Users and Groups", body = super::doc::ListResponse, content_type = "application/scim+json"))
)]
pub async fn root(
    state: web::Data<AppState>,
    token: DirectoryToken,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    let ListQuery {
        params,
        projection: proj,
    } = ListQuery::from_search(&body.0)?;
    let body = exec::blocking(&state.core, token, move |core, dir| {
        let (start, count) = scimgate_core::service::list_paging::page_bounds(core, &params);
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
            resources.extend(render::users(core, dir, &l.rows, l.groups, &proj)?);
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
            resources.extend(render::groups(core, dir, &l.rows, &proj)?);
        }
        Ok(list_response(total_u + total_g, start, resources))
    })
    .await?;
    Ok(render::json(StatusCode::OK, &body))
}
