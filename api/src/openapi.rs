//! The contract: an OpenAPI 3.1 document of the vendor API and of the SCIM surface,
//! generated from the code (`utoipa`: the handlers' `#[utoipa::path]`, the wire
//! types' `ToSchema`), served without authentication at `GET /openapi.json`.
//!
//! The handlers' annotations give each operation its success answers and the
//! answers particular to it; [`Contract`] adds what every operation of a surface can
//! answer, from the code paths they share: authentication (`crate::auth`), scopes,
//! rate limits, the request guard (`crate::guard`), body limits and the database
//! pool (`crate::error`). `ci` checks the document with `openapi-spec-validator`
//! and fuzzes the server against it with `schemathesis` (scripts/e2e/schemathesis.py).

use std::sync::OnceLock;

use actix_web::{web, HttpResponse};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, InfoBuilder, OpenApi as Document, Ref, RefOr,
};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::error::SCIM_CONTENT_TYPE;
use crate::{scim, vendor};

/// The security scheme of the vendor API: `Authorization: Bearer sk_…`.
pub const API_KEY: &str = "api_key";
/// The security scheme of the SCIM surface: a directory's bearer token.
pub const DIRECTORY_TOKEN: &str = "directory_token";

/// The whole document.
pub fn document() -> Document {
    let mut doc = vendor::ApiDoc::openapi();
    doc.merge(scim::ApiDoc::openapi());
    Contract.modify(&mut doc);
    doc
}

/// `GET /openapi.json`, built once.
pub async fn serve() -> HttpResponse {
    static TEXT: OnceLock<String> = OnceLock::new();
    let text = TEXT.get_or_init(|| match document().to_json() {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document cannot be written");
            String::from("{}")
        }
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .body(text.as_str())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(serve));
}

/// The error answers an operation can give besides its own, by its surface, method
/// and whether it names an object in its path or takes a body.
fn error_responses(path: &str, method: &str, op: &Operation) -> Vec<(u16, &'static str)> {
    let has_body = op.request_body.is_some();
    let named = path.contains('{');
    let mut out = Vec::new();
    if path.starts_with("/scim/") {
        // RFC 7644 §3.12; `crate::error::ScimError`
        out.push((400, "invalid input (`scimType` says which kind: invalidFilter, invalidSyntax, invalidValue, invalidPath, noTarget, mutability, tooMany, …)"));
        out.push((401, "missing, invalid, expired or revoked directory token"));
        out.push((404, "no such resource (or directory)"));
        if has_body {
            out.push((
                409,
                "uniqueness: another resource holds the userName, externalId or displayName",
            ));
            out.push((413, "the body exceeds SCIMGATE_MAX_BODY_BYTES"));
            out.push((
                415,
                "the body is not JSON (`application/scim+json` or `application/json`)",
            ));
        }
        if matches!(method, "put" | "patch" | "delete") && named {
            out.push((412, "If-Match names another version"));
        }
    } else {
        // `crate::error::ApiError`: WorkOS-style `{code, message}`
        if has_body && method != "get" {
            out.push((
                409,
                "conflict with an existing object or a concurrent change",
            ));
            out.push((
                413,
                "the body exceeds SCIMGATE_MAX_BODY_BYTES (`payload_too_large`)",
            ));
        }
        out.push((401, "missing, invalid, expired or revoked API key"));
        out.push((403, "the API key lacks the scope this operation needs"));
        out.push((404, "no such object (`entity_not_found`)"));
        out.push((422, "invalid parameters or body (`invalid_request_parameters`; the message names the member)"));
    }
    out.push((414, "the request target is longer than 16 KiB"));
    out.push((429, "rate limited: retry after `Retry-After` seconds"));
    out.push((503, "the database is unavailable or busy: retry"));
    out
}

fn error_response(scim: bool, description: &str, status: u16) -> Response {
    let (ct, schema) = if scim {
        (SCIM_CONTENT_TYPE, "ScimError")
    } else {
        ("application/json", "Error")
    };
    let mut r = ResponseBuilder::new().description(description).content(
        ct,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(schema)))
            .build(),
    );
    if status == 429 {
        r = r.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some("seconds to wait"))
                .build(),
        );
    }
    r.build()
}

/// What every operation shares: the security schemes and their requirement, the
/// common error answers, the info block.
pub struct Contract;

impl Modify for Contract {
    fn modify(&self, doc: &mut Document) {
        doc.info = InfoBuilder::new()
            .title("scimgate")
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some(
                "The vendor API (WorkOS-compatible directory sync, with API keys) and each \
                 directory's SCIM 2.0 service provider (RFC 7643, RFC 7644), as served by this \
                 scimgate.",
            ))
            .license(Some(
                utoipa::openapi::LicenseBuilder::new()
                    .name("Apache-2.0")
                    .identifier(Some("Apache-2.0"))
                    .build(),
            ))
            .build();
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            API_KEY,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A vendor API key (`sk_…`, `scimgate api-keys create` or \
                         SCIMGATE_BOOTSTRAP_API_KEY), with the scopes the operation needs.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            DIRECTORY_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A directory's SCIM bearer token (from `POST /directories` or \
                         `POST /directories/{id}/tokens`), valid for that directory only.",
                    ))
                    .build(),
            ),
        );
        let (name, schema) = (
            <vendor::doc::Error as ToSchema>::name(),
            <vendor::doc::Error as utoipa::PartialSchema>::schema(),
        );
        components.schemas.insert(name.into_owned(), schema);
        components.schemas.insert(
            <scim::doc::Error as ToSchema>::name().into_owned(),
            <scim::doc::Error as utoipa::PartialSchema>::schema(),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let scim = path.starts_with("/scim/");
            let scheme = if scim { DIRECTORY_TOKEN } else { API_KEY };
            for (method, op) in operations(item) {
                op.security = Some(vec![SecurityRequirement::new(scheme, Vec::<String>::new())]);
                for (status, description) in error_responses(path, method, op) {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::T(error_response(scim, description, status)));
                }
            }
        }
    }
}

/// The operations of a path item, with their method's name as in the document.
fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
        ("head", item.head.as_mut()),
        ("options", item.options.as_mut()),
        ("trace", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every (method, path) the server registers on the vendor API and the SCIM
    /// surface (the route tables actix reads), against the document's: a route
    /// missing from the document, or an operation the server does not serve, fails.
    #[test]
    fn the_document_describes_every_route_and_no_other() {
        let served: BTreeSet<(String, String)> = vendor::ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .chain(
                scim::ROUTES
                    .iter()
                    .map(|(m, p)| (m.to_string(), format!("{}{p}", scim::BASE))),
            )
            .collect();
        let mut doc = document();
        let mut described = BTreeSet::new();
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, _) in operations(item) {
                described.insert((method.to_string(), path.clone()));
            }
        }
        let missing: Vec<_> = served.difference(&described).collect();
        let extra: Vec<_> = described.difference(&served).collect();
        assert!(
            missing.is_empty(),
            "routes not in /openapi.json: {missing:?}"
        );
        assert!(extra.is_empty(), "documented but not served: {extra:?}");
        assert!(served.len() >= 56, "{} routes", served.len());
    }

    /// Each operation names its security scheme and every error answer has a body
    /// of its surface's shape.
    #[test]
    fn every_operation_is_secured_and_its_errors_have_their_surface_body() {
        let v = serde_json::to_value(document()).unwrap_or_default();
        assert_eq!(v["openapi"], "3.1.0");
        let paths = v["paths"].as_object().cloned().unwrap_or_default();
        assert!(!paths.is_empty());
        for (path, item) in paths {
            for (method, op) in item.as_object().cloned().unwrap_or_default() {
                let scheme = if path.starts_with("/scim/") {
                    DIRECTORY_TOKEN
                } else {
                    API_KEY
                };
                assert!(
                    op["security"][0].get(scheme).is_some(),
                    "{method} {path}: {}",
                    op["security"]
                );
                let responses = op["responses"].as_object().cloned().unwrap_or_default();
                for code in ["401", "429"] {
                    assert!(responses.contains_key(code), "{method} {path} lacks {code}");
                }
                for (code, r) in responses {
                    if code.starts_with('4') || code.starts_with('5') {
                        let ct = if path.starts_with("/scim/") {
                            SCIM_CONTENT_TYPE
                        } else {
                            "application/json"
                        };
                        assert!(
                            r["content"].get(ct).is_some(),
                            "{method} {path} {code}: {r}"
                        );
                    }
                }
            }
        }
    }
}
