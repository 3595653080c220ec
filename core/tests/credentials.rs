//! Credentials: secrets stored only as hashes, and verified.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use diesel::prelude::*;
use scimgate_core::model::*;
use scimgate_core::service::admin;
use scimgate_core::store::schema::*;
use scimgate_core::testing::TestDatabase;

#[test]
fn secrets_are_stored_only_as_hashes() {
    let t = TestDatabase::new();
    let core = core_on(&t);
    let org = admin::create_organization(&core, "Org", &[]).unwrap();
    let created = admin::create_directory(&core, &org.id, DirectoryType::Okta, None).unwrap();
    let (_, key) = admin::create_api_key(&core, "k").unwrap();
    let mut conn = core.db().conn().unwrap();
    let toks: Vec<TokenRow> = directory_tokens::table
        .select(TokenRow::as_select())
        .load(&mut conn)
        .unwrap();
    assert!(toks.iter().all(|t| t.token_hash != created.bearer_token
        && !t.token_hash.contains(&created.bearer_token[4..])));
    let keys: Vec<ApiKeyRow> = api_keys::table
        .select(ApiKeyRow::as_select())
        .load(&mut conn)
        .unwrap();
    assert!(keys.iter().all(|k| k.key_hash != key));
    // and they verify
    assert!(scimgate_core::service::auth::verify_directory_token(
        &core,
        &created.bearer_token,
        &created.directory.id
    )
    .is_ok());
    assert!(scimgate_core::service::auth::verify_api_key(&core, &key).is_ok());
    assert!(scimgate_core::service::auth::verify_api_key(&core, "sk_nope").is_err());
}
