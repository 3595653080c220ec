//! The command-line contract of ../shared/docs/PRODUCT.md ("Command line and configuration"), run
//! as the real binary on a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Output};

use common::snapshot_settings;
use scimgate_core::testing::TestDatabase;
use serde_json::Value;
use tempfile::TempDir;

fn run(db: &TestDatabase, data: &TempDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimgate"));
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SCIMGATE_DATABASE_URL", &db.url)
        .env("SCIMGATE_DATA_DIR", data.path())
        .env("SCIMGATE_PUBLIC_URL", "https://scim.example.com")
        .env("RUST_LOG", "error");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run scimgate")
}

fn json_of(o: &Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

#[test]
fn onboarding_commands_print_json_and_secrets_once() {
    let db = TestDatabase::new();
    let data = TempDir::with_prefix("scimgate-cli-").unwrap();
    let m = json_of(&run(&db, &data, &["migrate"], &[]));
    assert!(m["applied"].is_array());
    let key = json_of(&run(
        &db,
        &data,
        &["api-keys", "create", "--name", "ci"],
        &[],
    ));
    assert!(key["api_key"].as_str().unwrap().starts_with("sk_"));
    let org = json_of(&run(
        &db,
        &data,
        &[
            "organizations",
            "create",
            "--name",
            "Acme",
            "--domain",
            "acme.com",
        ],
        &[],
    ));
    let org_id = org["id"].as_str().unwrap();
    assert!(org_id.starts_with("org_"));
    let dir = json_of(&run(
        &db,
        &data,
        &[
            "directories",
            "create",
            "--organization",
            org_id,
            "--type",
            "okta scim v2.0",
            "--name",
            "Acme Okta",
        ],
        &[],
    ));
    assert_eq!(
        dir["scim_url"],
        format!(
            "https://scim.example.com/scim/v2/{}",
            dir["id"].as_str().unwrap()
        )
    );
    assert!(dir["bearer_token"].as_str().unwrap().starts_with("sgd_"));
    // what the commands print: the vendor API's objects (WIRE-COMPAT.md §4)
    snapshot_settings(&[(org_id, "organization")]).bind(|| {
        insta::assert_json_snapshot!("cli_organization", org);
        insta::assert_json_snapshot!("cli_directory", dir);
    });
    // bad input: a precise error and a non-zero exit
    let bad = run(
        &db,
        &data,
        &[
            "directories",
            "create",
            "--organization",
            org_id,
            "--type",
            "bamboohr",
        ],
        &[],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unsupported directory type"));
}

#[test]
fn admins_create_takes_the_password_from_the_environment_or_stdin() {
    let db = TestDatabase::new();
    let data = TempDir::with_prefix("scimgate-cli-").unwrap();
    let a = json_of(&run(
        &db,
        &data,
        &["admins", "create", "--email", "ops@acme.com"],
        &[("SCIMGATE_ADMIN_PASSWORD", "correct horse battery")],
    ));
    assert!(a["id"].as_str().unwrap().starts_with("admin_user_"));
    let dup = run(
        &db,
        &data,
        &["admins", "create", "--email", "OPS@acme.com"],
        &[("SCIMGATE_ADMIN_PASSWORD", "correct horse battery")],
    );
    assert!(
        !dup.status.success(),
        "emails are unique case-insensitively"
    );
    let short = run(
        &db,
        &data,
        &["admins", "create", "--email", "x@acme.com"],
        &[("SCIMGATE_ADMIN_PASSWORD", "short")],
    );
    assert!(!short.status.success());
    // from standard input
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimgate"));
    c.args(["admins", "create", "--email", "two@acme.com"])
        .env_clear()
        .env("SCIMGATE_DATABASE_URL", &db.url)
        .env("SCIMGATE_DATA_DIR", data.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"another long password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v = json_of(&out);
    assert_eq!(v["email"], "two@acme.com");
}
