//! SCIM query parameters, parsed on the way in: list parameters (RFC 7644 §3.4.2: a
//! query string, or a `POST …/.search` body, §3.4.3) and the projection of
//! `attributes` / `excludedAttributes` (§3.4.2.5). A query string that does not parse
//! (a repeated `count`, …) and a non-integer `startIndex` or `count` are answered with
//! a 400 `invalidValue` before anything else runs.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::error::QueryPayloadError;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ScimError;
use scimgate_core::scim::resource::Projection;
use scimgate_core::service::list_paging::ListParams;
use scimgate_core::ScimType;

/// The list parameters of a query string as they arrive (`serde_urlencoded`, as
/// `web::Query` reads them: a repeated parameter is an error).
#[derive(Debug, Deserialize, Default)]
struct RawList {
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

/// The parameters of a list or search: what to list, and which attributes to return.
pub struct ListQuery {
    pub params: ListParams,
    pub projection: Projection,
}

impl ListQuery {
    fn from_raw(raw: RawList) -> Result<ListQuery, ScimError> {
        Ok(ListQuery {
            params: ListParams {
                start_index: int_param("startIndex", raw.start_index.as_deref())?,
                count: int_param("count", raw.count.as_deref())?,
                filter: raw.filter,
                sort_by: raw.sort_by,
                sort_order: raw.sort_order,
            },
            projection: Projection::parse(
                raw.attributes.as_deref(),
                raw.excluded_attributes.as_deref(),
            ),
        })
    }

    /// A `POST …/.search` body (RFC 7644 §3.4.3), read leniently as it always was:
    /// `startIndex`/`count` as numbers or strings, `attributes` as an array or a
    /// comma-separated string; a member of another type counts as absent.
    pub fn from_search(v: &Value) -> Result<ListQuery, ScimError> {
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
        Self::from_raw(RawList {
            filter: s("filter"),
            start_index: n("startIndex"),
            count: n("count"),
            sort_by: s("sortBy"),
            sort_order: s("sortOrder"),
            attributes: list("attributes"),
            excluded_attributes: list("excludedAttributes"),
        })
    }
}

impl FromRequest for ListQuery {
    type Error = ScimError;
    type Future = Ready<Result<Self, ScimError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            web::Query::<RawList>::from_query(req.query_string())
                .map_err(query_error)
                .and_then(|q| Self::from_raw(q.into_inner())),
        )
    }
}

fn int_param(name: &str, v: Option<&str>) -> Result<Option<i64>, ScimError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
            ScimError::new(
                StatusCode::BAD_REQUEST,
                Some(ScimType::InvalidValue),
                format!("{name} must be an integer, got {s:?}"),
            )
        }),
    }
}

#[derive(Debug, Deserialize, Default)]
struct RawProjection {
    attributes: Option<String>,
    #[serde(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

/// `attributes` / `excludedAttributes` of a single-resource request.
pub struct Projected {
    pub projection: Projection,
    /// Whether either parameter was sent at all (a group PATCH answers 204 unless).
    pub asked: bool,
}

impl FromRequest for Projected {
    type Error = ScimError;
    type Future = Ready<Result<Self, ScimError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            web::Query::<RawProjection>::from_query(req.query_string())
                .map_err(query_error)
                .map(|q| Projected {
                    projection: Projection::parse(
                        q.attributes.as_deref(),
                        q.excluded_attributes.as_deref(),
                    ),
                    asked: q.attributes.is_some() || q.excluded_attributes.is_some(),
                }),
        )
    }
}

/// A query string that does not parse, as a SCIM error.
fn query_error(e: QueryPayloadError) -> ScimError {
    ScimError::new(
        StatusCode::BAD_REQUEST,
        Some(ScimType::InvalidValue),
        format!("invalid query string: {e}"),
    )
}
