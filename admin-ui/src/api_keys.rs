//! API keys of the vendor API: the list (name, scopes, last use, expiry; never the
//! key), create (the key shown once, with a copy button), revoke (refused at once on
//! every instance). Through `core::service::api_keys`, as `/api_keys` (api/src/vendor/
//! api_keys.rs), and audited as it is, with the operator as the actor.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::{blocking_ui, html, UiError};
use crate::login::CsrfForm;
use crate::pages::{ApiKeyItem, ApiKeysPage, Nav, ScopeChoice};
use crate::session::Operator;
use crate::util::{see_other, when};
use crate::AdminUi;
use scimgate_core::audit::{Entry, Outcome};
use scimgate_core::ids::{ApiKeyId, PrefixedId};
use scimgate_core::scope::{Scope, Scopes};
use scimgate_core::service::{api_keys, audit};
use scimgate_core::{clock, Core};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api_keys", web::get().to(list))
        .route("/api_keys", web::post().to(create))
        .route("/api_keys/{id}/revoke", web::post().to(revoke));
}

/// The creation form as sent (its scope checkboxes repeat `scopes`).
#[derive(Default)]
struct NewForm {
    csrf: String,
    name: String,
    scopes: Vec<String>,
    expires: String,
}

impl NewForm {
    fn of(pairs: Vec<(String, String)>) -> NewForm {
        let mut f = NewForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "name" => f.name = v,
                "scopes" => f.scopes.push(v),
                "expires_at" => f.expires = v.trim().to_string(),
                _ => {}
            }
        }
        f
    }
}

fn page(
    core: &Core,
    op: &Operator,
    form: &NewForm,
    new_key: Option<String>,
    error: Option<String>,
) -> Result<ApiKeysPage, UiError> {
    let rows = api_keys::list(core)?;
    let now = clock::now();
    Ok(ApiKeysPage {
        nav: Nav::of(op),
        keys: rows
            .iter()
            .map(|k| ApiKeyItem {
                id: k.id.to_string(),
                name: k.name.clone(),
                suffix: k.suffix.clone(),
                scopes: Scopes::from_stored(&k.scopes).names().join(", "),
                created_at: when(k.created_at),
                last_used: k.last_used_at.map(when).unwrap_or_else(|| "never".into()),
                expires: k.expires_at.map(when).unwrap_or_else(|| "never".into()),
                expired: k.expires_at.is_some_and(|t| t <= now),
                bootstrap: k.is_bootstrap,
            })
            .collect(),
        scopes: Scope::ALL
            .iter()
            .map(|s| ScopeChoice {
                id: format!("scope-{}", s.as_str().replace(':', "-")),
                name: s.as_str(),
                checked: form.scopes.iter().any(|c| c == s.as_str()),
            })
            .collect(),
        name: form.name.clone(),
        expires: form.expires.clone(),
        new_key,
        error,
    })
}

pub async fn list(ui: web::Data<AdminUi>, op: Operator) -> Result<HttpResponse, UiError> {
    let core = ui.core.clone();
    let p = blocking_ui(move || page(&core, &op, &NewForm::default(), None, None)).await?;
    html(&p)
}

/// An expiry as typed: a date (`2027-01-31`: the end of that day, UTC) or an RFC 3339
/// time; empty: never.
fn expiry(s: &str) -> Result<Option<chrono::NaiveDateTime>, UiError> {
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(23, 59, 59));
    }
    clock::parse_rfc3339(s).map(Some).ok_or_else(|| {
        UiError::BadRequest(format!(
            "the expiry {s:?} is neither a date (2027-01-31) nor an RFC 3339 time (2027-01-31T12:00:00Z)"
        ))
    })
}

/// Create a key: the page shows it once. Bad input (no name, no scope, an unknown
/// scope, an expiry in the past or unreadable): the page again with the form as sent
/// and the reason (400), nothing created.
pub async fn create(
    ui: web::Data<AdminUi>,
    op: Operator,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, UiError> {
    let f = NewForm::of(form.into_inner());
    op.check_csrf(&f.csrf)?;
    let core = ui.core.clone();
    let (p, ok) = blocking_ui(move || {
        let attempt = (|| -> Result<String, UiError> {
            let scopes = Scopes::parse_names(&f.scopes)?;
            let expires_at = expiry(&f.expires)?;
            let name = f.name.trim().to_string();
            let e = Entry::new(&op.actor, "api_key.created", Outcome::Success)
                .target_kind("api_key")
                .details(json!({"name": name, "scopes": scopes.names()}));
            let (_, secret) = audit::audited(
                &core,
                e,
                || api_keys::create(&core, &name, scopes, expires_at),
                |(row, _)| Some(row.id.to_string()),
            )?;
            Ok(secret)
        })();
        match attempt {
            Ok(secret) => Ok((
                page(&core, &op, &NewForm::default(), Some(secret), None)?,
                true,
            )),
            Err(UiError::BadRequest(why)) => Ok((page(&core, &op, &f, None, Some(why))?, false)),
            Err(e) => Err(e),
        }
    })
    .await?;
    let mut res = html(&p)?;
    if !ok {
        *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    Ok(res)
}

/// Revoke a key: refused at once, here and on every instance.
pub async fn revoke(
    ui: web::Data<AdminUi>,
    op: Operator,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, UiError> {
    op.check_csrf(&form.csrf)?;
    let id = ApiKeyId::parse_or_not_found(&path)?;
    let core = ui.core.clone();
    blocking_ui(move || {
        let e = Entry::new(&op.actor, "api_key.revoked", Outcome::Success)
            .target("api_key", id.to_string());
        audit::audited(&core, e, || api_keys::revoke(&core, &id), |_| None)?;
        Ok(())
    })
    .await?;
    Ok(see_other("/admin/api_keys"))
}
