//! The vendor API's `api_key` objects (`GET/POST /api_keys`), in the style of
//! WIRE-COMPAT.md §1 (`object`, ids, WorkOS timestamps): never the secret or its
//! hash, but on creation, once, the key itself.

use serde::Serialize;
use utoipa::ToSchema;

use crate::clock;
use crate::ids::ApiKeyId;
use crate::model::ApiKeyRow;
use crate::scope::Scopes;

/// An API key as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKey {
    pub object: &'static str,
    pub id: ApiKeyId,
    pub name: String,
    pub scopes: Vec<&'static str>,
    /// The last four characters of the key.
    pub key_suffix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
}

impl From<&ApiKeyRow> for ApiKey {
    fn from(k: &ApiKeyRow) -> ApiKey {
        ApiKey {
            object: "api_key",
            id: k.id.clone(),
            name: k.name.clone(),
            scopes: Scopes::from_stored(&k.scopes).names(),
            key_suffix: k.suffix.clone(),
            created_at: clock::to_workos(k.created_at),
            last_used_at: k.last_used_at.map(clock::to_workos),
            expires_at: k.expires_at.map(clock::to_workos),
        }
    }
}

/// A key just created, with its secret (shown this once).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub api_key: String,
}
