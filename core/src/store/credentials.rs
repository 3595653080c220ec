//! Credentials: directory bearer tokens (`directory_tokens`), vendor API keys
//! (`api_keys`) and the admin UI's operators (`admin_users`). Secrets are found by
//! their hash; none is stored in plain text.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{admin_users, api_keys, directories, directory_tokens};
use super::AnyConn;
use crate::error::CoreResult;
use crate::ids::{AdminUserId, ApiKeyId, DirectoryId, TokenId};
use crate::model::{ApiKeyRow, DirectoryRow, TokenRow};

pub fn insert_token(c: &mut AnyConn, row: &TokenRow) -> CoreResult<()> {
    diesel::insert_into(directory_tokens::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// A directory's tokens that are not revoked, in id order.
pub fn active_tokens(c: &mut AnyConn, directory_id: &DirectoryId) -> CoreResult<Vec<TokenRow>> {
    Ok(directory_tokens::table
        .filter(directory_tokens::directory_id.eq(directory_id))
        .filter(directory_tokens::revoked_at.is_null())
        .order(directory_tokens::id.asc())
        .select(TokenRow::as_select())
        .load(c)?)
}

/// A token of a directory that is not revoked, by id.
pub fn find_active_token(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    token_id: &TokenId,
) -> CoreResult<Option<TokenRow>> {
    Ok(directory_tokens::table
        .filter(directory_tokens::id.eq(token_id))
        .filter(directory_tokens::directory_id.eq(directory_id))
        .filter(directory_tokens::revoked_at.is_null())
        .select(TokenRow::as_select())
        .first(c)
        .optional()?)
}

/// A token that is not revoked, by the hash of its secret, with its directory.
pub fn find_token_by_hash(
    c: &mut AnyConn,
    hash: &str,
) -> CoreResult<Option<(TokenRow, DirectoryRow)>> {
    Ok(directory_tokens::table
        .inner_join(directories::table)
        .filter(directory_tokens::token_hash.eq(hash))
        .filter(directory_tokens::revoked_at.is_null())
        .select((TokenRow::as_select(), DirectoryRow::as_select()))
        .first(c)
        .optional()?)
}

pub fn revoke_token(c: &mut AnyConn, token_id: &TokenId, at: NaiveDateTime) -> CoreResult<()> {
    diesel::update(directory_tokens::table.filter(directory_tokens::id.eq(token_id)))
        .set(directory_tokens::revoked_at.eq(Some(at)))
        .execute(c)?;
    Ok(())
}

pub fn set_token_last_used(
    c: &mut AnyConn,
    token_id: &TokenId,
    at: NaiveDateTime,
) -> CoreResult<()> {
    diesel::update(directory_tokens::table.filter(directory_tokens::id.eq(token_id)))
        .set(directory_tokens::last_used_at.eq(Some(at)))
        .execute(c)?;
    Ok(())
}

pub fn insert_api_key(c: &mut AnyConn, row: &ApiKeyRow) -> CoreResult<()> {
    diesel::insert_into(api_keys::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// Whether an API key (revoked or not) has this hash.
pub fn api_key_exists(c: &mut AnyConn, hash: &str) -> CoreResult<bool> {
    Ok(api_keys::table
        .filter(api_keys::key_hash.eq(hash))
        .select(api_keys::id)
        .first::<ApiKeyId>(c)
        .optional()?
        .is_some())
}

/// An API key, revoked or not, by the hash of its secret.
pub fn find_api_key_by_hash_any(c: &mut AnyConn, hash: &str) -> CoreResult<Option<ApiKeyRow>> {
    Ok(api_keys::table
        .filter(api_keys::key_hash.eq(hash))
        .select(ApiKeyRow::as_select())
        .first(c)
        .optional()?)
}

/// The API keys that are not revoked, in id order.
pub fn active_api_keys(c: &mut AnyConn) -> CoreResult<Vec<ApiKeyRow>> {
    Ok(api_keys::table
        .filter(api_keys::revoked_at.is_null())
        .order(api_keys::id.asc())
        .select(ApiKeyRow::as_select())
        .load(c)?)
}

/// An API key that is not revoked, by id.
pub fn find_active_api_key(c: &mut AnyConn, id: &ApiKeyId) -> CoreResult<Option<ApiKeyRow>> {
    Ok(api_keys::table
        .filter(api_keys::id.eq(id))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .first(c)
        .optional()?)
}

/// Revoke an API key; whether it was active.
pub fn revoke_api_key(c: &mut AnyConn, id: &ApiKeyId, at: NaiveDateTime) -> CoreResult<bool> {
    let n = diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(Some(at)))
    .execute(c)?;
    Ok(n > 0)
}

/// The bootstrap keys that are not revoked and not of this hash (`None`: all of them).
pub fn other_bootstrap_keys(c: &mut AnyConn, hash: Option<&str>) -> CoreResult<Vec<ApiKeyRow>> {
    // no key's hash is empty: `None` keeps them all
    Ok(api_keys::table
        .filter(api_keys::is_bootstrap.eq(true))
        .filter(api_keys::revoked_at.is_null())
        .filter(api_keys::key_hash.ne(hash.unwrap_or("")))
        .select(ApiKeyRow::as_select())
        .load(c)?)
}

/// An API key that is not revoked, by the hash of its secret.
pub fn find_api_key_by_hash(c: &mut AnyConn, hash: &str) -> CoreResult<Option<ApiKeyRow>> {
    Ok(api_keys::table
        .filter(api_keys::key_hash.eq(hash))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .first(c)
        .optional()?)
}

pub fn set_api_key_last_used(
    c: &mut AnyConn,
    key_id: &ApiKeyId,
    at: NaiveDateTime,
) -> CoreResult<()> {
    diesel::update(api_keys::table.filter(api_keys::id.eq(key_id)))
        .set(api_keys::last_used_at.eq(Some(at)))
        .execute(c)?;
    Ok(())
}

/// Insert an operator of the admin UI (`password_hash`: argon2id). A taken email is
/// a unique violation (see `store::is_unique_violation`).
pub fn insert_admin_user(
    c: &mut AnyConn,
    id: &AdminUserId,
    email: &str,
    password_hash: &str,
    at: NaiveDateTime,
) -> CoreResult<()> {
    diesel::insert_into(admin_users::table)
        .values((
            admin_users::id.eq(id),
            admin_users::email.eq(email),
            admin_users::email_ci.eq(email.to_lowercase()),
            admin_users::password_hash.eq(password_hash),
            admin_users::created_at.eq(at),
        ))
        .execute(c)?;
    Ok(())
}
